package consent_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
)

const subj = "s-1"

type step struct {
	a       consent.Action
	p       consent.Purpose
	ago     time.Duration // before now
	actor   consent.Actor
	version int // policy version shown; 0 = current
}

func grant(p consent.Purpose, ago time.Duration) step { return step{a: consent.Grant, p: p, ago: ago} }
func deny(p consent.Purpose, ago time.Duration) step  { return step{a: consent.Deny, p: p, ago: ago} }
func withdraw(p consent.Purpose, ago time.Duration) step {
	return step{a: consent.Withdraw, p: p, ago: ago}
}

func TestDecideRules(t *testing.T) {
	P := consent.PurposePersonalize
	H := consent.PurposePersonalizeHistory
	W := consenttest.PurposeWellness
	M := consent.PurposeMarketing
	ME := consent.PurposeMarketingEmail
	tests := []struct {
		name, reason string
		regime       consent.Regime
		steps        []step
		p            consent.Purpose
		at           time.Duration // after now
		sig          consent.Signals
		allowed      bool
		why          consent.Reason
		recPurpose   consent.Purpose // the purpose of the record the decision rests on; "" for none
	}{
		// Bases that do not need consent.
		{name: "contract", reason: "contract purposes are allowed without consent and say so",
			p: consent.PurposeServiceCheckout, allowed: true, why: consent.ReasonNotConsent},
		{name: "legal obligation", reason: "legal obligations hold whatever the person chose",
			steps: []step{deny(M, day)}, p: consent.PurposeLegalObligation, allowed: true, why: consent.ReasonNotConsent},
		{name: "legitimate interest", reason: "allowed until the person objects",
			p: consent.PurposeAnalyticsAggregate, allowed: true, why: consent.ReasonLegitimateInterest},
		{name: "objection", reason: "a denial of a legitimate-interest purpose is an objection",
			steps: []step{deny(consent.PurposeAnalytics, day)}, p: consent.PurposeAnalyticsAggregate, why: consent.ReasonObjected, recPurpose: consent.PurposeAnalytics},

		{name: "legitimate interest under a granted parent", reason: "a legitimate interest rests on no grant, so none is cited",
			steps: []step{grant(P, day)}, p: consent.PurposePersonalizeContext, allowed: true, why: consent.ReasonLegitimateInterest},
		{name: "objection through the parent", reason: "withdrawing the parent objects to its legitimate-interest children",
			steps: []step{grant(P, 2*day), withdraw(P, day)}, p: consent.PurposePersonalizeContext, why: consent.ReasonObjected, recPurpose: P},

		// Opt-in.
		{name: "nothing on record", reason: "GDPR: consent-basis purposes are denied until granted",
			p: H, why: consent.ReasonNoConsent},
		{name: "granted", reason: "a grant of the purpose allows it",
			steps: []step{grant(H, day)}, p: H, allowed: true, why: consent.ReasonGranted, recPurpose: H},
		{name: "denied", reason: "a denial denies",
			steps: []step{deny(H, day)}, p: H, why: consent.ReasonDenied, recPurpose: H},
		{name: "withdrawn", reason: "a withdrawal denies at once",
			steps: []step{grant(H, 2*day), withdraw(H, day)}, p: H, why: consent.ReasonWithdrawn, recPurpose: H},
		{name: "granted again", reason: "the latest choice counts",
			steps: []step{grant(H, 3*day), withdraw(H, 2*day), grant(H, day)}, p: H, allowed: true, why: consent.ReasonGranted, recPurpose: H},

		// Hierarchy.
		{name: "parent grant covers child", reason: "a grant of a parent covers its children",
			steps: []step{grant(P, day)}, p: H, allowed: true, why: consent.ReasonGranted, recPurpose: P},
		{name: "child grant does not cover parent", reason: "a grant covers descendants, not ancestors",
			steps: []step{grant(H, day)}, p: P, why: consent.ReasonNoConsent},
		{name: "child denied before parent grant", reason: "a grant of a parent covers children unless a child is denied",
			steps: []step{deny(H, 2*day), grant(P, day)}, p: H, why: consent.ReasonDenied, recPurpose: H},
		{name: "child denied after parent grant", reason: "the child's denial is more specific",
			steps: []step{grant(P, 2*day), deny(H, day)}, p: H, why: consent.ReasonDenied, recPurpose: H},
		{name: "sibling unaffected by child denial", reason: "a child's denial covers only that child",
			steps: []step{grant(P, 2*day), deny(H, day)}, p: consent.PurposePersonalizeDeclared, allowed: true, why: consent.ReasonGranted, recPurpose: P},
		{name: "parent denial covers children", reason: "a denial of a parent covers its children",
			steps: []step{deny(M, day)}, p: ME, why: consent.ReasonDenied, recPurpose: M},
		{name: "parent withdrawal overrides earlier child grant", reason: "a later denial of a parent covers children granted before",
			steps: []step{grant(ME, 2*day), withdraw(M, day)}, p: ME, why: consent.ReasonWithdrawn, recPurpose: M},
		{name: "child grant after parent denial", reason: "a later, more specific grant is a new choice for that child only",
			steps: []step{deny(M, 2*day), grant(ME, day)}, p: ME, allowed: true, why: consent.ReasonGranted, recPurpose: ME},
		{name: "child grant after parent denial leaves siblings denied", reason: "the new grant covers only its own subtree",
			steps: []step{deny(M, 2*day), grant(ME, day)}, p: consent.PurposeMarketingDirect, why: consent.ReasonDenied, recPurpose: M},
		{name: "explicit consent not covered by parent", reason: "a sensitive purpose needs a grant of its own",
			steps: []step{grant(P, day)}, p: W, why: consent.ReasonNoConsent},
		{name: "explicit consent granted", reason: "its own grant allows it",
			steps: []step{grant(W, day)}, p: W, allowed: true, why: consent.ReasonGranted, recPurpose: W},
		{name: "explicit consent withdrawn by parent", reason: "a parent's denial still covers it",
			steps: []step{grant(W, 2*day), withdraw(P, day)}, p: W, why: consent.ReasonWithdrawn, recPurpose: P},
		{name: "explicit consent withdrawn by parent, parent granted again", reason: "the withdrawal ended the explicit grant; a new grant of the parent does not cover a sensitive child",
			steps: []step{grant(W, 3*day), withdraw(P, 2*day), grant(P, day)}, p: W, why: consent.ReasonNoConsent},
		{name: "child grant withdrawn by parent, parent granted again", reason: "the child is covered by the parent's new grant, not its own old one",
			steps: []step{grant(H, 3*day), withdraw(P, 2*day), grant(P, day)}, p: H, allowed: true, why: consent.ReasonGranted, recPurpose: P},
		{name: "guardian's grant withdrawn through the parent, a child's own grant after", reason: "the withdrawal holds: the child's own grant of the parent is not valid under 16",
			steps: []step{{a: consent.Grant, p: H, ago: 3 * day, actor: consent.ActorGuardian}, withdraw(P, 2*day), grant(P, day)},
			p:     H, sig: consent.Signals{Age: 15}, why: consent.ReasonMinor, recPurpose: P},
		{name: "child withdrawal, then a child's own grant", reason: "an invalid grant of the child does not bring back the guardian's older grant of the parent",
			steps: []step{{a: consent.Grant, p: P, ago: 3 * day, actor: consent.ActorGuardian}, withdraw(H, 2*day), grant(H, day)},
			p:     H, sig: consent.Signals{Age: 15}, why: consent.ReasonMinor, recPurpose: H},
		{name: "child withdrawal, then a grant outdated by a material change", reason: "the withdrawal cut the parent's older grant off the child",
			steps: []step{grant(P, 3*day), withdraw(H, 2*day), {a: consent.Grant, p: H, ago: day, version: 1}}, p: H, why: consent.ReasonReconsent, recPurpose: H},
		{name: "parent granted again after a child grant", reason: "no refusal in between: the child's own grant still holds",
			steps: []step{grant(H, 3*day), {a: consent.Grant, p: P, ago: day, version: 1}}, p: H, allowed: true, why: consent.ReasonGranted, recPurpose: H},

		// Expiry and versions.
		{name: "expired", reason: "a grant older than the consent lifetime no longer holds",
			steps: []step{grant(ME, 3*365*day)}, p: ME, why: consent.ReasonExpired, recPurpose: ME},
		{name: "expired child, fresh parent", reason: "a later grant of the parent still covers the child",
			steps: []step{grant(ME, 3*365*day), grant(M, day)}, p: ME, allowed: true, why: consent.ReasonGranted, recPurpose: M},
		{name: "expired under CPRA", reason: "an expired grant is not an opt-out: back to the opt-out default",
			regime: consent.CPRA, steps: []step{grant(ME, 3*365*day)}, p: ME, allowed: true, why: consent.ReasonNotOptedOut},
		{name: "reconsent", reason: "a grant made before a material change (version 2) needs re-consent",
			steps: []step{{a: consent.Grant, p: H, ago: day, version: 1}}, p: H, why: consent.ReasonReconsent, recPurpose: H},
		{name: "reconsent via parent", reason: "a parent grant made under version 1 does not cover a child changed in version 2",
			steps: []step{{a: consent.Grant, p: P, ago: day, version: 1}}, p: H, why: consent.ReasonReconsent, recPurpose: P},
		{name: "old version still good for unchanged purposes", reason: "version 1 grants hold for purposes unchanged since",
			steps: []step{{a: consent.Grant, p: P, ago: day, version: 1}}, p: consent.PurposePersonalizeDeclared, allowed: true, why: consent.ReasonGranted, recPurpose: P},
		{name: "reconsent then granted", reason: "asking again and getting a yes allows",
			steps: []step{{a: consent.Grant, p: H, ago: 2 * day, version: 1}, grant(H, day)}, p: H, allowed: true, why: consent.ReasonGranted, recPurpose: H},

		// CPRA.
		{name: "CPRA opt-out default", reason: "non-sensitive purposes are allowed until the person opts out",
			regime: consent.CPRA, p: ME, allowed: true, why: consent.ReasonNotOptedOut},
		{name: "CPRA opted out", reason: "an opt-out denies",
			regime: consent.CPRA, steps: []step{deny(consent.PurposeSharing, day)}, p: consent.PurposeSharingPartners, why: consent.ReasonDenied, recPurpose: consent.PurposeSharing},
		{name: "CPRA sensitive is opt-in", reason: "sensitive purposes stay opt-in",
			regime: consent.CPRA, p: W, why: consent.ReasonNoConsent},
		{name: "CPRA under 16 is opt-in", reason: "sale and sharing of under-16s' data needs an opt-in",
			regime: consent.CPRA, p: consent.PurposeSharingPartners, sig: consent.Signals{Age: 15}, why: consent.ReasonMinor},
		{name: "CPRA 15 opted in", reason: "13 to 15 year olds can opt in themselves",
			regime: consent.CPRA, steps: []step{grant(consent.PurposeSharing, day)}, p: consent.PurposeSharingPartners, sig: consent.Signals{Age: 15}, allowed: true, why: consent.ReasonGranted, recPurpose: consent.PurposeSharing},
		{name: "CPRA 12 opted in alone", reason: "under 13 the opt-in must come from a guardian",
			regime: consent.CPRA, steps: []step{grant(consent.PurposeSharing, day)}, p: consent.PurposeSharingPartners, sig: consent.Signals{Age: 12}, why: consent.ReasonMinor, recPurpose: consent.PurposeSharing},
		{name: "CPRA 12 guardian", reason: "a guardian's opt-in counts",
			regime: consent.CPRA, steps: []step{{a: consent.Grant, p: consent.PurposeSharing, ago: day, actor: consent.ActorGuardian}}, p: consent.PurposeSharingPartners, sig: consent.Signals{Age: 12}, allowed: true, why: consent.ReasonGranted, recPurpose: consent.PurposeSharing},
		{name: "CPRA adult age given", reason: "adults keep the opt-out default",
			regime: consent.CPRA, p: consent.PurposeSharingPartners, sig: consent.Signals{Age: 30}, allowed: true, why: consent.ReasonNotOptedOut},

		// GDPR and LGPD children.
		{name: "GDPR 15 alone", reason: "under 16 consent comes from a guardian (Art. 8)",
			steps: []step{grant(P, day)}, p: H, sig: consent.Signals{Age: 15}, why: consent.ReasonMinor, recPurpose: P},
		{name: "GDPR 15 guardian", reason: "a guardian's grant counts",
			steps: []step{{a: consent.Grant, p: P, ago: day, actor: consent.ActorGuardian}}, p: H, sig: consent.Signals{Age: 15}, allowed: true, why: consent.ReasonGranted, recPurpose: P},
		{name: "GDPR 16", reason: "16 and over consent alone",
			steps: []step{grant(P, day)}, p: H, sig: consent.Signals{Age: 16}, allowed: true, why: consent.ReasonGranted, recPurpose: P},
		{name: "GDPR child nothing on record", reason: "no consent is no consent",
			p: H, sig: consent.Signals{Age: 10}, why: consent.ReasonNoConsent},
		{name: "LGPD 15 alone", reason: "LGPD needs a guardian under 12 only",
			regime: consent.LGPD, steps: []step{grant(P, day)}, p: H, sig: consent.Signals{Age: 15}, allowed: true, why: consent.ReasonGranted, recPurpose: P},
		{name: "LGPD 11 alone", reason: "under 12 a guardian consents (Art. 14)",
			regime: consent.LGPD, steps: []step{grant(P, day)}, p: H, sig: consent.Signals{Age: 11}, why: consent.ReasonMinor, recPurpose: P},
		{name: "LGPD opt-in", reason: "LGPD consent is opt-in",
			regime: consent.LGPD, p: H, why: consent.ReasonNoConsent},
		{name: "regime per request", reason: "Signals.Regime overrides the Gate's default",
			p: ME, sig: consent.Signals{Regime: consent.CPRA}, allowed: true, why: consent.ReasonNotOptedOut},

		// GPC.
		{name: "GPC denies targeted advertising", reason: "GPC opts out of sale, sharing and targeted advertising, over a grant",
			steps: []step{grant(consent.PurposeAdvertising, day)}, p: consent.PurposeAdvertisingTargeted, sig: consent.Signals{GPC: true}, why: consent.ReasonGPC},
		{name: "GPC under CPRA", reason: "GPC is an opt-out of sale and sharing under CPRA",
			regime: consent.CPRA, p: consent.PurposeSharingPartners, sig: consent.Signals{GPC: true}, why: consent.ReasonGPC},
		{name: "GPC and direct marketing under GDPR, by default", reason: "GPC is a do-not-sell-or-share signal; an objection to marketing only where the policy says so (see TestGPCObjectsToMarketing)",
			steps: []step{grant(M, day)}, p: ME, sig: consent.Signals{GPC: true}, allowed: true, why: consent.ReasonGranted, recPurpose: M},
		{name: "GPC and direct marketing under CPRA", reason: "CPRA's GPC covers sale and sharing, not first-party email",
			regime: consent.CPRA, steps: []step{grant(M, day)}, p: ME, sig: consent.Signals{GPC: true}, allowed: true, why: consent.ReasonGranted, recPurpose: M},
		{name: "GPC leaves other purposes", reason: "GPC is not a withdrawal of everything",
			steps: []step{grant(P, day)}, p: H, sig: consent.Signals{GPC: true}, allowed: true, why: consent.ReasonGranted, recPurpose: P},
		{name: "GPC and contract", reason: "GPC does not stop the service",
			p: consent.PurposeServiceCheckout, sig: consent.Signals{GPC: true}, allowed: true, why: consent.ReasonNotConsent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"memory", "generic"} {
				s := consent.NewMemoryStore()
				var store consent.Store = s
				if path == "generic" {
					store = opaqueStore{s}
				}
				g, err := consent.NewGate(consenttest.RetailPolicy(), store, consent.GateConfig{Regime: tt.regime})
				require.NoError(t, err)
				var recs []consent.Record
				for _, st := range tt.steps {
					e := ev(st.a, subj, st.p, now.Add(-st.ago))
					e.Actor, e.PolicyVersion = st.actor, st.version
					recs = append(recs, record(t, g, e))
				}
				d := decide(t, g, subj, tt.p, now.Add(tt.at), tt.sig)
				assert.Equal(t, tt.allowed, d.Allowed, "%s path: %s: %s", path, tt.reason, d.Explain())
				assert.Equal(t, tt.why, d.Reason, "%s path: %s: %s", path, tt.reason, d.Explain())
				assert.Equal(t, tt.p, d.Purpose)
				assert.Equal(t, subj, d.Subject)
				assert.Equal(t, 2, d.PolicyVersion)
				assert.Equal(t, tt.recPurpose, d.Record.Purpose, "%s path: the record the decision rests on", path)
				if tt.recPurpose != "" {
					// The record is the one the ledger holds, not a copy that drifted.
					found := false
					for _, r := range recs {
						if r.Seq == d.Record.Seq {
							assert.Equal(t, r, d.Record)
							found = true
						}
					}
					assert.True(t, found, "decision rests on record %d which was not recorded here", d.Record.Seq)
				}
			}
		})
	}
}

