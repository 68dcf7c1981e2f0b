package tcf_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/SirDataFR/iabtcfv2"
	"github.com/prebid/go-gpp/constants"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
	"github.com/tact-go/tact/consent/tcf"
)

var ctx = context.Background()

func retailMapping(t testing.TB, c tcf.Config) *tcf.Mapping {
	t.Helper()
	if c.Purposes == nil {
		c.Purposes = retailConfig()
	}
	m, err := tcf.NewMapping(consenttest.RetailPolicy(), c)
	require.NoError(t, err)
	return m
}

func newGate(t testing.TB) *consent.Gate {
	t.Helper()
	g, err := consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{Rand: consenttest.Rand(1)})
	require.NoError(t, err)
	return g
}

func TestNewMappingErrors(t *testing.T) {
	pol := consenttest.RetailPolicy()
	for _, c := range []struct {
		name   string
		policy *consent.Policy
		cfg    tcf.Config
		also   error
		reason string
	}{
		{"nil policy", nil, tcf.Config{Purposes: retailConfig()}, nil, "nothing to check the purposes against"},
		{"empty", pol, tcf.Config{}, nil, "a mapping that maps nothing is a mistake"},
		{"TCF purpose 0", pol, tcf.Config{Purposes: map[int]consent.Purpose{0: consent.PurposeAdvertising}}, nil, "TCF purposes start at 1"},
		{"TCF purpose 12", pol, tcf.Config{Purposes: map[int]consent.Purpose{12: consent.PurposeAdvertising}}, nil, "TCF v2.2 has 11 purposes"},
		{"malformed purpose", pol, tcf.Config{Purposes: map[int]consent.Purpose{1: "Ads Targeted"}}, consent.ErrMalformedKey, "not a purpose key"},
		{"undeclared purpose", pol, tcf.Config{Purposes: map[int]consent.Purpose{1: "advertising.contextual"}}, consent.ErrUnknownPurpose, "the policy does not declare it"},
		{"contract basis", pol, tcf.Config{Purposes: map[int]consent.Purpose{1: consent.PurposeServiceCheckout}}, consent.ErrNotConsentBasis, "no one consents to a contract purpose"},
		{"legal obligation", pol, tcf.Config{Purposes: map[int]consent.Purpose{2: consent.PurposeLegalObligation}}, consent.ErrNotConsentBasis, "nor to a legal obligation"},
		{"explicit consent", pol, tcf.Config{Purposes: map[int]consent.Purpose{5: consenttest.PurposeWellness}}, nil, "a TCF grant is not Art. 9 explicit consent"},
		{"LI for purpose 1", pol, tcf.Config{Purposes: map[int]consent.Purpose{1: consent.PurposeAnalyticsAggregate}}, nil, "purpose 1 is consent only"},
		{"LI for purpose 4", pol, tcf.Config{Purposes: map[int]consent.Purpose{4: consent.PurposeAnalyticsAggregate}}, nil, "TCF v2.2 removed LI for purposes 3 to 6"},
		{"vendor negative", pol, tcf.Config{Purposes: retailConfig(), Vendor: -1}, nil, "vendor ids are 16 bits"},
		{"vendor too large", pol, tcf.Config{Purposes: retailConfig(), Vendor: 1 << 16}, nil, "vendor ids are 16 bits"},
		{"US purpose on contract", pol, tcf.Config{Sale: consent.PurposeService}, consent.ErrNotConsentBasis, "an opt-out cannot refuse a contract purpose"},
		{"US purpose undeclared", pol, tcf.Config{TargetedAdvertising: "ads"}, consent.ErrUnknownPurpose, "the policy does not declare it"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := tcf.NewMapping(c.policy, c.cfg)
			require.Error(t, err, c.reason)
			assert.Nil(t, m)
			assert.ErrorIs(t, err, tcf.ErrMapping, c.reason)
			if c.also != nil {
				assert.ErrorIs(t, err, c.also, c.reason)
			}
			var me *tcf.MappingError
			require.True(t, errors.As(err, &me))
			assert.True(t, strings.HasPrefix(err.Error(), "tcf: invalid mapping: "), err.Error())
		})
	}
}

