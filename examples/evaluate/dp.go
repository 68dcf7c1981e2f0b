package main

import (
	"context"
	"fmt"
	"math"
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
	// Denoise denoises the pair counts by keeping what stands out of the
	// noise (recommend.ReleaseOptions.Denoise) and recommend's default
	// share of the rest, at most Rank directions if
	// Rank is positive.
	Denoise bool
	// ItemShare is the share of ε spent on the item counts (0: that of
	// dpSplit); the number of persons gets 1% and the pairs the rest.
	ItemShare float64
	// Lambda, if positive, makes the model EASE (recommend.TrainEASE)
	// over the pair items with this λ (recommend.EASEConfig.Lambda) and
	// Neighbors neighbours (0: recommend's default) instead of item-item;
	// Shrink then applies to its tail.
	Lambda float64
}

func (c dpConfig) String() string {
	var s string
	if c.Lambda > 0 {
		nb := c.Neighbors
		if nb == 0 {
			nb = recommend.DefaultEASENeighbors
		}
		s = fmt.Sprintf("EASE λ %g, pairs among %d items, %s, item prior %gσ, %d neighbours", c.Lambda, c.PairItems, c.denoising(), c.ItemPrior, nb)
	} else {
		s = fmt.Sprintf("item-item, pairs among %d items, %s, item prior %gσ, shrink %gσ, %d neighbours", c.PairItems, c.denoising(), c.ItemPrior, c.Shrink, c.Neighbors)
	}
	if c.ItemShare != 0 && c.ItemShare != dpSplit[1] {
		sp := c.split()
		s += fmt.Sprintf(", ε split %g/%g/%g", sp[0], sp[1], sp[2])
	}
	return s
}

// denoising says how c denoises the pair counts.
func (c dpConfig) denoising() string {
	switch {
	case c.Denoise && c.Rank > 0:
		return fmt.Sprintf("denoised (at most rank %d)", c.Rank)
	case c.Denoise:
		return "denoised"
	case c.Rank > 0:
		return fmt.Sprintf("rank %d", c.Rank)
	}
	return "not denoised"
}

// releaseKey is what a release depends on besides ε and the data: rows
// whose settings have the same key can share one release.
type releaseKey struct {
	pairItems int
	split     [3]float64
}

func (c dpConfig) key() releaseKey { return releaseKey{c.PairItems, c.split()} }

// split is how the release divides ε between the number of persons, the
// item counts and the pair counts (dp.CooccurrenceParams.Split).
func (c dpConfig) split() [3]float64 {
	if c.ItemShare == 0 {
		return dpSplit
	}
	return [3]float64{dpSplit[0], c.ItemShare, math.Round((1-dpSplit[0]-c.ItemShare)*1e6) / 1e6}
}

// dpSettings are the DP rows at one ε: the settings of the item-item row,
// of the EASE row and of the best row, whose release also gives the
// popularity row and the served row.
type dpSettings struct {
	ItemItem, EASE dpConfig
	Best           blendConfig
}

