package pds

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tact-go/tact/consent"
)

// Claims are what a grant says about itself: who issued it, about whom,
// for whom, for what and until when. Personal data is not among them: that
// is read with [Grant.Read].
type Claims struct {
	Issuer    string    // "iss": the person's data store
	Subject   string    // "sub": the person, by the service's id for them
	Audience  []string  // "aud": the services the grant is for
	ID        string    // "jti": the grant's id, unique for its issuer
	IssuedAt  time.Time // "iat"
	NotBefore time.Time // "nbf"; zero: IssuedAt
	Expires   time.Time // "exp"
	// Purpose is the one purpose the grant allows the data to be used for,
	// a key of the service's policy.
	Purpose consent.Purpose
	// Scope lists the categories the service may read; each covers its
	// descendants.
	Scope []consent.Category
}

func (c Claims) clone() Claims {
	c.Audience = slices.Clone(c.Audience)
	c.Scope = slices.Clone(c.Scope)
	return c
}

// covers reports whether the scope covers category x.
func covers(scope []consent.Category, x consent.Category) bool {
	for _, s := range scope {
		if s.Covers(x) {
			return true
		}
	}
	return false
}

// checkData checks that the scope covers every category of the data.
func checkData(scope []consent.Category, data map[consent.Category]json.RawMessage) error {
	for c := range data {
		if !covers(scope, c) {
			return &GrantError{Claim: "data." + string(c), Why: "not covered by the grant's own scope", Err: ErrScope}
		}
	}
	return nil
}

// Grant is a verified grant, as [Verifier.Verify] returns it: a person's
// permission, issued by their data store, for this service to read the
// data it carries, of the categories of its scope, for its purpose, until
// it expires. The zero Grant grants nothing.
//
// A Grant is immutable and safe for simultaneous use. It does not keep the
// token. Printing or logging it shows its id, issuer, purpose and expiry,
// never the person or their data.
type Grant struct {
	claims Claims
	kid    string
	digest [sha256.Size]byte
	data   map[consent.Category]json.RawMessage
	decl   Declared
}

// Claims returns a copy of the grant's claims.
func (g Grant) Claims() Claims { return g.claims.clone() }

// KeyID returns the "kid" of the issuer's key that signed the grant.
func (g Grant) KeyID() string { return g.kid }

// Digest returns the SHA-256 of the token.
func (g Grant) Digest() [sha256.Size]byte { return g.digest }

// Read returns a copy of the value the grant carries for category c, nil
// if it carries none. If the grant's scope does not cover c, Read returns
// a [*GrantError] wrapping [ErrScope] and no data, even if the grant
// carries some for c: a grant verifies only if its scope covers all its
// data, so nothing outside the scope is ever returned.
func (g Grant) Read(c consent.Category) (json.RawMessage, error) {
	if !covers(g.claims.Scope, c) {
		return nil, &GrantError{Claim: string(c), Why: "not covered by the grant", Err: ErrScope}
	}
	if v, ok := g.data[c]; ok {
		return bytes.Clone(v), nil
	}
	return nil, nil
}

// Declared returns a copy of the data of the categories the format defines
// ([CategoryGoals], [CategorySizes], [CategoryAvoid], [CategoryBudget]), as
// far as the grant carries it: the fields of the others are zero. Like
// [Grant.Read], it returns nothing outside the grant's scope.
func (g Grant) Declared() Declared {
	var d Declared
	if covers(g.claims.Scope, CategoryGoals) {
		d.Goals = g.decl.Goals
	}
	if covers(g.claims.Scope, CategorySizes) {
		d.Sizes = g.decl.Sizes
	}
	if covers(g.claims.Scope, CategoryAvoid) {
		d.Avoid = g.decl.Avoid
	}
	if covers(g.claims.Scope, CategoryBudget) {
		d.Budget = g.decl.Budget
	}
	return d.Clone()
}

// evidencePrefix starts the Evidence of the consent records of grants.
const evidencePrefix = "pds-grant "

// Evidence returns the text the consent record of the grant's use carries
// as [consent.Event].Evidence: its issuer, id, expiry (Unix seconds) and
// the SHA-256 of the token, never the person's data:
//
//	pds-grant iss=https://pds.example/alice jti=g-1 exp=1748822400 sha256=9f86…
//
// The zero Grant's is "".
func (g Grant) Evidence() string {
	if g.claims.ID == "" {
		return ""
	}
	return evidencePrefix + "iss=" + g.claims.Issuer + " jti=" + g.claims.ID +
		" exp=" + strconv.FormatInt(g.claims.Expires.Unix(), 10) + " sha256=" + hex.EncodeToString(g.digest[:])
}

