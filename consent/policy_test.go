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
		{"long address", "text stays readable", func(p *consent.Policy) { p.Address = strings.Repeat("a", consent.MaxTextLen+1) }, "", "address"},
		{"address not utf-8", "text must encode", func(p *consent.Policy) { p.Address = "Rua \xff" }, "", "address"},
		{"language not a tag", "27560 records carry a BCP 47 tag", func(p *consent.Policy) { p.Language = "English" + "!" }, "", "language"},
		{"language with a space", "a tag has no spaces", func(p *consent.Policy) { p.Language = "pt BR" }, "", "language"},
		{"language subtag too long", "subtags have at most 8 characters", func(p *consent.Policy) { p.Language = "en-abcdefghi" }, "", "language"},
		{"jurisdiction lower case", "ISO 3166 codes are upper case", func(p *consent.Policy) { p.Jurisdiction = "eu" }, "", "jurisdiction"},
		{"jurisdiction a name", "a code, not a name", func(p *consent.Policy) { p.Jurisdiction = "Brazil" }, "", "jurisdiction"},
		{"jurisdiction bad subdivision", "subdivisions have 1 to 3 characters", func(p *consent.Policy) { p.Jurisdiction = "US-CALI" }, "", "jurisdiction"},
		{"jurisdiction not utf-8", "text must encode", func(p *consent.Policy) { p.Jurisdiction = "\xff" }, "", "jurisdiction"},
		{"storage location a name", "locations are codes", func(p *consent.Policy) { p.StorageLocations = []string{"EU", "Frankfurt"} }, "", "storage_locations"},
		{"storage location empty", "an empty entry says nothing", func(p *consent.Policy) { p.StorageLocations = []string{""} }, "", "storage_locations"},
		{"storage location repeated", "listed once", func(p *consent.Policy) { p.StorageLocations = []string{"EU", "US", "EU"} }, "", "storage_locations"},
		{"recipient empty", "an empty entry says nothing", func(p *consent.Policy) {
			p.Purposes[idx(p, consent.PurposeSharingPartners)].Recipients = []string{"Gym Co", ""}
		}, consent.PurposeSharingPartners, "recipients"},
		{"recipient too long", "text stays readable", func(p *consent.Policy) {
			p.Purposes[idx(p, consent.PurposeSharingPartners)].Recipients = []string{strings.Repeat("r", consent.MaxTextLen+1)}
		}, consent.PurposeSharingPartners, "recipients"},
		{"recipient not utf-8", "text must encode", func(p *consent.Policy) {
			p.Purposes[idx(p, consent.PurposeSharingPartners)].Recipients = []string{"Gym \xff"}
		}, consent.PurposeSharingPartners, "recipients"},
		{"recipient repeated", "listed once", func(p *consent.Policy) {
			p.Purposes[idx(p, consent.PurposeSharingPartners)].Recipients = []string{"Gym Co", "Gym Co"}
		}, consent.PurposeSharingPartners, "recipients"},
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

// controllerPolicy is the retail policy with every controller field and
// recipients set.
func controllerPolicy() *consent.Policy {
	p := consenttest.RetailPolicy()
	p.Address = "1 Harbour Road, Dublin, Ireland"
	p.Language = "en-IE"
	p.Jurisdiction = "EU"
	p.StorageLocations = []string{"IE", "DE"}
	for i := range p.Purposes {
		if p.Purposes[i].Purpose == consent.PurposeSharingPartners {
			p.Purposes[i].Recipients = []string{"Gym Partners Ltd", "FitClub GmbH"}
		}
	}
	return p
}

