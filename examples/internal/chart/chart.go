// Package chart draws small, accessible SVG charts with no dependency:
// bar charts (grouped or stacked, vertical or horizontal) and line charts
// over ordered labels such as weeks. Libraries return numbers; programs
// and pages draw them with this package.
//
//	svg, err := chart.Bars{
//		Title: "Consent changes per week", YLabel: "people",
//		Categories: []string{"03-02", "03-09"},
//		Series: []chart.Series{{Name: "grants", Values: []float64{300, 120}}},
//	}.SVG()
//
// Every chart has a <title> and a <desc> (the svg element is labelled by
// them), axis labels, and a <title> on each bar and point that screen
// readers and hover tooltips show ("grants, 03-02: 300"). Colours are the
// Okabe–Ito palette, which stays distinct under colour blindness; lines
// also differ by marker. A value may carry an interval (a confidence
// interval), drawn as a whisker. NaN marks a missing value: no bar, a gap
// in a line.
//
// The output depends only on the chart's fields, byte for byte, so that
// tests can compare it with golden files. It can be written to a file or
// inlined in HTML (give each chart on a page its own ID).
//
// Charts are values with no state: safe for concurrent use.
package chart

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Errors.
var (
	// ErrNoData is returned for a chart with no category or no series.
	ErrNoData = errors.New("chart: no data")
	// ErrShape is returned (wrapped) for a series whose values or
	// interval do not match the categories or x labels in length.
	ErrShape = errors.New("chart: series does not match the categories")
	// ErrValue is returned (wrapped) for an infinite value or bound, or a
	// negative value in a stacked chart.
	ErrValue = errors.New("chart: value out of range")
)

// Series is one named sequence of values: one per category of a bar
// chart, or per x label of a line chart. NaN is a missing value.
type Series struct {
	Name   string
	Values []float64
	// Lower and Upper, if not nil, bound each value (a confidence
	// interval), drawn as a whisker; NaN where there is none. Ignored in
	// stacked bars.
	Lower, Upper []float64
}

// Common holds what every chart has. The zero value of each field means
// the default its doc gives.
type Common struct {
	// ID prefixes the ids of the chart's elements, which must be unique
	// on a page; default "chart".
	ID string
	// Title is the chart's heading and accessible name.
	Title string
	// Desc describes the chart in a sentence or two for people who cannot
	// see it: what it shows and the main finding. Default: the title.
	Desc string
	// XLabel and YLabel name the axes (for horizontal bars, YLabel still
	// names the value axis, now horizontal).
	XLabel, YLabel string
	// Format formats values for the value axis and the tooltips; default
	// [Number].
	Format func(float64) string
	// Min and Max fix the ends of the value axis where not NaN and not
	// both zero; by default it spans the data (and its intervals) and 0.
	Min, Max float64
	// Width and Height in pixels; defaults 720 and 400 (horizontal bars:
	// as high as their categories need).
	Width, Height int
}

// Number formats x with up to three significant digits, as "12", "0.5",
// "1.2k", "3.4M".
func Number(x float64) string {
	a := math.Abs(x)
	switch {
	case a >= 1e6:
		return trim(x/1e6, 2) + "M"
	case a >= 1e4:
		return trim(x/1e3, 1) + "k"
	case a >= 100 || a == 0:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case a >= 1:
		return trim(x, 1)
	}
	return strconv.FormatFloat(x, 'g', 2, 64)
}

// Percent formats a share in [0, 1] as "12%" (or "2.5%" below 10%).
func Percent(x float64) string {
	if math.Abs(x) < 0.1 && x != 0 {
		return trim(100*x, 1) + "%"
	}
	return strconv.FormatFloat(100*x, 'f', 0, 64) + "%"
}

