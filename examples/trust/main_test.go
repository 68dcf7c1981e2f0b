package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/dp/trust"
)

// small is a quick shop for tests.
var small = []string{"-shoppers", "1500", "-items", "120", "-weeks", "4"}

func runArgs(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestReportAndCharts(t *testing.T) {
	dir := t.TempDir()
	out, err := runArgs(t, append(small, "-test-noise", "-min-persons", "5", "-svg", dir)...)
	require.NoError(t, err, out)
	for _, want := range []string{
		"Trust report by week", "NOT PRIVATE", "Consent changes by purpose over the 4 weeks",
		"Opt-outs from Global Privacy Control", "Re-consent after a policy change",
		"Responses per tier", "Tier moves", "Charts",
	} {
		assert.Contains(t, out, want)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.svg"))
	require.NoError(t, err)
	assert.Len(t, files, 8)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		var svg struct {
			XMLName xml.Name
			Title   string `xml:"title"`
			Desc    string `xml:"desc"`
		}
		require.NoError(t, xml.Unmarshal(b, &svg), f)
		assert.Equal(t, "svg", svg.XMLName.Local, f)
		assert.NotEmpty(t, svg.Title, f)
		assert.Contains(t, svg.Desc, "differentially private", f)
		assert.Contains(t, out, f+": ", "the report lists each chart")
	}
}

// The shop's own trail passes the continuous audit; the same trail,
// saved and tampered with, fails it with each violation named.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	out, err := runArgs(t, append(small, "-check", "-save", dir)...)
	require.NoError(t, err, out)
	assert.Contains(t, out, "OK: no violation")
	assert.Contains(t, out, "replayed against the ledger for their person")
	assert.NotContains(t, out, "not checked:", "everything was checked, the sources of sensitive items included")

	files := []string{"-events", filepath.Join(dir, "events.jsonl"), "-ledger", filepath.Join(dir, "ledger.jsonl"),
		"-policies", filepath.Join(dir, "policies.json")}
	out, err = runArgs(t, append(append([]string{"-check"}, files...), "-seed", "1")...)
	require.NoError(t, err, "the saved files pass too: %s", out)

	// Tamper: edit a ledger record's time, and log one release too many.
	ledger, err := os.ReadFile(filepath.Join(dir, "ledger.jsonl"))
	require.NoError(t, err)
	lines := strings.Split(string(ledger), "\n")
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[9]), &rec))
	rec["at"] = "2020-01-01T00:00:00Z"
	b, _ := json.Marshal(rec)
	lines[9] = string(b)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ledger.jsonl"), []byte(strings.Join(lines, "\n")), 0o644))
	events, err := os.ReadFile(filepath.Join(dir, "events.jsonl"))
	require.NoError(t, err)
	events = append(events, `{"time":"2026-01-14T00:00:00Z","msg":"dp.release","label":"one more","epsilon":1,"delta":0,"private":true}`+"\n"...)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "events.jsonl"), events, 0o644))

	out, err = runArgs(t, append([]string{"-check"}, files...)...)
	require.Error(t, err)
	assert.ErrorIs(t, err, trust.ErrChainBreak)
	assert.ErrorIs(t, err, trust.ErrOverBudget)
	assert.Contains(t, out, "FAILED: ")
	assert.Contains(t, out, "ledger chain break: ledger record 10")
	assert.Contains(t, out, `"one more"`)
}

// Whatever the seed, the trail tact writes passes its own audit: the
// check has no false alarm on honest traffic.
func TestCheckPassesHonestTraffic(t *testing.T) {
	for _, seed := range []string{"2", "3", "4"} {
		out, err := runArgs(t, "-check", "-seed", seed, "-shoppers", "600", "-items", "80", "-weeks", "4")
		require.NoError(t, err, "seed %s: %s", seed, out)
		assert.Contains(t, out, "OK: no violation")
	}
}

func TestReportFromFiles(t *testing.T) {
	dir := t.TempDir()
	_, err := runArgs(t, append(small, "-save", dir, "-test-noise")...)
	require.NoError(t, err)
	out, err := runArgs(t, "-events", filepath.Join(dir, "events.jsonl"), "-ledger", filepath.Join(dir, "ledger.jsonl"),
		"-policies", filepath.Join(dir, "policies.json"), "-min-persons", "5")
	require.NoError(t, err, out)
	assert.Contains(t, out, "Responses per tier")

	// A bad line is named, and fails the program.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.jsonl"), []byte("{\"time\":\"2026-01-01T00:00:00Z\",\"msg\":\"x\"}\nnot json\n"), 0o644))
	_, err = runArgs(t, "-events", filepath.Join(dir, "bad.jsonl"), "-ledger", filepath.Join(dir, "ledger.jsonl"))
	var le *trust.LineError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, 2, le.Line)
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-period", "month"},
		{"-events", "x.jsonl"},
		{"-shoppers", "3"},
		{"-policies", "p.json"},
		{"extra"},
	} {
		_, err := runArgs(t, args...)
		assert.Error(t, err, "%v", args)
	}
	_, err := runArgs(t, "-h")
	assert.True(t, errors.Is(err, flag.ErrHelp))
}
