package tcf_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
	"github.com/tact-go/tact/consent/tcf"
)

func TestGoogleConsentMode(t *testing.T) {
	cm, err := tcf.GoogleConsentMode(retailConfig(), consent.PurposeAnalyticsAggregate)
	require.NoError(t, err)
	assert.Equal(t, tcf.ConsentModeMapping{
		AdStorage:         []consent.Purpose{consent.PurposeAdvertising},         // TCF 1
		AdUserData:        []consent.Purpose{consent.PurposeAdvertising},         // TCF 1 and 7, both mapped to advertising
		AdPersonalization: []consent.Purpose{consent.PurposeAdvertisingTargeted}, // TCF 3 and 4
		AnalyticsStorage:  []consent.Purpose{consent.PurposeAnalyticsAggregate},  // the host's choice
	}, cm)

	cm, err = tcf.GoogleConsentMode(map[int]consent.Purpose{1: "storage", 3: "ads_profile", 4: "ads_select", 7: "ads_measure"}, "analytics")
	require.NoError(t, err)
	assert.Equal(t, tcf.ConsentModeMapping{
		AdStorage:         []consent.Purpose{"storage"},
		AdUserData:        []consent.Purpose{"storage", "ads_measure"},
		AdPersonalization: []consent.Purpose{"ads_profile", "ads_select"},
		AnalyticsStorage:  []consent.Purpose{"analytics"},
	}, cm)
}

func TestGoogleConsentModeErrors(t *testing.T) {
	full := map[int]consent.Purpose{1: "storage", 3: "ads_profile", 4: "ads_select", 7: "ads_measure"}
	without := func(n int) map[int]consent.Purpose {
		m := map[int]consent.Purpose{}
		for k, v := range full {
			if k != n {
				m[k] = v
			}
		}
		return m
	}
	for _, c := range []struct {
		name      string
		purposes  map[int]consent.Purpose
		analytics []consent.Purpose
		signal    string
	}{
		{"no TCF 1", without(1), []consent.Purpose{"analytics"}, tcf.AdStorage},
		{"no TCF 7", without(7), []consent.Purpose{"analytics"}, tcf.AdUserData},
		{"no TCF 3", without(3), []consent.Purpose{"analytics"}, tcf.AdPersonalization},
		{"no TCF 4", without(4), []consent.Purpose{"analytics"}, tcf.AdPersonalization},
		{"no analytics purpose", full, nil, tcf.AnalyticsStorage},
		{"malformed analytics purpose", full, []consent.Purpose{"Analytics!"}, tcf.AnalyticsStorage},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := tcf.GoogleConsentMode(c.purposes, c.analytics...)
			require.ErrorIs(t, err, tcf.ErrMapping)
			var me *tcf.MappingError
			require.True(t, errors.As(err, &me))
			assert.Equal(t, c.signal, me.Signal)
		})
	}
}

func TestConsentModeMappingValidate(t *testing.T) {
	ok := tcf.ConsentModeMapping{AdStorage: []consent.Purpose{"a"}, AdUserData: []consent.Purpose{"a"}, AdPersonalization: []consent.Purpose{"b"}, AnalyticsStorage: []consent.Purpose{"c"}}
	assert.NoError(t, ok.Validate())
	empty := ok
	empty.AdPersonalization = nil
	assert.ErrorIs(t, empty.Validate(), tcf.ErrMapping, "a signal with no purpose would be granted to everyone")
	bad := ok
	bad.AdUserData = []consent.Purpose{"a", "B"}
	assert.ErrorIs(t, bad.Validate(), consent.ErrMalformedKey)
	_, err := empty.FromDecisions(nil)
	assert.ErrorIs(t, err, tcf.ErrMapping)
	_, err = empty.Decide(ctx, newGate(t), "s", now, consent.Signals{})
	assert.ErrorIs(t, err, tcf.ErrMapping)
}

