package trustview

import (
	"encoding/xml"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/dp/trust"
	"github.com/tact-go/tact/recommend"
)

func shown(v float64) trust.Estimate {
	return trust.Estimate{Value: v, Lower: v - 5, Upper: v + 5, Released: true}
}

// report is a two-week report with a few counts shown and the rest hidden.
func report() *trust.Report {
	w0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	w1 := w0.AddDate(0, 0, 7)
	return &trust.Report{
		Period: trust.Week, From: w0, To: w1.AddDate(0, 0, 7), Buckets: []time.Time{w0, w1},
		Epsilon: 1, MinPersons: 10, Alpha: 0.01, Private: true,
		PurposeTotals: []trust.ConsentRow{{Bucket: w0, Key: "personalize", Grants: shown(40), Withdrawals: shown(12)},
			{Bucket: w0, Key: "marketing.email"}},
		ChannelTotals: []trust.ConsentRow{{Bucket: w0, Key: "web", Grants: shown(30)}},
		GPC:           []trust.GPCRow{{Bucket: w0}, {Bucket: w1}},
		Serve: []trust.ServeRow{{Bucket: w1, Tier: recommend.Recognized, Served: shown(100), WarmUp: shown(50)},
			{Bucket: w0, Tier: recommend.Anonymous, Served: shown(80)}},
		TierMoves: []trust.TierMoveRow{},
	}
}

func TestCharts(t *testing.T) {
	charts := Charts(report())
	var names []string
	got := map[string]int{}
	for _, c := range charts {
		names = append(names, c.Name)
		got[c.Name] = c.Shown
		svg, err := c.Chart.SVG()
		require.NoError(t, err, c.Name)
		var doc struct {
			XMLName xml.Name
			Title   string `xml:"title"`
			Desc    string `xml:"desc"`
		}
		require.NoError(t, xml.Unmarshal(svg, &doc), c.Name)
		assert.Equal(t, "svg", doc.XMLName.Local)
		assert.NotEmpty(t, doc.Title, c.Name)
		assert.Contains(t, doc.Desc, "differentially private", c.Name)
		assert.Contains(t, string(svg), `id="`+c.Name+`-title"`, "the chart's ids start with its name")
		assert.NotEmpty(t, c.About, c.Name)
	}
	assert.Equal(t, []string{"consent-by-purpose", "consent-by-channel", "gpc-share", "not-interested", "suppressed", "held-back", "tier-moves"}, names,
		"no re-consent chart: the report has no re-consent table")
	assert.Equal(t, map[string]int{
		"consent-by-purpose": 2, // personalize: grants and withdrawals
		"consent-by-channel": 1,
		"gpc-share":          0,
		"not-interested":     0,
		"suppressed":         0,
		"held-back":          1, // warm-up in week 1: 50 of 100
		"tier-moves":         0,
	}, got)
	held := charts[slices.Index(names, "held-back")].Chart
	svg, err := held.SVG()
	require.NoError(t, err)
	assert.Contains(t, string(svg), "50%", "the share of recognized people served in warm-up")
}

func TestChartsOfAnEmptyReport(t *testing.T) {
	assert.Empty(t, Charts(&trust.Report{Period: trust.Day}), "a report without tables has no charts")
	rep := report()
	rep.PurposeTotals, rep.ChannelTotals = nil, nil
	c := Charts(rep)[0]
	assert.Equal(t, 0, c.Shown, "a table with no row shown draws a placeholder")
	_, err := c.Chart.SVG()
	assert.NoError(t, err)
}

func TestAuditOf(t *testing.T) {
	sum := trust.Summary{Events: 10, Records: 4, Serves: 3, Replayed: 2, Releases: 1, Epsilon: 0.5, Unchecked: []string{"something"}}
	a, err := AuditOf(sum, nil, 4, 0)
	require.NoError(t, err)
	assert.True(t, a.OK)
	assert.Empty(t, a.Violations)
	assert.Equal(t, []string{"something"}, a.Unchecked)
	assert.Contains(t, strings.Join(a.Checked, "\n"), "dp releases: 1, spending ε=0.5, δ=0 of the declared ε=4, δ=0")

	ae := &trust.AuditError{Violations: []*trust.Violation{{Kind: trust.ErrOverBudget, Line: 7, Why: "too much"}}}
	a, err = AuditOf(sum, ae, 4, 0)
	require.NoError(t, err)
	assert.False(t, a.OK)
	assert.Equal(t, []string{"releases beyond the declared budget: event line 7: too much"}, a.Violations)

	other := errors.New("no policy")
	_, err = AuditOf(sum, other, 4, 0)
	assert.ErrorIs(t, err, other, "an audit that could not run is an error, not a verdict")
}