func TestNewMappingAccepts(t *testing.T) {
	pol := consenttest.RetailPolicy()
	for _, c := range []tcf.Config{
		{Purposes: map[int]consent.Purpose{8: consent.PurposeAnalyticsAggregate, 10: consent.PurposeAnalytics}}, // LI where TCF allows it
		{Sale: consent.PurposeSharing, Sharing: consent.PurposeSharing, TargetedAdvertising: consent.PurposeAdvertisingTargeted},
		{Sale: consenttest.PurposeWellness}, // an opt-out may refuse an explicit-consent purpose: it only denies
		{Purposes: retailConfig(), Vendor: 755},
	} {
		_, err := tcf.NewMapping(pol, c)
		assert.NoError(t, err, "%+v", c)
	}
}

// TestEventsGolden pins the events and their evidence for the example
// string over the retail policy.
func TestEventsGolden(t *testing.T) {
	tc, err := tcf.Parse(exampleTC)
	require.NoError(t, err)
	evs, err := retailMapping(t, tcf.Config{}).Events(tc, "visitor-7", consent.ChannelWeb, now)
	require.NoError(t, err)
	head := "tcf:v2 " + tc.Digest + " cmp=31/640 screen=1 lang=EN policy=4 gvl=150 updated=2025-05-20T09:30:00.0Z src=purposes"
	want := []consent.Event{
		{Action: consent.Grant, Purpose: consent.PurposeAdvertising, Evidence: head + " consent p1=1 p7=1"},
		{Action: consent.Deny, Purpose: consent.PurposeAdvertisingTargeted, Evidence: head + " consent p3=1 p4=0"},
		{Action: consent.Deny, Purpose: consent.PurposeAnalytics, Evidence: head + " li p9=0"},
		// analytics.aggregate: legitimate interest, not objected to (p8=1): no event.
		{Action: consent.Grant, Purpose: consent.PurposePersonalizeHistory, Evidence: head + " consent p5=1 p6=1"},
	}
	for i := range want {
		want[i].Subject, want[i].At, want[i].Channel, want[i].Source = "visitor-7", updated, consent.ChannelWeb, consent.SourceImport
	}
	assert.Equal(t, want, evs)
}

func TestEventsThroughGate(t *testing.T) {
	g := newGate(t)
	tc, err := tcf.Parse(exampleTC)
	require.NoError(t, err)
	evs, err := retailMapping(t, tcf.Config{}).Events(tc, "visitor-7", consent.ChannelWeb, now)
	require.NoError(t, err)
	for _, e := range evs {
		_, err := g.Record(ctx, e)
		require.NoError(t, err, "%v %v", e.Action, e.Purpose)
	}
	for p, want := range map[consent.Purpose]consent.Reason{
		consent.PurposeAdvertising:         consent.ReasonGranted,
		consent.PurposeAdvertisingTargeted: consent.ReasonDenied,
		consent.PurposePersonalizeHistory:  consent.ReasonGranted,
		consent.PurposeAnalytics:           consent.ReasonObjected,
		consent.PurposeAnalyticsAggregate:  consent.ReasonObjected, // its parent was objected to
	} {
		d, err := g.Decide(ctx, "visitor-7", p, now, consent.Signals{})
		require.NoError(t, err)
		assert.Equal(t, want, d.Reason, "%s", p)
		assert.Equal(t, want.Allows(), d.Allowed, "%s", p)
	}
	_, err = g.Verify(ctx)
	assert.NoError(t, err)
}

