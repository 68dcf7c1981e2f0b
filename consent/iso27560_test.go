package consent_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
)

// isoGate returns a Gate with controllerPolicy and a history that reaches
// every kind of event and every optional field: an expired grant (a derived
// expiry), a denial, a withdrawal, a grant with recipients, an explicit
// grant of a sensitive purpose, and an objection.
func isoGate(t testing.TB) *consent.Gate {
	t.Helper()
	g, err := consent.NewGate(controllerPolicy(), consent.NewMemoryStore(), consent.GateConfig{Rand: consenttest.Rand(7)})
	require.NoError(t, err)
	for _, e := range []consent.Event{
		ev(consent.Grant, "ana", consent.PurposePersonalize, now.Add(-400*day)),
		ev(consent.Grant, "ana", consenttest.PurposeWellness, now.Add(-30*day)),
		ev(consent.Deny, "ana", consent.PurposeMarketingEmail, now.Add(-20*day)),
		ev(consent.Grant, "ana", consent.PurposeSharingPartners, now.Add(-10*day)),
		ev(consent.Withdraw, "ana", consent.PurposeSharingPartners, now.Add(-5*day)),
		ev(consent.Deny, "ana", consent.PurposeAnalyticsAggregate, now.Add(-day)),
	} {
		record(t, g, e)
	}
	return g
}

func exportISO(t testing.TB, g *consent.Gate, subject string, at time.Time) ([]consent.ISORecord, []byte) {
	t.Helper()
	recs, err := g.ISO27560(ctx, subject, at)
	require.NoError(t, err)
	b, err := json.Marshal(recs)
	require.NoError(t, err)
	return recs, b
}

// TestISO27560FieldNames walks the JSON and checks the exact set of keys
// at every level, written out here from the issue's list of ISO/IEC TS
// 27560 fields rather than taken from the code.
func TestISO27560FieldNames(t *testing.T) {
	_, b := exportISO(t, isoGate(t), "ana", now)
	var doc any
	require.NoError(t, json.Unmarshal(b, &doc))
	levels := map[string]map[string]bool{} // level (path without indices) → keys seen
	var walk func(level string, v any)
	walk = func(level string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if levels[level] == nil {
				levels[level] = map[string]bool{}
			}
			for k, sub := range x {
				levels[level][k] = true
				walk(level+"."+k, sub)
			}
		case []any:
			for _, e := range x {
				walk(level, e)
			}
		}
	}
	walk("record", doc)
	keys := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, k := range strings.Fields(s) {
			m[k] = true
		}
		return m
	}
	want := map[string]map[string]bool{
		// Record header, then the sections.
		"record":                           keys("schema_version record_id pii_principal_id processing events extensions"),
		"record.processing":                keys("privacy_notice language purposes"),
		"record.processing.privacy_notice": keys("url version"),
		"record.processing.purposes": keys("purpose lawful_basis pii_information pii_controllers storage_locations " +
			"retention_period jurisdiction recipient_third_parties withdrawal_method"),
		"record.processing.purposes.pii_information": keys("pii_type dpv_type sensitive_pii_category"),
		"record.processing.purposes.pii_controllers": keys("party_name party_address party_contact"),
		"record.events":                 keys("event_time validity_duration entity_id event_type event_state extensions"),
		"record.events.extensions":      keys("tact"),
		"record.events.extensions.tact": keys("seq hash purpose action source actor channel policy_version derived"),
		"record.extensions":             keys("tact"),
		"record.extensions.tact":        keys("purpose checkpoint allowed reason"),
	}
	assert.Equal(t, want, levels, "the key set of every level")

	// The issue's list, field by field, where it says.
	issue := map[string]string{
		"record":            "schema_version record_id pii_principal_id",
		"record.processing": "privacy_notice language",
		"record.processing.purposes": "purpose pii_information pii_controllers storage_locations retention_period jurisdiction " +
			"recipient_third_parties withdrawal_method lawful_basis",
		"record.events": "event_time validity_duration entity_id event_type event_state",
	}
	for level, names := range issue {
		for _, k := range strings.Fields(names) {
			assert.True(t, levels[level][k], "field %s at %s", k, level)
		}
	}
	// No null anywhere: empty lists are [].
	assert.NotContains(t, string(b), "null")
}

func TestISO27560RoundTrip(t *testing.T) {
	check := func(t *testing.T, g *consent.Gate, subject string) []consent.ISORecord {
		recs, b := exportISO(t, g, subject, now)
		back, err := consent.DecodeISO27560(b)
		require.NoError(t, err, "%s", b)
		if len(recs) == 0 {
			assert.Empty(t, back)
			return recs
		}
		assert.Equal(t, recs, back, "decode(encode(records)) == records")
		again, err := json.Marshal(back)
		require.NoError(t, err)
		assert.JSONEq(t, string(b), string(again))
		return recs
	}
	recs := check(t, isoGate(t), "ana")
	assert.Len(t, recs, 9, "personalize and the 4 purposes under it its grant decides, wellness, marketing.email, sharing.partners, analytics.aggregate")

	g, _ := newGate(t, consent.GateConfig{Rand: consenttest.Rand(3)})
	require.NoError(t, consenttest.Seed(ctx, g))
	for _, s := range consenttest.Shoppers() {
		t.Run(s.ID, func(t *testing.T) {
			recs := check(t, g, s.ID)
			if len(s.Events) == 0 && !s.Signals.GPC {
				assert.Empty(t, recs, "nothing on record, no record")
			}
		})
	}
}

