package dp_test

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/dptest"
)

// goldenCase is a random co-occurrence job: parameters (with test noise and
// a seeded Rand) and persons' histories, in order, with repeats and items
// beyond MaxItems and pairs beyond MaxPairs, so that both samplings run.
func goldenCase(seed uint64) (dp.CooccurrenceParams, []string, map[string][]string) {
	r := rand.New(rand.NewPCG(seed, 21))
	nItems := 3 + r.IntN(25)
	catalog := make([]string, nItems)
	for i := range catalog {
		catalog[i] = "i" + strconv.Itoa(i)
	}
	p := dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: 2 + r.IntN(8), MaxPairs: 1 + r.IntN(20),
		Rand: rand.New(rand.NewPCG(seed, 22)), NoiseSource: dptest.Noise{}}
	if r.IntN(2) == 0 {
		p.Noise = dp.Gaussian
	}
	switch r.IntN(3) {
	case 0: // weighted public pairs
		p.Items, p.PairItems, p.Weighted = catalog, 1+r.IntN(nItems), true
	case 1: // public pairs
		p.Items, p.PairItems = catalog, 1+r.IntN(nItems)
	}
	var persons []string
	histories := make(map[string][]string)
	for i := 1 + r.IntN(40); i > 0; i-- {
		person := "p" + strconv.Itoa(i)
		persons = append(persons, person)
		for j := r.IntN(3 * p.MaxItems); j >= 0; j-- {
			histories[person] = append(histories[person], catalog[r.IntN(nItems)])
		}
	}
	return p, persons, histories
}

// digestRelease writes everything a release holds, bit for bit.
func digestRelease(h hash.Hash, res *dp.Cooccurrences) {
	fmt.Fprintln(h, res.Persons, res.ItemThreshold, res.PairThreshold, res.Weighted)
	for _, ic := range res.Items {
		fmt.Fprintln(h, ic.Item, math.Float64bits(ic.Count))
	}
	for _, pc := range res.Pairs {
		fmt.Fprintln(h, pc.A, pc.B, math.Float64bits(pc.Count))
	}
}

// goldenDigests are the digests of the releases of goldenCase(0…299) and
// of the encoded states of the unweighted ones, computed by the
// Cooccurrence as it was before weights (only Add).
const (
	goldenReleases = "617f44e820722e986f0754d105b84174e54dc38820373b7e86f98fa25b8f98dc"
	goldenStates   = "a0e4fbf1f0859f4e23113b0d3a566b8b08e2f0d9554e6201ab89d58d13be695c"
)

// All weights 1 reproduce exactly, bit for bit, the releases of the
// Cooccurrence before weights, on random jobs with item and pair sampling,
// whether fed by Add or by AddWeighted with weight 1 (which also encode
// the same state); the encoding of unweighted state did not change.
func TestWeightsOfOneReproduceUnweighted(t *testing.T) {
	for _, viaWeights := range []bool{false, true} {
		releases, states := sha256.New(), sha256.New()
		for seed := uint64(0); seed < 300; seed++ {
			p, persons, histories := goldenCase(seed)
			c, err := dp.NewCooccurrence(p)
			require.NoError(t, err)
			for _, person := range persons {
				for _, it := range histories[person] {
					if viaWeights && p.Weighted {
						require.True(t, c.AddWeighted(person, it, 1))
					} else {
						require.True(t, c.Add(person, it))
					}
				}
			}
			data, err := c.MarshalBinary()
			require.NoError(t, err)
			if !p.Weighted {
				states.Write(data)
			} else if viaWeights {
				p2, _, _ := goldenCase(seed)
				viaAdd, err := dp.NewCooccurrence(p2)
				require.NoError(t, err)
				for _, person := range persons {
					for _, it := range histories[person] {
						viaAdd.Add(person, it)
					}
				}
				want, err := viaAdd.MarshalBinary()
				require.NoError(t, err)
				require.Equal(t, want, data, "seed %d: Add is AddWeighted with weight 1", seed)
			}
			res, err := c.Release(ctx, bigBudget(t))
			require.NoError(t, err)
			digestRelease(releases, res)
		}
		assert.Equal(t, goldenReleases, hex.EncodeToString(releases.Sum(nil)), "via AddWeighted %v", viaWeights)
		assert.Equal(t, goldenStates, hex.EncodeToString(states.Sum(nil)), "via AddWeighted %v", viaWeights)
	}
}

