package eval_test

import (
	"fmt"
	"os"

	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/eval"
)

// exampleWorld is a shop of six items in two departments and eight
// persons in two countries.
func exampleWorld() (eval.Split, *recommend.Catalog, map[string]string) {
	cat, _ := recommend.NewCatalog([]recommend.Item{
		{ID: "tea", Category: "drinks"}, {ID: "coffee", Category: "drinks"}, {ID: "juice", Category: "drinks"},
		{ID: "bread", Category: "bakery"}, {ID: "cake", Category: "bakery"}, {ID: "bun", Category: "bakery"},
	})
	s := eval.Split{Test: map[string][]string{}}
	country := map[string]string{}
	for i, p := range []string{"ann", "bob", "cem", "dan", "eva", "fay", "gus", "hal"} {
		s.Train = append(s.Train, recommend.Interaction{Person: p, Item: "tea"})
		if i%2 == 0 {
			s.Train = append(s.Train, recommend.Interaction{Person: p, Item: "bread"})
			s.Test[p] = []string{"coffee"}
			country[p] = "DE"
		} else {
			s.Test[p] = []string{"cake"}
			country[p] = "FR"
		}
	}
	return s, cat, country
}

// A bias audit of a ranker that recommends coffee, then juice, to
// everyone: per country, the German customers (who want coffee) are served
// well and the French (who want cake) not at all, and the bakery gets no
// exposure although it is half the catalog.
func ExampleAudit() {
	s, cat, country := exampleWorld()
	rank := func(person string, history []string, k int) []string { return []string{"coffee", "juice"} }
	r, err := eval.Audit(s, 2, cat, rank, eval.AuditOptions{
		MinSegment:    3,
		Segmentations: []eval.Segmentation{{Name: "country", Of: func(p string) string { return country[p] }}},
		Groupings: []eval.Grouping{{Name: "department", Of: func(id string) string {
			it, _ := cat.Lookup(id)
			return it.Category
		}}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	seg := r.Segmentations[0]
	fmt.Printf("nDCG@2: all %.2f, best %s, worst %s, gap %.2f\n", r.All.NDCG, seg.Best, seg.Worst, seg.NDCGGap)
	for _, g := range r.Exposure[0].Groups {
		fmt.Printf("%s: %.0f%% of the catalog, %.0f%% of the exposure\n", g.Group, 100*g.CatalogShare, 100*g.Exposure)
	}
	fmt.Printf("coverage %.2f, Gini %.2f, long tail %.2f\n", r.Coverage, r.Gini, r.All.LongTail)
	// Output:
	// nDCG@2: all 0.50, best DE, worst FR, gap 1.00
	// bakery: 50% of the catalog, 0% of the exposure
	// drinks: 50% of the catalog, 100% of the exposure
	// coverage 0.33, Gini 0.67, long tail 1.00
}

// Compare tells which segments a second model (here: one that forgets
// coffee, as a noisy private model might) costs most.
func ExampleCompare() {
	s, cat, country := exampleWorld()
	a, err := eval.NewAuditor(s, 2, cat, eval.AuditOptions{
		MinSegment:    3,
		Segmentations: []eval.Segmentation{{Name: "country", Of: func(p string) string { return country[p] }}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	exact, _ := a.Audit(func(string, []string, int) []string { return []string{"coffee", "cake"} })
	private, _ := a.Audit(func(string, []string, int) []string { return []string{"cake", "juice"} })
	c, err := eval.Compare(exact, private)
	if err != nil {
		fmt.Println(err)
		return
	}
	c.WriteTable(os.Stdout)
	// Output:
	// | slice | persons | nDCG base | nDCG other | ratio | recall base | recall other | ratio |
	// |:------|--------:|----------:|-----------:|------:|------------:|-------------:|------:|
	// | all   |       8 |     0.815 |      0.500 | 0.613 |       1.000 |        0.500 | 0.500 |
	//
	// by country: costs DE most, FR least; nDCG ratio gap 1.585
	//
	// | country | persons | nDCG base | nDCG other | ratio | recall base | recall other | ratio |
	// |:--------|--------:|----------:|-----------:|------:|------------:|-------------:|------:|
	// | DE      |       4 |     1.000 |      0.000 | 0.000 |       1.000 |        0.000 | 0.000 |
	// | FR      |       4 |     0.631 |      1.000 | 1.585 |       1.000 |        1.000 | 1.000 |
}
