package recommend_test

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/recommendtest"
)

func items(ids ...string) []recommend.Item {
	out := make([]recommend.Item, len(ids))
	for i, id := range ids {
		out[i] = recommend.Item{ID: id, Title: "Item " + id, Category: "c" + id[:min(1, len(id))]}
	}
	return out
}

func TestNewCatalog(t *testing.T) {
	tests := []struct {
		name   string
		in     []recommend.Item
		err    error
		index  int
		reason string
	}{
		{"ok", items("a", "b"), nil, 0, "distinct ids"},
		{"empty catalog", nil, nil, 0, "an empty catalog is valid and recommends nothing"},
		{"duplicate", items("a", "b", "a"), recommend.ErrDuplicateItem, 2, "ids identify items"},
		{"empty id", items("a", ""), recommend.ErrEmptyID, 1, "an empty id names nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := recommend.NewCatalog(tt.in)
			if tt.err == nil {
				require.NoError(t, err, tt.reason)
				assert.Equal(t, len(tt.in), c.Len())
				return
			}
			require.ErrorIs(t, err, tt.err, tt.reason)
			var ie *recommend.ItemError
			require.True(t, errors.As(err, &ie))
			assert.Equal(t, tt.index, ie.Index)
			assert.Nil(t, c)
		})
	}
}

func TestCatalogCopiesItems(t *testing.T) {
	in := []recommend.Item{{ID: "a", Tags: []string{"x"}}}
	c, err := recommend.NewCatalog(in)
	require.NoError(t, err)
	in[0].Tags[0] = "mutated"
	in[0].ID = "b"
	it, ok := c.Lookup("a")
	require.True(t, ok)
	assert.Equal(t, []string{"x"}, it.Tags, "the catalog keeps its own copy")
	_, ok = c.Lookup("b")
	assert.False(t, ok)
	var n int
	for range c.All() {
		n++
	}
	assert.Equal(t, 1, n)
}

func inter(person string, ids ...string) []recommend.Interaction {
	var out []recommend.Interaction
	for _, id := range ids {
		out = append(out, recommend.Interaction{Person: person, Item: id})
	}
	return out
}

func TestCountCooccurrence(t *testing.T) {
	var in []recommend.Interaction
	in = append(in, inter("A", "a", "b", "c", "a")...) // a repeated: counted once
	in = append(in, inter("B", "a", "b")...)
	in = append(in, inter("C", "c", "b")...)
	in = append(in, recommend.Interaction{Person: "", Item: "a"}, recommend.Interaction{Person: "D", Item: ""})
	c := recommend.CountCooccurrence(in, recommend.CountOptions{})
	assert.Equal(t, 3.0, c.Persons(), "interactions with empty ids are skipped")
	assert.Equal(t, 2.0, c.Item("a"))
	assert.Equal(t, 3.0, c.Item("b"))
	assert.Equal(t, 2.0, c.Item("c"))
	assert.Equal(t, 0.0, c.Item("zzz"))
	assert.Equal(t, 2.0, c.Pair("a", "b"))
	assert.Equal(t, 2.0, c.Pair("b", "a"), "pairs are unordered")
	assert.Equal(t, 1.0, c.Pair("a", "c"))
	assert.Equal(t, 2.0, c.Pair("b", "c"))
	assert.Equal(t, 0.0, c.Pair("a", "a"))
	assert.Equal(t, 3, c.NumPairs())
	var sum float64
	for _, n := range c.Pairs() {
		sum += n
	}
	assert.Equal(t, 5.0, sum)
}

func TestBoundingIsSeededAndOrderFree(t *testing.T) {
	var ids []string
	for i := 0; i < 40; i++ {
		ids = append(ids, fmt.Sprintf("i%02d", i))
	}
	o := recommend.CountOptions{MaxItemsPerPerson: 5, Seed: 7}
	sample := func(in []recommend.Interaction, o recommend.CountOptions) []string {
		for _, items := range recommend.PersonItems(in, o) {
			return slices.Clone(items)
		}
		return nil
	}
	fwd := sample(inter("p", ids...), o)
	rev := slices.Clone(ids)
	slices.Reverse(rev)
	require.Len(t, fwd, 5)
	assert.Equal(t, fwd, sample(inter("p", rev...), o), "the sample does not depend on input order")
	assert.True(t, slices.IsSorted(fwd))
	differs := false
	for seed := uint64(8); seed < 12; seed++ {
		differs = differs || !slices.Equal(fwd, sample(inter("p", ids...), recommend.CountOptions{MaxItemsPerPerson: 5, Seed: seed}))
	}
	assert.True(t, differs, "the seed changes the sample")
	c := recommend.CountCooccurrence(inter("p", ids...), o)
	assert.Equal(t, 5, c.Len(), "CountCooccurrence counts the bounded set")
	assert.Equal(t, 10, c.NumPairs())
	for _, id := range fwd {
		assert.Equal(t, 1.0, c.Item(id))
	}
	assert.Len(t, sample(inter("p", ids...), recommend.CountOptions{MaxItemsPerPerson: -1}), 40, "negative: no cap")
	items := recommend.CountItems(inter("p", ids...), o)
	assert.Len(t, items, 5)
}

