package tcf_test

import (
	"errors"
	"strings"
	"testing"

	gpp "github.com/prebid/go-gpp"
	"github.com/prebid/go-gpp/constants"
	"github.com/prebid/go-gpp/util"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent/tcf"
)

func TestParseGPPSections(t *testing.T) {
	tc := tcSpec{consent: []int{1, 2}}.encode()
	s := gppString(
		rawSection{constants.SectionTCFEU2, tc},
		usnat(1, 2, 0, true),
		usca(2, 1),
	)
	g, err := tcf.ParseGPP(s)
	require.NoError(t, err)
	assert.Equal(t, 1, g.Version)
	assert.Equal(t, []int{2, 7, 8}, g.Sections)
	require.NotNil(t, g.TCF)
	assert.Equal(t, "1,2", g.TCF.PurposeConsent.String())
	tcOnly, err := tcf.Parse(tc)
	require.NoError(t, err)
	assert.Equal(t, tcOnly.Digest, g.TCF.Digest, "the section's digest is that of the TC string it holds")
	assert.Equal(t, []tcf.USSection{
		{ID: 7, Name: "usnat", Version: 1, SaleOptOut: tcf.OptedOut, SharingOptOut: tcf.DidNotOptOut, TargetedAdvertisingOptOut: tcf.OptOutNotApplicable, GPC: true},
		{ID: 8, Name: "usca", Version: 1, SaleOptOut: tcf.DidNotOptOut, SharingOptOut: tcf.OptedOut},
	}, g.US)
	assert.True(t, g.GPC())
	assert.Empty(t, g.Skipped)
	assert.Equal(t, digestOf(s), g.Digest)
}

// TestParseGPPPublished reads the strings of go-gpp's own tests: six US
// sections, three of them with versions the package does not read.
func TestParseGPPPublished(t *testing.T) {
	g, err := tcf.ParseGPP("DBABrGA~DSJgmkoZJSA.YA~BlgWEYCY.QA~BSFgmiU~bSFgmJQ.YA~BWJYJllA~bSFgmSZQ.YA")
	require.NoError(t, err)
	assert.Equal(t, []int{7, 8, 9, 10, 11, 12}, g.Sections)
	assert.Nil(t, g.TCF)
	assert.Equal(t, []tcf.USSection{
		{ID: 8, Name: "usca", Version: 1, SaleOptOut: tcf.DidNotOptOut, SharingOptOut: tcf.OptOutNotApplicable},
		{ID: 9, Name: "usva", Version: 1, SaleOptOut: tcf.OptOutNotApplicable, TargetedAdvertisingOptOut: tcf.OptedOut},
		{ID: 11, Name: "usut", Version: 1, SaleOptOut: tcf.DidNotOptOut, TargetedAdvertisingOptOut: tcf.OptedOut},
	}, g.US)
	var skipped []string
	for _, e := range g.Skipped {
		assert.ErrorIs(t, e, tcf.ErrUnsupported)
		skipped = append(skipped, e.Part)
	}
	assert.Equal(t, []string{"usnat", "usco", "usct"}, skipped, "versions 3 and 27 are not version 1")
	assert.False(t, g.GPC(), "the GPC flags were in the skipped sections")

	g, err = tcf.ParseGPP("DBACNY~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN")
	require.NoError(t, err)
	assert.Equal(t, []int{2, 6}, g.Sections)
	assert.Nil(t, g.TCF, "a TCF v2.0 string (policy version 2) is not read")
	require.Len(t, g.Skipped, 2)
	assert.Equal(t, 2, g.Skipped[0].Section)
	assert.Contains(t, g.Skipped[0].Error(), "tcfeuv2 core: TCF policy version 2")
	assert.Equal(t, 6, g.Skipped[1].Section)
	assert.Equal(t, "uspv1", g.Skipped[1].Part)

	// The same sections under ids 5 and 6: a TC string as tcfcav1 (TCF
	// Canada), which is not read.
	g, err = tcf.ParseGPP("DBABjw~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN")
	require.NoError(t, err)
	assert.Equal(t, []int{5, 6}, g.Sections)
	require.Len(t, g.Skipped, 2)
	assert.Equal(t, "tcfcav1", g.Skipped[0].Part)
}

