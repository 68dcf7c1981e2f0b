package pds_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/pds"
)

func TestVerifyValid(t *testing.T) {
	f := newFixture(t)
	tok := issue(t, claims(), data())
	g, err := f.v.Verify(ctx, tok, subject, consent.PurposePersonalizeDeclared, now)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	c := g.Claims()
	if c.Issuer != issuer || c.Subject != subject || c.ID != "g-1" || c.Purpose != consent.PurposePersonalizeDeclared {
		t.Errorf("claims = %+v", c)
	}
	if !c.Expires.Equal(now.Add(7*24*time.Hour)) || !c.IssuedAt.Equal(now.Add(-time.Hour)) {
		t.Errorf("times = %v .. %v", c.IssuedAt, c.Expires)
	}
	if g.KeyID() != kid {
		t.Errorf("KeyID = %q", g.KeyID())
	}
	d := g.Declared()
	if strings.Join(d.Sizes, ",") != "shoe:42,top:M" || len(d.Goals) != 1 || d.Goals[0].Tags[1] != "marathon" {
		t.Errorf("Declared = %+v", d)
	}
	raw, err := g.Read(pds.CategorySizes)
	if err != nil || string(raw) != `["shoe:42","top:M"]` {
		t.Errorf("Read(sizes) = %s, %v", raw, err)
	}
}