// randomWeight is a weight spread over a few orders of magnitude.
func randomWeight(r *rand.Rand) float64 { return math.Exp(2 * r.NormFloat64()) }

// norm is the norm of the noise: L2 with Gaussian, L1 with Laplace.
func norm(v []float64, gaussian bool) float64 {
	var s float64
	for _, x := range v {
		if gaussian {
			s += x * x
		} else {
			s += math.Abs(x)
		}
	}
	if gaussian {
		return math.Sqrt(s)
	}
	return s
}

// gram computes by brute force what a weighted release must hold before
// noise, with no sampling: over persons, item a counts x_a²/‖(x_b²)‖ over
// the person's items b, and pair {a, b} of candidates counts
// x_a·x_b/‖(x_c·x_d)‖ over the person's pairs of candidates {c, d}.
func gram(weights map[string]map[string]float64, cands []string, gaussian bool) (map[string]float64, map[[2]string]float64) {
	items := make(map[string]float64)
	pairs := make(map[[2]string]float64)
	for _, x := range weights {
		var ids []string
		var sq []float64
		for it, w := range x {
			ids = append(ids, it)
			sq = append(sq, w*w)
		}
		n := norm(sq, gaussian)
		for i, it := range ids {
			items[it] += sq[i] / n
		}
		var cs []string
		for _, it := range cands {
			if _, ok := x[it]; ok {
				cs = append(cs, it) // sorted, as cands
			}
		}
		var keys [][2]string
		var prods []float64
		for i := range cs {
			for j := i + 1; j < len(cs); j++ {
				a, b := min(cs[i], cs[j]), max(cs[i], cs[j])
				keys = append(keys, [2]string{a, b})
				prods = append(prods, x[cs[i]]*x[cs[j]])
			}
		}
		n = norm(prods, gaussian)
		for i, k := range keys {
			pairs[k] += prods[i] / n
		}
	}
	return items, pairs
}

// candidates returns the PairItems items with the largest released counts,
// ties by id, sorted by id.
func candidates(res *dp.Cooccurrences, k int) []string {
	byCount := slices.Clone(res.Items) // sorted by id
	slices.SortStableFunc(byCount, func(a, b dp.ItemCount) int { return cmp.Compare(b.Count, a.Count) })
	var cands []string
	for _, ic := range byCount[:min(k, len(byCount))] {
		cands = append(cands, ic.Item)
	}
	slices.Sort(cands)
	return cands
}

// Property: with test noise and no sampling, a weighted release holds the
// normalized Gram matrix of the persons' weights, computed by brute force;
// an item added several times weighs the largest of its weights.
func TestWeightedReleaseIsNormalizedGram(t *testing.T) {
	for seed := uint64(0); seed < 300; seed++ {
		r := rand.New(rand.NewPCG(seed, 31))
		nItems := 2 + r.IntN(12)
		catalog := make([]string, nItems)
		for i := range catalog {
			catalog[i] = "i" + strconv.Itoa(i)
		}
		gaussian := r.IntN(2) == 0
		k := 2 + r.IntN(nItems-1)
		p := dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: nItems, MaxPairs: nItems * nItems,
			Items: catalog, PairItems: k, Weighted: true, NoiseSource: dptest.Noise{}}
		if gaussian {
			p.Noise = dp.Gaussian
		}
		c, err := dp.NewCooccurrence(p)
		require.NoError(t, err)
		weights := make(map[string]map[string]float64) // the largest weight per person and item
		for e := r.IntN(150); e >= 0; e-- {
			person, it, w := "p"+strconv.Itoa(r.IntN(20)), catalog[r.IntN(nItems)], randomWeight(r)
			require.True(t, c.AddWeighted(person, it, w))
			if weights[person] == nil {
				weights[person] = make(map[string]float64)
			}
			weights[person][it] = max(weights[person][it], w)
		}
		res, err := c.Release(ctx, bigBudget(t))
		require.NoError(t, err)

		wantItems, _ := gram(weights, nil, gaussian)
		require.Len(t, res.Items, nItems)
		for _, ic := range res.Items {
			assert.InDelta(t, wantItems[ic.Item], ic.Count, 1e-9, "seed %d item %s", seed, ic.Item)
		}
		cands := candidates(res, k)
		_, wantPairs := gram(weights, cands, gaussian)
		require.Len(t, res.Pairs, len(cands)*(len(cands)-1)/2, "seed %d", seed)
		for _, pc := range res.Pairs {
			assert.InDelta(t, wantPairs[[2]string{pc.A, pc.B}], pc.Count, 1e-9, "seed %d pair %s+%s", seed, pc.A, pc.B)
		}
	}
}

