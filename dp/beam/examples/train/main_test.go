package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/tact-go/tact/dp"
)

func TestMain(m *testing.M) {
	beam.Init()
	os.Exit(m.Run())
}

// TestRun runs the example end to end on a small generated shop: the
// events file, both releases (decodable by dp), and a recommender with
// trending items and item-item neighbours.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), options{out: dir, shoppers: 3000, seed: 3}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"minimized order events", "ran on Beam (prism); host budget spent ε=2 δ=2e-06",
		"differentially private", "trending everywhere: item-", "DP item-item, "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	for _, name := range []string{"events.jsonl", "01-trending-per-country.json", "02-item-item.json"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
	var co dp.Cooccurrences
	if err := loadJSON(filepath.Join(dir, "02-item-item.json"), &co); err != nil || len(co.Pairs) != pairItems*(pairItems-1)/2 || !co.Private {
		t.Errorf("co-occurrence release: %v (%v)", &co, err)
	}
	if strings.Contains(out.String(), "neighbours): \n") || strings.Contains(out.String(), "(DP item-item, 0 neighbours)") {
		t.Errorf("no neighbours:\n%s", out.String())
	}
}

// TestRunFromFile reads events from a file, without a public catalog: the
// co-occurrence release then thresholds items and pairs.
func TestRunFromFile(t *testing.T) {
	dir := t.TempDir()
	events := filepath.Join(dir, "in.jsonl")
	var lines []string
	for i := range 400 {
		c := string(rune('a' + i%7))
		lines = append(lines, `{"customer":"c`+c+strings.Repeat("x", i%50)+`","country":"DE","item":"tea"}`,
			`{"customer":"c`+c+strings.Repeat("x", i%50)+`","country":"DE","item":"cups"}`)
	}
	lines = append(lines, "not json", "")
	if err := os.WriteFile(events, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), options{events: events, out: dir}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "trending everywhere: cups tea") && !strings.Contains(out.String(), "trending everywhere: tea cups") {
		t.Errorf("output:\n%s", out.String())
	}
}
