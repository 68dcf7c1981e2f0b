package consent_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
)

func TestPolicyValidate(t *testing.T) {
	// spec returns the index of purpose p in the retail policy.
	idx := func(p *consent.Policy, purpose consent.Purpose) int {
		for i := range p.Purposes {
			if p.Purposes[i].Purpose == purpose {
				return i
			}
		}
		t.Fatalf("no purpose %s", purpose)
		return -1
	}
	H := consent.PurposePersonalizeHistory
	tests := []struct {
		name, reason string
		mut          func(p *consent.Policy)
		purpose      consent.Purpose // the purpose the error must name
		field        string
	}{
		{"version 0", "versions start at 1", func(p *consent.Policy) { p.Version = 0 }, "", "version"},
		{"no controller", "receipts name who is responsible", func(p *consent.Policy) { p.Controller = "" }, "", "controller"},
		{"no contact", "people must be able to reach the controller", func(p *consent.Policy) { p.Contact = "" }, "", "contact"},
		{"no withdraw", "receipts say how to withdraw", func(p *consent.Policy) { p.Withdraw = "" }, "", "withdraw"},
		{"long text", "text stays readable", func(p *consent.Policy) { p.Withdraw = strings.Repeat("w", consent.MaxTextLen+1) }, "", "withdraw"},
		{"bad utf-8", "text must encode", func(p *consent.Policy) { p.Controller = "\xff" }, "", "controller"},
		{"no purposes", "a policy says what it does", func(p *consent.Policy) { p.Purposes = nil }, "", "purposes"},
		{"malformed purpose", "keys are checked", func(p *consent.Policy) { p.Purposes[0].Purpose = "Service" }, "Service", "purpose"},
		{"duplicate purpose", "one declaration per purpose", func(p *consent.Policy) { p.Purposes[1].Purpose = consent.PurposeService }, consent.PurposeService, "purpose"},
		{"undeclared parent", "a child needs its parent", func(p *consent.Policy) { p.Purposes[idx(p, consent.PurposeMarketing)].Purpose = "promotions" }, consent.PurposeMarketingEmail, "purpose"},
		{"purpose version 0", "versions start at 1", func(p *consent.Policy) { p.Purposes[idx(p, H)].Version = 0 }, H, "version"},
		{"purpose version ahead", "a purpose cannot change after the policy", func(p *consent.Policy) { p.Purposes[idx(p, H)].Version = 3 }, H, "version"},
		{"no description", "people must read what it does", func(p *consent.Policy) { p.Purposes[idx(p, H)].Description = "" }, H, "description"},
		{"no benefit", "consent needs a value exchange", func(p *consent.Policy) { p.Purposes[idx(p, H)].Benefit = "" }, H, "benefit"},
		{"unknown basis", "the zero basis is not a basis", func(p *consent.Policy) { p.Purposes[idx(p, H)].Basis = consent.BasisUnknown }, H, "basis"},
		{"basis out of range", "no such basis", func(p *consent.Policy) { p.Purposes[idx(p, H)].Basis = 99 }, H, "basis"},
		{"no lifetime", "consent has a lifetime", func(p *consent.Policy) { p.Purposes[idx(p, H)].Lifetime = 0 }, H, "lifetime"},
		{"negative lifetime", "durations are positive", func(p *consent.Policy) { p.Purposes[idx(p, H)].Lifetime = -time.Hour }, H, "lifetime"},
		{"lifetime on contract", "only consent expires", func(p *consent.Policy) { p.Purposes[0].Lifetime = time.Hour }, consent.PurposeService, "lifetime"},
		{"no retention", "data kept says for how long", func(p *consent.Policy) { p.Purposes[idx(p, H)].Retention = 0 }, H, "retention"},
		{"negative retention", "durations are positive", func(p *consent.Policy) { p.Purposes[0].Retention = -1 }, consent.PurposeService, "retention"},
		{"malformed category", "keys are checked", func(p *consent.Policy) { p.Purposes[idx(p, H)].Categories[0] = "user..x" }, H, "categories"},
		{"duplicate category", "listed once", func(p *consent.Policy) {
			s := &p.Purposes[idx(p, H)]
			s.Categories = append(s.Categories, s.Categories[0])
		}, H, "categories"},
		{"sensitive on consent", "sensitive data needs explicit consent (GDPR Art. 9)", func(p *consent.Policy) {
			s := &p.Purposes[idx(p, H)]
			s.Categories = append(s.Categories, consent.CategoryHealth)
		}, H, "basis"},
		{"sensitive descendant on consent", "descendants of sensitive categories are sensitive", func(p *consent.Policy) {
			s := &p.Purposes[idx(p, H)]
			s.Categories = append(s.Categories, "user.location.precise.gps")
		}, H, "basis"},
		{"sensitive on legitimate interest", "not even a legitimate interest", func(p *consent.Policy) {
			s := &p.Purposes[idx(p, consent.PurposeAnalyticsAggregate)]
			s.Categories = append(s.Categories, consent.CategoryBiometric)
		}, consent.PurposeAnalyticsAggregate, "basis"},
		{"sensitive on contract", "not even for the service", func(p *consent.Policy) {
			s := &p.Purposes[idx(p, consent.PurposeServiceCheckout)]
			s.Categories = append(s.Categories, consent.CategoryFinancialAccount)
		}, consent.PurposeServiceCheckout, "basis"},
		{"sale on contract", "people can refuse a sale", func(p *consent.Policy) { p.Purposes[idx(p, consent.PurposeServiceCheckout)].SaleOrShare = true }, consent.PurposeServiceCheckout, "sale_or_share"},
		{"marketing on legal obligation", "people can refuse marketing", func(p *consent.Policy) {
			p.Purposes[idx(p, consent.PurposeLegalObligation)].DirectMarketing = true
		}, consent.PurposeLegalObligation, "direct_marketing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := consenttest.RetailPolicy()
			tt.mut(p)
			err := p.Validate()
			require.ErrorIs(t, err, consent.ErrInvalidPolicy, tt.reason)
			var pe *consent.PolicyError
			require.True(t, errors.As(err, &pe))
			assert.Equal(t, tt.purpose, pe.Purpose, "the error names the purpose: %v", err)
			assert.Equal(t, tt.field, pe.Field, "%v", err)
			if tt.purpose != "" {
				assert.Contains(t, err.Error(), string(tt.purpose))
			}
			_, err = consent.NewGate(p, consent.NewMemoryStore(), consent.GateConfig{})
			require.ErrorIs(t, err, consent.ErrInvalidPolicy, "NewGate validates")
		})
	}
	require.NoError(t, consenttest.RetailPolicy().Validate())
	var nilPolicy *consent.Policy
	require.ErrorIs(t, nilPolicy.Validate(), consent.ErrInvalidPolicy)
	pe := consenttest.RetailPolicy()
	pe.Purposes[0].Purpose = "Bad"
	require.ErrorIs(t, pe.Validate(), consent.ErrMalformedKey, "the key error is wrapped too")
}

