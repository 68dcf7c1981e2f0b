package minimize

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"hash"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/tact-go/tact/consent"
)

// Key limits.
const (
	// MinKeyLen is the shortest pseudonym key secret accepted, in bytes:
	// 256 bits, the HMAC-SHA-256 output size.
	MinKeyLen = 32
	// MaxKeyIDLen is the longest key id accepted, in bytes.
	MaxKeyIDLen = 32
)

// Key is a pseudonym key: a secret the host generates (crypto/rand) and
// keeps in its secret store, and a short id that tokens carry so the key
// that made them can be found after rotation. The id is not secret; it is
// 1–32 bytes of A–Z, a–z, 0–9, '.', '_' and '-' ("2025-06", "k7").
//
// A Key redacts its secret on every formatting path: fmt with any verb,
// flag or width ([Key.Format]), [Key.String] and [Key.GoString], log/slog
// ([Key.LogValue]), and encoders ([Key.MarshalText] for encoding/json,
// encoding/xml and others, [Key.GobEncode]) all show `minimize.Key{ID:"k1",
// Secret:[redacted]}` or the id and [Redacted]. Decoding is not affected: a
// Key still loads from JSON with its ID and base64 Secret.
//
// Secret is an exported field, so what walks a Key's fields without calling
// its methods still sees it: fmt's report of a misused verb (%p on a Key
// value, %w outside [fmt.Errorf]; go vet flags both) and reflection into a
// caller's unexported field holding a Key. Hand keys to [NewKeyring] and
// keep the [*Keyring], which holds its secrets where none of these reach.
type Key struct {
	ID     string
	Secret []byte
}

// String returns `minimize.Key{ID:"k1", Secret:[redacted]}`. A malformed
// id, which may be a secret given in the wrong field, shows as its length:
// `minimize.Key{ID:<malformed, 44 bytes>, Secret:[redacted]}`.
func (k Key) String() string {
	return "minimize.Key{ID:" + shownID(k.ID) + ", Secret:" + Redacted + "}"
}

// shownID is a key id as printed: quoted, or its length when malformed.
func shownID(id string) string {
	if validKeyID(id) {
		return strconv.Quote(id)
	}
	return "<malformed, " + strconv.Itoa(len(id)) + " bytes>"
}

// GoString is [Key.String], for %#v.
func (k Key) GoString() string { return k.String() }

// Format prints [Key.String] for every verb; see [Keyring.Format].
func (k Key) Format(f fmt.State, verb rune) { formatSummary(f, verb, k.String()) }

// LogValue logs the id as [Key.String] shows it, and [Redacted] for the
// secret.
func (k Key) LogValue() slog.Value {
	id := k.ID
	if !validKeyID(id) {
		id = shownID(id)
	}
	return slog.GroupValue(slog.String("id", id), slog.String("secret", Redacted))
}

// MarshalText returns [Key.String]: a Key never encodes its secret, so a
// round trip through encoding/json or encoding/gob fails rather than yield
// a key.
func (k Key) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// GobEncode is [Key.MarshalText], for encoding/gob, which does not use
// MarshalText.
func (k Key) GobEncode() ([]byte, error) { return k.MarshalText() }

// formatSummary prints s, the redacted summary of a value holding key
// material, whatever the verb: %q quotes it, %x and %X hex-encode it (as
// fmt does with a String method), and every other verb prints it as %s
// does, with the flags, width and precision given. Types holding key
// material implement [fmt.Formatter] with it so that no verb reaches fmt's
// printing of their fields.
func formatSummary(f fmt.State, verb rune, s string) {
	switch verb {
	case 's', 'q', 'x', 'X':
	default:
		verb = 's'
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), s)
}

// writeKeys appends the key part of a summary: "keys: 2, ids: [k2 k1],
// current: k2" (current first), or "keys: 0".
func writeKeys(b *strings.Builder, ids []string) {
	b.WriteString("keys: ")
	b.WriteString(strconv.Itoa(len(ids)))
	if len(ids) > 0 {
		b.WriteString(", ids: [")
		b.WriteString(strings.Join(ids, " "))
		b.WriteString("], current: ")
		b.WriteString(ids[0])
	}
}

