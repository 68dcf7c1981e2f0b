package recommend_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/recommendtest"
)

// thinCounts are counts in which most items have no neighbour, as in a
// differentially private release that clears few pairs: b, d, a and c
// were counted (e was not, f only negatively, from noise), and only a
// and c form a pair.
func thinCounts(t *testing.T) (*recommend.Catalog, *recommend.Counts) {
	t.Helper()
	cat, err := recommend.NewCatalog(items("a", "b", "c", "d", "e", "f"))
	require.NoError(t, err)
	var b recommend.CountsBuilder
	require.NoError(t, b.SetPersons(20))
	for id, n := range map[string]float64{"a": 5, "b": 9, "c": 2, "d": 7, "f": -3} {
		require.NoError(t, b.AddItem(id, n))
	}
	require.NoError(t, b.AddPair("a", "c", 2))
	return cat, b.Build()
}

// ItemItem.Top backfills: the items the history scores first, then the
// most counted items of the model's counts (score 0), so that a person
// with history never gets an empty list while the counts have items.
func TestItemItemTopBackfills(t *testing.T) {
	cat, c := thinCounts(t)
	ii, err := recommend.NewItemItem(cat, c, recommend.ItemItemConfig{})
	require.NoError(t, err)
	ease, err := recommend.TrainEASE(cat, c, recommend.EASEConfig{})
	require.NoError(t, err)
	for name, m := range map[string]*recommend.ItemItem{"item-item": ii, "EASE": ease} {
		t.Run(name, func(t *testing.T) {
			tests := []struct {
				name    string
				history []string
				k       int
				exclude func(string) bool
				want    []string
				reason  string
			}{
				{"no neighbours", []string{"b"}, 3, nil, []string{"d", "a", "c"}, "b has no neighbour: the most counted items, b left out"},
				{"neighbour first", []string{"a"}, 3, nil, []string{"c", "b", "d"}, "c from a's neighbours, then the most counted"},
				{"excluded", []string{"a"}, 3, func(id string) bool { return id == "b" }, []string{"c", "d"}, "excluded items are never backfilled; a and c are all that is left"},
				{"only counted items", []string{"d"}, 10, nil, []string{"b", "a", "c"}, "e was never counted and f only negatively: no evidence for either"},
				{"unknown history", []string{"zz"}, 2, nil, []string{"b", "d"}, "nothing scored: popularity alone"},
				{"nothing left", []string{"a", "b", "c", "d"}, 3, nil, nil, "every counted item is in the history"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got := m.Top(tt.history, tt.k, tt.exclude)
					var ids []string
					for _, s := range got {
						ids = append(ids, s.Item)
					}
					assert.Equal(t, tt.want, ids, tt.reason)
					for _, s := range got {
						if s.Item != "c" || !slices.Contains(tt.history, "a") {
							assert.Zero(t, s.Score, "%s is backfilled: no item-item score", s.Item)
						}
					}
				})
			}
		})
	}
}

// Over random thin models, Top always returns min(k, the counted items
// that are neither in the history nor excluded) items, each once, the
// scored ones first.
func TestItemItemTopNeverEmptyWhileCountsHaveItems(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 4))
	for trial := 0; trial < 300; trial++ {
		n := 2 + r.IntN(30)
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprint("i", i)
		}
		cat, err := recommend.NewCatalog(items(ids...))
		require.NoError(t, err)
		var b recommend.CountsBuilder
		require.NoError(t, b.SetPersons(100))
		for _, id := range ids {
			if r.IntN(3) > 0 {
				require.NoError(t, b.AddItem(id, r.NormFloat64()*10))
			}
		}
		for range r.IntN(4) { // few pairs: a thin model
			x, y := ids[r.IntN(n)], ids[r.IntN(n)]
			if x != y {
				require.NoError(t, b.AddPair(x, y, r.Float64()*3))
			}
		}
		c := b.Build()
		m, err := recommend.NewItemItem(cat, c, recommend.ItemItemConfig{})
		require.NoError(t, err)
		var hist []string
		for _, id := range ids {
			if r.IntN(4) == 0 {
				hist = append(hist, id)
			}
		}
		excluded := func(id string) bool { return id == ids[0] }
		k := 1 + r.IntN(12)
		got := m.Top(hist, k, excluded)
		// What Top may return: the neighbours of the history and the items
		// counted positive, neither in the history nor excluded.
		avail := map[string]bool{}
		for _, id := range ids {
			if c.Item(id) > 0 {
				avail[id] = true
			}
		}
		for _, h := range hist {
			for _, nb := range m.Neighbors(h) {
				avail[nb.Item] = true
			}
		}
		for id := range avail {
			if slices.Contains(hist, id) || excluded(id) {
				delete(avail, id)
			}
		}
		require.Len(t, got, min(k, len(avail)), "trial %d: k=%d, %d items available", trial, k, len(avail))
		seen := map[string]bool{}
		zero := false
		for _, s := range got {
			require.False(t, seen[s.Item], "trial %d: %s twice", trial, s.Item)
			seen[s.Item] = true
			require.False(t, slices.Contains(hist, s.Item) || excluded(s.Item), "trial %d: %s is in the history or excluded", trial, s.Item)
			if s.Score == 0 {
				zero = true
			} else {
				require.False(t, zero, "trial %d: scored items come before backfilled ones", trial)
			}
		}
	}
}