func TestDecideExpiryBoundary(t *testing.T) {
	g, _ := newGate(t, consent.GateConfig{})
	r := record(t, g, ev(consent.Grant, subj, consent.PurposeMarketingEmail, now))
	end := now.Add(2 * 365 * day)
	d := decide(t, g, subj, consent.PurposeMarketingEmail, end.Add(-time.Nanosecond), consent.Signals{})
	assert.True(t, d.Allowed)
	assert.Equal(t, end, d.Expires, "Expires is the grant's time plus the lifetime")
	assert.Equal(t, r.Seq, d.Record.Seq)
	d = decide(t, g, subj, consent.PurposeMarketingEmail, end, consent.Signals{})
	assert.False(t, d.Allowed, "the grant ends at Expires")
	assert.Equal(t, consent.ReasonExpired, d.Reason)
	assert.True(t, d.Expires.IsZero(), "a denial has no expiry")
}

func TestDecideShortestLifetimeOnPath(t *testing.T) {
	p := consenttest.RetailPolicy()
	for i := range p.Purposes {
		if p.Purposes[i].Purpose == consent.PurposeMarketingEmail {
			p.Purposes[i].Lifetime = 30 * day // shorter than the parent's two years
		}
	}
	g, err := consent.NewGate(p, consent.NewMemoryStore(), consent.GateConfig{})
	require.NoError(t, err)
	record(t, g, ev(consent.Grant, subj, consent.PurposeMarketing, now))
	d := decide(t, g, subj, consent.PurposeMarketingEmail, now.Add(31*day), consent.Signals{})
	assert.Equal(t, consent.ReasonExpired, d.Reason, "a parent's grant covers the child only for the child's lifetime")
	d = decide(t, g, subj, consent.PurposeMarketing, now.Add(31*day), consent.Signals{})
	assert.True(t, d.Allowed, "the parent itself keeps its own lifetime")
	assert.Equal(t, now.Add(2*365*day), d.Expires)
}