// evidence is what a consent record says about the grant it came from.
type evidence struct {
	issuer, id string
	expires    time.Time
}

// parseEvidence reads what Grant.Evidence writes.
func parseEvidence(s string) (evidence, bool) {
	rest, ok := strings.CutPrefix(s, evidencePrefix)
	if !ok {
		return evidence{}, false
	}
	var vals [4]string
	for i, name := range [...]string{"iss=", "jti=", "exp=", "sha256="} {
		field, tail, _ := strings.Cut(rest, " ")
		if vals[i], ok = strings.CutPrefix(field, name); !ok || vals[i] == "" {
			return evidence{}, false
		}
		rest = tail
	}
	exp, err := strconv.ParseInt(vals[2], 10, 64)
	if err != nil || rest != "" {
		return evidence{}, false
	}
	return evidence{issuer: vals[0], id: vals[1], expires: time.Unix(exp, 0).UTC()}, true
}

// String describes the grant without personal data:
// "pds grant g-1 from https://pds.example/alice for personalize.declared
// until 2025-06-02T00:00:00Z".
func (g Grant) String() string {
	if g.claims.ID == "" {
		return "pds grant (none)"
	}
	return "pds grant " + g.claims.ID + " from " + g.claims.Issuer + " for " + string(g.claims.Purpose) +
		" until " + g.claims.Expires.Format(time.RFC3339)
}

// Format writes [Grant.String] for every verb, so that no formatting path
// prints the person or their data.
func (g Grant) Format(f fmt.State, _ rune) { f.Write([]byte(g.String())) }

// LogValue logs the grant's id, issuer, purpose and expiry.
func (g Grant) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", g.claims.ID), slog.String("issuer", g.claims.Issuer),
		slog.String("purpose", string(g.claims.Purpose)), slog.Time("expires", g.claims.Expires))
}

// wireHeader and wireClaims are the JSON of a grant, as Issue writes it.
type wireHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

type wireClaims struct {
	Iss     string                   `json:"iss"`
	Sub     string                   `json:"sub"`
	Aud     any                      `json:"aud"`
	Jti     string                   `json:"jti"`
	Iat     int64                    `json:"iat"`
	Nbf     int64                    `json:"nbf,omitempty"`
	Exp     int64                    `json:"exp"`
	Purpose consent.Purpose          `json:"purpose"`
	Scope   string                   `json:"scope"`
	Data    map[consent.Category]any `json:"data"`
}

// Issue returns a grant as a personal data store issues it: a compact JWS
// signed with key under key id kid, with the claims c and the data, each
// value encoded with encoding/json. It writes "alg" [AlgEdDSA] and times
// in whole seconds (truncated). It is the reference for the format (see
// the package documentation) and serves tests and data stores written in
// Go; a service only verifies.
//
// Issue refuses, with the error Verify would return, what no Verifier
// accepts: a [*GrantError] wrapping [ErrMalformed] for claims or data out
// of the format, [ErrScope] for data the scope does not cover, and
// [ErrConfig] for a key that is not an Ed25519 private key.
func Issue(key ed25519.PrivateKey, kid string, c Claims, data map[consent.Category]any) (string, error) {
	if len(key) != ed25519.PrivateKeySize {
		return "", &GrantError{Why: "not an Ed25519 private key", Err: ErrConfig}
	}
	w := wireClaims{Iss: c.Issuer, Sub: c.Subject, Aud: c.Audience, Jti: c.ID, Iat: c.IssuedAt.Unix(),
		Exp: c.Expires.Unix(), Purpose: c.Purpose, Data: data}
	if len(c.Audience) == 1 {
		w.Aud = c.Audience[0]
	}
	if !c.NotBefore.IsZero() {
		w.Nbf = c.NotBefore.Unix()
	}
	if w.Data == nil {
		w.Data = map[consent.Category]any{}
	}
	scope := make([]string, len(c.Scope))
	for i, s := range c.Scope {
		scope[i] = string(s)
	}
	w.Scope = strings.Join(scope, " ")
	h, err := json.Marshal(wireHeader{Alg: AlgEdDSA, Kid: kid, Typ: Type})
	if err != nil {
		return "", malformed("header", "cannot encode", err)
	}
	p, err := json.Marshal(w)
	if err != nil {
		return "", malformed("data", "cannot encode", err)
	}
	signed := b64.EncodeToString(h) + "." + b64.EncodeToString(p)
	tok := signed + "." + b64.EncodeToString(ed25519.Sign(key, []byte(signed)))
	t, err := parse(tok)
	if err != nil {
		return "", err
	}
	if err := checkData(t.claims.Scope, t.data); err != nil {
		return "", err
	}
	return tok, nil
}
