package recommend

import (
	"errors"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tact-go/tact/consent"
)

// MaxK is the largest number of items one request may ask for.
const MaxK = 100

// Defaults of the guards in [Config].
const (
	DefaultWarmUp          = 2 * time.Minute
	DefaultFrequencyCap    = 3
	DefaultConfidenceFloor = 0.05
)

// ErrNoProfiles is reported in [Withheld].Err when a personal source could
// not be read because the [Recommender] has no [Profiles].
var ErrNoProfiles = errors.New("recommend: no profile store")

// Weights are the blend weights of the sources for one tier. A
// recommendation's score is the weighted mean of the per-source scores
// (each in [0, 1]) over the sources that produced candidates for the
// request, so weights are relative. Weights of sources the tier does not
// allow are ignored.
//
// Feedback and history read the item-item model alone, so they are only
// as good as its counts. Over a model trained on a differentially private
// release, whose pair counts have a signal-to-noise ratio s
// ([ItemItem.SignalToNoise]), they keep s²/(s² + 0.2²) of their weight and
// popularity gets the rest: half at s = 0.2, 96% at s = 1, none for pairs
// that are noise alone, so that a release too weak to help is served as
// its popularity instead of as noise. A model of exact counts (s = +Inf)
// keeps the weights as given. The 0.2 was chosen on the validation splits
// of both data sets of examples/evaluate, serving these defaults from
// releases at ε from 0.5 to 8 (see the README): it is the smallest of
// {0.1, 0.15, 0.2, 0.3} with which no release served below 0.99× its own
// popularity.
type Weights struct {
	Context, Declared, Feedback, History, Popularity float64
}

func (w Weights) of(s int) float64 {
	switch s {
	case srcContext:
		return w.Context
	case srcDeclared:
		return w.Declared
	case srcFeedback:
		return w.Feedback
	case srcHistory:
		return w.History
	}
	return w.Popularity
}

// DefaultWeights returns the default blend of a tier:
//
//	             context declared feedback history popularity
//	anonymous      0.60     -        -        -       0.40
//	recognized     0.35   0.30     0.20       -       0.15
//	established    0.20   0.20     0.10     0.40      0.0001
//
// For an established person popularity backfills rather than blends: it
// breaks ties and fills the places the personal sources leave (the
// confidence floor never holds back an item only popularity scores), as
// [ItemItem.Top] backfills with popularity. Its weight, 1/4000 of that of
// history, was chosen on the validation splits of examples/evaluate
// (MovieLens ml-latest-small and Online Retail, default EASE model): it
// serves within 1% of the plain model's nDCG@10 on both, where 1/400
// served 0.8% less on MovieLens (a long history's confidence is close to
// 1 for many items, so a small popularity weight already reorders them)
// and the former 0.10, a quarter of history's weight, 19% (MovieLens) and
// 26% (Online Retail) less.
func DefaultWeights(t Tier) Weights {
	switch t {
	case Recognized:
		return Weights{Context: 0.35, Declared: 0.30, Feedback: 0.20, Popularity: 0.15}
	case Established:
		return Weights{Context: 0.20, Declared: 0.20, Feedback: 0.10, History: 0.40, Popularity: 0.0001}
	}
	return Weights{Context: 0.60, Popularity: 0.40}
}

// Config configures a [Recommender]. The zero value means: [DefaultTrust],
// [DefaultWeights], every guard on with its default, no time decay, no
// logging.
type Config struct {
	// Trust derives the tier of each request; nil means [DefaultTrust]{}.
	Trust TrustPolicy
	// Weights overrides the blend of the tiers it has an entry for. An
	// entry must have a positive weight (the zero Weights is not the
	// default: it would score every item 0).
	Weights map[Tier]Weights
	// WarmUp is how long after the start of a visit only context and
	// popularity suggest items and promotional items are held back;
	// declared preferences, feedback and history the tier reaches still
	// leave items out (avoided tags, budget, sizes, "not interested",
	// already bought). 0 means [DefaultWarmUp]; negative disables the
	// guard.
	WarmUp time.Duration
	// FrequencyCap is how many times an item may have been shown
	// ([Request].Shown) before it is no longer recommended. 0 means
	// [DefaultFrequencyCap]; negative disables the guard.
	FrequencyCap int
	// ConfidenceFloor is the least blended score (in [0, 1]) an item a
	// personal or context source suggests needs to be recommended: below
	// it, the item is held back rather than shown as a weak guess, and
	// popular items fill its place. An item only popularity suggests is no
	// guess about the person and is not held back, so that a person gets
	// the K items asked for while popularity has them. 0 means
	// [DefaultConfidenceFloor]; negative disables the guard.
	ConfidenceFloor float64
	// SuppressCategory makes "not interested" in an item suppress its whole
	// catalog category too.
	SuppressCategory bool
	// HistoryHalfLife, when positive, halves the weight of a history event
	// every HistoryHalfLife of age, so that recent events count more.
	HistoryHalfLife time.Duration
	// Logger, when set, receives one "recommend.serve" audit event per
	// request (see the package documentation).
	Logger *slog.Logger
}