func TestSetPolicyVersionBump(t *testing.T) {
	g, _ := newGate(t, consent.GateConfig{})
	record(t, g, ev(consent.Grant, subj, consent.PurposeMarketing, now))
	record(t, g, ev(consent.Grant, subj, consent.PurposePersonalize, now))
	require.True(t, decide(t, g, subj, consent.PurposeMarketingEmail, now, consent.Signals{}).Allowed)

	p3 := consenttest.RetailPolicy()
	p3.Version = 3
	for i := range p3.Purposes {
		if p3.Purposes[i].Purpose == consent.PurposeMarketingEmail {
			p3.Purposes[i].Version = 3
			p3.Purposes[i].Description = "Offers by email, now weekly"
		}
	}
	require.NoError(t, g.SetPolicy(p3))
	d := decide(t, g, subj, consent.PurposeMarketingEmail, now, consent.Signals{})
	assert.Equal(t, consent.ReasonReconsent, d.Reason, "a material change needs re-consent")
	assert.Equal(t, 3, d.PolicyVersion)
	assert.True(t, decide(t, g, subj, consent.PurposeMarketingDirect, now, consent.Signals{}).Allowed, "unchanged purposes keep their grants")
	assert.True(t, decide(t, g, subj, consent.PurposePersonalizeHistory, now, consent.Signals{}).Allowed)

	r := record(t, g, ev(consent.Grant, subj, consent.PurposeMarketingEmail, now))
	assert.Equal(t, 3, r.PolicyVersion, "Record fills in the version in force")
	assert.True(t, decide(t, g, subj, consent.PurposeMarketingEmail, now, consent.Signals{}).Allowed)

	err := g.SetPolicy(consenttest.RetailPolicy())
	require.ErrorIs(t, err, consent.ErrInvalidPolicy, "versions do not go backwards")
	assert.Equal(t, 3, g.Policy().Version)
	_, err = g.Record(ctx, consent.Event{Action: consent.Grant, Subject: subj, Purpose: consent.PurposeMarketing, At: now, Channel: consent.ChannelWeb, PolicyVersion: 4})
	require.ErrorIs(t, err, consent.ErrInvalidEvent, "an event cannot claim a policy version that does not exist yet")
}

