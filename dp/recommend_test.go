package dp_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/dptest"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/recommendtest"
)

// A release is what recommend trains on: recommend declares the interface,
// dp implements it, and neither imports the other.
var _ recommend.CooccurrenceRelease = (*dp.Cooccurrences)(nil)

// release counts the shoppers of a small world with p, exactly (test noise)
// or not.
func release(t *testing.T, p dp.CooccurrenceParams, exact bool) (*dp.Cooccurrences, *recommendtest.World) {
	t.Helper()
	w := recommendtest.Generate(recommendtest.Options{Seed: 3, Items: 60, Shoppers: 150, ItemsPerPerson: 8})
	for _, it := range w.Items {
		p.Items = append(p.Items, it.ID)
	}
	if exact {
		p.NoiseSource = dptest.Noise{}
	}
	c, err := dp.NewCooccurrence(p)
	require.NoError(t, err)
	for person, items := range recommend.PersonItems(w.Interactions, recommend.CountOptions{Seed: 1}) {
		for _, it := range items {
			c.Add(person, it)
		}
	}
	budget, err := dp.NewBudget(p.Epsilon, p.Delta, nil)
	require.NoError(t, err)
	res, err := c.Release(ctx, budget)
	require.NoError(t, err)
	return res, w
}

// Exact counts through a release (test noise, unweighted) are recommend's
// own exact counts of the same bounded item sets.
func TestReleaseTrainsRecommend(t *testing.T) {
	p := dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-5, Noise: dp.Gaussian, MaxItems: 100, MaxPairs: 1000, PairItems: 60}
	res, w := release(t, p, true)
	c, err := recommend.CountsFromRelease(res, recommend.ReleaseOptions{})
	require.NoError(t, err)
	exact := recommend.CountCooccurrence(w.Interactions, recommend.CountOptions{Seed: 1})
	assert.False(t, c.Weighted())
	for pair, n := range exact.Pairs() {
		assert.Equal(t, n, c.Pair(pair[0], pair[1]), "%v", pair)
	}
	for _, it := range w.Items {
		assert.Equal(t, exact.Item(it.ID), c.Item(it.ID), it.ID)
	}
	_, err = recommend.NewItemItem(w.Catalog, c, recommend.ItemItemConfig{Similarity: recommend.Lift})
	require.NoError(t, err, "lift is meaningful on counts of persons")

	p.Weighted = true
	res, _ = release(t, p, true)
	c, err = recommend.CountsFromRelease(res, recommend.ReleaseOptions{})
	require.NoError(t, err)
	assert.True(t, c.Weighted())
	_, err = recommend.NewItemItem(w.Catalog, c, recommend.ItemItemConfig{Similarity: recommend.Lift})
	require.ErrorIs(t, err, recommend.ErrInvalidConfig, "lift is meaningless on sums of weights")
}

// With Google's noise, the denoised pair counts are closer to the counts
// before noise than the released ones. (The error of the raw counts is
// K(K-1)/2 independent draws of σ; denoising keeps a few dimensions of it.)
func TestReleaseDenoisingRemovesNoise(t *testing.T) {
	p := dp.CooccurrenceParams{Epsilon: 4, Delta: 1e-5, Noise: dp.Gaussian, MaxItems: 100, MaxPairs: 1000, PairItems: 40, Weighted: true}
	exactRes, _ := release(t, p, true)
	exact, err := recommend.CountsFromRelease(exactRes, recommend.ReleaseOptions{})
	require.NoError(t, err)
	res, _ := release(t, p, false)
	raw, err := recommend.CountsFromRelease(res, recommend.ReleaseOptions{})
	require.NoError(t, err)
	_, sigma := res.CountNoise()
	assert.Equal(t, sigma, raw.Noise())
	for _, o := range []recommend.ReleaseOptions{{Rank: 5}, {Denoise: true}} {
		denoised, err := recommend.CountsFromRelease(res, o)
		require.NoError(t, err)
		require.Equal(t, raw.NumPairs(), denoised.NumPairs())
		var errRaw, errDenoised float64
		for pair, v := range raw.Pairs() {
			truth := exact.Pair(pair[0], pair[1]) // the candidates can differ: 0 then
			errRaw += (v - truth) * (v - truth)
			d := denoised.Pair(pair[0], pair[1]) - truth
			errDenoised += d * d
		}
		t.Logf("%+v: rms error per pair: raw %.3f, denoised %.3f (σ %.3f)", o, math.Sqrt(errRaw/float64(raw.NumPairs())), math.Sqrt(errDenoised/float64(raw.NumPairs())), sigma)
		assert.Less(t, errDenoised, 0.75*errRaw, "%+v", o) // about 0.4 typically
	}
}

