package minimize_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/minimize"
)

// fmtDirectives are every verb fmt knows, with and without flags, width
// and precision.
var fmtDirectives = []string{
	"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%o", "%O", "%b", "%c", "%U", "%e", "%E", "%f", "%F",
	"%g", "%G", "%t", "%p", "%T", "%w", "%z",
	"%-80v", "%80v", "%080v", "% x", "% X", "%#x", "%#X", "%# x", "%+q", "%#q", "%.3s", "%10.4v", "%08d", "%+d",
	"%#o", "%-12x", "%[1]v %[1]x",
}

// leaks lists the forms a secret could take in printed output: raw, hex,
// base64, base32, decimal and Go byte-slice literal, each whole and for an
// 8-byte window from its start and middle (so a partial leak shows too).
func leaks(secret []byte) []string {
	var out []string
	for _, b := range [][]byte{secret, secret[:8], secret[12:20]} {
		dec := fmt.Sprint(b)
		lit := fmt.Sprintf("%#v", b)
		out = append(out,
			string(b),
			hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)),
			fmt.Sprintf("% x", b), fmt.Sprintf("% X", b),
			dec[1:len(dec)-1],                               // "12 34 56"
			lit[len("[]byte{"):len(lit)-1],                  // "0xc, 0x22, 0x38"
			strings.Trim(fmt.Sprintf("%q", string(b)), `"`), // escaped string
		)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		out = append(out, strings.TrimRight(enc.EncodeToString(secret), "="), enc.EncodeToString(secret[:6]))
	}
	out = append(out, strings.TrimRight(base32.StdEncoding.EncodeToString(secret), "="), base32.StdEncoding.EncodeToString(secret[:5]))
	return out
}

// printed returns v through every formatting path: fmt, slog's text and
// JSON handlers, encoding/json, encoding/xml and encoding/gob.
//
// The paths left out are fmt's bad-verb reports (%p on a value that is not
// a pointer, %w outside Errorf or on a non-error) for a Key or a struct
// holding one: fmt reports a bad verb by printing the argument's fields
// without calling any of its methods, so no method of Key can redact its
// exported Secret there (go vet flags both calls). The Key documentation
// says so and tells the host to hold the *Keyring, whose secrets no verb
// reaches, rather than Keys; the Keyring, Pseudonymizer, Minimizer and
// Config are checked on these paths too.
func printed(v any) []string {
	var out []string
	for _, d := range fmtDirectives {
		if (d == "%p" || d == "%w") && holdsKey(v) {
			continue
		}
		out = append(out, fmt.Sprintf(d, v))
	}
	out = append(out, fmt.Sprint(v), fmt.Sprintln(v, v), fmt.Sprint([]any{v}), fmt.Sprintf("%v", map[string]any{"v": v}),
		fmt.Sprintf("%+v", struct{ V any }{v}), fmt.Sprintf("%#v", struct{ V any }{v}), fmt.Errorf("wrapped: %v", v).Error())
	for _, h := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var b bytes.Buffer
		l := slog.New(h(&b))
		l.Info("x", "v", v)
		l.Info("x", slog.Any("v", v), slog.Group("g", "v", v))
		l.With("v", v).Info("x")
		l.Info(fmt.Sprint(v))
		out = append(out, b.String())
	}
	if j, err := json.Marshal(v); err == nil {
		out = append(out, string(j))
	}
	if j, err := json.Marshal(map[string]any{"v": v}); err == nil {
		out = append(out, string(j))
	}
	if x, err := xml.Marshal(v); err == nil {
		out = append(out, string(x))
	}
	var g bytes.Buffer
	if err := gob.NewEncoder(&g).Encode(v); err == nil {
		out = append(out, g.String())
	}
	return out
}

// holdsKey reports whether a Key is reachable from v.
func holdsKey(v any) bool { return reachesKey(reflect.ValueOf(v), 0) }

func reachesKey(v reflect.Value, depth int) bool {
	if !v.IsValid() || depth > 8 {
		return false
	}
	if v.Type() == reflect.TypeFor[minimize.Key]() {
		return true
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil() && reachesKey(v.Elem(), depth+1)
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if reachesKey(v.Index(i), depth+1) {
				return true
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if reachesKey(it.Value(), depth+1) {
				return true
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if reachesKey(v.Field(i), depth+1) {
				return true
			}
		}
	}
	return false
}

// derived is the per-purpose key the pseudonymizer computes from a secret,
// secret too (see the token format in keyring.go).
func derived(secret []byte, p consent.Purpose) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("tact/minimize/pseudonym/v1\x00" + string(p)))
	return h.Sum(nil)
}

