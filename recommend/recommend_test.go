package recommend_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/recommendtest"
)

var established = recommend.Relationship{Known: true, FirstSeen: now.AddDate(-1, 0, 0), Visits: 10, Orders: 5}

func titles(resp recommend.Response) []string {
	var out []string
	for _, it := range resp.Items {
		out = append(out, it.Item.ID)
	}
	return out
}

func hasSource(resp recommend.Response, s recommend.Source) bool {
	for _, it := range resp.Items {
		for _, r := range it.Reasons {
			if r.Source == s {
				return true
			}
		}
	}
	return false
}

func withheld(resp recommend.Response, s recommend.Source) (recommend.Withheld, bool) {
	for _, w := range resp.Withheld {
		if w.Source == s {
			return w, true
		}
	}
	return recommend.Withheld{}, false
}

func TestRequestValidation(t *testing.T) {
	r, _, _ := shop()
	tests := []struct {
		name   string
		req    recommend.Request
		field  string
		reason string
	}{
		{"zero k", recommend.Request{At: now, K: 0}, "K", "nothing asked"},
		{"negative k", recommend.Request{At: now, K: -3}, "K", "nonsense"},
		{"huge k", recommend.Request{At: now, K: recommend.MaxK + 1}, "K", "bounded work per request"},
		{"no time", recommend.Request{K: 3}, "At", "the recommender never reads the clock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := r.Recommend(ctx, tt.req)
			require.ErrorIs(t, err, recommend.ErrInvalidRequest, tt.reason)
			var fe *recommend.FieldError
			require.True(t, errors.As(err, &fe))
			assert.Equal(t, tt.field, fe.Field)
			assert.Empty(t, resp.Items)
		})
	}
}

func TestEmptyCatalogAndUnknownIDs(t *testing.T) {
	cat, err := recommend.NewCatalog(nil)
	require.NoError(t, err)
	m, err := recommend.NewModel(cat, nil, nil)
	require.NoError(t, err)
	c := recommendtest.NewConsents()
	c.Allow("p", consent.PurposePersonalize)
	store := new(recommend.MemoryStore)
	require.NoError(t, store.AddEvents(ctx, "p", recommend.Event{Item: "ghost", At: now}))
	r, err := recommend.New(m, c, store, recommend.Config{})
	require.NoError(t, err)
	resp, err := r.Recommend(ctx, recommend.Request{Subject: "p", At: now, VisitStart: visit, K: 5, Relationship: established,
		Context: recommend.Context{Item: "ghost", Category: "nope", Query: "!!", Segment: "mars"}})
	require.NoError(t, err)
	assert.Empty(t, resp.Items)

	r2, _, store2 := shop()
	require.NoError(t, store2.AddEvents(ctx, "p", recommend.Event{Item: "ghost", At: now}))
	resp, err = r2.Recommend(ctx, recommend.Request{Subject: "p", At: now, VisitStart: visit, K: 5, Context: recommend.Context{Item: "ghost"}})
	require.NoError(t, err, "unknown ids are ignored")
	assert.NotEmpty(t, resp.Items, "popularity still answers")
}

func TestNewValidatesConfig(t *testing.T) {
	cat, _ := recommend.NewCatalog(items("a"))
	m, _ := recommend.NewModel(cat, nil, nil)
	c := recommendtest.NewConsents()
	for name, cfg := range map[string]recommend.Config{
		"negative weight": {Weights: map[recommend.Tier]recommend.Weights{recommend.Recognized: {History: -1}}},
		"NaN weight":      {Weights: map[recommend.Tier]recommend.Weights{recommend.Anonymous: {Context: math.NaN()}}},
		"unknown tier":    {Weights: map[recommend.Tier]recommend.Weights{9: {Context: 1}}},
		"all zero":        {Weights: map[recommend.Tier]recommend.Weights{recommend.Established: {}}},
		"NaN floor":       {ConfidenceFloor: math.NaN()},
		"floor above 1":   {ConfidenceFloor: 2},
		"half-life":       {HistoryHalfLife: -time.Hour},
	} {
		_, err := recommend.New(m, c, nil, cfg)
		assert.ErrorIs(t, err, recommend.ErrInvalidConfig, name)
	}
	_, err := recommend.New(nil, c, nil, recommend.Config{})
	assert.ErrorIs(t, err, recommend.ErrNilModel)
	_, err = recommend.New(m, nil, nil, recommend.Config{})
	assert.ErrorIs(t, err, recommend.ErrInvalidConfig)
	r, err := recommend.New(m, c, nil, recommend.Config{})
	require.NoError(t, err)
	assert.ErrorIs(t, r.SetModel(nil), recommend.ErrNilModel)
	assert.Same(t, m, r.Model(), "a rejected swap keeps the model")
}

