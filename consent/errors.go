package consent

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors. Every error the package returns is one of these, or a
// typed error that unwraps to one of them, so callers can branch with
// [errors.Is].
var (
	// ErrUnknownPurpose is returned for a well-formed purpose the policy does
	// not declare. The Gate never allows a purpose it does not know.
	ErrUnknownPurpose = errors.New("consent: unknown purpose")
	// ErrEmptySubject is returned when a subject id is empty.
	ErrEmptySubject = errors.New("consent: empty subject")
	// ErrZeroTime is returned when a time argument or field is the zero time.
	ErrZeroTime = errors.New("consent: zero time")
	// ErrInvalidPolicy is returned (wrapped in a [*PolicyError]) for a policy
	// that is inconsistent or incomplete.
	ErrInvalidPolicy = errors.New("consent: invalid policy")
	// ErrInvalidEvent is returned (wrapped in an [*EventError]) for an event
	// the Gate cannot record.
	ErrInvalidEvent = errors.New("consent: invalid event")
	// ErrInvalidSignals is returned for [Signals] out of range (a negative
	// age, an unknown regime), and when decoding an unknown [Regime] name.
	ErrInvalidSignals = errors.New("consent: invalid signals")
	// ErrInvalidDecision is returned when decoding a [Decision] whose
	// reason code is not one this package writes.
	ErrInvalidDecision = errors.New("consent: invalid decision")
	// ErrNotConsentBasis is returned when a consent event is recorded for a
	// purpose whose legal basis is not consent (contract, legal obligation,
	// ...), or a grant for a legitimate-interest purpose (which can only be
	// objected to).
	ErrNotConsentBasis = errors.New("consent: purpose does not rest on consent")
	// ErrMalformedRecord is returned (wrapped in a [*LineError] when it comes
	// from an import) for a ledger record that cannot be decoded or has
	// fields out of range.
	ErrMalformedRecord = errors.New("consent: malformed ledger record")
	// ErrTampered is returned (wrapped in a [*ChainError]) when the hash chain
	// of the ledger does not verify: a record was edited, deleted, inserted
	// or moved.
	ErrTampered = errors.New("consent: ledger does not verify")
	// ErrConflict is returned (wrapped in a [*ConflictError]) by
	// [Store.Append] when the records do not continue the stored ledger, by
	// [Store.Redact] when tombstones do not cover a subject's records, and
	// by the Gate when other writers kept winning the race to append.
	ErrConflict = errors.New("consent: ledger sequence conflict")
	// ErrOutOfOrder is returned (wrapped in an [*EventError], or in a
	// [*ChainError] by verification) for an event dated before a record of
	// the same subject about the same purpose, a purpose that covers it or
	// one it covers: the ledger's order must be the order in time.
	ErrOutOfOrder = errors.New("consent: event dated before the subject's latest record")
	// ErrUnknownVersion is returned (wrapped in an [*EventError], or in a
	// [*LineError] by an import) for an event or record that claims a policy
	// version newer than the policy in force.
	ErrUnknownVersion = errors.New("consent: unknown policy version")
	// ErrPartialErasure is returned (wrapped in a [*ChainError]) when a
	// ledger holds tombstones that do not stand for a whole erased subject:
	// a tombstone after a live record of its subject, or a live record after
	// a tombstone.
	ErrPartialErasure = errors.New("consent: tombstones do not stand for a whole erased subject")
	// ErrPolicyDowngrade is returned (wrapped in a [*PolicyError]) by
	// [Gate.SetPolicy] for a policy that goes back on one the Gate has had in
	// force: a lower version, or a purpose whose Version is lower than it
	// has been, even if the purpose was dropped in between.
	ErrPolicyDowngrade = errors.New("consent: policy goes back on a version in force")
	// ErrNoRecord is returned by [Store.Redact] for a sequence number the
	// store does not hold.
	ErrNoRecord = errors.New("consent: no such record")
	// ErrNilStore is returned by [NewGate] when the store is nil.
	ErrNilStore = errors.New("consent: nil store")
	// ErrNilArgument is returned for a nil reader or writer.
	ErrNilArgument = errors.New("consent: nil argument")
	// ErrUninitialized is returned by every method of a Gate that was not
	// made by [NewGate].
	ErrUninitialized = errors.New("consent: gate not initialized (use NewGate)")
)

// PolicyError describes what is wrong with a [Policy]. It unwraps to
// [ErrInvalidPolicy].
type PolicyError struct {
	Purpose Purpose // the purpose concerned, "" for policy-wide problems
	Field   string  // the field concerned ("basis", "categories", ...)
	Why     string  // what is wrong, in a few words
	Err     error   // an underlying error such as a [*KeyError], or nil
}

