package main

import (
	"cmp"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tact-go/tact/dp/trust"
	"github.com/tact-go/tact/examples/internal/chart"
	"github.com/tact-go/tact/recommend"
)

// A drawing is one chart of the report, with the file it goes to and what
// it shows.
type drawing struct {
	file  string
	about string
	chart interface{ SVG() ([]byte, error) }
}

// writeCharts draws the report's charts into dir and returns their paths
// with what each shows.
func writeCharts(rep *trust.Report, dir string) ([][2]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out [][2]string
	for _, d := range drawings(rep) {
		svg, err := d.chart.SVG()
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", d.file, err)
		}
		path := filepath.Join(dir, d.file)
		if err := os.WriteFile(path, svg, 0o644); err != nil {
			return nil, err
		}
		out = append(out, [2]string{path, d.about})
	}
	return out, nil
}

// sum adds released counts: the values and the bounds (a conservative
// interval for the sum). It is released if any part is.
func sum(es ...trust.Estimate) trust.Estimate {
	var s trust.Estimate
	for _, e := range es {
		if e.Released {
			s.Value, s.Lower, s.Upper, s.Released = s.Value+e.Value, s.Lower+e.Lower, s.Upper+e.Upper, true
		}
	}
	return s
}

// series turns estimates into a chart series with intervals; what was
// not released is missing.
func series(name string, es []trust.Estimate) chart.Series {
	s := chart.Series{Name: name, Values: make([]float64, len(es)), Lower: make([]float64, len(es)), Upper: make([]float64, len(es))}
	for i, e := range es {
		s.Values[i], s.Lower[i], s.Upper[i] = math.NaN(), math.NaN(), math.NaN()
		if e.Released {
			s.Values[i], s.Lower[i], s.Upper[i] = e.Value, e.Lower, e.Upper
		}
	}
	return s
}

func shares(name string, rs []trust.Ratio) chart.Series {
	es := make([]trust.Estimate, len(rs))
	for i, r := range rs {
		es[i] = trust.Estimate(r)
	}
	return series(name, es)
}

