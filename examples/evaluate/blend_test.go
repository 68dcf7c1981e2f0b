package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/eval"
	"github.com/tact-go/tact/recommend/recommendtest"
)

// tinyShop is a small synthetic store: n plain items (no flags), persons
// buying from one of three tastes plus a little noise, so that item-item
// has signal; popularity counts are distinct (no ties).
func tinyShop(t *testing.T, seed uint64, n, persons int) (*recommend.Catalog, []recommend.Interaction, []recommend.ItemCount) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	items := make([]recommend.Item, n)
	for i := range items {
		items[i] = recommend.Item{ID: fmt.Sprintf("i%02d", i), Title: fmt.Sprintf("item %d", i)}
	}
	cat, err := recommend.NewCatalog(items)
	require.NoError(t, err)
	var in []recommend.Interaction
	for p := 0; p < persons; p++ {
		taste := r.IntN(3)
		for j := 0; j < 3+r.IntN(5); j++ {
			i := taste*(n/3) + r.IntN(n/3)
			if r.IntN(4) == 0 {
				i = r.IntN(n)
			}
			in = append(in, recommend.Interaction{Person: fmt.Sprintf("p%03d", p), Item: items[i].ID})
		}
	}
	pop := make([]recommend.ItemCount, n)
	for i, c := range r.Perm(n) {
		pop[i] = recommend.ItemCount{Item: items[i].ID, Count: float64(c + 1)}
	}
	return cat, in, pop
}

func tinyBlend(t *testing.T, seed uint64) (*recommend.Catalog, []recommend.Interaction, *recommend.ItemItem, *recommend.Popularity) {
	t.Helper()
	cat, in, counts := tinyShop(t, seed, 30, 80)
	ii, err := recommend.TrainItemItem(cat, in, recommend.CountOptions{}, recommend.ItemItemConfig{Similarity: recommend.Cosine, Neighbors: 5})
	require.NoError(t, err)
	pop, err := recommend.NewPopularity(cat, counts, nil)
	require.NoError(t, err)
	return cat, in, ii, pop
}

func TestRankBlendForms(t *testing.T) {
	cands := []blendCand{
		{"a", 0.75, 0.25},
		{"b", 0.5, 0.6},
		{"c", 0, 1},   // only popular
		{"d", 0, 0.3}, // only popular
		{"e", 0.5, 0.2},
		{"f", 0, 0}, // nothing to go on
	}
	for _, tc := range []struct {
		name   string
		beta   float64
		k      int
		want   []string
		reason string
	}{
		{"backfill", 0, 6, []string{"a", "b", "e", "c", "d"}, "item-item first (ties by popularity), then popularity; f never"},
		{"backfill, short", 0, 2, []string{"a", "b"}, "the best k"},
		{"served default", 0.25, 6, []string{"a", "b", "e", "c", "d"}, "0.8125, 0.65, 0.55, 0.25, 0.075"},
		{"tie", 1, 3, []string{"b", "c", "a"}, "1.1, then a and c tie at 1: the more popular first"},
		{"popularity wins", 16, 6, []string{"c", "b", "d", "a", "e"}, "16, 10.1, 4.8, 4.75, 3.7"},
		{"popularity first", math.Inf(1), 6, []string{"c", "b", "d", "a", "e"}, "by popularity (1, 0.6, 0.3, 0.25, 0.2); f never"},
		{"popularity first, ties by confidence", math.Inf(1), 2, []string{"c", "b"}, "the k most popular"},
		{"k=0", 1, 0, []string{}, "nothing asked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, rankBlend(cands, tc.beta, tc.k), tc.reason)
		})
	}
}

// The candidates are exact: at any β, the ranker returns what scoring
// every catalog item outside the history would.
func TestBlendTopKIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for seed := uint64(1); seed <= 20; seed++ {
		cat, in, ii, pop := tinyBlend(t, seed)
		nb := neighboursOf(ii)
		b := newBlend(nb, pop)
		for trial := 0; trial < 20; trial++ {
			var history []string
			for _, x := range in {
				if r.IntN(12) == 0 {
					history = append(history, x.Item)
				}
			}
			slices.Sort(history)
			history = slices.Compact(history)
			beta := []float64{0, 0.01, 0.25, 1, 3, 100}[r.IntN(6)]
			k := 1 + r.IntN(12)

			seen := excluding(history)
			var all []blendCand
			for it := range cat.All() {
				if seen(it.ID) {
					continue
				}
				s := 0.0
				for _, h := range history {
					for _, n := range ii.Neighbors(h) {
						if n.Item == it.ID {
							s += n.Similarity
						}
					}
				}
				c := blendCand{item: it.ID, pop: b.pop[it.ID]}
				if s > 0 {
					c.conf = s / (s + nb.scale)
				}
				all = append(all, c)
			}
			want := rankBlend(all, beta, k)
			got := b.ranker(beta)("", history, k)
			require.Equal(t, want, got, "seed %d, history %v, β %g, k %d", seed, history, beta, k)
			require.Len(t, got, min(k, cat.Len()-len(history)), "popularity fills the list")
		}
	}
}