func TestConsentAskedOncePerPurpose(t *testing.T) {
	r, consents, store := shop()
	consents.Allow("ben", consent.PurposePersonalize)
	require.NoError(t, store.AddEvents(ctx, "ben", recommend.Event{Item: "trail-shoes", At: now}))
	before := consents.Calls()
	resp, err := r.Recommend(ctx, recommend.Request{Subject: "ben", At: now, VisitStart: visit, K: 3, Relationship: established,
		Context: recommend.Context{Item: "road-shoes"}})
	require.NoError(t, err)
	assert.Equal(t, recommend.Established, resp.Tier)
	assert.Equal(t, 4, consents.Calls()-before, "context, declared, feedback, history: once each, though the trust policy asked too")

	before = consents.Calls()
	_, err = r.Recommend(ctx, recommend.Request{At: now, K: 3})
	require.NoError(t, err)
	assert.Equal(t, 0, consents.Calls()-before, "no subject: nobody to ask")
}

func TestWithdrawalMidVisit(t *testing.T) {
	r, consents, store := shop()
	consents.Allow("dee", consent.PurposePersonalize)
	require.NoError(t, store.AddEvents(ctx, "dee", recommend.Event{Item: "trail-shoes", At: now.AddDate(0, -1, 0)}))
	req := recommend.Request{Subject: "dee", At: now, VisitStart: visit, K: 3, Relationship: established}
	resp, err := r.Recommend(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, recommend.Established, resp.Tier)
	assert.Contains(t, resp.Used, consent.CategoryBehaviorPurchaseHistory)
	assert.True(t, hasSource(resp, recommend.SourceHistory))

	consents.Withdraw("dee", consent.PurposePersonalize)
	req.At = now.Add(time.Minute)
	resp, err = r.Recommend(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, recommend.Anonymous, resp.Tier, "nothing personal is allowed any more")
	assert.Empty(t, resp.Used, "the very next request uses no personal data")
	assert.NotEmpty(t, resp.Items, "but still answers, from popularity")
	for _, it := range resp.Items {
		for _, why := range it.Reasons {
			assert.Equal(t, recommend.SourcePopularity, why.Source)
		}
	}
	w, ok := withheld(resp, recommend.SourceHistory)
	require.True(t, ok)
	assert.Equal(t, recommend.WithheldConsent, w.Reason)
	assert.Equal(t, consent.ReasonWithdrawn, w.Decision.Reason)
	assert.Equal(t, "Your purchase history not used: you withdrew your consent.", w.Text)
}

func TestWarmUp(t *testing.T) {
	r, consents, store := shop()
	consents.Allow("eve", consent.PurposePersonalize)
	require.NoError(t, store.AddEvents(ctx, "eve", recommend.Event{Item: "road-shoes", At: now.AddDate(0, -1, 0)}))
	require.NoError(t, store.SetPreferences(ctx, "eve", recommend.Preferences{Interests: []recommend.Interest{{Tags: []string{"marathon"}}}}))
	for _, start := range []time.Time{now.Add(-30 * time.Second), {}} {
		resp, err := r.Recommend(ctx, recommend.Request{Subject: "eve", At: now, VisitStart: start, K: 10, Relationship: established})
		require.NoError(t, err)
		assert.True(t, resp.WarmUp)
		for _, it := range resp.Items {
			assert.False(t, it.Item.Promotional, "no promotions in the first minutes")
			for _, why := range it.Reasons {
				assert.Contains(t, []recommend.Source{recommend.SourceContext, recommend.SourcePopularity}, why.Source)
			}
		}
		assert.Positive(t, resp.Filtered.WarmUp, "the promotional watch is popular and was held back")
		w, ok := withheld(resp, recommend.SourceHistory)
		require.True(t, ok)
		assert.Equal(t, recommend.WithheldWarmUp, w.Reason)
		assert.Equal(t, "Your purchase history not used: not in the first 2 minutes of your visit (except to leave items out).", w.Text)
	}
	resp, err := r.Recommend(ctx, recommend.Request{Subject: "eve", At: now, VisitStart: now.Add(-2 * time.Minute), K: 10, Relationship: established})
	require.NoError(t, err)
	assert.False(t, resp.WarmUp, "after 2 minutes the warm-up is over")
	assert.True(t, hasSource(resp, recommend.SourceHistory) || hasSource(resp, recommend.SourceDeclared))

	r2, consents2, _ := shopWith(recommend.Config{WarmUp: -1})
	consents2.Allow("eve", consent.PurposePersonalize)
	resp, err = r2.Recommend(ctx, recommend.Request{Subject: "eve", At: now, K: 10})
	require.NoError(t, err)
	assert.False(t, resp.WarmUp, "negative WarmUp disables the guard")
}