func TestParseGPPNoSections(t *testing.T) {
	g, err := tcf.ParseGPP("DBAA")
	require.NoError(t, err)
	assert.Empty(t, g.Sections)
	assert.Nil(t, g.TCF)
	assert.Empty(t, g.US)
}

func TestParseGPPUnpaddedHeader(t *testing.T) {
	// go-gpp's tests write the same header as "DBABM" and "DBABMA".
	a, err := tcf.ParseGPP("DBABM~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA")
	require.NoError(t, err)
	b, err := tcf.ParseGPP("DBABMA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA")
	require.NoError(t, err)
	assert.Equal(t, []int{2}, a.Sections)
	assert.Equal(t, a.Sections, b.Sections)
}

// header writes a GPP header with the given type, version and raw entry
// bits (after the 12-bit count).
func header(typ, version byte, entries uint16, write func(bs *util.BitStream)) string {
	bs := util.NewBitStreamForWrite()
	bs.WriteByte6(typ)
	bs.WriteByte6(version)
	bs.WriteUInt12(entries)
	write(bs)
	return string(bs.Base64Encode())
}

func fib(n uint16) func(bs *util.BitStream) {
	return func(bs *util.BitStream) {
		bs.WriteByte1(0)
		if err := bs.WriteFibonacciInt(n); err != nil {
			panic(err)
		}
	}
}

func TestParseGPPErrors(t *testing.T) {
	us := string(usnat(1, 1, 1, false).Encode(true))
	tc := tcSpec{consent: []int{1}}.encode()
	longFib := func(bs *util.BitStream) {
		bs.WriteByte1(0)
		for range 40 {
			bs.WriteByte1(0) // go-gpp would compute fibonacci(42) by plain recursion
		}
		bs.WriteByte1(1)
		bs.WriteByte1(1)
	}
	wideRange := func(bs *util.BitStream) {
		bs.WriteByte1(1)
		_ = bs.WriteFibonacciInt(1)
		_ = bs.WriteFibonacciInt(1000) // ids 1 to 1001
	}
	for _, c := range []struct {
		name, in string
		want     error
		reason   string
	}{
		{"empty", "", tcf.ErrMalformed, "nothing to decode"},
		{"bad character", "DBABMA~CPX xRf", tcf.ErrMalformed, "a space is not base64url"},
		{"too long", "DBABMA~" + strings.Repeat("A", tcf.MaxLen), tcf.ErrMalformed, "longer than any real string"},
		{"header type", header(2, 1, 1, fib(7)) + "~" + us, tcf.ErrMalformed, "the header's type is 3"},
		{"header version", header(3, 2, 1, fib(7)) + "~" + us, tcf.ErrUnsupported, "GPP version 1 only"},
		{"header cut short", "DB", tcf.ErrMalformed, "no section count"},
		{"more ids than sections", header(3, 1, 2, func(bs *util.BitStream) { fib(2)(bs); fib(5)(bs) }) + "~" + tc, tcf.ErrMalformed, "ids 2 and 7, one section"},
		{"fewer ids than sections", header(3, 1, 1, fib(7)) + "~" + us + "~" + us, tcf.ErrMalformed, "one id, two sections"},
		{"long Fibonacci code word", header(3, 1, 1, longFib) + "~" + us, tcf.ErrMalformed, "bounded before go-gpp's exponential recursion"},
		{"id range out of bounds", header(3, 1, 1, wideRange) + "~" + us, tcf.ErrMalformed, "ids up to 1001: go-gpp would expand them all (and loop forever on 65535)"},
		{"header's own id", header(3, 1, 1, fib(3)) + "~" + us, tcf.ErrMalformed, "id 3 is the header"},
		{"usnat cut short", header(3, 1, 1, fib(7)) + "~B", tcf.ErrMalformed, "no opt-out fields"},
		{"usnat opt-out value 3", gppString(usnat(3, 1, 1, false)), tcf.ErrMalformed, "opt-outs are 0, 1 or 2"},
		{"tcfeuv2 malformed", header(3, 1, 1, fib(2)) + "~" + tc[:20], tcf.ErrMalformed, "a broken TC string in the section"},
		{"empty section", header(3, 1, 1, fib(7)) + "~", tcf.ErrMalformed, "nothing after the tilde"},
	} {
		t.Run(c.name, func(t *testing.T) {
			g, err := tcf.ParseGPP(c.in)
			require.Error(t, err, c.reason)
			assert.Nil(t, g)
			assert.ErrorIs(t, err, c.want, c.reason)
			var pe *tcf.ParseError
			assert.True(t, errors.As(err, &pe))
		})
	}
}