// thinShop serves a thin model: thinCounts' item-item model, and the
// popularity of the same item counts, to a person who allows everything
// and bought history.
func thinShop(t *testing.T, c *recommend.Counts, cat *recommend.Catalog, ii *recommend.ItemItem, history ...string) (*recommend.Recommender, recommend.Request) {
	t.Helper()
	var counts []recommend.ItemCount
	for it := range cat.All() {
		counts = append(counts, recommend.ItemCount{Item: it.ID, Count: c.Item(it.ID)})
	}
	pop, err := recommend.NewPopularity(cat, counts, nil)
	require.NoError(t, err)
	m, err := recommend.NewModel(cat, pop, ii)
	require.NoError(t, err)
	consents := recommendtest.NewConsents()
	consents.Allow("tia", consent.PurposePersonalize)
	store := new(recommend.MemoryStore)
	for _, id := range history {
		require.NoError(t, store.AddEvents(ctx, "tia", recommend.Event{Item: id, Kind: recommend.Purchase, At: now.AddDate(0, -1, 0)}))
	}
	r, err := recommend.New(m, consents, store, recommend.Config{})
	require.NoError(t, err)
	return r, recommend.Request{Subject: "tia", At: now, VisitStart: visit, K: 3, Relationship: established}
}

// The served path backfills as the plain model does: a person whose items
// have no neighbours gets the most popular items they have not bought,
// however far below the most popular one, as ItemItem.Top gives them; the
// confidence floor holds back weak personal guesses, not popular items.
func TestServedBackfillsLikeTop(t *testing.T) {
	cat, err := recommend.NewCatalog(items("a", "b", "c", "d", "e"))
	require.NoError(t, err)
	var b recommend.CountsBuilder
	require.NoError(t, b.SetPersons(200))
	for id, n := range map[string]float64{"a": 100, "b": 50, "c": 3, "d": 1} {
		require.NoError(t, b.AddItem(id, n))
	}
	c := b.Build()
	ii, err := recommend.NewItemItem(cat, c, recommend.ItemItemConfig{})
	require.NoError(t, err)
	for _, history := range [][]string{{"a"}, {"b"}, {"a", "c"}} {
		r, req := thinShop(t, c, cat, ii, history...)
		resp, err := r.Recommend(ctx, req)
		require.NoError(t, err)
		var want []string
		for _, s := range ii.Top(history, req.K, nil) {
			want = append(want, s.Item)
		}
		assert.Equal(t, want, titles(resp), "history %v: d, at 1%% of a's count, still fills a place", history)
		assert.Zero(t, resp.Filtered.ConfidenceFloor, "history %v", history)
		for _, it := range resp.Items {
			require.Len(t, it.Reasons, 1)
			assert.Equal(t, recommend.SourcePopularity, it.Reasons[0].Source)
		}
	}
}

// A person whose history leads only to weak guesses, and who bought the
// most popular item, still gets a full list (the defaults once gave an
// empty one): the weak guess is held back, the other popular items, far
// less popular than the first, fill the places.
func TestServedNeverEmptyWhilePopularityHasItems(t *testing.T) {
	cat, err := recommend.NewCatalog(items("h", "n", "x1", "x2", "x3", "x4", "p1", "p2", "p3", "p4"))
	require.NoError(t, err)
	var b recommend.CountsBuilder
	require.NoError(t, b.SetPersons(1000))
	for id, n := range map[string]float64{"h": 100, "n": 100, "x1": 10, "x2": 10, "x3": 10, "x4": 10, "p1": 500, "p2": 20, "p3": 15, "p4": 12} {
		require.NoError(t, b.AddItem(id, n))
	}
	// Strong pairs among the x (similarity 1), a weak one between h and n.
	require.NoError(t, b.AddPair("x1", "x2", 10))
	require.NoError(t, b.AddPair("x3", "x4", 10))
	require.NoError(t, b.AddPair("h", "n", 1))
	c := b.Build()
	ii, err := recommend.NewItemItem(cat, c, recommend.ItemItemConfig{})
	require.NoError(t, err)
	r, req := thinShop(t, c, cat, ii, "h", "p1")
	resp, err := r.Recommend(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, []string{"p2", "p3", "p4"}, titles(resp), "n, a weak guess (similarity 0.01), is held back; the popular items not bought fill the list")
	assert.Equal(t, 1, resp.Filtered.ConfidenceFloor)
}