// Recommender serves recommendations: it derives the trust tier, asks
// consent for each source's purpose, reads only the sources both allow,
// scores with the current [Model], applies the guards and explains the
// result. It is safe for simultaneous use by multiple goroutines; the model
// can be swapped while serving.
type Recommender struct {
	model    atomic.Pointer[Model]
	decider  Decider
	many     ManyDecider // decider, when it implements ManyDecider
	profiles Profiles
	trust    TrustPolicy
	weights  [numTiers]Weights
	warmUp   time.Duration // <= 0: off
	cap      int           // <= 0: off
	floor    float64       // <= 0: off
	suppress bool
	halfLife time.Duration
	log      *slog.Logger
	pool     sync.Pool
	policy   atomic.Pointer[policyCheck] // the newest policy read from the Decider
	notes    *notes
}

// policyCheck is what one version of the policy lets each source read,
// compiled once so that requests check it without allocating.
type policyCheck struct {
	version int
	// missing[s] is the first category source s reads that the policy
	// does not declare for the source's purpose, "" when it declares them
	// all; undeclared[s] is true when the policy does not declare the
	// purpose at all.
	missing    [SourceHistory + 1]consent.Category
	undeclared [SourceHistory + 1]bool
	// note[s] is the English text of the note withholding source s for
	// missing[s], when that is not "".
	note [SourceHistory + 1]string
}

func compilePolicy(p *consent.Policy) *policyCheck {
	pc := new(policyCheck)
	if p != nil {
		pc.version = p.Version
	}
	for s := SourceContext; s <= SourceHistory; s++ {
		spec, ok := p.Spec(s.Purpose())
		pc.undeclared[s] = !ok
		for _, c := range sourceSpecs[s].categories {
			if !slices.ContainsFunc(spec.Categories, func(d consent.Category) bool { return d.Covers(c) }) {
				pc.missing[s] = c
				pc.note[s] = Withheld{Source: s, Reason: WithheldPolicy, Category: c}.Localize(nil, "en")
				break
			}
		}
	}
	return pc
}

// policyFor returns the check of the policy a decision made under policy
// version v rests on: the newest policy read, read again from the Decider
// when v is newer still. Only a new policy version allocates.
func (r *Recommender) policyFor(v int) *policyCheck {
	pc := r.policy.Load()
	if v <= pc.version {
		return pc
	}
	n := compilePolicy(r.decider.Policy())
	for n.version > pc.version {
		if r.policy.CompareAndSwap(pc, n) {
			return n
		}
		pc = r.policy.Load()
	}
	return pc
}