// Property: with more items than MaxItems and more pairs than MaxPairs,
// the items kept are those kept without weights (the same uniform sample),
// and the weights follow the sample: a lone person's released item counts
// are x_a²/‖(x_b²)‖ over the kept items b, and their pair counts
// x_a·x_b/‖(x_c·x_d)‖ over the sampled pairs {c, d}, min(MaxPairs,
// m(m-1)/2) of them among the m kept items.
func TestWeightsFollowTheSample(t *testing.T) {
	for seed := uint64(0); seed < 300; seed++ {
		r := rand.New(rand.NewPCG(seed, 32))
		nItems := 3 + r.IntN(20)
		catalog := make([]string, nItems)
		x := make(map[string]float64)
		for i := range catalog {
			catalog[i] = "i" + strconv.Itoa(i)
			x[catalog[i]] = randomWeight(r)
		}
		gaussian := r.IntN(2) == 0
		p := dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: 2 + r.IntN(8), MaxPairs: 1 + r.IntN(20),
			Items: catalog, PairItems: nItems, Weighted: true, NoiseSource: dptest.Noise{}}
		if gaussian {
			p.Noise = dp.Gaussian
		}
		order := r.Perm(nItems)
		release := func(weighted bool) *dp.Cooccurrences {
			p.Rand = rand.New(rand.NewPCG(seed, 33))
			c, err := dp.NewCooccurrence(p)
			require.NoError(t, err)
			for _, i := range order {
				if weighted {
					c.AddWeighted("solo", catalog[i], x[catalog[i]])
				} else {
					c.Add("solo", catalog[i])
				}
			}
			res, err := c.Release(ctx, bigBudget(t))
			require.NoError(t, err)
			return res
		}
		plain, res := release(false), release(true)

		var kept, keptPlain []string
		var sq []float64
		for i, ic := range res.Items {
			if plain.Items[i].Count != 0 {
				keptPlain = append(keptPlain, ic.Item)
			}
			if ic.Count != 0 {
				kept = append(kept, ic.Item)
				sq = append(sq, x[ic.Item]*x[ic.Item])
			}
		}
		require.Equal(t, keptPlain, kept, "seed %d: weights do not choose the items kept", seed)
		m := min(nItems, p.MaxItems)
		require.Len(t, kept, m, "seed %d", seed)
		n := norm(sq, gaussian)
		for i, it := range kept {
			assert.InDelta(t, sq[i]/n, res.Items[slices.IndexFunc(res.Items, func(ic dp.ItemCount) bool { return ic.Item == it })].Count, 1e-12, "seed %d item %s", seed, it)
		}

		var sampled []dp.PairCount
		var prods []float64
		for _, pc := range res.Pairs {
			if pc.Count != 0 {
				require.True(t, slices.Contains(kept, pc.A) && slices.Contains(kept, pc.B), "seed %d: pair of items not kept", seed)
				sampled = append(sampled, pc)
				prods = append(prods, x[pc.A]*x[pc.B])
			}
		}
		require.Len(t, sampled, min(p.MaxPairs, m*(m-1)/2), "seed %d", seed)
		n = norm(prods, gaussian)
		for i, pc := range sampled {
			assert.InDelta(t, prods[i]/n, pc.Count, 1e-12, "seed %d pair %s+%s", seed, pc.A, pc.B)
		}
	}
}

