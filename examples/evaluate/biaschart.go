package main

import (
	"cmp"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tact-go/tact/examples/internal/chart"
	"github.com/tact-go/tact/recommend/eval"
)

// writeBiasCharts writes the charts of the bias audit of one data set
// into dir, each file named slug-<chart>.svg, and returns their paths:
// per segmentation, nDCG per segment of the exact and DP models
// (ndcg-<segmentation>) and the share of the exact nDCG each segment
// keeps under DP (kept-<segmentation>); per grouping, exposure against
// catalog share (exposure; groups in label order if ordinal, else the
// largest first); and the long-tail share and coverage of every
// model (popularity). DP values carry a whisker of ± one standard
// deviation over the releases.
func writeBiasCharts(dir, slug, name string, ordinal bool, models []*audited, comps []biasComparison) ([]string, error) {
	name, _, _ = strings.Cut(strings.TrimPrefix(name, "UCI "), " ") // "MovieLens", "Online"
	if slug == "retail" {
		name = "Online Retail"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var bests []biasComparison // EASE (exact) against the best DP model, per ε
	for _, c := range comps {
		if strings.HasPrefix(c.other.name, "best DP") {
			bests = append(bests, c)
		}
	}
	type file struct {
		name string
		c    interface{ SVG() ([]byte, error) }
	}
	var files []file
	exactModels := models[1:3] // item-item and EASE on exact counts
	if len(bests) > 0 {
		for si, sc := range bests[0].cmp.Segmentations {
			labels := []string{"all"}
			for _, s := range sc.Segments {
				labels = append(labels, s.Label)
			}
			// nDCG per segment.
			var ndcg []chart.Series
			for _, m := range exactModels {
				ndcg = append(ndcg, sliceSeries(shortName(m.name), labels, []eval.AuditReport{m.report}, sc.Name, nil))
			}
			for _, c := range bests {
				ndcg = append(ndcg, sliceSeries(shortName(c.other.name), labels, []eval.AuditReport{c.other.report}, sc.Name, c.other.perRun))
			}
			files = append(files, file{"ndcg-" + sc.Name, chart.Bars{Common: chart.Common{ID: slug + "-ndcg-" + sc.Name,
				Title: fmt.Sprintf("%s: nDCG@%d by %s, exact and DP", name, bests[0].cmp.K, sc.Name),
				Desc: fmt.Sprintf("nDCG@%d of item-item and EASE on exact counts and of the best DP model at each ε, for all persons and per %s segment shown (at least %d persons). DP bars are the mean of %d releases, whiskers ± one standard deviation.",
					bests[0].cmp.K, sc.Name, bests[0].base.report.MinSegment, len(bests[0].perRun)),
				XLabel: axisLabel(sc.Name), YLabel: fmt.Sprintf("nDCG@%d", bests[0].cmp.K)},
				Categories: withUsers(labels, bests[0].cmp.All, sc.Segments), Series: ndcg}})
			// Share of the exact nDCG kept.
			var kept []chart.Series
			for _, c := range bests {
				kept = append(kept, keptSeries(fmt.Sprintf("ε=%g", c.other.eps), labels, c, si))
			}
			files = append(files, file{"kept-" + sc.Name, chart.Bars{Common: chart.Common{ID: slug + "-kept-" + sc.Name,
				Title: fmt.Sprintf("%s: nDCG the best DP model keeps, by %s", name, sc.Name),
				Desc: fmt.Sprintf("The best DP model's nDCG over that of EASE on exact counts, for all persons and per %s segment, at each ε; 100%% is no cost. Whiskers: ± one standard deviation over %d releases. %s",
					sc.Name, len(bests[0].perRun), hardest(bests[len(bests)-1], si)),
				XLabel: axisLabel(sc.Name), YLabel: "share of the exact nDCG kept", Format: chart.Percent},
				Categories: withUsers(labels, bests[0].cmp.All, sc.Segments), Series: kept}})
		}
	}
	// Exposure against catalog share: groups under 1% of the catalog and of every model's exposure
	// merged into "other".
	ease := models[2]
	for gi, e := range ease.report.Exposure {
		reports := [][]eval.AuditReport{{ease.report}}
		names := []string{shortName(ease.name)}
		for _, c := range bests {
			reports = append(reports, c.other.perRun)
			names = append(names, shortName(c.other.name))
		}
		groups := groupOrder(e.Groups, reports, gi, ordinal)
		labels := make([]string, len(groups))
		cs := chart.Series{Name: "share of the catalog", Values: make([]float64, len(groups))}
		for i, g := range groups {
			labels[i] = g.label
			for _, j := range g.of {
				cs.Values[i] += e.Groups[j].CatalogShare
			}
		}
		series := []chart.Series{cs}
		for i, rs := range reports {
			series = append(series, exposureSeries(names[i], rs, gi, groups))
		}
		files = append(files, file{"exposure", chart.Bars{Common: chart.Common{ID: slug + "-exposure",
			Title:  fmt.Sprintf("%s: exposure by %s against the catalog", name, e.Name),
			Desc:   fmt.Sprintf("Each %s's share of the catalog and its share of the position-weighted exposure (1/log2(rank+1)) in the top-%d lists of EASE on exact counts and of the best DP model at each ε (mean of its releases, whiskers ± one standard deviation). Groups under 1%% of the catalog and of every exposure are merged into \"other\".", e.Name, ease.report.K),
			XLabel: e.Name, YLabel: "share", Format: chart.Percent},
			Categories: labels, Series: series, Horizontal: true}})
	}
	// Popularity bias: long tail and coverage per model.
	names := make([]string, len(models))
	tail := chart.Series{Name: "long-tail share of the places", Values: make([]float64, len(models)), Lower: make([]float64, len(models)), Upper: make([]float64, len(models))}
	cov := chart.Series{Name: "catalog coverage", Values: make([]float64, len(models)), Lower: make([]float64, len(models)), Upper: make([]float64, len(models))}
	var gini []string
	for i, m := range models {
		names[i] = m.name
		tail.Values[i], tail.Lower[i], tail.Upper[i] = spread(m, func(r eval.AuditReport) float64 { return r.All.LongTail })
		cov.Values[i], cov.Lower[i], cov.Upper[i] = spread(m, func(r eval.AuditReport) float64 { return r.Coverage })
		gini = append(gini, fmt.Sprintf("%s %.2f", m.name, m.report.Gini))
	}
	files = append(files, file{"popularity", chart.Bars{Common: chart.Common{ID: slug + "-popularity",
		Title:  fmt.Sprintf("%s: long tail and catalog coverage per model", name),
		Desc:   fmt.Sprintf("Share of the places of the top-%d lists holding a long-tail item (outside the %d most popular items, which make 80%% of training interactions), and share of the catalog recommended to anyone. Gini index of exposure: %s.", models[0].report.K, models[0].report.HeadItems, strings.Join(gini, "; ")),
		XLabel: "model", YLabel: "share", Format: chart.Percent},
		Categories: names, Series: []chart.Series{tail, cov}, Horizontal: true}})

	var paths []string
	for _, f := range files {
		svg, err := f.c.SVG()
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", f.name, err)
		}
		p := filepath.Join(dir, slug+"-"+f.name+".svg")
		if err := os.WriteFile(p, svg, 0o644); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// shortName shortens "(exact counts)" in a row name to "(exact)".
func shortName(s string) string { return strings.Replace(s, "(exact counts)", "(exact)", 1) }

// withUsers labels categories with their number of persons.
func withUsers(labels []string, all eval.SliceChange, segs []eval.SliceChange) []string {
	out := make([]string, len(labels))
	for i, l := range labels {
		n := all.Users
		if i > 0 {
			n = segs[i-1].Users
		}
		out[i] = fmt.Sprintf("%s (%d)", l, n)
	}
	return out
}

// slice returns the slice label ("all" or a segment of segmentation seg)
// of r, ok false if it is not shown.
func slice(r eval.AuditReport, seg, label string) (eval.Slice, bool) {
	if label == "all" {
		return r.All, true
	}
	for _, s := range r.Segmentations {
		if s.Name == seg {
			for _, x := range s.Shown {
				if x.Label == label {
					return x, true
				}
			}
		}
	}
	return eval.Slice{}, false
}

// sliceSeries is the nDCG of each label in the mean reports, with a
// whisker of ± one standard deviation over perRun if it has two or more.
func sliceSeries(name string, labels []string, reports []eval.AuditReport, seg string, perRun []eval.AuditReport) chart.Series {
	s := chart.Series{Name: name, Values: make([]float64, len(labels))}
	if len(perRun) > 1 {
		s.Lower, s.Upper = make([]float64, len(labels)), make([]float64, len(labels))
	}
	for i, l := range labels {
		s.Values[i] = math.NaN()
		if x, ok := slice(reports[0], seg, l); ok {
			s.Values[i] = x.NDCG
		}
		if s.Lower != nil {
			var xs []float64
			for _, r := range perRun {
				if x, ok := slice(r, seg, l); ok {
					xs = append(xs, x.NDCG)
				}
			}
			d := sd(xs)
			s.Lower[i], s.Upper[i] = max(s.Values[i]-d, 0), s.Values[i]+d
		}
	}
	return s
}

// keptSeries is the nDCG ratio of each label in segmentation si of c.
func keptSeries(name string, labels []string, c biasComparison, si int) chart.Series {
	s := chart.Series{Name: name, Values: make([]float64, len(labels)), Lower: make([]float64, len(labels)), Upper: make([]float64, len(labels))}
	seg := c.cmp.Segmentations[si].Name
	for i, l := range labels {
		var xs []float64
		if i == 0 {
			s.Values[i] = c.cmp.All.NDCGRatio
			for _, pc := range c.perRun {
				xs = append(xs, pc.All.NDCGRatio)
			}
		} else {
			s.Values[i] = segChange(c.cmp.Segmentations[si], l).NDCGRatio
			xs = append(xs, ratiosOf(c.perRun, seg, l)...)
		}
		d := sd(xs)
		s.Lower[i], s.Upper[i] = max(s.Values[i]-d, 0), s.Values[i]+d
		if len(xs) < 2 {
			s.Lower[i], s.Upper[i] = math.NaN(), math.NaN()
		}
	}
	return s
}

func ratiosOf(perRun []eval.Comparison, seg, label string) []float64 {
	var xs []float64
	for _, c := range perRun {
		for _, sc := range c.Segmentations {
			if sc.Name == seg {
				if x := segChange(sc, label).NDCGRatio; !math.IsNaN(x) {
					xs = append(xs, x)
				}
			}
		}
	}
	return xs
}

// hardest says which segment the comparison costs most, for a chart's
// description.
func hardest(c biasComparison, si int) string {
	sc := c.cmp.Segmentations[si]
	if sc.Hardest == "" {
		return ""
	}
	return fmt.Sprintf("At ε=%g it costs %s most (keeps %s) and %s least (keeps %s).", c.other.eps,
		sc.Hardest, pctf(segChange(sc, sc.Hardest).NDCGRatio), sc.Easiest, pctf(segChange(sc, sc.Easiest).NDCGRatio))
}

// chartGroup is a bar of the exposure chart: one group or several merged.
type chartGroup struct {
	label string
	of    []int // indexes into the grouping's groups
}

// groupOrder orders the groups of grouping gi, in label order if ordinal,
// else by catalog share, largest first, merging into a last "other" those
// under 1% of the catalog and of the exposure of every report.
func groupOrder(groups []eval.GroupShare, reports [][]eval.AuditReport, gi int, ordinal bool) []chartGroup {
	var out []chartGroup
	other := chartGroup{}
	idx := make([]int, len(groups))
	for i := range idx {
		idx[i] = i
	}
	if !ordinal {
		slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(groups[b].CatalogShare, groups[a].CatalogShare) })
	}
	for _, i := range idx {
		small := groups[i].CatalogShare < 0.01
		for _, rs := range reports {
			for _, r := range rs {
				if x := r.Exposure[gi].Groups[i].Exposure; x >= 0.01 {
					small = false
				}
			}
		}
		if small {
			other.of = append(other.of, i)
			continue
		}
		out = append(out, chartGroup{label: label(groups[i].Group), of: []int{i}})
	}
	if len(other.of) == 1 {
		i := other.of[0]
		out = append(out, chartGroup{label: label(groups[i].Group), of: other.of})
	} else if len(other.of) > 1 {
		other.label = fmt.Sprintf("other (%d)", len(other.of))
		out = append(out, other)
	}
	return out
}

