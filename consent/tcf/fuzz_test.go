package tcf_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/SirDataFR/iabtcfv2"
	"github.com/prebid/go-gpp/constants"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
	"github.com/tact-go/tact/consent/tcf"
)

// checkParseError checks what every decoding error must be: a *ParseError
// that is either malformed or unsupported, never both.
func checkParseError(t *testing.T, err error) {
	t.Helper()
	var pe *tcf.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *ParseError", err, err)
	}
	if errors.Is(err, tcf.ErrMalformed) == errors.Is(err, tcf.ErrUnsupported) {
		t.Fatalf("error %v is not exactly one of ErrMalformed and ErrUnsupported", err)
	}
	if !strings.HasPrefix(err.Error(), "tcf: ") {
		t.Fatalf("error %q lacks the package prefix", err)
	}
}

// checkEvents checks what every import must keep, and records the events in
// a fresh Gate, which must accept them all.
func checkEvents(t *testing.T, evs []consent.Event) {
	t.Helper()
	pol := consenttest.RetailPolicy()
	gate, err := consent.NewGate(pol, consent.NewMemoryStore(), consent.GateConfig{Rand: consenttest.Rand(1)})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[consent.Purpose]bool{}
	var last consent.Event
	for i, e := range evs {
		key := e.Purpose // one event per purpose from the TC string, one from the US sections
		if strings.Contains(e.Evidence, " opt-out ") {
			key += "/us"
		}
		if seen[key] {
			t.Fatalf("%v %s twice", e.Action, e.Purpose)
		}
		seen[key] = true
		spec, _ := pol.Spec(e.Purpose)
		switch {
		case e.Source != consent.SourceImport:
			t.Fatalf("source %v", e.Source)
		case e.At.After(now):
			t.Fatalf("event dated %v, after now", e.At)
		case i > 0 && e.At.Before(last.At):
			t.Fatalf("events out of time order")
		case len(e.Evidence) > consent.MaxEvidenceLen || !utf8.ValidString(e.Evidence):
			t.Fatalf("evidence %q", e.Evidence)
		case e.Action == consent.Grant && spec.Basis != consent.BasisConsent:
			t.Fatalf("grant of %s, a %v purpose", e.Purpose, spec.Basis)
		}
		if _, err := gate.Record(ctx, e); err != nil {
			t.Fatalf("Record(%v %s): %v", e.Action, e.Purpose, err)
		}
		last = e
	}
}

func fuzzMappings(t testing.TB) []*tcf.Mapping {
	us := tcf.Config{Sale: consent.PurposeSharing, Sharing: consent.PurposeSharingPartners, TargetedAdvertising: consent.PurposeAdvertisingTargeted}
	withUS := us
	withUS.Purposes = retailConfig()
	vendor := withUS
	vendor.Vendor = 755
	return []*tcf.Mapping{retailMapping(t, withUS), retailMapping(t, vendor)}
}

func tcSeeds() []string {
	return []string{
		exampleTC,
		tcSpec{consent: []int{1, 3, 4}, li: []int{2, 7, 10}, vendors: []int{755, 12}, vendorsLI: []int{12},
			disclosed: []int{12, 755, 900}, pub: true, pubConsent: []int{1, 9}, pubLI: []int{8}, policy: 5}.encode(),
		tcSpec{consent: []int{1, 7}, purposeOneTreatment: true}.encode(),
		tcSpec{consent: []int{3, 4}, vendors: []int{755}, restrictions: []*iabtcfv2.PubRestriction{
			{PurposeId: 4, RestrictionType: iabtcfv2.RestrictionTypeRequireLI, NumEntries: 1, RangeEntries: []*iabtcfv2.RangeEntry{{StartVendorID: 1, EndVendorID: 1000}}},
		}}.encode(),
		"BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA",
		"CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA",
		"COxR03kOxR1CqBcABCENAgCMAP_AAH_AAAqIF3EXySoGY2thI2YVFxBEIYwfJxyigMgChgQIsSwNQIeFLBoGLiAAHBGYJAQAGBAEEACBAQIkHGBMCQAAgAgBiRCMQEGMCzNIBIBAggEbY0FACCVmHkHSmZCY7064O__QLuIJEFQMAkSBAIACLECIQwAQDiAAAYAlAAABAhIaAAgIWBQEeAAAACAwAAgAAABBAAACAAQAAICIAAABAAAgAiAQAAAAGgIQAACBABACRIAAAEANCAAgiCEAQg4EAo4AAA.IF3EXySoGY2tho2YVFzBEIYwfJxyigMgShgQIsS0NQIeFLBoGPiAAHBGYJAQAGBAkkACBAQIsHGBMCQABgAgRiRCMQEGMDzNIBIBAggkbY0FACCVmnkHS3ZCY70-6u__QA.elAAAAAAAWA",
		"", ".", "C", "CQ.", "A.B.C",
	}
}