// The blend ranks as recommend.Recommender serves an established person
// whose only active sources are history and popularity, with weights
// History 1 and Popularity β and the guards off.
func TestBlendMatchesServing(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for seed := uint64(1); seed <= 5; seed++ {
		cat, in, ii, pop := tinyBlend(t, seed)
		model, err := recommend.NewModel(cat, pop, ii)
		require.NoError(t, err)
		b := newBlend(neighboursOf(ii), pop)
		for _, beta := range []float64{0.05, 0.25, 1, 4} {
			consents := recommendtest.NewConsents()
			store := new(recommend.MemoryStore)
			rec, err := recommend.New(model, consents, store, recommend.Config{
				Weights:      map[recommend.Tier]recommend.Weights{recommend.Established: {History: 1, Popularity: beta}},
				WarmUp:       -1,
				FrequencyCap: -1, ConfidenceFloor: -1,
			})
			require.NoError(t, err)
			persons := make(map[string][]string)
			for _, x := range in {
				persons[x.Person] = append(persons[x.Person], x.Item)
			}
			checked, swapped := 0, 0
			for person, history := range persons {
				consents.Allow(person, consent.PurposePersonalize)
				for _, it := range history {
					require.NoError(t, store.AddEvents(ctx, person, recommend.Event{Item: it, Kind: recommend.Purchase, At: now.AddDate(0, -1, 0)}))
				}
				resp, err := rec.Recommend(ctx, recommend.Request{
					Subject: person, At: now, K: 8, VisitStart: now.Add(-time.Hour),
					Relationship: recommend.Relationship{Known: true, FirstSeen: now.AddDate(-1, 0, 0), Visits: 10, Orders: 5},
				})
				require.NoError(t, err)
				require.Equal(t, recommend.Established, resp.Tier)
				served := make([]string, len(resp.Items))
				for i, it := range resp.Items {
					served[i] = it.Item.ID
				}
				h := slices.Clone(history)
				slices.Sort(h)
				h = slices.Compact(h)
				mine := b.ranker(beta)(person, h, 8)
				require.Len(t, mine, len(served), "seed %d, β %g, %s %v", seed, beta, person, h)
				// Serving keeps scores as float32: items whose blended
				// scores tie, or nearly, may come in either order.
				score := make(map[string]float64)
				for _, c := range b.candidates(h, excluding(h), 8) {
					score[c.item] = c.conf + beta*c.pop
				}
				for i := range mine {
					sv, ok := score[served[i]]
					if !ok {
						sv = beta * b.pop[served[i]]
					}
					if served[i] != mine[i] {
						assert.InDelta(t, score[mine[i]], sv, 1e-6, "seed %d, β %g, %s %v: #%d served %s, blend %s", seed, beta, person, h, i, served[i], mine[i])
						swapped++
					}
				}
				checked++
			}
			require.Positive(t, checked)
			assert.Less(t, swapped, checked/10, "near-ties are rare")
		}
	}
}

// fixture.ndcg is eval.Evaluate's nDCG of the blend, for every β at once.
func TestFixtureNDCGMatchesEvaluate(t *testing.T) {
	cat, in, _, pop := tinyBlend(t, 3)
	s, err := eval.RandomSplit(in, 0.3, 5)
	require.NoError(t, err)
	ii, err := recommend.TrainItemItem(cat, s.Train, recommend.CountOptions{}, recommend.ItemItemConfig{Similarity: recommend.Cosine, Neighbors: 5})
	require.NoError(t, err)
	b := newBlend(neighboursOf(ii), pop)
	got := newFixture(s).ndcg(4, b, blendBetas)
	require.Len(t, got, len(blendBetas))
	distinct := 0
	for i, beta := range blendBetas {
		want := eval.Evaluate(s, 4, 0, b.ranker(beta)).NDCG
		assert.InDelta(t, want, got[i], 1e-12, "β %g", beta)
		if i > 0 && math.Abs(got[i]-got[0]) > 1e-9 {
			distinct++
		}
	}
	assert.Positive(t, distinct, "β changes the ranking on this split")
}

