package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tact-go/tact/dp"
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
	// (recommend.ReleaseOptions.ItemPrior).
	ItemPrior float64
	// Shrink, in σ, is recommend.ItemItemConfig.Shrink.
	Shrink float64
	// Neighbors is recommend.ItemItemConfig.Neighbors (0: the exact row's).
	Neighbors int
	// Rank, if positive, denoises the pair counts by a low-rank
	// approximation (recommend.ReleaseOptions.Rank).
	Rank int
	// ItemShare is the share of ε spent on the item counts (0: that of
	// dpSplit); the number of persons gets 1% and the pairs the rest.
	ItemShare float64
}

func (c dpConfig) String() string {
	s := fmt.Sprintf("pairs among %d items, rank %d, item prior %gσ, shrink %gσ, %d neighbours", c.PairItems, c.Rank, c.ItemPrior, c.Shrink, c.Neighbors)
	if c.ItemShare != 0 && c.ItemShare != dpSplit[1] {
		sp := c.split()
		s += fmt.Sprintf(", ε split %g/%g/%g", sp[0], sp[1], sp[2])
	}
	return s
}

// split is how the release divides ε between the number of persons, the
// item counts and the pair counts (dp.CooccurrenceParams.Split).
func (c dpConfig) split() [3]float64 {
	if c.ItemShare == 0 {
		return dpSplit
	}
	return [3]float64{dpSplit[0], c.ItemShare, math.Round((1-dpSplit[0]-c.ItemShare)*1e6) / 1e6}
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
	// The blend rows (see blend.go), chosen the same way by a later -tune
	// run, whose choices for the item-item rows (not copied here) differed
	// from those above only within the noise. An ε without an entry uses
	// defaultBlend: the defaults of the DP rows and the weights recommend
	// serves an established person with (β = 0.10/0.40).
	defaultBlend   = blendConfig{dpConfig: defaultDP, PopForm: popItems, Beta: 0.25}
	movieLensBlend = map[float64]blendConfig{
		0.5: {dpConfig{PairItems: 50, Rank: 0, ItemPrior: 0, Shrink: 3, Neighbors: 50, ItemShare: 0.8}, popPairs, 1},
		1:   {dpConfig{PairItems: 50, Rank: 0, ItemPrior: 30, Shrink: 0, Neighbors: 20, ItemShare: 0.8}, popItems, 4},
		2:   {dpConfig{PairItems: 50, Rank: 5, ItemPrior: 0, Shrink: 0, Neighbors: 50, ItemShare: 0.8}, popItems, 1},
		4:   {dpConfig{PairItems: 100, Rank: 0, ItemPrior: 30, Shrink: 0, Neighbors: 50}, popItems, 0},
		8:   {dpConfig{PairItems: 100, Rank: 10, ItemPrior: 0, Shrink: 3, Neighbors: 50}, popItems, 0},
	}
	retailBlend = map[float64]blendConfig{
		0.5: {dpConfig{PairItems: 50, Rank: 0, ItemPrior: 30, Shrink: 3, Neighbors: 50, ItemShare: 0.6}, popItems, 0},
		1:   {dpConfig{PairItems: 200, Rank: 0, ItemPrior: 30, Shrink: 3, Neighbors: 50}, popPairs, 0},
		2:   {dpConfig{PairItems: 100, Rank: 0, ItemPrior: 0, Shrink: 3, Neighbors: 10}, popPairs, 0.05},
		4:   {dpConfig{PairItems: 200, Rank: 0, ItemPrior: 0, Shrink: 3, Neighbors: 10}, popItems, 0.05},
		8:   {dpConfig{PairItems: 200, Rank: 0, ItemPrior: 0, Shrink: 0, Neighbors: 10}, popItems, 0.1},
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

func blendFor(m map[float64]blendConfig, eps float64) blendConfig {
	if c, ok := m[eps]; ok {
		return c
	}
	return defaultBlend
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
func catalogIDs(cat *recommend.Catalog) []string {
	ids := make([]string, 0, cat.Len())
	for it := range cat.All() {
		ids = append(ids, it.ID)
	}
	return ids
}

// dpSplit divides ε between the number of persons, the item counts and
// the pair counts, unless a dpConfig says otherwise. Cosine and Jaccard
// similarities do not use the number of persons, so it gets 1%.
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
		Items: catalog, PairItems: c.PairItems, Weighted: true, Split: c.split(),
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

// release counts the bounded item sets of the persons of train through
// dp.Cooccurrence and releases it once, from a budget of its own of
// exactly (eps, dpDelta).
func release(eps float64, c dpConfig, catalog []string, train []recommend.Interaction, o recommend.CountOptions) (*dp.Cooccurrences, *dp.Budget, error) {
	budget, err := dp.NewBudget(eps, dpDelta, nil)
	if err != nil {
		return nil, nil, err
	}
	cc, err := dp.NewCooccurrence(dpParams(eps, c, catalog, o))
	if err != nil {
		return nil, nil, err
	}
	for person, items := range recommend.PersonItems(train, o) {
		for _, it := range items {
			cc.Add(person, it)
		}
	}
	res, err := cc.Release(context.Background(), budget) // an in-memory budget: nothing to cancel
	if err != nil {
		return nil, nil, err
	}
	return res, budget, nil
}

// dpItemItem builds the item-item model of a DP row from its release
// (post-processing: recommend.CountsFromRelease, then the model).
func dpItemItem(cat *recommend.Catalog, res *dp.Cooccurrences, c dpConfig, base recommend.ItemItemConfig) (*recommend.ItemItem, error) {
	counts, err := recommend.CountsFromRelease(res, recommend.ReleaseOptions{ItemPrior: c.ItemPrior, Rank: c.Rank})
	if err != nil {
		return nil, err
	}
	return recommend.NewItemItem(cat, counts, modelConfig(base, c, res))
}

// dpSource gives the three DP rows at eps: "item-item DP", "popularity
// (DP counts)" and "item-item DP + DP popularity". Each run makes one
// release with the settings c, from a budget of its own of exactly (eps,
// dpDelta), for the item-item row. The blend row is built from the same
// release when its settings bc release the same (the pairs among as many
// items, the same split of ε); otherwise the run makes a second release
// for it, from a second budget of its own of exactly (eps, dpDelta). The
// popularity row is the popularity of the blend row's release (in the
// blend's form) alone: the blend is that popularity plus item-item. Every
// row is thus post-processing of one release of (eps, dpDelta).
func dpSource(eps float64, c dpConfig, bc blendConfig, cat *recommend.Catalog, base recommend.ItemItemConfig, o recommend.CountOptions, runs int) source {
	catalog := catalogIDs(cat)
	shared := bc.PairItems == c.PairItems && bc.split() == c.split()
	type spend struct {
		res    *dp.Cooccurrences
		budget *dp.Budget
	}
	var last [2]spend // the last run's releases: item-item's, the blend's
	e := strconv.FormatFloat(eps, 'g', -1, 64)
	iiRow := "item-item DP ε=" + e
	popRow := "popularity (DP counts ε=" + e + ")"
	blendRow := "item-item DP ε=" + e + " + DP popularity"
	return source{
		rows: []rowSpec{{iiRow, groupItemItemDP}, {popRow, groupPopDP}, {blendRow, groupBlendDP}},
		runs: runs,
		train: func(train []recommend.Interaction) ([]eval.Ranker, []time.Duration, error) {
			start := time.Now()
			res, budget, err := release(eps, c, catalog, train, o)
			if err != nil {
				return nil, nil, err
			}
			tRel := time.Since(start)
			resB, budgetB, tRelB := res, budget, tRel
			if !shared {
				start = time.Now()
				if resB, budgetB, err = release(eps, bc.dpConfig, catalog, train, o); err != nil {
					return nil, nil, err
				}
				tRelB = time.Since(start)
			}
			last = [2]spend{{res, budget}, {resB, budgetB}}

			start = time.Now()
			ii, err := dpItemItem(cat, res, c, base)
			if err != nil {
				return nil, nil, err
			}
			tII := time.Since(start)

			start = time.Now()
			pop, err := dpPopularity(cat, resB, bc.PopForm)
			if err != nil {
				return nil, nil, err
			}
			tPop := time.Since(start)

			start = time.Now()
			iiB := ii
			if !shared || bc.dpConfig != c {
				if iiB, err = dpItemItem(cat, resB, bc.dpConfig, base); err != nil {
					return nil, nil, err
				}
			}
			b := newBlend(neighboursOf(iiB), pop)
			tBlend := time.Since(start)
			if iiB == ii {
				tBlend += tII
			}
			return []eval.Ranker{itemItemRanker(ii), popularityRanker(pop), b.ranker(bc.Beta)},
				[]time.Duration{tRel + tII, tRelB + tPop, tRelB + tPop + tBlend}, nil
		},
		spent: func() string {
			if last[0].res == nil {
				return ""
			}
			if shared {
				return fmt.Sprintf("ε=%g, one release per run for the three rows: %s\n  %s: %s; %s: popularity from %s; %s: %s",
					eps, spentNote(last[0].res, last[0].budget, c),
					iiRow, c, popRow, popForms[bc.PopForm], blendRow, bc)
			}
			return fmt.Sprintf("ε=%g, release A per run, for %s: %s\n  %s: %s\n"+
				"ε=%g, release B per run, for %s and %s: %s\n  %s: popularity from %s; %s: %s\n"+
				"  A and B are independent alternatives (a deployment makes one): each row costs one release of (%g, %g), not both",
				eps, iiRow, spentNote(last[0].res, last[0].budget, c), iiRow, c,
				eps, popRow, blendRow, spentNote(last[1].res, last[1].budget, bc.dpConfig), popRow, popForms[bc.PopForm], blendRow, bc,
				eps, dpDelta)
		},
	}
}

// spentNote says what one release spent and how.
func spentNote(res *dp.Cooccurrences, budget *dp.Budget, c dpConfig) string {
	te, td := budget.Total()
	re, rd := budget.Remaining()
	in, pn := res.ItemNoise, res.PairNoise
	return fmt.Sprintf("spends (ε, δ) = (%g, %g) from its own dp.Budget(%g, %g), leaving (%g, %g): "+
		"persons ε=%.3g (Laplace); item counts over the %d-item catalog ε=%.3g δ=%.3g (Gaussian, σ=%.3g); "+
		"pairs among the %d most counted items ε=%.3g δ=%.3g (Gaussian, σ=%.3g); weighted persons (norm 1)",
		res.Epsilon, res.Delta, te, td, re, rd,
		res.Epsilon-in.Epsilon-pn.Epsilon, len(res.Items), in.Epsilon, in.Delta, in.StdDev(),
		min(c.PairItems, len(res.Items)), pn.Epsilon, pn.Delta, pn.StdDev())
}

// Settings the tuning tries.
var (
	tunePairItems  = []int{50, 100, 200}
	tuneRanks      = []int{0, 5, 10}
	tunePriors     = []float64{0, 30}
	tuneShrinks    = []float64{0, 3}
	tuneItemShares = []float64{0, 0.6, 0.8} // 0: dpSplit; other shares for the blend rows only
)

// tuneDP picks, for each ε, the settings of the DP rows with the best mean
// nDCG@k over runs releases on the validation split (carved from training
// data only): for the item-item row a dpConfig (the split of ε fixed at
// dpSplit); for the blend row a blendConfig, its dpConfig (the split of ε
// included), the form of popularity and β. Each release is reused for
// every setting of the post-processing.
func tuneDP(w io.Writer, cat *recommend.Catalog, v eval.Split, k int, base recommend.ItemItemConfig, o recommend.CountOptions, epsilons []float64, runs int) (map[float64]dpConfig, map[float64]blendConfig, error) {
	catalog := catalogIDs(cat)
	fix := newFixture(v)
	out := make(map[float64]dpConfig)
	outBlend := make(map[float64]blendConfig)
	fmt.Fprintf(w, "tuning the DP rows on the validation split (training data only), mean nDCG@%d of %d releases:\n", k, runs)
	if p, err := recommend.NewPopularity(cat, recommend.CountItems(v.Train, o), nil); err == nil {
		fmt.Fprintf(w, "  popularity (exact counts): nDCG@%d %.4f\n", k, eval.Evaluate(v, k, cat.Len(), popularityRanker(p)).NDCG)
	}
	type cand struct {
		c     dpConfig
		sum   float64                // summed nDCG of item-item
		blend [numPopForms][]float64 // summed nDCG of the blend, per form and β
	}
	for _, eps := range epsilons {
		var cands []*cand
		for _, share := range tuneItemShares {
			var popSum [numPopForms]float64
			for _, pairItems := range tunePairItems {
				var mine []*cand
				for _, rank := range tuneRanks {
					for _, prior := range tunePriors {
						for _, shrink := range tuneShrinks {
							for _, nb := range slices.Compact([]int{base.Neighbors, 50}) {
								cd := &cand{c: dpConfig{PairItems: pairItems, Rank: rank, ItemPrior: prior, Shrink: shrink, Neighbors: nb, ItemShare: share}}
								for f := range cd.blend {
									cd.blend[f] = make([]float64, len(blendBetas))
								}
								mine = append(mine, cd)
							}
						}
					}
				}
				for r := 0; r < runs; r++ {
					res, _, err := release(eps, mine[0].c, catalog, v.Train, o)
					if err != nil {
						return nil, nil, err
					}
					var pops [numPopForms]*recommend.Popularity
					for f := range pops {
						if pops[f], err = dpPopularity(cat, res, f); err != nil {
							return nil, nil, err
						}
						popSum[f] += eval.Evaluate(v, k, cat.Len(), popularityRanker(pops[f])).NDCG
					}
					// The counts depend on the rank and the prior only.
					counts := make(map[[2]float64]*recommend.Counts)
					for _, cd := range mine {
						key := [2]float64{float64(cd.c.Rank), cd.c.ItemPrior}
						if counts[key] == nil {
							if counts[key], err = recommend.CountsFromRelease(res, recommend.ReleaseOptions{ItemPrior: cd.c.ItemPrior, Rank: cd.c.Rank}); err != nil {
								return nil, nil, err
							}
						}
						ii, err := recommend.NewItemItem(cat, counts[key], modelConfig(base, cd.c, res))
						if err != nil {
							return nil, nil, err
						}
						if share == 0 {
							cd.sum += eval.Evaluate(v, k, cat.Len(), itemItemRanker(ii)).NDCG
						}
						nb := neighboursOf(ii)
						for f, pop := range pops {
							for i, x := range fix.ndcg(k, newBlend(nb, pop), blendBetas) {
								cd.blend[f][i] += x
							}
						}
					}
				}
				cands = append(cands, mine...)
			}
			n := float64(runs * len(tunePairItems))
			fmt.Fprintf(w, "  ε=%-4g item share %g: popularity (DP counts) nDCG@%d: from %s %.4f, from %s %.4f\n",
				eps, dpConfig{ItemShare: share}.split()[1], k, popForms[popItems], popSum[popItems]/n, popForms[popPairs], popSum[popPairs]/n)
		}
		f := float64(runs)
		var best *cand
		var bestBlend blendConfig
		bestBlendScore := -1.0
		for _, cd := range cands {
			line := fmt.Sprintf("  ε=%-4g %s:", eps, cd.c)
			if cd.c.ItemShare == 0 {
				line += fmt.Sprintf(" item-item nDCG@%d %.4f;", k, cd.sum/f)
				if best == nil || cd.sum > best.sum {
					best = cd
				}
			}
			for form, scores := range cd.blend {
				i := argmax(scores)
				line += fmt.Sprintf(" + DP popularity from %s: %.4f at β=%g;", popForms[form], scores[i]/f, blendBetas[i])
				if scores[i] > bestBlendScore {
					bestBlend, bestBlendScore = blendConfig{cd.c, form, blendBetas[i]}, scores[i]
				}
			}
			fmt.Fprintln(w, strings.TrimSuffix(line, ";"))
		}
		if best == nil {
			return nil, nil, errors.New("tuning: no item-item setting")
		}
		out[eps], outBlend[eps] = best.c, bestBlend
		fmt.Fprintf(w, "chosen for ε=%g: %s (nDCG@%d %.4f)\n", eps, best.c, k, best.sum/f)
		fmt.Fprintf(w, "chosen for ε=%g + DP popularity: %s (nDCG@%d %.4f)\n", eps, bestBlend, k, bestBlendScore/f)
	}
	fmt.Fprintln(w)
	return out, outBlend, nil
}