// FuzzTCString feeds Parse arbitrary strings: it must never panic, its
// errors are typed, and what it accepts maps to events a Gate accepts.
func FuzzTCString(f *testing.F) {
	for _, s := range tcSeeds() {
		f.Add(s)
	}
	ms := fuzzMappings(f)
	f.Fuzz(func(t *testing.T, s string) {
		tc, err := tcf.Parse(s)
		if err != nil {
			if tc != nil {
				t.Fatal("a TCString with an error")
			}
			checkParseError(t, err)
			return
		}
		if tc.Version != 2 || tc.PolicyVersion < tcf.MinPolicyVersion || tc.Digest != digestOf(s) ||
			len(tc.ConsentLanguage) != 2 || len(tc.PublisherCC) != 2 || tc.LastUpdated.Unix() == 0 {
			t.Fatalf("accepted %+v", tc)
		}
		for _, m := range ms {
			evs, err := m.Events(tc, "subject", consent.ChannelWeb, now)
			if err != nil {
				t.Fatal(err)
			}
			checkEvents(t, evs)
			for _, e := range evs {
				if len(s) >= 16 && strings.Contains(e.Evidence, s) {
					t.Fatalf("evidence %q holds the string itself", e.Evidence)
				}
			}
		}
	})
}

// FuzzGPP feeds ParseGPP arbitrary strings: it must never panic nor hang,
// its errors are typed, what it skips is unsupported, and what it accepts
// maps to events a Gate accepts.
func FuzzGPP(f *testing.F) {
	tc := tcSpec{consent: []int{1, 3, 4, 7}, li: []int{8}}.encode()
	for _, s := range []string{
		gppString(rawSection{constants.SectionTCFEU2, tc}, usnat(1, 2, 0, true), usca(2, 1)),
		gppString(rawSection{constants.SectionTCFEU2, exampleTC}),
		gppString(usnat(1, 1, 1, false)),
		"DBABrGA~DSJgmkoZJSA.YA~BlgWEYCY.QA~BSFgmiU~bSFgmJQ.YA~BWJYJllA~bSFgmSZQ.YA",
		"DBACNY~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN",
		"DBABjw~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN",
		"DBABM~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA",
		"DBABBgA~xlgWEYCZAA", "DBABRgA~bSFgmiU", "DBAA", "DB", "", "~", "DBABMA~",
	} {
		f.Add(s)
	}
	ms := fuzzMappings(f)
	f.Fuzz(func(t *testing.T, s string) {
		g, err := tcf.ParseGPP(s)
		if err != nil {
			if g != nil {
				t.Fatal("a GPP with an error")
			}
			checkParseError(t, err)
			return
		}
		if g.Version != 1 || len(g.Sections) != strings.Count(s, "~") || g.Digest != digestOf(s) {
			t.Fatalf("accepted %+v", g)
		}
		for _, e := range g.Skipped {
			if !errors.Is(e, tcf.ErrUnsupported) {
				t.Fatalf("skipped %v", e)
			}
		}
		for _, u := range g.US {
			if u.Version != 1 || u.SaleOptOut > tcf.DidNotOptOut || u.SharingOptOut > tcf.DidNotOptOut || u.TargetedAdvertisingOptOut > tcf.DidNotOptOut {
				t.Fatalf("accepted %+v", u)
			}
		}
		for _, m := range ms {
			evs, err := m.GPPEvents(g, "subject", consent.ChannelWeb, now)
			if err != nil {
				t.Fatal(err)
			}
			checkEvents(t, evs)
		}
	})
}
