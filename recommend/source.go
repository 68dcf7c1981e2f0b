package recommend

import (
	"context"
	"slices"
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

// sourceSpec declares, as data, what a source reads: the purpose it relies
// on and the data categories it reads for it. The policy in force must
// declare every one of these categories for that purpose (see [Decider]);
// the Used categories and the reasons of a response name only these.
type sourceSpec struct {
	name       string
	purpose    consent.Purpose
	categories []consent.Category
}

var sourceSpecs = [...]sourceSpec{
	SourcePopularity: {name: "popularity"},
	SourceContext: {name: "context", purpose: consent.PurposePersonalizeContext,
		categories: []consent.Category{consent.CategoryBehaviorSession, consent.CategoryBehaviorSearch}},
	SourceDeclared: {name: "declared", purpose: consent.PurposePersonalizeDeclared,
		categories: []consent.Category{consent.CategoryPreferenceDeclared}},
	SourceFeedback: {name: "feedback", purpose: consent.PurposePersonalizeFeedback,
		categories: []consent.Category{consent.CategoryPreferenceFeedback}},
	SourceHistory: {name: "history", purpose: consent.PurposePersonalizeHistory,
		categories: []consent.Category{consent.CategoryBehaviorPurchaseHistory, consent.CategoryBehaviorBrowsingHistory}},
}

func (s Source) valid() bool { return s >= SourcePopularity && s <= SourceHistory }

// String returns the source as a lower-case word ("history").
func (s Source) String() string {
	if s.valid() {
		return sourceSpecs[s].name
	}
	return "unknown"
}

// Purpose returns the purpose a source needs consent for, "" for
// popularity.
func (s Source) Purpose() consent.Purpose {
	if s.valid() {
		return sourceSpecs[s].purpose
	}
	return ""
}

// Categories returns, in a fresh slice, the data categories a source may
// read for its [Source.Purpose]; nil for popularity. The policy in force
// must declare each of them (or an ancestor) for that purpose, or the
// source is not read (see [Decider]).
func (s Source) Categories() []consent.Category {
	if s.valid() {
		return slices.Clone(sourceSpecs[s].categories)
	}
	return nil
}

// Decider is the consent check a [Recommender] needs, and the policy it
// applies: *consent.Gate implements it.
//
// Decide returns whether purpose may be used for subject at time at, given
// the request's signals, and reports in the decision's PolicyVersion the
// version of the policy it decided under. The Recommender calls it at most
// once per purpose per request, only for a non-empty subject, and reads a
// source only if the decision is Allowed. An error is treated as a denial
// (the source is withheld and the error reported in [Withheld].Err).
//
// Policy returns the policy in force, which the Recommender does not
// modify; nil means none. A source may read only the data categories its
// purpose declares in that policy ([Source.Categories] against
// [consent.PurposeSpec].Categories, where a category covers its
// descendants). [New] reads the policy once and rejects one that declares
// a source's purpose without all its categories; a request whose decision
// reports a higher PolicyVersion than the policy last read makes the
// Recommender read Policy again, so a changed policy must have a higher
// Version (as [consent.Gate.SetPolicy] ensures).
//
// Both methods must be safe for simultaneous use.
type Decider interface {
	Decide(ctx context.Context, subject string, purpose consent.Purpose, at time.Time, sig consent.Signals) (consent.Decision, error)
	Policy() *consent.Policy
}

// ManyDecider is an optional interface of a [Decider]: one that decides
// several purposes of one subject in one call, which for a consent store
// in a database is one round trip per request instead of one per source.
// *consent.Gate implements it ([consent.Gate.DecideMany]). When the Decider
// has it, Recommend asks once, at the start of a request with a subject,
// for the purposes of every source the policy declares, and Decide only
// for a purpose that call did not cover.
//
// DecideMany appends to dst the decisions for purposes, in order, as
// Decide would make each; on an error it returns dst unchanged, and the
// Recommender withholds every source it asked about with that error
// (except [consent.ErrUnknownPurpose], after which it asks per purpose).
type ManyDecider interface {
	DecideMany(ctx context.Context, subject string, purposes []consent.Purpose, at time.Time, sig consent.Signals, dst []consent.Decision) ([]consent.Decision, error)
}