// plainShop is a catalog of n plain items (no flags) and persons who buy
// from one of a few tastes, so that item-item has signal.
func plainShop(t *testing.T, seed uint64, n, persons, perPerson int) (*recommend.Catalog, []recommend.Interaction) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 9))
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("i%04d", i)
	}
	cat, err := recommend.NewCatalog(items(ids...))
	require.NoError(t, err)
	var in []recommend.Interaction
	for p := range persons {
		taste := r.IntN(5)
		for range perPerson {
			i := taste*(n/5) + r.IntN(n/5)
			if r.IntN(5) == 0 {
				i = r.IntN(n)
			}
			in = append(in, recommend.Interaction{Person: fmt.Sprint("p", p), Item: ids[i]})
		}
	}
	return cat, in
}

// A person who allows everything is served what the plain model ranks
// (ItemItem.Top), popular items only breaking ties and filling in, as
// long as the history's neighbour lists fit in the visits of a request
// (MaxSeeds): here 120 purchases with 20 neighbours each. Popularity, at
// 1/4000 of history's weight, breaks near-ties (within 0.1%), and serving
// keeps sums as float32, so near-ties may swap. Before, the defaults
// visited 5 neighbours per item of such a history and blended in
// popularity at a quarter of history's weight.
func TestServedRanksAsTop(t *testing.T) {
	cat, in := plainShop(t, 4, 600, 3000, 12)
	ii, err := recommend.TrainItemItem(cat, in, recommend.CountOptions{}, recommend.ItemItemConfig{Neighbors: 20})
	require.NoError(t, err)
	// EASE's signed weights: an item the history speaks against is no
	// candidate, served or plain.
	ease, err := recommend.TrainEASE(cat, recommend.CountCooccurrence(in, recommend.CountOptions{}), recommend.EASEConfig{Items: cat.Len(), Neighbors: 20})
	require.NoError(t, err)
	for name, ii := range map[string]*recommend.ItemItem{"item-item": ii, "EASE": ease} {
		t.Run(name, func(t *testing.T) {
			swapped, checked := servedRanksAsTop(t, cat, in, ii, 120, 1e-3)
			assert.Less(t, swapped, checked/20, "near-ties are rare")
		})
	}
}

// The same at the bounds of a request: a history of 1,000 items (MaxSeeds)
// whose neighbour lists (60 each) fill the 60,000 neighbour visits. The
// bounds before (500 seeds sharing 30,000 visits) left half of it out.
// Sums of 1,000 seeds are large, where the confidence (sum / (sum +
// scale)) is flat, so popularity breaks ties within 1% of the sum, and
// does so more often.
func TestServedRanksAsTopAtTheBounds(t *testing.T) {
	cat, in := plainShop(t, 6, 3000, 3000, 30)
	ii, err := recommend.TrainItemItem(cat, in, recommend.CountOptions{}, recommend.ItemItemConfig{Neighbors: 60})
	require.NoError(t, err)
	swapped, checked := servedRanksAsTop(t, cat, in, ii, 1000, 1e-2)
	assert.Less(t, swapped, checked/10, "near-ties are few")
}

// servedRanksAsTop checks that persons with hist random purchases are
// served what ii.Top ranks for them, but for rare swaps of items whose
// scores are within tol of each other (relative).
func servedRanksAsTop(t *testing.T, cat *recommend.Catalog, in []recommend.Interaction, ii *recommend.ItemItem, hist int, tol float64) (swapped, checked int) {
	pop, err := recommend.NewPopularity(cat, recommend.CountItems(in, recommend.CountOptions{}), nil)
	require.NoError(t, err)
	m, err := recommend.NewModel(cat, pop, ii)
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(5, 5))
	consents := recommendtest.NewConsents()
	store := new(recommend.MemoryStore)
	rec, err := recommend.New(m, consents, store, recommend.Config{})
	require.NoError(t, err)
	for p := range 30 {
		person := fmt.Sprint("long", p)
		consents.Allow(person, consent.PurposePersonalize)
		var history []string
		for _, i := range r.Perm(cat.Len())[:hist] {
			id := fmt.Sprintf("i%04d", i)
			history = append(history, id)
			require.NoError(t, store.AddEvents(ctx, person, recommend.Event{Item: id, Kind: recommend.Purchase, At: now.AddDate(0, -1, 0)}))
		}
		resp, err := rec.Recommend(ctx, recommend.Request{Subject: person, At: now, VisitStart: visit, K: 10, Relationship: established})
		require.NoError(t, err)
		top := ii.Top(history, 10, nil)
		require.Len(t, resp.Items, len(top))
		score := make(map[string]float64)
		for _, s := range ii.Top(history, cat.Len(), nil) {
			score[s.Item] = s.Score
		}
		for i, it := range resp.Items {
			if it.Item.ID != top[i].Item {
				require.InDelta(t, top[i].Score, score[it.Item.ID], tol*top[i].Score, "%s #%d: served %s, Top %s", person, i, it.Item.ID, top[i].Item)
				swapped++
			}
			checked++
		}
	}
	return swapped, checked
}