// TestISO27560Record checks how each field is filled.
func TestISO27560Record(t *testing.T) {
	g := isoGate(t)
	recs, _ := exportISO(t, g, "ana", now)
	byPurpose := map[consent.Purpose]consent.ISORecord{}
	for _, r := range recs {
		byPurpose[r.Extensions.Tact.Purpose] = r
	}
	cp, err := g.Checkpoint(ctx)
	require.NoError(t, err)

	r := byPurpose[consent.PurposeSharingPartners]
	assert.Equal(t, consent.ISOSchemaVersion, r.SchemaVersion)
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, r.RecordID, "a version 8 UUID")
	assert.Equal(t, "ana", r.PIIPrincipalID)
	assert.Equal(t, consent.ISONotice{URL: "https://acme.example/privacy", Version: 2}, r.Processing.PrivacyNotice)
	assert.Equal(t, "en-IE", r.Processing.Language)
	require.Len(t, r.Processing.Purposes, 1)
	p := r.Processing.Purposes[0]
	assert.Equal(t, "Sharing your email and purchases with our gym partners", p.Purpose)
	assert.Equal(t, "dpv:Consent", p.LawfulBasis)
	assert.Equal(t, []consent.ISOPII{
		{PIIType: consent.CategoryContactEmail, DPVType: "pd:EmailAddress"},
		{PIIType: consent.CategoryBehaviorPurchaseHistory, DPVType: "pd:Purchase"},
	}, p.PIIInformation)
	assert.Equal(t, []consent.ISOParty{{Name: "Acme Outfitters", Address: "1 Harbour Road, Dublin, Ireland", Contact: "privacy@acme.example"}}, p.PIIControllers)
	assert.Equal(t, []string{"IE", "DE"}, p.StorageLocations)
	assert.Equal(t, "P365D", p.RetentionPeriod)
	assert.Equal(t, "EU", p.Jurisdiction)
	assert.Equal(t, []string{"Gym Partners Ltd", "FitClub GmbH"}, p.RecipientThirdParties)
	assert.Equal(t, controllerPolicy().Withdraw, p.WithdrawalMethod)
	assert.Equal(t, consent.ISOLedgerRecord{Purpose: consent.PurposeSharingPartners, Checkpoint: cp, Reason: consent.ReasonWithdrawn}, r.Extensions.Tact)
	require.Len(t, r.Events, 2)
	access, err := g.Access(ctx, "ana", now)
	require.NoError(t, err)
	for i, e := range r.Events {
		rec := access.Records[3+i]
		assert.Equal(t, rec.At, e.Time)
		assert.Equal(t, "ana", e.EntityID)
		assert.Equal(t, "dpv:ExpressedConsent", e.Type)
		assert.Equal(t, consent.ISOLedgerEvent{Seq: rec.Seq, Hash: rec.Hash, Purpose: rec.Purpose, Action: rec.Action,
			Source: rec.Source, Actor: rec.Actor, Channel: rec.Channel, PolicyVersion: rec.PolicyVersion}, e.Extensions.Tact)
	}
	assert.Equal(t, []string{consent.DPVConsentGiven, consent.DPVConsentWithdrawn}, []string{r.Events[0].State, r.Events[1].State})
	assert.Equal(t, []string{"P365D", "P0D"}, []string{r.Events[0].ValidityDuration, r.Events[1].ValidityDuration})

	// The parent's record has no event: a grant of a child says nothing
	// about its parent.
	_, ok := byPurpose[consent.PurposeSharing]
	assert.False(t, ok, "sharing has no record: nothing decides it")
	_, ok = byPurpose[consent.PurposeService]
	assert.False(t, ok, "contract purposes have no consent record")

	w := byPurpose[consenttest.PurposeWellness]
	assert.Equal(t, "dpv:ExplicitlyExpressedConsent", w.Processing.Purposes[0].LawfulBasis)
	assert.Equal(t, "dpv:ExplicitlyExpressedConsent", w.Events[0].Type)
	assert.Equal(t, []consent.ISOPII{{PIIType: consent.CategoryHealth, DPVType: "pd:Health", Sensitive: true}}, w.Processing.Purposes[0].PIIInformation)
	assert.Equal(t, "P180D", w.Events[0].ValidityDuration)
	require.Len(t, w.Events, 1, "the expired grant of personalize does not count for an explicit-consent purpose")

	h := byPurpose[consent.PurposePersonalizeHistory]
	require.Len(t, h.Events, 2, "the parent's grant, then its expiry")
	assert.Equal(t, consent.PurposePersonalize, h.Events[0].Extensions.Tact.Purpose)
	assert.Equal(t, consent.DPVConsentExpired, h.Events[1].State)
	assert.True(t, h.Events[1].Extensions.Tact.Derived)
	assert.Equal(t, now.Add(-400*day).Add(365*day), h.Events[1].Time, "expires a lifetime after the grant")
	assert.Equal(t, "Acme Outfitters", h.Events[1].EntityID, "the controller's policy ended it")
	assert.Equal(t, h.Events[0].Extensions.Tact.Seq, h.Events[1].Extensions.Tact.Seq, "the expiry names the grant it follows from")
	assert.Equal(t, consent.ReasonExpired, h.Extensions.Tact.Reason)

	a := byPurpose[consent.PurposeAnalyticsAggregate]
	assert.Equal(t, "dpv:LegitimateInterest", a.Processing.Purposes[0].LawfulBasis)
	assert.Equal(t, "dpv:LegitimateInterest", a.Events[0].Type)
	assert.Equal(t, consent.DPVConsentRefused, a.Events[0].State, "an objection")
	assert.Equal(t, consent.ReasonObjected, a.Extensions.Tact.Reason)
	assert.Equal(t, "P400D", a.Processing.Purposes[0].RetentionPeriod)

	// The record id stays as events are added, and differs per purpose.
	record(t, g, ev(consent.Grant, "ana", consent.PurposeSharingPartners, now))
	later, _ := exportISO(t, g, "ana", now)
	for _, l := range later {
		if l.Extensions.Tact.Purpose == consent.PurposeSharingPartners {
			assert.Equal(t, r.RecordID, l.RecordID)
			assert.Len(t, l.Events, 3)
		} else {
			assert.NotEqual(t, r.RecordID, l.RecordID)
		}
	}
}

