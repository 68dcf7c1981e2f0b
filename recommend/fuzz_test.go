package recommend_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
)

// FuzzRecommend feeds arbitrary request fields: the recommender never
// panics, fails only with ErrInvalidRequest, and respects K and warm-up.
func FuzzRecommend(f *testing.F) {
	f.Add(3, "road-shoes", "running-shoes", "marathon gels", "fr", int64(600), true)
	f.Add(0, "", "", "", "", int64(0), false)
	f.Add(-1, "\x00", "💥", "   ", "x", int64(-5), true)
	f.Add(101, "vitamins", "pharmacy", "prenatal", "", int64(1), true)
	r, consents, store := shop()
	consents.Allow("fuzz", consent.PurposePersonalize)
	_ = store.AddEvents(ctx, "fuzz", recommend.Event{Item: "trail-shoes", At: now.AddDate(0, -1, 0)}, recommend.Event{Item: "vitamins", At: now})
	_ = store.AddFeedback(ctx, "fuzz", recommend.Feedback{Item: "kettle", Kind: recommend.NotInterested})
	f.Fuzz(func(t *testing.T, k int, item, category, query, segment string, visitSeconds int64, known bool) {
		req := recommend.Request{
			Subject: "fuzz", At: now, K: k, VisitStart: now.Add(-time.Duration(visitSeconds) * time.Second),
			Relationship: recommend.Relationship{Known: known, Visits: 9, Orders: 9, FirstSeen: now.AddDate(-1, 0, 0)},
			Context:      recommend.Context{Item: item, Category: category, Query: query, Segment: segment},
			Shown:        map[string]int{item: k},
		}
		resp, err := r.Recommend(ctx, req)
		if err != nil {
			if !errors.Is(err, recommend.ErrInvalidRequest) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(resp.Items) > k {
			t.Fatalf("%d items for k=%d", len(resp.Items), k)
		}
		for _, it := range resp.Items {
			if resp.WarmUp && it.Item.Promotional {
				t.Fatalf("promotional item during warm-up")
			}
			if it.Item.Sensitive {
				t.Fatalf("sensitive item without a declared interest")
			}
			if math.IsNaN(it.Score) {
				t.Fatal("NaN score")
			}
		}
	})
}

// FuzzCounts feeds arbitrary (noisy) counts: building never panics and
// similarities stay in [0, 1].
func FuzzCounts(f *testing.F) {
	f.Add("a", "b", 3.0, 2.0, 5.0, 10.0)
	f.Add("a", "a", -1.0, math.NaN(), math.Inf(1), 0.0)
	f.Add("", "b", 1e300, -1e300, 0.5, -3.0)
	cat, _ := recommend.NewCatalog(items("a", "b", "c"))
	f.Fuzz(func(t *testing.T, x, y string, nx, ny, nxy, persons float64) {
		var b recommend.CountsBuilder
		_ = b.SetPersons(persons)
		_ = b.AddItem(x, nx)
		_ = b.AddItem(y, ny)
		_ = b.AddPair(x, y, nxy)
		_ = b.AddPair(x, "c", nxy/2)
		c := b.Build()
		for _, sim := range []recommend.Similarity{recommend.Cosine, recommend.Jaccard, recommend.Lift} {
			m, err := recommend.NewItemItem(cat, c, recommend.ItemItemConfig{Similarity: sim, Shrink: 1})
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"a", "b", "c", x, y} {
				for _, n := range m.Neighbors(id) {
					if !(n.Similarity > 0 && n.Similarity <= 1) {
						t.Fatalf("%s similarity %v for %q-%q", sim, n.Similarity, id, n.Item)
					}
				}
			}
		}
	})
}
