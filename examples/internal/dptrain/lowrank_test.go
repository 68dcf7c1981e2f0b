package dptrain_test

import (
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/dptest"
	"github.com/tact-go/tact/examples/internal/dptrain"
	"github.com/tact-go/tact/recommend"
)

// lowRank returns the pairs of the rank-2 matrix u uᵀ + v vᵀ over n items.
func lowRank(n int) ([]dp.PairCount, func(x, y int) float64) {
	u := func(i int) float64 { return 3 + float64(i%5) }
	v := func(i int) float64 { return float64(i%3) - 1 }
	m := func(x, y int) float64 { return u(x)*u(y) + 2*v(x)*v(y) }
	var pairs []dp.PairCount
	for x := 0; x < n; x++ {
		for y := x + 1; y < n; y++ {
			pairs = append(pairs, dp.PairCount{A: id(x), B: id(y), Value: m(x, y)})
		}
	}
	return pairs, m
}

func id(i int) string { return "i" + strconv.Itoa(100+i) }

// A matrix that is already of the rank asked is kept (its unreleased
// diagonal imputed), whatever the rank above it.
func TestRankKeepsALowRankMatrix(t *testing.T) {
	const n = 30
	pairs, m := lowRank(n)
	for _, rank := range []int{2, 4} {
		c, err := dptrain.FromRelease(&dp.Cooccurrences{Pairs: pairs}, dptrain.Options{Rank: rank})
		require.NoError(t, err)
		require.Equal(t, n*(n-1)/2, c.NumPairs())
		for x := 0; x < n; x++ {
			for y := x + 1; y < n; y++ {
				assert.InDelta(t, m(x, y), c.Pair(id(x), id(y)), 0.02*m(x, y), "rank %d pair %d,%d", rank, x, y)
			}
		}
	}
}

// With Google's noise, the denoised pair counts are closer to the counts
// before noise than the released ones. (The error of the raw counts is
// K(K-1)/2 independent draws of σ; denoising keeps a few dimensions of it.)
func TestRankRemovesNoise(t *testing.T) {
	w, ids := store(t)
	o := recommend.CountOptions{Seed: 1}
	p := dp.CooccurrenceParams{Epsilon: 4, Delta: 1e-5, Noise: dp.Gaussian, MaxItems: 100, MaxPairs: 1000,
		Items: ids, PairItems: 40, Weighted: true}
	exactP := p
	exactP.NoiseSource = dptest.Noise{}
	exact, _, err := dptrain.Counts(ctx, budget(t, 4, 1e-5), exactP, recommend.PersonItems(w.Interactions, o), dptrain.Options{})
	require.NoError(t, err)

	c, err := dp.NewCooccurrence(p)
	require.NoError(t, err)
	for person, items := range recommend.PersonItems(w.Interactions, o) {
		for _, it := range items {
			c.Add(person, it)
		}
	}
	res, err := c.Release(ctx, budget(t, 4, 1e-5))
	require.NoError(t, err)
	raw, err := dptrain.FromRelease(res, dptrain.Options{})
	require.NoError(t, err)
	denoised, err := dptrain.FromRelease(res, dptrain.Options{Rank: 5})
	require.NoError(t, err)
	require.Equal(t, raw.NumPairs(), denoised.NumPairs())

	var errRaw, errDenoised float64
	for pair, v := range raw.Pairs() {
		truth := exact.Pair(pair[0], pair[1]) // the candidates can differ: 0 then
		errRaw += (v - truth) * (v - truth)
		d := denoised.Pair(pair[0], pair[1]) - truth
		errDenoised += d * d
	}
	sigma := res.PairNoise.StdDev()
	t.Logf("rms error per pair: raw %.3f, denoised %.3f (σ %.3f)", math.Sqrt(errRaw/float64(raw.NumPairs())), math.Sqrt(errDenoised/float64(raw.NumPairs())), sigma)
	assert.Less(t, errDenoised, 0.75*errRaw) // about 0.4 typically, 0.48 at worst in 30 runs
}

func TestRankErrors(t *testing.T) {
	_, err := dptrain.FromRelease(&dp.Cooccurrences{}, dptrain.Options{Rank: -1})
	require.ErrorIs(t, err, dptrain.ErrInvalidOptions)
	pairs, _ := lowRank(5)
	_, err = dptrain.FromRelease(&dp.Cooccurrences{Pairs: pairs[1:]}, dptrain.Options{Rank: 2})
	require.ErrorIs(t, err, dptrain.ErrInvalidOptions, "a missing pair")
	dup := append([]dp.PairCount{pairs[0]}, pairs[:len(pairs)-1]...)
	_, err = dptrain.FromRelease(&dp.Cooccurrences{Pairs: dup}, dptrain.Options{Rank: 2})
	require.ErrorIs(t, err, dptrain.ErrInvalidOptions, "a pair twice")
	c, err := dptrain.FromRelease(&dp.Cooccurrences{}, dptrain.Options{Rank: 3})
	require.NoError(t, err, "no pairs, nothing to denoise")
	assert.Zero(t, c.NumPairs())
}