// TestISO27560Events checks which ledger records become events, with which
// state, in cases where a purpose's consent depends on its parent's.
func TestISO27560Events(t *testing.T) {
	P, H := consent.PurposePersonalize, consent.PurposePersonalizeHistory
	gpc := func(g *consent.Gate, at time.Time) {
		_, err := g.Decide(ctx, "s", consent.PurposeAdvertisingTargeted, at, consent.Signals{GPC: true})
		require.NoError(t, err)
	}
	type step struct {
		do func(g *consent.Gate, at time.Time)
		at time.Duration // before now
	}
	rec := func(a consent.Action, p consent.Purpose, ago time.Duration) step {
		return step{func(g *consent.Gate, at time.Time) { record(t, g, ev(a, "s", p, at)) }, ago}
	}
	tests := []struct {
		name, reason string
		steps        []step
		purpose      consent.Purpose
		states       []string // the events' states; nil: no record
		allowed      bool
	}{
		{"grant", "a grant gives consent", []step{rec(consent.Grant, H, day)}, H, []string{consent.DPVConsentGiven}, true},
		{"parent grant", "a grant covers the purposes under it", []step{rec(consent.Grant, P, day)}, H, []string{consent.DPVConsentGiven}, true},
		{"withdrawn", "a withdrawal ends it", []step{rec(consent.Grant, H, 2*day), rec(consent.Withdraw, H, day)}, H,
			[]string{consent.DPVConsentGiven, consent.DPVConsentWithdrawn}, false},
		{"parent withdrawn", "a parent's withdrawal ends a child's grant", []step{rec(consent.Grant, H, 2*day), rec(consent.Withdraw, P, day)}, H,
			[]string{consent.DPVConsentGiven, consent.DPVConsentWithdrawn}, false},
		{"parent grant after own denial", "a denial of the purpose beats a later grant of its parent: the grant is not listed",
			[]step{rec(consent.Deny, H, 2*day), rec(consent.Grant, P, day)}, H, []string{consent.DPVConsentRefused}, false},
		{"own grant after parent denial", "a later grant of the purpose itself allows",
			[]step{rec(consent.Deny, P, 2*day), rec(consent.Grant, H, day)}, H, []string{consent.DPVConsentRefused, consent.DPVConsentGiven}, true},
		{"expired then renewed", "an expiry between two grants is derived at the end of the first's lifetime",
			[]step{rec(consent.Grant, H, 500*day), rec(consent.Grant, H, day)}, H,
			[]string{consent.DPVConsentGiven, consent.DPVConsentExpired, consent.DPVConsentGiven}, true},
		{"renewed before expiry", "no expiry while a newer grant holds",
			[]step{rec(consent.Grant, H, 300*day), rec(consent.Grant, P, 200*day)}, H,
			[]string{consent.DPVConsentGiven, consent.DPVConsentGiven}, true},
		{"explicit ignores parent", "only a grant of an explicit-consent purpose itself counts",
			[]step{rec(consent.Grant, P, day)}, consenttest.PurposeWellness, nil, false},
		{"explicit refused by parent", "but a parent's refusal refuses it",
			[]step{rec(consent.Grant, consenttest.PurposeWellness, 2*day), rec(consent.Deny, P, day)}, consenttest.PurposeWellness,
			[]string{consent.DPVConsentGiven, consent.DPVConsentRefused}, false},
		{"objection lifted", "a legitimate interest's objection through the parent ends when the parent is granted again",
			[]step{rec(consent.Deny, P, 2*day), rec(consent.Grant, P, day)}, consent.PurposePersonalizeContext,
			[]string{consent.DPVConsentRefused, consent.DPVConsentGiven}, true},
		{"objection stands", "a grant of the parent does not lift an objection to the purpose itself",
			[]step{rec(consent.Withdraw, consent.PurposePersonalizeContext, 2*day), rec(consent.Grant, P, day)}, consent.PurposePersonalizeContext,
			[]string{consent.DPVConsentWithdrawn}, false},
		{"gpc", "a GPC opt-out is a refusal", []step{{gpc, day}}, consent.PurposeAdvertisingTargeted, []string{consent.DPVConsentRefused}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _ := newGate(t, consent.GateConfig{})
			for _, s := range tt.steps {
				s.do(g, now.Add(-s.at))
			}
			recs, b := exportISO(t, g, "s", now)
			_, err := consent.DecodeISO27560(b)
			require.NoError(t, err)
			var got *consent.ISORecord
			for i := range recs {
				if recs[i].Extensions.Tact.Purpose == tt.purpose {
					got = &recs[i]
				}
			}
			if tt.states == nil {
				assert.Nil(t, got, tt.reason)
				return
			}
			require.NotNil(t, got, tt.reason)
			var states []string
			for _, e := range got.Events {
				states = append(states, e.State)
			}
			assert.Equal(t, tt.states, states, tt.reason)
			assert.Equal(t, tt.allowed, got.Extensions.Tact.Allowed, tt.reason)
		})
	}

	t.Run("longest grant holds", func(t *testing.T) {
		// A parent's grant made later but with a shorter lifetime does not
		// end the child's own grant sooner.
		p := &consent.Policy{Version: 1, Controller: "C", Contact: "c", Withdraw: "w", Purposes: []consent.PurposeSpec{
			{Purpose: "news", Version: 1, Basis: consent.BasisConsent, Description: "d", Benefit: "b", Lifetime: 30 * day},
			{Purpose: "news.daily", Version: 1, Basis: consent.BasisConsent, Description: "d", Benefit: "b", Lifetime: 365 * day},
		}}
		g, err := consent.NewGate(p, consent.NewMemoryStore(), consent.GateConfig{})
		require.NoError(t, err)
		record(t, g, ev(consent.Grant, "s", "news.daily", now.Add(-100*day)))
		record(t, g, ev(consent.Grant, "s", "news", now.Add(-10*day)))
		later := now.Add(300 * day)
		recs, _ := exportISO(t, g, "s", later)
		require.Len(t, recs, 2)
		daily := recs[1]
		require.Equal(t, consent.Purpose("news.daily"), daily.Extensions.Tact.Purpose)
		require.Len(t, daily.Events, 3)
		assert.Equal(t, []string{"P365D", "P30D"}, []string{daily.Events[0].ValidityDuration, daily.Events[1].ValidityDuration},
			"a grant of the parent holds for the shorter lifetime on the way")
		assert.Equal(t, consent.DPVConsentExpired, daily.Events[2].State)
		assert.Equal(t, now.Add(265*day), daily.Events[2].Time, "the child's own grant ran out last")
		assert.Equal(t, daily.Events[0].Extensions.Tact.Seq, daily.Events[2].Extensions.Tact.Seq)
		d := decide(t, g, "s", "news.daily", now.Add(264*day), consent.Signals{})
		assert.True(t, d.Allowed, "the Gate agrees: allowed the day before")
	})

	t.Run("sources and actors", func(t *testing.T) {
		g, _ := newGate(t, consent.GateConfig{})
		gpc(g, now.Add(-3*day))
		guardian := ev(consent.Grant, "s", H, now.Add(-2*day))
		guardian.Actor = consent.ActorGuardian
		record(t, g, guardian)
		def := ev(consent.Deny, "s", consent.PurposeMarketing, now.Add(-day))
		def.Source = consent.SourceDefault
		record(t, g, def)
		recs, _ := exportISO(t, g, "s", now)
		first := map[consent.Purpose]consent.ISOEvent{}
		for _, r := range recs {
			first[r.Extensions.Tact.Purpose] = r.Events[0]
		}
		e := first[consent.PurposeAdvertisingTargeted]
		assert.Equal(t, consent.SourceGPC, e.Extensions.Tact.Source, "the opt-out, recorded as a denial of the parent")
		assert.Equal(t, consent.PurposeAdvertising, e.Extensions.Tact.Purpose)
		assert.Equal(t, consent.DPVConsentRefused, e.State)
		assert.Equal(t, "s", e.EntityID, "the person's browser sent the signal")
		e = first[H]
		assert.Equal(t, consent.ActorGuardian, e.Extensions.Tact.Actor)
		assert.Equal(t, "s", e.EntityID, "the guardian acted for the subject")
		e = first[consent.PurposeMarketingEmail]
		assert.Equal(t, consent.SourceDefault, e.Extensions.Tact.Source)
		assert.Equal(t, "Acme Outfitters", e.EntityID, "a default is the business's doing")
	})
}

