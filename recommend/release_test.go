package recommend_test

import (
	"cmp"
	"fmt"
	"iter"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/recommend"
)

// fakeRelease is a CooccurrenceRelease of given counts.
type fakeRelease struct {
	items    map[string]float64
	pairs    map[[2]string]float64
	persons  float64
	sigma    float64
	weighted bool
}

func (f fakeRelease) ItemCounts() iter.Seq2[string, float64] {
	return func(yield func(string, float64) bool) {
		for k, v := range f.items {
			if !yield(k, v) {
				return
			}
		}
	}
}

func (f fakeRelease) PairCounts() iter.Seq2[[2]string, float64] {
	return func(yield func([2]string, float64) bool) {
		for k, v := range f.pairs {
			if !yield(k, v) {
				return
			}
		}
	}
}

func (f fakeRelease) PersonCount() float64             { return f.persons }
func (f fakeRelease) CountNoise() (item, pair float64) { return f.sigma, f.sigma }
func (f fakeRelease) SumsOfWeights() bool              { return f.weighted }

func lowRankRelease(n int) (fakeRelease, func(x, y int) float64) {
	u := func(i int) float64 { return 3 + float64(i%5) }
	v := func(i int) float64 { return float64(i%3) - 1 }
	m := func(x, y int) float64 { return u(x)*u(y) + 2*v(x)*v(y) }
	f := fakeRelease{items: map[string]float64{}, pairs: map[[2]string]float64{}, persons: 100, sigma: 2}
	for x := 0; x < n; x++ {
		f.items[rid(x)] = 50
		for y := x + 1; y < n; y++ {
			f.pairs[[2]string{rid(x), rid(y)}] = m(x, y)
		}
	}
	return f, m
}

func rid(i int) string { return "i" + strconv.Itoa(100+i) }

func TestCountsFromRelease(t *testing.T) {
	f, m := lowRankRelease(30)
	c, err := recommend.CountsFromRelease(f, recommend.ReleaseOptions{ItemPrior: 3})
	require.NoError(t, err)
	assert.Equal(t, 56.0, c.Item(rid(0)), "50 plus a prior of 3σ")
	assert.Equal(t, m(1, 2), c.Pair(rid(1), rid(2)))
	assert.Equal(t, 2.0, c.Noise())
	assert.False(t, c.Weighted())
	assert.Equal(t, 100.0, c.Persons())

	// A matrix already of the rank asked is kept, its diagonal imputed.
	for _, rank := range []int{2, 4} {
		d, err := recommend.CountsFromRelease(f, recommend.ReleaseOptions{Rank: rank})
		require.NoError(t, err)
		require.Equal(t, 30*29/2, d.NumPairs())
		for x := 0; x < 30; x++ {
			for y := x + 1; y < 30; y++ {
				assert.InDelta(t, m(x, y), d.Pair(rid(x), rid(y)), 0.02*m(x, y), "rank %d pair %d,%d", rank, x, y)
			}
		}
	}
	// Denoise keeps both directions, which stand far out of the noise
	// (eigenvalues about 750 and 40, the noise's edge 2σ√30 ≈ 22), and at
	// most one with Rank 1.
	for _, rank := range []int{0, 2, 1} {
		d, err := recommend.CountsFromRelease(f, recommend.ReleaseOptions{Denoise: true, Rank: rank})
		require.NoError(t, err)
		var worst float64
		for x := 0; x < 30; x++ {
			for y := x + 1; y < 30; y++ {
				worst = max(worst, math.Abs(d.Pair(rid(x), rid(y))-m(x, y))/m(x, y))
			}
		}
		if rank == 1 {
			assert.Greater(t, worst, 0.05, "one direction of two")
		} else {
			assert.Less(t, worst, 0.02, "Denoise, at most rank %d", rank)
		}
	}
	// Exact counts have no noise to remove: Denoise keeps them.
	exact := f
	exact.sigma = 0
	exact.pairs = map[[2]string]float64{}
	for k, v := range f.pairs {
		exact.pairs[k] = v + float64((int(k[0][3])*7+int(k[1][3])*3)%5) // not low-rank
	}
	d, err := recommend.CountsFromRelease(exact, recommend.ReleaseOptions{Denoise: true})
	require.NoError(t, err)
	for k, v := range exact.pairs {
		require.Equal(t, float64(float32(v)), d.Pair(k[0], k[1]))
	}

	f.weighted = true
	c, err = recommend.CountsFromRelease(f, recommend.ReleaseOptions{})
	require.NoError(t, err)
	assert.True(t, c.Weighted())
}