// TestVerifyErrors checks that each way a grant can be wrong gives its own
// typed error, a *GrantError naming the claim.
func TestVerifyErrors(t *testing.T) {
	valid := issue(t, claims(), data())
	with := func(edit func(c *pds.Claims)) string {
		c := claims()
		edit(&c)
		return issue(t, c, data())
	}
	header := func(edit func(h map[string]any)) string {
		return resign(t, valid, func(h, _ map[string]any) { edit(h) })
	}
	payload := func(edit func(c map[string]any)) string {
		return resign(t, valid, func(_, c map[string]any) { edit(c) })
	}
	p := strings.Split(valid, ".")
	tampered := resign(t, valid, func(_, c map[string]any) {
		c["data"].(map[string]any)[string(pds.CategorySizes)] = []string{"shoe:46"}
	})
	tampered = strings.Join([]string{p[0], strings.Split(tampered, ".")[1], p[2]}, ".")

	tests := []struct {
		name, reason string
		token        string
		subject      string
		purpose      consent.Purpose
		at           time.Time
		setup        func(f *fixture)
		want         error
		claim        string
	}{
		{name: "bad signature", reason: "signed with a key the issuer does not use",
			token: func() string { tok, _ := pds.Issue(other, kid, claims(), data()); return tok }(), want: pds.ErrSignature},
		{name: "tampered payload", reason: "payload of another grant under the original signature",
			token: tampered, want: pds.ErrSignature},
		{name: "signature of another token", reason: "valid parts, swapped signature",
			token: p[0] + "." + p[1] + "." + strings.Split(with(func(c *pds.Claims) { c.ID = "g-2" }), ".")[2], want: pds.ErrSignature},
		{name: "alg none", reason: "the unsecured JWS of RFC 7515",
			token: b64.EncodeToString([]byte(`{"alg":"none","typ":"tact-grant+jwt","kid":"k1"}`)) + "." + p[1] + ".", want: pds.ErrMalformed},
		{name: "alg none signed", reason: "alg none even with a signature",
			token: header(func(h map[string]any) { h["alg"] = "none" }), want: pds.ErrMalformed, claim: "alg"},
		{name: "alg HS256", reason: "a MAC algorithm, the classic confusion attack",
			token: header(func(h map[string]any) { h["alg"] = "HS256" }), want: pds.ErrMalformed, claim: "alg"},
		{name: "alg Ed25519", reason: "only the exact value EdDSA is accepted",
			token: header(func(h map[string]any) { h["alg"] = "Ed25519" }), want: pds.ErrMalformed, claim: "alg"},
		{name: "alg eddsa", reason: "alg is case-sensitive",
			token: header(func(h map[string]any) { h["alg"] = "eddsa" }), want: pds.ErrMalformed, claim: "alg"},
		{name: "alg missing", token: header(func(h map[string]any) { delete(h, "alg") }), want: pds.ErrMalformed, claim: "alg"},
		{name: "crit", reason: "no extension is understood",
			token: header(func(h map[string]any) { h["crit"] = []string{"exp"} }), want: pds.ErrMalformed, claim: "crit"},
		{name: "b64 false", reason: "RFC 7797 unencoded payload changes what is signed",
			token: header(func(h map[string]any) { h["b64"] = false; h["crit"] = []string{"b64"} }), want: pds.ErrMalformed},
		{name: "b64 without crit", reason: "refused whatever its value",
			token: header(func(h map[string]any) { h["b64"] = true }), want: pds.ErrMalformed, claim: "b64"},
		{name: "wrong typ", reason: "another kind of JWT the store signs",
			token: header(func(h map[string]any) { h["typ"] = "JWT" }), want: pds.ErrMalformed, claim: "typ"},
		{name: "no kid", token: header(func(h map[string]any) { delete(h, "kid") }), want: pds.ErrMalformed, claim: "kid"},
		{name: "truncated", reason: "signature cut short", token: valid[:len(valid)-10], want: pds.ErrMalformed, claim: "signature"},
		{name: "truncated to two parts", token: p[0] + "." + p[1], want: pds.ErrMalformed},
		{name: "truncated payload", token: p[0] + "." + p[1][:len(p[1])/2] + "." + p[2], want: pds.ErrMalformed},
		{name: "empty", token: "", want: pds.ErrMalformed},
		{name: "four parts", token: valid + ".x", want: pds.ErrMalformed},
		{name: "newline", reason: "base64 decoders skip newlines; the format does not",
			token: p[0] + "." + p[1][:8] + "\n" + p[1][8:] + "." + p[2], want: pds.ErrMalformed},
		{name: "padding", reason: "base64url without padding only",
			token: p[0] + "=." + p[1] + "." + p[2], want: pds.ErrMalformed},
		{name: "oversized", reason: "longer than MaxTokenLen, refused before decoding",
			token: valid + strings.Repeat("A", pds.MaxTokenLen), want: pds.ErrMalformed},
		{name: "repeated member", reason: "parsers differ on which value counts",
			token: sign(key, `{"alg":"EdDSA","typ":"tact-grant+jwt","kid":"k1","alg":"none"}`, `{}`), want: pds.ErrMalformed, claim: "header"},
		{name: "unknown key id", token: header(func(h map[string]any) { h["kid"] = "k9" }), want: pds.ErrUnknownKey, claim: "kid"},
		{name: "unknown issuer", token: with(func(c *pds.Claims) { c.Issuer = "https://pds.example/mallory" }), want: pds.ErrUnknownKey, claim: "kid"},
		{name: "key removed", setup: func(f *fixture) { f.keys.Remove(issuer, kid) }, want: pds.ErrUnknownKey},
		{name: "wrong audience", token: with(func(c *pds.Claims) { c.Audience = []string{"https://other.example"} }), want: pds.ErrAudience, claim: "aud"},
		{name: "audience among others", reason: "an array naming the service is accepted, so this must fail only on the subject",
			token: with(func(c *pds.Claims) { c.Audience = []string{"https://other.example", audience} }), subject: "someone-else", want: pds.ErrSubject},
		{name: "expired", at: now.Add(7 * 24 * time.Hour), want: pds.ErrExpired, claim: "exp"},
		{name: "expired long ago", at: now.Add(365 * 24 * time.Hour), want: pds.ErrExpired, claim: "exp"},
		{name: "not yet valid", reason: "nbf in the future beyond the skew",
			token: with(func(c *pds.Claims) { c.NotBefore = now.Add(time.Hour) }), want: pds.ErrNotYetValid, claim: "nbf"},
		{name: "issued in the future", reason: "iat beyond the skew",
			token: with(func(c *pds.Claims) { c.IssuedAt = now.Add(2 * time.Minute) }), want: pds.ErrNotYetValid},
		{name: "lifetime", reason: "exp more than 30 days after iat",
			token: with(func(c *pds.Claims) { c.Expires = c.IssuedAt.Add(31 * 24 * time.Hour) }), want: pds.ErrLifetime, claim: "exp"},
		{name: "wrong subject", subject: "someone-else", want: pds.ErrSubject, claim: "sub"},
		{name: "wrong purpose", purpose: consent.PurposePersonalizeHistory, want: pds.ErrPurpose, claim: "purpose"},
		{name: "undeclared purpose", reason: "a purpose the policy does not declare",
			token: with(func(c *pds.Claims) { c.Purpose = "personalize.mood" }), purpose: "personalize.mood", want: pds.ErrPurpose, claim: "purpose"},
		{name: "scope beyond the purpose", reason: "the policy's personalize.declared does not use purchase history",
			token: with(func(c *pds.Claims) { c.Scope = append(c.Scope, consent.CategoryBehaviorPurchaseHistory) }), want: pds.ErrScope, claim: "scope"},
		{name: "data beyond the scope", reason: "a category the grant's own scope does not cover",
			token: payload(func(c map[string]any) { c["data"].(map[string]any)[string(pds.CategoryBudget)] = 120 }), want: pds.ErrScope, claim: "data." + string(pds.CategoryBudget)},
		{name: "revoked", setup: func(f *fixture) { f.revs.Revoke(issuer, "g-1") }, want: pds.ErrRevoked, claim: "jti"},
		{name: "exp not a number", token: payload(func(c map[string]any) { c["exp"] = "tomorrow" }), want: pds.ErrMalformed, claim: "exp"},
		{name: "exp fractional", token: payload(func(c map[string]any) { c["exp"] = 1.5e9 + 0.5 }), want: pds.ErrMalformed, claim: "exp"},
		{name: "exp missing", token: payload(func(c map[string]any) { delete(c, "exp") }), want: pds.ErrMalformed, claim: "exp"},
		{name: "iat missing", token: payload(func(c map[string]any) { delete(c, "iat") }), want: pds.ErrMalformed, claim: "iat"},
		{name: "jti missing", token: payload(func(c map[string]any) { delete(c, "jti") }), want: pds.ErrMalformed, claim: "jti"},
		{name: "jti with space", reason: "ids are printable ASCII without spaces",
			token: payload(func(c map[string]any) { c["jti"] = "g 1" }), want: pds.ErrMalformed, claim: "jti"},
		{name: "aud null", token: payload(func(c map[string]any) { c["aud"] = nil }), want: pds.ErrMalformed, claim: "aud"},
		{name: "scope empty", token: payload(func(c map[string]any) { c["scope"] = "" }), want: pds.ErrMalformed, claim: "scope"},
		{name: "scope double space", token: payload(func(c map[string]any) { c["scope"] = string(pds.CategorySizes) + "  " + string(pds.CategoryGoals) }), want: pds.ErrMalformed, claim: "scope"},
		{name: "data null value", token: payload(func(c map[string]any) { c["data"].(map[string]any)[string(pds.CategorySizes)] = nil }), want: pds.ErrMalformed},
		{name: "sizes not dimension:value", token: payload(func(c map[string]any) { c["data"].(map[string]any)[string(pds.CategorySizes)] = []string{"42"} }), want: pds.ErrMalformed},
		{name: "goal with unknown member", token: payload(func(c map[string]any) {
			c["data"].(map[string]any)[string(pds.CategoryGoals)] = []map[string]any{{"text": "x", "tags": []string{"a"}, "weight": 2}}
		}), want: pds.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			tok, subj, purpose, at := tt.token, tt.subject, tt.purpose, tt.at
			if tok == "" && tt.name != "empty" {
				tok = valid
			}
			if subj == "" {
				subj = subject
			}
			if purpose == "" {
				purpose = consent.PurposePersonalizeDeclared
			}
			if at.IsZero() {
				at = now
			}
			g, err := f.v.Verify(ctx, tok, subj, purpose, at)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify: err = %v, want %v (%s)", err, tt.want, tt.reason)
			}
			var ge *pds.GrantError
			if !errors.As(err, &ge) {
				t.Fatalf("Verify: err = %T, want *pds.GrantError", err)
			}
			if tt.claim != "" && ge.Claim != tt.claim {
				t.Errorf("Claim = %q, want %q (err %v)", ge.Claim, tt.claim, err)
			}
			if !strings.HasPrefix(err.Error(), "pds: ") {
				t.Errorf("message %q lacks the package prefix", err)
			}
			if g.Claims().ID != "" || g.Evidence() != "" {
				t.Errorf("a refused grant came back non-zero: %v", g)
			}
		})
	}
}

