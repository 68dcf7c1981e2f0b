package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/eval"
)

// Settings the tuning tries.
var (
	tuneSimilarities  = []recommend.Similarity{recommend.Cosine, recommend.Jaccard, recommend.Lift}
	tuneNeighbors     = []int{10, 20, 50, 100}
	tuneShrinkCounts  = []float64{0, 5, 10, 20, 50}
	tuneEASEItems     = []int{1000, 2000, 3000}
	tuneEASELambdas   = []float64{3, 6, 12, 24}
	tuneEASENeighbors = []int{100, 300, 1000}
	tuneEASEDamping   = []float64{0.05, 0.1, 0.2, 0.3} // with the best of the above; 0 is scored there

	tunePairItems  = []int{50, 100, 200, 500}
	tuneDenoising  = []dpConfig{{}, {Rank: 5}, {Rank: 10}, {Denoise: true}} // how the pair counts are denoised
	tunePriors     = []float64{0, 30}
	tuneShrinks    = []float64{0, 3}
	tuneDPLambdas  = []float64{0.25, 1, 4, 16, 64}
	tuneItemShares = []float64{0, 0.15, 0.6, 0.8} // 0: dpSplit; other shares for the best rows only
)

// tuneAll chooses the settings of every row on the validation split v
// (carved from training data only): the item-item and EASE models on
// exact counts, then the DP rows at each ε (mean nDCG@k of runs releases
// per setting). It also prints what recommend serves with its defaults on
// v beside the best plain model: the evaluation that chose those defaults.
func tuneAll(w io.Writer, cat *recommend.Catalog, v eval.Split, k int, o recommend.CountOptions, epsilons []float64, runs int) (settings, error) {
	var set settings
	fmt.Fprintln(w, "tuning on the validation split (training data only):")
	counts := recommend.CountCooccurrence(v.Train, o)
	dampedCounts := recommend.CountCooccurrence(v.Train, damped(o, true))
	var easeScore float64
	ii, cos := tuneItemItem(w, cat, v, k, counts, dampedCounts)
	set.itemItem, set.iiDamp = ii.cfg, ii.damp
	set.cosine, set.cosDamp = cos.cfg, cos.damp
	set.ease, set.easeDamp, easeScore = tuneEASE(w, cat, v, k, counts, dampedCounts)
	pop, err := recommend.NewPopularity(cat, recommend.CountItems(v.Train, o), nil)
	if err != nil {
		return set, err
	}
	popScore := eval.Evaluate(v, k, cat.Len(), popularityRanker(pop)).NDCG
	best := max(popScore, ii.score, easeScore)
	fmt.Fprintf(w, "validation nDCG@%d: popularity %.4f, item-item %.4f, EASE %.4f", k, popScore, ii.score, easeScore)
	easePairs := counts
	if set.easeDamp {
		easePairs = dampedCounts
	}
	for _, c := range []struct {
		name  string
		cfg   recommend.EASEConfig
		pairs *recommend.Counts
	}{{"served with recommend's defaults", recommend.EASEConfig{}, counts}, {"served on the chosen EASE", set.ease, easePairs}} {
		rank, err := served(cat, pop, c.pairs, c.cfg, v.Train)
		if err != nil {
			return set, err
		}
		srv := eval.Evaluate(v, k, cat.Len(), rank).NDCG
		fmt.Fprintf(w, "; %s %.4f (%s the best)", c.name, srv, ratio(srv, best))
	}
	fmt.Fprint(w, "\n\n")
	if set.dp, err = tuneDP(w, cat, v, k, set.itemItem, o, epsilons, runs); err != nil {
		return set, err
	}
	return set, nil
}

// itemItemChoice is an item-item configuration the tuning chose, whether
// it counts pairs with DampActivity, and its validation nDCG.
type itemItemChoice struct {
	cfg   recommend.ItemItemConfig
	damp  bool
	score float64
}

// tuneItemItem picks the item-item configuration with the best nDCG@k on
// the validation split v, of which c are the exact counts and dc the
// exact counts with DampActivity, and the best with cosine similarity.
func tuneItemItem(w io.Writer, cat *recommend.Catalog, v eval.Split, k int, c, dc *recommend.Counts) (best, cos itemItemChoice) {
	best.score, cos.score = -1, -1
	for i, counts := range []*recommend.Counts{c, dc} {
		d := i == 1
		for _, sim := range tuneSimilarities {
			for _, n := range tuneNeighbors {
				for _, shrink := range tuneShrinkCounts {
					cfg := recommend.ItemItemConfig{Similarity: sim, Neighbors: n, Shrink: shrink}
					ii, err := recommend.NewItemItem(cat, counts, cfg)
					if err != nil {
						continue // lift on damped counts
					}
					m := eval.Evaluate(v, k, cat.Len(), itemItemRanker(ii))
					fmt.Fprintf(w, "  item-item %-8s neighbours %3d shrink %4g%s: nDCG@%d %.4f\n", sim, n, shrink, dampString(d), k, m.NDCG)
					if m.NDCG > best.score {
						best = itemItemChoice{cfg, d, m.NDCG}
					}
					if sim == recommend.Cosine && m.NDCG > cos.score {
						cos = itemItemChoice{cfg, d, m.NDCG}
					}
				}
			}
		}
	}
	fmt.Fprintf(w, "chosen: item-item %s, %d neighbours, shrink %g%s\n", best.cfg.Similarity, best.cfg.Neighbors, best.cfg.Shrink, dampString(best.damp))
	fmt.Fprintf(w, "chosen: item-item cosine, %d neighbours, shrink %g%s\n", cos.cfg.Neighbors, cos.cfg.Shrink, dampString(cos.damp))
	return best, cos
}

