package recommend_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/recommendtest"
)

// easeByHand computes EASE's weights B over the given items with plain
// Gauss-Jordan elimination: B[i][j] = -P[i][j] / P[j][j], P = (G + λI)⁻¹.
func easeByHand(c *recommend.Counts, items []string, lambda float64) [][]float64 {
	n := len(items)
	a := make([][]float64, n)
	for i := range a {
		a[i] = make([]float64, 2*n)
		for j := range n {
			if i == j {
				a[i][j] = c.Item(items[i]) + lambda
			} else {
				a[i][j] = c.Pair(items[i], items[j])
			}
		}
		a[i][n+i] = 1
	}
	for k := range n {
		d := a[k][k]
		for j := range 2 * n {
			a[k][j] /= d
		}
		for i := range n {
			if i != k {
				f := a[i][k]
				for j := range 2 * n {
					a[i][j] -= f * a[k][j]
				}
			}
		}
	}
	b := make([][]float64, n)
	for i := range b {
		b[i] = make([]float64, n)
		for j := range n {
			if i != j {
				b[i][j] = -a[i][n+j] / a[j][n+j]
			}
		}
	}
	return b
}

// TrainEASE keeps, per item, the weights of B = I − P·diag(1/diag P)
// largest in magnitude; with PopularityDamping β, those of B with column j
// divided by c_j^β.
func TestEASEMatchesTheFormula(t *testing.T) {
	for _, beta := range []float64{0, 0.5} {
		t.Run(fmt.Sprint("β=", beta), func(t *testing.T) { easeMatchesTheFormula(t, beta) })
	}
}

func easeMatchesTheFormula(t *testing.T, beta float64) {
	w := recommendtest.Generate(recommendtest.Options{Seed: 5, Items: 80, Shoppers: 300})
	c := recommend.CountCooccurrence(w.Interactions, recommend.CountOptions{})
	const items, neighbors = 40, 10
	m, err := recommend.TrainEASE(w.Catalog, c, recommend.EASEConfig{Items: items, Neighbors: neighbors, Lambda: 0.3, PopularityDamping: beta})
	require.NoError(t, err)
	cfg, ok := m.EASE()
	require.True(t, ok)
	assert.Equal(t, items, cfg.Items)
	assert.Equal(t, beta, cfg.PopularityDamping)

	// The 40 items with the largest counts (ties by catalog order).
	var ids []string
	for it := range w.Catalog.All() {
		if c.Item(it.ID) > 0 {
			ids = append(ids, it.ID)
		}
	}
	slices.SortStableFunc(ids, func(a, b string) int { return -cmpF(c.Item(a), c.Item(b)) })
	ids = ids[:items]
	var mean float64
	for _, id := range ids {
		mean += c.Item(id)
	}
	mean /= items
	b := easeByHand(c, ids, 0.3*mean)
	for i := range b {
		for j, id := range ids {
			b[i][j] /= math.Pow(max(c.Item(id), 1), beta)
		}
	}
	var negatives int
	for i, id := range ids {
		want := signedRow(b[i], ids, neighbors)
		for _, x := range want {
			if x.Similarity < 0 {
				negatives++
			}
		}
		// Neighbors lists the positive ones, largest first.
		want = slices.DeleteFunc(want, func(x recommend.Neighbor) bool { return x.Similarity < 0 })
		got := m.Neighbors(id)
		require.Len(t, got, len(want), id)
		for k := range want {
			assert.Equal(t, want[k].Item, got[k].Item, "%s neighbour %d", id, k)
			assert.InDelta(t, want[k].Similarity, got[k].Similarity, 1e-5*(1+want[k].Similarity), "%s neighbour %d", id, k)
		}
	}
	require.Positive(t, negatives, "some rows keep negative weights among their 10 largest")
	// Items beyond the 40 get the tail's item-item neighbours.
	var tail int
	for it := range w.Catalog.All() {
		if !slices.Contains(ids, it.ID) && len(m.Neighbors(it.ID)) > 0 {
			tail++
		}
	}
	assert.Positive(t, tail, "the tail items have neighbours too")
}

// signedRow is row i of B over ids as TrainEASE keeps it: the n weights
// largest in magnitude (ties by position), largest first.
func signedRow(bi []float64, ids []string, n int) []recommend.Neighbor {
	var row []recommend.Neighbor
	for j, other := range ids {
		if bi[j] != 0 {
			row = append(row, recommend.Neighbor{Item: other, Similarity: bi[j]})
		}
	}
	slices.SortStableFunc(row, func(x, y recommend.Neighbor) int { return -cmpF(math.Abs(x.Similarity), math.Abs(y.Similarity)) })
	return row[:min(len(row), n)]
}