// label is a group label for a chart, "(none)" for "".
func label(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// exposureSeries is the exposure share of each chart group of grouping
// gi, the mean over reports with a whisker of ± one standard deviation
// (floored at 0) if there are two or more.
func exposureSeries(name string, reports []eval.AuditReport, gi int, groups []chartGroup) chart.Series {
	n := len(groups)
	s := chart.Series{Name: name, Values: make([]float64, n)}
	if len(reports) > 1 {
		s.Lower, s.Upper = make([]float64, n), make([]float64, n)
	}
	for i, g := range groups {
		var xs []float64
		for _, r := range reports {
			x := 0.0
			for _, j := range g.of {
				x += r.Exposure[gi].Groups[j].Exposure
			}
			xs = append(xs, x)
		}
		m := 0.0
		for _, x := range xs {
			m += x
		}
		s.Values[i] = m / float64(len(xs))
		if s.Lower != nil {
			d := sd(xs)
			s.Lower[i], s.Upper[i] = max(s.Values[i]-d, 0), s.Values[i]+d
		}
	}
	return s
}

// spread is figure f of m's report, with ± one standard deviation over
// its releases (NaN bounds for an exact model).
func spread(m *audited, f func(eval.AuditReport) float64) (v, lo, hi float64) {
	v = f(m.report)
	if len(m.perRun) < 2 {
		return v, math.NaN(), math.NaN()
	}
	var xs []float64
	for _, r := range m.perRun {
		xs = append(xs, f(r))
	}
	d := sd(xs)
	return v, max(v-d, 0), v + d
}

// axisLabel names the axis of a segmentation's segments.
func axisLabel(seg string) string {
	if seg == "activity" {
		return "activity: distinct training items (persons)"
	}
	return seg + " (persons)"
}