// During the warm-up nothing personal suggests items, but what the person
// asked to leave out, and what they already bought, stays out: the guards
// that only remove items must not switch off in the first minutes of a
// visit (they used to: an avoided tag and a bought pair of shoes came back
// from popularity).
func TestWarmUpStillLeavesOut(t *testing.T) {
	r, consents, store := shop()
	consents.Allow("uma", consent.PurposePersonalize)
	require.NoError(t, store.SetPreferences(ctx, "uma", recommend.Preferences{
		Interests: []recommend.Interest{{Text: "you're training for a marathon", Tags: []string{"marathon"}}},
		Avoid:     []string{"energy"}, // the gels
	}))
	require.NoError(t, store.AddEvents(ctx, "uma",
		recommend.Event{Item: "road-shoes", At: now.AddDate(0, -1, 0)},
		recommend.Event{Item: "trail-shoes", Kind: recommend.View, At: now.AddDate(0, -1, 0)}))
	require.NoError(t, store.AddFeedback(ctx, "uma",
		recommend.Feedback{Item: "socks", Kind: recommend.NotInterested, At: now},
		recommend.Feedback{Item: "vest", Kind: recommend.Liked, At: now}))
	resp, err := r.Recommend(ctx, recommend.Request{Subject: "uma", At: now, VisitStart: now.Add(-time.Minute), K: 10, Relationship: established})
	require.NoError(t, err)
	require.True(t, resp.WarmUp)
	got := titles(resp)
	require.NotEmpty(t, got)
	assert.NotContains(t, got, "gels", "declared avoid tag")
	assert.NotContains(t, got, "road-shoes", "already bought")
	assert.NotContains(t, got, "socks", "not interested")
	assert.Contains(t, got, "trail-shoes", "a view does not exclude")
	for _, it := range resp.Items {
		for _, why := range it.Reasons {
			assert.Contains(t, []recommend.Source{recommend.SourceContext, recommend.SourcePopularity}, why.Source, "nothing personal suggests during warm-up")
		}
	}
	assert.Equal(t, []consent.Category{consent.CategoryBehaviorPurchaseHistory, consent.CategoryPreferenceDeclared, consent.CategoryPreferenceFeedback}, resp.Used,
		"purchases, declared constraints and feedback were read, to leave items out; views were not")
	for _, s := range []recommend.Source{recommend.SourceDeclared, recommend.SourceFeedback, recommend.SourceHistory} {
		w, ok := withheld(resp, s)
		require.True(t, ok, "%s", s)
		assert.Equal(t, recommend.WithheldWarmUp, w.Reason)
		assert.True(t, strings.HasSuffix(w.Text, " not used: not in the first 2 minutes of your visit (except to leave items out)."), w.Text)
	}

	// Below the recognized tier, feedback only removes, and says so.
	resp, err = r.Recommend(ctx, recommend.Request{Subject: "uma", At: now, VisitStart: visit, K: 10})
	require.NoError(t, err)
	assert.Equal(t, recommend.Anonymous, resp.Tier)
	assert.NotContains(t, titles(resp), "socks")
	assert.False(t, hasSource(resp, recommend.SourceFeedback))
	w, ok := withheld(resp, recommend.SourceFeedback)
	require.True(t, ok)
	assert.Equal(t, recommend.WithheldTier, w.Reason)
	assert.Equal(t, "Your feedback not used: used only once you're a recognized customer (except to leave items out).", w.Text)
}

// Saying the same thing twice does not make it count double: a tag
// repeated in an interest, an item liked twice.
func TestRepeatsCountOnce(t *testing.T) {
	scores := func(p recommend.Preferences, fb ...recommend.Feedback) map[string]float64 {
		r, consents, store := shop()
		consents.Allow("rex", consent.PurposePersonalize)
		require.NoError(t, store.SetPreferences(ctx, "rex", p))
		require.NoError(t, store.AddFeedback(ctx, "rex", fb...))
		resp, err := r.Recommend(ctx, recommend.Request{Subject: "rex", At: now, VisitStart: visit, K: 10, Relationship: recommend.Relationship{Known: true}})
		require.NoError(t, err)
		out := map[string]float64{}
		for _, it := range resp.Items {
			out[it.Item.ID] = it.Score
		}
		require.NotEmpty(t, out)
		return out
	}
	once := recommend.Preferences{Interests: []recommend.Interest{{Tags: []string{"marathon", "trail"}}}}
	twice := recommend.Preferences{Interests: []recommend.Interest{{Tags: []string{"marathon", "trail", "marathon"}}}}
	assert.Equal(t, scores(once), scores(twice), "a repeated tag")
	liked := recommend.Feedback{Item: "road-shoes", Kind: recommend.Liked, At: now}
	assert.Equal(t, scores(recommend.Preferences{}, liked), scores(recommend.Preferences{}, liked, liked), "an item liked twice")
}

