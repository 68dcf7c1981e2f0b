package tcf_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/SirDataFR/iabtcfv2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent/tcf"
)

// exampleTC is the TC string of the package example, as iabtcfv2's encoder
// writes it for exampleSpec (TestExampleStringIsReproducible checks that).
const exampleTC = "CQQL3HwQRuvPwAfKABENCWEgAK4AAAEAAAYgAAAAAAAA.IAAA"

var exampleSpec = tcSpec{consent: []int{1, 3, 5, 6, 7}, li: []int{8}, disclosed: []int{}}

func TestExampleStringIsReproducible(t *testing.T) {
	assert.Equal(t, exampleTC, exampleSpec.encode(), "update exampleTC (and the example's output) if the spec changed")
}

func TestParseFields(t *testing.T) {
	s := tcSpec{
		consent: []int{1, 3, 4}, li: []int{2, 7, 10},
		vendors: []int{755, 12}, vendorsLI: []int{12},
		disclosed: []int{12, 755, 900},
		pub:       true, pubConsent: []int{1, 9}, pubLI: []int{8},
		policy: 5,
	}.encode()
	tc, err := tcf.Parse(s)
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(s))
	assert.Equal(t, 2, tc.Version)
	assert.Equal(t, 5, tc.PolicyVersion)
	assert.Equal(t, updated, tc.LastUpdated)
	assert.Equal(t, updated.Add(-30*24*time.Hour), tc.Created)
	assert.Equal(t, 31, tc.CMPID)
	assert.Equal(t, 640, tc.CMPVersion)
	assert.Equal(t, 1, tc.ConsentScreen)
	assert.Equal(t, "EN", tc.ConsentLanguage)
	assert.Equal(t, 150, tc.VendorListVersion)
	assert.Equal(t, "DE", tc.PublisherCC)
	assert.True(t, tc.ServiceSpecific)
	assert.False(t, tc.PurposeOneTreatment)
	assert.Equal(t, "1,3,4", tc.PurposeConsent.String())
	assert.Equal(t, "2,7,10", tc.PurposeLegitimateInterest.String())
	assert.Equal(t, "-", tc.SpecialFeatureOptIns.String())
	require.NotNil(t, tc.Publisher)
	assert.Equal(t, "1,9", tc.Publisher.Consent.String())
	assert.Equal(t, "8", tc.Publisher.LegitimateInterest.String())
	assert.Equal(t, "sha256:"+hex.EncodeToString(sum[:]), tc.Digest)
	assert.True(t, tc.VendorConsent(755))
	assert.True(t, tc.VendorConsent(12))
	assert.False(t, tc.VendorConsent(13))
	assert.False(t, tc.VendorConsent(0))
	assert.True(t, tc.VendorLegitimateInterest(12))
	assert.False(t, tc.VendorLegitimateInterest(755))
	assert.True(t, tc.HasDisclosedVendors())
	assert.True(t, tc.VendorDisclosed(900))
	assert.False(t, tc.VendorDisclosed(901))
}

func TestParseWithoutOptionalSegments(t *testing.T) {
	tc, err := tcf.Parse(tcSpec{consent: []int{2}}.encode())
	require.NoError(t, err)
	assert.Nil(t, tc.Publisher)
	assert.False(t, tc.HasDisclosedVendors())
	assert.False(t, tc.VendorDisclosed(1), "without the segment nothing says a vendor was shown")
}

// TestParseGolden pins the decoding of a literal string, so that a change
// in the decoding library shows.
func TestParseGolden(t *testing.T) {
	tc, err := tcf.Parse(exampleTC)
	require.NoError(t, err)
	assert.Equal(t, 4, tc.PolicyVersion)
	assert.Equal(t, "2025-05-20T09:30:00Z", tc.LastUpdated.Format(time.RFC3339))
	assert.Equal(t, "1,3,5,6,7", tc.PurposeConsent.String())
	assert.Equal(t, "8", tc.PurposeLegitimateInterest.String())
	assert.True(t, tc.HasDisclosedVendors())
	assert.False(t, tc.VendorDisclosed(755))
}

func TestSetHas(t *testing.T) {
	var s tcf.Set = 1 | 1<<23
	for n, want := range map[int]bool{-1: false, 0: false, 1: true, 2: false, 24: true, 25: false, 1000: false} {
		assert.Equal(t, want, s.Has(n), "Has(%d)", n)
	}
}

