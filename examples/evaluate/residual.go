package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/eval"
)

// parseShares parses the -residuals flag: comma-separated shares, each in
// [0, 1] (0: no residual, rather than recommend's default). The ratios
// are to no residual, so 0 is put first if it is missing.
func parseShares(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(x >= 0 && x <= 1) {
			return nil, fmt.Errorf("%w: -residuals %q: each share must be a number in [0, 1]", errUsage, s)
		}
		out = append(out, x)
	}
	if !slices.Contains(out, 0) {
		out = slices.Insert(out, 0, 0)
	}
	return out, nil
}

// sweepResidual compares shares of recommend.ReleaseOptions.Residual on
// every DP model of set that denoises (a rank or Denoise) at each of
// epsilons: per model and split (validation, then test), runs releases,
// each read with every share (share 0: none), and the model's nDCG@k. It
// ends with, per share and split, the geometric mean over the models of
// the ratio to no residual, the smallest ratio, and how many models score
// below no residual. The choice of recommend.DefaultResidual reads the
// validation lines only.
func sweepResidual(w io.Writer, name string, cat *recommend.Catalog, test, val eval.Split, k int, set settings, o recommend.CountOptions, epsilons, shares []float64, runs int) error {
	catalog := catalogIDs(cat)
	fmt.Fprintf(w, "%s: nDCG@%d of the DP models that denoise, by share of the residual kept: %v (mean of %d releases)\n", name, k, shares, runs)
	logs := [2][]float64{make([]float64, len(shares)), make([]float64, len(shares))}
	worst := [2][]float64{make([]float64, len(shares)), make([]float64, len(shares))}
	for _, ws := range worst {
		for i := range ws {
			ws[i] = math.Inf(1)
		}
	}
	below := [2][]int{make([]int, len(shares)), make([]int, len(shares))}
	var models int
	var compared [2]int // models whose nDCG without residual is positive
	none := slices.Index(shares, 0)
	for _, eps := range epsilons {
		s := set.dpFor(eps)
		for ri, c := range []dpConfig{s.ItemItem, s.EASE, s.Best.dpConfig} {
			if c.Rank == 0 && !c.Denoise {
				continue
			}
			models++
			for si, sp := range []eval.Split{val, test} {
				sums := make([]float64, len(shares))
				for range runs {
					res, _, err := release(eps, c, catalog, sp.Train, o)
					if err != nil {
						return err
					}
					for i, share := range shares {
						if share == 0 {
							share = -1 // none
						}
						counts, err := recommend.CountsFromRelease(res, recommend.ReleaseOptions{ItemPrior: c.ItemPrior, Rank: c.Rank, Denoise: c.Denoise, Residual: share})
						if err != nil {
							return err
						}
						m, err := dpModel(cat, counts, c, set.itemItem)
						if err != nil {
							return err
						}
						sums[i] += eval.Evaluate(sp, k, cat.Len(), itemItemRanker(m)).NDCG / float64(runs)
					}
				}
				fmt.Fprintf(w, "  ε=%g %-9s %-10s %s:", eps, []string{"item-item", "EASE", "best"}[ri], []string{"validation", "test"}[si], c)
				for _, x := range sums {
					fmt.Fprintf(w, " %.4f", x)
				}
				fmt.Fprintln(w)
				if sums[none] == 0 {
					continue // no ratio to none
				}
				compared[si]++
				for i, x := range sums {
					r := x / sums[none]
					logs[si][i] += math.Log(r)
					worst[si][i] = min(worst[si][i], r)
					if r < 1 {
						below[si][i]++
					}
				}
			}
		}
	}
	if models == 0 {
		fmt.Fprintf(w, "  no DP model denoises\n\n")
		return nil
	}
	for si, split := range []string{"validation", "test"} {
		fmt.Fprintf(w, "  %s, over %d models", split, compared[si])
		if n := models - compared[si]; n > 0 {
			fmt.Fprintf(w, " (%d more score 0 without residual: no ratio)", n)
		}
		fmt.Fprintln(w, ":")
		if compared[si] == 0 {
			continue
		}
		for i, share := range shares {
			fmt.Fprintf(w, "    share %g: geometric mean ratio to none %.4f, smallest %.3f, below none in %d\n",
				share, math.Exp(logs[si][i]/float64(compared[si])), worst[si][i], below[si][i])
		}
	}
	fmt.Fprintln(w)
	return nil
}