// The settings of each data set, every one chosen by one run of
// `evaluate -tune` per data set (default flags: -dp-runs 5, so two
// releases per DP setting, over the grids of tune.go) on its validation
// split, training data only (see the package comment), and pasted from
// what it printed: "chosen: …" for the exact rows, "as Go: …" for the DP
// rows of each ε. A rerun of -tune reproduces the exact rows' choice and
// the DP rows' up to the noise of the releases (TestTunedDPSettings checks
// that every entry is a candidate of the grids). An ε without an entry
// uses defaultDPSettings, which are not tuned.
var (
	defaultDP         = dpConfig{PairItems: 100, ItemPrior: 30, Shrink: 3, Neighbors: 50, Rank: 5}
	defaultDPSettings = dpSettings{
		ItemItem: defaultDP,
		EASE:     dpConfig{PairItems: 100, Lambda: 16, Neighbors: 100},
		Best:     blendConfig{dpConfig: defaultDP, PopForm: popItems, Beta: 0},
	}
	movieLensSettings = settings{
		itemItem: recommend.ItemItemConfig{Similarity: recommend.Jaccard, Neighbors: 100, Shrink: 5},
		iiDamp:   true,
		cosine:   recommend.ItemItemConfig{Similarity: recommend.Cosine, Neighbors: 100, Shrink: 5},
		cosDamp:  true,
		ease:     recommend.EASEConfig{Items: 3000, Lambda: 24, Neighbors: 1000, PopularityDamping: 0.2},
		easeDamp: true,
		dp: map[float64]dpSettings{
			0.5: {ItemItem: dpConfig{PairItems: 100, Rank: 5, Shrink: 3, Neighbors: 100}, EASE: dpConfig{PairItems: 100, Rank: 5, ItemPrior: 30, Lambda: 16}, Best: blendConfig{dpConfig{PairItems: 50, Denoise: true, ItemPrior: 30, Neighbors: 100, ItemShare: 0.6}, popPairs, 0.1}},
			1:   {ItemItem: dpConfig{PairItems: 100, Denoise: true, ItemPrior: 30, Neighbors: 50}, EASE: dpConfig{PairItems: 100, Denoise: true, ItemPrior: 30, Lambda: 64}, Best: blendConfig{dpConfig{PairItems: 50, Denoise: true, ItemPrior: 30, Shrink: 3, Neighbors: 100, ItemShare: 0.8}, popItems, 4}},
			2:   {ItemItem: dpConfig{PairItems: 100, Rank: 5, ItemPrior: 30, Neighbors: 50}, EASE: dpConfig{PairItems: 100, Denoise: true, Lambda: 4}, Best: blendConfig{dpConfig{PairItems: 100, Denoise: true, Lambda: 4}, popPairs, 0}},
			4:   {ItemItem: dpConfig{PairItems: 100, Rank: 10, ItemPrior: 30, Neighbors: 100}, EASE: dpConfig{PairItems: 50, Rank: 5, Lambda: 0.25}, Best: blendConfig{dpConfig{PairItems: 50, Rank: 5, Lambda: 0.25}, popItems, 0}},
			8:   {ItemItem: dpConfig{PairItems: 100, Rank: 10, Shrink: 3, Neighbors: 100}, EASE: dpConfig{PairItems: 100, Rank: 10, ItemPrior: 30, Lambda: 0.25}, Best: blendConfig{dpConfig{PairItems: 100, Rank: 10, ItemPrior: 30, Lambda: 0.25}, popItems, 0}},
		},
	}
	retailSettings = settings{
		itemItem: recommend.ItemItemConfig{Similarity: recommend.Jaccard, Neighbors: 10, Shrink: 5},
		iiDamp:   true,
		cosine:   recommend.ItemItemConfig{Similarity: recommend.Cosine, Neighbors: 10, Shrink: 5},
		ease:     recommend.EASEConfig{Items: 3000, Lambda: 3, Neighbors: 100},
		dp: map[float64]dpSettings{
			0.5: {ItemItem: dpConfig{PairItems: 100, Rank: 5, Shrink: 3, Neighbors: 10}, EASE: dpConfig{PairItems: 100, Rank: 10, ItemPrior: 30, Lambda: 0.25}, Best: blendConfig{dpConfig{PairItems: 50, Rank: 10, Lambda: 4, ItemShare: 0.6}, popItems, 0}},
			1:   {ItemItem: dpConfig{PairItems: 100, Shrink: 3, Neighbors: 10}, EASE: dpConfig{PairItems: 100, Rank: 10, Lambda: 0.25}, Best: blendConfig{dpConfig{PairItems: 100, Shrink: 3, Neighbors: 10}, popItems, 0.05}},
			2:   {ItemItem: dpConfig{PairItems: 200, Shrink: 3, Neighbors: 10}, EASE: dpConfig{PairItems: 200, Rank: 10, Lambda: 0.25}, Best: blendConfig{dpConfig{PairItems: 200, Shrink: 3, Neighbors: 10}, popItems, 0.05}},
			4:   {ItemItem: dpConfig{PairItems: 200, Denoise: true, Neighbors: 10}, EASE: dpConfig{PairItems: 200, Denoise: true, Lambda: 0.25}, Best: blendConfig{dpConfig{PairItems: 200, Neighbors: 10}, popItems, 0.25}},
			8:   {ItemItem: dpConfig{PairItems: 500, Shrink: 3, Neighbors: 50}, EASE: dpConfig{PairItems: 200, Denoise: true, Lambda: 0.25}, Best: blendConfig{dpConfig{PairItems: 500, Denoise: true, Neighbors: 10, ItemShare: 0.15}, popItems, 0}},
		},
	}
)

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

