package dptrain_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/dptest"
	"github.com/tact-go/tact/examples/internal/dptrain"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/recommendtest"
)

// store is a small synthetic store: 60 items, 150 shoppers.
func store(t *testing.T) (*recommendtest.World, []string) {
	t.Helper()
	w := recommendtest.Generate(recommendtest.Options{Seed: 3, Items: 60, Shoppers: 150, ItemsPerPerson: 8})
	ids := make([]string, len(w.Items))
	for i, it := range w.Items {
		ids[i] = it.ID
	}
	return w, ids
}

var ctx = context.Background()

func budget(t *testing.T, eps, delta float64) *dp.Budget {
	t.Helper()
	b, err := dp.NewBudget(eps, delta, nil)
	require.NoError(t, err)
	return b
}

// Without noise and without weights, with every catalog item a candidate
// and bounds above every history, the DP path yields exactly the exact
// counts, and so the same model.
func TestCountsEqualExactWithoutNoise(t *testing.T) {
	w, ids := store(t)
	o := recommend.CountOptions{Seed: 1}
	exact := recommend.CountCooccurrence(w.Interactions, o)
	p := dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-5, Noise: dp.Gaussian,
		MaxItems: recommend.DefaultMaxItemsPerPerson, MaxPairs: 1 << 20,
		Items: ids, PairItems: len(ids), NoiseSource: dptest.Noise{}}
	counts, res, err := dptrain.Counts(ctx, budget(t, 1, 1e-5), p, recommend.PersonItems(w.Interactions, o), dptrain.Options{})
	require.NoError(t, err)
	assert.False(t, res.Private, "a test noise source is not private")

	assert.Equal(t, exact.Persons(), counts.Persons())
	for _, id := range ids {
		assert.Equal(t, exact.Item(id), counts.Item(id), id)
	}
	require.Positive(t, exact.NumPairs())
	for pair, n := range exact.Pairs() {
		assert.Equal(t, n, counts.Pair(pair[0], pair[1]), "%v", pair)
	}
	// The DP counts also hold every other candidate pair, at zero.
	assert.Equal(t, len(ids)*(len(ids)-1)/2, counts.NumPairs())
	for pair, n := range counts.Pairs() {
		assert.Equal(t, exact.Pair(pair[0], pair[1]), n, "%v", pair)
	}

	cfg := recommend.ItemItemConfig{Similarity: recommend.Cosine, Neighbors: 10}
	want, err := recommend.NewItemItem(w.Catalog, exact, cfg)
	require.NoError(t, err)
	got, err := recommend.NewItemItem(w.Catalog, counts, cfg)
	require.NoError(t, err)
	for _, id := range ids {
		assert.Equal(t, want.Neighbors(id), got.Neighbors(id), id)
	}
}

// Weighted, without noise: each shopper's items count 1/√m and their pairs
// 1/√(m(m-1)/2); the item prior adds its multiple of the pair noise's σ.
func TestWeightedCountsWithoutNoise(t *testing.T) {
	w, ids := store(t)
	o := recommend.CountOptions{Seed: 1}
	p := dp.CooccurrenceParams{Epsilon: 2, Delta: 1e-5, Noise: dp.Gaussian,
		MaxItems: recommend.DefaultMaxItemsPerPerson, MaxPairs: 1 << 20,
		Items: ids, PairItems: len(ids), Weighted: true, NoiseSource: dptest.Noise{}}
	const prior = 3
	counts, res, err := dptrain.Counts(ctx, budget(t, 2, 1e-5), p, recommend.PersonItems(w.Interactions, o), dptrain.Options{ItemPrior: prior})
	require.NoError(t, err)
	sigma := res.PairNoise.StdDev()
	require.Positive(t, sigma)

	items := make(map[string]float64)
	pairs := make(map[[2]string]float64)
	for _, kept := range recommend.PersonItems(w.Interactions, o) {
		m := float64(len(kept))
		for x, a := range kept {
			items[a] += 1 / math.Sqrt(m)
			for _, b := range kept[x+1:] {
				pairs[[2]string{a, b}] += 1 / math.Sqrt(m*(m-1)/2)
			}
		}
	}
	for _, id := range ids {
		assert.InDelta(t, items[id]+prior*sigma, counts.Item(id), 1e-9, id)
	}
	for pair, n := range counts.Pairs() {
		a, b := min(pair[0], pair[1]), max(pair[0], pair[1])
		assert.InDelta(t, pairs[[2]string{a, b}], n, 1e-5, "%v", pair) // float32 in Counts
	}
}