func TestParseErrors(t *testing.T) {
	valid := tcSpec{consent: []int{1}}.encode()
	core := strings.Split(valid, ".")[0]
	dv := tcSpec{disclosed: []int{900}}.encode()
	dvSeg := strings.Split(dv, ".")[1]
	pubSeg := strings.Split(tcSpec{pub: true}.encode(), ".")[1]
	allowed := (&iabtcfv2.DisclosedVendors{SegmentType: 2, DisclosedVendors: set([]int{1})}).Encode()
	unknownSeg := (&iabtcfv2.DisclosedVendors{SegmentType: 5, DisclosedVendors: set([]int{1})}).Encode()
	for _, c := range []struct {
		name, in string
		want     error
		reason   string
	}{
		{"empty", "", tcf.ErrMalformed, "nothing to decode"},
		{"too long", strings.Repeat("A", tcf.MaxLen+1), tcf.ErrMalformed, "longer than any real string"},
		{"bad character", core[:10] + "!" + core[11:], tcf.ErrMalformed, "not base64url"},
		{"padding", valid + "==", tcf.ErrMalformed, "TC strings are unpadded base64url"},
		{"newline", core[:10] + "\n" + core[10:], tcf.ErrMalformed, "Go's base64 would skip it and decode another string than the digest covers"},
		{"empty segment", core + "..", tcf.ErrMalformed, "a dot with nothing after it"},
		{"truncated core", core[:20], tcf.ErrMalformed, "fields cut off"},
		{"IAB v1.1 example", "BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA", tcf.ErrUnsupported, "TCF v1.1, from the v1.1 specification"},
		{"TCF v2.0 string", "CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA", tcf.ErrUnsupported, "policy version 2 (the GPP specification's example): made before TCF v2.2"},
		{"policy version 3", tcSpec{policy: 3}.encode(), tcf.ErrUnsupported, "predates TCF v2.2"},
		{"core version 3", tcSpec{version: 3}.encode(), tcf.ErrUnsupported, "not TCF v2"},
		{"no last-updated time", tcSpec{lastUpdated: time.Unix(0, 0)}.encode(), tcf.ErrMalformed, "events would be dated 1970"},
		{"language not letters", tcSpec{lang: "E["}.encode(), tcf.ErrMalformed, "would put a non-letter (or invalid UTF-8) in the evidence"},
		{"country not letters", tcSpec{cc: "D\x7f"}.encode(), tcf.ErrMalformed, "bytes beyond Z"},
		{"repeated disclosed vendors", dv + "." + dvSeg, tcf.ErrMalformed, "one segment of each type"},
		{"repeated publisher tc", valid + "." + pubSeg + "." + pubSeg, tcf.ErrMalformed, "one segment of each type"},
		{"repeated core", valid + "." + core, tcf.ErrMalformed, "the core comes once, first"},
		{"truncated disclosed vendors", valid + "." + dvSeg[:4], tcf.ErrMalformed, "iabtcfv2.Decode drops it silently; it is checked here"},
		{"allowed vendors segment", valid + "." + allowed, tcf.ErrUnsupported, "removed in TCF v2.2"},
		{"unknown segment type", valid + "." + unknownSeg, tcf.ErrMalformed, "types 0, 1 and 3 only"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tc, err := tcf.Parse(c.in)
			require.Error(t, err, c.reason)
			assert.Nil(t, tc)
			assert.ErrorIs(t, err, c.want, c.reason)
			other := tcf.ErrUnsupported
			if c.want == tcf.ErrUnsupported {
				other = tcf.ErrMalformed
			}
			assert.NotErrorIs(t, err, other)
			var pe *tcf.ParseError
			require.True(t, errors.As(err, &pe))
			assert.True(t, strings.HasPrefix(err.Error(), "tcf: "), err.Error())
		})
	}
}

func TestTruncatedDisclosedVendorsIsDroppedByTheLibrary(t *testing.T) {
	// Why Parse reads segments itself: the library's Decode accepts a string
	// whose Disclosed Vendors segment is broken, as if it had none.
	s := tcSpec{consent: []int{1}}.encode() + "." + strings.Split(tcSpec{disclosed: []int{900}}.encode(), ".")[1][:4]
	d, err := iabtcfv2.Decode(s)
	require.NoError(t, err)
	assert.Nil(t, d.DisclosedVendors)
	_, err = tcf.Parse(s)
	assert.ErrorIs(t, err, tcf.ErrMalformed)
}

func TestParseErrorWrapsLibraryError(t *testing.T) {
	core := strings.Split(tcSpec{}.encode(), ".")[0]
	_, err := tcf.Parse(core[:20])
	var pe *tcf.ParseError
	require.True(t, errors.As(err, &pe))
	assert.Equal(t, "core", pe.Part)
	assert.Error(t, pe.Err, "the library's own error is kept")
	assert.Contains(t, err.Error(), pe.Err.Error())
}

func TestNilTCStringMethods(t *testing.T) {
	var tc *tcf.TCString
	assert.False(t, tc.VendorConsent(1))
	assert.False(t, tc.VendorLegitimateInterest(1))
	assert.False(t, tc.HasDisclosedVendors())
	assert.False(t, tc.VendorDisclosed(1))
	assert.False(t, (&tcf.TCString{}).VendorConsent(1), "a TCString not made by Parse")
}
