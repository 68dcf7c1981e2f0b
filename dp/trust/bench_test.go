package trust_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/tact-go/tact/consent/consenttest"
	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/trust"
)

// BenchmarkReadEvents reads the fixture's audit events (about 1,900
// lines); BenchmarkBaselineDecodeLines is the floor: decoding each line
// into a map and nothing else.
func BenchmarkReadEvents(b *testing.B) {
	f := cleanFixture(b)
	b.SetBytes(int64(len(f.events)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := trust.ReadEvents(bytes.NewReader(f.events)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaselineDecodeLines(b *testing.B) {
	f := cleanFixture(b)
	ls := bytes.Split(bytes.TrimSpace(f.events), []byte("\n"))
	b.SetBytes(int64(len(f.events)))
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range ls {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(l, &m); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkRelease is the whole report over the fixture: six dp releases.
func BenchmarkRelease(b *testing.B) {
	f := cleanFixture(b)
	in := input(b, f.events, f.ledger)
	cfg := trust.Config{Epsilon: 1, Delta: 1e-6, PersonKey: "person", Policy: consenttest.RetailPolicy()}
	b.ReportAllocs()
	for b.Loop() {
		budget, _ := dp.NewBudget(1, 1e-6, nil)
		if _, err := trust.Release(context.Background(), budget, in, cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheck is the continuous audit over the fixture, every response
// replayed against the ledger.
func BenchmarkCheck(b *testing.B) {
	f := cleanFixture(b)
	in := input(b, f.events, f.ledger)
	cfg := f.checkConfig()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := trust.Check(context.Background(), in, cfg); err != nil {
			b.Fatal(err)
		}
	}
}
