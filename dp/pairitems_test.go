package dp_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/google/differential-privacy/go/v3/noise"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/dptest"
)

// coocRelease feeds histories to a Cooccurrence with p and releases it.
func coocRelease(t testing.TB, p dp.CooccurrenceParams, histories map[string][]string) *dp.Cooccurrences {
	t.Helper()
	c, err := dp.NewCooccurrence(p)
	require.NoError(t, err)
	persons := make([]string, 0, len(histories))
	for person := range histories {
		persons = append(persons, person)
	}
	slices.Sort(persons)
	for _, person := range persons {
		for _, it := range histories[person] {
			c.Add(person, it)
		}
	}
	res, err := c.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	return res
}

// reference computes what a weighted public-pairs release must hold
// before noise, with no sampling (every person within MaxItems and
// MaxPairs): item sums over the catalog and pair sums among cands.
func reference(histories map[string][]string, catalog, cands []string, weighted bool, gaussian bool) (map[string]float64, map[[2]string]float64) {
	inCatalog := make(map[string]bool)
	for _, it := range catalog {
		inCatalog[it] = true
	}
	isCand := make(map[string]bool)
	for _, it := range cands {
		isCand[it] = true
	}
	weight := func(n int) float64 {
		switch {
		case !weighted || n <= 1:
			return 1
		case gaussian:
			return 1 / math.Sqrt(float64(n))
		}
		return 1 / float64(n)
	}
	items := make(map[string]float64)
	pairs := make(map[[2]string]float64)
	for _, h := range histories {
		var kept []string
		for _, it := range h {
			if inCatalog[it] && !slices.Contains(kept, it) {
				kept = append(kept, it)
			}
		}
		slices.Sort(kept)
		w := weight(len(kept))
		var cs []string
		for _, it := range kept {
			items[it] += w
			if isCand[it] {
				cs = append(cs, it)
			}
		}
		pw := weight(len(cs) * (len(cs) - 1) / 2)
		for x := range cs {
			for y := x + 1; y < len(cs); y++ {
				pairs[[2]string{cs[x], cs[y]}] += pw
			}
		}
	}
	return items, pairs
}

