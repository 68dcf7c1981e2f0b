// Package trustview draws the charts of a trust report (dp/trust) as SVG,
// for the programs and pages that show one: examples/trust writes them to
// files, the storefront's operator page inlines them.
//
// Charts are values with no state: safe for concurrent use.
package trustview

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/tact-go/tact/dp/trust"
	"github.com/tact-go/tact/examples/internal/chart"
	"github.com/tact-go/tact/recommend"
)

// Chart is one chart of a report.
type Chart struct {
	// Name is a short name, unique among a report's charts, fit for a
	// file name (with ".svg") and an HTML id: "consent-by-purpose".
	Name string
	// About says in a phrase what the chart shows.
	About string
	// Chart draws it: SVG returns a standalone <svg> element, which can
	// be written to a file or inlined in HTML.
	Chart interface{ SVG() ([]byte, error) }
	// Shown counts the values the chart draws: 0 when the report hid
	// every count it would show.
	Shown int
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

// Charts returns the charts of a report: consent changes by purpose and by
// channel, the GPC share, re-consent, "not interested" respected and
// items suppressed per tier, how often the recommender held back, and tier
// moves; each only when the report has its table. What a report did not
// release is missing from its chart (no bar, a gap in a line).
func Charts(rep *trust.Report) []Chart {
	weeks := make([]string, len(rep.Buckets))
	index := make(map[time.Time]int, len(rep.Buckets))
	for i, b := range rep.Buckets {
		weeks[i], index[b] = b.Format("Jan 2"), i
	}
	unit := rep.Period.String()
	fine := fmt.Sprintf("Counts are differentially private (ε=%s for the whole report); whiskers and bands are %s%% confidence intervals; groups of fewer than %d people are left out.",
		strconv.FormatFloat(rep.Epsilon, 'g', 3, 64), strconv.FormatFloat(100*(1-rep.Alpha), 'g', 3, 64), rep.MinPersons)
	var out []Chart

	// Consent changes by purpose and by channel over the whole report.
	consent := func(name, title, axis string, rows []trust.ConsentRow) {
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
		out = append(out, Chart{Name: name,
			About: "grants, denials and withdrawals per " + axis + " over the report (people per " + unit + ", summed)",
			Chart: chart.Bars{Common: chart.Common{ID: name, Title: title,
				Desc: "Grants, denials and withdrawals of consent per " + axis + " over " + strconv.Itoa(len(weeks)) + " " + unit +
					"s: the people of each " + unit + ", summed. " + fine,
				XLabel: axis, YLabel: "people per " + unit + ", summed over " + strconv.Itoa(len(weeks)) + " " + unit + "s"},
				Categories: keys, Horizontal: true,
				Series: []chart.Series{series("grants", cols[0]), series("denials", cols[1]), series("withdrawals", cols[2])}}})
	}
	if rep.GPC != nil {
		consent("consent-by-purpose", "Consent changes by purpose", "purpose", rep.PurposeTotals)
		consent("consent-by-channel", "Consent changes by channel", "channel", rep.ChannelTotals)

		share := make([]trust.Ratio, len(weeks))
		for _, r := range rep.GPC {
			share[index[r.Bucket]] = r.Share
		}
		out = append(out, Chart{Name: "gpc-share",
			About: "share of the people who opted out of something whose opt-out came from a Global Privacy Control signal, per " + unit,
			Chart: chart.Lines{Common: chart.Common{ID: "gpc-share", Title: "Opt-outs that came from Global Privacy Control",
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
		out = append(out, Chart{Name: "reconsent",
			About: "people who granted again under a newer policy version, per " + unit + " and purpose",
			Chart: chart.Bars{Common: chart.Common{ID: "reconsent", Title: "Re-consent after the policy change",
				Desc:   "People who granted a purpose again under a newer policy version, having granted it under an older one, per " + unit + ". " + fine,
				XLabel: unit, YLabel: "people"},
				Categories: weeks, Series: ss}})
	}

	if rep.Serve != nil {
		tiers := []recommend.Tier{recommend.Anonymous, recommend.Recognized, recommend.Established}
		rate := func(name, title, what string, pick func(r trust.ServeRow) trust.Estimate) {
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
			out = append(out, Chart{Name: name,
				About: "share of the people served whose responses " + what + ", per " + unit + " and tier",
				Chart: chart.Lines{Common: chart.Common{ID: name, Title: title,
					Desc:   "Per trust tier, the share of the people served in a " + unit + " whose responses " + what + ". " + fine,
					XLabel: unit, YLabel: "share of people served", Format: chart.Percent, Max: 1},
					X: weeks, Series: ss}})
		}
		rate("not-interested", `"Not interested" respected, by tier`, `left out an item they had said "not interested" in`,
			func(r trust.ServeRow) trust.Estimate { return r.NotInterested })
		rate("suppressed", "Items suppressed by a guard, by tier", "had an item suppressed by a guard",
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
		out = append(out, Chart{Name: "held-back",
			About: "how often the recommender held back: share of people served in warm-up, below the confidence floor, or with a sensitive item held back, per " + unit,
			Chart: chart.Lines{Common: chart.Common{ID: "held-back", Title: "How often the recommender held back",
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
		out = append(out, Chart{Name: "tier-moves",
			About: "people served at a tier above any before, per " + unit + " and tier reached",
			Chart: chart.Bars{Common: chart.Common{ID: "tier-moves", Title: "People moving up a trust tier",
				Desc:   "People served at a higher trust tier than ever before, per " + unit + " and tier reached. " + fine,
				XLabel: unit, YLabel: "people"},
				Categories: weeks, Series: moves}})
	}
	for i := range out {
		var ss []chart.Series
		switch c := out[i].Chart.(type) {
		case chart.Bars:
			ss = c.Series
		case chart.Lines:
			ss = c.Series
		}
		for _, s := range ss {
			for _, v := range s.Values {
				if !math.IsNaN(v) {
					out[i].Shown++
				}
			}
		}
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
