package recommend

import (
	"errors"
	"strconv"

	"github.com/tact-go/tact/consent"
)

// Sentinel errors. Functions wrap them in the typed errors below; branch on
// them with [errors.Is].
var (
	// ErrEmptyID is returned for an item or person id that is empty.
	ErrEmptyID = errors.New("recommend: empty id")
	// ErrDuplicateItem is returned by [NewCatalog] when two items share an id.
	ErrDuplicateItem = errors.New("recommend: duplicate item id")
	// ErrInvalidCount is returned for a count or weight that is NaN or
	// infinite. Negative and fractional counts are accepted (noisy
	// statistics) and clamped as documented where they are used.
	ErrInvalidCount = errors.New("recommend: invalid count")
	// ErrInvalidConfig is returned by constructors for a configuration value
	// out of range.
	ErrInvalidConfig = errors.New("recommend: invalid config")
	// ErrInvalidRequest is returned by [Recommender.Recommend] for a request
	// it cannot serve (no time, k out of range).
	ErrInvalidRequest = errors.New("recommend: invalid request")
	// ErrCatalogMismatch is returned when models built for different
	// catalogs are combined.
	ErrCatalogMismatch = errors.New("recommend: models built for different catalogs")
	// ErrNilModel is returned when a required model or catalog is nil.
	ErrNilModel = errors.New("recommend: nil model")
	// ErrNotPositiveDefinite is returned by [TrainEASE] when the
	// regularized Gram matrix is not positive definite: noisy counts with
	// too small a regularization.
	ErrNotPositiveDefinite = errors.New("recommend: the regularized Gram matrix is not positive definite")
	// ErrUndeclaredCategory is returned by [New] when the policy in force
	// declares a source's purpose but not every data category the source
	// reads for it.
	ErrUndeclaredCategory = errors.New("recommend: data category not declared for the purpose")
)

// ItemError reports a problem with one item id. It unwraps to
// [ErrEmptyID] or [ErrDuplicateItem].
type ItemError struct {
	Index int    // position of the offending item in the input, -1 for a single id
	ID    string // the id as given
	Err   error  // ErrEmptyID or ErrDuplicateItem
}

func (e *ItemError) Error() string {
	s := e.Err.Error() + " " + strconv.Quote(e.ID)
	if e.Index >= 0 {
		s += " at index " + strconv.Itoa(e.Index)
	}
	return s
}

func (e *ItemError) Unwrap() error { return e.Err }

// CountError reports a count that is NaN or infinite, or a pair of an item
// with itself (Item == Other). It unwraps to [ErrInvalidCount].
type CountError struct {
	Item  string  // the item (or first item of a pair)
	Other string  // the second item of a pair, "" for an item count
	Value float64 // the offending value
}

func (e *CountError) Error() string {
	if e.Other != "" && e.Other == e.Item {
		return "recommend: invalid count: pair of " + strconv.Quote(e.Item) + " with itself"
	}
	s := "recommend: invalid count " + strconv.FormatFloat(e.Value, 'g', -1, 64) + " for " + strconv.Quote(e.Item)
	if e.Other != "" {
		s += " and " + strconv.Quote(e.Other)
	}
	return s
}

func (e *CountError) Unwrap() error { return ErrInvalidCount }

// FieldError reports a configuration or request field out of range. It
// unwraps to [ErrInvalidConfig] or [ErrInvalidRequest].
type FieldError struct {
	Field string // Go name of the field ("K", "Weights[established].History")
	Why   string // what is wrong, in a few words
	Err   error  // ErrInvalidConfig or ErrInvalidRequest
}

func (e *FieldError) Error() string { return e.Err.Error() + ": " + e.Field + ": " + e.Why }

func (e *FieldError) Unwrap() error { return e.Err }

// SourceError reports a source the policy cannot support: the policy
// declares the source's purpose but not one of the data categories the
// source reads. It unwraps to [ErrUndeclaredCategory].
type SourceError struct {
	Source        Source
	Purpose       consent.Purpose  // the purpose the source relies on
	Category      consent.Category // the first category the policy does not declare for it
	PolicyVersion int              // the version of the policy checked
}

func (e *SourceError) Error() string {
	return ErrUndeclaredCategory.Error() + ": policy version " + strconv.Itoa(e.PolicyVersion) + " does not declare " +
		string(e.Category) + " for " + string(e.Purpose) + ", which source " + e.Source.String() + " reads"
}

func (e *SourceError) Unwrap() error { return ErrUndeclaredCategory }

func configError(field, why string) error {
	return &FieldError{Field: field, Why: why, Err: ErrInvalidConfig}
}

func requestError(field, why string) error {
	return &FieldError{Field: field, Why: why, Err: ErrInvalidRequest}
}