// tuneEASE picks the EASE configuration with the best nDCG@k on the
// validation split v, of which c are the exact counts and dc the exact
// counts with DampActivity; damp says which won. PopularityDamping is
// tried last, on the best configuration without it: it rescales the
// weights of a trained model, so it hardly interacts with the others.
func tuneEASE(w io.Writer, cat *recommend.Catalog, v eval.Split, k int, c, dc *recommend.Counts) (best recommend.EASEConfig, damp bool, bestScore float64) {
	bestScore = -1
	// try scores cfg on counts (damped when d) and keeps it if it is the best.
	try := func(cfg recommend.EASEConfig, counts *recommend.Counts, d bool) {
		run := cfg
		run.Workers = workers
		m, err := recommend.TrainEASE(cat, counts, run)
		if err != nil {
			return
		}
		score := eval.Evaluate(v, k, cat.Len(), itemItemRanker(m)).NDCG
		fmt.Fprintf(w, "  EASE %s%s: nDCG@%d %.4f\n", easeString(cfg), dampString(d), k, score)
		if score > bestScore {
			best, damp, bestScore = cfg, d, score
		}
	}
	for i, counts := range []*recommend.Counts{c, dc} {
		for _, n := range tuneEASEItems {
			for _, l := range tuneEASELambdas {
				for _, nb := range tuneEASENeighbors {
					try(recommend.EASEConfig{Items: n, Lambda: l, Neighbors: nb}, counts, i == 1)
				}
			}
		}
	}
	counts := c
	if damp {
		counts = dc
	}
	base := best
	for _, beta := range tuneEASEDamping {
		cfg := base
		cfg.PopularityDamping = beta
		try(cfg, counts, damp)
	}
	fmt.Fprintf(w, "chosen: EASE %s%s\n", easeString(best), dampString(damp))
	return best, damp, bestScore
}

// dpCands are the model settings the tuning tries for one item share and
// one number of pair items: item-item and EASE.
func dpCands(share float64, pairItems int, base recommend.ItemItemConfig) []dpConfig {
	var out []dpConfig
	for _, d := range tuneDenoising {
		for _, prior := range tunePriors {
			for _, shrink := range tuneShrinks {
				for _, nb := range slices.Compact([]int{base.Neighbors, 50}) {
					out = append(out, dpConfig{PairItems: pairItems, Rank: d.Rank, Denoise: d.Denoise, ItemPrior: prior, Shrink: shrink, Neighbors: nb, ItemShare: share})
				}
			}
			for _, l := range tuneDPLambdas {
				out = append(out, dpConfig{PairItems: pairItems, Rank: d.Rank, Denoise: d.Denoise, ItemPrior: prior, Lambda: l, ItemShare: share})
			}
		}
	}
	return out
}