// Property: with a deterministic noise source, a public-pairs release holds
// exactly the (weighted) counts of a brute-force reference, every candidate
// pair (zero or not) and nothing else; the candidates are the most counted
// catalog items, ties by id.
func TestPublicPairsExact(t *testing.T) {
	for seed := uint64(0); seed < 200; seed++ {
		r := rand.New(rand.NewPCG(seed, 11))
		nItems := 2 + r.IntN(10)
		catalog := make([]string, nItems)
		for i := range catalog {
			catalog[i] = "i" + strconv.Itoa(i)
		}
		histories := make(map[string][]string)
		for p := r.IntN(30); p >= 0; p-- {
			person := "p" + strconv.Itoa(p)
			for j := r.IntN(8); j >= 0; j-- {
				histories[person] = append(histories[person], "i"+strconv.Itoa(r.IntN(nItems+2))) // some off-catalog
			}
		}
		weighted, gaussian := r.IntN(2) == 0, r.IntN(2) == 0
		k := 1 + r.IntN(nItems+1)
		p := dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: 64, MaxPairs: 64 * 63 / 2,
			Items: catalog, PairItems: k, Weighted: weighted, NoiseSource: dptest.Noise{}}
		if gaussian {
			p.Noise = dp.Gaussian
		}
		res := coocRelease(t, p, histories)

		wantItems, _ := reference(histories, catalog, nil, weighted, gaussian)
		require.Len(t, res.Items, nItems, "seed %d: the catalog is public", seed)
		for _, ic := range res.Items {
			assert.InDelta(t, wantItems[ic.Item], ic.Count, 1e-9, "seed %d item %s", seed, ic.Item)
		}
		// Candidates: the k largest counts, ties by id.
		byCount := slices.Clone(res.Items)
		slices.SortStableFunc(byCount, func(a, b dp.ItemCount) int {
			switch {
			case a.Count > b.Count:
				return -1
			case a.Count < b.Count:
				return 1
			}
			return 0
		})
		var cands []string
		for _, ic := range byCount[:min(k, nItems)] {
			cands = append(cands, ic.Item)
		}
		_, wantPairs := reference(histories, catalog, cands, weighted, gaussian)
		m := len(cands)
		require.Len(t, res.Pairs, m*(m-1)/2, "seed %d: every candidate pair", seed)
		for _, pc := range res.Pairs {
			require.Less(t, pc.A, pc.B)
			require.True(t, slices.Contains(cands, pc.A) && slices.Contains(cands, pc.B), "seed %d: %s+%s not among candidates", seed, pc.A, pc.B)
			assert.InDelta(t, wantPairs[[2]string{pc.A, pc.B}], pc.Count, 1e-9, "seed %d pair %s+%s", seed, pc.A, pc.B)
		}
		assert.True(t, slices.IsSortedFunc(res.Pairs, func(x, y dp.PairCount) int {
			if x.A != y.A {
				return cmpStr(x.A, y.A)
			}
			return cmpStr(x.B, y.B)
		}))
		assert.Equal(t, weighted, res.Weighted)
		assert.Zero(t, res.PairThreshold)
	}
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Property: adding one person to the data moves the weighted counts, before
// noise, by a vector of norm at most 1 (L2 with Gaussian noise, L1 with
// Laplace), items and pairs each, however many items the person has: the
// sensitivity the noise is calibrated to. All catalog items are candidates
// here, so the candidate set is the same with and without the person.
func TestWeightedSensitivity(t *testing.T) {
	for seed := uint64(0); seed < 300; seed++ {
		r := rand.New(rand.NewPCG(seed, 12))
		nItems := 2 + r.IntN(12)
		catalog := make([]string, nItems)
		for i := range catalog {
			catalog[i] = "i" + strconv.Itoa(i)
		}
		histories := make(map[string][]string)
		for p := r.IntN(20); p > 0; p-- {
			person := "p" + strconv.Itoa(p)
			for j := r.IntN(10); j >= 0; j-- {
				histories[person] = append(histories[person], catalog[r.IntN(nItems)])
			}
		}
		gaussian := r.IntN(2) == 0
		p := dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: 1 + nItems, MaxPairs: nItems * nItems,
			Items: catalog, PairItems: nItems, Weighted: true, NoiseSource: dptest.Noise{}}
		if gaussian {
			p.Noise = dp.Gaussian
		}
		without := coocRelease(t, p, histories)
		for j := r.IntN(2 * nItems); j >= 0; j-- {
			histories["newcomer"] = append(histories["newcomer"], catalog[r.IntN(nItems)])
		}
		with := coocRelease(t, p, histories)

		norm := func(diffs []float64) float64 {
			var s float64
			for _, d := range diffs {
				if gaussian {
					s += d * d
				} else {
					s += math.Abs(d)
				}
			}
			if gaussian {
				return math.Sqrt(s)
			}
			return s
		}
		var items, pairs []float64
		for i := range with.Items {
			items = append(items, with.Items[i].Count-without.Items[i].Count)
		}
		require.Len(t, with.Pairs, len(without.Pairs))
		for i := range with.Pairs {
			require.Equal(t, with.Pairs[i].A, without.Pairs[i].A)
			pairs = append(pairs, with.Pairs[i].Count-without.Pairs[i].Count)
		}
		assert.LessOrEqual(t, norm(items), 1+1e-12, "seed %d items", seed)
		assert.LessOrEqual(t, norm(pairs), 1+1e-12, "seed %d pairs", seed)
	}
}

