package dp_test

import (
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/dptest"
)

func TestTopKExactWithTestNoise(t *testing.T) {
	p := testParams(10, 1, 1)
	tk, err := dp.NewTopK(2, p)
	require.NoError(t, err)
	add := func(n int, seg, item string) {
		for i := 0; i < n; i++ {
			for rep := 0; rep < 3; rep++ { // repeats count once per person
				tk.Add("p"+strconv.Itoa(i), seg, item)
			}
		}
	}
	add(5, "shoes", "runner")
	add(3, "shoes", "boot")
	add(3, "shoes", "alpha")
	add(1, "shoes", "sandal")
	add(4, "hats", "cap")
	assert.False(t, tk.Add("", "hats", "cap"))
	assert.EqualValues(t, 1, tk.Rejected())
	tr, err := tk.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	assert.False(t, tr.Private())
	assert.Contains(t, tr.String(), "NOT PRIVATE")
	assert.Equal(t, []string{"hats", "shoes"}, tr.Segments())
	top := tr.Top("shoes")
	require.Len(t, top, 2, "at most k")
	assert.Equal(t, "runner", top[0].Item)
	assert.EqualValues(t, 5, top[0].Count)
	assert.Equal(t, "alpha", top[1].Item, "ties broken by item")
	assert.LessOrEqual(t, top[0].Lower, 5.0)
	assert.GreaterOrEqual(t, top[0].Upper, 5.0)
	assert.Nil(t, tr.Top("unknown"))
	all := tr.All()
	all["hats"][0].Item = "changed"
	assert.Equal(t, "cap", tr.Top("hats")[0].Item, "results are immutable")

	assert.False(t, tk.Add("p1", "hats", "cap"), "after release")
	_, err = tk.Release(ctx, bigBudget(t))
	require.ErrorIs(t, err, dp.ErrReleased)
}

func TestTopKValidationAndAllowList(t *testing.T) {
	_, err := dp.NewTopK(0, testParams(1, 1, 1))
	require.ErrorIs(t, err, dp.ErrInvalidParams)
	p := testParams(1, 1, 1)
	p.Delta = 0
	p.Partitions = []string{"a"}
	_, err = dp.NewTopK(3, p)
	require.ErrorIs(t, err, dp.ErrInvalidParams, "thresholding needs δ")
	p = testParams(1, 1, 1)
	p.MaxContributions = 0 // not used by TopK
	p.Partitions = []string{"ok"}
	tk, err := dp.NewTopK(3, p)
	require.NoError(t, err)
	assert.True(t, tk.Add("a", "s", "ok"))
	assert.False(t, tk.Add("a", "s", "other"), "outside the allow-list")
}

func TestTopKWithRealNoise(t *testing.T) {
	tk, err := dp.NewTopK(3, dp.Params{Epsilon: 1, Delta: 1e-6, MaxPartitions: 2, MaxContributions: 1})
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 3000; i++ {
		person := "p" + strconv.Itoa(i)
		tk.Add(person, "all", "hit")
		if i%2 == 0 {
			tk.Add(person, "all", "second")
		}
		tk.Add(person, "all", "rare"+strconv.Itoa(r.IntN(1000)))
	}
	budget, err := dp.NewBudget(1, 1e-6, nil)
	require.NoError(t, err)
	tr, err := tk.Release(ctx, budget)
	require.NoError(t, err)
	assert.True(t, tr.Private())
	top := tr.Top("all")
	require.GreaterOrEqual(t, len(top), 2)
	assert.Equal(t, "hit", top[0].Item)
	assert.Equal(t, "second", top[1].Item)
	for _, it := range top {
		assert.GreaterOrEqual(t, it.Count, tr.Threshold())
	}
	re, rd := budget.Remaining()
	assert.Zero(t, re+rd, "the release spent its whole (ε, δ)")
}