func TestSetPolicyRejectsRollbacks(t *testing.T) {
	g, _ := newGate(t, consent.GateConfig{})
	e := ev(consent.Grant, subj, consent.PurposePersonalizeHistory, now)
	e.PolicyVersion = 1 // shown the old notice: version 2 changed the purpose
	record(t, g, e)
	require.Equal(t, consent.ReasonReconsent, decide(t, g, subj, consent.PurposePersonalizeHistory, now, consent.Signals{}).Reason)

	undo := consenttest.RetailPolicy()
	undo.Version = 3
	for i := range undo.Purposes {
		if undo.Purposes[i].Purpose == consent.PurposePersonalizeHistory {
			undo.Purposes[i].Version = 1
		}
	}
	err := g.SetPolicy(undo)
	require.ErrorIs(t, err, consent.ErrInvalidPolicy, "a material change cannot be taken back: it would revive grants that need re-consent")
	var pe *consent.PolicyError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, consent.PurposePersonalizeHistory, pe.Purpose)
	assert.Equal(t, consent.ReasonReconsent, decide(t, g, subj, consent.PurposePersonalizeHistory, now, consent.Signals{}).Reason)

	same := consenttest.RetailPolicy()
	same.Purposes[0].Description = "Something else entirely"
	require.ErrorIs(t, g.SetPolicy(same), consent.ErrInvalidPolicy, "a changed policy needs a new version: receipts cite the version")
	assert.Equal(t, consenttest.RetailPolicy(), g.Policy())

	require.NoError(t, g.SetPolicy(consenttest.RetailPolicy()), "setting the policy in force again is harmless")
	dropped := consenttest.RetailPolicy()
	dropped.Version = 3
	dropped.Purposes = dropped.Purposes[:len(dropped.Purposes)-2] // legal, legal.obligation
	require.NoError(t, g.SetPolicy(dropped), "a new version may drop purposes")
}