func TestISO27560Jurisdiction(t *testing.T) {
	for _, tt := range []struct {
		regime consent.Regime
		policy string
		want   string
	}{
		{consent.RegimeDefault, "", "EU"},
		{consent.GDPR, "", "EU"},
		{consent.LGPD, "", "BR"},
		{consent.CPRA, "", "US-CA"},
		{consent.CPRA, "US", "US"},
	} {
		p := consenttest.RetailPolicy()
		p.Jurisdiction = tt.policy
		g, err := consent.NewGate(p, consent.NewMemoryStore(), consent.GateConfig{Regime: tt.regime})
		require.NoError(t, err)
		record(t, g, ev(consent.Grant, "s", consent.PurposeMarketingEmail, now))
		recs, _ := exportISO(t, g, "s", now)
		require.Len(t, recs, 1)
		assert.Equal(t, tt.want, recs[0].Processing.Purposes[0].Jurisdiction, "%s %q", tt.regime, tt.policy)
		assert.Equal(t, "en", recs[0].Processing.Language, "the default language")
		assert.Empty(t, recs[0].Processing.Purposes[0].PIIControllers[0].Address)
	}
}

func TestISO27560Errors(t *testing.T) {
	g := isoGate(t)
	_, err := g.ISO27560(ctx, "", now)
	require.ErrorIs(t, err, consent.ErrEmptySubject)
	_, err = g.ISO27560(ctx, "ana", time.Time{})
	require.ErrorIs(t, err, consent.ErrZeroTime)
	_, err = g.ISO27560(ctx, strings.Repeat("x", consent.MaxSubjectLen+1), now)
	require.ErrorIs(t, err, consent.ErrInvalidEvent)
	_, err = new(consent.Gate).ISO27560(ctx, "ana", now)
	require.ErrorIs(t, err, consent.ErrUninitialized)

	// An erased subject has no records: tombstones hold no subject.
	_, err = g.Erase(ctx, "ana", now)
	require.NoError(t, err)
	recs, b := exportISO(t, g, "ana", now)
	assert.Empty(t, recs)
	assert.Equal(t, "[]", string(b))
}