// keyAttrs is writeKeys for slog.
func keyAttrs(ids []string) []slog.Attr {
	a := []slog.Attr{slog.Int("keys", len(ids))}
	if len(ids) > 0 {
		a = append(a, slog.Any("ids", ids), slog.String("current", ids[0]))
	}
	return a
}

func checkKey(k Key) error {
	bad := func(err error, why string) error { return keyError(k.ID, err, why) }
	if k.ID == "" || len(k.ID) > MaxKeyIDLen {
		return bad(ErrKeyID, "want 1–32 bytes")
	}
	if !validKeyID(k.ID) {
		return bad(ErrKeyID, "want A-Z, a-z, 0-9, '.', '_' or '-'")
	}
	if len(k.Secret) < MinKeyLen {
		return bad(ErrShortKey, strconv.Itoa(len(k.Secret))+" bytes")
	}
	same := true
	for _, b := range k.Secret[1:] {
		if b != k.Secret[0] {
			same = false
			break
		}
	}
	if same {
		return bad(ErrWeakKey, "")
	}
	return nil
}

func validKeyID(id string) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return id != "" && len(id) <= MaxKeyIDLen
}

// Keyring holds the current pseudonym key, which makes new tokens, and
// older keys, which are kept only to recognise tokens made before a
// rotation. It copies the secrets it is given and keeps them where no
// printer or encoder that walks it by reflection can reach them.
//
// A Keyring prints, logs and encodes as its key count and ids (which are not
// secret), never key material: `minimize.Keyring{keys: 2, ids: [k2 k1],
// current: k2}`; see [Keyring.Format] and [Keyring.LogValue].
//
// A Keyring is immutable ([Keyring.Rotate] and [Keyring.Retire] return new
// ones) and safe for simultaneous use by multiple goroutines. The zero value
// holds no key; [New] and [Keyring.Pseudonymizer] reject it.
type Keyring struct {
	keys []ringKey // keys[0] is current
}

// ringKey is a key of a Keyring. The secret lives only in the closure of
// derive, so that fmt, slog, encoders and debuggers' pretty-printers that
// walk a Keyring by reflection see a function, never the bytes.
type ringKey struct {
	id     string
	derive func(p consent.Purpose) []byte // HMAC-SHA-256(secret, deriveLabel ‖ p)
}

// sealKey copies k's secret into a ringKey.
func sealKey(k Key) ringKey {
	secret := bytes.Clone(k.Secret)
	return ringKey{id: k.ID, derive: func(p consent.Purpose) []byte {
		d := hmac.New(sha256.New, secret)
		d.Write([]byte(deriveLabel))
		d.Write([]byte(p))
		return d.Sum(nil)
	}}
}

// NewKeyring returns a keyring whose current key is current, recognising
// tokens of the older keys too. The error is a [*KeyError] wrapping
// [ErrShortKey], [ErrWeakKey] or [ErrKeyID] (malformed or repeated id).
func NewKeyring(current Key, older ...Key) (*Keyring, error) {
	r := &Keyring{keys: make([]ringKey, 0, 1+len(older))}
	for _, k := range append([]Key{current}, older...) {
		if err := r.checkNew(k); err != nil {
			return nil, err
		}
		r.keys = append(r.keys, sealKey(k))
	}
	return r, nil
}

// checkNew checks k, and that r does not hold its id yet.
func (r *Keyring) checkNew(k Key) error {
	if err := checkKey(k); err != nil {
		return err
	}
	for _, rk := range r.keys {
		if rk.id == k.ID {
			return keyError(k.ID, ErrKeyID, "id used twice")
		}
	}
	return nil
}

// Current returns the id of the key new tokens are made with, "" for the
// zero Keyring.
func (r *Keyring) Current() string {
	if r == nil || len(r.keys) == 0 {
		return ""
	}
	return r.keys[0].id
}

