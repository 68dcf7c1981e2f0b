package dp_test

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/tact-go/tact/dp"
)

// The co-occurrence job the recommender trains on: 100,000 persons,
// 1,000,000 interactions over 10,000 items with Zipf popularity.

type interaction struct{ person, item string }

var (
	coocOnce sync.Once
	coocData []interaction
)

func coocJob() []interaction {
	coocOnce.Do(func() {
		r := rand.New(rand.NewPCG(8, 9))
		const persons, items, n = 100_000, 10_000, 1_000_000
		zipf := rand.NewZipf(r, 1.05, 2, items-1)
		ps := make([]string, persons)
		for i := range ps {
			ps[i] = "user-" + strconv.Itoa(i)
		}
		is := make([]string, items)
		for i := range is {
			is[i] = "sku-" + strconv.Itoa(i)
		}
		coocData = make([]interaction, n)
		for i := range coocData {
			coocData[i] = interaction{ps[r.IntN(persons)], is[zipf.Uint64()]}
		}
	})
	return coocData
}

func BenchmarkCooccurrence(b *testing.B) {
	data := coocJob()
	b.ReportAllocs()
	b.ResetTimer()
	var pairs, items int
	var pairThreshold int64
	for i := 0; i < b.N; i++ {
		budget, _ := dp.NewBudget(1, 1e-5, nil)
		c, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-5,
			MaxItems: 20, MaxPairs: 40, Noise: dp.Gaussian})
		if err != nil {
			b.Fatal(err)
		}
		for _, x := range data {
			c.Add(x.person, x.item)
		}
		res, err := c.Release(ctx, budget)
		if err != nil {
			b.Fatal(err)
		}
		pairs, items, pairThreshold = len(res.Pairs), len(res.Items), res.PairThreshold
	}
	b.ReportMetric(float64(len(data))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(pairs), "pairs")
	b.ReportMetric(float64(items), "items")
	b.ReportMetric(float64(pairThreshold), "pair-threshold")
}

// The same job with the 10,000-item catalog public, pairs released among
// the 200 most counted items without threshold, and weighted persons: the
// mode for data sets too small for thresholds. The noise draws (10,000
// items and 19,900 pairs) dominate the release.
func BenchmarkCooccurrencePublicPairs(b *testing.B) {
	data := coocJob()
	catalog := make([]string, 10_000)
	for i := range catalog {
		catalog[i] = "sku-" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var pairs int
	for i := 0; i < b.N; i++ {
		budget, _ := dp.NewBudget(1, 1e-5, nil)
		c, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-5,
			MaxItems: 100, MaxPairs: 1000, Noise: dp.Gaussian,
			Items: catalog, PairItems: 200, Weighted: true})
		if err != nil {
			b.Fatal(err)
		}
		for _, x := range data {
			c.Add(x.person, x.item)
		}
		res, err := c.Release(ctx, budget)
		if err != nil {
			b.Fatal(err)
		}
		pairs = len(res.Pairs)
	}
	b.ReportMetric(float64(len(data))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(pairs), "pairs")
}

// The public-pairs job with a weight per interaction (AddWeighted), beside
// BenchmarkCooccurrencePublicPairs: weights cost a max per record and the
// normalization of each person's items and pairs at release.
func BenchmarkCooccurrenceWeights(b *testing.B) {
	data := coocJob()
	catalog := make([]string, 10_000)
	for i := range catalog {
		catalog[i] = "sku-" + strconv.Itoa(i)
	}
	weights := make([]float64, len(data))
	r := rand.New(rand.NewPCG(10, 11))
	for i := range weights {
		weights[i] = 1 + 4*r.Float64()
	}
	b.ReportAllocs()
	b.ResetTimer()
	var pairs int
	for i := 0; i < b.N; i++ {
		budget, _ := dp.NewBudget(1, 1e-5, nil)
		c, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-5,
			MaxItems: 100, MaxPairs: 1000, Noise: dp.Gaussian,
			Items: catalog, PairItems: 200, Weighted: true})
		if err != nil {
			b.Fatal(err)
		}
		for j, x := range data {
			c.AddWeighted(x.person, x.item, weights[j])
		}
		res, err := c.Release(ctx, budget)
		if err != nil {
			b.Fatal(err)
		}
		pairs = len(res.Pairs)
	}
	b.ReportMetric(float64(len(data))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(pairs), "pairs")
}
