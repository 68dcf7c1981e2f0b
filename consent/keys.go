package consent

import (
	"errors"
	"strconv"
	"strings"
)

// Purpose names why personal data is used, as a dotted hierarchical key such
// as "personalize.history" or "marketing.email". A purpose covers its
// descendants: "marketing" is the parent of "marketing.email".
//
// Purpose is a string type so that keys can be written as constants; a value
// that did not come from [ParsePurpose] may be malformed, and every function
// that takes a Purpose validates it before use.
type Purpose string

// Category names a kind of personal data, as a dotted hierarchical key such as
// "user.contact.email" or "user.behavior.purchase_history". A category covers
// its descendants.
type Category string

// Key syntax limits.
const (
	// MaxKeyLen is the longest key accepted, in bytes.
	MaxKeyLen = 128
	// MaxKeyDepth is the largest number of dot-separated segments accepted.
	MaxKeyDepth = 8
)

// ErrMalformedKey is returned (wrapped in a [*KeyError]) for a purpose or
// category key that does not follow the key syntax.
var ErrMalformedKey = errors.New("consent: malformed key")

// KeyError describes a malformed [Purpose] or [Category] key. It unwraps to
// [ErrMalformedKey].
type KeyError struct {
	Kind string // "purpose", "category", or "channel" (an [Event]'s Channel)
	Key  string // the key as given
	Pos  int    // byte offset of the first offending byte, or -1
	Why  string // what is wrong, in a few words
}

func (e *KeyError) Error() string {
	var b strings.Builder
	b.WriteString("consent: malformed ")
	b.WriteString(e.Kind)
	b.WriteString(" key ")
	b.WriteString(strconv.Quote(e.Key))
	if e.Pos >= 0 {
		b.WriteString(" at byte ")
		b.WriteString(strconv.Itoa(e.Pos))
	}
	b.WriteString(": ")
	b.WriteString(e.Why)
	return b.String()
}

func (e *KeyError) Unwrap() error { return ErrMalformedKey }

// ParsePurpose validates s as a purpose key. A key is one or more segments
// separated by single dots; each segment starts with a lower-case ASCII letter
// followed by lower-case letters, digits or underscores. At most [MaxKeyLen]
// bytes and [MaxKeyDepth] segments. The error is a [*KeyError].
func ParsePurpose(s string) (Purpose, error) {
	if err := checkKey("purpose", s); err != nil {
		return "", err
	}
	return Purpose(s), nil
}

// ParseCategory validates s as a category key, with the syntax described at
// [ParsePurpose]. The error is a [*KeyError].
func ParseCategory(s string) (Category, error) {
	if err := checkKey("category", s); err != nil {
		return "", err
	}
	return Category(s), nil
}

// Validate reports whether p is a well-formed key; the error is a [*KeyError].
func (p Purpose) Validate() error { return checkKey("purpose", string(p)) }

// Validate reports whether c is a well-formed key; the error is a [*KeyError].
func (c Category) Validate() error { return checkKey("category", string(c)) }

// Parent returns the key one level up ("marketing" for "marketing.email"),
// or "" for a top-level key.
func (p Purpose) Parent() Purpose { return Purpose(parent(string(p))) }

// Parent returns the key one level up ("user.contact" for
// "user.contact.email"), or "" for a top-level key.
func (c Category) Parent() Category { return Category(parent(string(c))) }

// Covers reports whether p is q or an ancestor of q: a decision about
// "marketing" applies to "marketing.email".
func (p Purpose) Covers(q Purpose) bool { return covers(string(p), string(q)) }

// Covers reports whether c is d or an ancestor of d.
func (c Category) Covers(d Category) bool { return covers(string(c), string(d)) }

// Depth returns the number of segments in p (1 for "marketing").
func (p Purpose) Depth() int { return strings.Count(string(p), ".") + 1 }

// Depth returns the number of segments in c (1 for "user").
func (c Category) Depth() int { return strings.Count(string(c), ".") + 1 }

func (p Purpose) String() string  { return string(p) }
func (c Category) String() string { return string(c) }

func parent(k string) string {
	if i := strings.LastIndexByte(k, '.'); i >= 0 {
		return k[:i]
	}
	return ""
}

func covers(anc, k string) bool {
	if len(anc) == 0 || !strings.HasPrefix(k, anc) {
		return false
	}
	return len(k) == len(anc) || k[len(anc)] == '.'
}

func checkKey(kind, s string) error {
	bad := func(pos int, why string) error {
		return &KeyError{Kind: kind, Key: s, Pos: pos, Why: why}
	}
	switch {
	case s == "":
		return bad(-1, "empty")
	case len(s) > MaxKeyLen:
		return bad(MaxKeyLen, "longer than "+strconv.Itoa(MaxKeyLen)+" bytes")
	}
	depth, start := 1, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if start {
				return bad(i, "empty segment")
			}
			depth++
			if depth > MaxKeyDepth {
				return bad(i, "more than "+strconv.Itoa(MaxKeyDepth)+" segments")
			}
			start = true
			continue
		case 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9', c == '_':
			if start {
				return bad(i, "segment must start with a lower-case letter")
			}
		default:
			return bad(i, "invalid character "+strconv.QuoteRune(rune(c))+" (want a-z, 0-9, _ or .)")
		}
		start = false
	}
	if start {
		return bad(len(s)-1, "empty segment")
	}
	return nil
}