func TestCountsFromReleaseErrors(t *testing.T) {
	f, _ := lowRankRelease(5)
	for name, o := range map[string]recommend.ReleaseOptions{
		"negative rank":     {Rank: -1},
		"negative prior":    {ItemPrior: -1},
		"NaN prior":         {ItemPrior: math.NaN()},
		"residual above 1":  {Denoise: true, Residual: 1.5},
		"NaN residual":      {Denoise: true, Residual: math.NaN()},
		"infinite residual": {Rank: 2, Residual: math.Inf(1)},
		"-Inf residual":     {Rank: 2, Residual: math.Inf(-1)},
	} {
		_, err := recommend.CountsFromRelease(f, o)
		require.ErrorIs(t, err, recommend.ErrInvalidConfig, name)
	}
	missing := fakeRelease{items: f.items, pairs: map[[2]string]float64{}, sigma: 1}
	for k, v := range f.pairs {
		missing.pairs[k] = v
	}
	delete(missing.pairs, [2]string{rid(0), rid(1)})
	_, err := recommend.CountsFromRelease(missing, recommend.ReleaseOptions{Rank: 2})
	require.ErrorIs(t, err, recommend.ErrInvalidConfig, "a pair missing for Rank")
	_, err = recommend.CountsFromRelease(missing, recommend.ReleaseOptions{Denoise: true})
	require.ErrorIs(t, err, recommend.ErrInvalidConfig, "a pair missing for Denoise")
	_, err = recommend.CountsFromRelease(nil, recommend.ReleaseOptions{})
	require.ErrorIs(t, err, recommend.ErrNilModel)
	bad := fakeRelease{items: map[string]float64{"a": math.Inf(1)}}
	_, err = recommend.CountsFromRelease(bad, recommend.ReleaseOptions{})
	require.ErrorIs(t, err, recommend.ErrInvalidCount)
	bad = fakeRelease{sigma: math.NaN()}
	_, err = recommend.CountsFromRelease(bad, recommend.ReleaseOptions{})
	require.ErrorIs(t, err, recommend.ErrInvalidCount)
	c, err := recommend.CountsFromRelease(fakeRelease{}, recommend.ReleaseOptions{Rank: 3})
	require.NoError(t, err, "no pairs: nothing to denoise")
	assert.Zero(t, c.NumPairs())
}

// The denoising keeps the share Residual of what its approximation leaves
// out: none when negative, DefaultResidual when 0, the released counts
// when 1, and in between the mixture of the two, pair by pair.
func TestCountsFromReleaseResidual(t *testing.T) {
	f, _ := lowRankRelease(20)
	r := rand.New(rand.NewPCG(3, 4))
	for k, v := range f.pairs {
		f.pairs[k] = v + 2*r.NormFloat64() // σ 2
	}
	// The pairs in one order every time, so that the approximation, an
	// iteration, is the same in every call.
	keys := slices.SortedFunc(maps.Keys(f.pairs), func(a, b [2]string) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	})
	rel := orderedRelease{f, keys}
	count := func(o recommend.ReleaseOptions) *recommend.Counts {
		t.Helper()
		c, err := recommend.CountsFromRelease(rel, o)
		require.NoError(t, err)
		return c
	}
	for _, base := range []recommend.ReleaseOptions{{Denoise: true}, {Rank: 1}} {
		approx := base
		approx.Residual = -1
		alone := count(approx)
		def := count(base)
		all := base
		all.Residual = 1
		released := count(all)
		shares := []float64{0.1, 0.5}
		mixed := make([]*recommend.Counts, len(shares))
		for i, share := range shares {
			o := base
			o.Residual = share
			mixed[i] = count(o)
		}
		var moved float64
		for k, v := range f.pairs {
			a := alone.Pair(k[0], k[1])
			// Counts hold float32.
			assert.InDelta(t, v, released.Pair(k[0], k[1]), 1e-5*math.Abs(v), "Residual 1: as released")
			want := a + recommend.DefaultResidual*(v-a)
			assert.InDelta(t, want, def.Pair(k[0], k[1]), 1e-5*math.Abs(want), "Residual 0: the default share")
			moved = max(moved, math.Abs(v-a))
			for i, share := range shares {
				want := a + share*(v-a)
				assert.InDelta(t, want, mixed[i].Pair(k[0], k[1]), 1e-5*math.Abs(want), "Residual %g", share)
			}
		}
		assert.Greater(t, moved, 1.0, "%+v: the approximation differs from the noisy counts", base)
	}
}

