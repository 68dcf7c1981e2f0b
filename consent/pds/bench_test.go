package pds_test

import (
	"crypto/ed25519"
	"strings"
	"testing"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/pds"
)

// BenchmarkVerify verifies a typical grant, as a service does on each
// read.
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b)
	tok := issue(b, claims(), data())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.v.Verify(ctx, tok, subject, consent.PurposePersonalizeDeclared, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyRefused refuses a token of the largest size at the first
// check, the cost of junk input.
func BenchmarkVerifyRefused(b *testing.B) {
	f := newFixture(b)
	tok := strings.Repeat("A", pds.MaxTokenLen+1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.v.Verify(ctx, tok, subject, consent.PurposePersonalizeDeclared, now); err == nil {
			b.Fatal("accepted")
		}
	}
}

// BenchmarkEd25519Verify is the baseline: the signature check alone.
func BenchmarkEd25519Verify(b *testing.B) {
	tok := issue(b, claims(), data())
	i := strings.LastIndexByte(tok, '.')
	sig, err := b64.DecodeString(tok[i+1:])
	if err != nil {
		b.Fatal(err)
	}
	pub, msg := key.Public().(ed25519.PublicKey), []byte(tok[:i])
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("bad signature")
		}
	}
}