// TestDecodeISO27560Fields removes each field of a valid document, gives it
// a value of the wrong type, or null, and checks that the decoder refuses
// every change to a required field and accepts the removal of an optional
// one.
func TestDecodeISO27560Fields(t *testing.T) {
	// One record that has every field, optional ones included: a grant
	// with its derived expiry, of a purpose that uses data.
	g, err := consent.NewGate(controllerPolicy(), consent.NewMemoryStore(), consent.GateConfig{})
	require.NoError(t, err)
	record(t, g, ev(consent.Grant, "ana", consent.PurposePersonalizeHistory, now.Add(-400*day)))
	recs, valid := exportISO(t, g, "ana", now)
	require.Len(t, recs, 1)
	require.Len(t, recs[0].Events, 2)
	optional := map[string]bool{"url": true, "party_address": true, "dpv_type": true}
	type loc struct {
		path []any // keys and indices down to the object
		key  string
	}
	var locs []loc
	var walk func(path []any, v any)
	walk = func(path []any, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, sub := range x {
				locs = append(locs, loc{slices.Clone(path), k})
				walk(append(slices.Clone(path), k), sub)
			}
		case []any:
			for i, e := range x {
				walk(append(slices.Clone(path), i), e)
			}
		}
	}
	var doc any
	require.NoError(t, json.Unmarshal(valid, &doc))
	walk(nil, doc)
	require.Len(t, locs, 65, "every field of the record, its two categories and its two events")
	mutate := func(l loc, f func(obj map[string]any)) []byte {
		var d any
		require.NoError(t, json.Unmarshal(valid, &d))
		v := d
		for _, p := range l.path {
			switch k := p.(type) {
			case string:
				v = v.(map[string]any)[k]
			case int:
				v = v.([]any)[k]
			}
		}
		f(v.(map[string]any))
		b, err := json.Marshal(d)
		require.NoError(t, err)
		return b
	}
	wrongType := func(v any) any {
		switch v.(type) {
		case string:
			return 7
		case float64:
			return "7"
		case bool:
			return "true"
		case []any:
			return map[string]any{}
		}
		return []any{}
	}
	for _, l := range locs {
		name := fmt.Sprint(l.path, l.key)
		_, err := consent.DecodeISO27560(mutate(l, func(o map[string]any) { delete(o, l.key) }))
		switch {
		case optional[l.key]:
			assert.NoError(t, err, "%s is optional", name)
		case l.key != "derived": // removing it turns an expiry into a mismatched state, checked below
			assertISOError(t, err, "missing "+name)
		}
		_, err = consent.DecodeISO27560(mutate(l, func(o map[string]any) { o[l.key] = wrongType(o[l.key]) }))
		assertISOError(t, err, "wrong type for "+name)
		_, err = consent.DecodeISO27560(mutate(l, func(o map[string]any) { o[l.key] = nil }))
		assertISOError(t, err, "null "+name)
		_, err = consent.DecodeISO27560(mutate(l, func(o map[string]any) { o[l.key+"_x"] = "x" }))
		assertISOError(t, err, "unknown field beside "+name)
	}
}

func assertISOError(t *testing.T, err error, what string) {
	t.Helper()
	require.ErrorIs(t, err, consent.ErrInvalidISORecord, what)
	var ie *consent.ISOError
	require.ErrorAs(t, err, &ie, what)
	require.True(t, strings.HasPrefix(err.Error(), "consent: invalid ISO/IEC TS 27560 record: "), "%s: %v", what, err)
}

