package recommend_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/recommendtest"
)

var _ recommend.Decider = (*consent.Gate)(nil)

// The real consent.Gate is a Decider: a withdrawal recorded through it
// takes effect on the very next request.
func TestWithTheConsentGate(t *testing.T) {
	gate, err := consent.NewGate(retailPolicy(true), consent.NewMemoryStore(), consent.GateConfig{})
	require.NoError(t, err)
	r0, _, store := shop()
	r, err := recommend.New(r0.Model(), gate, store, recommend.Config{})
	require.NoError(t, err)
	at := now.Add(-24 * time.Hour)
	_, err = gate.Record(ctx, consent.Event{Action: consent.Grant, Subject: "zoe", Purpose: consent.PurposePersonalize, At: at, Channel: consent.ChannelWeb})
	require.NoError(t, err)
	require.NoError(t, store.AddEvents(ctx, "zoe", recommend.Event{Item: "trail-shoes", At: now.AddDate(0, -1, 0)}))
	req := recommend.Request{Subject: "zoe", At: now, VisitStart: visit, K: 3, Relationship: established}
	resp, err := r.Recommend(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, recommend.Established, resp.Tier)
	assert.True(t, hasSource(resp, recommend.SourceHistory))

	_, err = gate.Record(ctx, consent.Event{Action: consent.Withdraw, Subject: "zoe", Purpose: consent.PurposePersonalize, At: now, Channel: consent.ChannelWeb})
	require.NoError(t, err)
	req.At = now.Add(time.Second)
	resp, err = r.Recommend(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, recommend.Anonymous, resp.Tier)
	assert.NotContains(t, resp.Used, consent.CategoryBehaviorPurchaseHistory)
	assert.False(t, hasSource(resp, recommend.SourceHistory))
	w, ok := withheld(resp, recommend.SourceHistory)
	require.True(t, ok)
	assert.Equal(t, recommend.WithheldConsent, w.Reason)
	assert.Equal(t, consent.ReasonWithdrawn, w.Decision.Reason)
}

// retailPolicy is the consent fixture's retail policy with personalize.context
// declaring user.behavior.search when search is set, and only
// user.behavior.session when not, whatever the fixture declares.
func retailPolicy(search bool) *consent.Policy {
	p := consenttest.RetailPolicy()
	for i := range p.Purposes {
		if s := &p.Purposes[i]; s.Purpose == consent.PurposePersonalizeContext {
			s.Categories = []consent.Category{consent.CategoryBehaviorSession}
			if search {
				s.Categories = append(s.Categories, consent.CategoryBehaviorSearch)
			}
		}
	}
	return p
}

// withPurpose returns a copy of p whose purpose declares cats (nil: p
// without the purpose), at policy version v.
func withPurpose(p *consent.Policy, v int, purpose consent.Purpose, cats ...consent.Category) *consent.Policy {
	p = p.Clone()
	p.Version = v
	p.Purposes = slices.DeleteFunc(p.Purposes, func(s consent.PurposeSpec) bool {
		if s.Purpose == purpose && cats != nil {
			return false
		}
		return s.Purpose == purpose
	})
	for i := range p.Purposes {
		if p.Purposes[i].Purpose == purpose {
			p.Purposes[i].Categories = cats
		}
	}
	return p
}