func TestGoGPPAcceptsWhatTheGuardRefuses(t *testing.T) {
	// The header guard is not a matter of taste: go-gpp itself would expand
	// a wide id range rather than refuse it.
	wide := header(3, 1, 1, func(bs *util.BitStream) {
		bs.WriteByte1(1)
		_ = bs.WriteFibonacciInt(1)
		_ = bs.WriteFibonacciInt(1000)
	})
	c, _ := gpp.Parse(wide + strings.Repeat("~x", 1001))
	assert.Len(t, c.SectionTypes, 1001)
	_, err := tcf.ParseGPP(wide + strings.Repeat("~x", 1001))
	assert.ErrorIs(t, err, tcf.ErrMalformed)
}

func TestGPPOnly(t *testing.T) {
	g, err := tcf.ParseGPP(gppString(rawSection{constants.SectionTCFEU2, tcSpec{consent: []int{1}}.encode()}, usnat(1, 2, 2, false), rawSection{6, "1YNN"}))
	require.NoError(t, err)
	require.Len(t, g.Skipped, 1)

	us := g.Only(7)
	assert.Equal(t, []int{7}, us.Sections)
	assert.Nil(t, us.TCF)
	assert.Len(t, us.US, 1)
	assert.Empty(t, us.Skipped)
	assert.Equal(t, g.Digest, us.Digest)

	eu := g.Only(2, 6, 99)
	assert.Equal(t, []int{2, 6}, eu.Sections)
	assert.NotNil(t, eu.TCF)
	assert.Empty(t, eu.US)
	assert.Len(t, eu.Skipped, 1)
	assert.Len(t, g.US, 1, "Only does not change the original")
	assert.Nil(t, (*tcf.GPP)(nil).Only(7))
}

func TestParseGPPMalformedSectionNamesIt(t *testing.T) {
	_, err := tcf.ParseGPP(header(3, 1, 1, fib(2)) + "~" + tcSpec{}.encode()[:20])
	var pe *tcf.ParseError
	require.True(t, errors.As(err, &pe))
	assert.Equal(t, 2, pe.Section)
	assert.Equal(t, "tcfeuv2", pe.Part)

	_, err = tcf.ParseGPP(gppString(usnat(3, 1, 1, false)))
	require.True(t, errors.As(err, &pe))
	assert.Equal(t, 7, pe.Section)
	assert.Equal(t, "usnat", pe.Part)
}

func TestSectionName(t *testing.T) {
	assert.Equal(t, "usnat", tcf.SectionName(7))
	assert.Equal(t, "tcfeuv2", tcf.SectionName(2))
	assert.Equal(t, "section 13", tcf.SectionName(13))
}

func TestOptOutString(t *testing.T) {
	assert.Equal(t, "opted_out", tcf.OptedOut.String())
	assert.Equal(t, "did_not_opt_out", tcf.DidNotOptOut.String())
	assert.Equal(t, "not_applicable", tcf.OptOutNotApplicable.String())
	assert.Equal(t, "invalid", tcf.OptOut(3).String())
}
