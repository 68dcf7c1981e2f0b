package jsonkey_test

import (
	"testing"

	"github.com/tact-go/tact/internal/jsonkey"
)

func TestDuplicate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // "" for none
	}{
		{`{"a":1,"b":2}`, ""},
		{`{"a":1,"a":2}`, "a"},
		{`{"Seq":1,"seq":2}`, "seq"},              // encoding/json matches fields case-insensitively
		{`{"kind":1,"\u212aind":2}`, "\u212aind"}, // the Kelvin sign folds to k
		{`{"a":{"b":1},"b":2}`, ""},               // one name per object
		{`{"a":{"b":1,"b":2}}`, "b"},              // nested
		{`[{"a":1},{"a":2}]`, ""},                 // objects in an array are separate
		{`[{"a":1,"a":2}]`, "a"},                  // but each is checked
		{`{"a":[1,{"x":1}],"x":2}`, ""},           // a value in an array is not a key
		{`{"a":"a","b":"a"}`, ""},                 // values are not keys
		{`{"a":1,`, ""},                           // syntax errors are left to the decoder
		{``, ""},
	} {
		got, dup := jsonkey.Duplicate([]byte(tc.in))
		if dup != (tc.want != "") || got != tc.want {
			t.Errorf("Duplicate(%s) = %q, %v; want %q", tc.in, got, dup, tc.want)
		}
	}
}