func TestGPCIsRemembered(t *testing.T) {
	// The denials the first signal records: the top-level purposes it
	// covers (their children are covered by them).
	recorded := map[consent.Regime][]consent.Purpose{
		consent.GDPR: {consent.PurposeAdvertising, consent.PurposeSharing},
		consent.LGPD: {consent.PurposeAdvertising, consent.PurposeSharing},
		consent.CPRA: {consent.PurposeAdvertising, consent.PurposeSharing},
	}
	for _, regime := range []consent.Regime{consent.GDPR, consent.LGPD, consent.CPRA} {
		t.Run(regime.String(), func(t *testing.T) {
			g, s := newGate(t, consent.GateConfig{Regime: regime})
			record(t, g, ev(consent.Grant, subj, consent.PurposeAdvertising, now.Add(-day)))
			n := s.Len()
			d := decide(t, g, subj, consent.PurposeAdvertisingTargeted, now, consent.Signals{GPC: true})
			assert.Equal(t, consent.ReasonGPC, d.Reason)
			var added []consent.Purpose
			require.NoError(t, s.Scan(ctx, subj, uint64(n), func(r consent.Record) error {
				assert.Equal(t, consent.Deny, r.Action)
				assert.Equal(t, consent.SourceGPC, r.Source)
				added = append(added, r.Purpose)
				return nil
			}))
			assert.ElementsMatch(t, recorded[regime], added, "the first GPC signal is recorded")

			// Later requests without the signal: still opted out.
			for _, p := range []consent.Purpose{consent.PurposeAdvertisingTargeted, consent.PurposeSharingPartners} {
				d = decide(t, g, subj, p, now.Add(time.Hour), consent.Signals{})
				assert.False(t, d.Allowed, "a later absence of GPC is not an opt-in: %s", d.Explain())
				assert.Equal(t, consent.ReasonGPC, d.Reason)
				assert.Equal(t, consent.SourceGPC, d.Record.Source)
				assert.Equal(t, consent.Deny, d.Record.Action)
			}
			// Seen again: nothing new to record.
			n = s.Len()
			decide(t, g, subj, consent.PurposeSharingPartners, now.Add(2*time.Hour), consent.Signals{GPC: true})
			assert.Equal(t, n, s.Len(), "GPC is recorded once, not on every request")

			// The person's own, later grant is a new choice; a new GPC signal overrides it again.
			record(t, g, ev(consent.Grant, subj, consent.PurposeAdvertisingTargeted, now.Add(3*time.Hour)))
			assert.True(t, decide(t, g, subj, consent.PurposeAdvertisingTargeted, now.Add(4*time.Hour), consent.Signals{}).Allowed)
			assert.Equal(t, consent.ReasonGPC, decide(t, g, subj, consent.PurposeAdvertisingTargeted, now.Add(5*time.Hour), consent.Signals{GPC: true}).Reason)
			assert.False(t, decide(t, g, subj, consent.PurposeAdvertisingTargeted, now.Add(6*time.Hour), consent.Signals{}).Allowed)
			_, err := g.Verify(ctx)
			require.NoError(t, err)
		})
	}
}

