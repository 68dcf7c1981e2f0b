package chart_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/examples/internal/chart"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var nan = math.NaN()

var weeks = []string{"2025-10-20", "2025-10-27", "2025-11-03", "2025-11-10", "2025-11-17", "2025-11-24"}

// The charts of the golden tests: one of each kind, with what is hard to
// draw (a missing value, a negative noisy count, intervals, long labels,
// text to escape).
var golden = map[string]interface{ SVG() ([]byte, error) }{
	"grouped": chart.Bars{
		Common: chart.Common{ID: "grouped", Title: "Consent changes per week", Desc: "Grants, denials and withdrawals per week; denials are rare.",
			XLabel: "week", YLabel: "people"},
		Categories: weeks,
		Series: []chart.Series{
			{Name: "grants", Values: []float64{120, 130, 90, nan, 100, 110},
				Lower: []float64{100, 110, 70, nan, 80, 90}, Upper: []float64{140, 150, 110, nan, 120, 130}},
			{Name: "denials", Values: []float64{20, 30, -5, 10, 20, 10}},
			{Name: "withdrawals", Values: []float64{10, 13, 9, 5, 10, 11}},
		},
	},
	"stacked": chart.Bars{
		Common:     chart.Common{ID: "stacked", Title: "Tier moves", YLabel: "people"},
		Categories: []string{"week 1", "week 2", "week 3"},
		Stacked:    true,
		Series: []chart.Series{
			{Name: "to recognized", Values: []float64{40, 35, nan}},
			{Name: "to established", Values: []float64{12, 20, 18}},
		},
	},
	"horizontal": chart.Bars{
		Common:     chart.Common{ID: "horizontal", Title: "nDCG@10 by country <exact & DP>", YLabel: "nDCG@10", Format: chart.Percent},
		Categories: []string{"United Kingdom", "Germany", "France", "Spain & Portugal"},
		Horizontal: true,
		Series: []chart.Series{
			{Name: "exact", Values: []float64{.31, .25, .22, .1}},
			{Name: "DP ε=1", Values: []float64{.21, .15, .12, .05}, Lower: []float64{.18, .1, .05, 0}, Upper: []float64{.24, .2, .18, .1}},
		},
	},
	"lines": chart.Lines{
		Common: chart.Common{ID: "lines", Title: "Share of responses held back", XLabel: "week", YLabel: "share of people served",
			Format: chart.Percent, Max: 1},
		X: weeks,
		Series: []chart.Series{
			{Name: "warm-up", Values: []float64{.2, .21, .19, .22, .2, .18},
				Lower: []float64{.15, .16, .14, .17, .15, .13}, Upper: []float64{.25, .26, .24, .27, .25, .23}},
			{Name: "confidence floor", Values: []float64{.5, .52, nan, .55, .5, .48},
				Lower: []float64{nan, nan, nan, .45, nan, nan}, Upper: []float64{nan, nan, nan, .65, nan, nan}},
		},
	},
}

func TestGolden(t *testing.T) {
	for name, c := range golden {
		t.Run(name, func(t *testing.T) {
			got, err := c.SVG()
			require.NoError(t, err)
			again, _ := c.SVG()
			require.Equal(t, got, again, "the output is deterministic")
			path := filepath.Join("testdata", name+".svg")
			if *update {
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -update to write the golden files")
			assert.Equal(t, string(want), string(got), "differs from %s; look at it, then run go test -update", path)
		})
	}
}

// element is a parsed SVG element, for the structural tests.
type element struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Text     string     `xml:",chardata"`
	Children []element  `xml:",any"`
}

func (e *element) attr(name string) string {
	for _, a := range e.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (e *element) walk(fn func(e *element)) {
	fn(e)
	for i := range e.Children {
		e.Children[i].walk(fn)
	}
}

func parse(t *testing.T, svg []byte) element {
	t.Helper()
	var root element
	dec := xml.NewDecoder(bytes.NewReader(svg))
	require.NoError(t, dec.Decode(&root), "well-formed XML")
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		cd, ok := tok.(xml.CharData)
		require.True(t, ok && len(bytes.TrimSpace(cd)) == 0, "one root element, then nothing: %v", tok)
	}
	return root
}

// Every chart is labelled by its title and description, and every drawn
// value has a tooltip naming its series, category and value.
func TestAccessible(t *testing.T) {
	for name, c := range golden {
		t.Run(name, func(t *testing.T) {
			svg, err := c.SVG()
			require.NoError(t, err)
			root := parse(t, svg)
			assert.Equal(t, "svg", root.XMLName.Local)
			assert.Equal(t, "img", root.attr("role"))
			ids := strings.Fields(root.attr("aria-labelledby"))
			require.Len(t, ids, 2)
			found := map[string]string{}
			root.walk(func(e *element) {
				if id := e.attr("id"); id != "" {
					found[id] = e.XMLName.Local
				}
			})
			assert.Equal(t, "title", found[ids[0]])
			assert.Equal(t, "desc", found[ids[1]])
			assert.Equal(t, "title", root.Children[0].XMLName.Local, "the title comes first")
			values := 0
			root.walk(func(e *element) {
				if e.XMLName.Local == "rect" || e.XMLName.Local == "circle" || e.XMLName.Local == "path" {
					for _, ch := range e.Children {
						if ch.XMLName.Local == "title" {
							values++
							assert.Contains(t, ch.Text, ": ")
						}
					}
				}
			})
			assert.Positive(t, values)
		})
	}
}

