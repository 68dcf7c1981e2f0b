package pds_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
	"github.com/tact-go/tact/consent/pds"
)

const (
	audience = "https://shop.example"
	issuer   = "https://pds.example/alice"
	kid      = "k1"
	subject  = consenttest.SubjectNew // nothing on record
)

var (
	ctx = context.Background()
	now = consenttest.Now()
	// key is the issuer's signing key, from a fixed seed.
	key = ed25519.NewKeyFromSeed([]byte("tact pds test key: 32 bytes long"))
	// other is a key nobody trusts.
	other = ed25519.NewKeyFromSeed([]byte("tact pds other key: 32 bytes lon"))
)

// fixture is a verifier over a fresh gate with the retail policy, trusting
// key as issuer's kid.
type fixture struct {
	gate *consent.Gate
	keys *pds.MemoryKeys
	revs *pds.MemoryRevocations
	v    *pds.Verifier
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{
		gate: consenttest.NewGate(t, consent.GateConfig{Rand: consenttest.Rand(1)}),
		keys: new(pds.MemoryKeys),
		revs: new(pds.MemoryRevocations),
	}
	if err := f.keys.Add(issuer, kid, key.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	v, err := pds.NewVerifier(f.gate, f.keys, f.revs, audience, pds.Config{})
	if err != nil {
		t.Fatal(err)
	}
	f.v = v
	return f
}

// claims returns valid claims: issued an hour ago, for a week, for the
// declared-preferences purpose, scope sizes and goals.
func claims() pds.Claims {
	return pds.Claims{
		Issuer:   issuer,
		Subject:  subject,
		Audience: []string{audience},
		ID:       "g-1",
		IssuedAt: now.Add(-time.Hour),
		Expires:  now.Add(7 * 24 * time.Hour),
		Purpose:  consent.PurposePersonalizeDeclared,
		Scope:    []consent.Category{pds.CategorySizes, pds.CategoryGoals},
	}
}

// data returns the granted data matching claims' scope.
func data() map[consent.Category]any {
	return map[consent.Category]any{
		pds.CategorySizes: []string{"shoe:42", "top:M"},
		pds.CategoryGoals: []pds.Goal{{Text: "you're training for a marathon", Tags: []string{"running", "marathon"}}},
	}
}

// issue signs c and d with key, failing t on error.
func issue(t testing.TB, c pds.Claims, d map[consent.Category]any) string {
	t.Helper()
	tok, err := pds.Issue(key, kid, c, d)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return tok
}

var b64 = base64.RawURLEncoding

// sign builds a compact JWS from raw header and payload JSON, signed with
// k: for tokens Issue refuses to write.
func sign(k ed25519.PrivateKey, header, payload string) string {
	in := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload))
	return in + "." + b64.EncodeToString(ed25519.Sign(k, []byte(in)))
}

// parts returns the decoded header and payload of tok as JSON objects.
func parts(t testing.TB, tok string) (map[string]any, map[string]any) {
	t.Helper()
	p := strings.Split(tok, ".")
	var h, c map[string]any
	for i, dst := range []*map[string]any{&h, &c} {
		b, err := b64.DecodeString(p[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	return h, c
}

// resign re-encodes header and claims (after edit) and signs with key.
func resign(t testing.TB, tok string, edit func(h, c map[string]any)) string {
	t.Helper()
	h, c := parts(t, tok)
	edit(h, c)
	hb, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return sign(key, string(hb), string(cb))
}
