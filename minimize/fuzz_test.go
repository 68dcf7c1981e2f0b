package minimize

import (
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
)

// FuzzTag checks the tag parser and plan building on arbitrary tag values:
// no panic; a tag is "-" or a valid category, exactly; anything else fails
// the plan with ErrTag naming the field.
func FuzzTag(f *testing.F) {
	for _, s := range []string{"-", "user", "user.contact.email", "user.contact.email,omitempty", "", "User", "user..x", ",", "user.a_1.b2", "a.b.c.d.e.f.g.h.i", "\x00", "ż", `"`, "user\\"} {
		f.Add(s)
	}
	pol, err := NewPolicy("analytics", ForCategory("user", Keep()))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, tag string) {
		c, skip, why := parseTag(tag)
		switch {
		case skip:
			if tag != "-" || why != "" {
				t.Fatalf("skip for %q", tag)
			}
		case why == "":
			if string(c) != tag || c.Validate() != nil {
				t.Fatalf("accepted %q as %q", tag, c)
			}
		default:
			if c != "" {
				t.Fatalf("category %q returned with an error", c)
			}
		}
		typ := reflect.StructOf([]reflect.StructField{{
			Name: "A", Type: reflect.TypeFor[string](), Tag: reflect.StructTag(`tact:` + strconv.Quote(tag)),
		}})
		if got, ok := typ.Field(0).Tag.Lookup("tact"); !ok || got != tag {
			t.Skip("tag not representable in a struct tag")
		}
		p, err := buildPlan(typ, pol, false)
		if why != "" {
			var fe *FieldError
			if !errors.Is(err, ErrTag) || !errors.As(err, &fe) || fe.Field != "A" {
				t.Fatalf("tag %q: want ErrTag naming A, got %v", tag, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("tag %q: %v", tag, err)
		}
		if skip != (len(p.fields) == 0) {
			t.Fatalf("tag %q: %d fields in the plan", tag, len(p.fields))
		}
	})
}

// fuzzSchema and fuzzPolicy cover every transform over keys a0..a15.
var fuzzKeys = [...]struct {
	cat consent.Category
	t   Transform
}{
	{"user.a0", Keep()}, {"user.a1", Redact()}, {"user.a2", Mask(1, 2)}, {"user.a3", PostalPrefix(3)},
	{"user.a4", Pseudonymize()}, {"user.a5", Bucket(7)}, {"user.a6", BucketEdges(-5, 0, 10, 100)},
	{"user.a7", TopBottom(-3, 50)}, {"user.a8", GeoPrecision(2)}, {"user.a9", Truncate(Week)},
	{"user.a10", Part(DayOfWeek)}, {"user.a11", AgeBand(10)}, {"user.a12", Drop()},
	{"user.a13", Pseudonymize()}, {"user.a14", Bucket(0.5)}, {"user.a15", Keep()},
}

// decodeRecord turns fuzz bytes into a map record: entries of
// [key index][type][payload].
func decodeRecord(data []byte) map[string]any {
	rec := map[string]any{}
	for len(data) >= 2 {
		key := "a" + strconv.Itoa(int(data[0]%18)) // a16, a17: not in the schema
		typ := data[1] % 12
		data = data[2:]
		n := 0
		if len(data) > 0 {
			n = int(data[0]) % 40
			data = data[1:]
		}
		n = min(n, len(data))
		payload := data[:n]
		data = data[n:]
		var u uint64
		var buf [8]byte
		copy(buf[:], payload)
		u = binary.LittleEndian.Uint64(buf[:])
		switch typ {
		case 0:
			rec[key] = string(payload)
		case 1:
			rec[key] = int(u)
		case 2:
			rec[key] = int8(u)
		case 3:
			rec[key] = uint32(u)
		case 4:
			rec[key] = math.Float64frombits(u)
		case 5:
			rec[key] = float32(math.Float64frombits(u))
		case 6:
			rec[key] = time.Unix(int64(u)%(1<<40), int64(u>>40)).UTC()
		case 7:
			rec[key] = u&1 == 1
		case 8:
			rec[key] = nil
		case 9:
			rec[key] = []byte(payload)
		case 10:
			rec[key] = map[string]any{"x": string(payload)}
		default:
			rec[key] = time.Time{}
		}
	}
	return rec
}