// Property: with sampling (more items than MaxItems, more pairs than
// MaxPairs) one person still contributes norm at most 1 when weighted, and
// at most MaxPairs pairs of weight 1 when not.
func TestPublicPairsBounds(t *testing.T) {
	for seed := uint64(0); seed < 200; seed++ {
		r := rand.New(rand.NewPCG(seed, 13))
		nItems := 3 + r.IntN(20)
		catalog := make([]string, nItems)
		for i := range catalog {
			catalog[i] = "i" + strconv.Itoa(i)
		}
		var h []string
		for j := r.IntN(3 * nItems); j >= 0; j-- {
			h = append(h, catalog[r.IntN(nItems)])
		}
		maxItems, maxPairs := 2+r.IntN(8), 1+r.IntN(20)
		weighted := r.IntN(2) == 0
		p := dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: maxItems, MaxPairs: maxPairs, Noise: dp.Gaussian,
			Items: catalog, PairItems: 1 + r.IntN(nItems), Weighted: weighted,
			Rand: rand.New(rand.NewPCG(seed, 14)), NoiseSource: dptest.Noise{}}
		res := coocRelease(t, p, map[string][]string{"solo": h})
		var items, pairs, nonzero float64
		for _, ic := range res.Items {
			if weighted {
				items += ic.Count * ic.Count
			} else {
				items += ic.Count
			}
		}
		for _, pc := range res.Pairs {
			require.GreaterOrEqual(t, pc.Count, 0.0)
			if pc.Count != 0 {
				nonzero++
			}
			if weighted {
				pairs += pc.Count * pc.Count
			} else {
				require.Contains(t, []float64{0, 1}, pc.Count)
				pairs += pc.Count
			}
		}
		if weighted {
			assert.LessOrEqual(t, items, 1+1e-12, "seed %d", seed)
			assert.LessOrEqual(t, pairs, 1+1e-12, "seed %d", seed)
		} else {
			assert.LessOrEqual(t, items, float64(maxItems), "seed %d", seed)
		}
		assert.LessOrEqual(t, nonzero, float64(min(maxPairs, maxItems*(maxItems-1)/2)), "seed %d", seed)
	}
}

// The accounting: what the release spends and how it splits, and that the
// noise is Google's, calibrated to the stated mechanism.
func TestPublicPairsAccountingAndNoise(t *testing.T) {
	catalog := make([]string, 300)
	for i := range catalog {
		catalog[i] = "i" + strconv.Itoa(i)
	}
	for _, weighted := range []bool{false, true} {
		budget, err := dp.NewBudget(1, 1e-5, nil)
		require.NoError(t, err)
		c, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-5, MaxItems: 4, MaxPairs: 6,
			Noise: dp.Gaussian, Items: catalog, PairItems: 120, Weighted: weighted})
		require.NoError(t, err)
		for i := 0; i < 200; i++ {
			c.Add("p"+strconv.Itoa(i), catalog[0])
		}
		res, err := c.Release(ctx, budget)
		require.NoError(t, err)
		re, rd := budget.Remaining()
		assert.Zero(t, re, "ε spent in full")
		assert.Zero(t, rd, "δ spent in full")
		assert.True(t, res.Private)
		assert.Equal(t, 1.0, res.Epsilon)
		assert.Equal(t, 1e-5, res.Delta)
		assert.InDelta(t, 0.3, res.ItemNoise.Epsilon, 1e-12)
		assert.InDelta(t, 0.6, res.PairNoise.Epsilon, 1e-12)
		// Items and pairs compose exactly to (0.9, 1e-5).
		assert.LessOrEqual(t, exactDelta(0.9, jointMu(res.ItemNoise, res.PairNoise)), 1e-5)
		assert.LessOrEqual(t, res.ItemNoise.Epsilon+res.PairNoise.Epsilon, 0.9)
		if weighted {
			assert.Equal(t, dp.Mechanism{Kind: dp.Gaussian, Epsilon: res.PairNoise.Epsilon, Delta: res.PairNoise.Delta, L0: 1, LInf: 1}, res.PairNoise)
		} else {
			assert.Equal(t, int64(6), res.PairNoise.L0)
			assert.Equal(t, int64(4), res.ItemNoise.L0)
		}
		sigma := noise.SigmaForGaussian(res.PairNoise.L0, res.PairNoise.LInf, res.PairNoise.Epsilon, res.PairNoise.Delta)
		assert.Equal(t, sigma, res.PairNoise.StdDev())

		// Pairs among the 120 candidates: all zero but the few with i0,
		// so their spread is the noise's.
		require.Len(t, res.Pairs, 120*119/2)
		var sum, sq float64
		var n int
		for _, pc := range res.Pairs {
			if pc.A == catalog[0] || pc.B == catalog[0] {
				continue
			}
			sum += pc.Count
			sq += pc.Count * pc.Count
			n++
		}
		mean := sum / float64(n)
		sd := math.Sqrt(sq/float64(n) - mean*mean)
		// n ≈ 7000: the sample sd is within a few percent of σ.
		assert.InDelta(t, sigma, sd, 0.1*sigma, "weighted %v", weighted)
		assert.InDelta(t, 0, mean, 5*sigma/math.Sqrt(float64(n)))
	}

	// Laplace with public pairs needs no δ and spends none.
	budget, err := dp.NewBudget(1, 0, nil)
	require.NoError(t, err)
	c, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: 1, MaxItems: 4, MaxPairs: 6,
		Items: catalog[:10], PairItems: 5, Weighted: true})
	require.NoError(t, err)
	c.Add("ann", catalog[0])
	c.Add("ann", catalog[1])
	res, err := c.Release(ctx, budget)
	require.NoError(t, err)
	assert.Zero(t, res.Delta)
	assert.Zero(t, res.PairNoise.Delta)
	assert.Len(t, res.Pairs, 10)
	assert.Equal(t, dp.Laplace, res.PairNoise.Kind)
	assert.Equal(t, math.Sqrt2/res.PairNoise.Epsilon, res.PairNoise.StdDev())

	// With δ given anyway, Laplace public pairs still spend none of it.
	budget, err = dp.NewBudget(1, 1e-6, nil)
	require.NoError(t, err)
	c, err = dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: 4, MaxPairs: 6,
		Items: catalog[:10], PairItems: 5})
	require.NoError(t, err)
	_, err = c.Release(ctx, budget)
	require.NoError(t, err)
	_, rd := budget.Remaining()
	assert.Equal(t, 1e-6, rd)
}