// Top scores a history with EASE's signed weights: a negative weight
// counts against an item, an item whose sum is not positive is no
// candidate, and popularity fills the places left (TestItemItemTopMatches
// Definition for the positive similarities of item-item).
func TestEASETopCountsNegativeWeights(t *testing.T) {
	w := recommendtest.Generate(recommendtest.Options{Seed: 11, Items: 50, Shoppers: 400})
	c := recommend.CountCooccurrence(w.Interactions, recommend.CountOptions{})
	var ids []string
	for it := range w.Catalog.All() {
		if c.Item(it.ID) > 0 {
			ids = append(ids, it.ID)
		}
	}
	slices.SortStableFunc(ids, func(a, b string) int { return -cmpF(c.Item(a), c.Item(b)) })
	const neighbors = 8
	m, err := recommend.TrainEASE(w.Catalog, c, recommend.EASEConfig{Items: len(ids), Neighbors: neighbors, Lambda: 0.2})
	require.NoError(t, err)
	var mean float64
	for _, id := range ids {
		mean += c.Item(id)
	}
	b := easeByHand(c, ids, 0.2*mean/float64(len(ids)))
	rows := map[string][]recommend.Neighbor{}
	for i, id := range ids {
		rows[id] = signedRow(b[i], ids, neighbors)
	}
	catPos := map[string]int{}
	for i, it := range w.Items {
		catPos[it.ID] = i
	}
	var negativeSums int
	for _, s := range w.Shoppers[:60] {
		var hist []string
		for _, e := range s.History {
			if !slices.Contains(hist, e.Item) {
				hist = append(hist, e.Item)
			}
		}
		sum := map[string]float64{}
		for _, h := range hist {
			for _, x := range rows[h] {
				if !slices.Contains(hist, x.Item) {
					sum[x.Item] += x.Similarity
				}
			}
		}
		var want []recommend.Scored
		for id, v := range sum {
			if v > 0 {
				want = append(want, recommend.Scored{Item: id, Score: v})
			} else {
				negativeSums++
			}
		}
		slices.SortFunc(want, func(a, b recommend.Scored) int {
			if a.Score != b.Score {
				return -cmpF(a.Score, b.Score)
			}
			return catPos[a.Item] - catPos[b.Item]
		})
		got := m.Top(hist, len(want), nil)
		require.Len(t, got, len(want), s.ID)
		for n := range want {
			assert.Equal(t, want[n].Item, got[n].Item, "%s place %d", s.ID, n)
			assert.InDelta(t, want[n].Score, got[n].Score, 1e-4*(1+want[n].Score), "%s place %d", s.ID, n)
		}
		// Past the candidates, popularity: never a history item, never an
		// item twice, and the list is full.
		all := m.Top(hist, len(ids), nil)
		require.Len(t, all, len(ids)-len(hist), s.ID)
		seen := map[string]bool{}
		for _, x := range all {
			require.False(t, seen[x.Item] || slices.Contains(hist, x.Item), "%s: %s twice or from the history", s.ID, x.Item)
			seen[x.Item] = true
		}
	}
	assert.Positive(t, negativeSums, "some items were spoken against")
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// EASE trains from a noisy release as from exact counts: its λ grows with
// the noise, so the matrix stays positive definite, and a person's items
// still lead to related ones.
func TestEASEFromNoisyCounts(t *testing.T) {
	w := recommendtest.Generate(recommendtest.Options{Seed: 6, Items: 60, Shoppers: 400})
	exact := recommend.CountCooccurrence(w.Interactions, recommend.CountOptions{})
	r := rand.New(rand.NewPCG(1, 1))
	f := fakeRelease{items: map[string]float64{}, pairs: map[[2]string]float64{}, persons: exact.Persons(), sigma: 3}
	for it := range w.Catalog.All() {
		f.items[it.ID] = exact.Item(it.ID) + r.NormFloat64()*3
	}
	var all []string
	for it := range w.Catalog.All() {
		all = append(all, it.ID)
	}
	for i, a := range all {
		for _, b := range all[i+1:] {
			f.pairs[[2]string{a, b}] = exact.Pair(a, b) + r.NormFloat64()*3
		}
	}
	noisy, err := recommend.CountsFromRelease(f, recommend.ReleaseOptions{})
	require.NoError(t, err)
	m, err := recommend.TrainEASE(w.Catalog, noisy, recommend.EASEConfig{Items: 60, Lambda: 0.01})
	require.NoError(t, err, "a tiny λ still inverts: the noise term keeps the matrix positive definite")
	top := m.Top(all[:3], 5, nil)
	assert.NotEmpty(t, top)

	// Without the noise term, a tiny λ on noisy counts fails cleanly.
	var b recommend.CountsBuilder
	require.NoError(t, b.AddItem("a", 1))
	require.NoError(t, b.AddItem("b", 1))
	require.NoError(t, b.AddPair("a", "b", 50))
	cat, err := recommend.NewCatalog([]recommend.Item{{ID: "a"}, {ID: "b"}})
	require.NoError(t, err)
	_, err = recommend.TrainEASE(cat, b.Build(), recommend.EASEConfig{Lambda: 1e-6})
	require.True(t, errors.Is(err, recommend.ErrNotPositiveDefinite), "%v", err)
}

func TestEASEConfigErrors(t *testing.T) {
	w := recommendtest.Generate(recommendtest.Options{Seed: 5, Items: 20, Shoppers: 50})
	c := recommend.CountCooccurrence(w.Interactions, recommend.CountOptions{})
	for _, cfg := range []recommend.EASEConfig{
		{Items: -1}, {Items: recommend.MaxEASEItems + 1}, {Lambda: -1}, {Lambda: math.NaN()}, {Lambda: math.Inf(1)},
		{Neighbors: -1}, {Neighbors: 1001}, {Tail: recommend.ItemItemConfig{Neighbors: -3}},
		{PopularityDamping: -0.1}, {PopularityDamping: 1.5}, {PopularityDamping: math.NaN()}, {PopularityDamping: math.Inf(1)},
	} {
		_, err := recommend.TrainEASE(w.Catalog, c, cfg)
		require.ErrorIs(t, err, recommend.ErrInvalidConfig, fmt.Sprintf("%+v", cfg))
	}
	_, err := recommend.TrainEASE(nil, c, recommend.EASEConfig{})
	require.ErrorIs(t, err, recommend.ErrNilModel)
	_, err = recommend.TrainEASE(w.Catalog, nil, recommend.EASEConfig{})
	require.ErrorIs(t, err, recommend.ErrNilModel)
	// One item only: the tail's model (nothing to invert).
	var b recommend.CountsBuilder
	require.NoError(t, b.AddItem(w.Items[0].ID, 3))
	m, err := recommend.TrainEASE(w.Catalog, b.Build(), recommend.EASEConfig{})
	require.NoError(t, err)
	assert.Empty(t, m.Neighbors(w.Items[0].ID))
	// Workers change nothing but the speed.
	m1, err := recommend.TrainEASE(w.Catalog, c, recommend.EASEConfig{Workers: 1})
	require.NoError(t, err)
	m3, err := recommend.TrainEASE(w.Catalog, c, recommend.EASEConfig{Workers: 3})
	require.NoError(t, err)
	for it := range w.Catalog.All() {
		require.Equal(t, m1.Neighbors(it.ID), m3.Neighbors(it.ID))
	}
}

// A release names pairs among its most counted items only (public pairs,
// dp.CooccurrenceParams.PairItems): EASE covers those, however large
// Items, so that items with no pair neither cost time nor inflate the
// noise term of λ, which grows with the number of items covered.
func TestEASECoversTheItemsPairsName(t *testing.T) {
	w := recommendtest.Generate(recommendtest.Options{Seed: 9, Items: 120, Shoppers: 500})
	exact := recommend.CountCooccurrence(w.Interactions, recommend.CountOptions{})
	r := rand.New(rand.NewPCG(2, 2))
	f := fakeRelease{items: map[string]float64{}, pairs: map[[2]string]float64{}, persons: exact.Persons(), sigma: 1}
	var all []string
	for it := range w.Catalog.All() {
		all = append(all, it.ID)
		f.items[it.ID] = exact.Item(it.ID) + r.NormFloat64()
	}
	slices.SortStableFunc(all, func(a, b string) int { return -cmpF(f.items[a], f.items[b]) })
	cands := all[:30] // the pairs among the 30 most counted
	for i, a := range cands {
		for _, b := range cands[i+1:] {
			f.pairs[[2]string{a, b}] = exact.Pair(a, b) + r.NormFloat64()
		}
	}
	noisy, err := recommend.CountsFromRelease(f, recommend.ReleaseOptions{})
	require.NoError(t, err)
	wide, err := recommend.TrainEASE(w.Catalog, noisy, recommend.EASEConfig{Items: 100, Lambda: 1})
	require.NoError(t, err)
	just, err := recommend.TrainEASE(w.Catalog, noisy, recommend.EASEConfig{Items: 30, Lambda: 1})
	require.NoError(t, err)
	for _, id := range all {
		require.Equal(t, just.Neighbors(id), wide.Neighbors(id), id)
	}
	assert.NotEmpty(t, wide.Neighbors(cands[0]))
}