// TestDecodeISO27560Values checks values of the right type but wrong form.
func TestDecodeISO27560Values(t *testing.T) {
	recs, valid := exportISO(t, isoGate(t), "ana", now)
	s := string(valid)
	first := recs[0] // personalize: a grant and its expiry
	require.Len(t, first.Events, 2)
	h0 := first.Events[0].Extensions.Tact.Hash.String()
	edit := func(old, new string) string {
		require.Contains(t, s, old)
		return strings.Replace(s, old, new, 1)
	}
	swapped := slices.Clone(recs)
	swapped[0].Events = []consent.ISOEvent{first.Events[1], first.Events[0]}
	swappedJSON, err := json.Marshal(swapped)
	require.NoError(t, err)
	noEvents := slices.Clone(recs)
	noEvents[0].Events = []consent.ISOEvent{}
	noEventsJSON, _ := json.Marshal(noEvents)
	twoPurposes := slices.Clone(recs)
	twoPurposes[0].Processing.Purposes = append(slices.Clone(first.Processing.Purposes), first.Processing.Purposes...)
	twoPurposesJSON, _ := json.Marshal(twoPurposes)
	for _, tt := range []struct{ name, doc, path string }{
		{"empty", ``, ""},
		{"truncated", s[:len(s)/2], ""},
		{"not an array", `{"records":[]}`, ""},
		{"null", `null`, ""},
		{"a record not an object", `[1]`, "[0]"},
		{"trailing data", s + `[]`, ""},
		{"huge", `["` + strings.Repeat("x", consent.MaxISO27560Size) + `"]`, ""},
		{"repeated key", edit(`"schema_version":`, `"Schema_Version":"x","schema_version":`), ""},
		{"schema version", edit(consent.ISOSchemaVersion, "ISO/IEC TS 27560:2099"), "[0].schema_version"},
		{"record id", edit(first.RecordID, "record-1"), "[0].record_id"},
		{"principal", edit(`"pii_principal_id":"ana"`, `"pii_principal_id":""`), "[0].pii_principal_id"},
		{"notice version", edit(`"version":2`, `"version":0`), "[0].processing.privacy_notice.version"},
		{"language", edit(`"language":"en-IE"`, `"language":"Irish English"`), "[0].processing.language"},
		{"lawful basis", edit(`"dpv:Consent"`, `"dpv:Vibes"`), "[0].processing.purposes[0].lawful_basis"},
		{"retention", edit(`"retention_period":"P0D"`, `"retention_period":"forever"`), "[0].processing.purposes[0].retention_period"},
		{"empty duration", edit(`"validity_duration":"P365D"`, `"validity_duration":"PT"`), "[0].events[0].validity_duration"},
		{"jurisdiction", edit(`"jurisdiction":"EU"`, `"jurisdiction":"Europe"`), "[0].processing.purposes[0].jurisdiction"},
		{"storage location", edit(`["IE","DE"]`, `["IE","Germany"]`), "[0].processing.purposes[0].storage_locations[1]"},
		{"unknown state", edit(consent.DPVConsentGiven, "dpv:ConsentGranted"), "[0].events[0].event_state"},
		{"state not the action", edit(consent.DPVConsentGiven, consent.DPVConsentRefused), "[0].events[0].event_state"},
		{"event type", edit(`"dpv:ExpressedConsent"`, `"dpv:ImpliedConsent"`), "[0].events[0].event_type"},
		{"event time", edit(`"event_time":"2024-04-27T12:00:00Z"`, `"event_time":"yesterday"`), ""},
		{"hash", edit(h0, "zz"), ""},
		{"action", edit(`"action":"grant"`, `"action":"grantt"`), ""},
		{"reason", edit(`"reason":"expired"`, `"reason":"vibes"`), ""},
		{"allowed not the reason", edit(`"allowed":false,"reason":"expired"`, `"allowed":true,"reason":"expired"`), "[0].extensions.tact.allowed"},
		{"seq past the checkpoint", edit(`"seq":1,`, `"seq":99,`), "[0].events[0].extensions.tact.seq"},
		{"purpose not the record's", edit(`"purpose":"personalize","action"`, `"purpose":"marketing","action"`), "[0].events[0].extensions.tact.purpose"},
		{"derived refusal", edit(`"action":"grant","source":"user","actor":"self","channel":"web","policy_version":2,"derived":true`,
			`"action":"deny","source":"user","actor":"self","channel":"web","policy_version":2,"derived":true`), "[0].events[1].extensions.tact"},
		{"out of order", string(swappedJSON), "[0].events[0].extensions.tact"},
		{"no events", string(noEventsJSON), "[0].events"},
		{"two purposes", string(twoPurposesJSON), "[0].processing.purposes"},
	} {
		_, err := consent.DecodeISO27560([]byte(tt.doc))
		assertISOError(t, err, tt.name)
		if tt.path != "" {
			var ie *consent.ISOError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.path, ie.Path, "%s: %v", tt.name, err)
		}
	}
	// The empty list is a valid document: a subject with nothing on record.
	got, err := consent.DecodeISO27560([]byte(`[]`))
	require.NoError(t, err)
	assert.Empty(t, got)
}