func TestPublicPairsValidation(t *testing.T) {
	catalog := []string{"a", "b", "c"}
	ok := dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: 3, MaxPairs: 3, Items: catalog, PairItems: 2, Weighted: true}
	_, err := dp.NewCooccurrence(ok)
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		mut   func(*dp.CooccurrenceParams)
		param string
	}{
		"negative":            {func(p *dp.CooccurrenceParams) { p.PairItems = -1 }, "PairItems"},
		"too many":            {func(p *dp.CooccurrenceParams) { p.PairItems = dp.MaxPairItems + 1 }, "PairItems"},
		"no catalog":          {func(p *dp.CooccurrenceParams) { p.Items = nil }, "PairItems"},
		"weighted thresholds": {func(p *dp.CooccurrenceParams) { p.PairItems = 0 }, "Weighted"},
		"gaussian no delta":   {func(p *dp.CooccurrenceParams) { p.Noise, p.Delta = dp.Gaussian, 0 }, "Delta"},
		"NaN delta":           {func(p *dp.CooccurrenceParams) { p.Delta = math.NaN() }, "Delta"},
		"negative epsilon":    {func(p *dp.CooccurrenceParams) { p.Epsilon = -1 }, "Epsilon"},
	} {
		p := ok
		tc.mut(&p)
		_, err := dp.NewCooccurrence(p)
		require.ErrorIs(t, err, dp.ErrInvalidParams, name)
		var pe *dp.ParamError
		require.ErrorAs(t, err, &pe, name)
		assert.Equal(t, tc.param, pe.Param, name)
	}
	p := ok
	p.Delta = 0 // Laplace public pairs need no δ
	_, err = dp.NewCooccurrence(p)
	require.NoError(t, err)
}

