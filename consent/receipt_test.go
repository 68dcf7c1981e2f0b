package consent_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
)

func TestReceiptText(t *testing.T) {
	g, _ := newGate(t, consent.GateConfig{})
	gr := record(t, g, consent.Event{Action: consent.Grant, Subject: subj, Purpose: consent.PurposePersonalizeHistory,
		At: now.Add(-10 * day), Channel: consent.ChannelApp})
	w := record(t, g, consent.Event{Action: consent.Withdraw, Subject: subj, Purpose: consent.PurposeMarketingEmail,
		At: now.Add(-2 * day), Channel: consent.ChannelEmail})
	rc, err := g.Receipt(ctx, subj, now)
	require.NoError(t, err)
	require.Len(t, rc.Items, 2)
	text := rc.Text()
	for _, want := range []string{
		"Your privacy choices with Acme Outfitters\nAs of 1 June 2025.",
		"On\n• Recommendations from what you bought and browsed\n",
		"  What you get: recommendations that fit your training, without repeats of what you own\n",
		"  Uses what you bought and what you looked at.\n",
		"  You agreed on 22 May 2025 in our app. Until 22 May 2026, unless you turn it off.\n",
		"Off\n• Offers by email. You turned it off on 30 May 2025.\n",
		"To change your mind: open Account > Privacy in the app or at acme.example/privacy, or reply STOP to any email. It takes effect at once.",
		"Questions: privacy@acme.example",
		"Proof: records 1 and 2 of our consent ledger, receipt " + rc.ID[:12] + ".",
	} {
		assert.Contains(t, text, want)
	}
	// The proof is there but not in the way: no hashes, no keys.
	for _, not := range []string{gr.Hash.String()[:12], w.Hash.String()[:12], "personalize.history", "user.behavior", "marketing.email", subj} {
		assert.NotContains(t, text, not)
	}
	assert.LessOrEqual(t, strings.Count(text, "\n"), 20, "one screen")

	de := consent.NewCatalog().Receipt("de", &rc)
	for _, want := range []string{
		"Ihre Datenschutz-Einstellungen bei Acme Outfitters\nStand: 1. Juni 2025.",
		"Genutzte Daten: was Sie gekauft haben und was Sie sich angesehen haben.",
		"Sie haben am 22. Mai 2025 in unserer App eingewilligt. Bis zum 22. Mai 2026, wenn Sie es nicht vorher ausschalten.",
		"Sie haben es am 30. Mai 2025 ausgeschaltet.",
		"Die Änderung gilt sofort.",
	} {
		assert.Contains(t, de, want)
	}
	assert.NotContains(t, text, "Offers by post", "only purposes the person acted on")

	again, err := g.Receipt(ctx, subj, now)
	require.NoError(t, err)
	assert.Equal(t, rc.ID, again.ID, "the same state gives the same receipt id")
	record(t, g, ev(consent.Grant, subj, consent.PurposeSharing, now))
	changed, err := g.Receipt(ctx, subj, now)
	require.NoError(t, err)
	assert.NotEqual(t, rc.ID, changed.ID)
}

func TestReceiptStates(t *testing.T) {
	g := consenttest.NewGate(t, consent.GateConfig{})
	rc, err := g.Receipt(ctx, consenttest.SubjectNew, now)
	require.NoError(t, err)
	assert.Empty(t, rc.Items)
	assert.Contains(t, rc.Text(), "You have not made any choices yet.")

	rc, err = g.Receipt(ctx, consenttest.SubjectExpired, now)
	require.NoError(t, err)
	assert.Contains(t, rc.Text(), "No longer in effect\n• ")
	assert.Contains(t, rc.Text(), ", but your consent has expired.")

	rc, err = g.Receipt(ctx, consenttest.SubjectGranted, now)
	require.NoError(t, err)
	assert.Regexp(t, `as part of “[^”]+”`, rc.Text(), "a child allowed by its parent's grant says so")

	_, err = g.Decide(ctx, consenttest.SubjectGPC, consent.PurposeAdvertising, now, consent.Signals{GPC: true})
	require.NoError(t, err)
	rc, err = g.Receipt(ctx, consenttest.SubjectGPC, now)
	require.NoError(t, err)
	assert.Contains(t, rc.Text(), "by your browser's Global Privacy Control signal")
}