func TestCooccurrenceExactWithTestNoise(t *testing.T) {
	c, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: 5, MaxPairs: 10,
		Rand: rand.New(rand.NewPCG(1, 2)), NoiseSource: dptest.Noise{}})
	require.NoError(t, err)
	histories := map[string][]string{
		"ann": {"a", "b", "c", "a"},
		"bob": {"a", "b"},
		"cat": {"c"},
	}
	for person, items := range histories {
		for _, it := range items {
			c.Add(person, it)
		}
	}
	assert.False(t, c.Add("", "a"))
	res, err := c.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	assert.False(t, res.Private)
	assert.Equal(t, `"dp co-occurrence": counts of 3 items and 3 pairs for 6 privately selected partitions, ε=1 δ=1e-06, NOT PRIVATE: built with a test noise source`, res.String())
	assert.EqualValues(t, 3, res.Persons)
	assert.Equal(t, []dp.ItemCount{{"a", 2}, {"b", 2}, {"c", 2}}, res.Items)
	assert.Equal(t, []dp.PairCount{{"a", "b", 2}, {"a", "c", 1}, {"b", "c", 1}}, res.Pairs)
	_, err = c.Release(ctx, bigBudget(t))
	require.ErrorIs(t, err, dp.ErrReleased)
}

// Property: each person contributes at most MaxItems items and MaxPairs
// pairs, and the pairs are among the person's own items.
func TestCooccurrenceBounds(t *testing.T) {
	for seed := uint64(0); seed < 50; seed++ {
		r := rand.New(rand.NewPCG(seed, 3))
		maxItems, maxPairs := 2+r.IntN(5), 1+r.IntN(8)
		c, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: maxItems, MaxPairs: maxPairs,
			Rand: rand.New(rand.NewPCG(seed, 4)), NoiseSource: dptest.Noise{}})
		require.NoError(t, err)
		persons := 1 + r.IntN(30)
		for i := r.IntN(400); i > 0; i-- {
			c.Add("p"+strconv.Itoa(r.IntN(persons)), "i"+strconv.Itoa(r.IntN(12)))
		}
		res, err := c.Release(ctx, bigBudget(t))
		require.NoError(t, err)
		var items, pairs float64
		for _, it := range res.Items {
			items += it.Count
		}
		for _, pc := range res.Pairs {
			pairs += pc.Count
			assert.Less(t, pc.A, pc.B)
		}
		assert.LessOrEqual(t, items, float64(res.Persons*int64(maxItems)))
		assert.LessOrEqual(t, pairs, float64(res.Persons*int64(min(maxPairs, maxItems*(maxItems-1)/2))))
	}
}

// A person's pairs are sampled uniformly when they have more than MaxPairs.
func TestCooccurrencePairSamplingIsUniform(t *testing.T) {
	const runs, maxPairs = 2000, 3
	chosen := map[string]int{}
	for seed := uint64(0); seed < runs; seed++ {
		c, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: 5, MaxPairs: maxPairs,
			Rand: rand.New(rand.NewPCG(seed, 5)), NoiseSource: dptest.Noise{}})
		require.NoError(t, err)
		for _, it := range []string{"a", "b", "c", "d", "e"} {
			c.Add("ann", it)
		}
		res, err := c.Release(ctx, bigBudget(t))
		require.NoError(t, err)
		require.Len(t, res.Pairs, maxPairs)
		for _, pc := range res.Pairs {
			chosen[pc.A+pc.B]++
		}
	}
	require.Len(t, chosen, 10)
	p := float64(maxPairs) / 10
	sd := math.Sqrt(runs * p * (1 - p))
	for pair, n := range chosen {
		assert.InDelta(t, runs*p, float64(n), 5*sd, "pair %s chosen %d times", pair, n)
	}
}