func TestGPCOnAnyRequestIsRemembered(t *testing.T) {
	// The signal is about the person, not about the purpose a request asks
	// for: seen once on any request, it opts out of sale and sharing for
	// good.
	for _, p := range []consent.Purpose{consent.PurposePersonalizeHistory, consent.PurposeServiceCheckout, consent.PurposeAnalyticsAggregate} {
		t.Run(string(p), func(t *testing.T) {
			g, s := newGate(t, consent.GateConfig{Regime: consent.CPRA})
			decide(t, g, subj, p, now, consent.Signals{GPC: true})
			assert.Positive(t, s.Len(), "the opt-out is recorded")
			d := decide(t, g, subj, consent.PurposeSharingPartners, now.Add(time.Hour), consent.Signals{})
			assert.False(t, d.Allowed, "a later request without the signal is not an opt-in: %s", d.Explain())
			assert.Equal(t, consent.ReasonGPC, d.Reason)
			assert.Equal(t, consent.SourceGPC, d.Record.Source)
		})
	}
}

func TestRecordRejects(t *testing.T) {
	g, s := newGate(t, consent.GateConfig{})
	good := ev(consent.Grant, subj, consent.PurposeMarketing, now)
	tests := []struct {
		name, reason string
		mut          func(*consent.Event)
		want         error
	}{
		{"no action", "the zero action is not a choice", func(e *consent.Event) { e.Action = 0 }, consent.ErrInvalidEvent},
		{"bad action", "out of range", func(e *consent.Event) { e.Action = 9 }, consent.ErrInvalidEvent},
		{"empty subject", "who?", func(e *consent.Event) { e.Subject = "" }, consent.ErrEmptySubject},
		{"long subject", "ids are bounded", func(e *consent.Event) { e.Subject = strings.Repeat("x", consent.MaxSubjectLen+1) }, consent.ErrInvalidEvent},
		{"bad utf-8 subject", "ids round-trip through JSON", func(e *consent.Event) { e.Subject = "\xff" }, consent.ErrInvalidEvent},
		{"empty purpose", "what for?", func(e *consent.Event) { e.Purpose = "" }, consent.ErrMalformedKey},
		{"malformed purpose", "key syntax", func(e *consent.Event) { e.Purpose = "Marketing!" }, consent.ErrMalformedKey},
		{"unknown purpose", "not in the policy", func(e *consent.Event) { e.Purpose = "marketing.sms" }, consent.ErrUnknownPurpose},
		{"zero time", "when?", func(e *consent.Event) { e.At = time.Time{} }, consent.ErrZeroTime},
		{"year 10000", "times must encode in RFC 3339", func(e *consent.Event) { e.At = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, consent.ErrInvalidEvent},
		{"no channel", "where?", func(e *consent.Event) { e.Channel = "" }, consent.ErrInvalidEvent},
		{"malformed channel", "channel syntax", func(e *consent.Event) { e.Channel = "Web Site" }, consent.ErrMalformedKey},
		{"negative version", "versions start at 1", func(e *consent.Event) { e.PolicyVersion = -1 }, consent.ErrInvalidEvent},
		{"future version", "the person cannot have seen it", func(e *consent.Event) { e.PolicyVersion = 3 }, consent.ErrInvalidEvent},
		{"bad source", "out of range", func(e *consent.Event) { e.Source = 99 }, consent.ErrInvalidEvent},
		{"bad actor", "out of range", func(e *consent.Event) { e.Actor = 99 }, consent.ErrInvalidEvent},
		{"long evidence", "bounded", func(e *consent.Event) { e.Evidence = strings.Repeat("e", consent.MaxEvidenceLen+1) }, consent.ErrInvalidEvent},
		{"default grant", "pre-ticked boxes are not consent", func(e *consent.Event) { e.Source = consent.SourceDefault }, consent.ErrInvalidEvent},
		{"gpc grant", "GPC only opts out", func(e *consent.Event) { e.Source = consent.SourceGPC }, consent.ErrInvalidEvent},
		{"erasure source", "only Erase records erasure withdrawals", func(e *consent.Event) { e.Action, e.Source = consent.Withdraw, consent.SourceErasure }, consent.ErrInvalidEvent},
		{"contract purpose", "consent is not the basis", func(e *consent.Event) { e.Purpose = consent.PurposeServiceCheckout }, consent.ErrNotConsentBasis},
		{"legal purpose withdraw", "the law does not ask", func(e *consent.Event) { e.Purpose, e.Action = consent.PurposeLegalObligation, consent.Withdraw }, consent.ErrNotConsentBasis},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := good
			tt.mut(&e)
			_, err := g.Record(ctx, e)
			require.ErrorIs(t, err, tt.want, tt.reason)
			require.ErrorIs(t, err, consent.ErrInvalidEvent, "every rejected event is an ErrInvalidEvent")
			var ee *consent.EventError
			require.True(t, errors.As(err, &ee), "a typed *EventError")
			assert.NotEmpty(t, ee.Field)
			assert.Zero(t, s.Len(), "a rejected event leaves nothing in the ledger")
		})
	}
	_, err := g.Record(ctx, good)
	require.NoError(t, err)
	e := good
	e.Action, e.Source = consent.Deny, consent.SourceDefault
	_, err = g.Record(ctx, e)
	require.NoError(t, err, "a default can deny")
	e = good
	e.Action, e.Purpose = consent.Deny, consent.PurposeAnalytics
	_, err = g.Record(ctx, e)
	require.NoError(t, err, "a legitimate interest can be objected to")
}

