package dp_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/dptest"
	"github.com/tact-go/tact/recommend"
)

// A budget for a period: each release spends from it, the ledger records
// what for, and a release that does not fit is refused.
func ExampleBudget() {
	ctx := context.Background()
	clock := func() time.Time { return time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) }
	budget, err := dp.NewBudget(1, 1e-6, &dp.BudgetOptions{Now: clock})
	if err != nil {
		panic(err)
	}
	fmt.Println(budget.Spend(ctx, "trending this week", 0.5, 5e-7))
	fmt.Println(budget.Spend(ctx, "basket size by region", 0.25, 0))
	err = budget.Spend(ctx, "visits per page", 0.5, 0)
	fmt.Println(errors.Is(err, dp.ErrBudgetExhausted))
	fmt.Println(err)
	for _, s := range budget.Ledger() {
		fmt.Println(s.Time.Format(time.DateOnly), s.Label, s.Epsilon, s.Delta)
	}
	eps, delta := budget.Remaining()
	fmt.Println("remaining:", eps, delta)
	// Output:
	// <nil>
	// <nil>
	// true
	// dp: privacy budget exhausted: "visits per page" asked ε=0.5 δ=0, remaining ε=0.25 δ=5e-07
	// 2026-03-01 trending this week 0.5 5e-07
	// 2026-03-01 basket size by region 0.25 0
	// remaining: 0.25 5e-07
}

// Counting visitors per page with private partition selection: pages with
// few visitors are not released at all.
func ExampleCounter() {
	ctx := context.Background()
	budget, _ := dp.NewBudget(1, 1e-6, nil)
	visits, err := dp.NewCounter(dp.Params{
		Epsilon: 1, Delta: 1e-6,
		MaxPartitions:    1, // each person counts on one page (chosen at random)...
		MaxContributions: 1, // ...once
	})
	if err != nil {
		panic(err)
	}
	pages := map[string]int{"/home": 20000, "/shoes": 10000, "/hats": 5000, "/my-secret-page": 1}
	for page, n := range pages {
		for i := 0; i < n; i++ {
			visits.Add(page+"-visitor-"+strconv.Itoa(i), page)
		}
	}
	res, err := visits.Release(ctx, budget)
	if err != nil {
		panic(err)
	}
	for _, p := range res.Partitions() {
		// Noisy counts: print them rounded to the thousand.
		fmt.Printf("%s: about %.0f visitors\n", p.Key, math.Round(float64(p.Count.Value)/1000)*1000)
	}
	fmt.Println(res.Private(), res.Epsilon(), res.Delta())
	// Output:
	// /hats: about 5000 visitors
	// /home: about 20000 visitors
	// /shoes: about 10000 visitors
	// true 1 1e-06
}

// Mean basket value per region over public partitions, with the confidence
// interval of each mean.
func ExampleNewAggregation() {
	ctx := context.Background()
	budget, _ := dp.NewBudget(1, 0, nil)
	baskets, err := dp.NewAggregation(dp.Params{
		Epsilon: 1, MaxPartitions: 1, MaxContributions: 2,
		Partitions: []string{"north", "south", "east"},
	}, dp.Spec[float64]{Metrics: dp.Count | dp.Mean, Lower: 0, Upper: 200})
	if err != nil {
		panic(err)
	}
	for i := 0; i < 50000; i++ {
		baskets.Add("n"+strconv.Itoa(i), "north", 40)
		baskets.Add("s"+strconv.Itoa(i), "south", 80)
		baskets.Add("s"+strconv.Itoa(i), "south", 1e9) // clamped to 200
	}
	res, err := baskets.Release(ctx, budget)
	if err != nil {
		panic(err)
	}
	for _, p := range res.Partitions() {
		if p.Count.Upper < 100 {
			fmt.Printf("%s: too few baskets to say\n", p.Key)
			continue
		}
		fmt.Printf("%s: mean %.0f (95%% interval %.0f to %.0f)\n", p.Key, p.Mean.Value, p.Mean.Lower, p.Mean.Upper)
	}
	// Output:
	// east: too few baskets to say
	// north: mean 40 (95% interval 40 to 40)
	// south: mean 140 (95% interval 140 to 140)
}

// What is trending per segment, for visitors the service knows nothing
// about.
func ExampleTopK() {
	ctx := context.Background()
	budget, _ := dp.NewBudget(1, 1e-6, nil)
	trending, err := dp.NewTopK(2, dp.Params{Epsilon: 1, Delta: 1e-6, MaxPartitions: 4})
	if err != nil {
		panic(err)
	}
	for i := 0; i < 3000; i++ {
		person := "visitor-" + strconv.Itoa(i)
		trending.Add(person, "new", "sneakers")
		if i < 2000 {
			trending.Add(person, "new", "socks")
		}
		if i < 1000 {
			trending.Add(person, "new", "laces")
			trending.Add(person, "returning", "boots")
		}
	}
	res, err := trending.Release(ctx, budget)
	if err != nil {
		panic(err)
	}
	for _, seg := range res.Segments() {
		for _, it := range res.Top(seg) {
			fmt.Printf("%s: %s (about %.0f people)\n", seg, it.Item, math.Round(float64(it.Count)/100)*100)
		}
	}
	// Output:
	// new: sneakers (about 3000 people)
	// new: socks (about 2000 people)
	// returning: boots (about 1000 people)
}