func TestEventsSignalSource(t *testing.T) {
	cfg := tcf.Config{Purposes: map[int]consent.Purpose{3: consent.PurposeAdvertisingTargeted, 4: consent.PurposeAdvertisingTargeted}}
	publisher := retailMapping(t, cfg)
	cfg.Vendor = 755
	vendor := retailMapping(t, cfg)
	deny, grant := consent.Deny, consent.Grant
	for _, c := range []struct {
		name   string
		spec   tcSpec
		m      *tcf.Mapping
		want   *consent.Action // nil: no event
		src    string
		reason string
	}{
		{"core purposes", tcSpec{consent: []int{3, 4}}, publisher, &grant, "src=purposes", "no publisher segment: the core's purpose signals"},
		{"publisher segment wins", tcSpec{consent: []int{3, 4}, pub: true, pubConsent: []int{3}}, publisher, &deny, "src=publisher", "the publisher's own segment says no to 4"},
		{"publisher segment grants", tcSpec{pub: true, pubConsent: []int{3, 4}}, publisher, &grant, "src=publisher", "even when the vendor-facing purposes say no"},
		{"vendor consented", tcSpec{consent: []int{3, 4}, vendors: []int{755}}, vendor, &grant, "src=vendor:755", "purposes and vendor"},
		{"vendor not consented", tcSpec{consent: []int{3, 4}, vendors: []int{12}}, vendor, &deny, "src=vendor:755", "purposes yes, vendor no"},
		{"vendor restricted", tcSpec{consent: []int{3, 4}, vendors: []int{755}, restrictions: []*iabtcfv2.PubRestriction{
			{PurposeId: 4, RestrictionType: iabtcfv2.RestrictionTypeNotAllowed, NumEntries: 1, RangeEntries: []*iabtcfv2.RangeEntry{{StartVendorID: 700, EndVendorID: 800}}},
		}}, vendor, &deny, "src=vendor:755", "the publisher does not allow vendor 755 purpose 4"},
		{"vendor disclosed", tcSpec{consent: []int{3, 4}, vendors: []int{755}, disclosed: []int{755}}, vendor, &grant, "src=vendor:755", "TCF v2.3: shown, and consented"},
		{"vendor not disclosed", tcSpec{consent: []int{3, 4}, disclosed: []int{12}}, vendor, nil, "", "never shown vendor 755: its 0 bit is no refusal"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tc, err := tcf.Parse(c.spec.encode())
			require.NoError(t, err)
			evs, err := c.m.Events(tc, "s", consent.ChannelWeb, now)
			require.NoError(t, err)
			if c.want == nil {
				assert.Empty(t, evs, c.reason)
				return
			}
			require.Len(t, evs, 1, c.reason)
			assert.Equal(t, *c.want, evs[0].Action, c.reason)
			assert.Contains(t, evs[0].Evidence, " "+c.src+" ", c.reason)
		})
	}
}

func TestEventsPurposeOneTreatment(t *testing.T) {
	m := retailMapping(t, tcf.Config{Purposes: map[int]consent.Purpose{1: consent.PurposeAdvertising, 7: consent.PurposeAdvertising}})
	for _, c := range []struct {
		name    string
		consent []int
		want    []consent.Action
		reason  string
	}{
		{"purpose 7 yes", []int{7}, nil, "purpose 1 was not disclosed: no grant can rest on it"},
		{"purpose 7 no", nil, []consent.Action{consent.Deny}, "a refusal of 7 refuses the purpose whatever 1 says"},
	} {
		tc, err := tcf.Parse(tcSpec{consent: c.consent, purposeOneTreatment: true}.encode())
		require.NoError(t, err)
		require.True(t, tc.PurposeOneTreatment)
		evs, err := m.Events(tc, "s", consent.ChannelWeb, now)
		require.NoError(t, err)
		var got []consent.Action
		for _, e := range evs {
			got = append(got, e.Action)
			assert.Contains(t, e.Evidence, "p1=? p7=0")
		}
		assert.Equal(t, c.want, got, c.reason)
	}
}

func TestEventsAt(t *testing.T) {
	m := retailMapping(t, tcf.Config{})
	past, err := tcf.Parse(tcSpec{consent: []int{1, 7}}.encode())
	require.NoError(t, err)
	evs, err := m.Events(past, "s", consent.ChannelWeb, now)
	require.NoError(t, err)
	for _, e := range evs {
		assert.Equal(t, updated, e.At, "dated when the person chose")
	}

	future := now.Add(48 * time.Hour)
	ahead, err := tcf.Parse(tcSpec{consent: []int{1, 7}, lastUpdated: future}.encode())
	require.NoError(t, err)
	evs, err = m.Events(ahead, "s", consent.ChannelWeb, now)
	require.NoError(t, err)
	require.NotEmpty(t, evs)
	for _, e := range evs {
		assert.Equal(t, now, e.At, "never after the host got the string: a future date would block the person's later choices")
		assert.Contains(t, e.Evidence, "updated=2025-06-03T12:00:00.0Z", "the string's own time is kept")
	}
}