func TestPolicyJSON(t *testing.T) {
	p := consenttest.RetailPolicy()
	b, err := json.MarshalIndent(p, "", "  ")
	require.NoError(t, err)
	s := string(b)
	assert.Contains(t, s, `"lifetime": "8760h0m0s"`)
	assert.Contains(t, s, `"basis": "explicit_consent"`)
	assert.Contains(t, s, `"sale_or_share": true`)
	q, err := consent.DecodePolicy(b)
	require.NoError(t, err)
	assert.Equal(t, p, q, "decode(encode(p)) == p")

	spec, ok := q.Spec(consenttest.PurposeWellness)
	require.True(t, ok)
	assert.True(t, spec.Sensitive())
	spec.Categories[0] = "changed"
	again, _ := q.Spec(consenttest.PurposeWellness)
	assert.Equal(t, consent.CategoryHealth, again.Categories[0], "Spec returns a copy")
	_, ok = q.Spec("nope")
	assert.False(t, ok)
	var none *consent.Policy
	assert.NotPanics(t, func() {
		_, ok = none.Spec(consent.PurposeMarketing)
		assert.False(t, ok, "a nil policy declares nothing")
		assert.Nil(t, none.Clone())
	})

	hand := `{"version":1,"controller":"Shop","contact":"a@b.example","withdraw":"Settings",
	  "purposes":[{"purpose":"marketing","version":1,"description":"News","benefit":"Deals","basis":"consent","lifetime":"720h"}]}`
	_, err = consent.DecodePolicy([]byte(hand))
	require.NoError(t, err)
	for _, tt := range []struct{ name, doc string }{
		{"empty", ``},
		{"not json", `policy`},
		{"array", `[]`},
		{"unknown field", `{"version":1,"owner":"x"}`},
		{"unknown purpose field", strings.Replace(hand, `"basis"`, `"legal":"x","basis"`, 1)},
		{"trailing data", hand + `{}`},
		{"bad basis", strings.Replace(hand, `"consent"`, `"vibes"`, 1)},
		{"bad duration", strings.Replace(hand, `720h`, `a month`, 1)},
		{"invalid", strings.Replace(hand, `"benefit":"Deals",`, ``, 1)},
		{"huge", `{"controller":"` + strings.Repeat("x", consent.MaxPolicySize) + `"}`},
	} {
		_, err := consent.DecodePolicy([]byte(tt.doc))
		require.ErrorIs(t, err, consent.ErrInvalidPolicy, tt.name)
	}
}

func TestBasisText(t *testing.T) {
	for b := consent.BasisConsent; b <= consent.BasisLegitimateInterest; b++ {
		got, err := consent.ParseBasis(b.String())
		require.NoError(t, err)
		assert.Equal(t, b, got)
	}
	_, err := consent.ParseBasis("unknown")
	require.ErrorIs(t, err, consent.ErrInvalidPolicy)
	assert.Equal(t, "unknown", consent.Basis(200).String())
	assert.False(t, consent.BasisContract.NeedsConsent())
	assert.True(t, consent.BasisExplicitConsent.NeedsConsent())
}

func TestReasonText(t *testing.T) {
	seen := map[string]bool{}
	for r := consent.ReasonUnknown; r <= consent.ReasonLegitimateInterest; r++ {
		assert.NotEmpty(t, r.Text())
		assert.False(t, seen[r.String()], "codes are distinct: %s", r)
		seen[r.String()] = true
		code, err := r.MarshalText()
		require.NoError(t, err)
		var back consent.Reason
		require.NoError(t, back.UnmarshalText(code))
		assert.Equal(t, r, back, "codes round-trip")
	}
	for r := consent.RegimeDefault; r <= consent.CPRA; r++ {
		code, err := r.MarshalText()
		require.NoError(t, err)
		var back consent.Regime
		require.NoError(t, back.UnmarshalText(code))
		assert.Equal(t, r, back, "regime names round-trip")
	}
	assert.Equal(t, "unknown", consent.Reason(250).String())
	d := consent.Decision{Purpose: consent.PurposePersonalizeHistory, Reason: consent.ReasonWithdrawn}
	assert.Equal(t, "personalize.history is not allowed: you withdrew your consent", d.Explain())
}