func TestCooccurrenceValidation(t *testing.T) {
	ok := dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: 3, MaxPairs: 3}
	for name, mut := range map[string]func(*dp.CooccurrenceParams){
		"epsilon":     func(p *dp.CooccurrenceParams) { p.Epsilon = math.NaN() },
		"delta zero":  func(p *dp.CooccurrenceParams) { p.Delta = 0 },
		"delta one":   func(p *dp.CooccurrenceParams) { p.Delta = 1 },
		"max items":   func(p *dp.CooccurrenceParams) { p.MaxItems = 1 },
		"max pairs":   func(p *dp.CooccurrenceParams) { p.MaxPairs = 0 },
		"noise":       func(p *dp.CooccurrenceParams) { p.Noise = 9 },
		"min persons": func(p *dp.CooccurrenceParams) { p.MinPersons = -2 },
	} {
		p := ok
		mut(&p)
		_, err := dp.NewCooccurrence(p)
		require.ErrorIs(t, err, dp.ErrInvalidParams, name)
	}
}

func TestCooccurrenceWithRealNoise(t *testing.T) {
	c, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: 4, MaxPairs: 6,
		Noise: dp.Gaussian, Items: []string{"x", "y", "z", "never"}})
	require.NoError(t, err)
	for i := 0; i < 5000; i++ {
		person := "p" + strconv.Itoa(i)
		c.Add(person, "x")
		c.Add(person, "y")
		if i%10 == 0 {
			c.Add(person, "z")
		}
		c.Add(person, "off-catalog")
	}
	res, err := c.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	assert.True(t, res.Private)
	assert.Contains(t, res.String(), "differentially private")
	require.Len(t, res.Items, 4, "a catalog releases every item")
	assert.InDelta(t, 5000, res.Persons, 100)
	require.NotEmpty(t, res.Pairs)
	assert.Equal(t, "x", res.Pairs[0].A)
	assert.Equal(t, "y", res.Pairs[0].B)
	assert.Equal(t, res.Pairs[0].Count, math.Round(res.Pairs[0].Count), "an unweighted count is a whole number")
	assert.InDelta(t, 5000, res.Pairs[0].Count, 300)
	for _, pc := range res.Pairs {
		assert.GreaterOrEqual(t, pc.Count, float64(res.PairThreshold))
	}
}

// A person with very many items: pair sampling stays uniform without
// memory in the number of the person's pairs (a person with MaxItems =
// 65535 has 2·10⁹).
func TestCooccurrencePairSamplingOfManyItems(t *testing.T) {
	release := func(items, maxPairs int, seed uint64) *dp.Cooccurrences {
		c, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: items, MaxPairs: maxPairs,
			Rand: rand.New(rand.NewPCG(seed, 6)), NoiseSource: dptest.Noise{}})
		require.NoError(t, err)
		for i := 0; i < items; i++ {
			c.Add("ann", strconv.Itoa(i))
		}
		res, err := c.Release(ctx, bigBudget(t))
		require.NoError(t, err)
		require.Len(t, res.Pairs, maxPairs, "distinct pairs, each counted once")
		return res
	}
	// 4.5 million pairs of one person.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	release(3000, 50, 1)
	runtime.ReadMemStats(&after)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(2<<20), "bytes allocated by a release")

	// 79800 pairs, above the bitmap's limit: each item is in a sampled
	// pair 2·maxPairs/items times per run on average, with a binomial
	// spread (variance ≈ mean).
	const items, maxPairs, runs = 400, 50, 200
	perItem := make([]int, items)
	for seed := uint64(0); seed < runs; seed++ {
		for _, pc := range release(items, maxPairs, seed).Pairs {
			a, _ := strconv.Atoi(pc.A)
			b, _ := strconv.Atoi(pc.B)
			perItem[a]++
			perItem[b]++
		}
	}
	var sum, sq float64
	for _, n := range perItem {
		sum += float64(n)
		sq += float64(n) * float64(n)
	}
	mean := sum / items
	assert.InDelta(t, 2.0*maxPairs*runs/items, mean, 1e-9)
	assert.InDelta(t, mean, sq/items-mean*mean, 0.3*mean)
}
