package pdsource

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/pds"
	"github.com/tact-go/tact/recommend"
)

// Purpose is the purpose the grants a [Store] serves must be for: that of
// [recommend.SourceDeclared].
const Purpose = consent.PurposePersonalizeDeclared

// ErrInvalidConfig is returned by [New] for a missing Verifier or Tokens,
// and by every method of a Store not made by New.
var ErrInvalidConfig = errors.New("pdsource: invalid configuration")

// Tokens keeps the grant tokens people handed the service, at most one per
// person.
//
// Token returns the token person handed the service, "" (and nil error)
// for a person with none. SetToken keeps token as person's, replacing any
// other; an empty token deletes it. Both must be safe for simultaneous
// use; an error of Token makes [Store.Preferences] fail (the recommender
// then withholds the declared source), an error of SetToken makes
// [Store.Accept] fail.
type Tokens interface {
	Token(ctx context.Context, person string) (string, error)
	SetToken(ctx context.Context, person, token string) error
}

// MemoryTokens is an in-memory [Tokens] for tests, examples and small
// services. The zero value holds no token. It is safe for simultaneous
// use by multiple goroutines.
type MemoryTokens struct {
	mu sync.RWMutex
	m  map[string]string
}

var _ Tokens = (*MemoryTokens)(nil)

// Token implements [Tokens].
func (t *MemoryTokens) Token(_ context.Context, person string) (string, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.m[person], nil
}

// SetToken implements [Tokens].
func (t *MemoryTokens) SetToken(_ context.Context, person, token string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if token == "" {
		delete(t.m, person)
		return nil
	}
	if t.m == nil {
		t.m = make(map[string]string)
	}
	t.m[person] = token
	return nil
}

// Len returns the number of tokens held.
func (t *MemoryTokens) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.m)
}

// Config holds a Store's optional settings. The zero value is valid.
type Config struct {
	// Now returns the time grants are verified at on each read. Nil means
	// time.Now.
	Now func() time.Time
}

// Store is a [recommend.Profiles] that serves, as a person's declared
// preferences, the declared data of the grant they handed the service,
// over the profiles of another store. It is safe for simultaneous use by
// multiple goroutines.
//
// Make a Store with [New]; every method of one that was not made by New
// returns [ErrInvalidConfig].
type Store struct {
	base   recommend.Profiles // nil: none
	v      *pds.Verifier
	tokens Tokens
	now    func() time.Time
}

var _ recommend.Profiles = (*Store)(nil)

// New returns a Store that verifies grants with v, keeps their tokens in
// tokens, and reads everything else from base. A nil base holds nothing:
// the person's declared preferences are then only what their grant
// carries, and they have no feedback and no history. A nil v or tokens is
// [ErrInvalidConfig].
//
// Give the Recommender v as its [recommend.Decider], so that the consent
// that rests on a grant ends with it (see [pds.Verifier.Decide]).
func New(base recommend.Profiles, v *pds.Verifier, tokens Tokens, cfg Config) (*Store, error) {
	if v == nil || tokens == nil {
		return nil, ErrInvalidConfig
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Store{base: base, v: v, tokens: tokens, now: cfg.Now}, nil
}

// Accept takes the grant token person hands the service for [Purpose]:
// it verifies it and records it in the consent ledger ([pds.Verifier.Accept],
// at time at, with the request's signals) and, if the resulting decision
// allows the purpose, keeps the token, replacing any other grant of
// person's; a grant that does not allow is not kept, as the service may
// not use its data. It returns the decision. Errors: those of
// Verifier.Accept (a [*pds.GrantError] for a grant that is not good,
// and nothing is kept) and of Tokens.
func (s *Store) Accept(ctx context.Context, person, token string, at time.Time, sig consent.Signals) (consent.Decision, error) {
	if s.v == nil {
		return consent.Decision{}, ErrInvalidConfig
	}
	d, err := s.v.Accept(ctx, token, person, Purpose, at, sig)
	if err != nil || !d.Allowed {
		return d, err
	}
	return d, s.tokens.SetToken(ctx, person, token)
}

// Preferences implements [recommend.PreferenceStore]. It reads person's
// preferences from the base store and, if person handed the service a
// grant that verifies now ([pds.Verifier.Verify] for [Purpose] at
// [Config].Now), replaces each field the grant's scope covers with the
// grant's data: Interests from [pds.CategoryGoals], Sizes from
// [pds.CategorySizes], Avoid from [pds.CategoryAvoid], MaxPrice from
// [pds.CategoryBudget] (a scope of [consent.CategoryPreferenceDeclared]
// covers all four). A field the scope covers but the grant carries no data
// for is empty: the person's store is the source of truth for what it
// grants.
//
// A grant that no longer verifies (expired, revoked, not yet valid, its
// key retired, …) gives nothing: the base's preferences are returned as
// they are. Errors of the base store, of Tokens, and of the Verifier's
// Keys and Revocations are returned, so that the recommender withholds the
// source rather than use a grant it could not check.
//
// Like every [recommend.PreferenceStore], it is to be called only after
// consent for [Purpose] was confirmed for the request.
func (s *Store) Preferences(ctx context.Context, person string) (recommend.Preferences, error) {
	if s.v == nil {
		return recommend.Preferences{}, ErrInvalidConfig
	}
	var p recommend.Preferences
	if s.base != nil {
		var err error
		if p, err = s.base.Preferences(ctx, person); err != nil {
			return recommend.Preferences{}, err
		}
	}
	tok, err := s.tokens.Token(ctx, person)
	if err != nil || tok == "" {
		return p, err
	}
	g, err := s.v.Verify(ctx, tok, person, Purpose, s.now())
	var bad *pds.GrantError
	switch {
	case errors.As(err, &bad):
		return p, nil
	case err != nil:
		return recommend.Preferences{}, err
	}
	return merge(p, g), nil
}

// merge returns p with the fields g's scope covers replaced by g's data.
func merge(p recommend.Preferences, g pds.Grant) recommend.Preferences {
	d := g.Declared() // a copy, holding nothing outside the scope
	scope := g.Claims().Scope
	if covers(scope, pds.CategoryGoals) {
		p.Interests = make([]recommend.Interest, len(d.Goals))
		for i, x := range d.Goals {
			p.Interests[i] = recommend.Interest(x)
		}
	}
	if covers(scope, pds.CategorySizes) {
		p.Sizes = d.Sizes
	}
	if covers(scope, pds.CategoryAvoid) {
		p.Avoid = d.Avoid
	}
	if covers(scope, pds.CategoryBudget) {
		p.MaxPrice = d.Budget
	}
	return p
}

func covers(scope []consent.Category, c consent.Category) bool {
	for _, s := range scope {
		if s.Covers(c) {
			return true
		}
	}
	return false
}

// Feedback implements [recommend.FeedbackStore] with the base store's
// feedback; nil without a base store.
func (s *Store) Feedback(ctx context.Context, person string) ([]recommend.Feedback, error) {
	if s.v == nil {
		return nil, ErrInvalidConfig
	}
	if s.base == nil {
		return nil, nil
	}
	return s.base.Feedback(ctx, person)
}

// History implements [recommend.HistoryStore] with the base store's
// history; nil without a base store.
func (s *Store) History(ctx context.Context, person string) ([]recommend.Event, error) {
	if s.v == nil {
		return nil, ErrInvalidConfig
	}
	if s.base == nil {
		return nil, nil
	}
	return s.base.History(ctx, person)
}