// New returns a Recommender serving model m, asking d for consent and
// reading profile data from p (nil p: no personal source can be read). A
// nil m or d is [ErrNilModel] / [ErrInvalidConfig]; an out-of-range Config
// field, or a Decider that reports no policy, is a [*FieldError] wrapping
// [ErrInvalidConfig]. A policy that declares a source's purpose but not
// every category the source reads ([Source.Categories]) is a
// [*SourceError] wrapping [ErrUndeclaredCategory]; a source whose purpose
// the policy does not declare at all is not an error, and is never read.
func New(m *Model, d Decider, p Profiles, cfg Config) (*Recommender, error) {
	if m == nil {
		return nil, ErrNilModel
	}
	if d == nil {
		return nil, configError("Decider", "nil")
	}
	pol := d.Policy()
	if pol == nil {
		return nil, configError("Decider", "reports no policy")
	}
	pc := compilePolicy(pol)
	for s := SourceContext; s <= SourceHistory; s++ {
		if !pc.undeclared[s] && pc.missing[s] != "" {
			return nil, &SourceError{Source: s, Purpose: s.Purpose(), Category: pc.missing[s], PolicyVersion: pc.version}
		}
	}
	r := &Recommender{decider: d, profiles: p, trust: cfg.Trust, suppress: cfg.SuppressCategory, log: cfg.Logger}
	r.many, _ = d.(ManyDecider)
	if r.trust == nil {
		r.trust = DefaultTrust{}
	}
	for t := Tier(0); t < numTiers; t++ {
		w, ok := cfg.Weights[t]
		if !ok {
			w = DefaultWeights(t)
		}
		var sum float64
		for _, v := range [...]float64{w.Context, w.Declared, w.Feedback, w.History, w.Popularity} {
			if !(v >= 0) || math.IsInf(v, 0) {
				return nil, configError("Weights["+t.String()+"]", "weights must be finite and non-negative")
			}
			sum += v
		}
		if sum == 0 {
			return nil, configError("Weights["+t.String()+"]", "all zero: nothing could ever be recommended")
		}
		r.weights[t] = w
	}
	for t := range cfg.Weights {
		if t >= numTiers {
			return nil, configError("Weights", "unknown tier")
		}
	}
	r.warmUp = cfg.WarmUp
	if r.warmUp == 0 {
		r.warmUp = DefaultWarmUp
	}
	r.cap = cfg.FrequencyCap
	if r.cap == 0 {
		r.cap = DefaultFrequencyCap
	}
	r.floor = cfg.ConfidenceFloor
	switch {
	case math.IsNaN(r.floor) || r.floor > 1:
		return nil, configError("ConfidenceFloor", "must be at most 1")
	case r.floor == 0:
		r.floor = DefaultConfidenceFloor
	}
	if cfg.HistoryHalfLife < 0 {
		return nil, configError("HistoryHalfLife", "must not be negative")
	}
	r.halfLife = cfg.HistoryHalfLife
	r.notes = newNotes(r.warmUp)
	r.model.Store(m)
	r.policy.Store(pc)
	return r, nil
}

// SetModel atomically replaces the model; requests in flight finish with
// the model they started with. A nil m is [ErrNilModel] and keeps the
// current model.
func (r *Recommender) SetModel(m *Model) error {
	if m == nil {
		return ErrNilModel
	}
	r.model.Store(m)
	return nil
}

// Model returns the model currently served.
func (r *Recommender) Model() *Model { return r.model.Load() }

// Context is what the request itself says about the visit: no profile.
type Context struct {
	// Item is the id of the item in view, "" for none.
	Item string
	// Category is the catalog category being browsed, "" for none.
	Category string
	// Query is the search query, "" for none.
	Query string
	// Segment is a coarse audience segment (storefront, country) that
	// selects segment popularity; "" for global popularity.
	Segment string
}

// Request asks for recommendations for one person at one moment.
type Request struct {
	// Subject identifies the person (or, for anonymous visitors, the
	// session pseudonym) to ask consent for. Empty means nobody to ask: only
	// popularity is used. It never appears in logs.
	Subject string
	// At is the time of the request, required (the Recommender never reads
	// the clock).
	At time.Time
	// K is how many items to return at most, in [1, MaxK].
	K int
	// Signals of the request (Global Privacy Control, age), passed to
	// consent.
	Signals consent.Signals
	// Relationship with the person, for the [TrustPolicy].
	Relationship Relationship
	// VisitStart is when the current visit began. Zero means the visit
	// starts now, so the warm-up guard applies.
	VisitStart time.Time
	// Context of the request.
	Context Context
	// Shown counts how often each item id was already shown to the person
	// (within the host's capping window), for the frequency cap.
	Shown map[string]int
}

// Recommendation is one recommended item with the reasons it was chosen.
type Recommendation struct {
	// Item is the catalog item. Its Tags and Sizes are shared with the
	// catalog: do not modify them.
	Item Item
	// Score is the blended confidence, in [0, 1].
	Score float64
	// Reasons, strongest first; never empty.
	Reasons []Reason
}