func TestSensitiveOnlyFromDeclared(t *testing.T) {
	r, consents, store := shop()
	consents.Allow("fay", consent.PurposePersonalize)
	// Espresso beans co-occur with prenatal vitamins in the training baskets.
	require.NoError(t, store.AddEvents(ctx, "fay", recommend.Event{Item: "beans", At: now.AddDate(0, -1, 0)}, recommend.Event{Item: "kettle", At: now.AddDate(0, -1, 0)}))
	req := recommend.Request{Subject: "fay", At: now, VisitStart: visit, K: 10, Relationship: established, Context: recommend.Context{Item: "beans", Category: "pharmacy", Query: "vitamins"}}
	resp, err := r.Recommend(ctx, req)
	require.NoError(t, err)
	assert.NotContains(t, titles(resp), "vitamins", "never inferred from history, context or search")
	assert.Positive(t, resp.Filtered.Sensitive)

	require.NoError(t, store.SetPreferences(ctx, "fay", recommend.Preferences{Interests: []recommend.Interest{{Text: "you're expecting a baby", Tags: []string{"pregnancy"}}}}))
	resp, err = r.Recommend(ctx, req)
	require.NoError(t, err)
	require.Contains(t, titles(resp), "vitamins", "declared: the person asked for it")
	for _, it := range resp.Items {
		if it.Item.ID == "vitamins" {
			require.Len(t, it.Reasons, 1)
			assert.Equal(t, recommend.SourceDeclared, it.Reasons[0].Source)
			assert.Equal(t, "Because you told us you're expecting a baby", it.Reasons[0].Text)
		}
	}

	// A sensitive item in the history infers nothing.
	r, consents, store = shop()
	consents.Allow("gus", consent.PurposePersonalize)
	require.NoError(t, store.AddEvents(ctx, "gus", recommend.Event{Item: "vitamins", At: now.AddDate(0, -1, 0)}))
	resp, err = r.Recommend(ctx, recommend.Request{Subject: "gus", At: now, VisitStart: visit, K: 10, Relationship: established})
	require.NoError(t, err)
	assert.False(t, hasSource(resp, recommend.SourceHistory), "a sensitive purchase seeds nothing")
}

func TestNotInterestedBoughtCapFloor(t *testing.T) {
	r, consents, store := shopWith(recommend.Config{SuppressCategory: true})
	consents.Allow("hal", consent.PurposePersonalize)
	require.NoError(t, store.AddFeedback(ctx, "hal", recommend.Feedback{Item: "kettle", Kind: recommend.NotInterested, At: now}))
	require.NoError(t, store.AddEvents(ctx, "hal",
		recommend.Event{Item: "road-shoes", At: now.AddDate(0, -1, 0)},
		recommend.Event{Item: "gels", At: now.AddDate(0, -1, 0)}, // replenishable
	))
	req := recommend.Request{Subject: "hal", At: now, VisitStart: visit, K: 10, Relationship: established,
		Shown: map[string]int{"socks": 3, "vest": 2}}
	resp, err := r.Recommend(ctx, req)
	require.NoError(t, err)
	got := titles(resp)
	assert.NotContains(t, got, "kettle", "not interested")
	assert.NotContains(t, got, "beans", "same category as the kettle, suppressed with SuppressCategory")
	assert.NotContains(t, got, "road-shoes", "already bought")
	assert.Contains(t, got, "gels", "replenishable items come back")
	assert.NotContains(t, got, "socks", "shown 3 times: capped")
	assert.Positive(t, resp.Filtered.FrequencyCap)
	assert.Positive(t, resp.Filtered.AlreadyBought)

	strict, consents, store := shopWith(recommend.Config{ConfidenceFloor: 0.9})
	consents.Allow("hal", consent.PurposePersonalize)
	require.NoError(t, store.AddEvents(ctx, "hal", recommend.Event{Item: "road-shoes", At: now.AddDate(0, -1, 0)}))
	resp2, err := strict.Recommend(ctx, req)
	require.NoError(t, err)
	assert.Positive(t, resp2.Filtered.ConfidenceFloor, "weak guesses held back")
	popular := 0
	for _, it := range resp2.Items {
		// No weak guess: what a personal or context source led to scores
		// at least the floor; the places left go to popular items, which
		// are no guess about the person.
		if len(it.Reasons) == 1 && it.Reasons[0].Source == recommend.SourcePopularity {
			popular++
			continue
		}
		assert.GreaterOrEqual(t, it.Score, 0.9, it.Item.ID)
	}
	assert.Positive(t, popular, "popular items fill the places weak guesses leave")
}