// TestISO27560Properties checks, over random histories, that the events of
// every record are the subject's ledger records that decide its purpose,
// in ledger order, with the state their action means; that the derived
// expiries and the states of the events say, at every moment, what the
// Gate decides from the records made up to then; and that the records
// decode back to themselves.
//
// The oracle for "the records that decide the purpose" is written for the
// retail policy, whose purposes are at most two levels deep: every refusal
// of the purpose or its parent; every grant of the purpose itself; a grant
// of the parent unless the purpose rests on explicit consent, or its own
// latest record is a refusal.
func TestISO27560Properties(t *testing.T) {
	pol := consenttest.RetailPolicy()
	specs := map[consent.Purpose]consent.PurposeSpec{}
	var refusable []consent.Purpose
	for _, s := range pol.Purposes {
		specs[s.Purpose] = s
		if s.Basis.NeedsConsent() || s.Basis == consent.BasisLegitimateInterest {
			refusable = append(refusable, s.Purpose)
		}
		require.LessOrEqual(t, s.Purpose.Depth(), 2, "the oracle below is for two levels")
	}
	stateOf := map[consent.Action]string{consent.Grant: consent.DPVConsentGiven, consent.Deny: consent.DPVConsentRefused, consent.Withdraw: consent.DPVConsentWithdrawn}
	rng := rand.New(rand.NewPCG(27560, 1))
	iterations := 250
	if testing.Short() {
		iterations = 60
	}
	var derived, lifted, skipped int // coverage of the interesting cases
	for it := range iterations {
		g, err := consent.NewGate(pol, consent.NewMemoryStore(), consent.GateConfig{Rand: consenttest.Rand(uint64(it))})
		require.NoError(t, err)
		// A family of purposes, so that grants and refusals of a purpose
		// and its parent interleave.
		root := refusable[rng.IntN(len(refusable))]
		if p := root.Parent(); p != "" {
			root = p
		}
		var pool []consent.Purpose
		for _, p := range refusable {
			if root.Covers(p) {
				pool = append(pool, p)
			}
		}
		n := rng.IntN(9)
		ages := make([]time.Duration, n)
		for i := range ages {
			ages[i] = time.Duration(rng.IntN(3*365*24)) * time.Hour
		}
		slices.SortFunc(ages, func(a, b time.Duration) int { return cmp.Compare(b, a) })
		for _, age := range ages {
			at := now.Add(-age)
			if rng.IntN(8) == 0 {
				_, err := g.Decide(ctx, "s", pool[rng.IntN(len(pool))], at, consent.Signals{GPC: true})
				require.NoError(t, err)
				continue
			}
			p := pool[rng.IntN(len(pool))]
			a := consent.Action(1 + rng.IntN(3))
			if specs[p].Basis == consent.BasisLegitimateInterest && a == consent.Grant && rng.IntN(2) == 0 {
				a = consent.Deny // lifting an objection, half as often
			}
			e := ev(a, "s", p, at)
			if rng.IntN(6) == 0 {
				e.Actor = consent.ActorGuardian
			}
			record(t, g, e)
		}
		access, err := g.Access(ctx, "s", now)
		require.NoError(t, err)
		recs, b := exportISO(t, g, "s", now)
		back, err := consent.DecodeISO27560(b)
		require.NoError(t, err)
		if len(recs) > 0 {
			require.Equal(t, recs, back, "round trip")
		}
		byPurpose := map[consent.Purpose]*consent.ISORecord{}
		for i := range recs {
			byPurpose[recs[i].Extensions.Tact.Purpose] = &recs[i]
		}

		for _, p := range refusable {
			spec := specs[p]
			// The oracle's events.
			var want []consent.Record
			var own *consent.Record // the latest record of p itself
			for i := range access.Records {
				r := access.Records[i]
				if !r.Purpose.Covers(p) {
					continue
				}
				switch {
				case r.Action != consent.Grant || r.Purpose == p:
					want = append(want, r)
				case spec.Basis != consent.BasisExplicitConsent && (own == nil || own.Action == consent.Grant):
					if spec.Basis == consent.BasisLegitimateInterest && len(want) > 0 && want[len(want)-1].Action != consent.Grant {
						lifted++ // the parent's grant ends an objection through the parent
					}
					want = append(want, r)
				default:
					skipped++
				}
				if r.Purpose == p {
					own = &access.Records[i]
				}
			}
			got := byPurpose[p]
			if len(want) == 0 {
				require.Nil(t, got, "%s has a record but nothing decides it", p)
				continue
			}
			require.NotNil(t, got, "%s: no record", p)
			var ledger []consent.ISOEvent
			for _, e := range got.Events {
				if !e.Extensions.Tact.Derived {
					ledger = append(ledger, e)
				}
			}
			require.Len(t, ledger, len(want), "%s: the events are the records that decide it", p)
			for i, r := range want {
				e := ledger[i]
				x := e.Extensions.Tact
				require.Equal(t, consent.ISOLedgerEvent{Seq: r.Seq, Hash: r.Hash, Purpose: r.Purpose, Action: r.Action, Source: r.Source,
					Actor: r.Actor, Channel: r.Channel, PolicyVersion: r.PolicyVersion}, x, "%s: event %d is record %d", p, i, r.Seq)
				require.Equal(t, stateOf[r.Action], e.State, "%s: the state is the action's", p)
				require.Equal(t, r.At, e.Time)
			}

			// The states over time against the Gate, replaying the history
			// into a fresh Gate one record at a time. At each moment the
			// latest event at or before it says whether the purpose is
			// allowed: Given for a consent, anything but a refusal for a
			// legitimate interest.
			replay, err := consent.NewGate(pol, consent.NewMemoryStore(), consent.GateConfig{})
			require.NoError(t, err)
			stateAt := func(at time.Time) string {
				s := ""
				for _, e := range got.Events {
					if !e.Time.After(at) {
						s = e.State
					}
				}
				return s
			}
			for k, r := range access.Records {
				record(t, replay, r.Event)
				// The moments up to the next record (up to and with now,
				// after the last).
				end, last := now, k+1 == len(access.Records)
				if !last {
					end = access.Records[k+1].At
				}
				in := func(at time.Time) bool { return !at.Before(r.At) && (at.Before(end) || last && at.Equal(end)) }
				times := []time.Time{r.At, r.At.Add(end.Sub(r.At) / 2), end.Add(-time.Nanosecond), end}
				for _, e := range got.Events {
					if e.Extensions.Tact.Derived {
						times = append(times, e.Time.Add(-time.Nanosecond), e.Time)
					}
				}
				for _, at := range times {
					if !in(at) {
						continue
					}
					d := decide(t, replay, "s", p, at, consent.Signals{})
					state := stateAt(at)
					given := state == consent.DPVConsentGiven
					if spec.Basis == consent.BasisLegitimateInterest {
						given = state != consent.DPVConsentRefused && state != consent.DPVConsentWithdrawn
					}
					require.Equal(t, d.Allowed, given, "%s at %s after record %d: the Gate says %s, the events %q\n%s",
						p, at, r.Seq, d.Reason, state, b)
				}
			}
			// Derived events are expiries of grants listed before them,
			// at the end of the lifetime the grant's validity states.
			for i, e := range got.Events {
				x := e.Extensions.Tact
				if !x.Derived {
					continue
				}
				derived++
				require.Equal(t, consent.DPVConsentExpired, e.State)
				j := slices.IndexFunc(got.Events[:i], func(f consent.ISOEvent) bool {
					return !f.Extensions.Tact.Derived && f.Extensions.Tact.Seq == x.Seq
				})
				require.GreaterOrEqual(t, j, 0, "%s: an expiry follows from a grant listed before it", p)
				g := got.Events[j]
				require.Equal(t, consent.DPVConsentGiven, g.State)
				var days int // the retail policy's lifetimes are whole days
				_, err := fmt.Sscanf(g.ValidityDuration, "P%dD", &days)
				require.NoError(t, err, g.ValidityDuration)
				require.Equal(t, g.Time.Add(time.Duration(days)*day), e.Time, "%s: expires a lifetime after the grant", p)
				require.False(t, e.Time.After(now), "no expiry after the time of the export")
			}
			for i := 1; i < len(got.Events); i++ {
				require.False(t, got.Events[i].Time.Before(got.Events[i-1].Time), "%s: events in time order", p)
			}
		}
	}
	t.Logf("derived expiries %d, objections lifted by a parent's grant %d, grants not listed %d", derived, lifted, skipped)
	assert.Positive(t, derived, "the generator must reach expiries")
	assert.Positive(t, lifted, "the generator must reach a lifted objection")
	assert.Positive(t, skipped, "the generator must reach grants that do not decide a purpose")
}