func TestCountsBuilder(t *testing.T) {
	var b recommend.CountsBuilder
	require.NoError(t, b.SetPersons(10))
	require.NoError(t, b.AddItem("a", 4))
	require.NoError(t, b.AddItem("b", 3.5))
	require.NoError(t, b.AddPair("a", "b", 1.5))
	require.NoError(t, b.AddPair("b", "a", 1), "the same unordered pair is summed")
	require.NoError(t, b.AddPair("c", "a", -2), "noise may make counts negative")
	bad := []struct {
		name string
		err  error
		f    func() error
	}{
		{"NaN item", recommend.ErrInvalidCount, func() error { return b.AddItem("a", math.NaN()) }},
		{"Inf pair", recommend.ErrInvalidCount, func() error { return b.AddPair("a", "b", math.Inf(1)) }},
		{"self pair", recommend.ErrInvalidCount, func() error { return b.AddPair("a", "a", 1) }},
		{"empty id", recommend.ErrEmptyID, func() error { return b.AddPair("", "a", 1) }},
		{"empty item", recommend.ErrEmptyID, func() error { return b.AddItem("", 1) }},
		{"NaN persons", recommend.ErrInvalidCount, func() error { return b.SetPersons(math.NaN()) }},
	}
	for _, tt := range bad {
		assert.ErrorIs(t, tt.f(), tt.err, tt.name)
	}
	// Messages a Go developer reads at first sight: no "index -1" for a
	// single id, and a self-pair is not blamed on its (valid) count.
	assert.EqualError(t, b.AddPair("a", "a", 1), `recommend: invalid count: pair of "a" with itself`)
	assert.EqualError(t, b.AddPair("a", "", 1), `recommend: empty id ""`)
	assert.EqualError(t, b.AddItem("a", math.Inf(-1)), `recommend: invalid count -Inf for "a"`)
	assert.EqualError(t, b.AddPair("a", "b", math.NaN()), `recommend: invalid count NaN for "a" and "b"`)
	_, err := recommend.NewCatalog(items("a", "a"))
	assert.EqualError(t, err, `recommend: duplicate item id "a" at index 1`)
	c := b.Build()
	assert.Equal(t, 10.0, c.Persons(), "rejected values lose nothing already added")
	assert.Equal(t, 4.0, c.Item("a"))
	assert.Equal(t, 2.5, c.Pair("a", "b"))
	assert.Equal(t, -2.0, c.Pair("a", "c"))
	assert.Equal(t, 0.0, c.Item("c"), "an item seen only in pairs has count 0")
	assert.Equal(t, 0, b.Build().Len(), "Build empties the builder")
}

func TestItemItemSimilarities(t *testing.T) {
	cat, err := recommend.NewCatalog(items("a", "b", "c", "d"))
	require.NoError(t, err)
	var b recommend.CountsBuilder
	_ = b.SetPersons(100)
	_ = b.AddItem("a", 10)
	_ = b.AddItem("b", 40)
	_ = b.AddItem("c", 5)
	_ = b.AddPair("a", "b", 8)
	_ = b.AddPair("a", "c", 4)
	c := b.Build()
	tests := []struct {
		sim    recommend.Similarity
		ab, ac float64
	}{
		{recommend.Cosine, 8 / math.Sqrt(10*40), 4 / math.Sqrt(10*5)},
		{recommend.Jaccard, 8.0 / (10 + 40 - 8), 4.0 / (10 + 5 - 4)},
		{recommend.Lift, 1 - 1/(8.0*100/(10*40)), 1 - 1/(4.0*100/(10*5))},
	}
	for _, tt := range tests {
		t.Run(tt.sim.String(), func(t *testing.T) {
			m, err := recommend.NewItemItem(cat, c, recommend.ItemItemConfig{Similarity: tt.sim})
			require.NoError(t, err)
			got := map[string]float64{}
			for _, n := range m.Neighbors("a") {
				got[n.Item] = n.Similarity
			}
			assert.InDelta(t, tt.ab, got["b"], 1e-6)
			assert.InDelta(t, tt.ac, got["c"], 1e-6)
			assert.Len(t, m.Neighbors("b"), 1, "symmetric: b's neighbour is a")
			assert.Nil(t, m.Neighbors("d"), "no co-occurrence, no neighbours")
			assert.Nil(t, m.Neighbors("zzz"), "unknown id")
			nb := m.Neighbors("a")
			assert.True(t, slices.IsSortedFunc(nb, func(x, y recommend.Neighbor) int { return -cmpf(x.Similarity, y.Similarity) }))
		})
	}
}

