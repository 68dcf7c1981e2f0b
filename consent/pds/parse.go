package pds

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/internal/jsonkey"
)

// The format's constants.
const (
	// Type is the "typ" header parameter of a grant ("application/" in
	// front is accepted too), so that no other JSON Web Token a data store
	// signs can pass for a grant (RFC 8725, section 3.11).
	Type = "tact-grant+jwt"
	// AlgEdDSA is the "alg" of RFC 8037 for Ed25519 signatures, the only
	// one a Verifier accepts, compared exactly (case-sensitively).
	AlgEdDSA = "EdDSA"
	// ChannelPDS is the channel of the consent records [Verifier.Accept]
	// writes: the person chose through their personal data store.
	ChannelPDS consent.Channel = "pds"
)

// Limits on a grant.
const (
	// MaxTokenLen is the longest token accepted, in bytes.
	MaxTokenLen = 16 << 10
	// MaxIDLen is the longest "iss", "kid" and "jti", in bytes.
	MaxIDLen = 256
	// MaxScope is the most categories a scope, and the data, may hold.
	MaxScope = 32
	// MaxAudience is the most entries of an "aud" array.
	MaxAudience = 16
	// MaxItems is the most entries of each list of [Declared] data, and the
	// most tags of each goal.
	MaxItems = 64
	// MaxItemLen is the longest string of [Declared] data, in bytes.
	MaxItemLen = 256
)

// maxNumericDate is 9999-12-31T23:59:59Z, the last second consent records
// can hold.
const maxNumericDate = 253402300799

var b64 = base64.RawURLEncoding.Strict()

// token is a grant parsed but not verified.
type token struct {
	kid    string
	claims Claims
	data   map[consent.Category]json.RawMessage
	decl   Declared
	signed string // the JWS signing input: header "." payload
	sig    []byte
}

// parse reads a compact JWS grant without verifying it: every error is
// ErrMalformed. The checks that need a key, the policy or the time are
// Verify's.
func parse(tok string) (*token, error) {
	if len(tok) > MaxTokenLen {
		return nil, malformed("", "longer than "+strconv.Itoa(MaxTokenLen)+" bytes", nil)
	}
	for i := 0; i < len(tok); i++ {
		// The base64url alphabet and the dots between parts: base64
		// decoders skip line breaks, which would let many strings pass
		// for one token.
		if c := tok[i]; !isB64URL(c) && c != '.' {
			return nil, malformed("", "byte "+strconv.Itoa(i)+" is not base64url or a dot", nil)
		}
	}
	h, rest, ok1 := strings.Cut(tok, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s, ".") {
		return nil, malformed("", "not a compact JWS: want three base64url parts separated by dots", nil)
	}
	t := &token{signed: tok[:len(h)+1+len(p)]}
	hdr, err := decodeObject("header", h)
	if err != nil {
		return nil, err
	}
	if err := t.header(hdr); err != nil {
		return nil, err
	}
	claims, err := decodeObject("payload", p)
	if err != nil {
		return nil, err
	}
	if err := t.payload(claims); err != nil {
		return nil, err
	}
	if t.sig, err = b64.DecodeString(s); err != nil {
		return nil, malformed("signature", "not base64url without padding", err)
	}
	if len(t.sig) != 64 {
		return nil, malformed("signature", "not an Ed25519 signature (64 bytes)", nil)
	}
	return t, nil
}

// isB64URL reports whether c is in the base64url alphabet (RFC 4648,
// section 5).
func isB64URL(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// decodeObject decodes one base64url part holding a JSON object.
func decodeObject(part, s string) (map[string]json.RawMessage, error) {
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, malformed(part, "not base64url without padding", err)
	}
	if !utf8.Valid(b) {
		return nil, malformed(part, "not UTF-8", nil)
	}
	if k, dup := jsonkey.Duplicate(b); dup {
		return nil, malformed(part, "member "+strconv.Quote(k)+" repeated", nil)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, malformed(part, "not a JSON object", err)
	}
	return m, nil
}

func (t *token) header(m map[string]json.RawMessage) error {
	alg, err := str(m, "alg", true)
	if err != nil {
		return err
	}
	if alg != AlgEdDSA {
		return malformed("alg", "unsupported algorithm "+strconv.Quote(alg)+": only "+AlgEdDSA+" (Ed25519) is accepted", nil)
	}
	typ, err := str(m, "typ", true)
	if err != nil {
		return err
	}
	if !strings.EqualFold(strings.TrimPrefix(strings.ToLower(typ), "application/"), Type) {
		return malformed("typ", "want "+strconv.Quote(Type), nil)
	}
	if _, ok := m["crit"]; ok {
		return malformed("crit", "no extension is understood", nil)
	}
	if _, ok := m["b64"]; ok {
		// RFC 7797: "b64": false signs the payload unencoded. Refused
		// whatever its value, so that what is signed is always what the
		// token carries.
		return malformed("b64", "the unencoded payload option is not supported", nil)
	}
	t.kid, err = id(m, "kid")
	return err
}