func TestDeclaredConstraints(t *testing.T) {
	cat, _ := recommend.NewCatalog([]recommend.Item{
		{ID: "s40", Title: "Shoe 40", Tags: []string{"running"}, Sizes: []string{"shoe:40"}, Price: 80},
		{ID: "s42", Title: "Shoe 42", Tags: []string{"running"}, Sizes: []string{"shoe:41", "shoe:42"}, Price: 90},
		{ID: "pricey", Title: "Carbon shoe", Tags: []string{"running"}, Sizes: []string{"shoe:42"}, Price: 250},
		{ID: "leather", Title: "Leather shoe", Tags: []string{"running", "leather"}, Sizes: []string{"shoe:42"}, Price: 60},
		{ID: "shirt", Title: "Shirt", Tags: []string{"running"}, Sizes: []string{"top:M"}, Price: 30},
	})
	m, _ := recommend.NewModel(cat, nil, nil)
	c := recommendtest.NewConsents()
	c.Allow("ivy", consent.PurposePersonalize)
	store := new(recommend.MemoryStore)
	require.NoError(t, store.SetPreferences(ctx, "ivy", recommend.Preferences{
		Interests: []recommend.Interest{{Tags: []string{"running"}}},
		Avoid:     []string{"leather"}, MaxPrice: 200, Sizes: []string{"shoe:42"},
	}))
	r, err := recommend.New(m, c, store, recommend.Config{})
	require.NoError(t, err)
	resp, err := r.Recommend(ctx, recommend.Request{Subject: "ivy", At: now, VisitStart: visit, K: 10, Relationship: recommend.Relationship{Known: true}})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"s42", "shirt"}, titles(resp), "size 42 only (shirts have no declared size), under budget, no leather")
	assert.Equal(t, 3, resp.Filtered.Declared)
	assert.Equal(t, "Because you told us you're interested in running", resp.Items[0].Reasons[0].Text)
}

func TestConsentFailureWithholds(t *testing.T) {
	r, consents, _ := shop()
	consents.Fail(nil)
	resp, err := r.Recommend(ctx, recommend.Request{Subject: "jo", At: now, VisitStart: visit, K: 3, Relationship: established, Context: recommend.Context{Item: "road-shoes"}})
	require.NoError(t, err, "a failing consent store does not fail the request")
	assert.Equal(t, recommend.Anonymous, resp.Tier)
	assert.Empty(t, resp.Used, "fail closed")
	w, ok := withheld(resp, recommend.SourceContext)
	require.True(t, ok)
	assert.Equal(t, recommend.WithheldUnavailable, w.Reason)
	assert.ErrorIs(t, w.Err, recommendtest.ErrUnavailable)
	assert.NotEmpty(t, resp.Items)

	cat, _ := recommend.NewCatalog(items("a"))
	m, _ := recommend.NewModel(cat, nil, nil)
	c := recommendtest.NewConsents()
	c.Allow("jo", consent.PurposePersonalize)
	noStore, _ := recommend.New(m, c, nil, recommend.Config{})
	resp, err = noStore.Recommend(ctx, recommend.Request{Subject: "jo", At: now, VisitStart: visit, K: 3, Relationship: established})
	require.NoError(t, err)
	w, ok = withheld(resp, recommend.SourceHistory)
	require.True(t, ok)
	assert.ErrorIs(t, w.Err, recommend.ErrNoProfiles)
}

type failingStore struct{ *recommend.MemoryStore }

var errDown = errors.New("database down")

func (*failingStore) History(context.Context, string) ([]recommend.Event, error) { return nil, errDown }

func TestStoreFailureWithholds(t *testing.T) {
	r0, _, _ := shop()
	c := recommendtest.NewConsents()
	c.Allow("kim", consent.PurposePersonalize)
	r, err := recommend.New(r0.Model(), c, &failingStore{new(recommend.MemoryStore)}, recommend.Config{})
	require.NoError(t, err)
	resp, err := r.Recommend(ctx, recommend.Request{Subject: "kim", At: now, VisitStart: visit, K: 3, Relationship: established})
	require.NoError(t, err)
	w, ok := withheld(resp, recommend.SourceHistory)
	require.True(t, ok)
	assert.ErrorIs(t, w.Err, errDown)
	assert.NotContains(t, resp.Used, consent.CategoryBehaviorPurchaseHistory)
}

func TestTimeDecay(t *testing.T) {
	r, consents, store := shopWith(recommend.Config{HistoryHalfLife: 7 * 24 * time.Hour})
	consents.Allow("lee", consent.PurposePersonalize)
	require.NoError(t, store.AddEvents(ctx, "lee",
		recommend.Event{Item: "kettle", At: now.AddDate(-1, 0, 0)},
		recommend.Event{Item: "trail-shoes", At: now.Add(-24 * time.Hour)},
	))
	resp, err := r.Recommend(ctx, recommend.Request{Subject: "lee", At: now, VisitStart: visit, K: 1, Relationship: established})
	require.NoError(t, err)
	require.Len(t, resp.Items, 1)
	assert.Equal(t, "trail-shoes", resp.Items[0].Reasons[0].Related, "the recent purchase dominates")
}