// dpCounts are the counts a DP row reads from its release (post-processing:
// recommend.CountsFromRelease with the row's prior and denoising).
func dpCounts(res *dp.Cooccurrences, c dpConfig) (*recommend.Counts, error) {
	return recommend.CountsFromRelease(res, recommend.ReleaseOptions{ItemPrior: c.ItemPrior, Rank: c.Rank, Denoise: c.Denoise})
}

// dpModel builds the model of a DP row from the counts of its release:
// EASE over the pair items when c.Lambda is positive, item-item otherwise.
func dpModel(cat *recommend.Catalog, counts *recommend.Counts, c dpConfig, base recommend.ItemItemConfig) (*recommend.ItemItem, error) {
	cfg := base
	cfg.Shrink = c.Shrink * counts.Noise()
	if cfg.Shrink == 0 {
		cfg.Shrink = -1 // none, rather than recommend's noise-aware default
	}
	if c.Neighbors > 0 {
		cfg.Neighbors = c.Neighbors
	}
	if c.Lambda > 0 {
		return recommend.TrainEASE(cat, counts, recommend.EASEConfig{
			Items: min(max(c.PairItems, 1), recommend.MaxEASEItems), Lambda: c.Lambda, Neighbors: c.Neighbors,
			Tail: cfg, Workers: workers,
		})
	}
	return recommend.NewItemItem(cat, counts, cfg)
}

// dpRelease is one release of a run and the rows it gives.
type dpRelease struct {
	res    *dp.Cooccurrences
	budget *dp.Budget
	took   time.Duration // counting and releasing
	rows   []string
	c      dpConfig // the settings of its first row
}