// trim formats x with d decimals and drops trailing zeros.
func trim(x float64, d int) string {
	s := strconv.FormatFloat(x, 'f', d, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// palette is Okabe and Ito's colour-blind safe palette, darkest first,
// yellow last (weak on white).
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442"}

func colour(i int) string { return palette[i%len(palette)] }

// check validates series against n positions.
func check(n int, series []Series, stacked bool) error {
	if n == 0 || len(series) == 0 {
		return ErrNoData
	}
	for _, s := range series {
		if len(s.Values) != n || (s.Lower != nil && len(s.Lower) != n) || (s.Upper != nil && len(s.Upper) != n) {
			return fmt.Errorf("%w: series %q has %d values (intervals %d, %d) for %d positions", ErrShape, s.Name, len(s.Values), len(s.Lower), len(s.Upper), n)
		}
		for _, vs := range [][]float64{s.Values, s.Lower, s.Upper} {
			for i, v := range vs {
				if math.IsInf(v, 0) {
					return fmt.Errorf("%w: series %q, position %d: infinite", ErrValue, s.Name, i)
				}
			}
		}
		if stacked {
			for i, v := range s.Values {
				if v < 0 {
					return fmt.Errorf("%w: series %q, position %d: negative value %v in a stacked chart", ErrValue, s.Name, i, v)
				}
			}
		}
	}
	return nil
}

// scale maps values to pixels along an axis.
type scale struct {
	lo, hi   float64 // values at the ends
	from, to float64 // pixels at the ends
	ticks    []float64
}

func (s scale) at(v float64) float64 {
	return s.from + (v-s.lo)/(s.hi-s.lo)*(s.to-s.from)
}

// niceScale spans [lo, hi] with round ticks, about n of them.
func niceScale(lo, hi float64, n int) scale {
	if lo == hi {
		if lo == 0 {
			hi = 1
		} else {
			lo, hi = math.Min(0, lo), math.Max(0, hi)
		}
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	s := scale{lo: math.Floor(lo/step+1e-9) * step, hi: math.Ceil(hi/step-1e-9) * step}
	for v := s.lo; v <= s.hi+step/2; v += step {
		s.ticks = append(s.ticks, math.Round(v/step)*step)
	}
	return s
}

// valueRange returns the span of the values, their intervals and 0,
// overridden by c.Min and c.Max.
func (c *Common) valueRange(series []Series, stacked bool, n int) (lo, hi float64) {
	lo, hi = 0, 0
	see := func(v float64) {
		if !math.IsNaN(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if stacked {
		for i := range n {
			sum := 0.0
			for _, s := range series {
				if v := s.Values[i]; !math.IsNaN(v) {
					sum += v
				}
			}
			see(sum)
		}
	} else {
		for _, s := range series {
			for _, vs := range [][]float64{s.Values, s.Lower, s.Upper} {
				for _, v := range vs {
					see(v)
				}
			}
		}
	}
	if c.Min != 0 || c.Max != 0 {
		if !math.IsNaN(c.Min) {
			lo = c.Min
		}
		if !math.IsNaN(c.Max) {
			hi = c.Max
		}
	}
	return lo, hi
}

func (c *Common) format(v float64) string {
	if c.Format != nil {
		return c.Format(v)
	}
	return Number(v)
}

func (c *Common) id() string {
	if c.ID != "" {
		return c.ID
	}
	return "chart"
}

// textWidth estimates the width of s in a sans-serif font of size px.
func textWidth(s string, px float64) float64 { return 0.58 * px * float64(utf8.RuneCountInString(s)) }

// svg accumulates the markup.
type svg struct {
	b strings.Builder
}

func (w *svg) printf(format string, args ...any) { fmt.Fprintf(&w.b, format, args...) }

// f formats a coordinate with one decimal, trimmed.
func f(x float64) string { return trim(x, 1) }

// esc escapes text for XML content and attributes.
func esc(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&#39;")
		default:
			if r < 0x20 && r != '\t' && r != '\n' {
				continue // not allowed in XML 1.0
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

const (
	fontTitle = 16
	fontText  = 12
	legendRow = 18
)

// frame is the layout shared by every chart: the outer size and the plot
// area, with the title, legend and axis labels drawn around it.
type frame struct {
	w, h                     float64
	left, top, right, bottom float64 // plot area
}

// legend lays out the legend of series in a chart of width w, under the
// title: the position of each item, and the y below the legend.
func legend(series []Series, w float64, lines bool) (xs, ys []float64, below float64) {
	y := 40.0
	if len(series) < 2 && !lines {
		return nil, nil, y
	}
	x := 12.0
	for _, s := range series {
		item := 22 + textWidth(s.Name, fontText) + 16
		if x > 12 && x+item > w-12 {
			x, y = 12, y+legendRow
		}
		xs, ys = append(xs, x), append(ys, y)
		x += item
	}
	return xs, ys, y + legendRow + 14
}

// open writes the svg element, its title and desc, the chart's title and
// the legend.
func (c *Common) open(w *svg, width, height float64, series []Series, lines bool) {
	id := esc(c.id())
	desc := c.Desc
	if desc == "" {
		desc = c.Title
	}
	w.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-labelledby="%s-title %s-desc" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" font-size="%d">`+"\n",
		f(width), f(height), f(width), f(height), id, id, fontText)
	w.printf(`<title id="%s-title">%s</title>`+"\n", id, esc(c.Title))
	w.printf(`<desc id="%s-desc">%s</desc>`+"\n", id, esc(desc))
	w.printf(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	w.printf(`<text x="12" y="24" font-size="%d" font-weight="600" fill="#111111">%s</text>`+"\n", fontTitle, esc(c.Title))
	xs, ys, _ := legend(series, width, lines)
	if xs == nil {
		return
	}
	w.printf(`<g class="legend">` + "\n")
	for i, s := range series {
		x, y := xs[i], ys[i]
		if lines {
			w.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2"%s/>`, f(x), f(y+6), f(x+16), f(y+6), colour(i), dash(i))
			marker(w, i, x+8, y+6, colour(i), "")
		} else {
			w.printf(`<rect x="%s" y="%s" width="12" height="12" fill="%s"/>`, f(x), f(y), colour(i))
		}
		w.printf(`<text x="%s" y="%s" fill="#333333">%s</text>`+"\n", f(x+22), f(y+10), esc(s.Name))
	}
	w.printf("</g>\n")
}

// valueAxis draws grid lines and tick labels of the value scale sc,
// horizontal lines for a vertical scale and vertical ones otherwise.
func (c *Common) valueAxis(w *svg, sc scale, fr frame, vertical bool) {
	w.printf(`<g class="grid" aria-hidden="true">` + "\n")
	for _, t := range sc.ticks {
		p := sc.at(t)
		stroke := "#e5e5e5"
		if t == 0 {
			stroke = "#888888"
		}
		if vertical {
			w.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`, f(fr.left), f(p), f(fr.right), f(p), stroke)
			w.printf(`<text x="%s" y="%s" text-anchor="end" fill="#555555">%s</text>`+"\n", f(fr.left-6), f(p+4), esc(c.format(t)))
		} else {
			w.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`, f(p), f(fr.top), f(p), f(fr.bottom), stroke)
			w.printf(`<text x="%s" y="%s" text-anchor="middle" fill="#555555">%s</text>`+"\n", f(p), f(fr.bottom+16), esc(c.format(t)))
		}
	}
	w.printf("</g>\n")
}

// axisLabels draws the axis names: x under the plot, y rotated on its
// left.
func (c *Common) axisLabels(w *svg, fr frame, xLabel, yLabel string) {
	if xLabel != "" {
		w.printf(`<text x="%s" y="%s" text-anchor="middle" fill="#333333">%s</text>`+"\n", f((fr.left+fr.right)/2), f(fr.h-10), esc(xLabel))
	}
	if yLabel != "" {
		cy := (fr.top + fr.bottom) / 2
		w.printf(`<text x="16" y="%s" text-anchor="middle" transform="rotate(-90 16 %s)" fill="#333333">%s</text>`+"\n", f(cy), f(cy), esc(yLabel))
	}
}

// tickWidth is the width of the widest value tick label.
func (c *Common) tickWidth(sc scale) float64 {
	w := 0.0
	for _, t := range sc.ticks {
		w = math.Max(w, textWidth(c.format(t), fontText))
	}
	return w
}

// tooltip is the text of one value: "series, label: value (lower–upper)".
func (c *Common) tooltip(s *Series, label string, i int) string {
	t := label + ": " + c.format(s.Values[i])
	if s.Name != "" {
		t = s.Name + ", " + t
	}
	if s.Lower != nil && s.Upper != nil && !math.IsNaN(s.Lower[i]) && !math.IsNaN(s.Upper[i]) {
		t += " (" + c.format(s.Lower[i]) + " to " + c.format(s.Upper[i]) + ")"
	}
	return t
}

// whisker draws an interval from a to b across position p, horizontal
// when vertical is false.
func whisker(w *svg, p, a, b float64, vertical bool) {
	const cap = 4
	if vertical {
		w.printf(`<path d="M%s %sV%sM%s %sH%sM%s %sH%s" stroke="#222222" stroke-width="1.2" fill="none" aria-hidden="true"/>`+"\n",
			f(p), f(a), f(b), f(p-cap), f(a), f(p+cap), f(p-cap), f(b), f(p+cap))
		return
	}
	w.printf(`<path d="M%s %sH%sM%s %sV%sM%s %sV%s" stroke="#222222" stroke-width="1.2" fill="none" aria-hidden="true"/>`+"\n",
		f(a), f(p), f(b), f(a), f(p-cap), f(p+cap), f(b), f(p-cap), f(p+cap))
}

// dash returns the dash pattern attribute of line i: lines differ by more
// than colour.
func dash(i int) string {
	switch i % 4 {
	case 1:
		return ` stroke-dasharray="6 3"`
	case 2:
		return ` stroke-dasharray="2 3"`
	case 3:
		return ` stroke-dasharray="8 3 2 3"`
	}
	return ""
}

// marker draws the marker of series i at (x, y), with a tooltip title if
// not empty.
func marker(w *svg, i int, x, y float64, fill, title string) {
	var shape string
	switch i % 4 {
	case 0:
		shape = fmt.Sprintf(`<circle cx="%s" cy="%s" r="3.5" fill="%s"`, f(x), f(y), fill)
	case 1:
		shape = fmt.Sprintf(`<rect x="%s" y="%s" width="7" height="7" fill="%s"`, f(x-3.5), f(y-3.5), fill)
	case 2:
		shape = fmt.Sprintf(`<path d="M%s %sL%s %sL%s %sZ" fill="%s"`, f(x), f(y-4.5), f(x+4.5), f(y+3.5), f(x-4.5), f(y+3.5), fill)
	default:
		shape = fmt.Sprintf(`<path d="M%s %sL%s %sL%s %sL%s %sZ" fill="%s"`, f(x), f(y-4.5), f(x+4.5), f(y), f(x), f(y+4.5), f(x-4.5), f(y), fill)
	}
	end := strings.Fields(shape)[0][1:]
	if title == "" {
		w.printf("%s/>", shape)
		return
	}
	w.printf("%s><title>%s</title></%s>\n", shape, esc(title), end)
}

// labelLayout decides how labels along the category axis fit in slots of
// width slot: upright, or rotated by 40 degrees; it returns the extra
// height they need below the axis.
func labelLayout(labels []string, slot float64) (rotate bool, height float64) {
	widest := 0.0
	for _, l := range labels {
		widest = math.Max(widest, textWidth(l, fontText))
	}
	if widest <= slot-4 {
		return false, 20
	}
	return true, widest*math.Sin(40*math.Pi/180) + 18
}

// catLabel writes one category label at x under the axis at y.
func catLabel(w *svg, label string, x, y float64, rotate bool) {
	if rotate {
		w.printf(`<text x="%s" y="%s" text-anchor="end" transform="rotate(-40 %s %s)" fill="#333333">%s</text>`+"\n",
			f(x), f(y+14), f(x), f(y+14), esc(label))
		return
	}
	w.printf(`<text x="%s" y="%s" text-anchor="middle" fill="#333333">%s</text>`+"\n", f(x), f(y+16), esc(label))
}
