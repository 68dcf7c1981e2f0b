package recommend_test

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/recommendtest"
)

// longHistoryShop is a catalog of MaxSeeds+100 old and MaxSeeds+50 new
// items, and x and y that co-occur with every old and every new item: a
// person who bought all of them, the old ones two years ago, would be led
// to x by their (more numerous) old purchases and to y by their recent
// ones. old-0, the oldest purchase, and old-1, replenishable, are
// neighbours of every new item too.
const (
	nOld = recommend.MaxSeeds + 100
	nNew = recommend.MaxSeeds + 50
)

func longHistoryShop(t *testing.T) (*recommend.Recommender, *recommendtest.Consents, *recommend.MemoryStore) {
	t.Helper()
	var its []recommend.Item
	var b recommend.CountsBuilder
	require.NoError(t, b.SetPersons(10_000))
	for _, n := range []struct {
		prefix string
		n      int
		to     string
	}{{"old", nOld, "x"}, {"new", nNew, "y"}} {
		for i := range n.n {
			id := fmt.Sprintf("%s-%d", n.prefix, i)
			its = append(its, recommend.Item{ID: id, Title: fmt.Sprintf("%s thing %d", n.prefix, i), Replenishable: id == "old-1"})
			require.NoError(t, b.AddItem(id, 100))
			require.NoError(t, b.AddPair(id, n.to, 10))
			if n.prefix == "new" {
				require.NoError(t, b.AddPair(id, "old-0", 10))
				require.NoError(t, b.AddPair(id, "old-1", 10))
			}
		}
	}
	its = append(its, recommend.Item{ID: "x", Title: "X"}, recommend.Item{ID: "y", Title: "Y"})
	require.NoError(t, b.AddItem("x", 2000))
	require.NoError(t, b.AddItem("y", 2000))
	cat, err := recommend.NewCatalog(its)
	require.NoError(t, err)
	ii, err := recommend.NewItemItem(cat, b.Build(), recommend.ItemItemConfig{})
	require.NoError(t, err)
	m, err := recommend.NewModel(cat, nil, ii)
	require.NoError(t, err)
	c := recommendtest.NewConsents()
	store := new(recommend.MemoryStore)
	r, err := recommend.New(m, c, store, recommend.Config{})
	require.NoError(t, err)
	for i := range nOld { // oldest first: old-0 two years ago
		require.NoError(t, store.AddEvents(ctx, "ada", recommend.Event{Item: fmt.Sprint("old-", i), At: now.AddDate(-2, 0, 0).Add(time.Duration(i) * time.Hour)}))
	}
	for i := range nNew {
		require.NoError(t, store.AddEvents(ctx, "ada", recommend.Event{Item: fmt.Sprint("new-", i), At: now.AddDate(0, 0, -1).Add(time.Duration(i) * time.Minute)}))
	}
	c.Allow("ada", consent.PurposePersonalize)
	return r, c, store
}

// A history longer than MaxSeeds seeds the item-item model with its
// strongest events only (without decay, all purchases weigh the same: the
// most recent): the old purchases, which would outweigh the recent ones,
// lead nowhere.
func TestLongHistorySeedsFromItsStrongestItems(t *testing.T) {
	r, _, _ := longHistoryShop(t)
	resp, err := r.Recommend(ctx, recommend.Request{Subject: "ada", At: now, VisitStart: visit, K: 5, Relationship: established})
	require.NoError(t, err)
	require.NotEmpty(t, resp.Items)
	assert.NotContains(t, titles(resp), "x", "only the old purchases lead to x")
	assert.Contains(t, titles(resp), "y")
	for _, it := range resp.Items {
		for _, why := range it.Reasons {
			if why.Source != recommend.SourceHistory {
				continue
			}
			n, ok := strings.CutPrefix(why.Related, "new-")
			require.True(t, ok, "%s explained by %s, not among the most recent purchases", it.Item.ID, why.Related)
			var k int
			_, _ = fmt.Sscan(n, &k)
			assert.GreaterOrEqual(t, k, nNew-recommend.MaxSeeds, "%s explained by %s, not among the %d most recent", it.Item.ID, why.Related, recommend.MaxSeeds)
		}
	}
}

// What was bought stays out however old the purchase, beyond MaxSeeds too;
// a replenishable item comes back.
func TestLongHistoryLeavesOutEverythingBought(t *testing.T) {
	r, _, _ := longHistoryShop(t)
	resp, err := r.Recommend(ctx, recommend.Request{Subject: "ada", At: now, VisitStart: visit, K: 10, Relationship: established})
	require.NoError(t, err)
	assert.NotContains(t, titles(resp), "old-0", "bought two years ago")
	assert.Contains(t, titles(resp), "old-1", "replenishable")
	assert.Positive(t, resp.Filtered.AlreadyBought)
	for _, id := range titles(resp) {
		assert.True(t, id == "x" || id == "y" || id == "old-1", "%s was bought", id)
	}
}