// New rejects a policy that declares a source's purpose without every data
// category the source reads: search terms must not be used under a
// personalize.context that declares only the session.
func TestNewRejectsPolicyThatCannotSupportASource(t *testing.T) {
	r0, _, _ := shop()
	m := r0.Model()
	base := recommendtest.Policy()
	tests := []struct {
		name     string
		policy   *consent.Policy
		source   recommend.Source
		category consent.Category
		reason   string
	}{
		{"context without search", withPurpose(base, 1, consent.PurposePersonalizeContext, consent.CategoryBehaviorSession),
			recommend.SourceContext, consent.CategoryBehaviorSearch, "the defect: a query read under a purpose that declares only the session"},
		{"context without session", withPurpose(base, 1, consent.PurposePersonalizeContext, consent.CategoryBehaviorSearch),
			recommend.SourceContext, consent.CategoryBehaviorSession, "the item in view is session data"},
		{"history without views", withPurpose(base, 1, consent.PurposePersonalizeHistory, consent.CategoryBehaviorPurchaseHistory),
			recommend.SourceHistory, consent.CategoryBehaviorBrowsingHistory, "views are browsing history"},
		{"declared with no category", withPurpose(base, 1, consent.PurposePersonalizeDeclared, []consent.Category{}...),
			recommend.SourceDeclared, consent.CategoryPreferenceDeclared, "a purpose that declares nothing reads nothing"},
		{"feedback with a sibling", withPurpose(base, 1, consent.PurposePersonalizeFeedback, consent.CategoryPreferenceDeclared),
			recommend.SourceFeedback, consent.CategoryPreferenceFeedback, "a sibling category does not cover"},
		{"a descendant does not cover its parent", withPurpose(base, 1, consent.PurposePersonalizeContext, "user.behavior.session.page", consent.CategoryBehaviorSearch),
			recommend.SourceContext, consent.CategoryBehaviorSession, "only an ancestor covers"},
		{"the consent fixture", consenttest.RetailPolicy(), recommend.SourceContext, consent.CategoryBehaviorSearch,
			"until consenttest.RetailPolicy declares user.behavior.search for personalize.context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "the consent fixture" {
				if spec, _ := tt.policy.Spec(consent.PurposePersonalizeContext); slices.Contains(spec.Categories, consent.CategoryBehaviorSearch) {
					t.Skip("the fixture declares search now")
				}
			}
			c := recommendtest.NewConsents()
			c.SetPolicy(tt.policy)
			r, err := recommend.New(m, c, nil, recommend.Config{})
			require.ErrorIs(t, err, recommend.ErrUndeclaredCategory, tt.reason)
			assert.Nil(t, r)
			var se *recommend.SourceError
			require.True(t, errors.As(err, &se))
			assert.Equal(t, tt.source, se.Source)
			assert.Equal(t, tt.source.Purpose(), se.Purpose)
			assert.Equal(t, tt.category, se.Category)
			assert.Equal(t, tt.policy.Version, se.PolicyVersion)
			for _, want := range []string{string(tt.source.Purpose()), string(tt.category), tt.source.String()} {
				assert.Contains(t, err.Error(), want)
			}
		})
	}

	for name, p := range map[string]*consent.Policy{
		"exact categories":   base,
		"an ancestor covers": withPurpose(base, 1, consent.PurposePersonalizeContext, consent.CategoryBehavior),
		"the root covers":    withPurpose(base, 1, consent.PurposePersonalizeHistory, consent.CategoryUser),
		"purpose not declared (the source is never read)": withPurpose(base, 1, consent.PurposePersonalizeHistory),
		"the fixture, with search":                        retailPolicy(true),
	} {
		c := recommendtest.NewConsents()
		c.SetPolicy(p)
		_, err := recommend.New(m, c, nil, recommend.Config{})
		assert.NoError(t, err, name)
	}
	_, err := recommend.New(m, nilPolicy{recommendtest.NewConsents()}, nil, recommend.Config{})
	assert.ErrorIs(t, err, recommend.ErrInvalidConfig, "a Decider with no policy")
}

type nilPolicy struct{ *recommendtest.Consents }

func (nilPolicy) Policy() *consent.Policy { return nil }

// A policy changed at run time through the Gate takes effect on the next
// request: once personalize.context no longer declares user.behavior.search,
// the context source is withheld with the reason (never used without it),
// and used again once a later policy declares it again.
func TestPolicyChangedAtRunTimeWithholdsTheSource(t *testing.T) {
	gate, err := consent.NewGate(retailPolicy(true), consent.NewMemoryStore(), consent.GateConfig{})
	require.NoError(t, err)
	r0, _, store := shop()
	r, err := recommend.New(r0.Model(), gate, store, recommend.Config{})
	require.NoError(t, err)
	_, err = gate.Record(ctx, consent.Event{Action: consent.Grant, Subject: "zoe", Purpose: consent.PurposePersonalize,
		At: now.Add(-time.Hour), Channel: consent.ChannelWeb})
	require.NoError(t, err)
	require.NoError(t, store.AddEvents(ctx, "zoe", recommend.Event{Item: "kettle", At: now.AddDate(0, -1, 0)}))
	req := recommend.Request{Subject: "zoe", At: now, VisitStart: visit, K: 3, Relationship: established,
		Context: recommend.Context{Query: "running shoes", Item: "road-shoes"}}
	resp, err := r.Recommend(ctx, req)
	require.NoError(t, err)
	require.Contains(t, resp.Used, consent.CategoryBehaviorSearch, "search is declared: used")
	require.True(t, hasSource(resp, recommend.SourceContext))

	require.NoError(t, gate.SetPolicy(withPurpose(retailPolicy(false), 3, consent.PurposePersonalizeContext, consent.CategoryBehaviorSession)))
	resp, err = r.Recommend(ctx, req)
	require.NoError(t, err)
	assert.NotContains(t, resp.Used, consent.CategoryBehaviorSearch)
	assert.NotContains(t, resp.Used, consent.CategoryBehaviorSession, "the whole source is withheld")
	assert.NotContains(t, resp.Purposes, consent.PurposePersonalizeContext)
	assert.False(t, hasSource(resp, recommend.SourceContext))
	for _, it := range resp.Items {
		for _, why := range it.Reasons {
			assert.NotContains(t, why.Text, "search")
		}
	}
	w, ok := withheld(resp, recommend.SourceContext)
	require.True(t, ok, "withheld, not silently dropped: %+v", resp.Withheld)
	assert.Equal(t, recommend.WithheldPolicy, w.Reason)
	assert.Equal(t, "policy", w.Reason.String())
	assert.Equal(t, consent.CategoryBehaviorSearch, w.Category)
	assert.Equal(t, consent.PurposePersonalizeContext, w.Purpose)
	assert.Equal(t, 3, w.Decision.PolicyVersion)
	assert.Equal(t, "What you're viewing not used: our privacy policy does not cover what you search for here.", w.Text,
		"the category in words, not its key")
	assert.True(t, hasSource(resp, recommend.SourceHistory), "other sources are unaffected")

	require.NoError(t, gate.SetPolicy(withPurpose(retailPolicy(true), 4, consent.PurposePersonalizeContext, consent.CategoryBehavior)))
	resp, err = r.Recommend(ctx, req)
	require.NoError(t, err)
	assert.Contains(t, resp.Used, consent.CategoryBehaviorSearch, "declared again (by an ancestor): used again")
	_, ok = withheld(resp, recommend.SourceContext)
	assert.False(t, ok)
}