func TestEventsErrors(t *testing.T) {
	m := retailMapping(t, tcf.Config{})
	tc, err := tcf.Parse(exampleTC)
	require.NoError(t, err)
	_, err = m.Events(nil, "s", consent.ChannelWeb, now)
	assert.ErrorIs(t, err, tcf.ErrMalformed)
	_, err = m.Events(&tcf.TCString{}, "s", consent.ChannelWeb, now)
	assert.ErrorIs(t, err, tcf.ErrMalformed, "a TCString not made by Parse")
	_, err = m.Events(tc, "s", consent.ChannelWeb, time.Time{})
	assert.ErrorIs(t, err, consent.ErrZeroTime)
	_, err = m.GPPEvents(nil, "s", consent.ChannelWeb, now)
	assert.ErrorIs(t, err, tcf.ErrMalformed)
	_, err = m.GPPEvents(&tcf.GPP{}, "s", consent.ChannelWeb, time.Time{})
	assert.ErrorIs(t, err, consent.ErrZeroTime)
	var nilMapping *tcf.Mapping
	_, err = nilMapping.Events(tc, "s", consent.ChannelWeb, now)
	assert.ErrorIs(t, err, tcf.ErrMapping)
	_, err = nilMapping.GPPEvents(&tcf.GPP{}, "s", consent.ChannelWeb, now)
	assert.ErrorIs(t, err, tcf.ErrMapping)
	evs, err := (&tcf.Mapping{}).Events(tc, "s", consent.ChannelWeb, now)
	assert.NoError(t, err)
	assert.Empty(t, evs, "a zero Mapping maps nothing")
}

// TestOlderStringIsOutOfOrder shows the documented interplay with the Gate:
// a string older than a choice made since cannot override it.
func TestOlderStringIsOutOfOrder(t *testing.T) {
	g := newGate(t)
	_, err := g.Record(ctx, consent.Event{Action: consent.Grant, Subject: "s", Purpose: consent.PurposeAdvertisingTargeted,
		At: updated.Add(time.Hour), Channel: consent.ChannelApp})
	require.NoError(t, err)
	tc, err := tcf.Parse(exampleTC) // refuses advertising.targeted, an hour earlier
	require.NoError(t, err)
	evs, err := retailMapping(t, tcf.Config{}).Events(tc, "s", consent.ChannelWeb, now)
	require.NoError(t, err)
	for _, e := range evs {
		_, err := g.Record(ctx, e)
		if e.Purpose.Covers(consent.PurposeAdvertisingTargeted) || consent.PurposeAdvertisingTargeted.Covers(e.Purpose) {
			assert.ErrorIs(t, err, consent.ErrOutOfOrder, "%s: the in-app grant is newer", e.Purpose)
		} else {
			assert.NoError(t, err, "%s", e.Purpose)
		}
	}
	d, err := g.Decide(ctx, "s", consent.PurposeAdvertisingTargeted, now, consent.Signals{})
	require.NoError(t, err)
	assert.True(t, d.Allowed, "the newer choice stands")
}