// Property: whatever holds key material (Key, Keyring, Pseudonymizer,
// Minimizer, Config, a caller's struct or map holding them, errors about
// keys) never shows a secret, nor a key derived from one, in any form, on
// any formatting path.
func TestPropertySecretsNeverPrinted(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 14))
	policy, err := minimize.NewPolicy(consent.PurposeAnalyticsAggregate,
		minimize.ForCategory(consent.CategoryUniqueID, minimize.Pseudonymize()))
	require.NoError(t, err)
	for i := range 40 {
		n := 1 + r.IntN(3)
		keys := make([]minimize.Key, n)
		var forbidden []string
		for j := range keys {
			secret := make([]byte, minimize.MinKeyLen+r.IntN(33))
			for k := range secret {
				secret[k] = byte(r.Uint32())
			}
			keys[j] = minimize.Key{ID: fmt.Sprintf("k%d-%d", i, j), Secret: secret}
			forbidden = append(forbidden, leaks(secret)...)
			forbidden = append(forbidden, leaks(derived(secret, consent.PurposeAnalyticsAggregate))...)
		}
		kr, err := minimize.NewKeyring(keys[0], keys[1:]...)
		require.NoError(t, err)
		ps, err := kr.Pseudonymizer(consent.PurposeAnalyticsAggregate)
		require.NoError(t, err)
		m, err := minimize.New(policy, minimize.Config{Keyring: kr})
		require.NoError(t, err)
		_, _ = ps.Token("warm the pool") // hashing state now holds key material
		_, err = minimize.Struct(m, Order{CustomerID: "c1"})
		require.NoError(t, err)
		cfg := minimize.Config{Keyring: kr}

		// Errors about these keys: too short, a repeated id, a bad id.
		var errs []any
		for _, bad := range [][]minimize.Key{
			{{ID: keys[0].ID, Secret: keys[0].Secret[:minimize.MinKeyLen-1]}},
			{keys[0], {ID: keys[0].ID, Secret: keys[0].Secret}},
			{{ID: "bad id " + string(keys[0].Secret[:4]), Secret: keys[0].Secret}},
		} {
			_, err := minimize.NewKeyring(bad[0], bad[1:]...)
			require.Error(t, err)
			errs = append(errs, err, fmt.Errorf("load keys: %w", err))
		}
		_, err = kr.Rotate(keys[0])
		require.Error(t, err)
		errs = append(errs, err)
		// A secret given as the id (fields swapped, or an encoded secret
		// in the wrong place) is malformed as an id, and not shown.
		s0 := keys[0].Secret
		for _, id := range []string{string(s0), hex.EncodeToString(s0), base64.RawURLEncoding.EncodeToString(s0)} {
			_, err := minimize.NewKeyring(minimize.Key{ID: id, Secret: s0})
			require.ErrorIs(t, err, minimize.ErrKeyID)
			_, rerr := kr.Retire(id)
			require.Error(t, rerr)
			errs = append(errs, err, rerr)
		}

		swapped := minimize.Key{ID: string(s0), Secret: []byte(keys[0].ID)}
		encoded := minimize.Key{ID: hex.EncodeToString(s0), Secret: s0}
		values := append([]any{
			keys[0], &keys[0], keys, kr, *kr, ps, *ps, m, *m, cfg, &cfg, swapped, encoded,
			struct {
				Ring   *minimize.Keyring
				Key    minimize.Key
				M      *minimize.Minimizer
				Config minimize.Config
			}{kr, keys[0], m, cfg},
			map[string]any{"ring": kr, "key": keys[0]},
			[]*minimize.Keyring{kr},
		}, errs...)
		for _, v := range values {
			for _, out := range printed(v) {
				for _, f := range forbidden {
					if strings.Contains(out, f) {
						t.Fatalf("%T printed key material %q in:\n%s", v, f, out)
					}
				}
			}
		}
	}
}