func TestConsentModeFromDecisions(t *testing.T) {
	cm := tcf.ConsentModeMapping{
		AdStorage: []consent.Purpose{"storage"}, AdUserData: []consent.Purpose{"storage", "ads_measure"},
		AdPersonalization: []consent.Purpose{"ads_profile", "ads_select"}, AnalyticsStorage: []consent.Purpose{"analytics"},
	}
	allow := func(ps ...consent.Purpose) map[consent.Purpose]consent.Decision {
		m := map[consent.Purpose]consent.Decision{}
		for _, p := range []consent.Purpose{"storage", "ads_measure", "ads_profile", "ads_select", "analytics"} {
			m[p] = consent.Decision{Purpose: p}
		}
		for _, p := range ps {
			m[p] = consent.Decision{Purpose: p, Allowed: true}
		}
		return m
	}
	for _, c := range []struct {
		name      string
		decisions map[consent.Purpose]consent.Decision
		want      tcf.ConsentMode
	}{
		{"nothing allowed", allow(), tcf.ConsentMode{}},
		{"everything", allow("storage", "ads_measure", "ads_profile", "ads_select", "analytics"), tcf.ConsentMode{AdStorage: true, AdUserData: true, AdPersonalization: true, AnalyticsStorage: true}},
		{"storage only", allow("storage"), tcf.ConsentMode{AdStorage: true}},
		{"storage and measurement", allow("storage", "ads_measure"), tcf.ConsentMode{AdStorage: true, AdUserData: true}},
		{"measurement without storage", allow("ads_measure"), tcf.ConsentMode{}},
		{"one of two profile purposes", allow("ads_profile"), tcf.ConsentMode{}},
		{"both profile purposes", allow("ads_profile", "ads_select"), tcf.ConsentMode{AdPersonalization: true}},
		{"analytics", allow("analytics"), tcf.ConsentMode{AnalyticsStorage: true}},
		{"missing decisions", map[consent.Purpose]consent.Decision{"analytics": {Allowed: true}}, tcf.ConsentMode{AnalyticsStorage: true}},
		{"nil map", nil, tcf.ConsentMode{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := cm.FromDecisions(c.decisions)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestConsentModeJSONAndGtag(t *testing.T) {
	m := tcf.ConsentMode{AdStorage: true, AnalyticsStorage: true}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	assert.Equal(t, `{"ad_storage":"granted","ad_user_data":"denied","ad_personalization":"denied","analytics_storage":"granted"}`, string(b))
	var back map[string]string
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Len(t, back, 4)
	assert.Equal(t, `gtag('consent', 'update', {"ad_storage":"granted","ad_user_data":"denied","ad_personalization":"denied","analytics_storage":"granted"});`, m.Gtag())
	zero, _ := json.Marshal(tcf.ConsentMode{})
	assert.Equal(t, `{"ad_storage":"denied","ad_user_data":"denied","ad_personalization":"denied","analytics_storage":"denied"}`, string(zero), "the zero value denies all")
}

// countingDecider allows a fixed set of purposes and counts the calls.
type countingDecider struct {
	allowed map[consent.Purpose]bool
	calls   map[consent.Purpose]int
	err     error
}

func (d *countingDecider) Decide(_ context.Context, subject string, p consent.Purpose, at time.Time, _ consent.Signals) (consent.Decision, error) {
	d.calls[p]++
	if d.err != nil {
		return consent.Decision{}, d.err
	}
	return consent.Decision{Subject: subject, Purpose: p, At: at, Allowed: d.allowed[p]}, nil
}

func TestConsentModeDecide(t *testing.T) {
	cm, err := tcf.GoogleConsentMode(map[int]consent.Purpose{1: "storage", 3: "ads", 4: "ads", 7: "ads_measure"}, "storage")
	require.NoError(t, err)
	d := &countingDecider{allowed: map[consent.Purpose]bool{"storage": true, "ads": true}, calls: map[consent.Purpose]int{}}
	got, err := cm.Decide(ctx, d, "s", now, consent.Signals{})
	require.NoError(t, err)
	assert.Equal(t, tcf.ConsentMode{AdStorage: true, AdPersonalization: true, AnalyticsStorage: true}, got)
	assert.Equal(t, map[consent.Purpose]int{"storage": 1, "ads": 1, "ads_measure": 1}, d.calls, "one decision per purpose")

	_, err = cm.Decide(ctx, nil, "s", now, consent.Signals{})
	assert.ErrorIs(t, err, consent.ErrNilArgument)

	boom := errors.New("store down")
	got, err = cm.Decide(ctx, &countingDecider{calls: map[consent.Purpose]int{}, err: boom}, "s", now, consent.Signals{})
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, tcf.ConsentMode{}, got, "all denied on error")
}

func TestConsentModeDecideUnknownPurpose(t *testing.T) {
	cm, err := tcf.GoogleConsentMode(map[int]consent.Purpose{1: "storage", 3: "ads", 4: "ads", 7: "ads"}, "analytics")
	require.NoError(t, err)
	_, err = cm.Decide(ctx, newGate(t), "s", now, consent.Signals{})
	assert.ErrorIs(t, err, consent.ErrUnknownPurpose, "the retail policy has no \"storage\" purpose")
}

// independentPolicy declares one top-level consent purpose per TCF purpose
// Google's mapping reads, so that no purpose covers another.
func independentPolicy() *consent.Policy {
	p := &consent.Policy{Version: 1, Controller: "Acme", Contact: "privacy@acme.example", Withdraw: "Settings › Privacy"}
	for _, k := range []consent.Purpose{"storage", "ads_profile", "ads_select", "ads_measure", "content_measure"} {
		p.Purposes = append(p.Purposes, consent.PurposeSpec{Purpose: k, Version: 1, Basis: consent.BasisConsent,
			Description: "TCF " + string(k), Benefit: "a better site", Lifetime: 365 * 24 * time.Hour})
	}
	return p
}

// TestConsentModeFollowsGoogle imports random TC strings through a Gate and
// checks the Consent Mode derived from its decisions against Google's
// published table applied to the string's own bits: equal when each TCF
// purpose has its own tact purpose, and never more permissive when several
// TCF purposes share one (the retail mapping).
func TestConsentModeFollowsGoogle(t *testing.T) {
	google := func(tc *tcf.TCString) tcf.ConsentMode {
		c := tc.PurposeConsent
		return tcf.ConsentMode{
			AdStorage:         c.Has(1),
			AdUserData:        c.Has(1) && c.Has(7),
			AdPersonalization: c.Has(3) && c.Has(4),
			AnalyticsStorage:  c.Has(8), // the host's choice in both setups below
		}
	}
	independent := map[int]consent.Purpose{1: "storage", 3: "ads_profile", 4: "ads_select", 7: "ads_measure", 8: "content_measure"}
	setups := []struct {
		name     string
		policy   *consent.Policy
		purposes map[int]consent.Purpose
		equal    bool
	}{
		{"one tact purpose per TCF purpose", independentPolicy(), independent, true},
		{"retail mapping", consenttest.RetailPolicy(), retailConfig(), false},
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			m, err := tcf.NewMapping(s.policy, tcf.Config{Purposes: s.purposes})
			require.NoError(t, err)
			analytics := s.purposes[8]
			cm, err := tcf.GoogleConsentMode(s.purposes, analytics)
			require.NoError(t, err)
			for i := range 200 {
				var bits []int
				for n := 1; n <= tcf.NumPurposes; n++ {
					if r.IntN(2) == 0 {
						bits = append(bits, n)
					}
				}
				// Purpose 8 on consent in the first setup, on legitimate
				// interest in the retail policy: set both signals alike.
				tc, err := tcf.Parse(tcSpec{consent: bits, li: bits}.encode())
				require.NoError(t, err)
				gate, err := consent.NewGate(s.policy, consent.NewMemoryStore(), consent.GateConfig{Rand: consenttest.Rand(1)})
				require.NoError(t, err)
				evs, err := m.Events(tc, "s", consent.ChannelWeb, now)
				require.NoError(t, err)
				for _, e := range evs {
					_, err := gate.Record(ctx, e)
					require.NoError(t, err)
				}
				got, err := cm.Decide(ctx, gate, "s", now, consent.Signals{})
				require.NoError(t, err)
				want := google(tc)
				if s.equal {
					require.Equal(t, want, got, "case %d: consent %v", i, tc.PurposeConsent)
					continue
				}
				require.False(t, got.AdStorage && !want.AdStorage, "case %d: ad_storage granted where Google denies", i)
				require.False(t, got.AdUserData && !want.AdUserData, "case %d: ad_user_data granted where Google denies", i)
				require.False(t, got.AdPersonalization && !want.AdPersonalization, "case %d: ad_personalization granted where Google denies", i)
			}
		})
	}
}
