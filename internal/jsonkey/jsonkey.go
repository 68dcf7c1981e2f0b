// Package jsonkey finds repeated member names in JSON objects, which
// tact's decoders of signed or hashed documents refuse.
package jsonkey

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode"
)

// Duplicate returns the first member name that appears twice in one JSON
// object of data, and false if there is none, comparing names as encoding/json matches them
// to struct fields (case-insensitively). encoding/json keeps the last of
// repeated names, so a forged value could hide behind a genuine one in a
// signed or hashed document; tact's decoders refuse such input: consent's ledgers, policies and ISO
// records, and consent/pds's grants. Syntax
// errors are left to the decoder that follows, which reports them better.
func Duplicate(data []byte) (string, bool) {
	type frame struct {
		obj     bool
		wantKey bool
		keys    map[string]struct{}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil { // io.EOF, or a syntax error the decoder will report
			return "", false
		}
		if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].wantKey {
			if k, ok := tok.(string); ok {
				f := foldKey(k)
				if _, dup := stack[n-1].keys[f]; dup {
					return k, true
				}
				stack[n-1].keys[f] = struct{}{}
				stack[n-1].wantKey = false
				continue
			}
			// '}' of this object: fall through to close it.
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{obj: true, wantKey: true, keys: map[string]struct{}{}})
			continue
		case json.Delim('['):
			stack = append(stack, frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value ended: the enclosing object expects its next key.
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].wantKey = true
		}
	}
}

// foldKey maps every rune of k to the smallest rune of its Unicode simple
// case-folding orbit, so that two names match under foldKey exactly when
// encoding/json would match them to the same field.
func foldKey(k string) string {
	return strings.Map(func(r rune) rune {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		return m
	}, k)
}