// A weighted public-pairs state survives encoding and sharding: the merged
// release equals a single one (no pair sampling here).
func TestPublicPairsMerge(t *testing.T) {
	catalog := []string{"a", "b", "c", "d", "e"}
	p := dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: 5, MaxPairs: 10, Noise: dp.Gaussian,
		Items: catalog, PairItems: 4, Weighted: true, NoiseSource: dptest.Noise{}}
	p.Rand = rand.New(rand.NewPCG(3, 3))
	single, err := dp.NewCooccurrence(p)
	require.NoError(t, err)
	p.Rand = rand.New(rand.NewPCG(3, 3))
	origin, err := dp.NewCooccurrence(p)
	require.NoError(t, err)
	empty, err := origin.MarshalBinary()
	require.NoError(t, err)
	shards := make([]dp.Cooccurrence, 2)
	for i := range shards {
		require.NoError(t, shards[i].UnmarshalBinary(empty))
	}
	r := rand.New(rand.NewPCG(4, 4))
	for i := 0; i < 300; i++ {
		id, item := "p"+strconv.Itoa(r.IntN(40)), catalog[r.IntN(len(catalog))]
		single.Add(id, item)
		shards[r.IntN(2)].Add(id, item)
	}
	for i := range shards {
		data, err := shards[i].MarshalBinary()
		require.NoError(t, err)
		var s dp.Cooccurrence
		require.NoError(t, s.UnmarshalBinary(data))
		require.NoError(t, origin.Merge(&s))
	}
	want, err := single.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	got, err := origin.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	require.Len(t, got.Pairs, 6)
	require.Equal(t, len(want.Items), len(got.Items))
	for i := range want.Items {
		assert.InDelta(t, want.Items[i].Count, got.Items[i].Count, 1e-9)
	}
	for i := range want.Pairs {
		assert.Equal(t, want.Pairs[i].A+want.Pairs[i].B, got.Pairs[i].A+got.Pairs[i].B)
		assert.InDelta(t, want.Pairs[i].Count, got.Pairs[i].Count, 1e-9)
	}

	// Other PairItems or weighting: another release, not mergeable.
	q := p
	q.Weighted = false
	q.Rand = rand.New(rand.NewPCG(3, 3))
	other, err := dp.NewCooccurrence(q)
	require.NoError(t, err)
	fresh := p
	fresh.Rand = rand.New(rand.NewPCG(3, 3))
	a, err := dp.NewCooccurrence(fresh)
	require.NoError(t, err)
	require.ErrorIs(t, a.Merge(other), dp.ErrIncompatible)
	q = p
	q.PairItems = 3
	q.Rand = rand.New(rand.NewPCG(3, 3))
	other, err = dp.NewCooccurrence(q)
	require.NoError(t, err)
	require.ErrorIs(t, a.Merge(other), dp.ErrIncompatible)
}

// Split divides ε as asked; the shares never sum above ε.
func TestCooccurrenceSplit(t *testing.T) {
	catalog := []string{"a", "b", "c"}
	for _, split := range [][3]float64{{1, 3, 6}, {0.01, 0.3, 0.69}, {1, 1, 1}, {2, 5, 93}} {
		budget, err := dp.NewBudget(2, 1e-5, nil)
		require.NoError(t, err)
		c, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: 2, Delta: 1e-5, MaxItems: 3, MaxPairs: 3, Noise: dp.Gaussian,
			Items: catalog, PairItems: 3, Weighted: true, Split: split, NoiseSource: dptest.Noise{}})
		require.NoError(t, err)
		c.Add("ann", "a")
		res, err := c.Release(ctx, budget)
		require.NoError(t, err)
		sum := split[0] + split[1] + split[2]
		assert.InDelta(t, 2*split[1]/sum, res.ItemNoise.Epsilon, 1e-12, "%v", split)
		assert.InDelta(t, 2*split[2]/sum, res.PairNoise.Epsilon, 1e-12, "%v", split)
		assert.LessOrEqual(t, res.ItemNoise.Epsilon+res.PairNoise.Epsilon, 2*(split[1]+split[2])/sum)
		re, _ := budget.Remaining()
		assert.Zero(t, re)
	}
	for _, bad := range [][3]float64{{0, 1, 1}, {-1, 1, 1}, {math.NaN(), 1, 1}, {1, math.Inf(1), 1}, {1e-300, 1, 1}} {
		_, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-5, MaxItems: 3, MaxPairs: 3, Split: bad})
		var pe *dp.ParamError
		require.ErrorAs(t, err, &pe, "%v", bad)
		assert.Equal(t, "Split", pe.Param)
	}
	p := dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-5, MaxItems: 3, MaxPairs: 3, Rand: rand.New(rand.NewPCG(5, 5))}
	a, err := dp.NewCooccurrence(p)
	require.NoError(t, err)
	p.Split = [3]float64{1, 1, 1}
	p.Rand = rand.New(rand.NewPCG(5, 5))
	b, err := dp.NewCooccurrence(p)
	require.NoError(t, err)
	require.ErrorIs(t, a.Merge(b), dp.ErrIncompatible)
	data, err := b.MarshalBinary()
	require.NoError(t, err)
	var c dp.Cooccurrence
	require.NoError(t, c.UnmarshalBinary(data))
	require.NoError(t, c.Merge(b), "the split survives encoding")
}