// TestPolicyControllerFields checks the controller fields ISO/IEC TS 27560
// records need: valid values are accepted, they survive JSON and Clone,
// and older policies without them still decode.
func TestPolicyControllerFields(t *testing.T) {
	for _, tt := range []struct {
		name, lang, juris string
		locs              []string
	}{
		{"plain", "en", "BR", []string{"BR"}},
		{"region", "pt-BR", "US-CA", []string{"US", "EU"}},
		{"script and region", "zh-Hant-TW", "EU", nil},
		{"three-letter language", "gsw", "CH-ZH", []string{"CH"}},
		{"defaults", "", "", nil},
	} {
		p := consenttest.RetailPolicy()
		p.Language, p.Jurisdiction, p.StorageLocations = tt.lang, tt.juris, tt.locs
		require.NoError(t, p.Validate(), tt.name)
	}

	p := controllerPolicy()
	require.NoError(t, p.Validate())
	b, err := json.Marshal(p)
	require.NoError(t, err)
	for _, frag := range []string{`"address":"1 Harbour Road, Dublin, Ireland"`, `"language":"en-IE"`, `"jurisdiction":"EU"`,
		`"storage_locations":["IE","DE"]`, `"recipients":["Gym Partners Ltd","FitClub GmbH"]`} {
		assert.Contains(t, string(b), frag)
	}
	q, err := consent.DecodePolicy(b)
	require.NoError(t, err)
	assert.Equal(t, p, q, "decode(encode(p)) == p")

	c := p.Clone()
	c.StorageLocations[0] = "US"
	c.Purposes[idx(t, c, consent.PurposeSharingPartners)].Recipients[0] = "Someone Else"
	assert.Equal(t, "IE", p.StorageLocations[0], "Clone copies storage locations")
	assert.Equal(t, "Gym Partners Ltd", p.Purposes[idx(t, p, consent.PurposeSharingPartners)].Recipients[0], "Clone copies recipients")
	spec, _ := p.Spec(consent.PurposeSharingPartners)
	spec.Recipients[0] = "Someone Else"
	assert.Equal(t, "Gym Partners Ltd", p.Purposes[idx(t, p, consent.PurposeSharingPartners)].Recipients[0], "Spec returns a copy")

	// A policy written before these fields existed encodes as it did.
	old, err := json.Marshal(consenttest.RetailPolicy())
	require.NoError(t, err)
	for _, k := range []string{`"address"`, `"language"`, `"jurisdiction"`, `"storage_locations"`, `"recipients"`} {
		assert.NotContains(t, string(old), k, "new fields are omitted when empty")
	}

	// Decoding stays strict about the new fields too.
	for _, tt := range []struct{ name, doc, field string }{
		{"repeated jurisdiction", strings.Replace(string(b), `"jurisdiction":"EU"`, `"jurisdiction":"EU","jurisdiction":"US"`, 1), "json"},
		{"repeated recipients", strings.Replace(string(b), `"recipients":`, `"recipients":[],"Recipients":`, 1), "json"},
		{"unknown field", strings.Replace(string(b), `"jurisdiction"`, `"jurisdictions":["EU"],"jurisdiction"`, 1), ""},
		{"locations not a list", strings.Replace(string(b), `["IE","DE"]`, `"IE"`, 1), ""},
		{"invalid location", strings.Replace(string(b), `["IE","DE"]`, `["Ireland"]`, 1), "storage_locations"},
		{"invalid recipient", strings.Replace(string(b), `"Gym Partners Ltd",`, `"",`, 1), "recipients"},
	} {
		_, err := consent.DecodePolicy([]byte(tt.doc))
		require.ErrorIs(t, err, consent.ErrInvalidPolicy, tt.name)
		var pe *consent.PolicyError
		require.ErrorAs(t, err, &pe, tt.name)
		if tt.field != "" {
			assert.Equal(t, tt.field, pe.Field, "%s: %v", tt.name, err)
		}
	}
}

// idx returns the index of purpose in p.
func idx(t *testing.T, p *consent.Policy, purpose consent.Purpose) int {
	t.Helper()
	for i := range p.Purposes {
		if p.Purposes[i].Purpose == purpose {
			return i
		}
	}
	t.Fatalf("no purpose %s", purpose)
	return -1
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