// policyCounter counts the reads of the policy.
type policyCounter struct {
	*recommendtest.Consents
	reads atomic.Int64
}

func (c *policyCounter) Policy() *consent.Policy {
	c.reads.Add(1)
	return c.Consents.Policy()
}

// Requests check the policy without reading it again: only a decision
// under a newer policy version makes the Recommender read (and compile) the
// policy, once.
func TestPolicyReadOncePerVersion(t *testing.T) {
	r0, _, store := shop()
	c := &policyCounter{Consents: recommendtest.NewConsents()}
	c.Allow("ben", consent.PurposePersonalize)
	r, err := recommend.New(r0.Model(), c, store, recommend.Config{})
	require.NoError(t, err)
	req := recommend.Request{Subject: "ben", At: now, VisitStart: visit, K: 3, Relationship: established,
		Context: recommend.Context{Query: "running"}}
	serve := func(n int) {
		for range n {
			_, err := r.Recommend(ctx, req)
			require.NoError(t, err)
		}
	}
	serve(50)
	assert.EqualValues(t, 1, c.reads.Load(), "read once, by New")
	c.SetPolicy(withPurpose(recommendtest.Policy(), 2, consent.PurposePersonalizeContext, consent.CategoryBehaviorSession))
	serve(50)
	assert.EqualValues(t, 2, c.reads.Load(), "read once more for version 2")
	resp, err := r.Recommend(ctx, req)
	require.NoError(t, err)
	w, ok := withheld(resp, recommend.SourceContext)
	require.True(t, ok)
	assert.Equal(t, recommend.WithheldPolicy, w.Reason)
}

// countingStore is a consent store in memory, seen only through the Store
// and StandingReader interfaces (as a database store would be), that
// counts the reads a Gate makes.
type countingStore struct {
	s     *consent.MemoryStore
	reads atomic.Int64
}

func (c *countingStore) Append(ctx context.Context, recs []consent.Record) error {
	return c.s.Append(ctx, recs)
}
func (c *countingStore) Latest(ctx context.Context, subject string, p consent.Purpose) (consent.Record, bool, error) {
	c.reads.Add(1)
	return c.s.Latest(ctx, subject, p)
}
func (c *countingStore) Scan(ctx context.Context, subject string, after uint64, fn func(consent.Record) error) error {
	c.reads.Add(1)
	return c.s.Scan(ctx, subject, after, fn)
}
func (c *countingStore) Redact(ctx context.Context, t []consent.Record) error {
	return c.s.Redact(ctx, t)
}
func (c *countingStore) Standings(ctx context.Context, subject string, ps []consent.Purpose, out []consent.Standing) error {
	c.reads.Add(1)
	return c.s.Standings(ctx, subject, ps, out)
}

// One Recommend reads the consent store once, whatever the tier and
// however many sources it consults: one round trip to a database.
func TestOneConsentQueryPerRecommend(t *testing.T) {
	cs := &countingStore{s: consent.NewMemoryStore()}
	gate, err := consent.NewGate(retailPolicy(true), cs, consent.GateConfig{})
	require.NoError(t, err)
	r0, _, store := shop()
	r, err := recommend.New(r0.Model(), gate, store, recommend.Config{})
	require.NoError(t, err)
	_, err = gate.Record(ctx, consent.Event{Action: consent.Grant, Subject: "zoe", Purpose: consent.PurposePersonalize, At: now.Add(-time.Hour), Channel: consent.ChannelWeb})
	require.NoError(t, err)
	for _, tc := range []struct {
		name    string
		subject string
		rel     recommend.Relationship
		sig     consent.Signals
		reads   int64
	}{
		{"established, consenting", "zoe", established, consent.Signals{}, 1},
		{"recognized", "zoe", recommend.Relationship{Known: true, FirstSeen: now.AddDate(0, 0, -3), Visits: 1}, consent.Signals{}, 1},
		{"anonymous visitor with a session", "session-9", recommend.Relationship{}, consent.Signals{}, 1},
		{"no subject", "", recommend.Relationship{}, consent.Signals{}, 0},
	} {
		cs.reads.Store(0)
		resp, err := r.Recommend(ctx, recommend.Request{Subject: tc.subject, At: now, VisitStart: visit, K: 3, Relationship: tc.rel, Signals: tc.sig})
		require.NoError(t, err)
		assert.Equal(t, tc.reads, cs.reads.Load(), "%s (tier %s): consent store reads", tc.name, resp.Tier)
	}
}
