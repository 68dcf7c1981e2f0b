package trust

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors. Every error the package returns is one of these, a typed
// error that unwraps to one of them, or an error of package dp (a spend
// the budget refuses: dp.ErrBudgetExhausted) or consent.
var (
	// ErrBadInput is returned (in a [*LineError]) for a line of audit
	// events or of a ledger export that cannot be read: not JSON, a
	// missing or mistyped attribute, a record out of range.
	ErrBadInput = errors.New("trust: bad input")
	// ErrNoData is returned when there are neither audit events nor ledger
	// records: an empty input is more likely a wrong path than a quiet
	// week.
	ErrNoData = errors.New("trust: no audit events and no ledger records")
	// ErrLedger is returned by [Release] for a ledger that does not verify
	// (wrapping the consent.ChainError, errors.Is consent.ErrTampered) or
	// that ends before a record the audit events name (truncated).
	ErrLedger = errors.New("trust: ledger does not verify")
	// ErrInvalidConfig is returned (in a [*ConfigError]) for a [Config] or
	// [CheckConfig] out of range.
	ErrInvalidConfig = errors.New("trust: invalid config")

	// ErrViolation is what every violation [Check] finds unwraps to; the
	// kinds below say which rule was broken.
	ErrViolation = errors.New("trust: audit violation")
	// ErrChainBreak: the ledger does not verify, ends before a record the
	// audit events name, or disagrees with what they say a record was.
	ErrChainBreak = fmt.Errorf("%w: ledger chain break", ErrViolation)
	// ErrNoAllowingRecord: a decision used data for a purpose that the
	// ledger, at that time and for that person, did not allow.
	ErrNoAllowingRecord = fmt.Errorf("%w: data used without an allowing record", ErrViolation)
	// ErrOverBudget: differentially private releases spent more than the
	// declared budget.
	ErrOverBudget = fmt.Errorf("%w: releases beyond the declared budget", ErrViolation)
	// ErrNotPrivate: a release was made with test noise (not private).
	ErrNotPrivate = fmt.Errorf("%w: release not differentially private", ErrViolation)
	// ErrSensitiveInferred: a sensitive item was served because of
	// something other than what the person declared (their history).
	ErrSensitiveInferred = fmt.Errorf("%w: sensitive item served from history", ErrViolation)
)

// LineError names the line of audit events or of a ledger export that
// could not be read. It unwraps to [ErrBadInput] and to the cause (for a
// ledger line, consent.ErrMalformedRecord).
type LineError struct {
	Input string // "events" or "ledger"
	Line  int    // 1-based
	Err   error
}

func (e *LineError) Error() string {
	return "trust: " + e.Input + " line " + strconv.Itoa(e.Line) + ": " + e.Err.Error()
}

// Unwrap returns [ErrBadInput] and the cause.
func (e *LineError) Unwrap() []error { return []error{ErrBadInput, e.Err} }

// ConfigError names a configuration field out of range. It unwraps to
// [ErrInvalidConfig] and to the underlying error, if any (a dp.ParamError
// for privacy parameters dp refuses).
type ConfigError struct {
	Field string
	Why   string
	Err   error
}

func (e *ConfigError) Error() string {
	s := "trust: invalid config: " + e.Field + ": " + e.Why
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns [ErrInvalidConfig] and the underlying error, if any.
func (e *ConfigError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidConfig, e.Err}
	}
	return []error{ErrInvalidConfig}
}

// Violation is one broken rule that [Check] found. It unwraps to the kind
// ([ErrChainBreak], [ErrNoAllowingRecord], [ErrOverBudget],
// [ErrNotPrivate], [ErrSensitiveInferred]), each of which unwraps to
// [ErrViolation].
type Violation struct {
	Kind error  // one of the kinds above
	Line int    // the line of the audit event concerned, 0 if none
	Seq  uint64 // the ledger record concerned, 0 if none
	Why  string // what is wrong, in a sentence
}

func (v *Violation) Error() string {
	var b strings.Builder
	b.WriteString(v.Kind.Error())
	if v.Line > 0 {
		b.WriteString(": event line ")
		b.WriteString(strconv.Itoa(v.Line))
	}
	if v.Seq > 0 {
		b.WriteString(": ledger record ")
		b.WriteString(strconv.FormatUint(v.Seq, 10))
	}
	b.WriteString(": ")
	b.WriteString(v.Why)
	return b.String()
}

// Unwrap returns the kind.
func (v *Violation) Unwrap() error { return v.Kind }

// AuditError is what [Check] returns when it finds violations: all of
// them, in the order of the rules and then of the input. errors.Is finds
// each kind present, and [ErrViolation].
type AuditError struct {
	Violations []*Violation
}

func (e *AuditError) Error() string {
	var b strings.Builder
	b.WriteString("trust: ")
	b.WriteString(strconv.Itoa(len(e.Violations)))
	if len(e.Violations) == 1 {
		b.WriteString(" audit violation")
	} else {
		b.WriteString(" audit violations")
	}
	for _, v := range e.Violations {
		b.WriteString("\n")
		b.WriteString(v.Error())
	}
	return b.String()
}

// Unwrap returns the violations.
func (e *AuditError) Unwrap() []error {
	out := make([]error, len(e.Violations))
	for i, v := range e.Violations {
		out[i] = v
	}
	return out
}
