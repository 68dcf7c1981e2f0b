package consent_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
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

// TestLiftAnObjection: a person who objected to a legitimate interest can
// lift the objection with a grant of the purpose itself; an objection made
// after it stands again, and a grant of a parent does not lift an
// objection to the child.
func TestLiftAnObjection(t *testing.T) {
	for name, s := range map[string]consent.Store{"memory": consent.NewMemoryStore(), "generic": opaqueStore{consent.NewMemoryStore()}, "batched": newBatchStore()} {
		g, err := consent.NewGate(consenttest.RetailPolicy(), s, consent.GateConfig{})
		require.NoError(t, err)
		ctxP := consent.PurposePersonalizeContext // legitimate interest, under personalize (consent)
		at := now.Add(-time.Hour)
		record(t, g, ev(consent.Deny, subj, ctxP, at))
		assert.Equal(t, consent.ReasonObjected, decide(t, g, subj, ctxP, now, consent.Signals{}).Reason, name)
		record(t, g, ev(consent.Grant, subj, consent.PurposePersonalize, at.Add(time.Minute)))
		assert.Equal(t, consent.ReasonObjected, decide(t, g, subj, ctxP, now, consent.Signals{}).Reason, "%s: a parent's grant does not lift it", name)
		lift := record(t, g, ev(consent.Grant, subj, ctxP, at.Add(2*time.Minute)))
		d := decide(t, g, subj, ctxP, now, consent.Signals{})
		assert.True(t, d.Allowed, name)
		assert.Equal(t, consent.ReasonLegitimateInterest, d.Reason)
		assert.Equal(t, lift.Seq, d.Record.Seq, "%s: the decision cites the grant that lifted the objection", name)
		record(t, g, ev(consent.Withdraw, subj, consent.PurposePersonalize, at.Add(3*time.Minute)))
		assert.Equal(t, consent.ReasonObjected, decide(t, g, subj, ctxP, now, consent.Signals{}).Reason, "%s: a later objection through the parent stands", name)
	}
}