func TestRecordNormalizes(t *testing.T) {
	g, _ := newGate(t, consent.GateConfig{})
	at := time.Date(2025, 5, 1, 14, 0, 0, 5, time.FixedZone("CEST", 2*3600))
	r := record(t, g, consent.Event{Action: consent.Grant, Subject: subj, Purpose: consent.PurposeMarketing, At: at, Channel: consent.ChannelApp})
	assert.Equal(t, 2, r.PolicyVersion, "zero PolicyVersion means the version in force")
	assert.True(t, r.At.Equal(at))
	assert.Equal(t, time.UTC, r.At.Location())
	assert.Equal(t, uint64(1), r.Seq)
	assert.True(t, r.Prev.IsZero())
	r2 := record(t, g, ev(consent.Deny, subj, consent.PurposeMarketing, now))
	assert.Equal(t, uint64(2), r2.Seq)
	assert.Equal(t, r.Hash, r2.Prev, "each record chains to the one before")
}

func TestDecideErrors(t *testing.T) {
	g, _ := newGate(t, consent.GateConfig{})
	tests := []struct {
		name    string
		subject string
		p       consent.Purpose
		at      time.Time
		sig     consent.Signals
		want    error
	}{
		{"unknown purpose", subj, "marketing.sms", now, consent.Signals{}, consent.ErrUnknownPurpose},
		{"unknown top-level purpose", subj, "profiling", now, consent.Signals{}, consent.ErrUnknownPurpose},
		{"malformed purpose", subj, "marketing..email", now, consent.Signals{}, consent.ErrMalformedKey},
		{"empty purpose", subj, "", now, consent.Signals{}, consent.ErrMalformedKey},
		{"empty subject", "", consent.PurposeMarketing, now, consent.Signals{}, consent.ErrEmptySubject},
		{"long subject", strings.Repeat("x", consent.MaxSubjectLen+1), consent.PurposeMarketing, now, consent.Signals{}, consent.ErrInvalidEvent},
		{"zero time", subj, consent.PurposeMarketing, time.Time{}, consent.Signals{}, consent.ErrZeroTime},
		{"negative age", subj, consent.PurposeMarketing, now, consent.Signals{Age: -1}, consent.ErrInvalidSignals},
		{"unknown regime", subj, consent.PurposeMarketing, now, consent.Signals{Regime: 42}, consent.ErrInvalidSignals},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := g.Decide(ctx, tt.subject, tt.p, tt.at, tt.sig)
			require.ErrorIs(t, err, tt.want)
			assert.False(t, d.Allowed, "an error is never an allow")
		})
	}
	// Unknown purposes are errors even for contract-like names and with a grant of a would-be parent.
	record(t, g, ev(consent.Grant, subj, consent.PurposeMarketing, now))
	_, err := g.Decide(ctx, subj, "marketing.sms", now, consent.Signals{})
	require.ErrorIs(t, err, consent.ErrUnknownPurpose, "a grant of the parent does not make an undeclared child known")
}

