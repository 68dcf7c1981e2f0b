package minimize

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tact-go/tact/consent"
)

// Rule says how the data of one category, or one named field, passes
// through a [Policy]. Exactly one of Category and Field is set.
type Rule struct {
	// Category the rule covers, with its descendants: a rule for
	// "user.contact" covers "user.contact.email" unless a rule for
	// "user.contact.email" (or a field rule) says otherwise.
	Category consent.Category
	// Field names one field: a struct field path in Go names joined by dots
	// ("Address.Postal"; an embedded struct's name is its type's name) or a
	// map record's key. A field rule wins over every category rule, and
	// lets a policy keep a field that has no category (an untagged struct
	// field holding non-personal data, such as an item id).
	Field string
	// Transform is what happens to the value; the zero value drops it, which
	// is how a rule excludes a child of a kept parent category.
	Transform Transform
}

// ForCategory returns the rule applying t to category c and its descendants.
func ForCategory(c consent.Category, t Transform) Rule { return Rule{Category: c, Transform: t} }

// ForField returns the rule applying t to the named field.
func ForField(field string, t Transform) Rule { return Rule{Field: field, Transform: t} }

// String describes the rule: `category "user.contact" keep` or
// `field "SKU" keep`.
func (r Rule) String() string { return r.target() + " " + r.Transform.String() }

// target returns `category "user.contact"` or `field "SKU"`.
func (r Rule) target() string {
	if r.Field != "" {
		return "field " + quote(r.Field)
	}
	return "category " + quote(string(r.Category))
}

func quote(s string) string { return `"` + s + `"` }

// Policy is the allow-list of one purpose: for each category or field it
// names, the transform the data passes through. Everything it does not name
// is dropped.
//
// Which rule applies to a field: a rule naming the field, else the rule for
// the field's category, else the rule for the nearest ancestor category
// that has one; none means the field is dropped.
//
// Sensitive categories ([consent.Category.Sensitive]: health, precise
// location, government ids, ...) are the exception: only a rule for a
// sensitive category (the category itself or a sensitive ancestor such as
// "user.health") or a field rule reaches them. A broad rule such as
// "user" → Keep, or "user.location" → Keep, does not pass
// "user.health.diagnosis" or "user.location.precise"; they are dropped
// unless named.
//
// A Policy is immutable and safe for simultaneous use by multiple
// goroutines. The zero value is an empty policy with no purpose; [New]
// rejects it.
type Policy struct {
	purpose consent.Purpose
	rules   []Rule
	xforms  []*xform
	byField map[string]int
	byCat   map[consent.Category]int
	pseudo  bool
}

// maxFieldLen bounds field names in rules and schemas.
const maxFieldLen = 256

// NewPolicy validates the rules and returns the policy for purpose p. The
// error is a [*RuleError] wrapping [ErrInvalidPolicy] (a malformed purpose,
// category or field, both or neither set, invalid transform parameters) or
// [ErrDuplicateRule].
func NewPolicy(p consent.Purpose, rules ...Rule) (*Policy, error) {
	if err := p.Validate(); err != nil {
		return nil, &RuleError{Index: -1, Target: string(p), Err: ErrInvalidPolicy, Why: "malformed purpose", Cause: err}
	}
	pol := &Policy{
		purpose: p,
		rules:   make([]Rule, len(rules)),
		xforms:  make([]*xform, len(rules)),
		byField: make(map[string]int),
		byCat:   make(map[consent.Category]int),
	}
	for i, r := range rules {
		target := r.Field
		if target == "" {
			target = string(r.Category)
		}
		bad := func(err error, why string, cause error) error {
			return &RuleError{Index: i, Target: target, Err: err, Why: why, Cause: cause}
		}
		switch {
		case r.Field != "" && r.Category != "":
			return nil, bad(ErrInvalidPolicy, "set Category or Field, not both", nil)
		case r.Field == "" && r.Category == "":
			return nil, bad(ErrInvalidPolicy, "set Category or Field", nil)
		case r.Field != "":
			if why := checkField(r.Field); why != "" {
				return nil, bad(ErrInvalidPolicy, why, nil)
			}
			if _, dup := pol.byField[r.Field]; dup {
				return nil, bad(ErrDuplicateRule, "field named twice", nil)
			}
			pol.byField[r.Field] = i
		default:
			if err := r.Category.Validate(); err != nil {
				return nil, bad(ErrInvalidPolicy, "malformed category", err)
			}
			if _, dup := pol.byCat[r.Category]; dup {
				return nil, bad(ErrDuplicateRule, "category named twice", nil)
			}
			pol.byCat[r.Category] = i
		}
		if why := r.Transform.validate(); why != "" {
			return nil, bad(ErrInvalidPolicy, why, nil)
		}
		pol.rules[i] = r
		pol.xforms[i] = compileTransform(r.Transform)
		if r.Transform.op == opPseudonymize {
			pol.pseudo = true
		}
	}
	return pol, nil
}

// checkField says what is wrong with a field name, "" when nothing.
func checkField(f string) string {
	switch {
	case f == "":
		return "empty field name"
	case len(f) > maxFieldLen:
		return "field name longer than 256 bytes"
	case !utf8.ValidString(f):
		return "field name is not valid UTF-8"
	}
	for _, r := range f {
		if unicode.IsControl(r) {
			return "field name holds a control character"
		}
	}
	return ""
}

// Purpose returns the purpose the policy is for.
func (p *Policy) Purpose() consent.Purpose {
	if p == nil {
		return ""
	}
	return p.purpose
}

// Rules returns a copy of the policy's rules, in the order given.
func (p *Policy) Rules() []Rule {
	if p == nil {
		return nil
	}
	return slices.Clone(p.rules)
}

// Decide returns the rule that applies to a field with the given name and
// category (either may be empty), and false when no rule does, in which case
// the field is dropped. Consent is not considered here; see
// [Minimizer.Narrow].
func (p *Policy) Decide(field string, c consent.Category) (Rule, bool) {
	i := p.decide(field, c)
	if i < 0 {
		return Rule{}, false
	}
	return p.rules[i], true
}

// decide returns the index of the deciding rule, -1 when none.
func (p *Policy) decide(field string, c consent.Category) int {
	if p == nil {
		return -1
	}
	if field != "" {
		if i, ok := p.byField[field]; ok {
			return i
		}
	}
	sensitive := c.Sensitive()
	for ; c != ""; c = c.Parent() {
		if sensitive && !c.Sensitive() {
			break // a broad rule never reaches special-category data
		}
		if i, ok := p.byCat[c]; ok {
			return i
		}
	}
	return -1
}

// parseTag parses the value of a `tact:"..."` struct tag: a category key,
// or "-" for a field the package never copies nor looks into. Options after
// a comma are reserved and rejected. why is non-empty when the tag is
// malformed.
func parseTag(tag string) (c consent.Category, skip bool, why string) {
	if tag == "-" {
		return "", true, ""
	}
	if i := strings.IndexByte(tag, ','); i >= 0 {
		return "", false, "unknown tag option " + quote(tag[i+1:])
	}
	c, err := consent.ParseCategory(tag)
	if err != nil {
		return "", false, strings.TrimPrefix(err.Error(), "consent: ")
	}
	return c, false, ""
}
