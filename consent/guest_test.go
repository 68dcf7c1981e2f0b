package consent_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
)

// TestGuest: a guest's decisions are those of a person with nothing on
// record, under every regime and signal, and nothing is written.
func TestGuest(t *testing.T) {
	pol := consenttest.RetailPolicy()
	var ps []consent.Purpose
	for _, s := range pol.Purposes {
		ps = append(ps, s.Purpose)
	}
	for _, regime := range []consent.Regime{consent.GDPR, consent.LGPD, consent.CPRA} {
		for _, sig := range []consent.Signals{{}, {GPC: true}, {Age: 12}, {Age: 15, GPC: true}, {Regime: consent.CPRA}} {
			g, s := newGate(t, consent.GateConfig{Regime: regime})
			ref, _ := newGate(t, consent.GateConfig{Regime: regime}) // decides for people with nothing on record
			guest := g.Guest()
			ds, err := guest.DecideMany(ctx, "guest", ps, now, sig, nil)
			require.NoError(t, err)
			for i, p := range ps {
				want := decide(t, ref, "fresh-"+string(p), p, now, sig)
				want.Subject = "guest"
				assert.Equal(t, want.Allowed, ds[i].Allowed, "%s %+v %s", regime, sig, p)
				assert.Equal(t, want.Reason, ds[i].Reason, "%s %+v %s", regime, sig, p)
				one, err := guest.Decide(ctx, "guest", p, now, sig)
				require.NoError(t, err)
				assert.Equal(t, ds[i], one)
			}
			_, err = guest.Decide(ctx, "guest", ps[0], now, sig)
			require.NoError(t, err)
			assert.Zero(t, s.Len(), "a guest writes nothing, not even a GPC signal")
			acc, err := g.Access(ctx, "guest", now)
			require.NoError(t, err)
			assert.Empty(t, acc.Records, "nothing is recorded for the guest")
		}
	}
	g, _ := newGate(t, consent.GateConfig{})
	_, err := g.Guest().Decide(ctx, "guest", "no.such", now, consent.Signals{})
	assert.ErrorIs(t, err, consent.ErrUnknownPurpose)
	_, err = g.Guest().Decide(ctx, "", consent.PurposeMarketing, now, consent.Signals{})
	assert.ErrorIs(t, err, consent.ErrEmptySubject)
	_, err = g.Guest().Decide(ctx, "guest", consent.PurposeMarketing, now, consent.Signals{Age: -1})
	assert.ErrorIs(t, err, consent.ErrInvalidSignals)
}