// Reason explains one source's contribution to a recommendation. Kind and
// its parameters (Related, Category, Query, Segment, Interest) say it as
// data; [Reason.Localize] writes it in a person's language from a message
// catalog, and Text is its English sentence.
type Reason struct {
	Source Source
	// Kind says which sentence explains the contribution.
	Kind ReasonKind
	// Text is the sentence in English, from the built-in texts: "Because
	// you told us you're training for a marathon". It names catalog
	// categories and segments by their keys in words ("From coffee beans,
	// which you're browsing"); for the host's labels and other languages,
	// use [Reason.Localize].
	Text string
	// Data are the data categories this reason used; empty for popularity.
	Data []consent.Category
	// Purpose is the consent purpose relied on; "" for popularity.
	Purpose consent.Purpose
	// Related is the id of the item that led here (the item in view, the
	// item bought or liked), "" when none.
	Related string
	// Weight is this source's share of the score.
	Weight float64
	// Category is the catalog category in view, as the request gave it
	// ([ReasonBrowsing]); "" for other kinds.
	Category string
	// Query is the search query, as the request gave it ([ReasonSearch]).
	Query string
	// Segment is the segment whose popularity suggested the item
	// ([ReasonPopularIn]).
	Segment string
	// Interest is the declared interest the item matches
	// ([ReasonDeclared]). Its Tags are shared with the preferences read
	// for the request: do not modify them.
	Interest Interest
}

// WithheldReason says why a source was not used.
type WithheldReason uint8

// Withheld reasons.
const (
	// WithheldTier: the request's tier does not reach the source. Feedback
	// still leaves out what the person is not interested in.
	WithheldTier WithheldReason = iota + 1
	// WithheldConsent: consent does not allow the source's purpose; see
	// Decision.
	WithheldConsent
	// WithheldWarmUp: the visit is in its warm-up; the source suggested
	// nothing but still left items out (see [Config].WarmUp).
	WithheldWarmUp
	// WithheldNoSubject: the request has no subject to ask consent for.
	WithheldNoSubject
	// WithheldUnavailable: the consent check or the profile store failed;
	// see Err.
	WithheldUnavailable
	// WithheldPolicy: the policy in force does not declare, for the
	// source's purpose, every data category the source reads (or does not
	// declare the purpose); see Category.
	WithheldPolicy
)

var withheldNames = [...]string{
	WithheldTier:        "tier",
	WithheldConsent:     "consent",
	WithheldWarmUp:      "warm_up",
	WithheldNoSubject:   "no_subject",
	WithheldUnavailable: "unavailable",
	WithheldPolicy:      "policy",
}

// String returns a stable snake_case code ("warm_up").
func (w WithheldReason) String() string {
	if w >= WithheldTier && w <= WithheldPolicy {
		return withheldNames[w]
	}
	return "unknown"
}

// Withheld records a source that was not used, or used only to leave items
// out, and why.
type Withheld struct {
	Source  Source
	Purpose consent.Purpose
	Reason  WithheldReason
	// Decision is the consent decision when Reason is WithheldConsent or
	// WithheldPolicy.
	Decision consent.Decision
	// Err is the failure when Reason is WithheldUnavailable.
	Err error
	// Category is, when Reason is WithheldPolicy, the first data category
	// the source reads that the policy in force does not declare for its
	// purpose.
	Category consent.Category
	// WarmUp is, when Reason is WithheldWarmUp, how long the warm-up of a
	// visit lasts ([Config].WarmUp).
	WarmUp time.Duration
	// Text is the note in English, from the built-in texts: "Your
	// purchase history not used: you withdrew your consent.", "Your stated
	// preferences not used: not in the first 2 minutes of your visit
	// (except to leave items out).". It names no purpose or category by
	// its key; for other languages and the host's texts, use
	// [Withheld.Localize].
	Text string
}

// Filtered counts the candidates each guard removed from one response.
type Filtered struct {
	WarmUp          int // promotional items during warm-up
	Sensitive       int // sensitive items not backed by a declared interest
	FrequencyCap    int // shown too often already
	NotInterested   int // the person said "not interested" (item or category)
	AlreadyBought   int // bought before and not replenishable
	Declared        int // outside the person's declared avoid tags, budget or sizes
	ConfidenceFloor int // too weak a guess
}

// Response is the answer to one [Request].
type Response struct {
	// Tier of the request.
	Tier Tier
	// Items, best first; fewer than K only when the guards and the
	// confidence floor leave fewer and popularity has no more (never weak
	// guesses).
	Items []Recommendation
	// Used are the data categories read for this response, sorted.
	Used []consent.Category
	// Purposes relied on, sorted.
	Purposes []consent.Purpose
	// Withheld lists the sources not used, or used only to leave items
	// out, and why.
	Withheld []Withheld
	// WarmUp is true when the visit was in its warm-up.
	WarmUp bool
	// Filtered counts what the guards removed.
	Filtered Filtered
}
