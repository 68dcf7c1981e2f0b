package recommend

import (
	"context"
	"time"

	"github.com/tact-go/tact/consent"
)

// Source is a kind of signal a recommendation can draw on. Each source but
// popularity reads personal data of given categories for one purpose.
type Source uint8

// Sources.
const (
	// SourcePopularity: what many people chose, globally or in a segment.
	// Cross-person and aggregate (ideally differentially private): no
	// purpose, no personal data.
	SourcePopularity Source = iota + 1
	// SourceContext: the item or category in view, the search query, the
	// segment of the storefront. Purpose personalize.context; categories
	// user.behavior.session and user.behavior.search.
	SourceContext
	// SourceDeclared: preferences the person typed in (zero-party data).
	// Purpose personalize.declared; category user.preference.declared.
	SourceDeclared
	// SourceFeedback: "liked" and "not interested". Purpose
	// personalize.feedback; category user.preference.feedback.
	SourceFeedback
	// SourceHistory: purchases and views with their times. Purpose
	// personalize.history; categories user.behavior.purchase_history and
	// user.behavior.browsing_history.
	SourceHistory
)

var sourceNames = [...]string{
	SourcePopularity: "popularity",
	SourceContext:    "context",
	SourceDeclared:   "declared",
	SourceFeedback:   "feedback",
	SourceHistory:    "history",
}

// String returns the source as a lower-case word ("history").
func (s Source) String() string {
	if s >= SourcePopularity && s <= SourceHistory {
		return sourceNames[s]
	}
	return "unknown"
}

// Purpose returns the purpose a source needs consent for, "" for
// popularity.
func (s Source) Purpose() consent.Purpose {
	switch s {
	case SourceContext:
		return consent.PurposePersonalizeContext
	case SourceDeclared:
		return consent.PurposePersonalizeDeclared
	case SourceFeedback:
		return consent.PurposePersonalizeFeedback
	case SourceHistory:
		return consent.PurposePersonalizeHistory
	}
	return ""
}

// Categories returns the data categories a source may read; nil for
// popularity.
func (s Source) Categories() []consent.Category {
	switch s {
	case SourceContext:
		return []consent.Category{consent.CategoryBehaviorSession, consent.CategoryBehaviorSearch}
	case SourceDeclared:
		return []consent.Category{consent.CategoryPreferenceDeclared}
	case SourceFeedback:
		return []consent.Category{consent.CategoryPreferenceFeedback}
	case SourceHistory:
		return []consent.Category{consent.CategoryBehaviorPurchaseHistory, consent.CategoryBehaviorBrowsingHistory}
	}
	return nil
}

// noun names the source's data in sentences shown to people.
func (s Source) noun() string {
	switch s {
	case SourceContext:
		return "what you're viewing"
	case SourceDeclared:
		return "your stated preferences"
	case SourceFeedback:
		return "your feedback"
	case SourceHistory:
		return "purchase history"
	}
	return "popular items"
}

// Decider is the consent check a [Recommender] needs: *consent.Gate
// implements it.
//
// Decide returns whether purpose may be used for subject at time at, given
// the request's signals. The Recommender calls it at most once per purpose
// per request, only for a non-empty subject, and reads a source only if
// the decision is Allowed. An error is treated as a denial (the source is
// withheld and the error reported in [Withheld].Err). Decide must be safe
// for simultaneous use.
type Decider interface {
	Decide(ctx context.Context, subject string, purpose consent.Purpose, at time.Time, sig consent.Signals) (consent.Decision, error)
}
