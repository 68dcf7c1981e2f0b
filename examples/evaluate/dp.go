package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/examples/internal/dptrain"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/eval"
)

// dpDelta is the δ of every DP row: far below one over the number of
// persons of either data set (610 and 4,372).
const dpDelta = 1e-5

// dpConfig is how a DP row trains: which pairs are released and how the
// model is built from the noisy counts. Noise-dependent settings are in
// standard deviations σ of the pair noise, so that they mean the same at
// every ε.
type dpConfig struct {
	// PairItems: pairs are released among the PairItems catalog items with
	// the largest noisy counts (dp.CooccurrenceParams.PairItems).
	PairItems int
	// ItemPrior, in σ, is added to every item count
	// (dptrain.Options.ItemPrior).
	ItemPrior float64
	// Shrink, in σ, is recommend.ItemItemConfig.Shrink.
	Shrink float64
	// Neighbors is recommend.ItemItemConfig.Neighbors (0: the exact row's).
	Neighbors int
	// Rank, if positive, denoises the pair counts by a low-rank
	// approximation (dptrain.Options.Rank).
	Rank int
}

func (c dpConfig) String() string {
	return fmt.Sprintf("pairs among %d items, rank %d, item prior %gσ, shrink %gσ, %d neighbours", c.PairItems, c.Rank, c.ItemPrior, c.Shrink, c.Neighbors)
}

// The DP configurations per ε, chosen with -tune -dp-runs 5 (two releases
// per setting) on the validation splits (training data only; see the
// package comment); rerun with -tune to reproduce the choice, up to the
// noise. An ε without an entry uses defaultDP.
var (
	defaultDP   = dpConfig{PairItems: 100, ItemPrior: 30, Shrink: 3, Neighbors: 50, Rank: 5}
	movieLensDP = map[float64]dpConfig{
		0.5: {PairItems: 100, Rank: 0, ItemPrior: 30, Shrink: 0, Neighbors: 50},
		1:   {PairItems: 200, Rank: 5, ItemPrior: 30, Shrink: 3, Neighbors: 20},
		2:   {PairItems: 200, Rank: 0, ItemPrior: 30, Shrink: 3, Neighbors: 50},
		4:   {PairItems: 200, Rank: 10, ItemPrior: 30, Shrink: 0, Neighbors: 50},
		8:   {PairItems: 100, Rank: 10, ItemPrior: 0, Shrink: 3, Neighbors: 50},
	}
	retailDP = map[float64]dpConfig{
		0.5: {PairItems: 100, Rank: 0, ItemPrior: 30, Shrink: 3, Neighbors: 50},
		1:   {PairItems: 100, Rank: 0, ItemPrior: 0, Shrink: 3, Neighbors: 50},
		2:   {PairItems: 200, Rank: 0, ItemPrior: 0, Shrink: 3, Neighbors: 50},
		4:   {PairItems: 200, Rank: 0, ItemPrior: 0, Shrink: 3, Neighbors: 10},
		8:   {PairItems: 200, Rank: 0, ItemPrior: 0, Shrink: 3, Neighbors: 10},
	}
)

func configFor(m map[float64]dpConfig, eps float64) dpConfig {
	if c, ok := m[eps]; ok {
		return c
	}
	return defaultDP
}

func parseEpsilons(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		eps, err := strconv.ParseFloat(f, 64)
		if err != nil || !(eps > 0) || eps > 1e6 {
			return nil, fmt.Errorf("%w: -epsilons: %q is not a positive ε", errUsage, f)
		}
		out = append(out, eps)
	}
	return out, nil
}

// catalogIDs are the public item ids: the catalog a service publishes.
func catalogIDs(items []recommend.Item) []string {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	return ids
}

// dpSplit divides ε between the number of persons, the item counts and
// the pair counts. Cosine and Jaccard similarities do not use the number
// of persons, so it gets 1%.
var dpSplit = [3]float64{0.01, 0.30, 0.69}

// dpParams are the parameters of the release of a DP row: Gaussian noise,
// the public catalog, public pairs among the most counted items, weighted
// persons (norm 1, so MaxItems and MaxPairs only bound the work: they are
// set not to drop anything beyond recommend's own per-person bound).
func dpParams(eps float64, c dpConfig, catalog []string, o recommend.CountOptions) dp.CooccurrenceParams {
	k := min(c.PairItems, len(catalog))
	maxItems := o.MaxItemsPerPerson
	switch {
	case maxItems == 0:
		maxItems = recommend.DefaultMaxItemsPerPerson
	case maxItems < 0 || maxItems > dp.MaxL0:
		maxItems = dp.MaxL0
	}
	return dp.CooccurrenceParams{
		Epsilon: eps, Delta: dpDelta, Noise: dp.Gaussian,
		MaxItems: max(maxItems, 2), MaxPairs: max(k*(k-1)/2, 1),
		Items: catalog, PairItems: c.PairItems, Weighted: true, Split: dpSplit,
		Label: "item-item ε=" + strconv.FormatFloat(eps, 'g', -1, 64),
	}
}

// modelConfig is the model configuration of a DP row, given the exact
// row's and the release.
func modelConfig(base recommend.ItemItemConfig, c dpConfig, res *dp.Cooccurrences) recommend.ItemItemConfig {
	cfg := base
	cfg.Shrink = c.Shrink * res.PairNoise.StdDev()
	if c.Neighbors > 0 {
		cfg.Neighbors = c.Neighbors
	}
	return cfg
}