func (t *token) payload(m map[string]json.RawMessage) error {
	c := &t.claims
	var err error
	if c.Issuer, err = id(m, "iss"); err != nil {
		return err
	}
	if c.Subject, err = str(m, "sub", true); err != nil {
		return err
	}
	if len(c.Subject) > consent.MaxSubjectLen {
		return malformed("sub", "longer than "+strconv.Itoa(consent.MaxSubjectLen)+" bytes", nil)
	}
	if c.Audience, err = audience(m); err != nil {
		return err
	}
	if c.ID, err = id(m, "jti"); err != nil {
		return err
	}
	if c.IssuedAt, err = date(m, "iat", true); err != nil {
		return err
	}
	if c.NotBefore, err = date(m, "nbf", false); err != nil {
		return err
	}
	if c.Expires, err = date(m, "exp", true); err != nil {
		return err
	}
	if !c.Expires.After(c.IssuedAt) {
		return malformed("exp", "not after iat", nil)
	}
	if !c.NotBefore.IsZero() && !c.Expires.After(c.NotBefore) {
		return malformed("exp", "not after nbf", nil)
	}
	p, err := str(m, "purpose", true)
	if err != nil {
		return err
	}
	if c.Purpose, err = consent.ParsePurpose(p); err != nil {
		return malformed("purpose", "not a purpose key", err)
	}
	if c.Scope, err = scope(m); err != nil {
		return err
	}
	if t.data, err = data(m); err != nil {
		return err
	}
	t.decl, err = decodeDeclared(t.data)
	return err
}

// str returns the string member name of m.
func str(m map[string]json.RawMessage, name string, required bool) (string, error) {
	raw, ok := m[name]
	if !ok {
		if required {
			return "", malformed(name, "missing", nil)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || raw[0] != '"' {
		return "", malformed(name, "not a string", nil)
	}
	if s == "" {
		return "", malformed(name, "empty", nil)
	}
	return s, nil
}

// id returns the identifier member name of m: printable ASCII without
// spaces, so that evidence naming it reads back unambiguously.
func id(m map[string]json.RawMessage, name string) (string, error) {
	s, err := str(m, name, true)
	if err != nil {
		return "", err
	}
	if len(s) > MaxIDLen {
		return "", malformed(name, "longer than "+strconv.Itoa(MaxIDLen)+" bytes", nil)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return "", malformed(name, "not printable ASCII without spaces", nil)
		}
	}
	return s, nil
}

// audience returns "aud": one string or an array of them (RFC 7519).
func audience(m map[string]json.RawMessage) ([]string, error) {
	raw, ok := m["aud"]
	if !ok {
		return nil, malformed("aud", "missing", nil)
	}
	if raw[0] == '"' {
		s, err := str(m, "aud", true)
		if err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	var aud []string
	if err := json.Unmarshal(raw, &aud); err != nil || raw[0] != '[' {
		return nil, malformed("aud", "not a string or an array of strings", nil)
	}
	if len(aud) == 0 || len(aud) > MaxAudience {
		return nil, malformed("aud", "want 1 to "+strconv.Itoa(MaxAudience)+" entries", nil)
	}
	for _, a := range aud {
		if a == "" { // also a JSON null
			return nil, malformed("aud", "empty entry", nil)
		}
	}
	return aud, nil
}

// date returns a NumericDate member: whole seconds since the epoch.
func date(m map[string]json.RawMessage, name string, required bool) (time.Time, error) {
	raw, ok := m[name]
	if !ok {
		if required {
			return time.Time{}, malformed(name, "missing", nil)
		}
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || raw[0] < '0' || raw[0] > '9' || n > maxNumericDate {
		return time.Time{}, malformed(name, "not whole seconds since 1970 up to the year 9999", nil)
	}
	return time.Unix(n, 0).UTC(), nil
}

// scope returns "scope": categories separated by single spaces (the form
// of the "scope" claim of RFC 8693).
func scope(m map[string]json.RawMessage) ([]consent.Category, error) {
	s, err := str(m, "scope", true)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(s, " ")
	if len(parts) > MaxScope {
		return nil, malformed("scope", "more than "+strconv.Itoa(MaxScope)+" categories", nil)
	}
	out := make([]consent.Category, len(parts))
	for i, p := range parts {
		if out[i], err = consent.ParseCategory(p); err != nil {
			return nil, malformed("scope", "not categories separated by single spaces", err)
		}
	}
	return out, nil
}

// data returns "data": an object from category to any JSON value but null.
func data(m map[string]json.RawMessage) (map[consent.Category]json.RawMessage, error) {
	raw, ok := m["data"]
	if !ok {
		return nil, malformed("data", "missing", nil)
	}
	var d map[string]json.RawMessage
	if err := json.Unmarshal(raw, &d); err != nil || d == nil {
		return nil, malformed("data", "not a JSON object", nil)
	}
	if len(d) > MaxScope {
		return nil, malformed("data", "more than "+strconv.Itoa(MaxScope)+" categories", nil)
	}
	out := make(map[consent.Category]json.RawMessage, len(d))
	for k, v := range d {
		c, err := consent.ParseCategory(k)
		if err != nil {
			return nil, malformed("data", "member "+strconv.Quote(k)+" is not a category", err)
		}
		if bytes.Equal(v, []byte("null")) {
			return nil, malformed("data."+k, "null", nil)
		}
		out[c] = v
	}
	return out, nil
}