// orderedRelease yields the pairs of a fakeRelease in the order of keys.
type orderedRelease struct {
	fakeRelease
	keys [][2]string
}

func (o orderedRelease) PairCounts() iter.Seq2[[2]string, float64] {
	return func(yield func([2]string, float64) bool) {
		for _, k := range o.keys {
			if !yield(k, o.pairs[k]) {
				return
			}
		}
	}
}

// Counts from a release carry their noise, and the item-item model shrinks
// them by DefaultShrinkNoise standard deviations unless told otherwise.
func TestNoisyCountsShrinkByDefault(t *testing.T) {
	f, _ := lowRankRelease(10)
	c, err := recommend.CountsFromRelease(f, recommend.ReleaseOptions{})
	require.NoError(t, err)
	var items []recommend.Item
	for i := range 10 {
		items = append(items, recommend.Item{ID: rid(i)})
	}
	cat, err := recommend.NewCatalog(items)
	require.NoError(t, err)
	m, err := recommend.NewItemItem(cat, c, recommend.ItemItemConfig{})
	require.NoError(t, err)
	assert.Equal(t, recommend.DefaultShrinkNoise*f.sigma, m.Config().Shrink)
	m, err = recommend.NewItemItem(cat, c, recommend.ItemItemConfig{Shrink: -1})
	require.NoError(t, err)
	assert.Zero(t, m.Config().Shrink, "negative: none")
	exact := recommend.CountCooccurrence(nil, recommend.CountOptions{})
	m, err = recommend.NewItemItem(cat, exact, recommend.ItemItemConfig{})
	require.NoError(t, err)
	assert.Zero(t, m.Config().Shrink, "exact counts are not shrunk by default")
}

// BenchmarkCountsFromRelease reads a release of K pair items whose signal
// has 8 directions, 6 of them strong enough to show above the noise's
// edge 2σ√K (a direction of strength θ does when θ > σ√K), as is (none),
// with a fixed rank and with Denoise, at K = 500 (the most
// examples/evaluate uses) and 2,048 (dp.MaxPairItems).
func BenchmarkCountsFromRelease(b *testing.B) {
	for _, k := range []int{500, 2048} {
		const sigma = 1.0
		edge := 2 * sigma * math.Sqrt(float64(k))
		rng := rand.New(rand.NewPCG(1, uint64(k)))
		strengths := []float64{3, 2.5, 2, 1.5, 1, 0.75, 0.3, 0.2} // times the edge
		vecs := make([][]float64, len(strengths))
		for i := range vecs {
			vecs[i] = make([]float64, k)
			for x := range vecs[i] {
				vecs[i][x] = rng.NormFloat64() / math.Sqrt(float64(k))
			}
		}
		f := fakeRelease{items: map[string]float64{}, pairs: map[[2]string]float64{}, persons: 1000, sigma: sigma, weighted: true}
		for x := range k {
			f.items[rid(x)] = 100
			for y := x + 1; y < k; y++ {
				var s float64
				for i, v := range vecs {
					s += edge * strengths[i] * v[x] * v[y]
				}
				f.pairs[[2]string{rid(x), rid(y)}] = s + sigma*rng.NormFloat64()
			}
		}
		for _, c := range []struct {
			name string
			o    recommend.ReleaseOptions
		}{{"none", recommend.ReleaseOptions{}}, {"rank=10", recommend.ReleaseOptions{Rank: 10}}, {"denoise", recommend.ReleaseOptions{Denoise: true}}} {
			b.Run(fmt.Sprintf("K=%d/%s", k, c.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := recommend.CountsFromRelease(f, c.o); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