func drawings(rep *trust.Report) []drawing {
	weeks := make([]string, len(rep.Buckets))
	index := make(map[time.Time]int, len(rep.Buckets))
	for i, b := range rep.Buckets {
		weeks[i], index[b] = b.Format("Jan 2"), i
	}
	unit := rep.Period.String()
	fine := fmt.Sprintf("Counts are differentially private (ε=%s for the whole report); whiskers and bands are %s%% confidence intervals; groups of fewer than %d people are left out.",
		strconv.FormatFloat(rep.Epsilon, 'g', 3, 64), strconv.FormatFloat(100*(1-rep.Alpha), 'g', 3, 64), rep.MinPersons)
	var out []drawing

	// Consent changes by purpose and by channel over the whole report.
	consent := func(file, title, axis string, rows []trust.ConsentRow) {
		rows = slices.Clone(rows)
		slices.SortStableFunc(rows, func(a, b trust.ConsentRow) int { return cmp.Compare(total(b), total(a)) })
		keys := make([]string, len(rows))
		var cols [3][]trust.Estimate
		for i, r := range rows {
			keys[i] = r.Key
			cols[0], cols[1], cols[2] = append(cols[0], r.Grants), append(cols[1], r.Denials), append(cols[2], r.Withdrawals)
		}
		if len(keys) == 0 {
			keys, cols = []string{"(none shown)"}, [3][]trust.Estimate{{{}}, {{}}, {{}}}
		}
		out = append(out, drawing{file: file,
			about: "grants, denials and withdrawals per " + axis + " over the report (people per " + unit + ", summed)",
			chart: chart.Bars{Common: chart.Common{ID: strings.TrimSuffix(file, ".svg"), Title: title,
				Desc: "Grants, denials and withdrawals of consent per " + axis + " over " + strconv.Itoa(len(weeks)) + " " + unit +
					"s: the people of each " + unit + ", summed. " + fine,
				XLabel: axis, YLabel: "people per " + unit + ", summed over " + strconv.Itoa(len(weeks)) + " " + unit + "s"},
				Categories: keys, Horizontal: true,
				Series: []chart.Series{series("grants", cols[0]), series("denials", cols[1]), series("withdrawals", cols[2])}}})
	}
	if rep.GPC != nil {
		consent("consent-by-purpose.svg", "Consent changes by purpose", "purpose", rep.PurposeTotals)
		consent("consent-by-channel.svg", "Consent changes by channel", "channel", rep.ChannelTotals)

		share := make([]trust.Ratio, len(weeks))
		for _, r := range rep.GPC {
			share[index[r.Bucket]] = r.Share
		}
		out = append(out, drawing{file: "gpc-share.svg",
			about: "share of the people who opted out of something whose opt-out came from a Global Privacy Control signal, per " + unit,
			chart: chart.Lines{Common: chart.Common{ID: "gpc-share", Title: "Opt-outs that came from Global Privacy Control",
				Desc:   "Of the people who denied or withdrew consent in a " + unit + ", the share whose opt-out came from a GPC signal. " + fine,
				XLabel: unit, YLabel: "share of people opting out", Format: chart.Percent, Max: 1},
				X: weeks, Series: []chart.Series{shares("from GPC", share)}}})

	}
	if rep.Reconsent != nil {
		var purposes []string
		for _, r := range rep.Reconsent {
			if !slices.Contains(purposes, string(r.Purpose)) {
				purposes = append(purposes, string(r.Purpose))
			}
		}
		slices.Sort(purposes)
		var ss []chart.Series
		for _, p := range purposes {
			es := make([]trust.Estimate, len(weeks))
			for _, r := range rep.Reconsent {
				if string(r.Purpose) == p {
					es[index[r.Bucket]] = r.People
				}
			}
			ss = append(ss, series(p, es))
		}
		if ss == nil {
			ss = []chart.Series{series("re-consent", make([]trust.Estimate, len(weeks)))}
		}
		out = append(out, drawing{file: "reconsent.svg",
			about: "people who granted again under a newer policy version, per " + unit + " and purpose",
			chart: chart.Bars{Common: chart.Common{ID: "reconsent", Title: "Re-consent after the policy change",
				Desc:   "People who granted a purpose again under a newer policy version, having granted it under an older one, per " + unit + ". " + fine,
				XLabel: unit, YLabel: "people"},
				Categories: weeks, Series: ss}})
	}

	if rep.Serve != nil {
		tiers := []recommend.Tier{recommend.Anonymous, recommend.Recognized, recommend.Established}
		rate := func(file, title, what string, pick func(r trust.ServeRow) trust.Estimate) {
			var ss []chart.Series
			for _, t := range tiers {
				rs := make([]trust.Ratio, len(weeks))
				for _, r := range rep.Serve {
					if r.Tier == t {
						rs[index[r.Bucket]] = trust.Share(pick(r), r.Served)
					}
				}
				ss = append(ss, shares(t.String(), rs))
			}
			out = append(out, drawing{file: file,
				about: "share of the people served whose responses " + what + ", per " + unit + " and tier",
				chart: chart.Lines{Common: chart.Common{ID: strings.TrimSuffix(file, ".svg"), Title: title,
					Desc:   "Per trust tier, the share of the people served in a " + unit + " whose responses " + what + ". " + fine,
					XLabel: unit, YLabel: "share of people served", Format: chart.Percent, Max: 1},
					X: weeks, Series: ss}})
		}
		rate("not-interested.svg", `"Not interested" respected, by tier`, `left out an item they had said "not interested" in`,
			func(r trust.ServeRow) trust.Estimate { return r.NotInterested })
		rate("suppressed.svg", "Items suppressed by a guard, by tier", "had an item suppressed by a guard",
			func(r trust.ServeRow) trust.Estimate { return r.Suppressed })

		// Held back: all tiers together.
		served := make([]trust.Estimate, len(weeks))
		held := [3][]trust.Estimate{make([]trust.Estimate, len(weeks)), make([]trust.Estimate, len(weeks)), make([]trust.Estimate, len(weeks))}
		for _, r := range rep.Serve {
			i := index[r.Bucket]
			served[i] = sum(served[i], r.Served)
			held[0][i] = sum(held[0][i], r.WarmUp)
			held[1][i] = sum(held[1][i], r.ConfidenceFloor)
			held[2][i] = sum(held[2][i], r.Sensitive)
		}
		var ss []chart.Series
		for k, name := range []string{"warm-up", "confidence floor", "sensitive guard"} {
			rs := make([]trust.Ratio, len(weeks))
			for i := range weeks {
				rs[i] = trust.Share(held[k][i], served[i])
			}
			ss = append(ss, shares(name, rs))
		}
		out = append(out, drawing{file: "held-back.svg",
			about: "how often the recommender held back: share of people served in warm-up, below the confidence floor, or with a sensitive item held back, per " + unit,
			chart: chart.Lines{Common: chart.Common{ID: "held-back", Title: "How often the recommender held back",
				Desc:   "Share of the people served in a " + unit + " (all tiers) whose responses ran in the warm-up of a visit, held back items below the confidence floor, or held back a sensitive item. " + fine,
				XLabel: unit, YLabel: "share of people served", Format: chart.Percent, Max: 1},
				X: weeks, Series: ss}})

		var moves []chart.Series
		for _, t := range tiers[1:] {
			es := make([]trust.Estimate, len(weeks))
			for _, r := range rep.TierMoves {
				if r.Tier == t {
					es[index[r.Bucket]] = r.People
				}
			}
			moves = append(moves, series("to "+t.String(), es))
		}
		out = append(out, drawing{file: "tier-moves.svg",
			about: "people served at a tier above any before, per " + unit + " and tier reached",
			chart: chart.Bars{Common: chart.Common{ID: "tier-moves", Title: "People moving up a trust tier",
				Desc:   "People served at a higher trust tier than ever before, per " + unit + " and tier reached. " + fine,
				XLabel: unit, YLabel: "people"},
				Categories: weeks, Series: moves}})
	}
	return out
}

// total is the number of consent changes a row shows.
func total(r trust.ConsentRow) float64 {
	t := 0.0
	for _, e := range []trust.Estimate{r.Grants, r.Denials, r.Withdrawals} {
		if e.Released {
			t += e.Value
		}
	}
	return t
}