func TestGPPEvents(t *testing.T) {
	tc := tcSpec{consent: []int{1, 7}}.encode()
	m := retailMapping(t, tcf.Config{
		Purposes:            map[int]consent.Purpose{1: consent.PurposeAdvertising, 7: consent.PurposeAdvertising},
		Sale:                consent.PurposeSharing,
		Sharing:             consent.PurposeSharingPartners,
		TargetedAdvertising: consent.PurposeAdvertisingTargeted,
	})
	type ev struct {
		action   consent.Action
		purpose  consent.Purpose
		evidence string // a suffix of the evidence
	}
	for _, c := range []struct {
		name   string
		s      string
		only   []int
		want   []ev
		reason string
	}{
		{"tcfeuv2 and usnat", gppString(rawSection{constants.SectionTCFEU2, tc}, usnat(1, 2, 2, false)), nil, []ev{
			{consent.Grant, consent.PurposeAdvertising, " consent p1=1 p7=1"},
			{consent.Deny, consent.PurposeSharing, " opt-out usnat.sale"},
		}, "the TC section grants, the US sale opt-out denies"},
		{"only usnat applies", gppString(rawSection{constants.SectionTCFEU2, tc}, usnat(1, 2, 2, false)), []int{7}, []ev{
			{consent.Deny, consent.PurposeSharing, " opt-out usnat.sale"},
		}, "gpp_sid=7: the TC section is not the person's"},
		{"did not opt out", gppString(usnat(2, 2, 2, false)), nil, nil, "not opting out is not a grant"},
		{"not applicable", gppString(usnat(0, 0, 0, false)), nil, nil, "nothing to record"},
		{"all opt-outs", gppString(usnat(1, 1, 1, false)), nil, []ev{
			{consent.Deny, consent.PurposeAdvertisingTargeted, " opt-out usnat.targeted_advertising"},
			{consent.Deny, consent.PurposeSharing, " opt-out usnat.sale"},
			{consent.Deny, consent.PurposeSharingPartners, " opt-out usnat.sharing"},
		}, "one event per purpose"},
		{"gpc", gppString(usnat(2, 2, 2, true)), nil, []ev{
			{consent.Deny, consent.PurposeAdvertisingTargeted, " opt-out usnat.gpc"},
			{consent.Deny, consent.PurposeSharing, " opt-out usnat.gpc"},
			{consent.Deny, consent.PurposeSharingPartners, " opt-out usnat.gpc"},
		}, "GPC opts out of sale, sharing and targeted advertising, even when the fields say otherwise"},
		{"california sharing", gppString(usca(2, 1)), nil, []ev{
			{consent.Deny, consent.PurposeAdvertisingTargeted, " opt-out usca.sharing"},
			{consent.Deny, consent.PurposeSharingPartners, " opt-out usca.sharing"},
		}, "CPRA sharing is cross-context behavioural advertising"},
		{"two sections", gppString(usnat(1, 2, 2, false), usca(1, 2)), nil, []ev{
			{consent.Deny, consent.PurposeSharing, " opt-out usnat.sale usca.sale"},
		}, "one event, both reasons"},
	} {
		t.Run(c.name, func(t *testing.T) {
			g, err := tcf.ParseGPP(c.s)
			require.NoError(t, err)
			if c.only != nil {
				g = g.Only(c.only...)
			}
			evs, err := m.GPPEvents(g, "s", consent.ChannelWeb, now)
			require.NoError(t, err)
			require.Len(t, evs, len(c.want), c.reason)
			for i, w := range c.want {
				e := evs[i]
				assert.Equal(t, w.action, e.Action, c.reason)
				assert.Equal(t, w.purpose, e.Purpose, c.reason)
				assert.True(t, strings.HasPrefix(e.Evidence, "gpp:v1 "+g.Digest+" "), e.Evidence)
				assert.True(t, strings.HasSuffix(e.Evidence, w.evidence), "%q does not end with %q", e.Evidence, w.evidence)
				assert.Equal(t, consent.SourceImport, e.Source)
				if e.Action == consent.Grant {
					assert.Equal(t, updated, e.At)
					assert.Contains(t, e.Evidence, " tcfeuv2 tcf:v2 sha256:")
				} else {
					assert.Equal(t, now, e.At, "US sections carry no time")
				}
			}
			gate := newGate(t)
			for _, e := range evs {
				_, err := gate.Record(ctx, e)
				require.NoError(t, err)
			}
		})
	}
}

