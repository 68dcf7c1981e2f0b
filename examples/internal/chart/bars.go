package chart

import (
	"cmp"
	"math"
)

// Bars is a bar chart: per category, one bar per series side by side, or
// stacked into one bar. Vertical by default; Horizontal suits long
// category names (segments, departments).
type Bars struct {
	Common
	Categories []string
	Series     []Series
	Stacked    bool
	Horizontal bool
}

// maxBar is the widest a bar is drawn, in pixels.
const maxBar = 56

// SVG draws the chart. Errors: [ErrNoData], [ErrShape], [ErrValue].
func (b Bars) SVG() ([]byte, error) {
	n := len(b.Categories)
	if err := check(n, b.Series, b.Stacked); err != nil {
		return nil, err
	}
	if b.Horizontal {
		return b.horizontal(), nil
	}
	return b.vertical(), nil
}

// barsPer is how many bars stand side by side in a category.
func (b *Bars) barsPer() int {
	if b.Stacked {
		return 1
	}
	return len(b.Series)
}

func (b *Bars) vertical() []byte {
	n := len(b.Categories)
	width := float64(cmp.Or(b.Width, 720))
	height := float64(cmp.Or(b.Height, 400))
	_, _, top := legend(b.Series, width, false)
	lo, hi := b.valueRange(b.Series, b.Stacked, n)
	sc := niceScale(lo, hi, 5)
	fr := frame{w: width, top: top, right: width - 16}
	fr.left = 12 + b.tickWidth(sc) + 10
	if b.YLabel != "" {
		fr.left += 20
	}
	slot := (fr.right - fr.left) / float64(n)
	rotate, labels := labelLayout(b.Categories, slot)
	xLabel := 0.0
	if b.XLabel != "" {
		xLabel = 22
	}
	height = math.Max(height, top+140+labels+xLabel)
	fr.h = height
	fr.bottom = height - 8 - xLabel - labels
	sc.from, sc.to = fr.bottom, fr.top

	w := &svg{}
	b.open(w, width, height, b.Series, false)
	b.valueAxis(w, sc, fr, true)
	b.bars(w, sc, fr.left, slot, true)
	for i, c := range b.Categories {
		catLabel(w, c, fr.left+(float64(i)+0.5)*slot, fr.bottom, rotate)
	}
	b.axisLabels(w, fr, b.XLabel, b.YLabel)
	w.printf("</svg>\n")
	return []byte(w.b.String())
}

func (b *Bars) horizontal() []byte {
	n := len(b.Categories)
	width := float64(cmp.Or(b.Width, 720))
	_, _, top := legend(b.Series, width, false)
	band := math.Max(24, float64(14*b.barsPer()+10))
	widest := 0.0
	for _, c := range b.Categories {
		widest = math.Max(widest, textWidth(c, fontText))
	}
	fr := frame{w: width, top: top, right: width - 24}
	fr.left = 12 + math.Min(widest, width*0.4) + 10
	if b.XLabel != "" {
		fr.left += 20
	}
	fr.bottom = top + band*float64(n)
	height := fr.bottom + 24 + 8
	if b.YLabel != "" {
		height += 22
	}
	if b.Height > 0 {
		height = math.Max(height, float64(b.Height))
	}
	fr.h = height
	lo, hi := b.valueRange(b.Series, b.Stacked, n)
	sc := niceScale(lo, hi, 5)
	sc.from, sc.to = fr.left, fr.right

	w := &svg{}
	b.open(w, width, height, b.Series, false)
	b.valueAxis(w, sc, fr, false)
	if b.barsPer() > 1 {
		// Lines between the categories tie each label to its bars.
		w.printf(`<g class="separators" aria-hidden="true">`)
		for i := 1; i < n; i++ {
			y := fr.top + float64(i)*band
			w.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#d0d0d0" stroke-dasharray="2 3"/>`, f(12), f(y), f(fr.right), f(y))
		}
		w.printf("</g>\n")
	}
	b.bars(w, sc, fr.top, band, false)
	for i, c := range b.Categories {
		y := fr.top + (float64(i)+0.5)*band
		w.printf(`<text x="%s" y="%s" text-anchor="end" fill="#333333">%s</text>`+"\n", f(fr.left-8), f(y+4), esc(c))
	}
	// The value axis is named under the plot, the categories on the left.
	b.axisLabels(w, fr, b.YLabel, b.XLabel)
	w.printf("</svg>\n")
	return []byte(w.b.String())
}

// bars draws the bars: category i has the slot [start+i·slot,
// start+(i+1)·slot) along the category axis; sc maps values along the
// other axis. vertical says the bars stand up.
func (b *Bars) bars(w *svg, sc scale, start, slot float64, vertical bool) {
	per := float64(b.barsPer())
	bar := math.Min(slot*0.8/per, maxBar)
	group := bar * per
	rect := func(p, thick, v0, v1 float64, fill, title string) {
		a, z := sc.at(v0), sc.at(v1)
		lo, hi := math.Min(a, z), math.Max(a, z)
		if vertical {
			w.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s</title></rect>`+"\n", f(p), f(lo), f(thick), f(hi-lo), fill, esc(title))
		} else {
			w.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s</title></rect>`+"\n", f(lo), f(p), f(hi-lo), f(thick), fill, esc(title))
		}
	}
	for i, cat := range b.Categories {
		first := start + (float64(i)+0.5)*slot - group/2
		if b.Stacked {
			base := 0.0
			for j := range b.Series {
				s := &b.Series[j]
				if v := s.Values[i]; !math.IsNaN(v) && v > 0 {
					rect(first, bar, base, base+v, colour(j), b.tooltip(s, cat, i))
					base += v
				}
			}
			continue
		}
		for j := range b.Series {
			s := &b.Series[j]
			v := s.Values[i]
			if math.IsNaN(v) {
				continue
			}
			p := first + float64(j)*bar
			rect(p+0.5, bar-1, 0, v, colour(j), b.tooltip(s, cat, i))
			if s.Lower != nil && s.Upper != nil && !math.IsNaN(s.Lower[i]) && !math.IsNaN(s.Upper[i]) {
				whisker(w, p+bar/2, sc.at(s.Lower[i]), sc.at(s.Upper[i]), vertical)
			}
		}
	}
}