func FuzzDecodeISO27560(f *testing.F) {
	_, valid := exportISO(f, isoGate(f), "ana", now)
	f.Add(valid)
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{}]`))
	f.Add(bytes.Replace(valid, []byte(`"dpv:ConsentGiven"`), []byte(`"dpv:ConsentRefused"`), 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := consent.DecodeISO27560(data)
		if err != nil {
			var ie *consent.ISOError
			if !errors.As(err, &ie) || !errors.Is(err, consent.ErrInvalidISORecord) {
				t.Fatalf("error %v is not an *ISOError", err)
			}
			return
		}
		b, err := json.Marshal(recs)
		if err != nil {
			t.Fatal(err)
		}
		again, err := consent.DecodeISO27560(b)
		if err != nil {
			t.Fatalf("re-encoded records do not decode: %v", err)
		}
		if len(recs) > 0 && !assert.ObjectsAreEqual(recs, again) {
			t.Fatalf("decode(encode(decode(x))) != decode(x)")
		}
	})
}

// A shopper's consent records in the structure of ISO/IEC TS 27560, with
// W3C DPV terms: one record per purpose the shopper's choices decide, each
// event tied to its ledger record by sequence number and hash.
func ExampleGate_ISO27560() {
	ctx := context.Background()
	policy := consenttest.RetailPolicy()
	policy.Jurisdiction, policy.StorageLocations = "IE", []string{"EU"}
	gate, _ := consent.NewGate(policy, consent.NewMemoryStore(), consent.GateConfig{})
	now := consenttest.Now()
	gate.Record(ctx, consent.Event{Action: consent.Grant, Subject: "shopper-42", Purpose: consent.PurposeMarketingEmail,
		At: now.Add(-800 * 24 * time.Hour), Channel: consent.ChannelWeb}) // two years ago and more
	gate.Record(ctx, consent.Event{Action: consent.Grant, Subject: "shopper-42", Purpose: consent.PurposeSharingPartners,
		At: now.Add(-48 * time.Hour), Channel: consent.ChannelApp})
	gate.Record(ctx, consent.Event{Action: consent.Withdraw, Subject: "shopper-42", Purpose: consent.PurposeSharing,
		At: now.Add(-24 * time.Hour), Channel: consent.ChannelEmail})

	records, err := gate.ISO27560(ctx, "shopper-42", now)
	if err != nil {
		panic(err)
	}
	for _, r := range records {
		p := r.Processing.Purposes[0]
		fmt.Println(r.Extensions.Tact.Purpose, p.LawfulBasis, p.Jurisdiction, p.StorageLocations, "retention", p.RetentionPeriod)
		for _, e := range r.Events {
			x := e.Extensions.Tact
			fmt.Println("  ", e.Time.Format(time.DateOnly), e.State, e.ValidityDuration, "by", e.EntityID, "| ledger", x.Seq, x.Action, x.Purpose)
		}
		fmt.Println("   now:", r.Extensions.Tact.Reason)
	}

	// The JSON uses the standard's field names; DecodeISO27560 reads it
	// back and checks it against the field list.
	b, _ := json.Marshal(records)
	back, err := consent.DecodeISO27560(b)
	fmt.Println(len(back), err)
	// Output:
	// marketing.email dpv:Consent IE [EU] retention P730D
	//    2023-03-24 dpv:ConsentGiven P730D by shopper-42 | ledger 1 grant marketing.email
	//    2025-03-23 dpv:ConsentExpired P0D by Acme Outfitters | ledger 1 grant marketing.email
	//    now: expired
	// sharing dpv:Consent IE [EU] retention P0D
	//    2025-05-31 dpv:ConsentWithdrawn P0D by shopper-42 | ledger 3 withdraw sharing
	//    now: withdrawn
	// sharing.partners dpv:Consent IE [EU] retention P365D
	//    2025-05-30 dpv:ConsentGiven P365D by shopper-42 | ledger 2 grant sharing.partners
	//    2025-05-31 dpv:ConsentWithdrawn P0D by shopper-42 | ledger 3 withdraw sharing
	//    now: withdrawn
	// 3 <nil>
}