func (e *PolicyError) Error() string {
	var b strings.Builder
	b.WriteString("consent: invalid policy: ")
	if e.Purpose != "" {
		b.WriteString("purpose ")
		b.WriteString(strconv.Quote(string(e.Purpose)))
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Why)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns [ErrInvalidPolicy] and the underlying error, if any.
func (e *PolicyError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidPolicy, e.Err}
	}
	return []error{ErrInvalidPolicy}
}

// EventError describes why an [Event] cannot be recorded. It unwraps to
// [ErrInvalidEvent] and to the more specific cause when there is one
// ([ErrEmptySubject], [ErrZeroTime], [ErrMalformedKey], [ErrUnknownPurpose],
// [ErrNotConsentBasis]).
type EventError struct {
	Field string // "subject", "purpose", "at", ...
	Why   string
	Err   error // the specific cause, or nil
}

func (e *EventError) Error() string {
	s := "consent: invalid event: " + e.Field + ": " + e.Why
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns [ErrInvalidEvent] and the specific cause, if any.
func (e *EventError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidEvent, e.Err}
	}
	return []error{ErrInvalidEvent}
}

// ChainError says where the ledger stops verifying. It unwraps to
// [ErrTampered] and, for a ledger whose hashes verify but whose records break
// a rule an honest Gate keeps, to [ErrOutOfOrder] or [ErrPartialErasure].
type ChainError struct {
	Seq uint64 // the position (sequence number) in the ledger where verification fails
	Why string
	Err error // the rule broken, or nil for a broken hash chain
}

func (e *ChainError) Error() string {
	return "consent: ledger does not verify at record " + strconv.FormatUint(e.Seq, 10) + ": " + e.Why
}

// Unwrap returns [ErrTampered] and the rule broken, if any.
func (e *ChainError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrTampered, e.Err}
	}
	return []error{ErrTampered}
}

// LineError names the line of a JSON Lines ledger import that was rejected.
// It unwraps to the cause ([ErrMalformedRecord] or a [*ChainError]).
type LineError struct {
	Line int // 1-based
	Err  error
}

func (e *LineError) Error() string {
	return "consent: ledger line " + strconv.Itoa(e.Line) + ": " + strings.TrimPrefix(e.Err.Error(), "consent: ")
}

// Unwrap returns the cause.
func (e *LineError) Unwrap() error { return e.Err }

// ConflictError is returned by [Store.Append] when the first record to append
// does not follow the last stored one (another writer appended first). Last
// is the last stored record (the zero Record for an empty store), so the
// writer can re-chain and retry. It unwraps to [ErrConflict].
type ConflictError struct {
	Last Record
}

func (e *ConflictError) Error() string {
	return "consent: ledger sequence conflict: the ledger ends at record " + strconv.FormatUint(e.Last.Seq, 10)
}

// Unwrap returns [ErrConflict].
func (e *ConflictError) Unwrap() error { return ErrConflict }

func unknownPurpose(p Purpose) error {
	return &purposeError{p}
}

// purposeError carries the unknown purpose's name in the message without a
// format string.
type purposeError struct{ p Purpose }

func (e *purposeError) Error() string {
	return "consent: unknown purpose " + strconv.Quote(string(e.p))
}
func (e *purposeError) Unwrap() error { return ErrUnknownPurpose }

// codeError is an unknown name given to an UnmarshalText method.
type codeError struct {
	sentinel   error
	kind, code string
}

func (e *codeError) Error() string {
	return e.sentinel.Error() + ": unknown " + e.kind + " " + strconv.Quote(e.code)
}
func (e *codeError) Unwrap() error { return e.sentinel }

// ErrInvalidISORecord is returned (wrapped in an [*ISOError]) by
// [DecodeISO27560] for a document that is not a list of ISO/IEC TS 27560
// records in the form [Gate.ISO27560] writes.
var ErrInvalidISORecord = errors.New("consent: invalid ISO/IEC TS 27560 record")

// ISOError says what is wrong with an ISO/IEC TS 27560 document given to
// [DecodeISO27560]. It unwraps to [ErrInvalidISORecord] and to the
// underlying error, if any.
type ISOError struct {
	Path string // where: "[0].events[2].event_state"; "" for the whole document
	Why  string // what is wrong, in a few words
	Err  error  // an underlying error (a JSON syntax error, a [*KeyError], ...), or nil
}

func (e *ISOError) Error() string {
	s := "consent: invalid ISO/IEC TS 27560 record: "
	if e.Path != "" {
		s += e.Path + ": "
	}
	s += e.Why
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns [ErrInvalidISORecord] and the underlying error, if any.
func (e *ISOError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidISORecord, e.Err}
	}
	return []error{ErrInvalidISORecord}
}