func TestZeroGate(t *testing.T) {
	var g consent.Gate
	_, err := g.Decide(ctx, subj, consent.PurposeMarketing, now, consent.Signals{})
	require.ErrorIs(t, err, consent.ErrUninitialized)
	_, err = g.Record(ctx, ev(consent.Grant, subj, consent.PurposeMarketing, now))
	require.ErrorIs(t, err, consent.ErrUninitialized)
	_, err = g.Verify(ctx)
	require.ErrorIs(t, err, consent.ErrUninitialized)
	_, err = g.Erase(ctx, subj, now)
	require.ErrorIs(t, err, consent.ErrUninitialized)
	_, err = g.Access(ctx, subj, now)
	require.ErrorIs(t, err, consent.ErrUninitialized)
	_, err = g.Receipt(ctx, subj, now)
	require.ErrorIs(t, err, consent.ErrUninitialized)
	_, err = g.ExportLedger(ctx, &bytes.Buffer{})
	require.ErrorIs(t, err, consent.ErrUninitialized)
	_, err = g.ImportLedger(ctx, &bytes.Buffer{})
	require.ErrorIs(t, err, consent.ErrUninitialized)
	require.ErrorIs(t, g.SetPolicy(consenttest.RetailPolicy()), consent.ErrUninitialized)
	assert.Nil(t, g.Policy())
}

func TestNewGateErrors(t *testing.T) {
	_, err := consent.NewGate(consenttest.RetailPolicy(), nil, consent.GateConfig{})
	require.ErrorIs(t, err, consent.ErrNilStore)
	_, err = consent.NewGate(nil, consent.NewMemoryStore(), consent.GateConfig{})
	require.ErrorIs(t, err, consent.ErrInvalidPolicy)
	_, err = consent.NewGate(&consent.Policy{}, consent.NewMemoryStore(), consent.GateConfig{})
	require.ErrorIs(t, err, consent.ErrInvalidPolicy)
	_, err = consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{Regime: 9})
	require.ErrorIs(t, err, consent.ErrInvalidPolicy)

	p := consenttest.RetailPolicy()
	g, err := consent.NewGate(p, consent.NewMemoryStore(), consent.GateConfig{})
	require.NoError(t, err)
	p.Purposes[3].Basis = consent.BasisContract // the Gate keeps its own copy
	p.Purposes[3].Categories = append(p.Purposes[3].Categories, consent.CategoryHealth)
	d := decide(t, g, subj, consent.PurposePersonalize, now, consent.Signals{})
	assert.Equal(t, consent.ReasonNoConsent, d.Reason)
	got := g.Policy()
	assert.Equal(t, consenttest.RetailPolicy(), got)
	got.Purposes[0].Description = "changed"
	assert.NotEqual(t, "changed", g.Policy().Purposes[0].Description, "Policy returns a copy")
}

func TestAuditLog(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	g, _ := newGate(t, consent.GateConfig{Logger: logger})
	const secret = "alice@example.com"
	record(t, g, ev(consent.Grant, secret, consent.PurposeMarketing, now))
	record(t, g, ev(consent.Grant, secret, consent.PurposePersonalize, now))
	decide(t, g, secret, consent.PurposeMarketingEmail, now, consent.Signals{})
	assert.NotContains(t, buf.String(), consent.AuditDecision, "decisions are logged only with LogDecisions")
	decide(t, g, secret, consent.PurposeAdvertising, now, consent.Signals{GPC: true})
	_, err := g.Erase(ctx, secret, now)
	require.NoError(t, err)

	g2, _ := newGate(t, consent.GateConfig{Logger: logger, LogDecisions: true})
	decide(t, g2, secret, consent.PurposeMarketingEmail, now, consent.Signals{})

	out := buf.String()
	assert.NotContains(t, out, secret, "audit events never carry the subject")
	assert.NotContains(t, out, "alice")
	kinds := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		require.NoError(t, jsonUnmarshal(line, &m))
		assert.Equal(t, m["msg"], m["event"], "message and event attribute agree")
		assert.Equal(t, "INFO", m["level"])
		kinds[m["event"].(string)]++
		if m["event"] != consent.AuditErase {
			assert.NotEmpty(t, m["purpose"], "%s carries the purpose", m["event"])
		}
	}
	// 2 grants, 3 GPC denials (marketing, advertising and sharing, under
	// GDPR; their children are covered), 1 erasure withdrawal (personalize:
	// marketing is already denied).
	assert.Equal(t, 6, kinds[consent.AuditChange], out)
	assert.Equal(t, 1, kinds[consent.AuditErase])
	assert.Equal(t, 1, kinds[consent.AuditDecision])
}

func TestParentVersionBump(t *testing.T) {
	g, _ := newGate(t, consent.GateConfig{})
	record(t, g, ev(consent.Grant, subj, consent.PurposePersonalize, now))
	record(t, g, ev(consent.Grant, "s-2", consent.PurposePersonalizeDeclared, now))
	p3 := consenttest.RetailPolicy()
	p3.Version = 3
	p3.Purposes[3].Version = 3 // personalize changed materially
	require.Equal(t, consent.PurposePersonalize, p3.Purposes[3].Purpose)
	require.NoError(t, g.SetPolicy(p3))
	d := decide(t, g, subj, consent.PurposePersonalizeDeclared, now, consent.Signals{})
	assert.Equal(t, consent.ReasonReconsent, d.Reason, "a grant of a parent made before the parent changed covers no child")
	assert.Equal(t, consent.PurposePersonalize, d.Record.Purpose)
	d = decide(t, g, "s-2", consent.PurposePersonalizeDeclared, now, consent.Signals{})
	assert.True(t, d.Allowed, "a grant of the child itself is unaffected by a change to its parent: %s", d.Explain())
}