func TestReceiptJSON(t *testing.T) {
	g := consenttest.NewGate(t, consent.GateConfig{})
	rc, err := g.Receipt(ctx, consenttest.SubjectGranted, now)
	require.NoError(t, err)
	b, err := json.Marshal(rc)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	// Kantara Consent Receipt v1.1 fields.
	for _, k := range []string{"version", "jurisdiction", "consentTimestamp", "collectionMethod", "consentReceiptID",
		"language", "piiPrincipalId", "piiControllers", "policyUrl", "services", "sensitive", "spiCat"} {
		assert.Contains(t, m, k)
	}
	assert.Equal(t, "KI-CR-v1.1.0", m["version"])
	assert.Equal(t, consenttest.SubjectGranted, m["piiPrincipalId"])
	assert.Equal(t, rc.ID, m["consentReceiptID"])
	assert.Equal(t, float64(now.Unix()), m["consentTimestamp"])
	assert.Equal(t, true, m["sensitive"], "the wellness purpose uses health data")
	assert.Equal(t, []any{"user.health"}, m["spiCat"])
	services := m["services"].([]any)
	purposes := services[0].(map[string]any)["purposes"].([]any)
	require.Len(t, purposes, len(rc.Items))
	var wellness map[string]any
	for _, p := range purposes {
		pm := p.(map[string]any)
		for _, k := range []string{"purpose", "purposeCategory", "consentType", "piiCategory", "primaryPurpose", "termination",
			"thirdPartyDisclosure", "legalBasis", "benefit", "status", "eventTime", "recordSeq", "recordHash"} {
			assert.Contains(t, pm, k)
		}
		if pm["purposeCategory"].([]any)[0] == string(consenttest.PurposeWellness) {
			wellness = pm
		}
	}
	require.NotNil(t, wellness)
	assert.Equal(t, "EXPLICIT", wellness["consentType"])
	assert.Equal(t, "explicit_consent", wellness["legalBasis"])
	assert.Equal(t, "granted", wellness["status"])
	assert.True(t, strings.HasPrefix(wellness["termination"].(string), "expires "))

	// The receipt carries the full record, which proves it the person's even
	// after erasure.
	rec := wellness["record"].(map[string]any)
	b, err = json.Marshal(rec)
	require.NoError(t, err)
	var kept consent.Record
	require.NoError(t, json.Unmarshal(b, &kept))
	_, err = g.Erase(ctx, consenttest.SubjectGranted, now)
	require.NoError(t, err)
	var ledger bytes.Buffer
	_, err = g.ExportLedger(ctx, &ledger)
	require.NoError(t, err)
	lines := strings.Split(ledger.String(), "\n")
	var tomb consent.Record
	require.NoError(t, json.Unmarshal([]byte(lines[kept.Seq-1]), &tomb))
	assert.True(t, tomb.Erased)
	assert.Equal(t, kept.Tombstone(), tomb, "the kept record matches its tombstone")
	assert.NotContains(t, ledger.String(), consenttest.SubjectGranted)
}

// The Kantara receipt names the language of the policy's text and the
// jurisdiction the policy declares, not a fixed "en" and the regime.
func TestReceiptJSONLanguageAndJurisdiction(t *testing.T) {
	for _, tc := range []struct{ lang, jur, wantLang, wantJur string }{
		{"", "", "en", consent.GDPR.String()},
		{"de-DE", "DE", "de-DE", "DE"},
		{"pt-BR", "", "pt-BR", consent.GDPR.String()},
	} {
		pol := consenttest.RetailPolicy()
		pol.Language, pol.Jurisdiction = tc.lang, tc.jur
		g, err := consent.NewGate(pol, consent.NewMemoryStore(), consent.GateConfig{Regime: consent.GDPR, Rand: consenttest.Rand(1)})
		require.NoError(t, err)
		record(t, g, ev(consent.Grant, "ana", consent.PurposeSharing, now))
		rc, err := g.Receipt(ctx, "ana", now)
		require.NoError(t, err)
		assert.Equal(t, tc.wantLang, rc.Language)
		b, err := json.Marshal(rc)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		assert.Equal(t, tc.wantLang, m["language"], "policy language %q", tc.lang)
		assert.Equal(t, tc.wantJur, m["jurisdiction"], "policy jurisdiction %q", tc.jur)
	}
}