func cmpf(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestItemItemClampsNoisyCounts(t *testing.T) {
	cat, err := recommend.NewCatalog(items("a", "b", "c", "d", "e"))
	require.NoError(t, err)
	var b recommend.CountsBuilder
	_ = b.SetPersons(-3)       // noise: raised to the largest item count
	_ = b.AddItem("a", 2)      // below its pair count: raised
	_ = b.AddItem("b", -1)     // negative: clamped
	_ = b.AddPair("a", "b", 5) // larger than both item counts
	_ = b.AddPair("a", "c", -4)
	_ = b.AddPair("a", "d", 0.3)
	_ = b.AddPair("a", "x", 9) // unknown id
	_ = b.AddItem("y", 3)      // unknown id
	c := b.Build()
	for _, sim := range []recommend.Similarity{recommend.Cosine, recommend.Jaccard, recommend.Lift} {
		m, err := recommend.NewItemItem(cat, c, recommend.ItemItemConfig{Similarity: sim, MinCount: 0.5})
		require.NoError(t, err)
		assert.Equal(t, 2, m.Unknown())
		for _, n := range m.Neighbors("a") {
			assert.NotEqual(t, "c", n.Item, "%s: a negative pair count is dropped", sim)
			assert.NotEqual(t, "d", n.Item, "%s: a pair below MinCount is dropped", sim)
			assert.False(t, math.IsNaN(n.Similarity))
			assert.True(t, n.Similarity >= 0 && n.Similarity <= 1, "%s: similarity %v in [0, 1]", sim, n.Similarity)
		}
	}
	m, err := recommend.NewItemItem(cat, c, recommend.ItemItemConfig{MinCount: 0.5})
	require.NoError(t, err)
	require.Len(t, m.Neighbors("a"), 1)
	// c(a) is raised to its largest pair count (9, with the unknown x),
	// c(b) from -1 to 5: cosine 5/sqrt(9*5).
	assert.InDelta(t, 5/math.Sqrt(45), m.Neighbors("a")[0].Similarity, 1e-6)
}

func TestItemItemExactEqualsBuilder(t *testing.T) {
	var in []recommend.Interaction
	for p := 0; p < 30; p++ {
		for k := 0; k < 6; k++ {
			in = append(in, recommend.Interaction{Person: fmt.Sprint("p", p), Item: fmt.Sprint("i", (p*7+k*k)%17)})
		}
	}
	var ids []string
	for i := 0; i < 17; i++ {
		ids = append(ids, fmt.Sprint("i", i))
	}
	cat, err := recommend.NewCatalog(items(ids...))
	require.NoError(t, err)
	exact := recommend.CountCooccurrence(in, recommend.CountOptions{})
	var b recommend.CountsBuilder
	_ = b.SetPersons(exact.Persons())
	for _, id := range ids {
		if n := exact.Item(id); n > 0 {
			_ = b.AddItem(id, n)
		}
	}
	for p, n := range exact.Pairs() {
		_ = b.AddPair(p[1], p[0], n)
	}
	rebuilt := b.Build()
	cfg := recommend.ItemItemConfig{Neighbors: 5, Shrink: 2}
	m1, err := recommend.NewItemItem(cat, exact, cfg)
	require.NoError(t, err)
	m2, err := recommend.NewItemItem(cat, rebuilt, cfg)
	require.NoError(t, err)
	for _, id := range ids {
		assert.Equal(t, m1.Neighbors(id), m2.Neighbors(id), "the DP path (a builder) and the exact path agree on the same counts: %s", id)
		assert.LessOrEqual(t, len(m1.Neighbors(id)), 5)
	}
	top := m1.Top([]string{"i1", "i2", "unknown"}, 3, func(id string) bool { return id == "i3" })
	assert.LessOrEqual(t, len(top), 3)
	for _, s := range top {
		assert.NotContains(t, []string{"i1", "i2", "i3"}, s.Item)
	}
	assert.Nil(t, m1.Top([]string{"i1"}, 0, nil))
	assert.Nil(t, m1.Top([]string{"i1"}, -1, nil))
}

func TestItemItemConfigErrors(t *testing.T) {
	cat, _ := recommend.NewCatalog(items("a"))
	c := recommend.CountCooccurrence(nil, recommend.CountOptions{})
	for name, cfg := range map[string]recommend.ItemItemConfig{
		"similarity":     {Similarity: 9},
		"neighbors":      {Neighbors: -1},
		"many neighbors": {Neighbors: 5000},
		"NaN min count":  {MinCount: math.NaN()},
		"NaN shrink":     {Shrink: math.NaN()},
		"infinite":       {Shrink: math.Inf(1)},
	} {
		_, err := recommend.NewItemItem(cat, c, cfg)
		assert.ErrorIs(t, err, recommend.ErrInvalidConfig, name)
	}
	_, err := recommend.NewItemItem(nil, c, recommend.ItemItemConfig{})
	assert.ErrorIs(t, err, recommend.ErrNilModel)
	m, err := recommend.NewItemItem(cat, c, recommend.ItemItemConfig{})
	require.NoError(t, err, "empty counts make an empty model")
	assert.Nil(t, m.Neighbors("a"))
}

func TestPopularity(t *testing.T) {
	cat, _ := recommend.NewCatalog(items("a", "b", "c", "d"))
	p, err := recommend.NewPopularity(cat,
		[]recommend.ItemCount{{"a", 3}, {"b", 7.5}, {"c", -2}, {"a", 1}, {"zzz", 100}},
		map[string][]recommend.ItemCount{"fr": {{"d", 2}, {"a", 1}}})
	require.NoError(t, err)
	assert.Equal(t, []recommend.Scored{{"b", 7.5}, {"a", 4}}, p.Top(10, "", nil), "summed, negatives clamped, unknown ignored")
	assert.Equal(t, 1, p.Unknown())
	assert.Equal(t, []recommend.Scored{{"d", 2}}, p.Top(1, "fr", nil))
	assert.Equal(t, []recommend.Scored{{"a", 1}}, p.Top(5, "fr", func(id string) bool { return id == "d" }))
	assert.Equal(t, p.Top(2, "", nil), p.Top(2, "unknown-segment", nil), "unknown segments fall back to global")
	assert.Nil(t, p.Top(0, "", nil))
	assert.Equal(t, []string{"fr"}, p.Segments())

	_, err = recommend.NewPopularity(cat, []recommend.ItemCount{{"a", math.NaN()}}, nil)
	assert.ErrorIs(t, err, recommend.ErrInvalidCount)
	_, err = recommend.NewPopularity(cat, nil, map[string][]recommend.ItemCount{"x": {{"a", math.Inf(-1)}}})
	assert.ErrorIs(t, err, recommend.ErrInvalidCount)
	_, err = recommend.NewPopularity(cat, nil, map[string][]recommend.ItemCount{"": nil})
	assert.ErrorIs(t, err, recommend.ErrInvalidConfig)
	_, err = recommend.NewPopularity(nil, nil, nil)
	assert.ErrorIs(t, err, recommend.ErrNilModel)
}

func TestNewModel(t *testing.T) {
	cat1, _ := recommend.NewCatalog(items("a"))
	cat2, _ := recommend.NewCatalog(items("a"))
	pop, _ := recommend.NewPopularity(cat1, nil, nil)
	ii, _ := recommend.NewItemItem(cat2, recommend.CountCooccurrence(nil, recommend.CountOptions{}), recommend.ItemItemConfig{})
	_, err := recommend.NewModel(cat1, pop, ii)
	assert.ErrorIs(t, err, recommend.ErrCatalogMismatch)
	_, err = recommend.NewModel(nil, nil, nil)
	assert.ErrorIs(t, err, recommend.ErrNilModel)
	m, err := recommend.NewModel(cat1, nil, nil)
	require.NoError(t, err, "models are optional")
	assert.Nil(t, m.Popularity())
}

// Counts beyond the float32 range (a wild noisy release) are clamped, not
// turned into +Inf: popularity used to answer +Inf scores from Top and an
// empty response from Recommend (every relative popularity NaN or 0).
func TestPopularityHugeCounts(t *testing.T) {
	cat, _ := recommend.NewCatalog(items("a", "b", "c"))
	p, err := recommend.NewPopularity(cat, []recommend.ItemCount{{"a", 1e300}, {"b", 1}, {"c", math.MaxFloat64}, {"c", math.MaxFloat64}}, nil)
	require.NoError(t, err)
	top := p.Top(3, "", nil)
	require.Len(t, top, 3)
	for _, s := range top {
		assert.False(t, math.IsInf(s.Score, 0) || math.IsNaN(s.Score), "%v", s)
	}
	assert.Equal(t, "b", top[2].Item)
	m, err := recommend.NewModel(cat, p, nil)
	require.NoError(t, err)
	r, err := recommend.New(m, recommendtest.NewConsents(), nil, recommend.Config{})
	require.NoError(t, err)
	resp, err := r.Recommend(ctx, recommend.Request{At: now, VisitStart: visit, K: 3})
	require.NoError(t, err)
	require.Len(t, resp.Items, 3, "a and c at the top, then b: popular items fill the places")
	assert.Equal(t, "b", resp.Items[2].Item.ID)
	for _, it := range resp.Items {
		assert.True(t, it.Score > 0 && it.Score <= 1, "score %v", it.Score)
	}

	var b recommend.CountsBuilder
	require.NoError(t, b.AddItem("a", math.MaxFloat64))
	require.NoError(t, b.AddItem("a", math.MaxFloat64))
	assert.Equal(t, math.MaxFloat64, b.Build().Item("a"), "a sum that overflows is clamped, not +Inf")
}

// The item-item model is sparse in training too: its working memory
// follows the pairs, not the catalog size times Neighbors (a 20,000-item
// catalog with Neighbors 1000 used to allocate 160 MB for one pair).
func TestItemItemMemoryFollowsPairs(t *testing.T) {
	ids := make([]string, 20_000)
	for i := range ids {
		ids[i] = fmt.Sprint("i", i)
	}
	cat, err := recommend.NewCatalog(items(ids...))
	require.NoError(t, err)
	var b recommend.CountsBuilder
	require.NoError(t, b.SetPersons(10))
	require.NoError(t, b.AddPair("i1", "i2", 3))
	counts := b.Build()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m, err := recommend.NewItemItem(cat, counts, recommend.ItemItemConfig{Neighbors: 1000})
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	assert.Len(t, m.Neighbors("i1"), 1)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(8<<20), "bytes allocated")
}