// On a split where the relevant items are the most popular ones and
// item-item points elsewhere, a larger β scores better; where they are
// item-item's guesses and the least popular, backfill scores best.
func TestBetaFollowsTheSignal(t *testing.T) {
	cat, in, _ := tinyShop(t, 9, 30, 80)
	ii, err := recommend.TrainItemItem(cat, in, recommend.CountOptions{}, recommend.ItemItemConfig{Similarity: recommend.Cosine, Neighbors: 5})
	require.NoError(t, err)
	nb := neighboursOf(ii)
	// Popularity: i00 most popular, then i01, ..., with steps wide enough
	// for β=16 to outweigh any item-item confidence.
	counts := make([]recommend.ItemCount, 0, cat.Len())
	for it := range cat.All() {
		var i int
		_, _ = fmt.Sscanf(it.ID, "i%d", &i)
		counts = append(counts, recommend.ItemCount{Item: it.ID, Count: 1000 / float64(i+1)})
	}
	pop, err := recommend.NewPopularity(cat, counts, nil)
	require.NoError(t, err)
	b := newBlend(nb, pop)

	history := []string{"i20", "i21", "i22"}
	iiTop := rankBlend(b.candidates(history, excluding(history), 3), 0, 3)
	require.Len(t, iiTop, 3)
	popular := []string{"i00", "i01", "i02"}
	require.NotEqual(t, popular, iiTop)

	split := func(rel []string) eval.Split {
		var train []recommend.Interaction
		for _, h := range history {
			train = append(train, recommend.Interaction{Person: "x", Item: h})
		}
		return eval.Split{Train: train, Test: map[string][]string{"x": rel}}
	}
	byPop := newFixture(split(popular)).ndcg(3, b, blendBetas)
	byII := newFixture(split(iiTop)).ndcg(3, b, blendBetas)
	assert.Equal(t, 1.0, byPop[len(byPop)-1], "β=%g ranks by popularity", blendBetas[len(blendBetas)-1])
	assert.Less(t, byPop[0], 1.0)
	assert.Equal(t, 0, argmax(byII), "backfill keeps item-item's order")
	assert.Equal(t, 1.0, byII[0])
	assert.Less(t, byII[len(byII)-1], 1.0)
}

func TestDPPopularityForms(t *testing.T) {
	items := []recommend.Item{{ID: "a"}, {ID: "b"}, {ID: "c"}, {ID: "d"}, {ID: "e"}}
	cat, err := recommend.NewCatalog(items)
	require.NoError(t, err)
	res := &dp.Cooccurrences{
		Items: []dp.ItemCount{{Item: "a", Count: 5}, {Item: "b", Count: 9}, {Item: "c", Count: 7}, {Item: "d", Count: 8}, {Item: "e", Count: -3}},
		// Pairs among the candidates b, c, d: c has the largest sum.
		Pairs: []dp.PairCount{{A: "b", B: "c", Count: 4}, {A: "b", B: "d", Count: -1}, {A: "c", B: "d", Count: 3}},
	}
	order := func(form int) []string {
		p, err := dpPopularity(cat, res, form)
		require.NoError(t, err)
		return ids(p.Top(5, "", nil))
	}
	assert.Equal(t, []string{"b", "d", "c", "a"}, order(popItems), "item counts; e is negative, clamped to 0")
	assert.Equal(t, []string{"c", "b", "d", "a"}, order(popPairs), "candidates by pair sums (7, 3, 2), then the rest by item counts")
	res.Pairs = nil
	assert.Equal(t, order(popItems), order(popPairs), "no pairs: item counts")
}

func TestArgmax(t *testing.T) {
	assert.Equal(t, -1, argmax(nil))
	assert.Equal(t, 1, argmax([]float64{1, 3, 3, 2}), "first of ties")
	assert.Equal(t, 0, argmax([]float64{5}))
}

// Popularity first (β = +Inf) ranks the most popular items outside the
// history first, exactly as the popularity of the same release does, so
// the best DP row's fallback never ranks below DP popularity; the items
// only the model scores come after them.
func TestPopularityFirstIsPopularity(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for seed := uint64(1); seed <= 10; seed++ {
		_, in, ii, pop := tinyBlend(t, seed)
		b := newBlend(neighboursOf(ii), pop)
		for trial := 0; trial < 20; trial++ {
			var history []string
			for _, x := range in {
				if r.IntN(15) == 0 {
					history = append(history, x.Item)
				}
			}
			slices.Sort(history)
			history = slices.Compact(history)
			k := 1 + r.IntN(12)
			want := ids(pop.Top(k, "", excluding(history)))
			got := b.ranker(math.Inf(1))("", history, k)
			require.Equal(t, want, got[:len(want)], "seed %d, history %v, k %d", seed, history, k)
		}
	}
}