// TestEventsProperties checks, over random strings and mappings, what every
// import must keep: only the mapped purposes, at most one event each, a
// grant only when every TCF purpose behind it is consented to, never a
// grant of a legitimate-interest purpose, dates no later than now, evidence
// within the Gate's limits, and events a fresh Gate accepts.
func TestEventsProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pol := consenttest.RetailPolicy()
	consentTargets := []consent.Purpose{consent.PurposeAdvertising, consent.PurposeAdvertisingTargeted, consent.PurposePersonalize,
		consent.PurposePersonalizeHistory, consent.PurposeMarketingEmail, consent.PurposeSharing}
	liTargets := []consent.Purpose{consent.PurposeAnalytics, consent.PurposeAnalyticsAggregate, consent.PurposePersonalizeContext}
	for i := range 300 {
		purposes := map[int]consent.Purpose{}
		for n := 1; n <= tcf.NumPurposes; n++ {
			switch {
			case r.IntN(3) == 0:
			case n == 1 || (n >= 3 && n <= 6) || r.IntN(2) == 0:
				purposes[n] = consentTargets[r.IntN(len(consentTargets))]
			default:
				purposes[n] = liTargets[r.IntN(len(liTargets))]
			}
		}
		if len(purposes) == 0 {
			continue
		}
		vendor := 0
		if r.IntN(2) == 0 {
			vendor = 1 + r.IntN(20)
		}
		m, err := tcf.NewMapping(pol, tcf.Config{Purposes: purposes, Vendor: vendor})
		require.NoError(t, err)
		pick := func(k int) []int {
			var out []int
			for n := 1; n <= k; n++ {
				if r.IntN(2) == 0 {
					out = append(out, n)
				}
			}
			return out
		}
		spec := tcSpec{consent: pick(11), li: pick(11), vendors: pick(20), vendorsLI: pick(20),
			purposeOneTreatment: r.IntN(4) == 0, lastUpdated: now.Add(time.Duration(r.IntN(96)-72) * time.Hour)}
		if r.IntN(2) == 0 {
			spec.disclosed = pick(20)
		}
		if r.IntN(2) == 0 {
			spec.pub, spec.pubConsent, spec.pubLI = true, pick(11), pick(11)
		}
		tc, err := tcf.Parse(spec.encode())
		require.NoError(t, err)
		evs, err := m.Events(tc, "subject", consent.ChannelWeb, now)
		require.NoError(t, err)

		seen := map[consent.Purpose]bool{}
		gate := newGate(t)
		for _, e := range evs {
			require.False(t, seen[e.Purpose], "case %d: %s twice", i, e.Purpose)
			seen[e.Purpose] = true
			var from []int
			for n, p := range purposes {
				if p == e.Purpose {
					from = append(from, n)
				}
			}
			require.NotEmpty(t, from, "case %d: %s is not mapped", i, e.Purpose)
			spec, _ := pol.Spec(e.Purpose)
			if e.Action == consent.Grant {
				require.Equal(t, consent.BasisConsent, spec.Basis, "case %d: grant of a %s purpose", i, spec.Basis)
				for _, n := range from {
					require.Contains(t, e.Evidence, " p"+strconv.Itoa(n)+"=1", "case %d: grant of %s with TCF %d not consented", i, e.Purpose, n)
				}
				if vendor != 0 {
					require.True(t, tc.VendorConsent(vendor), "case %d: grant without the vendor's consent", i)
				}
			} else {
				require.Equal(t, consent.Deny, e.Action)
				require.Regexp(t, ` p\d+=0`, e.Evidence, "case %d: a denial rests on a 0", i)
			}
			require.False(t, e.At.After(now), "case %d", i)
			require.Equal(t, consent.SourceImport, e.Source)
			require.LessOrEqual(t, len(e.Evidence), consent.MaxEvidenceLen)
			require.True(t, utf8.ValidString(e.Evidence))
			_, err := gate.Record(ctx, e)
			require.NoError(t, err, "case %d: %v %s", i, e.Action, e.Purpose)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	m := retailMapping(t, tcf.Config{Sale: consent.PurposeSharing})
	tc, err := tcf.Parse(exampleTC)
	require.NoError(t, err)
	g, err := tcf.ParseGPP(gppString(rawSection{constants.SectionTCFEU2, exampleTC}, usnat(1, 2, 2, true)))
	require.NoError(t, err)
	want, err := m.Events(tc, "s", consent.ChannelWeb, now)
	require.NoError(t, err)
	done := make(chan []consent.Event)
	for range 8 {
		go func() {
			evs, _ := m.Events(tc, "s", consent.ChannelWeb, now)
			_, _ = m.GPPEvents(g.Only(2, 7), "s", consent.ChannelWeb, now)
			done <- evs
		}()
	}
	for range 8 {
		assert.Equal(t, want, <-done)
	}
}
