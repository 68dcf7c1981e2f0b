package pdsource_test

import (
	"testing"

	"github.com/tact-go/tact/consent"
)

// BenchmarkPreferences reads the preferences of a person with a grant:
// one verification per read.
func BenchmarkPreferences(b *testing.B) {
	s := newShop(b)
	if _, err := s.store.Accept(ctx, person, issue(b, claims(), data()), now, consent.Signals{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if p, err := s.store.Preferences(ctx, person); err != nil || len(p.Sizes) != 1 {
			b.Fatal(p, err)
		}
	}
}

// BenchmarkPreferencesNoGrant is the baseline: a person without a grant,
// read from the base store alone.
func BenchmarkPreferencesNoGrant(b *testing.B) {
	s := newShop(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.store.Preferences(ctx, "nobody"); err != nil {
			b.Fatal(err)
		}
	}
}
