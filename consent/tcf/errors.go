package tcf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tact-go/tact/consent"
)

// Sentinel errors. Every error the package returns is one of these, or a
// typed error that unwraps to one of them (and, where it has one, to the
// decoding library's error or the consent package's sentinel), so callers
// can branch with [errors.Is].
var (
	// ErrMalformed is returned (wrapped in a [*ParseError]) for a TC or GPP
	// string that cannot be decoded: bad characters, bad base64, a segment
	// or section cut short, a field out of range.
	ErrMalformed = errors.New("tcf: malformed string")
	// ErrUnsupported is returned (wrapped in a [*ParseError]) for a well
	// formed string of a version this package does not read: a TC string
	// that is not TCF v2 or predates TCF v2.2 (policy version 4), a GPP
	// version other than 1. Inside a GPP string, sections it cannot read are
	// listed in [GPP].Skipped with this error rather than failing the
	// string.
	ErrUnsupported = errors.New("tcf: unsupported version or section")
	// ErrMapping is returned (wrapped in a [*MappingError]) for a mapping
	// that cannot be applied: a TCF purpose number outside 1–11, a malformed
	// tact purpose, one the policy does not declare, one whose legal basis
	// a TCF or GPP signal cannot speak for, or a Consent Mode signal with
	// no purpose.
	ErrMapping = errors.New("tcf: invalid mapping")
)

// ParseError describes why a TC or GPP string, or one part of it, could not
// be read. It unwraps to [ErrMalformed] or [ErrUnsupported], and to the
// decoding library's error when there is one.
type ParseError struct {
	// Section is the GPP section id concerned, 0 for a TC string or the GPP
	// header.
	Section int
	// Part names the part of the string concerned: "tc string", "core",
	// "disclosed vendors", "publisher tc", "gpp header", or a GPP section
	// ("tcfeuv2", "usnat", "section 13", ...).
	Part string
	// Why says what is wrong, in a few words.
	Why string
	// Kind is ErrMalformed or ErrUnsupported.
	Kind error
	// Err is the decoding library's error, or nil.
	Err error
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.Error())
	b.WriteString(": ")
	if e.Part != "" {
		b.WriteString(e.Part)
		b.WriteString(": ")
	}
	b.WriteString(e.Why)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns Kind and, when set, the library's error.
func (e *ParseError) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

func malformed(part, why string, err error) *ParseError {
	return &ParseError{Part: part, Why: why, Kind: ErrMalformed, Err: err}
}

func unsupported(part, why string) *ParseError {
	return &ParseError{Part: part, Why: why, Kind: ErrUnsupported}
}

// MappingError describes what is wrong with a mapping. It unwraps to
// [ErrMapping] and, when there is one, to the cause (such as
// [consent.ErrMalformedKey], [consent.ErrUnknownPurpose] or
// [consent.ErrNotConsentBasis]).
type MappingError struct {
	TCF     int             // the TCF purpose number concerned, 0 if none
	Purpose consent.Purpose // the tact purpose concerned, "" if none
	Signal  string          // the Consent Mode signal or GPP opt-out concerned, "" if none
	Why     string          // what is wrong, in a few words
	Err     error           // the underlying error, or nil
}

func (e *MappingError) Error() string {
	var b strings.Builder
	b.WriteString("tcf: invalid mapping: ")
	if e.TCF != 0 {
		b.WriteString("TCF purpose ")
		b.WriteString(strconv.Itoa(e.TCF))
		b.WriteString(": ")
	}
	if e.Signal != "" {
		b.WriteString(e.Signal)
		b.WriteString(": ")
	}
	if e.Purpose != "" {
		b.WriteString("purpose ")
		b.WriteString(strconv.Quote(string(e.Purpose)))
		b.WriteString(": ")
	}
	b.WriteString(e.Why)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns [ErrMapping] and the underlying error, if any.
func (e *MappingError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrMapping, e.Err}
	}
	return []error{ErrMapping}
}

// safely runs decode, turning a panic inside the decoding libraries into an
// ErrMalformed error for part, so that no input can crash the host.
func safely[T any](part string, decode func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			var zero T
			v, err = zero, malformed(part, "decoder panicked", fmt.Errorf("%v", r))
		}
	}()
	return decode()
}
