package pds_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/pds"
)

// checkResult checks what Verify returned for any input: a typed error and
// a zero Grant, or a grant that keeps every promise of the format.
func checkResult(t *testing.T, f *fixture, g pds.Grant, err error) {
	t.Helper()
	if err != nil {
		var ge *pds.GrantError
		if !errors.As(err, &ge) {
			t.Fatalf("error %v (%T) is not a *pds.GrantError", err, err)
		}
		if !strings.HasPrefix(err.Error(), "pds: ") {
			t.Fatalf("error %q lacks the package prefix", err)
		}
		if g.Claims().ID != "" {
			t.Fatalf("refused grant is not zero: %v", g)
		}
		return
	}
	c := g.Claims()
	if c.Subject != subject || c.Purpose != consent.PurposePersonalizeDeclared {
		t.Fatalf("accepted a grant for %q/%q", c.Subject, c.Purpose)
	}
	if !now.Before(c.Expires) || c.Expires.Sub(c.IssuedAt) > pds.DefaultMaxLifetime {
		t.Fatalf("accepted a grant outside its window: %v .. %v", c.IssuedAt, c.Expires)
	}
	spec, _ := f.gate.Policy().Spec(consent.PurposePersonalizeDeclared)
	for _, s := range c.Scope {
		ok := false
		for _, p := range spec.Categories {
			ok = ok || p.Covers(s)
		}
		if !ok {
			t.Fatalf("accepted scope %s beyond the policy", s)
		}
	}
	if _, err := g.Read(consent.CategoryContactEmail); !errors.Is(err, pds.ErrScope) {
		t.Fatalf("Read outside the scope: %v", err)
	}
	d := g.Declared()
	if len(d.Goals) > pds.MaxItems || len(d.Sizes) > pds.MaxItems || len(d.Avoid) > pds.MaxItems || d.Budget < 0 {
		t.Fatalf("declared data out of bounds: %+v", d)
	}
	if len(g.Evidence()) > consent.MaxEvidenceLen {
		t.Fatalf("evidence too long for the ledger: %d bytes", len(g.Evidence()))
	}
}

// FuzzVerify checks that no token makes Verify panic or return an untyped
// error, and that nothing but the seeds signed with the trusted key is
// accepted intact.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f)
	valid := issue(f, claims(), data())
	p := strings.Split(valid, ".")
	for _, s := range []string{valid, "", ".", "..", "...", p[0] + "." + p[1] + ".", p[0] + ".." + p[2],
		valid[:len(valid)-1], valid + "A", strings.Repeat("A", 100), "e30.e30.e30"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		g, err := fx.v.Verify(ctx, tok, subject, consent.PurposePersonalizeDeclared, now)
		checkResult(t, fx, g, err)
	})
}

// FuzzClaims signs any header and payload with the trusted key, so that
// the fuzzer reaches past the signature into every claim and the data:
// Verify must not panic, and what it accepts must keep the format's
// promises.
func FuzzClaims(f *testing.F) {
	fx := newFixture(f)
	valid := issue(f, claims(), data())
	seg := strings.Split(valid, ".")
	hb, _ := b64.DecodeString(seg[0])
	pb, _ := b64.DecodeString(seg[1])
	f.Add(string(hb), string(pb))
	f.Add(`{"alg":"EdDSA","typ":"tact-grant+jwt","kid":"k1"}`, `{"iss":"https://pds.example/alice","sub":"shopper-new","aud":["https://shop.example"],"jti":"x","iat":1748772000,"exp":1748858400,"purpose":"personalize.declared","scope":"user.preference.declared","data":{"user.preference.declared.budget":1e308,"user.preference.declared.avoid":["fur"]}}`)
	f.Add(`{"alg":"EdDSA","typ":"application/TACT-GRANT+JWT","kid":"k1","x5u":"http://evil"}`, `{"data":{}}`)
	f.Add(`{"alg":"EdDSA","typ":"tact-grant+jwt","kid":"k1"}`, `[`+strings.Repeat("[", 2000)+`]`)
	f.Add(`{"alg":"EdDSA","typ":"tact-grant+jwt","kid":"k1","Alg":"none"}`, `{"aud":"x","AUD":"y"}`)
	f.Fuzz(func(t *testing.T, header, payload string) {
		tok := sign(key, header, payload)
		g, err := fx.v.Verify(ctx, tok, subject, consent.PurposePersonalizeDeclared, now)
		checkResult(t, fx, g, err)
	})
}
