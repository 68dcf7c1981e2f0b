package chart

import (
	"cmp"
	"math"
	"strings"
)

// Lines is a line chart over ordered labels (weeks, days, ranks): one
// line per series, with a marker on each value and, where the series has
// an interval, a shaded band.
type Lines struct {
	Common
	X      []string
	Series []Series
}

// SVG draws the chart. Errors: [ErrNoData], [ErrShape], [ErrValue].
func (l Lines) SVG() ([]byte, error) {
	n := len(l.X)
	if err := check(n, l.Series, false); err != nil {
		return nil, err
	}
	width := float64(cmp.Or(l.Width, 720))
	height := float64(cmp.Or(l.Height, 400))
	_, _, top := legend(l.Series, width, true)
	lo, hi := l.valueRange(l.Series, false, n)
	sc := niceScale(lo, hi, 5)
	fr := frame{w: width, top: top, right: width - 16}
	fr.left = 12 + l.tickWidth(sc) + 10
	if l.YLabel != "" {
		fr.left += 20
	}
	slot := (fr.right - fr.left) / float64(n)
	// Label every step-th position, so that labels do not overlap.
	step := 1
	rotate, labels := labelLayout(l.X, slot)
	for rotate && slot*float64(step) < 16 {
		step++
	}
	xLabel := 0.0
	if l.XLabel != "" {
		xLabel = 22
	}
	height = math.Max(height, top+140+labels+xLabel)
	fr.h = height
	fr.bottom = height - 8 - xLabel - labels
	sc.from, sc.to = fr.bottom, fr.top
	x := func(i int) float64 { return fr.left + (float64(i)+0.5)*slot }

	w := &svg{}
	l.open(w, width, height, l.Series, true)
	l.valueAxis(w, sc, fr, true)
	for j := range l.Series {
		s := &l.Series[j]
		if s.Lower != nil && s.Upper != nil {
			for _, run := range runs(n, func(i int) bool { return !math.IsNaN(s.Lower[i]) && !math.IsNaN(s.Upper[i]) }) {
				if len(run) == 1 { // a band needs two points: a whisker
					i := run[0]
					whisker(w, x(i), sc.at(s.Lower[i]), sc.at(s.Upper[i]), true)
					continue
				}
				var d strings.Builder
				for k, i := range run {
					d.WriteString(move(k) + f(x(i)) + " " + f(sc.at(s.Upper[i])))
				}
				for k := len(run) - 1; k >= 0; k-- {
					d.WriteString("L" + f(x(run[k])) + " " + f(sc.at(s.Lower[run[k]])))
				}
				w.printf(`<path d="%sZ" fill="%s" fill-opacity="0.15" stroke="none" aria-hidden="true"/>`+"\n", d.String(), colour(j))
			}
		}
		for _, run := range runs(n, func(i int) bool { return !math.IsNaN(s.Values[i]) }) {
			var d strings.Builder
			for k, i := range run {
				d.WriteString(move(k) + f(x(i)) + " " + f(sc.at(s.Values[i])))
			}
			w.printf(`<path d="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", d.String(), colour(j), dash(j))
		}
		for i, v := range s.Values {
			if !math.IsNaN(v) {
				marker(w, j, x(i), sc.at(v), colour(j), l.tooltip(s, l.X[i], i))
			}
		}
	}
	for i, label := range l.X {
		if i%step == 0 {
			catLabel(w, label, x(i), fr.bottom, rotate)
		}
	}
	l.axisLabels(w, fr, l.XLabel, l.YLabel)
	w.printf("</svg>\n")
	return []byte(w.b.String()), nil
}

// runs returns the maximal runs of consecutive positions in [0, n) where
// ok holds.
func runs(n int, ok func(int) bool) [][]int {
	var out [][]int
	var cur []int
	for i := range n {
		if ok(i) {
			cur = append(cur, i)
			continue
		}
		if cur != nil {
			out = append(out, cur)
			cur = nil
		}
	}
	if cur != nil {
		out = append(out, cur)
	}
	return out
}

// move returns the path command for the k-th point of a run.
func move(k int) string {
	if k == 0 {
		return "M"
	}
	return "L"
}
