package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/eval"
)

// defaultBiasEpsilons are the ε of the DP models the bias audit puts
// beside the exact ones unless -bias-epsilons says otherwise.
const defaultBiasEpsilons = "1,8"

// biasSpec is what the bias audit of one data set needs beyond the split.
type biasSpec struct {
	slug     string // file name prefix of the charts
	data     dataset
	epsilons []float64
	runs     int
	svgDir   string // "" writes no chart
}

// audited is the audit of one model: its report and, for a model with
// several DP releases, the report of each release alone.
type audited struct {
	name   string
	eps    float64 // 0: exact counts
	report eval.AuditReport
	perRun []eval.AuditReport
}

// biasComparison is one exact-vs-DP comparison: base is the exact model,
// other the DP one; perRun compares base with each release alone.
type biasComparison struct {
	base, other *audited
	cmp         eval.Comparison
	perRun      []eval.Comparison
}

// runBias audits, on the test split s, the exact models (popularity,
// item-item, EASE and what tact serves with its defaults) and, at each
// ε of b, the best DP model and what tact serves from the release,
// averaged over b.runs releases; it prints the audit tables, the
// comparisons of EASE (exact) with the best DP model and of the served
// rows, and its answer to "does privacy cost some segments more than
// others?". The rows are trained again, so the DP releases are not those
// of the table above (they are as many, from budgets of their own).
func runBias(w io.Writer, name string, cat *recommend.Catalog, s eval.Split, k int, set settings, o recommend.CountOptions, b biasSpec) error {
	activity, err := eval.ActivityLevels(s)
	if err != nil {
		return err
	}
	opts := eval.AuditOptions{Segmentations: []eval.Segmentation{activity}, MinSegment: k}
	if b.data.country != nil {
		country := b.data.country
		opts.Segmentations = append(opts.Segmentations, eval.Segmentation{Name: "country", Of: func(p string) string { return country[p] }})
	}
	if b.data.group != nil {
		group := b.data.group
		of := func(item string) string { return group[item] }
		opts.Groupings = []eval.Grouping{{Name: b.data.groupName, Of: of}}
		opts.Category = of
	} else {
		opts.Category = func(string) string { return "" }
	}
	a, err := eval.NewAuditor(s, k, cat, opts)
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "## Bias audit: %s\n\n", name)
	fmt.Fprintf(w, "Segments: activity (terciles of the number of distinct training items)")
	if b.data.country != nil {
		fmt.Fprintf(w, " and country (of the customer's first order line)")
	}
	fmt.Fprintf(w, "; segments with fewer than k=%d persons are hidden. Items: %s.\n", k, b.data.groupNote)
	fmt.Fprintf(w, "DP models: the best DP row and the served row at ε=%s, each the mean of %d releases (trained again for the audit).\n\n", joinFloats(b.epsilons), b.runs)

	var models []*audited
	exact := []source{
		popularitySource(cat, o),
		exactSource(cat, set.itemItem, damped(o, set.iiDamp)),
		easeSource(cat, set.ease, damped(o, set.easeDamp)),
		servedSource(cat, recommend.EASEConfig{}, o, o),
	}
	for _, src := range exact {
		rankers, _, err := src.train(s.Train)
		if err != nil {
			return fmt.Errorf("%s: %w", src.rows[0].name, err)
		}
		r, err := a.Audit(rankers[0])
		if err != nil {
			return err
		}
		models = append(models, &audited{name: src.rows[0].name, report: r})
	}
	easeExact, servedExact := models[2], models[3]
	var comparisons []biasComparison
	for _, eps := range b.epsilons {
		src := dpSource(eps, set.dpFor(eps), cat, set.itemItem, o, b.runs)
		// The rows of dpSource: item-item, EASE, popularity, best, served.
		const bestRow, servedRow = 3, 4
		best := &audited{name: src.rows[bestRow].name, eps: eps}
		srv := &audited{name: src.rows[servedRow].name, eps: eps}
		var bestRankers, servedRankers []eval.Ranker
		for range b.runs {
			rankers, _, err := src.train(s.Train)
			if err != nil {
				return fmt.Errorf("%s: %w", best.name, err)
			}
			bestRankers = append(bestRankers, rankers[bestRow])
			servedRankers = append(servedRankers, rankers[servedRow])
		}
		for _, m := range []struct {
			a       *audited
			rankers []eval.Ranker
			base    *audited
		}{{best, bestRankers, easeExact}, {srv, servedRankers, servedExact}} {
			if m.a.report, err = a.Audit(m.rankers...); err != nil {
				return err
			}
			c := biasComparison{base: m.base, other: m.a}
			if c.cmp, err = eval.Compare(m.base.report, m.a.report); err != nil {
				return err
			}
			for _, r := range m.rankers {
				one, err := a.Audit(r)
				if err != nil {
					return err
				}
				m.a.perRun = append(m.a.perRun, one)
				pc, err := eval.Compare(m.base.report, one)
				if err != nil {
					return err
				}
				c.perRun = append(c.perRun, pc)
			}
			models = append(models, m.a)
			comparisons = append(comparisons, c)
		}
	}

	fmt.Fprintf(w, "### Overview (all persons)\n\n")
	overview(w, models)
	for _, m := range models {
		fmt.Fprintf(w, "\n### %s\n\n", m.name)
		if err := m.report.WriteTable(w); err != nil {
			return err
		}
	}
	for _, c := range comparisons {
		fmt.Fprintf(w, "\n### Exact vs DP: base %s, other %s\n\n", c.base.name, c.other.name)
		if err := c.cmp.WriteTable(w); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\n### Does privacy cost some segments more than others?\n\n")
	for _, c := range comparisons {
		for i := range c.cmp.Segmentations {
			fmt.Fprintf(w, "- %s\n", answer(c, i))
		}
	}
	fmt.Fprintln(w)
	if b.svgDir != "" {
		paths, err := writeBiasCharts(b.svgDir, b.slug, name, b.data.groupOrdinal, models, comparisons)
		if err != nil {
			return err
		}
		for _, p := range paths {
			fmt.Fprintf(w, "wrote %s\n", p)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// overview prints one line per audited model: the overall figures.
func overview(w io.Writer, models []*audited) {
	fmt.Fprintf(w, "| %-32s | %6s | %6s | %8s | %9s | %6s | %8s | %5s | %11s |\n", "model", "nDCG", "recall", "pop.", "long tail", "Gini", "coverage", "KL", "worst gap")
	fmt.Fprintf(w, "|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n", dashes(34), dashes(8), dashes(8), dashes(10), dashes(11), dashes(8), dashes(10), dashes(7), dashes(13))
	for _, m := range models {
		r := m.report
		gap := "-"
		for _, s := range r.Segmentations {
			if !math.IsNaN(s.NDCGGap) {
				gap = fmt.Sprintf("%.3f %s", s.NDCGGap, s.Name)
				break
			}
		}
		fmt.Fprintf(w, "| %-32s | %6s | %6s | %8s | %9s | %6s | %8s | %5s | %11s |\n", m.name, f3(r.All.NDCG), f3(r.All.Recall),
			f1(r.All.Popularity), pctf(r.All.LongTail), f3(r.Gini), pctf(r.Coverage), f3(r.All.Calibration), gap)
	}
	fmt.Fprintf(w, "\npop.: mean popularity (training persons) of the recommended items; long tail: share of places holding an item outside the popular head; KL: calibration; worst gap: nDCG gap between the best and worst segment of the first segmentation.\n")
}

// answer says, from the numbers, which segment of segmentation i the
// other (DP) model of c costs most and least, and whether the difference
// stands out of the noise of the releases.
func answer(c biasComparison, i int) string {
	sc := c.cmp.Segmentations[i]
	all := c.cmp.All
	head := fmt.Sprintf("%s vs %s, by %s: overall it keeps %s of the exact nDCG", c.other.name, c.base.name, sc.Name, pctf(all.NDCGRatio))
	if sc.Hardest == "" {
		return head + "; fewer than two segments shown, nothing to compare"
	}
	hard, easy := segChange(sc, sc.Hardest), segChange(sc, sc.Easiest)
	sdH, sdE := ratioSD(c.perRun, sc.Name, sc.Hardest), ratioSD(c.perRun, sc.Name, sc.Easiest)
	n := float64(len(c.perRun))
	se := math.Sqrt((sdH*sdH + sdE*sdE) / n)
	verdict := "yes, beyond the noise of the releases"
	switch {
	case len(c.perRun) < 2:
		verdict = "cannot tell the noise apart with one release"
	case sc.RatioGap < 2*se:
		verdict = "no clear difference: within twice the standard error of the releases"
	}
	if small := min(hard.Users, easy.Users); small < smallSegment {
		verdict += fmt.Sprintf("; but a segment of %d persons is a handful of lists, so the figure says little about its people beyond them (the noise counted is the releases', not the choice of persons)", small)
	}
	return fmt.Sprintf("%s; it costs %s most (keeps %s: nDCG %.3f → %.3f, %d persons) and %s least (keeps %s: %.3f → %.3f, %d persons), a gap of %.0f points of the exact nDCG (± %.0f, one standard error over %d releases): %s",
		head, sc.Hardest, pctf(hard.NDCGRatio), hard.Base.NDCG, hard.Other.NDCG, hard.Users,
		sc.Easiest, pctf(easy.NDCGRatio), easy.Base.NDCG, easy.Other.NDCG, easy.Users,
		100*sc.RatioGap, 100*se, len(c.perRun), verdict)
}

// smallSegment is the size under which answer warns that a segment's
// figures rest on few persons.
const smallSegment = 50

// segChange returns the change of segment label in sc.
func segChange(sc eval.SegmentsChange, label string) eval.SliceChange {
	for _, s := range sc.Segments {
		if s.Label == label {
			return s
		}
	}
	return eval.SliceChange{NDCGRatio: math.NaN()}
}

// ratioSD is the standard deviation over the releases of the nDCG ratio
// of one segment (0 with fewer than two).
func ratioSD(perRun []eval.Comparison, segmentation, label string) float64 {
	return sd(ratiosOf(perRun, segmentation, label))
}

func sd(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	var s, q float64
	for _, x := range xs {
		s += x
		q += x * x
	}
	n := float64(len(xs))
	return math.Sqrt(max(0, (q-s*s/n)/(n-1)))
}

func f3(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	return fmt.Sprintf("%.3f", x)
}

func f1(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	return fmt.Sprintf("%.1f", x)
}

func pctf(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*x)
}

func joinFloats(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strings.Join(s, " and ")
}
