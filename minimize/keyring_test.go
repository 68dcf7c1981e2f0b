package minimize_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/minimize"
)

func TestNewKeyringRejects(t *testing.T) {
	good := benchSecret()
	tests := []struct {
		name   string
		keys   []minimize.Key
		want   error
		reason string
	}{
		{"nil secret", []minimize.Key{{ID: "k1"}}, minimize.ErrShortKey, "no key at all"},
		{"short", []minimize.Key{{ID: "k1", Secret: good[:31]}}, minimize.ErrShortKey, "under 256 bits"},
		{"zero key", []minimize.Key{{ID: "k1", Secret: make([]byte, 32)}}, minimize.ErrWeakKey, "an uninitialized buffer"},
		{"repeated byte", []minimize.Key{{ID: "k1", Secret: bytes.Repeat([]byte{7}, 64)}}, minimize.ErrWeakKey, "one byte repeated"},
		{"empty id", []minimize.Key{{Secret: good}}, minimize.ErrKeyID, "tokens need an id"},
		{"long id", []minimize.Key{{ID: strings.Repeat("k", 33), Secret: good}}, minimize.ErrKeyID, "at most 32 bytes"},
		{"bad id char", []minimize.Key{{ID: "k 1", Secret: good}}, minimize.ErrKeyID, "restricted alphabet"},
		{"dup id", []minimize.Key{{ID: "k1", Secret: good}, {ID: "k1", Secret: exampleSecret(3)}}, minimize.ErrKeyID, "ids are unique"},
		{"bad older", []minimize.Key{{ID: "k1", Secret: good}, {ID: "k0", Secret: good[:8]}}, minimize.ErrShortKey, "older keys are checked too"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr, err := minimize.NewKeyring(tt.keys[0], tt.keys[1:]...)
			require.ErrorIs(t, err, tt.want, tt.reason)
			assert.Nil(t, kr)
			assert.NotContains(t, err.Error(), string(good[:8]), "errors never show key material")
		})
	}
}

func TestKeyNeverPrintsSecret(t *testing.T) {
	k := minimize.Key{ID: "k1", Secret: []byte("super-secret-key-material-0123456789")}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "key", k)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k), logged.String()} {
		assert.NotContains(t, s, "super-secret")
		assert.Contains(t, s, "k1")
	}
}

func TestKeyringCopiesSecrets(t *testing.T) {
	secret := exampleSecret(1)
	kr, err := minimize.NewKeyring(minimize.Key{ID: "k1", Secret: secret})
	require.NoError(t, err)
	p, err := kr.Pseudonymizer(consent.PurposeAnalytics)
	require.NoError(t, err)
	before, err := p.Token("x@example.com")
	require.NoError(t, err)
	secret[0] ^= 0xff
	p2, err := kr.Pseudonymizer(consent.PurposeAnalytics)
	require.NoError(t, err)
	after, err := p2.Token("x@example.com")
	require.NoError(t, err)
	assert.Equal(t, before, after, "changing the caller's slice does not change the keyring")
}

func TestTokenKnownAnswer(t *testing.T) {
	// Computed independently with Python's hmac, hashlib and base64 modules
	// from the format documented in keyring.go.
	kr, err := minimize.NewKeyring(minimize.Key{ID: "k1", Secret: exampleSecret(1)})
	require.NoError(t, err)
	p, err := kr.Pseudonymizer(consent.PurposeAnalyticsAggregate)
	require.NoError(t, err)
	tok, err := p.Token("C-1042")
	require.NoError(t, err)
	assert.Equal(t, "e8t9vmpl53qutdqqld33078eappl3bg", tok)
}

