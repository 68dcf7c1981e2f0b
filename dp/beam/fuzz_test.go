package dpbeam

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/tact-go/tact/dp"
)

// FuzzResultJSON checks the decoder of an aggregation's release on any
// input: it never panics, it refuses with an error wrapping
// dp.ErrInvalidRelease, and what it accepts encodes and decodes to itself.
func FuzzResultJSON(f *testing.F) {
	good, err := json.Marshal(sampleResult())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"label":"","metrics":"mean","epsilon":1,"delta":0,"alpha":0.05,"private":false,"public":true,"partitions":[]}`))
	f.Add([]byte(`{"label":"x","metrics":"sum","epsilon":1,"delta":0,"alpha":0.05,"private":true,"public":false,` +
		`"partitions":[{"key":"a","sum":{"value":-0,"lower":-1e308,"upper":1e308}}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		var r Result[int64]
		if err := r.UnmarshalJSON(doc); err != nil {
			if !errors.Is(err, dp.ErrInvalidRelease) {
				t.Fatalf("error %v does not wrap dp.ErrInvalidRelease", err)
			}
			return
		}
		enc, err := json.Marshal(&r)
		if err != nil {
			t.Fatalf("an accepted release does not encode: %v", err)
		}
		var again Result[int64]
		if err := again.UnmarshalJSON(enc); err != nil {
			t.Fatalf("re-encoded release %s refused: %v", enc, err)
		}
		if !reflect.DeepEqual(again.Partitions(), r.Partitions()) || again.String() != r.String() {
			t.Fatalf("round trip changed the release:\n%s\n%s", doc, enc)
		}
	})
}

// FuzzSplitKey checks that splitKey accepts only what joinKey makes, and
// never panics.
func FuzzSplitKey(f *testing.F) {
	for _, k := range []string{"", ":", "0:", "1:ab", "01:ab", "-1:a", "3:a", "2:é", "9999999999999999999:x"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, k string) {
		a, b, ok := splitKey(k)
		if ok && joinKey(a, b) != k {
			t.Fatalf("splitKey(%q) = %q, %q: joinKey gives %q", k, a, b, joinKey(a, b))
		}
	})
}
