package consent_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
)

// overGPC is a grant the person confirmed after being told that their
// browser's GPC signal opts them out of p.
func overGPC(p consent.Purpose, at time.Time) consent.Event {
	e := ev(consent.Grant, subj, p, at)
	e.OverridesGPC = true
	e.Evidence = "shown: your browser asks us not to share; turned on anyway"
	return e
}

// gpcGates returns a Gate over each store path, with policy p and the
// regime.
func gpcGates(t *testing.T, p *consent.Policy, regime consent.Regime) map[string]*consent.Gate {
	t.Helper()
	gates := map[string]*consent.Gate{}
	for name, s := range map[string]consent.Store{
		"memory": consent.NewMemoryStore(), "generic": opaqueStore{consent.NewMemoryStore()}, "batched": newBatchStore(),
	} {
		g, err := consent.NewGate(p, s, consent.GateConfig{Regime: regime, Rand: consenttest.Rand(1)})
		require.NoError(t, err)
		gates[name] = g
	}
	return gates
}

// TestGPCConfirmedGrantPrevails: the storefront case of the review. A
// shopper whose browser sends GPC, told of the conflict, turns on a purpose
// GPC covers; that grant prevails for that purpose, on requests with the
// signal and without, and GPC still covers the rest.
func TestGPCConfirmedGrantPrevails(t *testing.T) {
	for _, regime := range []consent.Regime{consent.GDPR, consent.LGPD, consent.CPRA} {
		for name, g := range gpcGates(t, consenttest.RetailPolicy(), regime) {
			t.Run(regime.String()+"/"+name, func(t *testing.T) {
				gpc := consent.Signals{GPC: true}
				// First visit with GPC: sharing is denied and the denial recorded.
				d := decide(t, g, subj, consent.PurposeSharingPartners, now, gpc)
				require.Equal(t, consent.ReasonGPC, d.Reason)

				// A grant without the confirmation does not prevail over the signal.
				record(t, g, ev(consent.Grant, subj, consent.PurposeSharingPartners, now.Add(time.Minute)))
				d = decide(t, g, subj, consent.PurposeSharingPartners, now.Add(2*time.Minute), gpc)
				assert.Equal(t, consent.ReasonGPC, d.Reason, "an unconfirmed grant yields to GPC")
				d = decide(t, g, subj, consent.PurposeSharingPartners, now.Add(3*time.Minute), consent.Signals{})
				assert.False(t, d.Allowed, "and the signal was recorded again: %s", d.Explain())

				// The confirmed grant prevails, with the signal and without.
				rec := record(t, g, overGPC(consent.PurposeSharingPartners, now.Add(4*time.Minute)))
				assert.True(t, rec.OverridesGPC)
				for i, sig := range []consent.Signals{gpc, {}, gpc} {
					d = decide(t, g, subj, consent.PurposeSharingPartners, now.Add(time.Duration(5+i)*time.Minute), sig)
					require.True(t, d.Allowed, "%+v: %s", sig, d.Explain())
					assert.Equal(t, consent.ReasonGranted, d.Reason)
					assert.Equal(t, rec.Seq, d.Record.Seq)
				}
				// Only for that purpose: GPC still covers advertising.
				d = decide(t, g, subj, consent.PurposeAdvertisingTargeted, now.Add(9*time.Minute), gpc)
				assert.Equal(t, consent.ReasonGPC, d.Reason)

				// The person can still withdraw it, and GPC covers it again.
				record(t, g, ev(consent.Withdraw, subj, consent.PurposeSharingPartners, now.Add(10*time.Minute)))
				d = decide(t, g, subj, consent.PurposeSharingPartners, now.Add(11*time.Minute), gpc)
				assert.Equal(t, consent.ReasonGPC, d.Reason)

				_, err := g.Verify(ctx)
				require.NoError(t, err)
			})
		}
	}
}

// TestGPCConfirmedGrantNotEndedBySignal: a confirmed grant made before the
// signal was first recorded is not ended by the denials the signal
// records: the purpose above it is left to the signal instead (denied on
// every request that carries it), and its other children are denied one by
// one.
func TestGPCConfirmedGrantNotEndedBySignal(t *testing.T) {
	p := consenttest.RetailPolicy()
	p.GPCObjectsToMarketing = true
	for name, g := range gpcGates(t, p, consent.GDPR) {
		t.Run(name, func(t *testing.T) {
			rec := record(t, g, overGPC(consent.PurposeMarketingEmail, now))
			gpc := consent.Signals{GPC: true}
			for i := range 3 {
				at := now.Add(time.Duration(1+i) * time.Minute)
				d := decide(t, g, subj, consent.PurposeMarketingEmail, at, gpc)
				require.True(t, d.Allowed, "%s", d.Explain())
				assert.Equal(t, rec.Seq, d.Record.Seq)
				assert.Equal(t, consent.ReasonGPC, decide(t, g, subj, consent.PurposeMarketing, at, gpc).Reason)
				assert.Equal(t, consent.ReasonGPC, decide(t, g, subj, consent.PurposeMarketingDirect, at, gpc).Reason)
			}
			// What the signal recorded: the sibling and the other covered
			// families, each once, and nothing above the confirmed grant.
			var denied []consent.Purpose
			acc, err := g.Access(ctx, subj, now.Add(time.Hour))
			require.NoError(t, err)
			for _, r := range acc.Records {
				if r.Source == consent.SourceGPC {
					denied = append(denied, r.Purpose)
				}
			}
			assert.ElementsMatch(t, []consent.Purpose{consent.PurposeMarketingDirect, consent.PurposeAdvertising, consent.PurposeSharing}, denied)
			// Later, without the signal: the sibling stays opted out.
			assert.False(t, decide(t, g, subj, consent.PurposeMarketingDirect, now.Add(2*time.Hour), consent.Signals{}).Allowed)
			assert.True(t, decide(t, g, subj, consent.PurposeMarketingEmail, now.Add(2*time.Hour), consent.Signals{}).Allowed)
		})
	}
}