// Weighted interactions through the DP path end to end: a weight per
// interaction (a rating, a quantity) and a time decay, combined per person
// and item by recommend.PersonWeights, feed AddWeighted; the release (test
// noise) holds each person's item Gram matrix normalized, computed here by
// brute force from the same weights, and CountsFromRelease and NewItemItem
// train on it the model those counts give directly. With Google's noise
// the same path trains a model too.
func TestWeightedReleaseTrainsRecommend(t *testing.T) {
	w := recommendtest.Generate(recommendtest.Options{Seed: 3, Items: 60, Shoppers: 150, ItemsPerPerson: 8})
	in := slices.Clone(w.Interactions)
	for i := range in {
		in[i].Weight = float64(1 + i%4)
	}
	o := recommend.CountOptions{Seed: 1, Weighted: true, HalfLife: 30 * 24 * time.Hour}
	p := dp.CooccurrenceParams{Epsilon: 4, Delta: 1e-5, Noise: dp.Gaussian, MaxItems: 100, MaxPairs: 5000,
		PairItems: 60, Weighted: true}
	for _, it := range w.Items {
		p.Items = append(p.Items, it.ID)
	}
	release := func(p dp.CooccurrenceParams) *dp.Cooccurrences {
		c, err := dp.NewCooccurrence(p)
		require.NoError(t, err)
		for person, iw := range recommend.PersonWeights(in, o) {
			for i, it := range iw.Items {
				require.True(t, c.AddWeighted(person, it, iw.Weights[i]))
			}
		}
		budget, err := dp.NewBudget(p.Epsilon, p.Delta, nil)
		require.NoError(t, err)
		res, err := c.Release(ctx, budget)
		require.NoError(t, err)
		return res
	}
	exactParams := p
	exactParams.NoiseSource = dptest.Noise{}
	res := release(exactParams)

	// Brute force: per person, item a counts x_a²/‖(x_b²)‖, pair {a, b}
	// x_a·x_b/‖(x_c·x_d)‖ (L2: Gaussian noise). No sampling here.
	items := make(map[string]float64)
	pairs := make(map[[2]string]float64)
	var distinct int
	for _, iw := range recommend.PersonWeights(in, o) {
		x := iw.Weights
		var sq, prods float64
		for i := range x {
			sq += x[i] * x[i] * x[i] * x[i]
			for j := i + 1; j < len(x); j++ {
				prods += x[i] * x[j] * x[i] * x[j]
			}
			if x[i] != x[0] {
				distinct++
			}
		}
		for i, a := range iw.Items {
			items[a] += x[i] * x[i] / math.Sqrt(sq)
			for j := i + 1; j < len(x); j++ {
				pairs[[2]string{a, iw.Items[j]}] += x[i] * x[j] / math.Sqrt(prods) // Items are sorted
			}
		}
	}
	require.Positive(t, distinct, "the weights differ within persons")
	counts, err := recommend.CountsFromRelease(res, recommend.ReleaseOptions{})
	require.NoError(t, err)
	assert.True(t, counts.Weighted())
	var direct recommend.CountsBuilder
	direct.SetWeighted(true)
	require.NoError(t, direct.SetPersons(res.PersonCount()))
	for _, it := range w.Items {
		assert.InDelta(t, items[it.ID], counts.Item(it.ID), 1e-9, it.ID)
		require.NoError(t, direct.AddItem(it.ID, items[it.ID]))
	}
	require.Len(t, res.Pairs, 60*59/2)
	for _, pc := range res.Pairs {
		want := pairs[[2]string{pc.A, pc.B}]
		assert.InDelta(t, want, pc.Count, 1e-9, "%s+%s", pc.A, pc.B)
		assert.InDelta(t, want, counts.Pair(pc.A, pc.B), 1e-6*max(1, want), "%s+%s (float32)", pc.A, pc.B)
		if want != 0 {
			require.NoError(t, direct.AddPair(pc.A, pc.B, want))
		}
	}
	cfg := recommend.ItemItemConfig{Neighbors: 59, Shrink: -1}
	fromRelease, err := recommend.NewItemItem(w.Catalog, counts, cfg)
	require.NoError(t, err)
	fromGram, err := recommend.NewItemItem(w.Catalog, direct.Build(), cfg)
	require.NoError(t, err)
	var neighbors int
	for _, it := range w.Items {
		got, want := fromRelease.Neighbors(it.ID), fromGram.Neighbors(it.ID)
		require.Len(t, got, len(want), it.ID)
		sims := make(map[string]float64)
		for _, n := range want {
			sims[n.Item] = n.Similarity
		}
		for _, n := range got {
			assert.InDelta(t, sims[n.Item], n.Similarity, 1e-6, "%s ~ %s", it.ID, n.Item)
		}
		neighbors += len(got)
	}
	assert.Positive(t, neighbors)

	noisy := release(p)
	assert.True(t, noisy.Private)
	noisyCounts, err := recommend.CountsFromRelease(noisy, recommend.ReleaseOptions{})
	require.NoError(t, err)
	model, err := recommend.NewItemItem(w.Catalog, noisyCounts, recommend.ItemItemConfig{})
	require.NoError(t, err)
	t.Logf("noisy model: %d neighbours of %s", len(model.Neighbors(w.Items[0].ID)), w.Items[0].ID)
}