// IDs returns the ids of all keys, the current one first.
func (r *Keyring) IDs() []string {
	if r == nil {
		return nil
	}
	ids := make([]string, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.id
	}
	return ids
}

// String returns the number of keys and their ids, current first:
// `minimize.Keyring{keys: 2, ids: [k2 k1], current: k2}`, or
// `minimize.Keyring{keys: 0}` for the zero Keyring and
// `minimize.Keyring(nil)` for a nil one.
func (r *Keyring) String() string {
	if r == nil {
		return "minimize.Keyring(nil)"
	}
	var b strings.Builder
	b.WriteString("minimize.Keyring{")
	writeKeys(&b, r.IDs())
	b.WriteString("}")
	return b.String()
}

// GoString is [Keyring.String], for %#v.
func (r *Keyring) GoString() string { return r.String() }

// Format prints [Keyring.String] whatever the verb, so that no verb (%d and
// %x included, which fmt would otherwise apply to each field) prints key
// material: %q quotes it, %x and %X hex-encode it as fmt does with a String
// method, and every other verb prints it as %s does, with the flags, width
// and precision given.
func (r *Keyring) Format(f fmt.State, verb rune) { formatSummary(f, verb, r.String()) }

// LogValue logs the number of keys, their ids and the current one:
// keys=2 ids="[k2 k1]" current=k2 with a text handler.
func (r *Keyring) LogValue() slog.Value { return slog.GroupValue(keyAttrs(r.IDs())...) }

// Rotate returns a keyring whose current key is next and which still
// recognises every key of r. Tokens made from now on differ from the old
// ones for the same input; [Pseudonymizer.Match] recognises both, so stored
// tokens can be re-keyed when their input is next seen. The error is as
// for [NewKeyring].
func (r *Keyring) Rotate(next Key) (*Keyring, error) {
	if r == nil || len(r.keys) == 0 {
		return NewKeyring(next)
	}
	if err := r.checkNew(next); err != nil {
		return nil, err
	}
	return &Keyring{keys: append([]ringKey{sealKey(next)}, r.keys...)}, nil
}

// Retire returns a keyring without the key id, whose tokens are then no
// longer recognised (which, once its tokens are re-keyed or deleted, is the
// point). Retiring the current key or an id not in the ring is a
// [*KeyError] wrapping [ErrKeyID] or [ErrUnknownKey]; retiring from a nil
// or zero keyring is [ErrNoMinimizer].
func (r *Keyring) Retire(id string) (*Keyring, error) {
	if r == nil || len(r.keys) == 0 {
		return nil, ErrNoMinimizer
	}
	if r.keys[0].id == id {
		return nil, keyError(id, ErrKeyID, "cannot retire the current key; rotate first")
	}
	out := &Keyring{}
	for _, k := range r.keys {
		if k.id != id {
			out.keys = append(out.keys, k)
		}
	}
	if len(out.keys) == len(r.keys) {
		return nil, keyError(id, ErrUnknownKey, "")
	}
	return out, nil
}

// Pseudonymizer returns the pseudonymizer of the keyring for purpose p:
// every key is first derived for p, so tokens made for one purpose cannot
// be joined with tokens made for another. The error is [ErrNoKeyring] for
// a nil or zero keyring, or a [*RuleError] wrapping [ErrInvalidPolicy]
// (and the [*consent.KeyError]) for a malformed purpose.
func (r *Keyring) Pseudonymizer(p consent.Purpose) (*Pseudonymizer, error) {
	if r == nil || len(r.keys) == 0 {
		return nil, ErrNoKeyring
	}
	if err := p.Validate(); err != nil {
		return nil, &RuleError{Index: -1, Target: string(p), Err: ErrInvalidPolicy, Why: "malformed purpose", Cause: err}
	}
	ps := &Pseudonymizer{purpose: p, byID: make(map[string]*pkey, len(r.keys)), ids: r.IDs()}
	for i, k := range r.keys {
		pk := newPKey(k.id, k.derive(p))
		if i == 0 {
			ps.cur = pk
		}
		ps.byID[k.id] = pk
	}
	return ps, nil
}