// dpSource gives the five DP rows at eps: "item-item DP", "EASE DP",
// "popularity (DP counts)", "best DP" and "served, defaults (DP)". Each run
// makes one release per distinct release setting (the pairs among as many
// items, the same split of ε) among the rows' settings, each from a budget
// of its own of exactly (eps, dpDelta): the item-item row reads the
// release of s.ItemItem, the EASE row that of s.EASE, and the popularity,
// best and served rows that of s.Best. The popularity row is the DP
// popularity of that release in the best row's form alone; the best row
// blends it with the model of s.Best; the served row is what
// recommend.Recommender serves with its defaults over the Model of the
// release's item counts and recommend's default EASE model of the
// release's counts (recommend.CountsFromRelease with no options). Every row
// is thus post-processing of one release of (eps, dpDelta).
func dpSource(eps float64, s dpSettings, cat *recommend.Catalog, base recommend.ItemItemConfig, o recommend.CountOptions, runs int) source {
	catalog := catalogIDs(cat)
	e := strconv.FormatFloat(eps, 'g', -1, 64)
	iiRow := "item-item DP ε=" + e
	easeRow := "EASE DP ε=" + e
	popRow := "popularity (DP counts ε=" + e + ")"
	bestRow := "best DP ε=" + e
	servedRow := servedName + " (DP ε=" + e + ")"
	var last []*dpRelease // the last run's releases
	return source{
		rows: []rowSpec{
			{name: iiRow, group: groupItemItemDP, eps: eps}, {name: easeRow, group: groupEASEDP, eps: eps},
			{name: popRow, group: groupPopDP, eps: eps}, {name: bestRow, group: groupBestDP, eps: eps},
			{name: servedRow, group: groupServedDP, eps: eps},
		},
		runs: runs,
		train: func(train []recommend.Interaction) ([]eval.Ranker, []time.Duration, error) {
			last = nil
			byKey := make(map[releaseKey]*dpRelease)
			get := func(c dpConfig, rows ...string) (*dpRelease, error) {
				if r, ok := byKey[c.key()]; ok {
					r.rows = append(r.rows, rows...)
					return r, nil
				}
				start := time.Now()
				res, budget, err := release(eps, c, catalog, train, o)
				if err != nil {
					return nil, err
				}
				r := &dpRelease{res: res, budget: budget, took: time.Since(start), rows: rows, c: c}
				byKey[c.key()] = r
				last = append(last, r)
				return r, nil
			}
			// model builds the model of c from release r, timing it.
			model := func(r *dpRelease, c dpConfig) (*recommend.ItemItem, time.Duration, error) {
				start := time.Now()
				counts, err := dpCounts(r.res, c)
				if err != nil {
					return nil, 0, err
				}
				m, err := dpModel(cat, counts, c, base)
				return m, time.Since(start), err
			}
			relII, err := get(s.ItemItem, iiRow)
			if err != nil {
				return nil, nil, err
			}
			relEASE, err := get(s.EASE, easeRow)
			if err != nil {
				return nil, nil, err
			}
			relBest, err := get(s.Best.dpConfig, popRow, bestRow, servedRow)
			if err != nil {
				return nil, nil, err
			}
			ii, tII, err := model(relII, s.ItemItem)
			if err != nil {
				return nil, nil, err
			}
			ease, tEASE, err := model(relEASE, s.EASE)
			if err != nil {
				return nil, nil, err
			}
			start := time.Now()
			pop, err := dpPopularity(cat, relBest.res, s.Best.PopForm)
			if err != nil {
				return nil, nil, err
			}
			tPop := time.Since(start)
			bm, tBest, err := model(relBest, s.Best.dpConfig)
			if err != nil {
				return nil, nil, err
			}
			start = time.Now()
			b := newBlend(neighboursOf(bm), pop)
			tBest += time.Since(start) + tPop

			start = time.Now()
			counts, err := recommend.CountsFromRelease(relBest.res, recommend.ReleaseOptions{})
			if err != nil {
				return nil, nil, err
			}
			itemPop, err := dpPopularity(cat, relBest.res, popItems)
			if err != nil {
				return nil, nil, err
			}
			srv, err := served(cat, itemPop, counts, recommend.EASEConfig{}, train)
			if err != nil {
				return nil, nil, err
			}
			tServed := time.Since(start)
			return []eval.Ranker{itemItemRanker(ii), itemItemRanker(ease), popularityRanker(pop), b.ranker(s.Best.Beta), srv},
				[]time.Duration{relII.took + tII, relEASE.took + tEASE, relBest.took + tPop, relBest.took + tBest, relBest.took + tServed}, nil
		},
		spent: func() string {
			if len(last) == 0 {
				return ""
			}
			var b strings.Builder
			for i, r := range last {
				name := "one release per run"
				if len(last) > 1 {
					name = "release " + string(rune('A'+i)) + " per run"
				}
				fmt.Fprintf(&b, "ε=%g, %s, for %s: %s\n", eps, name, strings.Join(r.rows, ", "), spentNote(r.res, r.budget, r.c))
			}
			fmt.Fprintf(&b, "  %s: %s\n  %s: %s\n  %s: popularity from %s; %s: %s\n  %s: recommend's defaults (no prior, no denoising, EASEConfig{}, Config{}), popularity from %s",
				iiRow, s.ItemItem, easeRow, s.EASE, popRow, popForms[s.Best.PopForm], bestRow, s.Best, servedRow, popForms[popItems])
			if len(last) > 1 {
				fmt.Fprintf(&b, "\n  the releases are independent alternatives (a deployment makes one): each row costs one release of (%g, %g), not more", eps, dpDelta)
			}
			return b.String()
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
		"pairs among the %d most counted items ε=%.3g δ=%.3g (Gaussian, σ=%.3g); weighted persons (norm 1); "+
		"the two Gaussians compose exactly to the rest of ε and all of δ",
		res.Epsilon, res.Delta, te, td, re, rd,
		res.PersonNoise.Epsilon, len(res.Items), in.Epsilon, in.Delta, in.StdDev(),
		min(c.PairItems, len(res.Items)), pn.Epsilon, pn.Delta, pn.StdDev())
}