// ItemItem.Top agrees with the definition: the sum of similarities to the
// history items, best first, ties in catalog order, history and excluded
// items skipped; then the backfill, the other items by their count in the
// training counts, most counted first, ties in catalog order.
func TestItemItemTopMatchesDefinition(t *testing.T) {
	w := recommendtest.Generate(recommendtest.Options{Seed: 8, Items: 150, Shoppers: 80})
	ii := w.Model().ItemItem()
	counts := recommend.CountCooccurrence(w.Interactions, recommend.CountOptions{})
	pos := map[string]int{}
	for i, it := range w.Items {
		pos[it.ID] = i
	}
	exclude := func(id string) bool { return pos[id]%7 == 0 }
	for _, s := range w.Shoppers[:40] {
		var hist []string
		for _, e := range s.History {
			hist = append(hist, e.Item)
		}
		sum := map[string]float64{}
		for _, h := range hist {
			for _, n := range ii.Neighbors(h) {
				if !slices.Contains(hist, n.Item) && !exclude(n.Item) {
					sum[n.Item] += n.Similarity
				}
			}
		}
		var want []recommend.Scored
		for id, v := range sum {
			want = append(want, recommend.Scored{Item: id, Score: v})
		}
		slices.SortFunc(want, func(a, b recommend.Scored) int {
			if a.Score != b.Score {
				return -cmpf(a.Score, b.Score)
			}
			return pos[a.Item] - pos[b.Item]
		})
		var fill []recommend.Scored
		for _, it := range w.Items {
			if _, ok := sum[it.ID]; !ok && counts.Item(it.ID) > 0 && !slices.Contains(hist, it.ID) && !exclude(it.ID) {
				fill = append(fill, recommend.Scored{Item: it.ID})
			}
		}
		slices.SortStableFunc(fill, func(a, b recommend.Scored) int { return -cmpf(counts.Item(a.Item), counts.Item(b.Item)) })
		want = append(want, fill...)
		for _, k := range []int{1, 5, 10, 1000} {
			got := ii.Top(hist, k, exclude)
			require.Len(t, got, min(k, len(want)))
			for n := range got {
				assert.Equal(t, want[n].Item, got[n].Item, "%s k=%d place %d", s.ID, k, n)
				assert.InDelta(t, want[n].Score, got[n].Score, 1e-9)
			}
		}
	}
}