// Token format (version 1). The token is the lower-case base32hex encoding,
// without padding, of
//
//	d[0:16] ‖ (v ‖ id) XOR d[i mod 16]
//
// where d = HMAC-SHA-256(K_p, c ‖ input), K_p = HMAC-SHA-256(secret,
// "tact/minimize/pseudonym/v1" ‖ 0x00 ‖ purpose), v = 1 is the format
// version, id the key id and c a one-byte counter, 0 unless the encoding of
// a lower counter contained the input. Masking the id with digest bytes
// makes every character of the token vary with the input (a fixed id in
// clear would make "contains the input" unavoidable for inputs that are part
// of the id); the id is recovered from the token alone.
const (
	tokenVersion = 1
	digestLen    = 16
	deriveLabel  = "tact/minimize/pseudonym/v1\x00"
	maxRawLen    = digestLen + 1 + MaxKeyIDLen
)

var tokenEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// Pseudonymizer makes and recognises keyed pseudonyms (tokens) for one
// purpose. Get one from [Keyring.Pseudonymizer]; a [Minimizer] whose policy
// pseudonymizes uses one built from [Config.Keyring].
//
// Tokens are HMAC-SHA-256 of the input under a key derived from the
// keyring key and the purpose, truncated to 128 bits, followed by the key
// id, in lower-case base32hex (digits and a–v): 31 characters for a
// two-byte key id. The same input gives the same token for one key and
// purpose; a token never equals or contains its input.
//
// A Pseudonymizer prints and logs as its purpose and key ids, never key
// material; see [Pseudonymizer.String].
//
// A Pseudonymizer is safe for simultaneous use by multiple goroutines.
type Pseudonymizer struct {
	purpose consent.Purpose
	cur     *pkey
	byID    map[string]*pkey
	ids     []string // current first
}

type pkey struct {
	id      string
	payload []byte // tokenVersion ‖ id
	pool    sync.Pool
}

type hstate struct {
	mac   hash.Hash
	sum   [sha256.Size]byte
	raw   [maxRawLen]byte
	enc   [(maxRawLen*8 + 4) / 5]byte
	chunk [256]byte
}

// newPKey returns the key id with its key derived for a purpose; derived
// is kept only in the closure of the pool's New.
func newPKey(id string, derived []byte) *pkey {
	pk := &pkey{id: id, payload: append([]byte{tokenVersion}, id...)}
	pk.pool.New = func() any {
		return &hstate{mac: hmac.New(sha256.New, derived)}
	}
	return pk
}

// String returns the purpose and the key ids, current first:
// `minimize.Pseudonymizer{purpose: analytics, keys: 2, ids: [k2 k1],
// current: k2}`, or `minimize.Pseudonymizer(nil)`.
func (p *Pseudonymizer) String() string {
	if p == nil {
		return "minimize.Pseudonymizer(nil)"
	}
	var b strings.Builder
	b.WriteString("minimize.Pseudonymizer{purpose: ")
	b.WriteString(string(p.purpose))
	b.WriteString(", ")
	writeKeys(&b, p.ids)
	b.WriteString("}")
	return b.String()
}

// GoString is [Pseudonymizer.String], for %#v.
func (p *Pseudonymizer) GoString() string { return p.String() }

// Format prints [Pseudonymizer.String] whatever the verb, as
// [Keyring.Format] does.
func (p *Pseudonymizer) Format(f fmt.State, verb rune) { formatSummary(f, verb, p.String()) }

// LogValue logs the purpose, the number of keys, their ids and the current
// one.
func (p *Pseudonymizer) LogValue() slog.Value {
	var ids []string
	if p != nil {
		ids = p.ids
	}
	return slog.GroupValue(append([]slog.Attr{slog.String("purpose", string(p.Purpose()))}, keyAttrs(ids)...)...)
}