func TestDefaultTrust(t *testing.T) {
	all := func(consent.Purpose) bool { return true }
	none := func(consent.Purpose) bool { return false }
	noHistory := func(p consent.Purpose) bool { return p != consent.PurposePersonalizeHistory }
	p := recommend.DefaultTrust{}
	tests := []struct {
		name    string
		rel     recommend.Relationship
		allowed func(consent.Purpose) bool
		want    recommend.Tier
	}{
		{"stranger", recommend.Relationship{Visits: 50, Orders: 50, FirstSeen: now.AddDate(-2, 0, 0)}, all, recommend.Anonymous},
		{"known, no consent", established, none, recommend.Anonymous},
		{"known, new", recommend.Relationship{Known: true, Visits: 1}, all, recommend.Recognized},
		{"established", established, all, recommend.Established},
		{"established, history refused", established, noHistory, recommend.Recognized},
		{"one order", recommend.Relationship{Known: true, Visits: 5, Orders: 1, FirstSeen: now.AddDate(-1, 0, 0)}, all, recommend.Recognized},
		{"too recent", recommend.Relationship{Known: true, Visits: 5, Orders: 3, FirstSeen: now.AddDate(0, 0, -10)}, all, recommend.Recognized},
		{"first seen in the future", recommend.Relationship{Known: true, Visits: 5, Orders: 3, FirstSeen: now.AddDate(0, 0, 10)}, all, recommend.Recognized},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, p.Tier(tt.rel, now, tt.allowed), tt.name)
	}
	noMinimum := recommend.DefaultTrust{EstablishedOrders: -1, EstablishedVisits: -1, EstablishedTenure: -1}
	assert.Equal(t, recommend.Established, noMinimum.Tier(recommend.Relationship{Known: true}, now, all), "negative: no minimum")
	custom := recommend.DefaultTrust{EstablishedOrders: 1, EstablishedVisits: 1, EstablishedTenure: time.Hour}
	assert.Equal(t, recommend.Established, custom.Tier(recommend.Relationship{Known: true, Visits: 1, Orders: 1, FirstSeen: now.Add(-2 * time.Hour)}, now, all))
}

func TestAuditNeverLogsTheSubject(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	r, consents, store := shopWith(recommend.Config{Logger: log})
	consents.Allow("subject-4711", consent.PurposePersonalize)
	consents.Withdraw("subject-4711", consent.PurposePersonalizeHistory)
	require.NoError(t, store.AddEvents(ctx, "subject-4711", recommend.Event{Item: "road-shoes", At: now}))
	_, err := r.Recommend(ctx, recommend.Request{Subject: "subject-4711", At: now, VisitStart: visit, K: 3, Relationship: established, Context: recommend.Context{Item: "road-shoes"}})
	require.NoError(t, err)
	out := buf.String()
	assert.Equal(t, 1, strings.Count(out, "\n"), "one event per request")
	assert.NotContains(t, out, "4711")
	assert.Contains(t, out, `"msg":"recommend.serve"`)
	assert.Contains(t, out, `"event":"recommend.serve"`)
	assert.Contains(t, out, `"tier":"recognized"`)
	assert.Contains(t, out, `"categories":"user.behavior.session"`)
	assert.Contains(t, out, `"withheld":"personalize.history:consent"`)
}

func TestConcurrentServingWithModelSwap(t *testing.T) {
	w := recommendtest.Generate(recommendtest.Options{Seed: 3, Items: 300, Shoppers: 60})
	m1 := w.Model()
	w2 := recommendtest.Generate(recommendtest.Options{Seed: 4, Items: 200, Shoppers: 40})
	m2 := w2.Model()
	c := recommendtest.NewConsents()
	for _, s := range w.Shoppers {
		c.Allow(s.ID, consent.PurposePersonalize)
	}
	r, err := recommend.New(m1, c, w.Store(), recommend.Config{})
	require.NoError(t, err)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				s := w.Shoppers[(g*200+i)%len(w.Shoppers)]
				resp, err := r.Recommend(ctx, recommend.Request{Subject: s.ID, At: now, VisitStart: visit, K: 5, Relationship: established,
					Context: recommend.Context{Item: w.Items[i%len(w.Items)].ID}})
				if !assert.NoError(t, err) {
					return
				}
				assert.LessOrEqual(t, len(resp.Items), 5)
			}
		}()
	}
	var swapper sync.WaitGroup
	swapper.Add(1)
	go func() {
		defer swapper.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			m := m1
			if i%2 == 0 {
				m = m2
			}
			assert.NoError(t, r.SetModel(m))
		}
	}()
	wg.Wait()
	close(stop)
	swapper.Wait()
}

