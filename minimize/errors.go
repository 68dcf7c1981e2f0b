package minimize

import (
	"errors"
	"strconv"
	"strings"

	"github.com/tact-go/tact/consent"
)

// Sentinel errors. Functions wrap them in the typed errors below; test for
// them with [errors.Is].
var (
	// ErrInvalidPolicy: a rule of a policy is malformed (no target, both a
	// category and a field, a malformed key or invalid transform
	// parameters). Wrapped in a [*RuleError].
	ErrInvalidPolicy = errors.New("minimize: invalid policy")
	// ErrDuplicateRule: two rules of a policy name the same category or the
	// same field. Wrapped in a [*RuleError].
	ErrDuplicateRule = errors.New("minimize: duplicate rule")
	// ErrTag: a struct field's tact tag is malformed. Wrapped in a
	// [*FieldError] naming the field.
	ErrTag = errors.New("minimize: malformed tact tag")
	// ErrSchema: a map schema names an empty or malformed field or a
	// malformed category. Wrapped in a [*FieldError].
	ErrSchema = errors.New("minimize: invalid schema")
	// ErrUnsupported: a record type, or a tagged field's type, that the
	// package cannot copy (maps, channels, functions, interfaces, arrays,
	// recursive types). Wrapped in a [*FieldError] naming the field when
	// there is one.
	ErrUnsupported = errors.New("minimize: unsupported type")
	// ErrTypeMismatch: a transform does not fit the value it is applied to
	// (a mask on an int, a bucket on a string, a pseudonym on a number, a
	// fractional bucket width or bound for an integer, a bucket edge or a
	// top/bottom-coded tail outside the type's range, a value of an
	// unsupported type in a map record). For struct fields this is found
	// when the plan is built; for map values when the record is minimized.
	// Wrapped in a [*FieldError].
	ErrTypeMismatch = errors.New("minimize: transform does not fit the value")
	// ErrNotFinite: a numeric transform was given NaN or an infinity.
	// Wrapped in a [*FieldError].
	ErrNotFinite = errors.New("minimize: value is NaN or infinite")
	// ErrOutOfRange: a generalized value does not fit the value's type (a
	// bucket bound below an int8's range, or below -math.MaxFloat64), or a
	// birth date lies after the time the age is computed at. Wrapped in a
	// [*FieldError].
	ErrOutOfRange = errors.New("minimize: value out of range")
	// ErrNilRecord: a nil map or nil pointer was given as a record.
	ErrNilRecord = errors.New("minimize: nil record")
	// ErrNoMinimizer: a nil or zero [Minimizer], [Retention], [Keyring]
	// (for Retire) or [Pseudonymizer] was used, or a required argument was
	// nil (the [Schema] of a map call, the collected func of a sweep);
	// build values with their constructors.
	ErrNoMinimizer = errors.New("minimize: nil or zero value (use its constructor) or nil argument")
	// ErrNoKeyring: the policy pseudonymizes but [Config.Keyring] is nil.
	ErrNoKeyring = errors.New("minimize: policy pseudonymizes but no keyring was given")
	// ErrShortKey: a pseudonym key is shorter than [MinKeyLen] bytes.
	// Wrapped in a [*KeyError].
	ErrShortKey = errors.New("minimize: pseudonym key shorter than 32 bytes")
	// ErrWeakKey: a pseudonym key is a single byte repeated (the all-zero key
	// of an uninitialized buffer, for one). Wrapped in a [*KeyError].
	ErrWeakKey = errors.New("minimize: pseudonym key is a repeated byte")
	// ErrKeyID: a key id is empty, too long, uses characters outside
	// [A-Za-z0-9._-], or is used twice in one keyring. Wrapped in a
	// [*KeyError].
	ErrKeyID = errors.New("minimize: invalid key id")
	// ErrUnknownKey: a well-formed token names a key id the keyring does
	// not hold (retired, or from another keyring).
	ErrUnknownKey = errors.New("minimize: token key not in keyring")
	// ErrToken: a string is not a token this package produced.
	ErrToken = errors.New("minimize: malformed token")
	// ErrPseudonym: no token avoiding the input was found. The chance is
	// below 1e-50 for a one-character input and smaller for longer ones; it
	// exists so that the guarantee "a token never contains its input" has
	// no silent exception.
	ErrPseudonym = errors.New("minimize: no pseudonym avoids the input")
	// ErrInvalidRetention: a retention schedule with a malformed category
	// or a negative duration. Wrapped in a [*RuleError].
	ErrInvalidRetention = errors.New("minimize: invalid retention schedule")
	// ErrInvalidK: a k-anonymity check with k < 1, no quasi-identifiers, or
	// a quasi-identifier or sensitive field the record type does not have or
	// that is not a single value.
	ErrInvalidK = errors.New("minimize: invalid k-anonymity check")
)

