package demo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
)

// Every purpose of the shop's policy has a German label, and a German
// benefit where it has a benefit, so that a German page or receipt shows
// none of the policy's English.
func TestCatalogHasThePolicyInGerman(t *testing.T) {
	c, err := Catalog()
	if err != nil {
		t.Fatal(err)
	}
	pol := Policy()
	for _, s := range pol.Purposes {
		if !c.Has("de", "purpose."+string(s.Purpose)) {
			t.Errorf("%s has no German label", s.Purpose)
		}
		if s.Benefit != "" && !c.Has("de", "benefit."+string(s.Purpose)) {
			t.Errorf("%s has no German benefit", s.Purpose)
		}
		if label, benefit := c.Purpose("en", pol, s.Purpose); label != s.Description || benefit != s.Benefit {
			t.Errorf("%s in English: %q, %q; want the policy's own", s.Purpose, label, benefit)
		}
	}

	// A receipt with every purpose on record, in German.
	ctx := context.Background()
	g, err := consent.NewGate(pol, consent.NewMemoryStore(), consent.GateConfig{Regime: Regime})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, s := range pol.Purposes {
		if s.Basis.NeedsConsent() {
			if _, err := g.Record(ctx, consent.Event{Action: consent.Grant, Subject: "ana", Purpose: s.Purpose, At: at, Channel: consent.ChannelWeb}); err != nil {
				t.Fatal(err)
			}
		}
	}
	rc, err := g.Receipt(ctx, "ana", at)
	if err != nil {
		t.Fatal(err)
	}
	de := c.Receipt("de", &rc)
	for _, s := range pol.Purposes {
		for _, en := range []string{s.Description, s.Benefit} {
			if en != "" && strings.Contains(de, en) {
				t.Errorf("the German receipt shows %q", en)
			}
		}
	}
	if strings.Contains(de, pol.Withdraw) || !strings.Contains(de, "So ändern Sie Ihre Wahl") {
		t.Errorf("the German receipt's way to change one's mind:\n%s", de)
	}
}