func TestVerifyArguments(t *testing.T) {
	f := newFixture(t)
	tok := issue(t, claims(), data())
	for _, tt := range []struct {
		name    string
		subject string
		purpose consent.Purpose
		at      time.Time
		want    error
	}{
		{"zero time", subject, consent.PurposePersonalizeDeclared, time.Time{}, consent.ErrZeroTime},
		{"empty subject", "", consent.PurposePersonalizeDeclared, now, consent.ErrEmptySubject},
		{"malformed purpose", subject, "Not A Key", now, consent.ErrMalformedKey},
	} {
		if _, err := f.v.Verify(ctx, tok, tt.subject, tt.purpose, tt.at); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	var zero pds.Verifier
	if _, err := zero.Verify(ctx, tok, subject, consent.PurposePersonalizeDeclared, now); !errors.Is(err, pds.ErrConfig) {
		t.Errorf("zero Verifier: err = %v, want ErrConfig", err)
	}
}

// TestVerifyBoundaries pins the edges of the validity window.
func TestVerifyBoundaries(t *testing.T) {
	f := newFixture(t)
	c := claims()
	c.NotBefore = now.Add(30 * time.Second) // within the one-minute skew
	tok := issue(t, c, data())
	verify := func(at time.Time) error {
		_, err := f.v.Verify(ctx, tok, subject, consent.PurposePersonalizeDeclared, at)
		return err
	}
	if err := verify(now); err != nil {
		t.Errorf("within the skew of nbf: %v", err)
	}
	if err := verify(c.NotBefore.Add(-time.Minute - time.Second)); !errors.Is(err, pds.ErrNotYetValid) {
		t.Errorf("a second beyond the skew: %v", err)
	}
	if err := verify(c.Expires.Add(-time.Nanosecond)); err != nil {
		t.Errorf("just before exp: %v", err)
	}
	if err := verify(c.Expires); !errors.Is(err, pds.ErrExpired) {
		t.Errorf("at exp: %v, want ErrExpired (skew never extends exp)", err)
	}
	c = claims()
	c.Expires = c.IssuedAt.Add(pds.DefaultMaxLifetime)
	if _, err := f.v.Verify(ctx, issue(t, c, data()), subject, consent.PurposePersonalizeDeclared, now); err != nil {
		t.Errorf("lifetime of exactly the maximum: %v", err)
	}
}

func TestReadScope(t *testing.T) {
	f := newFixture(t)
	c := claims()
	c.Scope = []consent.Category{pds.CategorySizes}
	g, err := f.v.Verify(ctx, issue(t, c, map[consent.Category]any{pds.CategorySizes: []string{"shoe:42"}}), subject, consent.PurposePersonalizeDeclared, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, cat := range []consent.Category{pds.CategoryGoals, consent.CategoryPreferenceDeclared, consent.CategoryContactEmail} {
		raw, err := g.Read(cat)
		if !errors.Is(err, pds.ErrScope) || raw != nil {
			t.Errorf("Read(%s) = %s, %v; want ErrScope and nothing", cat, raw, err)
		}
	}
	if raw, err := g.Read(pds.CategorySizes + ".shoe"); err != nil || raw != nil {
		t.Errorf("Read of a covered category without data = %s, %v; want nil, nil", raw, err)
	}
	if d := g.Declared(); len(d.Goals) != 0 || len(d.Sizes) != 1 {
		t.Errorf("Declared = %+v", d)
	}
}

func TestNewVerifierConfig(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		name string
		fn   func() (*pds.Verifier, error)
	}{
		{"nil ledger", func() (*pds.Verifier, error) { return pds.NewVerifier(nil, f.keys, f.revs, audience, pds.Config{}) }},
		{"nil keys", func() (*pds.Verifier, error) { return pds.NewVerifier(f.gate, nil, f.revs, audience, pds.Config{}) }},
		{"nil revocations", func() (*pds.Verifier, error) { return pds.NewVerifier(f.gate, f.keys, nil, audience, pds.Config{}) }},
		{"empty audience", func() (*pds.Verifier, error) { return pds.NewVerifier(f.gate, f.keys, f.revs, "", pds.Config{}) }},
		{"negative lifetime", func() (*pds.Verifier, error) {
			return pds.NewVerifier(f.gate, f.keys, f.revs, audience, pds.Config{MaxLifetime: -1})
		}},
	} {
		if v, err := tt.fn(); !errors.Is(err, pds.ErrConfig) || v != nil {
			t.Errorf("%s: %v, %v; want ErrConfig", tt.name, v, err)
		}
	}
	if err := f.keys.Add(issuer, kid, []byte("short")); !errors.Is(err, pds.ErrConfig) {
		t.Errorf("MemoryKeys.Add of a short key: %v", err)
	}
	if _, err := pds.Issue(ed25519PrivateKeyShort(), kid, claims(), data()); !errors.Is(err, pds.ErrConfig) {
		t.Errorf("Issue with a short key: %v", err)
	}
}

func ed25519PrivateKeyShort() []byte { return make([]byte, 10) }