func TestTooltipsAndMissingValues(t *testing.T) {
	svg, err := golden["grouped"].SVG()
	require.NoError(t, err)
	s := string(svg)
	assert.Contains(t, s, "<title>grants, 2025-10-20: 120 (100 to 140)</title>")
	assert.Contains(t, s, "<title>denials, 2025-11-03: -5</title>", "a negative noisy count is drawn, below zero")
	assert.NotContains(t, s, "grants, 2025-11-10", "a missing value draws nothing")
	assert.Contains(t, s, "<title>denials, 2025-11-10: 10</title>")
	assert.Equal(t, 17, strings.Count(s, "</rect>"), "18 values, one missing: 17 bars")

	svg, err = golden["horizontal"].SVG()
	require.NoError(t, err)
	assert.Contains(t, string(svg), "nDCG@10 by country &lt;exact &amp; DP&gt;", "text is escaped")
	assert.Contains(t, string(svg), "<title>DP ε=1, France: 12% (5% to 18%)</title>")
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		chart interface{ SVG() ([]byte, error) }
		want  error
	}{
		{"no categories", chart.Bars{Series: []chart.Series{{Name: "a"}}}, chart.ErrNoData},
		{"no series", chart.Bars{Categories: []string{"a"}}, chart.ErrNoData},
		{"no x", chart.Lines{}, chart.ErrNoData},
		{"short series", chart.Bars{Categories: []string{"a", "b"}, Series: []chart.Series{{Values: []float64{1}}}}, chart.ErrShape},
		{"short interval", chart.Lines{X: []string{"a", "b"}, Series: []chart.Series{{Values: []float64{1, 2}, Lower: []float64{1}}}}, chart.ErrShape},
		{"infinite", chart.Lines{X: []string{"a"}, Series: []chart.Series{{Values: []float64{math.Inf(1)}}}}, chart.ErrValue},
		{"infinite bound", chart.Bars{Categories: []string{"a"}, Series: []chart.Series{{Values: []float64{1}, Lower: []float64{math.Inf(-1)}, Upper: []float64{2}}}}, chart.ErrValue},
		{"negative stacked", chart.Bars{Stacked: true, Categories: []string{"a"}, Series: []chart.Series{{Values: []float64{-1}}}}, chart.ErrValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svg, err := tc.chart.SVG()
			assert.True(t, errors.Is(err, tc.want), "got %v", err)
			assert.Nil(t, svg)
		})
	}
}

// Charts of every shape, size and value draw well-formed SVG without a
// panic: all missing, all zero, one category, many categories.
func TestEdgeCases(t *testing.T) {
	many := make([]string, 60)
	vals := make([]float64, 60)
	for i := range many {
		many[i] = "2025-01-" + string(rune('a'+i%26))
		vals[i] = float64(i * i)
	}
	for name, c := range map[string]interface{ SVG() ([]byte, error) }{
		"all missing": chart.Bars{Categories: []string{"a", "b"}, Series: []chart.Series{{Values: []float64{nan, nan}}}},
		"all zero":    chart.Lines{X: []string{"a", "b"}, Series: []chart.Series{{Values: []float64{0, 0}}}},
		"one":         chart.Bars{Categories: []string{"a"}, Series: []chart.Series{{Values: []float64{3}}}, Horizontal: true},
		"many lines":  chart.Lines{X: many, Series: []chart.Series{{Values: vals}}},
		"many bars":   chart.Bars{Categories: many, Series: []chart.Series{{Values: vals}}, Stacked: true},
		"negative":    chart.Bars{Categories: []string{"a", "b"}, Series: []chart.Series{{Values: []float64{-3, -1e9}}}},
		"tiny":        chart.Lines{X: []string{"a", "b"}, Series: []chart.Series{{Values: []float64{1e-9, 2e-9}}}},
		"control":     chart.Bars{Common: chart.Common{Title: "bell\x07"}, Categories: []string{"\x00"}, Series: []chart.Series{{Values: []float64{1}}}},
	} {
		t.Run(name, func(t *testing.T) {
			svg, err := c.SVG()
			require.NoError(t, err)
			parse(t, svg)
			assert.NotContains(t, string(svg), "NaN")
			assert.NotContains(t, string(svg), "Inf")
		})
	}
}

func TestNumberAndPercent(t *testing.T) {
	for _, tc := range []struct {
		x    float64
		n, p string
	}{
		{0, "0", "0%"},
		{0.5, "0.5", "50%"},
		{0.025, "0.025", "2.5%"},
		{12, "12", "1200%"},
		{12.5, "12.5", "1250%"},
		{250, "250", "25000%"},
		{12500, "12.5k", "1250000%"},
		{3_400_000, "3.4M", "340000000%"},
		{-50, "-50", "-5000%"},
	} {
		assert.Equal(t, tc.n, chart.Number(tc.x), "Number(%v)", tc.x)
		assert.Equal(t, tc.p, chart.Percent(tc.x), "Percent(%v)", tc.x)
	}
}