// Item and item-pair counts for training an item-item recommender: only
// pairs above the noise floor are released.
func ExampleCooccurrence() {
	ctx := context.Background()
	budget, _ := dp.NewBudget(1, 1e-6, nil)
	co, err := dp.NewCooccurrence(dp.CooccurrenceParams{
		Epsilon: 1, Delta: 1e-6, MaxItems: 3, MaxPairs: 3, Noise: dp.Gaussian,
	})
	if err != nil {
		panic(err)
	}
	for i := 0; i < 4000; i++ {
		person := "shopper-" + strconv.Itoa(i)
		co.Add(person, "coffee")
		co.Add(person, "mug")
		if i < 2000 {
			co.Add(person, "filter")
		}
		co.Add(person, "rare-"+strconv.Itoa(i)) // a pair seen once never shows
	}
	res, err := co.Release(ctx, budget)
	if err != nil {
		panic(err)
	}
	for _, p := range res.Pairs {
		fmt.Printf("%s+%s: about %.0f\n", p.A, p.B, math.Round(float64(p.Count)/1000)*1000)
	}
	// Output:
	// coffee+filter: about 1000
	// coffee+mug: about 3000
	// filter+mug: about 1000
}

// On a small data set, thresholds would drop every pair: release the pairs
// among the most counted catalog items as public partitions instead, and
// weight each shopper so that one with many items counts less in each pair.
func ExampleCooccurrence_publicPairs() {
	ctx := context.Background()
	budget, _ := dp.NewBudget(1, 1e-5, nil)
	co, err := dp.NewCooccurrence(dp.CooccurrenceParams{
		Epsilon: 1, Delta: 1e-5, MaxItems: 50, MaxPairs: 1000, Noise: dp.Gaussian,
		Items:     []string{"coffee", "filter", "mug", "spoon"}, // public catalog
		PairItems: 3,                                            // pairs among the 3 most counted items
		Weighted:  true,
	})
	if err != nil {
		panic(err)
	}
	for i := 0; i < 3732; i++ {
		person := "shopper-" + strconv.Itoa(i)
		co.Add(person, "coffee")
		co.Add(person, "mug")
		if i < 1732 {
			co.Add(person, "filter") // 3 pairs: each weighs 1/√3
		}
	}
	res, err := co.Release(ctx, budget) // spends (1, 1e-5)
	if err != nil {
		panic(err)
	}
	for _, p := range res.Pairs {
		fmt.Printf("%s+%s: about %.0f\n", p.A, p.B, math.Round(p.Count/100)*100)
	}
	fmt.Printf("noise σ of a pair: %.0f\n", res.PairNoise.StdDev())
	// Output:
	// coffee+filter: about 1000
	// coffee+mug: about 3000
	// filter+mug: about 1000
	// noise σ of a pair: 5
}

// A release with public pairs trains a recommender, as post-processing
// that costs no privacy: recommend reads the release (CountsFromRelease;
// Denoise keeps what of the pair counts stands out of the noise) and
// trains EASE on it. recommend declares the interface the release
// satisfies, so a service that only serves the model links neither dp nor
// Google's library.
func ExampleCooccurrence_train() {
	ctx := context.Background()
	budget, _ := dp.NewBudget(1, 1e-5, nil)
	catalog := []string{"coffee", "filter", "mug", "tea", "teapot", "strainer"}
	co, err := dp.NewCooccurrence(dp.CooccurrenceParams{
		Epsilon: 1, Delta: 1e-5, MaxItems: 50, MaxPairs: 1000, Noise: dp.Gaussian,
		Items: catalog, PairItems: len(catalog), Weighted: true,
	})
	if err != nil {
		panic(err)
	}
	for i := 0; i < 4000; i++ {
		person := "shopper-" + strconv.Itoa(i)
		basket := []string{"coffee", "filter", "mug"} // half the coffee drinkers buy a mug
		if i%2 == 1 {
			basket = []string{"tea", "teapot", "strainer"}
		}
		if i%4 > 1 {
			basket = basket[:2]
		}
		for _, item := range basket {
			co.Add(person, item)
		}
	}
	res, err := co.Release(ctx, budget) // spends (1, 1e-5)
	if err != nil {
		panic(err)
	}
	counts, err := recommend.CountsFromRelease(res, recommend.ReleaseOptions{Denoise: true})
	if err != nil {
		panic(err)
	}
	var items []recommend.Item
	for _, id := range catalog {
		items = append(items, recommend.Item{ID: id})
	}
	cat, err := recommend.NewCatalog(items)
	if err != nil {
		panic(err)
	}
	model, err := recommend.TrainEASE(cat, counts, recommend.EASEConfig{})
	if err != nil {
		panic(err)
	}
	for _, s := range model.Top([]string{"coffee"}, 2, nil) {
		fmt.Println(s.Item)
	}
	// Output:
	// filter
	// mug
}