// RuleError describes a rejected rule of a [Policy] or entry of a
// [Retention] schedule. It unwraps to [ErrInvalidPolicy],
// [ErrDuplicateRule] or [ErrInvalidRetention], and to the underlying cause
// (such as a [*consent.KeyError]) when there is one.
type RuleError struct {
	Index  int    // position of the rule in the arguments, -1 when not applicable
	Target string // the category or field the rule names
	Err    error  // the sentinel
	Why    string // what is wrong, in a few words
	Cause  error  // underlying error, or nil
}

// Error describes the rule and what is wrong with it.
func (e *RuleError) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	if e.Index >= 0 {
		b.WriteString(": rule ")
		b.WriteString(strconv.Itoa(e.Index))
	}
	if e.Target != "" {
		b.WriteString(" (")
		b.WriteString(strconv.Quote(e.Target))
		b.WriteString(")")
	}
	if e.Why != "" {
		b.WriteString(": ")
		b.WriteString(e.Why)
	}
	return b.String()
}

// Unwrap returns the sentinel and, when present, the cause.
func (e *RuleError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}

// FieldError describes a problem with one field: a malformed tag or
// schema entry, an unsupported type, or a value a transform cannot take. It
// names the field (a dotted Go field path for structs, the key for maps)
// and never holds the value. It unwraps to one of the sentinels.
type FieldError struct {
	Field     string           // "Address.Postal" or the map key
	Category  consent.Category // the field's category, "" when untagged
	Transform string           // the transform concerned, "" when none
	Err       error            // the sentinel
	Why       string           // detail, in a few words; may be ""
}

// Error names the field, its category and the transform, never the value.
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("minimize: field ")
	b.WriteString(strconv.Quote(e.Field))
	if e.Category != "" {
		b.WriteString(" (")
		b.WriteString(string(e.Category))
		b.WriteString(")")
	}
	if e.Transform != "" {
		b.WriteString(": ")
		b.WriteString(e.Transform)
	}
	b.WriteString(": ")
	b.WriteString(strings.TrimPrefix(e.Err.Error(), "minimize: "))
	if e.Why != "" {
		b.WriteString(": ")
		b.WriteString(e.Why)
	}
	return b.String()
}

// Unwrap returns the sentinel.
func (e *FieldError) Unwrap() error { return e.Err }

// KeyError describes a rejected pseudonym key, or a key id a keyring does
// not hold. It never holds key material: a malformed id, which may be a
// secret given in the wrong field, is neither kept nor shown; Why gives its
// length instead. It unwraps to [ErrShortKey], [ErrWeakKey], [ErrKeyID] or
// [ErrUnknownKey].
type KeyError struct {
	ID  string // the key id, "" when it is malformed
	Err error
	Why string
}

// keyError returns the KeyError for id, leaving out a malformed id.
func keyError(id string, err error, why string) *KeyError {
	if validKeyID(id) {
		return &KeyError{ID: id, Err: err, Why: why}
	}
	hidden := "id " + shownID(id)
	if why != "" {
		hidden += ": " + why
	}
	return &KeyError{Err: err, Why: hidden}
}

// Error names the key id when it is well formed, never the secret.
func (e *KeyError) Error() string {
	s := e.Err.Error()
	if e.ID != "" {
		s += ": key " + strconv.Quote(e.ID)
	}
	if e.Why != "" {
		s += ": " + e.Why
	}
	return s
}

// Unwrap returns the sentinel.
func (e *KeyError) Unwrap() error { return e.Err }

// RecordError is the failure of one record of a batch.
type RecordError struct {
	Index int // position of the record in the batch
	Err   error
}

// Error names the record's index and its error.
func (e *RecordError) Error() string {
	return "minimize: record " + strconv.Itoa(e.Index) + ": " + strings.TrimPrefix(e.Err.Error(), "minimize: ")
}

// Unwrap returns the record's error.
func (e *RecordError) Unwrap() error { return e.Err }

// BatchError lists the records of a batch that failed. The other records
// were minimized; their results are in place.
type BatchError struct {
	Failed []*RecordError
}

// Error counts the failures and shows the first.
func (e *BatchError) Error() string {
	switch len(e.Failed) {
	case 0:
		return "minimize: batch error without failed records"
	case 1:
		return e.Failed[0].Error()
	}
	return "minimize: " + strconv.Itoa(len(e.Failed)) + " records failed; first: " +
		strings.TrimPrefix(e.Failed[0].Error(), "minimize: ")
}

// Unwrap returns the record errors, so [errors.Is] and [errors.As] see
// each of them.
func (e *BatchError) Unwrap() []error {
	out := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		out[i] = f
	}
	return out
}