// Property: the samples are uniform whatever the weights. One item weighs
// a million times the others; over many seeds it is kept (MaxItems) and
// its pairs sampled (MaxPairs) as often as any other's.
func TestWeightsDoNotChooseTheSample(t *testing.T) {
	const trials = 3000
	catalog := []string{"heavy", "a", "b", "c", "d", "e"}
	weight := func(it string) float64 {
		if it == "heavy" {
			return 1e6
		}
		return 1
	}
	keptCount := make(map[string]int)
	pairCount := make(map[string]int)
	for seed := uint64(0); seed < trials; seed++ {
		for _, mode := range []string{"items", "pairs"} {
			p := dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: 2, MaxPairs: 1, Noise: dp.Gaussian,
				Items: catalog, PairItems: len(catalog), Weighted: true, NoiseSource: dptest.Noise{},
				Rand: rand.New(rand.NewPCG(seed, 34))}
			items := catalog
			if mode == "pairs" {
				p.MaxItems, items = 4, catalog[:4] // all kept: 6 pairs, 1 sampled
			}
			c, err := dp.NewCooccurrence(p)
			require.NoError(t, err)
			for _, it := range items {
				c.AddWeighted("solo", it, weight(it))
			}
			res, err := c.Release(ctx, bigBudget(t))
			require.NoError(t, err)
			if mode == "items" {
				for _, ic := range res.Items {
					if ic.Count != 0 {
						keptCount[ic.Item]++
					}
				}
				continue
			}
			for _, pc := range res.Pairs {
				if pc.Count != 0 {
					pairCount[pc.A+"+"+pc.B]++
				}
			}
		}
	}
	// Kept: each item with probability 2/6; sampled: each pair 1/6. Six
	// standard deviations of a binomial.
	within := func(got int, prob float64, what string) {
		mean, sd := trials*prob, math.Sqrt(trials*prob*(1-prob))
		assert.InDelta(t, mean, float64(got), 6*sd, what)
	}
	require.Len(t, keptCount, len(catalog))
	for _, it := range catalog {
		within(keptCount[it], 2.0/6, it)
	}
	require.Len(t, pairCount, 6)
	for pair, n := range pairCount {
		within(n, 1.0/6, pair)
	}
	t.Logf("kept %v, pairs %v", keptCount, pairCount)
}

// Property: adding one person with any weights (down to the smallest and
// up to the largest floats) moves the weighted counts before noise by a
// vector of norm at most 1, items and pairs each, with or without item
// sampling: the sensitivity the noise is calibrated to. A lone person's
// vectors have norm 1, not less, unless their weights span more than the
// floats can multiply.
func TestWeightedSensitivityWithWeights(t *testing.T) {
	extreme := []float64{math.SmallestNonzeroFloat64, 1e-300, 1e-150, 1e150, 1e300, math.MaxFloat64}
	for seed := uint64(0); seed < 300; seed++ {
		r := rand.New(rand.NewPCG(seed, 35))
		nItems := 2 + r.IntN(12)
		catalog := make([]string, nItems)
		for i := range catalog {
			catalog[i] = "i" + strconv.Itoa(i)
		}
		gaussian := r.IntN(2) == 0
		wild := r.IntN(4) == 0 // extreme weights
		weight := func() float64 {
			if wild {
				return extreme[r.IntN(len(extreme))]
			}
			return randomWeight(r)
		}
		type event struct {
			person, item string
			w            float64
		}
		var events []event
		for e := r.IntN(100); e >= 0; e-- {
			events = append(events, event{"p" + strconv.Itoa(r.IntN(15)), catalog[r.IntN(nItems)], weight()})
		}
		var newcomer []event
		for e := r.IntN(3 * nItems); e >= 0; e-- {
			newcomer = append(newcomer, event{"newcomer", catalog[r.IntN(nItems)], weight()})
		}
		// Items are sampled by keyed hash, the same for a person whoever
		// else is there; pairs by a generator the persons share, so pair
		// sampling would change the others' pairs: none here.
		p := dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: 2 + r.IntN(nItems), MaxPairs: nItems * nItems,
			Items: catalog, PairItems: nItems, Weighted: true, NoiseSource: dptest.Noise{}}
		if gaussian {
			p.Noise = dp.Gaussian
		}
		release := func(events ...[]event) *dp.Cooccurrences {
			p.Rand = rand.New(rand.NewPCG(seed, 36))
			c, err := dp.NewCooccurrence(p)
			require.NoError(t, err)
			for _, es := range events {
				for _, e := range es {
					require.True(t, c.AddWeighted(e.person, e.item, e.w))
				}
			}
			res, err := c.Release(ctx, bigBudget(t))
			require.NoError(t, err)
			return res
		}
		without, with, alone := release(events), release(events, newcomer), release(newcomer)
		diff := func(a, b *dp.Cooccurrences) (items, pairs []float64) {
			require.Len(t, a.Pairs, len(b.Pairs))
			for i := range a.Items {
				items = append(items, a.Items[i].Count-b.Items[i].Count)
			}
			for i := range a.Pairs {
				require.Equal(t, a.Pairs[i].A+"+"+a.Pairs[i].B, b.Pairs[i].A+"+"+b.Pairs[i].B)
				pairs = append(pairs, a.Pairs[i].Count-b.Pairs[i].Count)
			}
			return items, pairs
		}
		items, pairs := diff(with, without)
		assert.LessOrEqual(t, norm(items, gaussian), 1+1e-12, "seed %d items", seed)
		assert.LessOrEqual(t, norm(pairs, gaussian), 1+1e-12, "seed %d pairs", seed)

		var zero dp.Cooccurrences
		zero.Items = make([]dp.ItemCount, len(alone.Items))
		zero.Pairs = slices.Clone(alone.Pairs)
		for i := range zero.Pairs {
			zero.Pairs[i].Count = 0
		}
		items, pairs = diff(alone, &zero)
		for _, v := range append(items, pairs...) {
			require.False(t, math.IsNaN(v) || math.IsInf(v, 0) || v < 0, "seed %d: %v", seed, v)
		}
		assert.InDelta(t, 1, norm(items, gaussian), 1e-12, "seed %d: a person's items have norm 1", seed)
		if n := norm(pairs, gaussian); !wild && n != 0 {
			assert.InDelta(t, 1, n, 1e-12, "seed %d: a person's pairs have norm 1", seed)
		} else {
			assert.LessOrEqual(t, n, 1+1e-12, "seed %d pairs", seed)
		}
	}
}