// TestGPCObjectsToMarketing: whether GPC objects to first-party direct
// marketing is the policy's setting, off by default, and only ever under
// the opt-in regimes.
func TestGPCObjectsToMarketing(t *testing.T) {
	for _, on := range []bool{false, true} {
		for _, regime := range []consent.Regime{consent.GDPR, consent.LGPD, consent.CPRA} {
			p := consenttest.RetailPolicy()
			p.GPCObjectsToMarketing = on
			g, err := consent.NewGate(p, consent.NewMemoryStore(), consent.GateConfig{Regime: regime})
			require.NoError(t, err)
			record(t, g, ev(consent.Grant, subj, consent.PurposeMarketing, now.Add(-day)))
			d := decide(t, g, subj, consent.PurposeMarketingEmail, now, consent.Signals{GPC: true})
			objects := on && regime != consent.CPRA
			assert.Equal(t, !objects, d.Allowed, "setting %v, %s: %s", on, regime, d.Explain())
			if objects {
				assert.Equal(t, consent.ReasonGPC, d.Reason)
				// The newsletter the person then confirms over the signal is theirs to have.
				record(t, g, overGPC(consent.PurposeMarketingEmail, now.Add(time.Minute)))
				assert.True(t, decide(t, g, subj, consent.PurposeMarketingEmail, now.Add(2*time.Minute), consent.Signals{GPC: true}).Allowed)
			}
		}
	}
	// The setting is part of the policy's JSON.
	p := consenttest.RetailPolicy()
	p.GPCObjectsToMarketing = true
	b, err := json.Marshal(p)
	require.NoError(t, err)
	q, err := consent.DecodePolicy(b)
	require.NoError(t, err)
	assert.True(t, q.GPCObjectsToMarketing)
}

// TestOverridesGPCRules: who and what can carry the confirmation.
func TestOverridesGPCRules(t *testing.T) {
	g, _ := newGate(t, consent.GateConfig{})
	bad := []struct {
		name  string
		ev    consent.Event
		field string
	}{
		{"a denial", func() consent.Event { e := overGPC(consent.PurposeSharing, now); e.Action = consent.Deny; return e }(), "overrides_gpc"},
		{"a withdrawal", func() consent.Event { e := overGPC(consent.PurposeSharing, now); e.Action = consent.Withdraw; return e }(), "overrides_gpc"},
		{"a business default", func() consent.Event {
			e := overGPC(consent.PurposeSharing, now)
			e.Source = consent.SourceDefault
			return e
		}(), "source"},
		{"a purpose GPC does not cover", overGPC(consent.PurposePersonalizeHistory, now), "overrides_gpc"},
		{"direct marketing, when the policy does not let GPC object to it", overGPC(consent.PurposeMarketingEmail, now), "overrides_gpc"},
	}
	for _, tt := range bad {
		_, err := g.Record(ctx, tt.ev)
		var ee *consent.EventError
		require.Error(t, err, tt.name)
		assert.True(t, errors.As(err, &ee) && errors.Is(err, consent.ErrInvalidEvent), "%s: %v", tt.name, err)
		assert.Equal(t, tt.field, func() string {
			if ee == nil {
				return ""
			}
			return ee.Field
		}(), tt.name)
	}
	// An import may carry it (a system that recorded the confirmation).
	e := overGPC(consent.PurposeSharing, now)
	e.Source = consent.SourceImport
	rec := record(t, g, e)

	// The flag is covered by the hash: clearing it breaks the chain, and it
	// survives JSON and erasure keeps no trace of it.
	require.NoError(t, rec.Check())
	forged := rec
	forged.OverridesGPC = false
	assert.ErrorIs(t, forged.Check(), consent.ErrTampered)
	var back consent.Record
	b, err := json.Marshal(rec)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, rec, back)
	tomb := rec.Tombstone()
	assert.False(t, tomb.OverridesGPC)
	require.NoError(t, tomb.Check())
	bogus := tomb
	bogus.OverridesGPC = true
	assert.ErrorIs(t, bogus.Check(), consent.ErrMalformedRecord)
}

// TestPolicyGPCCovers: what Policy.GPCCovers tells a preference centre is
// what the Gate does with the signal.
func TestPolicyGPCCovers(t *testing.T) {
	for _, on := range []bool{false, true} {
		p := consenttest.RetailPolicy()
		p.GPCObjectsToMarketing = on
		for _, regime := range []consent.Regime{consent.GDPR, consent.LGPD, consent.CPRA} {
			g, err := consent.NewGate(p, consent.NewMemoryStore(), consent.GateConfig{Regime: regime})
			require.NoError(t, err)
			for _, s := range p.Purposes {
				d := decide(t, g, "fresh-"+string(s.Purpose), s.Purpose, now, consent.Signals{GPC: true})
				assert.Equal(t, d.Reason == consent.ReasonGPC, p.GPCCovers(s.Purpose, regime), "%v %s %s", on, regime, s.Purpose)
			}
		}
	}
	assert.False(t, consenttest.RetailPolicy().GPCCovers("no.such.purpose", consent.GDPR))
}