func TestSegmentPopularity(t *testing.T) {
	cat, _ := recommend.NewCatalog(items("a", "b", "c"))
	pop, err := recommend.NewPopularity(cat, []recommend.ItemCount{{"a", 10}, {"b", 5}}, map[string][]recommend.ItemCount{"fr": {{"c", 9}}})
	require.NoError(t, err)
	m, _ := recommend.NewModel(cat, pop, nil)
	c := recommendtest.NewConsents()
	c.Allow("s", consent.PurposePersonalizeContext)
	r, _ := recommend.New(m, c, nil, recommend.Config{})
	resp, err := r.Recommend(ctx, recommend.Request{Subject: "s", At: now, VisitStart: visit, K: 1, Context: recommend.Context{Segment: "fr"}})
	require.NoError(t, err)
	require.Len(t, resp.Items, 1)
	assert.Equal(t, "c", resp.Items[0].Item.ID)
	assert.Equal(t, "Popular in fr", resp.Items[0].Reasons[0].Text)
	assert.Equal(t, consent.PurposePersonalizeContext, resp.Items[0].Reasons[0].Purpose, "the segment is context")
	assert.Equal(t, []consent.Category{consent.CategoryBehaviorSession}, resp.Used)

	resp, err = r.Recommend(ctx, recommend.Request{At: now, VisitStart: visit, K: 1, Context: recommend.Context{Segment: "fr"}})
	require.NoError(t, err)
	assert.Equal(t, "a", resp.Items[0].Item.ID, "without consent for context, global popularity")
	assert.Empty(t, resp.Used)
}

func TestRecommendAllocations(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	if raceEnabled {
		t.Skip("allocation counts are only meaningful without the race detector; run go test without -race")
	}
	r, consents, store := shop()
	consents.Allow("ben", consent.PurposePersonalize)
	for _, id := range []string{"trail-shoes", "kettle", "socks", "gels"} {
		require.NoError(t, store.AddEvents(ctx, "ben", recommend.Event{Item: id, At: now.AddDate(0, -1, 0)}))
	}
	req := recommend.Request{Subject: "ben", At: now, VisitStart: visit, K: 5, Relationship: established, Context: recommend.Context{Item: "road-shoes"}}
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := r.Recommend(ctx, req); err != nil {
			t.Fatal(err)
		}
	})
	// The response itself (items, one array of reasons and one of their
	// data categories, one of the categories used, one of the purposes)
	// and the state of the request; no per-catalog-item or per-history-
	// item allocation, and none per reason: "Because you bought …" and
	// "Because you're looking at …" are built once per item and model.
	assert.LessOrEqual(t, allocs, 10.0)
	t.Logf("%.0f allocations per request", allocs)
}

// An item in view relates to the other items of its catalog category even
// when the item-item model knows nothing about it (a new item, or pairs a
// DP release did not clear), below any co-occurrence neighbour.
func TestItemInViewFallsBackToItsCategory(t *testing.T) {
	cat, err := recommend.NewCatalog([]recommend.Item{
		{ID: "road", Title: "Road shoes", Category: "shoes"},
		{ID: "trail", Title: "Trail shoes", Category: "shoes"},
		{ID: "flats", Title: "Racing flats", Category: "shoes"},
		{ID: "pills", Title: "Vitamins", Category: "pharmacy", Sensitive: true},
		{ID: "beans", Title: "Espresso beans", Category: "coffee"},
	})
	require.NoError(t, err)
	m, err := recommend.NewModel(cat, nil, nil)
	require.NoError(t, err)
	c := recommendtest.NewConsents()
	c.Allow("s", consent.PurposePersonalizeContext)
	r, err := recommend.New(m, c, nil, recommend.Config{})
	require.NoError(t, err)
	resp, err := r.Recommend(ctx, recommend.Request{Subject: "s", At: now, VisitStart: visit, K: 5, Context: recommend.Context{Item: "road"}})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"trail", "flats"}, titles(resp), "same category, not the item in view, nothing else")
	for _, it := range resp.Items {
		assert.Equal(t, "Because you're looking at Road shoes", it.Reasons[0].Text)
		assert.Equal(t, "road", it.Reasons[0].Related)
	}
	resp, err = r.Recommend(ctx, recommend.Request{Subject: "s", At: now, VisitStart: visit, K: 5, Context: recommend.Context{Item: "pills"}})
	require.NoError(t, err)
	assert.Empty(t, resp.Items, "a sensitive item in view infers nothing")
}

// The reasons of a response share arrays; appending to one item's reasons
// or data must not overwrite another's.
func TestResponseSlicesDoNotAlias(t *testing.T) {
	r, consents, store := shop()
	consents.Allow("ben", consent.PurposePersonalize)
	require.NoError(t, store.AddEvents(ctx, "ben", recommend.Event{Item: "trail-shoes", At: now.AddDate(0, -1, 0)}))
	resp, err := r.Recommend(ctx, recommend.Request{Subject: "ben", At: now, VisitStart: visit, K: 5, Relationship: established, Context: recommend.Context{Item: "road-shoes"}})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(resp.Items), 2)
	second := resp.Items[1].Reasons[0]
	secondData := slices.Clone(second.Data)
	first := &resp.Items[0]
	first.Reasons = append(first.Reasons, recommend.Reason{Text: "appended"})
	first.Reasons[0].Data = append(first.Reasons[0].Data, "appended.category")
	assert.Equal(t, second.Text, resp.Items[1].Reasons[0].Text)
	assert.Equal(t, secondData, resp.Items[1].Reasons[0].Data)
	for _, it := range resp.Items[1:] {
		for _, why := range it.Reasons {
			assert.NotContains(t, why.Data, consent.Category("appended.category"))
		}
	}
}