// FuzzMap minimizes fuzzed map records: no panic; errors are typed and
// leave no output; output keys are allowed by policy and consent; tokens
// never equal or contain their input; the input is not modified.
func FuzzMap(f *testing.F) {
	f.Add([]byte{4, 0, 1, 'k'})
	f.Add([]byte{5, 4, 8, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f}) // NaN
	f.Add([]byte{11, 6, 8, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{0, 10, 2, 'a', 'b', 1, 0, 3, 'x', 'y', 'z'})
	f.Add([]byte{13, 0, 2, 'k', '1', 2, 1, 1, 0xff, 8, 4, 8, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f})
	fields := map[string]consent.Category{}
	var rules []Rule
	for i, k := range fuzzKeys {
		fields["a"+strconv.Itoa(i)] = k.cat
		rules = append(rules, ForCategory(k.cat, k.t))
	}
	rules = append(rules, ForField("a17", Keep()))
	schema, err := NewSchema(fields)
	if err != nil {
		f.Fatal(err)
	}
	pol, err := NewPolicy("analytics", rules...)
	if err != nil {
		f.Fatal(err)
	}
	kr, err := NewKeyring(Key{ID: "k1", Secret: []byte("fuzz-secret-0123456789abcdef-0123456789")})
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	m, err := New(pol, Config{Keyring: kr, Now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rec := decodeRecord(data)
		deny := len(data) > 0 && data[len(data)-1]&1 == 1
		mm := m
		if deny {
			mm = m.Narrow(AllowFunc(func(c consent.Category) bool { return c != "user.a0" && c != "user.a4" }))
		}
		twin := decodeRecord(data)
		out, err := mm.Map(schema, rec)
		if !reflect.DeepEqual(fmtRec(rec), fmtRec(twin)) {
			t.Fatal("input modified")
		}
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || !(errors.Is(err, ErrTypeMismatch) || errors.Is(err, ErrNotFinite) || errors.Is(err, ErrOutOfRange)) {
				t.Fatalf("unexpected error %v", err)
			}
			if out != nil {
				t.Fatal("output on error")
			}
			return
		}
		for k, v := range out {
			if k == "a12" || k == "a16" || (deny && (k == "a0" || k == "a4")) {
				t.Fatalf("key %s not allowed but present", k)
			}
			if k == "a4" || k == "a13" {
				in, _ := rec[k].(string)
				tok, _ := v.(string)
				if in != "" && (tok == "" || tok == in || strings.Contains(tok, in)) {
					t.Fatalf("token %q for %q", tok, in)
				}
			}
		}
	})
}

// fmtRec renders a record for comparison, NaN-safe.
func fmtRec(rec map[string]any) map[string]string {
	out := make(map[string]string, len(rec))
	for k, v := range rec {
		out[k] = strings.ReplaceAll(reflect.ValueOf(v).String(), " ", "") + "|" + formatAny(v)
	}
	return out
}

func formatAny(v any) string {
	if v == nil {
		return "nil"
	}
	if f, ok := v.(float64); ok {
		return strconv.FormatUint(math.Float64bits(f), 16)
	}
	if f, ok := v.(float32); ok {
		return strconv.FormatUint(uint64(math.Float32bits(f)), 16)
	}
	return formatText(reflect.ValueOf(v))
}

// FuzzToken checks tokens of arbitrary inputs and the decoding of
// arbitrary strings as tokens: no panic, tokens never equal or contain
// their input, they match it and name the current key.
func FuzzToken(f *testing.F) {
	for _, s := range []string{"", "a", "k1", "0", "ana@example.com", "e8t9vmpl53qutdqqld33078eappl3bg", strings.Repeat("v", 300)} {
		f.Add(s)
	}
	kr, err := NewKeyring(Key{ID: "k1", Secret: []byte("fuzz-secret-0123456789abcdef-0123456789")})
	if err != nil {
		f.Fatal(err)
	}
	p, err := kr.Pseudonymizer("analytics")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if id, ok := tokenKeyID(s); ok && !validKeyID(id) {
			t.Fatalf("decoded an invalid id from %q", s)
		}
		_, _ = p.KeyID(s)
		tok, err := p.Token(s)
		if err != nil {
			t.Fatal(err)
		}
		if s == "" {
			if tok != "" {
				t.Fatal("empty input got a token")
			}
			return
		}
		if tok == s || strings.Contains(tok, s) {
			t.Fatalf("token %q contains %q", tok, s)
		}
		if !p.Match(tok, s) {
			t.Fatal("token does not match its input")
		}
		if id, err := p.KeyID(tok); err != nil || id != "k1" {
			t.Fatalf("KeyID = %q, %v", id, err)
		}
	})
}