// Bad weights are rejected and counted, and change nothing; without
// Weighted, AddWeighted rejects every event; after Release and on the zero
// value it does nothing.
func TestAddWeightedRejects(t *testing.T) {
	catalog := []string{"a", "b", "c"}
	p := dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: 3, MaxPairs: 3, Noise: dp.Gaussian,
		Items: catalog, PairItems: 3, Weighted: true, NoiseSource: dptest.Noise{}}
	mk := func(p dp.CooccurrenceParams) *dp.Cooccurrence {
		p.Rand = rand.New(rand.NewPCG(1, 1))
		c, err := dp.NewCooccurrence(p)
		require.NoError(t, err)
		require.True(t, c.AddWeighted("ann", "a", 2))
		require.True(t, c.AddWeighted("ann", "b", 0.5))
		return c
	}
	clean := mk(p)
	c := mk(p)
	for i, w := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), -1, -math.SmallestNonzeroFloat64} {
		assert.False(t, c.AddWeighted("ann", "a", w), "%v", w)
		assert.False(t, c.AddWeighted("ann", "c", w), "%v", w)
		assert.Equal(t, int64(2*(i+1)), c.Rejected(), "%v", w)
	}
	assert.False(t, c.AddWeighted("", "a", 1), "empty person")
	assert.False(t, c.AddWeighted("ann", "z", 1), "off the catalog: ignored, not rejected")
	assert.Equal(t, int64(15), c.Rejected())
	want, err := clean.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	got, err := c.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	assert.Equal(t, want.Items, got.Items, "nothing accepted was lost, nothing rejected counted")
	assert.Equal(t, want.Pairs, got.Pairs)
	assert.False(t, c.AddWeighted("ann", "c", 1), "released")
	assert.Equal(t, int64(15), c.Rejected())

	q := p
	q.Weighted = false
	u, err := dp.NewCooccurrence(q)
	require.NoError(t, err)
	assert.False(t, u.AddWeighted("ann", "a", 1), "counts of persons take no weights")
	assert.Equal(t, int64(1), u.Rejected())
	assert.True(t, u.Add("ann", "a"))

	var zero dp.Cooccurrence
	assert.False(t, zero.AddWeighted("ann", "a", 1))
	assert.Zero(t, zero.Rejected())
}