// With Google's noise the counts are noisy, but the model built from them
// is valid: neighbours are catalog items with similarities in (0, 1],
// recommendations exclude the history, and the budget paid exactly once.
func TestCountsWithRealNoiseMakeAValidModel(t *testing.T) {
	w, ids := store(t)
	o := recommend.CountOptions{Seed: 1}
	b := budget(t, 1, 1e-5)
	p := dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-5, Noise: dp.Gaussian,
		MaxItems: 100, MaxPairs: 1000, Items: ids, PairItems: 30, Weighted: true,
		Rand: rand.New(rand.NewPCG(1, 2))}
	counts, res, err := dptrain.Counts(ctx, b, p, recommend.PersonItems(w.Interactions, o), dptrain.Options{ItemPrior: 10})
	require.NoError(t, err)
	assert.True(t, res.Private)
	re, rd := b.Remaining()
	assert.Zero(t, re)
	assert.Zero(t, rd)
	assert.Equal(t, 30*29/2, counts.NumPairs())

	sigma := res.PairNoise.StdDev()
	m, err := recommend.NewItemItem(w.Catalog, counts, recommend.ItemItemConfig{Similarity: recommend.Cosine, Shrink: 3 * sigma})
	require.NoError(t, err)
	assert.Zero(t, m.Unknown())
	for _, id := range ids {
		for _, n := range m.Neighbors(id) {
			_, ok := w.Catalog.Lookup(n.Item)
			assert.True(t, ok)
			assert.NotEqual(t, id, n.Item)
			assert.True(t, n.Similarity > 0 && n.Similarity <= 1, "similarity %v", n.Similarity)
		}
	}
	for _, s := range w.Shoppers[:20] {
		var hist []string
		for _, e := range s.History {
			hist = append(hist, e.Item)
		}
		top := m.Top(hist, 5, nil)
		assert.LessOrEqual(t, len(top), 5)
		for _, x := range top {
			assert.NotContains(t, hist, x.Item)
			assert.False(t, math.IsNaN(x.Score) || math.IsInf(x.Score, 0))
		}
	}

	// The same budget cannot pay twice: typed error, nothing spent.
	_, _, err = dptrain.Counts(ctx, b, p, recommend.PersonItems(w.Interactions, o), dptrain.Options{})
	require.ErrorIs(t, err, dp.ErrBudgetExhausted)
	var be *dp.BudgetError
	require.ErrorAs(t, err, &be)
}

// Counts shifted by noise (here +2σ and -2σ, deterministic) still make a
// model: negative pair counts are dropped, never an error.
func TestCountsWithShiftedNoise(t *testing.T) {
	w, ids := store(t)
	o := recommend.CountOptions{Seed: 1}
	for _, shift := range []float64{2, -2} {
		p := dp.CooccurrenceParams{Epsilon: 0.5, Delta: 1e-5, Noise: dp.Gaussian,
			MaxItems: 100, MaxPairs: 1000, Items: ids, PairItems: 20, Weighted: true,
			NoiseSource: dptest.Noise{StdDevs: shift}}
		counts, _, err := dptrain.Counts(ctx, budget(t, 0.5, 1e-5), p, recommend.PersonItems(w.Interactions, o), dptrain.Options{})
		require.NoError(t, err)
		m, err := recommend.NewItemItem(w.Catalog, counts, recommend.ItemItemConfig{})
		require.NoError(t, err)
		if shift < 0 {
			for _, id := range ids {
				assert.Empty(t, m.Neighbors(id), "every pair count is negative")
			}
		}
	}
}

func TestErrors(t *testing.T) {
	w, ids := store(t)
	o := recommend.CountOptions{Seed: 1}
	hist := recommend.PersonItems(w.Interactions, o)
	ok := dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-5, Noise: dp.Gaussian, MaxItems: 10, MaxPairs: 10,
		Items: ids, PairItems: 10, Weighted: true}

	for _, prior := range []float64{-1, math.NaN(), math.Inf(1)} {
		b := budget(t, 1, 1e-5)
		_, _, err := dptrain.Counts(ctx, b, ok, hist, dptrain.Options{ItemPrior: prior})
		require.ErrorIs(t, err, dptrain.ErrInvalidOptions, "prior %v", prior)
		re, _ := b.Remaining()
		assert.Equal(t, 1.0, re, "nothing spent on bad options")
	}

	bad := ok
	bad.Epsilon = -1
	_, _, err := dptrain.Counts(ctx, budget(t, 1, 1e-5), bad, hist, dptrain.Options{})
	require.ErrorIs(t, err, dp.ErrInvalidParams)

	_, err = dptrain.FromRelease(nil, dptrain.Options{})
	require.ErrorIs(t, err, dptrain.ErrNoRelease)
	_, err = dptrain.FromRelease(&dp.Cooccurrences{}, dptrain.Options{ItemPrior: -1})
	require.ErrorIs(t, err, dptrain.ErrInvalidOptions)
	c, err := dptrain.FromRelease(&dp.Cooccurrences{}, dptrain.Options{})
	require.NoError(t, err)
	assert.Zero(t, c.Len())
}
