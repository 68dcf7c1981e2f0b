package recommend_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/recommend"
)

func TestWeightsAndDecay(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	in := []recommend.Interaction{
		{Person: "p", Item: "a", Weight: 2, At: t0},
		{Person: "p", Item: "a", Weight: 3, At: t0.Add(-time.Hour)},
		{Person: "p", Item: "b", Weight: 4, At: t0.Add(-2 * time.Hour)},
		{Person: "q", Item: "a", Weight: -1, At: t0}, // skipped with weights
		{Person: "q", Item: "b", Weight: math.NaN(), At: t0},
		{Person: "q", Item: "c", At: t0}, // weight 0 means 1
	}
	item := func(cs []recommend.ItemCount, id string) float64 {
		for _, c := range cs {
			if c.Item == id {
				return c.Count
			}
		}
		return 0
	}
	// Default: numbers of persons.
	c := recommend.CountCooccurrence(in, recommend.CountOptions{})
	assert.False(t, c.Weighted())
	assert.Equal(t, 2.0, c.Item("a"))
	assert.Equal(t, 2.0, c.Pair("a", "b"), "weights are ignored: q's a and b count too")
	assert.Equal(t, 2.0, item(recommend.CountItems(in, recommend.CountOptions{}), "a"))

	// Weights: summed per person and item; the Gram matrix of the vectors.
	w := recommend.CountOptions{Weighted: true}
	c = recommend.CountCooccurrence(in, w)
	assert.True(t, c.Weighted())
	assert.Equal(t, 25.0, c.Item("a"), "p's a is 2+3; q's a is skipped")
	assert.Equal(t, 16.0, c.Item("b"), "q's NaN b is skipped")
	assert.Equal(t, 20.0, c.Pair("a", "b"))
	assert.Equal(t, 1.0, c.Item("c"))
	assert.Equal(t, 5.0, item(recommend.CountItems(in, w), "a"))

	// Decay alone: each interaction counts 2^(-age/half-life), the most
	// recent one per item (at most 1).
	d := recommend.CountOptions{HalfLife: time.Hour, Now: t0}
	c = recommend.CountCooccurrence(in, d)
	assert.True(t, c.Weighted())
	assert.InDelta(t, 2.0, c.Item("a"), 1e-12, "p's latest a is at t0, q's a too")
	assert.InDelta(t, 0.0625+1, c.Item("b"), 1e-12, "p's b is 2 hours old: 0.25², q's b at t0 (weights ignored)")
	assert.InDelta(t, 0.25+1, c.Pair("a", "b"), 1e-12)

	// Both: weight times decay, summed. Now defaults to the latest At.
	c = recommend.CountCooccurrence(in, recommend.CountOptions{Weighted: true, HalfLife: time.Hour})
	assert.InDelta(t, (2+3*0.5)*(2+3*0.5), c.Item("a"), 1e-12)
	assert.InDelta(t, 3.5*4*0.25, c.Pair("a", "b"), 1e-12)

	// Lift needs numbers of persons.
	cat, err := recommend.NewCatalog([]recommend.Item{{ID: "a"}, {ID: "b"}, {ID: "c"}})
	require.NoError(t, err)
	_, err = recommend.NewItemItem(cat, recommend.CountCooccurrence(in, w), recommend.ItemItemConfig{Similarity: recommend.Lift})
	require.ErrorIs(t, err, recommend.ErrInvalidConfig)
	_, err = recommend.NewItemItem(cat, recommend.CountCooccurrence(in, recommend.CountOptions{}), recommend.ItemItemConfig{Similarity: recommend.Lift})
	require.NoError(t, err)
	var b recommend.CountsBuilder
	b.SetWeighted(true)
	require.NoError(t, b.AddPair("a", "b", 1))
	_, err = recommend.NewItemItem(cat, b.Build(), recommend.ItemItemConfig{Similarity: recommend.Lift})
	require.ErrorIs(t, err, recommend.ErrInvalidConfig)
}