// What is printed instead is useful: the key ids (not secret) and counts.
func TestSecretHoldersPrintSummaries(t *testing.T) {
	k1 := minimize.Key{ID: "k1", Secret: exampleSecret(1)}
	k2 := minimize.Key{ID: "k2", Secret: exampleSecret(2)}
	kr, err := minimize.NewKeyring(k2, k1)
	require.NoError(t, err)
	ps, err := kr.Pseudonymizer(consent.PurposeAnalytics)
	require.NoError(t, err)
	policy, err := minimize.NewPolicy(consent.PurposeAnalytics,
		minimize.ForCategory(consent.CategoryUniqueID, minimize.Pseudonymize()),
		minimize.ForCategory(consent.CategoryPayment, minimize.Bucket(25)))
	require.NoError(t, err)
	m, err := minimize.New(policy, minimize.Config{Keyring: kr})
	require.NoError(t, err)

	const (
		key  = `minimize.Key{ID:"k1", Secret:[redacted]}`
		ring = `minimize.Keyring{keys: 2, ids: [k2 k1], current: k2}`
		pseu = `minimize.Pseudonymizer{purpose: analytics, keys: 2, ids: [k2 k1], current: k2}`
		mini = `minimize.Minimizer{purpose: analytics, rules: 2, keys: 2, ids: [k2 k1], current: k2}`
	)
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"key", k1, key},
		{"key pointer", &k1, key},
		{"keyring", kr, ring},
		{"pseudonymizer", ps, pseu},
		{"minimizer", m, mini},
		{"narrowed minimizer", m.Narrow(minimize.AllowFunc(func(consent.Category) bool { return true })),
			`minimize.Minimizer{purpose: analytics, rules: 2, keys: 2, ids: [k2 k1], current: k2, narrowed}`},
		{"zero keyring", &minimize.Keyring{}, `minimize.Keyring{keys: 0}`},
		{"nil keyring", (*minimize.Keyring)(nil), `minimize.Keyring(nil)`},
		{"nil minimizer", (*minimize.Minimizer)(nil), `minimize.Minimizer(nil)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, d := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x"} {
				got := fmt.Sprintf(d, tt.v)
				if d == "%x" {
					assert.Equal(t, hex.EncodeToString([]byte(tt.want)), got, "%%x hex-encodes the summary, as fmt does for strings")
					continue
				}
				assert.Equal(t, tt.want, got, d)
			}
			assert.Equal(t, fmt.Sprintf("%q", tt.want), fmt.Sprintf("%q", tt.v))
			assert.Equal(t, fmt.Sprintf("%-90s|", tt.want), fmt.Sprintf("%-90v|", tt.v), "width and flags apply")
			if s, ok := tt.v.(fmt.Stringer); ok {
				assert.Equal(t, tt.want, s.String())
			}
			if s, ok := tt.v.(fmt.GoStringer); ok {
				assert.Equal(t, tt.want, s.GoString())
			}
		})
	}

	var b bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&b, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	l.Info("keys", "key", k1, "ring", kr, "pseudonymizer", ps, "minimizer", m)
	assert.JSONEq(t, `{"level":"INFO","msg":"keys",
		"key":{"id":"k1","secret":"[redacted]"},
		"ring":{"keys":2,"ids":["k2","k1"],"current":"k2"},
		"pseudonymizer":{"purpose":"analytics","keys":2,"ids":["k2","k1"],"current":"k2"},
		"minimizer":{"purpose":"analytics","rules":2,"keys":2,"ids":["k2","k1"],"current":"k2","narrowed":false}}`, b.String())

	j, err := json.Marshal(k1)
	require.NoError(t, err)
	assert.JSONEq(t, `"minimize.Key{ID:\"k1\", Secret:[redacted]}"`, string(j), "a Key marshals without its secret")
	var back minimize.Key
	assert.Error(t, json.Unmarshal(j, &back), "a round trip fails rather than yield a key without its secret")
	require.NoError(t, json.Unmarshal([]byte(`{"ID":"k1","Secret":"`+base64.StdEncoding.EncodeToString(k1.Secret)+`"}`), &back))
	assert.Equal(t, k1, back, "keys still load from JSON (a host's secret store)")
	assert.Equal(t, `minimize.Key{ID:<malformed, 32 bytes>, Secret:[redacted]}`,
		fmt.Sprint(minimize.Key{ID: string(exampleSecret(3)), Secret: []byte("k1")}), "a secret in the id field is not shown")
	_, err = minimize.NewKeyring(minimize.Key{ID: "k 1", Secret: exampleSecret(3)})
	assert.EqualError(t, err, `minimize: invalid key id: id <malformed, 3 bytes>: want A-Z, a-z, 0-9, '.', '_' or '-'`)
}

// The Keyring's key material cannot be reached by printing a Keyring value
// (not only a pointer) with reflection-based printers either.
func TestKeyringValueHoldsNoPrintableSecret(t *testing.T) {
	secret := []byte("super-secret-key-material-0123456789")
	kr, err := minimize.NewKeyring(minimize.Key{ID: "k1", Secret: secret})
	require.NoError(t, err)
	type holder struct{ ring minimize.Keyring } // unexported: fmt calls no methods on it
	for _, d := range []string{"%+v", "%#v", "%d", "%x"} {
		s := fmt.Sprintf(d, holder{*kr})
		assert.NotContains(t, s, "super-secret")
		assert.NotContains(t, s, fmt.Sprint(secret[:8])[1:20])
		assert.NotContains(t, s, fmt.Sprintf("%#v", secret[:4])[7:20])
	}
}
