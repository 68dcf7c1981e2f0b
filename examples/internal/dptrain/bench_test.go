package dptrain_test

import (
	"sync"
	"testing"

	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/examples/internal/dptrain"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/recommendtest"
)

// A store the size of the Online Retail training data: 4,000 items, 4,000
// shoppers, about 200,000 interactions.
var (
	benchOnce  sync.Once
	benchWorld *recommendtest.World
	benchIDs   []string
)

func benchStore() (*recommendtest.World, []string) {
	benchOnce.Do(func() {
		benchWorld = recommendtest.Generate(recommendtest.Options{Seed: 5, Items: 4000, Shoppers: 4000, ItemsPerPerson: 50})
		for _, it := range benchWorld.Items {
			benchIDs = append(benchIDs, it.ID)
		}
	})
	return benchWorld, benchIDs
}

// BenchmarkTrainDP trains the item-item model on DP counts: bounding,
// release (noise for 4,000 items and 19,900 pairs), conversion, model.
func BenchmarkTrainDP(b *testing.B) {
	w, ids := benchStore()
	o := recommend.CountOptions{Seed: 1}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		budget, _ := dp.NewBudget(1, 1e-5, nil)
		counts, res, err := dptrain.Counts(ctx, budget, dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-5, Noise: dp.Gaussian,
			MaxItems: recommend.DefaultMaxItemsPerPerson, MaxPairs: 200 * 199 / 2,
			Items: ids, PairItems: 200, Weighted: true, Split: [3]float64{0.01, 0.3, 0.69}},
			recommend.PersonItems(w.Interactions, o), dptrain.Options{Rank: 10})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := recommend.NewItemItem(w.Catalog, counts, recommend.ItemItemConfig{Shrink: 3 * res.PairNoise.StdDev()}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(w.Interactions)), "interactions")
}

// BenchmarkTrainExact is the baseline: exact counts, same model.
func BenchmarkTrainExact(b *testing.B) {
	w, _ := benchStore()
	o := recommend.CountOptions{Seed: 1}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := recommend.TrainItemItem(w.Catalog, w.Interactions, o, recommend.ItemItemConfig{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(w.Interactions)), "interactions")
}