// The weighted counts are the Gram matrix of the persons' weight vectors,
// computed by brute force over random data.
func TestWeightedCountsAreTheGramMatrix(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 2))
	items := []string{"a", "b", "c", "d", "e", "f"}
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for it := range 200 {
		var in []recommend.Interaction
		for range r.IntN(40) {
			in = append(in, recommend.Interaction{Person: string(rune('p' + r.IntN(5))), Item: items[r.IntN(len(items))],
				Weight: float64(r.IntN(5)), At: t0.Add(-time.Duration(r.IntN(100)) * time.Hour)})
		}
		o := recommend.CountOptions{Weighted: r.IntN(2) == 0, MaxItemsPerPerson: -1}
		if r.IntN(2) == 0 {
			o.HalfLife, o.Now = 24*time.Hour, t0
		}
		// Brute force.
		x := map[string]map[string]float64{}
		for _, e := range in {
			w := 1.0
			if o.Weighted && e.Weight != 0 {
				w = e.Weight
			}
			if o.HalfLife > 0 {
				w *= math.Exp2(-float64(t0.Sub(e.At)) / float64(o.HalfLife))
			}
			if x[e.Person] == nil {
				x[e.Person] = map[string]float64{}
			}
			if o.Weighted {
				x[e.Person][e.Item] += w
			} else {
				x[e.Person][e.Item] = max(x[e.Person][e.Item], w)
			}
		}
		c := recommend.CountCooccurrence(in, o)
		for _, a := range items {
			var want float64
			for _, v := range x {
				want += v[a] * v[a]
			}
			require.InDelta(t, want, c.Item(a), 1e-9*(1+want), "case %d item %s", it, a)
			for _, b := range items {
				if a == b {
					continue
				}
				var want float64
				for _, v := range x {
					want += v[a] * v[b]
				}
				require.InDelta(t, want, c.Pair(a, b), 1e-4*(1+want), "case %d pair %s %s", it, a, b)
			}
		}
	}
}

// With DampActivity a person's contribution to every item and pair count
// is divided by the square root of their number of items (after the cap):
// checked against that definition over random persons.
func TestDampActivity(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var in []recommend.Interaction
	items := map[string][]string{}
	for p := range 60 {
		person := "p" + string(rune('A'+p%26)) + string(rune('a'+p/26))
		n := 1 + r.IntN(30)
		seen := map[string]bool{}
		for range n {
			it := "i" + string(rune('a'+r.IntN(20)))
			in = append(in, recommend.Interaction{Person: person, Item: it})
			if !seen[it] {
				seen[it] = true
				items[person] = append(items[person], it)
			}
		}
	}
	o := recommend.CountOptions{DampActivity: true, MaxItemsPerPerson: -1}
	c := recommend.CountCooccurrence(in, o)
	require.True(t, c.Weighted(), "damped counts are sums of weights")
	wantItem := map[string]float64{}
	wantPair := map[[2]string]float64{}
	for _, its := range items {
		f := 1 / math.Sqrt(float64(len(its)))
		for i, a := range its {
			wantItem[a] += f
			for _, b := range its[i+1:] {
				if a > b {
					wantPair[[2]string{b, a}] += f
				} else {
					wantPair[[2]string{a, b}] += f
				}
			}
		}
	}
	for it, v := range wantItem {
		assert.InDelta(t, v, c.Item(it), 1e-9, it)
	}
	for p, v := range wantPair {
		assert.InDelta(t, v, c.Pair(p[0], p[1]), 1e-5, "%v", p)
	}
	// The cap comes first: a person capped at 4 items weighs as one with 4.
	for person, w := range recommend.PersonWeights(in, recommend.CountOptions{DampActivity: true, MaxItemsPerPerson: 4}) {
		for _, x := range w.Weights {
			require.InDelta(t, math.Pow(float64(len(w.Items)), -0.25), x, 1e-12, person)
		}
	}
	// Lift cannot use damped counts.
	_, err := recommend.NewItemItem(mustCatalog(t, wantItem), c, recommend.ItemItemConfig{Similarity: recommend.Lift})
	require.ErrorIs(t, err, recommend.ErrInvalidConfig)
}

func mustCatalog(t *testing.T, ids map[string]float64) *recommend.Catalog {
	t.Helper()
	var items []recommend.Item
	for id := range ids {
		items = append(items, recommend.Item{ID: id})
	}
	cat, err := recommend.NewCatalog(items)
	require.NoError(t, err)
	return cat
}