func TestTokenProperties(t *testing.T) {
	kr, err := minimize.NewKeyring(minimize.Key{ID: "k1", Secret: benchSecret()}, minimize.Key{ID: "old", Secret: exampleSecret(5)})
	require.NoError(t, err)
	p, err := kr.Pseudonymizer(consent.PurposeAnalytics)
	require.NoError(t, err)
	q, err := kr.Pseudonymizer(consent.PurposeMarketing)
	require.NoError(t, err)

	a1, _ := p.Token("ana@example.com")
	a2, _ := p.Token("ana@example.com")
	b, _ := p.Token("bo@example.com")
	c, _ := q.Token("ana@example.com")
	assert.Equal(t, a1, a2, "consistent for one key and purpose")
	assert.NotEqual(t, a1, b, "different inputs, different tokens")
	assert.NotEqual(t, a1, c, "purpose-scoped: no join across purposes")
	assert.Len(t, a1, 31, "16 digest bytes + version + 2-byte id in base32")

	empty, err := p.Token("")
	require.NoError(t, err)
	assert.Equal(t, "", empty, "no value stays no value")

	// Inputs that a naive format would leak: the key id, single characters
	// of the token alphabet, prefixes of a token.
	inputs := []string{"k1", "k", "1", "old", a1[:5], a1, strings.Repeat("a", 1000)}
	for c := '0'; c <= '9'; c++ {
		inputs = append(inputs, string(c))
	}
	for c := 'a'; c <= 'v'; c++ {
		inputs = append(inputs, string(c), string(c)+"0")
	}
	for _, in := range inputs {
		tok, err := p.Token(in)
		require.NoError(t, err)
		assert.NotEqual(t, in, tok)
		assert.NotContains(t, tok, in, "a token never contains its input %q", in)
		assert.True(t, p.Match(tok, in), "a token matches its input")
		id, err := p.KeyID(tok)
		require.NoError(t, err)
		assert.Equal(t, "k1", id, "the id is recovered from the token alone")
	}
	assert.False(t, p.Match(a1, "bo@example.com"))
	assert.False(t, q.Match(a1, "ana@example.com"), "tokens of another purpose do not match")
}

func TestKeyIDRejectsNonTokens(t *testing.T) {
	kr, err := minimize.NewKeyring(minimize.Key{ID: "k1", Secret: benchSecret()})
	require.NoError(t, err)
	p, err := kr.Pseudonymizer(consent.PurposeAnalytics)
	require.NoError(t, err)
	tok, _ := p.Token("ana@example.com")
	for _, s := range []string{"", "x", "ana@example.com", strings.ToUpper(tok), tok[:len(tok)-1], tok[:10] + "z" + tok[11:], strings.Repeat("0", 31)} {
		_, err := p.KeyID(s)
		assert.ErrorIs(t, err, minimize.ErrToken, "%q is not a token", s)
		assert.False(t, p.Match(s, "ana@example.com"))
	}
	other, err := minimize.NewKeyring(minimize.Key{ID: "k9", Secret: exampleSecret(2)})
	require.NoError(t, err)
	op, _ := other.Pseudonymizer(consent.PurposeAnalytics)
	foreign, _ := op.Token("ana@example.com")
	_, err = p.KeyID(foreign)
	assert.ErrorIs(t, err, minimize.ErrUnknownKey, "a token of a key not in the ring")
}

func TestRotateAndRetire(t *testing.T) {
	kr, err := minimize.NewKeyring(minimize.Key{ID: "a", Secret: exampleSecret(1)})
	require.NoError(t, err)
	kr2, err := kr.Rotate(minimize.Key{ID: "b", Secret: exampleSecret(2)})
	require.NoError(t, err)
	assert.Equal(t, []string{"b", "a"}, kr2.IDs())
	assert.Equal(t, "a", kr.Current(), "rotation returns a new ring")
	_, err = kr2.Rotate(minimize.Key{ID: "a", Secret: exampleSecret(3)})
	assert.ErrorIs(t, err, minimize.ErrKeyID, "an id cannot come back with another secret")
	_, err = kr2.Retire("b")
	assert.ErrorIs(t, err, minimize.ErrKeyID, "the current key cannot be retired")
	_, err = kr2.Retire("zz")
	assert.ErrorIs(t, err, minimize.ErrUnknownKey)
	kr3, err := kr2.Retire("a")
	require.NoError(t, err)
	assert.Equal(t, []string{"b"}, kr3.IDs())
	var zero *minimize.Keyring
	_, err = zero.Pseudonymizer(consent.PurposeAnalytics)
	assert.ErrorIs(t, err, minimize.ErrNoKeyring)
	_, err = kr.Pseudonymizer("Bad")
	assert.ErrorIs(t, err, minimize.ErrInvalidPolicy, "a malformed purpose: an error of this package, like NewPolicy's")
	var ke *consent.KeyError
	assert.ErrorAs(t, err, &ke, "the cause stays reachable")
	var zp *minimize.Pseudonymizer
	_, err = zp.Token("x")
	assert.ErrorIs(t, err, minimize.ErrNoMinimizer)
}