// Weights survive encoding and sharding: shards of weighted events,
// encoded, decoded and merged, release what one Cooccurrence fed every
// event releases, the same item of a person in two shards weighing the
// larger of its weights there.
func TestWeightedStateRoundTrip(t *testing.T) {
	for seed := uint64(0); seed < 50; seed++ {
		r := rand.New(rand.NewPCG(seed, 37))
		catalog := []string{"a", "b", "c", "d", "e", "f"}
		p := dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: 3 + r.IntN(4), MaxPairs: 100, Noise: dp.Gaussian,
			Items: catalog, PairItems: 6, Weighted: true, NoiseSource: dptest.Noise{}}
		if r.IntN(2) == 0 {
			p.Noise = dp.Laplace
		}
		p.Rand = rand.New(rand.NewPCG(seed, 38))
		single, err := dp.NewCooccurrence(p)
		require.NoError(t, err)
		p.Rand = rand.New(rand.NewPCG(seed, 38))
		origin, err := dp.NewCooccurrence(p)
		require.NoError(t, err)
		empty, err := origin.MarshalBinary()
		require.NoError(t, err)
		shards := make([]dp.Cooccurrence, 3)
		for i := range shards {
			require.NoError(t, shards[i].UnmarshalBinary(empty))
		}
		for e := 0; e < 200; e++ {
			id, item, w := "p"+strconv.Itoa(r.IntN(30)), catalog[r.IntN(len(catalog))], randomWeight(r)
			require.True(t, single.AddWeighted(id, item, w))
			require.True(t, shards[r.IntN(len(shards))].AddWeighted(id, item, w))
		}
		for i := range shards {
			data, err := shards[i].MarshalBinary()
			require.NoError(t, err)
			var s dp.Cooccurrence
			require.NoError(t, s.UnmarshalBinary(data))
			again, err := s.MarshalBinary()
			require.NoError(t, err)
			var s2 dp.Cooccurrence
			require.NoError(t, s2.UnmarshalBinary(again))
			require.NoError(t, origin.Merge(&s2))
		}
		want, err := single.Release(ctx, bigBudget(t))
		require.NoError(t, err)
		got, err := origin.Release(ctx, bigBudget(t))
		require.NoError(t, err)
		require.Equal(t, want.Persons, got.Persons)
		require.Len(t, got.Items, len(want.Items))
		for i := range want.Items {
			assert.InDelta(t, want.Items[i].Count, got.Items[i].Count, 1e-9, "seed %d", seed)
		}
		require.Len(t, got.Pairs, len(want.Pairs))
		for i := range want.Pairs {
			assert.InDelta(t, want.Pairs[i].Count, got.Pairs[i].Count, 1e-9, "seed %d", seed)
		}
	}
}

// An older weighted state (encoded before AddWeighted: no weights) and
// a state whose weights flag disagrees with Weighted are refused with
// ErrInvalidState, never read as weights; the unweighted encoding is
// unchanged (TestWeightsOfOneReproduceUnweighted).
func TestWeightedStateVersions(t *testing.T) {
	// Weighted, catalog a, b, c: ann has a and b, bob c, as the previous
	// version encoded it.
	old, err := hex.DecodeString("7464700243000000000000f03f8dedb5a0f7c6b03e030200000003030000000000000000000000000000000000000000000000000301610162016300b84fb46b9fe34aff000281923f022c472dc402000101015c1c5fcfc8a669c9010201aabbb058")
	require.NoError(t, err)
	var c dp.Cooccurrence
	err = c.UnmarshalBinary(old)
	require.ErrorIs(t, err, dp.ErrInvalidState)
	assert.Contains(t, err.Error(), "older encoding")

	// The flags byte follows ε, δ, MaxItems, MaxPairs, Noise, MinPersons
	// and the empty label: toggling the weights flag (bit 2) with a valid
	// checksum is refused either way.
	const flagsAt = 5 + 8 + 8 + 1 + 1 + 1 + 1 + 1
	for _, weighted := range []bool{true, false} {
		nc, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: 3, MaxPairs: 2,
			Items: []string{"a", "b", "c"}, PairItems: 3, Weighted: weighted})
		require.NoError(t, err)
		if weighted {
			nc.AddWeighted("ann", "a", 2)
		} else {
			nc.Add("ann", "a")
		}
		data, err := nc.MarshalBinary()
		require.NoError(t, err)
		require.NoError(t, new(dp.Cooccurrence).UnmarshalBinary(data))
		require.Equal(t, weighted, data[flagsAt]&2 != 0, "flags byte located")
		body := slices.Clone(data[:len(data)-4])
		body[flagsAt] ^= 4
		forged := binary.LittleEndian.AppendUint32(body, crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
		require.ErrorIs(t, new(dp.Cooccurrence).UnmarshalBinary(forged), dp.ErrInvalidState, "weighted %v", weighted)
	}
}