// Purpose returns the purpose the tokens are scoped to.
func (p *Pseudonymizer) Purpose() consent.Purpose {
	if p == nil {
		return ""
	}
	return p.purpose
}

// CurrentKey returns the id of the key new tokens are made with.
func (p *Pseudonymizer) CurrentKey() string {
	if p == nil || p.cur == nil {
		return ""
	}
	return p.cur.id
}

// Token returns the token of s under the current key. The empty string
// gives the empty string. The error is [ErrPseudonym] in the practically
// impossible case described there, or [ErrNoMinimizer] for a nil or zero
// Pseudonymizer.
func (p *Pseudonymizer) Token(s string) (string, error) {
	if p == nil || p.cur == nil {
		return "", ErrNoMinimizer
	}
	return p.cur.token(s)
}

// KeyID returns the id of the key a token was made with. The error wraps
// [ErrToken] when tok is not a token, or is a [*KeyError] wrapping
// [ErrUnknownKey] when the key is not in the keyring.
func (p *Pseudonymizer) KeyID(tok string) (string, error) {
	if p == nil || p.cur == nil {
		return "", ErrNoMinimizer
	}
	id, ok := tokenKeyID(tok)
	if !ok {
		return "", ErrToken
	}
	if _, ok := p.byID[id]; !ok {
		return "", keyError(id, ErrUnknownKey, "")
	}
	return id, nil
}

// Match reports whether tok is the token of s under any key of the keyring
// (the current one or an older one), for this purpose.
func (p *Pseudonymizer) Match(tok, s string) bool {
	if p == nil || p.cur == nil {
		return false
	}
	if tok == "" || s == "" {
		return tok == s
	}
	id, ok := tokenKeyID(tok)
	if !ok {
		return false
	}
	k, ok := p.byID[id]
	if !ok {
		return false
	}
	want, err := k.token(s)
	return err == nil && hmac.Equal([]byte(want), []byte(tok))
}

// token makes the token of s under k; see the format above.
func (k *pkey) token(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	hs := k.pool.Get().(*hstate)
	defer k.pool.Put(hs)
	n := digestLen + len(k.payload)
	m := tokenEncoding.EncodedLen(n)
	for ctr := 0; ctr < 256; ctr++ {
		hs.mac.Reset()
		hs.chunk[0] = byte(ctr)
		w := 1 + copy(hs.chunk[1:], s)
		hs.mac.Write(hs.chunk[:w])
		for rest := s[w-1:]; rest != ""; {
			c := copy(hs.chunk[:], rest)
			hs.mac.Write(hs.chunk[:c])
			rest = rest[c:]
		}
		sum := hs.mac.Sum(hs.sum[:0])
		raw := hs.raw[:n]
		copy(raw, sum[:digestLen])
		for i, b := range k.payload {
			raw[digestLen+i] = b ^ sum[i%digestLen]
		}
		enc := hs.enc[:m]
		tokenEncoding.Encode(enc, raw)
		if !strings.Contains(unsafe.String(&enc[0], m), s) {
			return string(enc), nil
		}
	}
	return "", ErrPseudonym
}

// tokenKeyID recovers the key id from a token, false when tok is not one.
func tokenKeyID(tok string) (string, bool) {
	minLen := tokenEncoding.EncodedLen(digestLen + 2)
	maxLen := tokenEncoding.EncodedLen(maxRawLen)
	if len(tok) < minLen || len(tok) > maxLen {
		return "", false
	}
	var raw [maxRawLen + 1]byte
	n, err := tokenEncoding.Decode(raw[:], []byte(tok))
	if err != nil || n < digestLen+2 || n > maxRawLen || tokenEncoding.EncodedLen(n) != len(tok) {
		return "", false
	}
	payload := raw[digestLen:n]
	for i := range payload {
		payload[i] ^= raw[i%digestLen]
	}
	if payload[0] != tokenVersion {
		return "", false
	}
	id := string(payload[1:])
	if !validKeyID(id) {
		return "", false
	}
	return id, true
}