// seedKey orders a person's events as the documented cap does: by weight
// (a view half a purchase, halved every half-life of age), then most
// recent, then first in the history.
type seedKey struct {
	w    float32
	at   time.Time
	k    int
	item string
	kind recommend.EventKind
}

func stronger(a, b seedKey) int {
	if c := cmp.Compare(b.w, a.w); c != 0 {
		return c
	}
	if c := b.at.Compare(a.at); c != 0 {
		return c
	}
	return cmp.Compare(a.k, b.k)
}

// Over random long histories (repeats, views, unknown ids, sensitive and
// replenishable items, with and without decay): nothing bought is offered
// again unless replenishable, however old the purchase, and every history
// reason names one of the MaxSeeds strongest distinct items, with the kind
// of its strongest event.
func TestPropertyLongHistories(t *testing.T) {
	w := recommendtest.Generate(recommendtest.Options{Seed: 5, Items: 3000, Shoppers: 1000, ItemsPerPerson: 40})
	model := w.Model()
	rng := rand.New(rand.NewPCG(5, 11))
	byID := map[string]recommend.Item{}
	for _, it := range w.Items {
		byID[it.ID] = it
	}
	var cited, outside int
	for n := range 150 {
		c := recommendtest.NewConsents()
		store := new(recommend.MemoryStore)
		var hl time.Duration
		if n%2 == 1 {
			hl = time.Duration(1+rng.IntN(100)) * 24 * time.Hour
		}
		r, err := recommend.New(model, c, store, recommend.Config{HistoryHalfLife: hl, ConfidenceFloor: -1})
		require.NoError(t, err)
		person := fmt.Sprint("p", n)
		c.Allow(person, consent.PurposePersonalize)
		var ev []recommend.Event
		for range recommend.MaxSeeds/2 + rng.IntN(3*recommend.MaxSeeds) {
			e := recommend.Event{Item: w.Items[rng.IntN(len(w.Items))].ID, At: now.Add(-time.Duration(rng.Int64N(int64(3 * 365 * 24 * time.Hour))))}
			switch x := rng.IntN(20); {
			case x < 5:
				e.Kind = recommend.View
			case x == 5:
				e.Item = fmt.Sprint("gone-", rng.IntN(50))
			case x < 8 && len(ev) > 0: // bought again
				e.Item = ev[rng.IntN(len(ev))].Item
			}
			ev = append(ev, e)
		}
		require.NoError(t, store.AddEvents(ctx, person, ev...))
		resp, err := r.Recommend(ctx, recommend.Request{Subject: person, At: now, VisitStart: visit, K: 20, Relationship: established})
		require.NoError(t, err)

		// The expected seeds: each known, non-sensitive item's strongest
		// event; the MaxSeeds strongest of those.
		best := map[string]seedKey{}
		bought := map[string]bool{}
		for k, e := range ev {
			it, ok := byID[e.Item]
			if !ok {
				continue
			}
			if e.Kind == recommend.Purchase {
				bought[e.Item] = true
			}
			if it.Sensitive {
				continue
			}
			wt := 1.0
			if e.Kind == recommend.View {
				wt = 0.5
			}
			if age := now.Sub(e.At); hl > 0 && age > 0 {
				wt *= math.Exp2(-float64(age) / float64(hl))
			}
			key := seedKey{w: float32(wt), at: e.At, k: k, item: e.Item, kind: e.Kind}
			if b, ok := best[e.Item]; !ok || stronger(key, b) < 0 {
				best[e.Item] = key
			}
		}
		keys := make([]seedKey, 0, len(best))
		for _, k := range best {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, stronger)
		seeds := map[string]recommend.EventKind{}
		for _, k := range keys[:min(len(keys), recommend.MaxSeeds)] {
			seeds[k.item] = k.kind
		}
		for _, it := range resp.Items {
			if bought[it.Item.ID] && !it.Item.Replenishable {
				t.Fatalf("case %d: %s was bought", n, it.Item.ID)
			}
			for _, why := range it.Reasons {
				if why.Source != recommend.SourceHistory {
					continue
				}
				cited++
				kind, ok := seeds[why.Related]
				if !ok {
					outside++
					continue
				}
				verb := "bought"
				if kind == recommend.View {
					verb = "viewed"
				}
				if want := "Because you " + verb + " " + byID[why.Related].Title; why.Text != want {
					t.Fatalf("case %d: reason %q, want %q", n, why.Text, want)
				}
			}
		}
	}
	if cited == 0 {
		t.Fatal("weak generator: no history reasons")
	}
	if outside > 0 {
		t.Fatalf("%d of %d history reasons name an item outside the %d strongest", outside, cited, recommend.MaxSeeds)
	}
	t.Logf("%d history reasons", cited)
}