// tuneDP picks, for each ε, the settings of the DP rows with the best mean
// nDCG@k over runs releases on the validation split v (carved from
// training data only): for the item-item and the EASE rows a dpConfig
// (the split of ε fixed at dpSplit); for the best row a blendConfig, its
// dpConfig (item-item or EASE, the split of ε included), the form of
// popularity and β (from 0, backfill, to +Inf, popularity first). Each
// release is reused for every setting of the post-processing.
func tuneDP(w io.Writer, cat *recommend.Catalog, v eval.Split, k int, base recommend.ItemItemConfig, o recommend.CountOptions, epsilons []float64, runs int) (map[float64]dpSettings, error) {
	catalog := catalogIDs(cat)
	fix := newFixture(v)
	out := make(map[float64]dpSettings)
	fmt.Fprintf(w, "tuning the DP rows on the validation split (training data only), mean nDCG@%d of %d releases:\n", k, runs)
	type cand struct {
		c     dpConfig
		plain float64                // summed nDCG of the model alone
		blend [numPopForms][]float64 // summed nDCG of the blend, per form and β
	}
	for _, eps := range epsilons {
		var cands []*cand
		for _, share := range tuneItemShares {
			var popSum [numPopForms]float64
			for _, pairItems := range tunePairItems {
				var mine []*cand
				for _, c := range dpCands(share, pairItems, base) {
					cd := &cand{c: c}
					for f := range cd.blend {
						cd.blend[f] = make([]float64, len(blendBetas))
					}
					mine = append(mine, cd)
				}
				for r := 0; r < runs; r++ {
					res, _, err := release(eps, mine[0].c, catalog, v.Train, o)
					if err != nil {
						return nil, err
					}
					var pops [numPopForms]*recommend.Popularity
					for f := range pops {
						if pops[f], err = dpPopularity(cat, res, f); err != nil {
							return nil, err
						}
						popSum[f] += eval.Evaluate(v, k, cat.Len(), popularityRanker(pops[f])).NDCG
					}
					// The counts depend on the denoising and the prior only.
					type countsKey struct {
						rank    int
						denoise bool
						prior   float64
					}
					counts := make(map[countsKey]*recommend.Counts)
					for _, cd := range mine {
						key := countsKey{cd.c.Rank, cd.c.Denoise, cd.c.ItemPrior}
						if counts[key] == nil {
							if counts[key], err = dpCounts(res, cd.c); err != nil {
								return nil, err
							}
						}
						m, err := dpModel(cat, counts[key], cd.c, base)
						if err != nil {
							return nil, err
						}
						if share == 0 {
							cd.plain += eval.Evaluate(v, k, cat.Len(), itemItemRanker(m)).NDCG
						}
						nb := neighboursOf(m)
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
		var bestII, bestEASE *cand
		var best blendConfig
		bestScore := -1.0
		for _, cd := range cands {
			line := fmt.Sprintf("  ε=%-4g %s:", eps, cd.c)
			if cd.c.ItemShare == 0 {
				line += fmt.Sprintf(" alone %.4f;", cd.plain/f)
				if cd.c.Lambda > 0 && (bestEASE == nil || cd.plain > bestEASE.plain) {
					bestEASE = cd
				}
				if cd.c.Lambda == 0 && (bestII == nil || cd.plain > bestII.plain) {
					bestII = cd
				}
			}
			for form, scores := range cd.blend {
				i := argmax(scores)
				line += fmt.Sprintf(" + DP popularity from %s: %.4f at β=%g;", popForms[form], scores[i]/f, blendBetas[i])
				if scores[i] > bestScore {
					best, bestScore = blendConfig{cd.c, form, blendBetas[i]}, scores[i]
				}
			}
			fmt.Fprintln(w, strings.TrimSuffix(line, ";"))
		}
		if bestII == nil || bestEASE == nil {
			return nil, errors.New("tuning: no DP setting")
		}
		out[eps] = dpSettings{ItemItem: bestII.c, EASE: bestEASE.c, Best: best}
		fmt.Fprintf(w, "chosen for item-item DP ε=%g: %s (nDCG@%d %.4f)\n", eps, bestII.c, k, bestII.plain/f)
		fmt.Fprintf(w, "chosen for EASE DP ε=%g: %s (nDCG@%d %.4f)\n", eps, bestEASE.c, k, bestEASE.plain/f)
		fmt.Fprintf(w, "chosen for best DP ε=%g: %s (nDCG@%d %.4f)\n", eps, best, k, bestScore/f)
		fmt.Fprintf(w, "as Go: %g: %s,\n", eps, out[eps].goString())
	}
	fmt.Fprintln(w)
	return out, nil
}

// goString is s as a Go composite literal of type dpSettings, to write
// the choice of a -tune run into the source.
func (s dpSettings) goString() string {
	beta := strconv.FormatFloat(s.Best.Beta, 'g', -1, 64)
	if math.IsInf(s.Best.Beta, 1) {
		beta = "math.Inf(1)"
	}
	form := "popItems"
	if s.Best.PopForm == popPairs {
		form = "popPairs"
	}
	return fmt.Sprintf("{ItemItem: %s, EASE: %s, Best: blendConfig{%s, %s, %s}}", s.ItemItem.goString(), s.EASE.goString(), s.Best.dpConfig.goString(), form, beta)
}

// goString is c as a Go composite literal of type dpConfig, zero fields
// left out.
func (c dpConfig) goString() string {
	var f []string
	add := func(name string, v float64) {
		if v != 0 {
			f = append(f, name+": "+strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	add("PairItems", float64(c.PairItems))
	add("Rank", float64(c.Rank))
	if c.Denoise {
		f = append(f, "Denoise: true")
	}
	add("ItemPrior", c.ItemPrior)
	add("Shrink", c.Shrink)
	add("Neighbors", float64(c.Neighbors))
	add("Lambda", c.Lambda)
	add("ItemShare", c.ItemShare)
	return "dpConfig{" + strings.Join(f, ", ") + "}"
}
