package consent_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
)

// deepPolicy has a purpose three levels deep: a, a.b, a.b.c.
func deepPolicy() *consent.Policy {
	spec := func(p consent.Purpose) consent.PurposeSpec {
		return consent.PurposeSpec{Purpose: p, Version: 1, Basis: consent.BasisConsent, Description: "purpose " + string(p),
			Benefit: "something", Lifetime: 365 * day}
	}
	return &consent.Policy{Version: 1, Controller: "C", Contact: "c@example.com", Withdraw: "the settings page",
		Purposes: []consent.PurposeSpec{spec("a"), spec("a.b"), spec("a.b.c")}}
}

// TestLaterGrantInBetweenAllows: a grant of a.b made after a denial of a
// allows a.b.c, whether or not a.b.c had a grant of its own before the
// denial. (The older grant of a.b.c was ended by the denial; the later
// grant of a.b is the one that may allow.)
func TestLaterGrantInBetweenAllows(t *testing.T) {
	for _, withOwnGrant := range []bool{false, true} {
		for name, s := range map[string]consent.Store{"memory": consent.NewMemoryStore(), "generic": opaqueStore{consent.NewMemoryStore()}, "batched": newBatchStore()} {
			g, err := consent.NewGate(deepPolicy(), s, consent.GateConfig{})
			require.NoError(t, err)
			at := now.Add(-time.Hour)
			if withOwnGrant {
				record(t, g, ev(consent.Grant, subj, "a.b.c", at))
			}
			record(t, g, ev(consent.Deny, subj, "a", at.Add(time.Minute)))
			gr := record(t, g, ev(consent.Grant, subj, "a.b", at.Add(2*time.Minute)))
			d := decide(t, g, subj, "a.b.c", now, consent.Signals{})
			assert.True(t, d.Allowed, "%s, own grant %v: %s", name, withOwnGrant, d.Explain())
			assert.Equal(t, gr.Seq, d.Record.Seq, "%s: the later grant of a.b allows", name)
			assert.False(t, decide(t, g, subj, "a", now, consent.Signals{}).Allowed, "a itself stays denied")
		}
	}
}