// popularityOnly is a model of its with popularity from counts and no
// item-item model.
func popularityOnly(t *testing.T, its []recommend.Item, counts []recommend.ItemCount) *recommend.Model {
	t.Helper()
	cat, err := recommend.NewCatalog(its)
	require.NoError(t, err)
	pop, err := recommend.NewPopularity(cat, counts, nil)
	require.NoError(t, err)
	m, err := recommend.NewModel(cat, pop, nil)
	require.NoError(t, err)
	return m
}

// Items capped by the frequency cap do not use up the popular candidates a
// request considers: with the 60 most popular items capped, the next ones
// are still offered (they used to be crowded out, leaving nothing).
func TestFrequencyCapDoesNotStarvePopularity(t *testing.T) {
	var its []recommend.Item
	var counts []recommend.ItemCount
	shown := map[string]int{}
	for i := 0; i < 100; i++ {
		id := fmt.Sprintf("i%03d", i)
		its = append(its, recommend.Item{ID: id, Title: id})
		counts = append(counts, recommend.ItemCount{Item: id, Count: float64(1000 - i)})
		if i < 60 {
			shown[id] = recommend.DefaultFrequencyCap
		}
	}
	r, err := recommend.New(popularityOnly(t, its, counts), recommendtest.NewConsents(), nil, recommend.Config{})
	require.NoError(t, err)
	resp, err := r.Recommend(ctx, recommend.Request{At: now, VisitStart: visit, K: 3, Shown: shown})
	require.NoError(t, err)
	assert.Equal(t, []string{"i060", "i061", "i062"}, titles(resp))
}

// Popular items a guard removes whatever their score (over the declared
// budget, promotional during the warm-up, sensitive) do not use up the
// popular candidates a request considers either.
func TestGuardsDoNotStarvePopularity(t *testing.T) {
	var its []recommend.Item
	var counts []recommend.ItemCount
	for i := 0; i < 200; i++ {
		it := recommend.Item{ID: fmt.Sprintf("i%03d", i), Price: 10}
		switch {
		case i < 60:
			it.Price = 500
		case i < 120:
			it.Promotional = true
		case i < 180:
			it.Sensitive = true
		}
		its = append(its, it)
		counts = append(counts, recommend.ItemCount{Item: it.ID, Count: float64(1000 - i)})
	}
	m := popularityOnly(t, its, counts)
	c := recommendtest.NewConsents()
	c.Allow("val", consent.PurposePersonalize)
	store := new(recommend.MemoryStore)
	require.NoError(t, store.SetPreferences(ctx, "val", recommend.Preferences{MaxPrice: 100}))
	r, err := recommend.New(m, c, store, recommend.Config{})
	require.NoError(t, err)
	resp, err := r.Recommend(ctx, recommend.Request{Subject: "val", At: now, VisitStart: now, K: 3, Relationship: recommend.Relationship{Known: true}})
	require.NoError(t, err)
	require.True(t, resp.WarmUp)
	assert.Equal(t, []string{"i180", "i181", "i182"}, titles(resp))
	assert.Positive(t, resp.Filtered.Declared)
	assert.Positive(t, resp.Filtered.WarmUp)
	assert.Positive(t, resp.Filtered.Sensitive)
}

// The audit event names the sources that led to the sensitive items served
// (only "declared", as the guard requires), and none when none was served.
func TestAuditNamesTheSourcesOfSensitiveItems(t *testing.T) {
	var buf bytes.Buffer
	r, consents, store := shopWith(recommend.Config{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	consents.Allow("fay", consent.PurposePersonalize)
	require.NoError(t, store.AddEvents(ctx, "fay", recommend.Event{Item: "beans", At: now.AddDate(0, -1, 0)}))
	req := recommend.Request{Subject: "fay", At: now, VisitStart: visit, K: 10, Relationship: established, Context: recommend.Context{Item: "beans"}}
	_, err := r.Recommend(ctx, req)
	require.NoError(t, err)
	assert.Contains(t, buf.String(), `"sensitive_sources":""`, "no sensitive item served")

	buf.Reset()
	require.NoError(t, store.SetPreferences(ctx, "fay", recommend.Preferences{Interests: []recommend.Interest{{Text: "you're expecting a baby", Tags: []string{"pregnancy"}}}}))
	resp, err := r.Recommend(ctx, req)
	require.NoError(t, err)
	require.Contains(t, titles(resp), "vitamins")
	assert.Contains(t, buf.String(), `"sensitive_sources":"declared"`)
}