// dpSource is the DP row at eps: each run releases the co-occurrence
// counts once, from its own budget of exactly (eps, dpDelta).
func dpSource(eps float64, c dpConfig, items []recommend.Item, runs int) countsSource {
	catalog := catalogIDs(items)
	var last *dp.Cooccurrences
	var lastBudget *dp.Budget
	return countsSource{
		name: fmt.Sprintf("item-item DP ε=%g", eps),
		runs: runs,
		counts: func(train []recommend.Interaction, o recommend.CountOptions, base recommend.ItemItemConfig) (*recommend.Counts, recommend.ItemItemConfig, error) {
			budget, err := dp.NewBudget(eps, dpDelta, nil)
			if err != nil {
				return nil, base, err
			}
			counts, res, err := dptrain.Counts(budget, dpParams(eps, c, catalog, o), recommend.PersonItems(train, o), dptrain.Options{ItemPrior: c.ItemPrior, Rank: c.Rank})
			if err != nil {
				return nil, base, err
			}
			last, lastBudget = res, budget
			return counts, modelConfig(base, c, res), nil
		},
		spent: func() string {
			if last == nil {
				return ""
			}
			return spentNote(eps, c, last, lastBudget)
		},
	}
}

// spentNote says what one release of a DP row spent and how.
func spentNote(eps float64, c dpConfig, res *dp.Cooccurrences, budget *dp.Budget) string {
	te, td := budget.Total()
	re, rd := budget.Remaining()
	in, pn := res.ItemNoise, res.PairNoise
	return fmt.Sprintf("ε=%g: each release spends (ε, δ) = (%g, %g) from its own dp.Budget(%g, %g), leaving (%g, %g): "+
		"persons ε=%.3g (Laplace); item counts over the %d-item catalog ε=%.3g δ=%.3g (Gaussian, σ=%.3g); "+
		"pairs among the %d most counted items ε=%.3g δ=%.3g (Gaussian, σ=%.3g); weighted persons (norm 1); %s",
		eps, res.Epsilon, res.Delta, te, td, re, rd,
		res.Epsilon-in.Epsilon-pn.Epsilon, len(res.Items), in.Epsilon, in.Delta, in.StdDev(),
		min(c.PairItems, len(res.Items)), pn.Epsilon, pn.Delta, pn.StdDev(), c)
}

// tuneDP picks, for each ε, the dpConfig with the best mean nDCG@k over
// runs releases on the validation split (carved from training data only).
// Each release is reused for every model setting.
func tuneDP(w io.Writer, items []recommend.Item, v eval.Split, k int, base recommend.ItemItemConfig, o recommend.CountOptions, epsilons []float64, runs int) (map[float64]dpConfig, error) {
	cat, err := recommend.NewCatalog(items)
	if err != nil {
		return nil, err
	}
	catalog := catalogIDs(items)
	out := make(map[float64]dpConfig)
	fmt.Fprintf(w, "tuning the DP rows on the validation split (training data only), mean nDCG@%d of %d releases:\n", k, runs)
	for _, eps := range epsilons {
		type cand struct {
			c   dpConfig
			sum float64
		}
		var cands []*cand
		for _, pairItems := range []int{50, 100, 200} {
			var mine []*cand
			for _, rank := range []int{0, 5, 10} {
				for _, prior := range []float64{0, 30} {
					for _, shrink := range []float64{0, 3} {
						for _, nb := range slices.Compact([]int{base.Neighbors, 50}) {
							mine = append(mine, &cand{c: dpConfig{PairItems: pairItems, Rank: rank, ItemPrior: prior, Shrink: shrink, Neighbors: nb}})
						}
					}
				}
			}
			for r := 0; r < runs; r++ {
				budget, err := dp.NewBudget(eps, dpDelta, nil)
				if err != nil {
					return nil, err
				}
				c, err := dp.NewCooccurrence(dpParams(eps, mine[0].c, catalog, o))
				if err != nil {
					return nil, err
				}
				for person, its := range recommend.PersonItems(v.Train, o) {
					for _, it := range its {
						c.Add(person, it)
					}
				}
				res, err := c.Release(budget)
				if err != nil {
					return nil, err
				}
				for _, cd := range mine {
					counts, err := dptrain.FromRelease(res, dptrain.Options{ItemPrior: cd.c.ItemPrior, Rank: cd.c.Rank})
					if err != nil {
						return nil, err
					}
					ii, err := recommend.NewItemItem(cat, counts, modelConfig(base, cd.c, res))
					if err != nil {
						return nil, err
					}
					cd.sum += eval.Evaluate(v, k, cat.Len(), itemItemRanker(ii)).NDCG
				}
			}
			cands = append(cands, mine...)
		}
		best := cands[0]
		for _, cd := range cands {
			fmt.Fprintf(w, "  ε=%-4g %s: nDCG@%d %.4f\n", eps, cd.c, k, cd.sum/float64(runs))
			if cd.sum > best.sum {
				best = cd
			}
		}
		fmt.Fprintf(w, "chosen for ε=%g: %s\n", eps, best.c)
		out[eps] = best.c
	}
	fmt.Fprintln(w)
	return out, nil
}
