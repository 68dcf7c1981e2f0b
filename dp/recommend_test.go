package dp_test

import (
	"math"
	"testing"

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
func TestReleaseRankRemovesNoise(t *testing.T) {
	p := dp.CooccurrenceParams{Epsilon: 4, Delta: 1e-5, Noise: dp.Gaussian, MaxItems: 100, MaxPairs: 1000, PairItems: 40, Weighted: true}
	exactRes, _ := release(t, p, true)
	exact, err := recommend.CountsFromRelease(exactRes, recommend.ReleaseOptions{})
	require.NoError(t, err)
	res, _ := release(t, p, false)
	raw, err := recommend.CountsFromRelease(res, recommend.ReleaseOptions{})
	require.NoError(t, err)
	denoised, err := recommend.CountsFromRelease(res, recommend.ReleaseOptions{Rank: 5})
	require.NoError(t, err)
	require.Equal(t, raw.NumPairs(), denoised.NumPairs())
	var errRaw, errDenoised float64
	for pair, v := range raw.Pairs() {
		truth := exact.Pair(pair[0], pair[1]) // the candidates can differ: 0 then
		errRaw += (v - truth) * (v - truth)
		d := denoised.Pair(pair[0], pair[1]) - truth
		errDenoised += d * d
	}
	_, sigma := res.CountNoise()
	assert.Equal(t, sigma, raw.Noise())
	t.Logf("rms error per pair: raw %.3f, denoised %.3f (σ %.3f)", math.Sqrt(errRaw/float64(raw.NumPairs())), math.Sqrt(errDenoised/float64(raw.NumPairs())), sigma)
	assert.Less(t, errDenoised, 0.75*errRaw) // about 0.4 typically
}
