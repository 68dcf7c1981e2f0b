package dp

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors returned by the package. Compare with [errors.Is].
var (
	// ErrInvalidParams reports a parameter that fails validation. The
	// returned error is a *[ParamError] naming the parameter.
	ErrInvalidParams = errors.New("dp: invalid parameters")

	// ErrBudgetExhausted reports a spend that would take the budget over
	// its total (ε, δ). The returned error is a *[BudgetError] with the
	// figures; nothing was spent.
	ErrBudgetExhausted = errors.New("dp: privacy budget exhausted")

	// ErrReleased reports a second release, or a merge into or from an
	// accumulator that was already released.
	ErrReleased = errors.New("dp: already released")

	// ErrIncompatible reports a merge of partial states that were not made
	// with the same parameters and the same origin (see [Aggregation.Merge]).
	ErrIncompatible = errors.New("dp: incompatible partial states")

	// ErrInvalidState reports encoded partial state that is truncated,
	// corrupted, tampered with or of another kind or version.
	ErrInvalidState = errors.New("dp: invalid encoded state")

	// ErrInvalidRelease reports an encoded release ([Trending],
	// [Cooccurrences]) that no release could have produced.
	ErrInvalidRelease = errors.New("dp: invalid release")

	// ErrSpendConflict is what a [SpendLog]'s Append returns when the log
	// does not hold exactly the spends the Budget counted: another Budget
	// spent first.
	ErrSpendConflict = errors.New("dp: spend log conflict")

	// ErrInvalidLog reports a [SpendLog] holding a spend no Budget could
	// have made (negative, NaN or infinite). The returned error is a
	// *[LogError]; the Budget spends nothing more until the log is fixed.
	ErrInvalidLog = errors.New("dp: invalid spend log")
)

// LogError describes a spend log that cannot be trusted. It unwraps to
// [ErrInvalidLog].
type LogError struct {
	N      int    // the number of the first bad spend, from 1
	Reason string // what is wrong with it
}

func (e *LogError) Error() string {
	return "dp: invalid spend log: spend " + strconv.Itoa(e.N) + ": " + e.Reason
}

// Unwrap returns [ErrInvalidLog].
func (e *LogError) Unwrap() error { return ErrInvalidLog }

// ParamError describes an invalid parameter. It unwraps to
// [ErrInvalidParams].
type ParamError struct {
	Param  string // the parameter's name, e.g. "Epsilon" or "Bounds"
	Value  string // the offending value, formatted
	Reason string // what a valid value is
}

func (e *ParamError) Error() string {
	return "dp: invalid " + e.Param + " " + e.Value + ": " + e.Reason
}

// Unwrap returns [ErrInvalidParams].
func (e *ParamError) Unwrap() error { return ErrInvalidParams }

func paramErr(param string, value any, reason string) error {
	return &ParamError{Param: param, Value: fmt.Sprint(value), Reason: reason}
}

// BudgetError describes a refused spend. It unwraps to [ErrBudgetExhausted].
type BudgetError struct {
	Label            string  // the label of the refused spend
	Epsilon, Delta   float64 // what was asked
	RemainingEpsilon float64 // what was left (rounded down)
	RemainingDelta   float64
}

func (e *BudgetError) Error() string {
	return "dp: privacy budget exhausted: " + strconv.Quote(e.Label) +
		" asked ε=" + ftoa(e.Epsilon) + " δ=" + ftoa(e.Delta) +
		", remaining ε=" + ftoa(e.RemainingEpsilon) + " δ=" + ftoa(e.RemainingDelta)
}

// Unwrap returns [ErrBudgetExhausted].
func (e *BudgetError) Unwrap() error { return ErrBudgetExhausted }

// errZero is what the methods of an accumulator's zero value return: it
// holds no parameters, so it can neither release nor be encoded.
func errZero(kind string) error {
	return &ParamError{Param: "receiver", Value: "zero dp." + kind,
		Reason: "build it with New" + kind + " or decode into it with UnmarshalBinary"}
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func stateErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidState}, args...)...)
}
