package tcf_test

import (
	"testing"

	"github.com/prebid/go-gpp/constants"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/tcf"
)

func BenchmarkParse(b *testing.B) {
	s := tcSpec{consent: []int{1, 3, 4, 7}, li: []int{8}, vendors: []int{12, 755}, disclosed: []int{12, 755}, pub: true}.encode()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tcf.Parse(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseGPP(b *testing.B) {
	s := gppString(rawSection{constants.SectionTCFEU2, exampleTC}, usnat(1, 2, 2, true), usca(2, 1))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tcf.ParseGPP(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvents(b *testing.B) {
	tc, err := tcf.Parse(exampleTC)
	if err != nil {
		b.Fatal(err)
	}
	m := retailMapping(b, tcf.Config{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Events(tc, "visitor-7", consent.ChannelWeb, now); err != nil {
			b.Fatal(err)
		}
	}
}