// Items may carry weights, such as ratings, quantities or a time decay:
// each shopper's pairs then count in proportion to the products of the
// weights, still scaled to norm 1 per shopper, so the noise is the same.
func ExampleCooccurrence_AddWeighted() {
	ctx := context.Background()
	budget, _ := dp.NewBudget(1, 1e-5, nil)
	co, err := dp.NewCooccurrence(dp.CooccurrenceParams{
		Epsilon: 1, Delta: 1e-5, MaxItems: 50, MaxPairs: 1000, Noise: dp.Gaussian,
		Items: []string{"coffee", "filter", "mug", "spoon"}, PairItems: 3, Weighted: true,
	})
	if err != nil {
		panic(err)
	}
	for i := 0; i < 1300; i++ {
		person := "shopper-" + strconv.Itoa(i)
		co.AddWeighted(person, "coffee", 3) // rated 3 stars
		co.AddWeighted(person, "filter", 1)
		co.AddWeighted(person, "mug", 1)
	}
	// Each shopper's pairs weigh 3·1, 3·1 and 1·1, scaled to norm 1:
	// 3/√19, 3/√19 and 1/√19.
	res, err := co.Release(ctx, budget) // spends (1, 1e-5)
	if err != nil {
		panic(err)
	}
	for _, p := range res.Pairs {
		fmt.Printf("%s+%s: about %.0f\n", p.A, p.B, math.Round(p.Count/100)*100)
	}
	// Output:
	// coffee+filter: about 900
	// coffee+mug: about 900
	// filter+mug: about 300
}

// Unit tests of code that consumes releases use a deterministic noise
// source: values are exact, and the result says it is not private.
func Example_dptest() {
	ctx := context.Background()
	budget, _ := dp.NewBudget(1, 1e-6, nil)
	visits, _ := dp.NewCounter(dp.Params{
		Epsilon: 1, Delta: 1e-6, MaxPartitions: 2, MaxContributions: 1,
		NoiseSource: dptest.Noise{},
	})
	visits.Add("alice", "/home")
	visits.Add("alice", "/home") // L∞ = 1: counted once
	visits.Add("bob", "/home")
	visits.Add("bob", "/shoes")
	res, _ := visits.Release(ctx, budget)
	for _, p := range res.Partitions() {
		fmt.Println(p.Key, p.Count.Value)
	}
	fmt.Println(res.Private())
	fmt.Println(res)
	// Output:
	// /home 2
	// /shoes 1
	// false
	// "dp release": count for 2 privately selected partitions, ε=1 δ=1e-06, NOT PRIVATE: built with a test noise source
}

// Sharded accumulation: shards decode the origin's empty state, add their
// records, and the origin merges them and releases once.
func ExampleAggregation_Merge() {
	ctx := context.Background()
	origin, _ := dp.NewAggregation(dp.Params{
		Epsilon: 1, MaxPartitions: 1, MaxContributions: 1,
		Partitions: []string{"a", "b"}, NoiseSource: dptest.Noise{},
	}, dp.Spec[int64]{Metrics: dp.Sum, Lower: 0, Upper: 10})
	empty, _ := origin.MarshalBinary() // sent to every shard

	var encoded [][]byte
	for shard := 0; shard < 3; shard++ {
		var s dp.Aggregation[int64]
		if err := s.UnmarshalBinary(empty); err != nil {
			panic(err)
		}
		for i := 0; i < 10; i++ {
			s.Add(fmt.Sprintf("person-%d-%d", shard, i), "a", 1)
		}
		data, _ := s.MarshalBinary()
		encoded = append(encoded, data) // sent back
	}
	for _, data := range encoded {
		var s dp.Aggregation[int64]
		if err := s.UnmarshalBinary(data); err != nil {
			panic(err)
		}
		if err := origin.Merge(&s); err != nil {
			panic(err)
		}
	}
	budget, _ := dp.NewBudget(1, 0, nil)
	res, _ := origin.Release(ctx, budget)
	for _, p := range res.Partitions() {
		fmt.Println(p.Key, p.Sum.Value)
	}
	// Output:
	// a 30
	// b 0
}
