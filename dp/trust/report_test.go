package trust_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/dptest"
	"github.com/tact-go/tact/dp/trust"
	"github.com/tact-go/tact/recommend"
)

// exact is a report configuration with deterministic noise: released
// values are the exact counts of the bounded data; and with a large ε and
// intervals of 0.1% confidence, which make them as narrow as points, a
// count is shown when it reaches MinPersons.
func exact(c trust.Config) trust.Config {
	c.Epsilon, c.Delta, c.Alpha = 200, 1e-6, 0.999
	c.NoiseSource, c.Rand = dptest.Noise{}, testRand(1)
	if c.Policy == nil {
		c.Policy = consenttest.RetailPolicy()
	}
	if c.MinPersons == 0 {
		c.MinPersons = 1
	}
	return c
}

func release(t *testing.T, in trust.Input, cfg trust.Config) *trust.Report {
	t.Helper()
	budget, err := dp.NewBudget(cfg.Epsilon, cfg.Delta, nil)
	require.NoError(t, err)
	rep, err := trust.Release(context.Background(), budget, in, cfg)
	require.NoError(t, err)
	return rep
}

func TestReleaseBadConfig(t *testing.T) {
	f := cleanFixture(t)
	in := input(t, f.events, f.ledger)
	ok := trust.Config{Epsilon: 1, Delta: 1e-6, Policy: consenttest.RetailPolicy()}
	for _, tc := range []struct {
		name, field string
		change      func(c *trust.Config)
	}{
		{"NaN epsilon", "Epsilon", func(c *trust.Config) { c.Epsilon = math.NaN() }},
		{"negative epsilon", "Epsilon", func(c *trust.Config) { c.Epsilon = -1 }},
		{"zero epsilon", "Epsilon", func(c *trust.Config) { c.Epsilon = 0 }},
		{"infinite epsilon", "Epsilon", func(c *trust.Config) { c.Epsilon = math.Inf(1) }},
		{"negative delta", "Delta", func(c *trust.Config) { c.Delta = -1e-9 }},
		{"delta one", "Delta", func(c *trust.Config) { c.Delta = 1 }},
		{"NaN delta", "Delta", func(c *trust.Config) { c.Delta = math.NaN() }},
		{"negative bound", "MaxPartitions", func(c *trust.Config) { c.MaxPartitions = -1 }},
		{"negative threshold", "MinPersons", func(c *trust.Config) { c.MinPersons = -5 }},
		{"To before From", "To", func(c *trust.Config) { c.From, c.To = f.start, f.start.Add(-time.Hour) }},
		{"unknown period", "Period", func(c *trust.Config) { c.Period = 7 }},
		{"NaN alpha", "Alpha", func(c *trust.Config) { c.Alpha = math.NaN() }},
		{"alpha one", "Alpha", func(c *trust.Config) { c.Alpha = 1 }},
		{"epsilon too large for dp", "Epsilon", func(c *trust.Config) { c.Epsilon = 1000 }},
		{"no policy", "Policy", func(c *trust.Config) { c.Policy = nil }},
		{"invalid policy", "Policy", func(c *trust.Config) { c.Policy = &consent.Policy{Version: 1} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.change(&cfg)
			budget, _ := dp.NewBudget(2000, 0.5, nil)
			_, err := trust.Release(context.Background(), budget, in, cfg)
			var ce *trust.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.ErrorIs(t, err, trust.ErrInvalidConfig)
			assert.Equal(t, tc.field, ce.Field)
			e, d := budget.Spent()
			assert.Zero(t, e+d, "nothing spent")
		})
	}
	_, err := trust.Release(context.Background(), nil, in, ok)
	assert.ErrorIs(t, err, trust.ErrInvalidConfig)
}

func TestReleaseEmptyInput(t *testing.T) {
	budget, _ := dp.NewBudget(1, 1e-6, nil)
	_, err := trust.Release(context.Background(), budget, trust.Input{}, trust.Config{Epsilon: 1, Delta: 1e-6})
	assert.ErrorIs(t, err, trust.ErrNoData)
}

func TestReleaseRefusesBadLedger(t *testing.T) {
	f := cleanFixture(t)
	ls := lines(f.ledger)
	tampered := append([]string{}, ls...)
	tampered[5] = edit(t, tampered[5], func(m map[string]any) { m["at"] = "2020-01-01T00:00:00Z" })
	for _, tc := range []struct {
		name   string
		ledger []byte
		is     error
	}{
		{"tampered", join(tampered), consent.ErrTampered},
		{"cut short", join(ls[:len(ls)-3]), trust.ErrChainBreak},
		{"records missing in the middle", join(append(append([]string{}, ls[:4]...), ls[6:]...)), consent.ErrTampered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			budget, _ := dp.NewBudget(1, 1e-6, nil)
			_, err := trust.Release(context.Background(), budget, input(t, f.events, tc.ledger), exact(trust.Config{}))
			assert.ErrorIs(t, err, trust.ErrLedger)
			assert.ErrorIs(t, err, tc.is)
			e, d := budget.Spent()
			assert.Zero(t, e+d, "nothing spent")
		})
	}
}

func TestReleaseBudgetTooSmallSpendsNothing(t *testing.T) {
	f := cleanFixture(t)
	budget, _ := dp.NewBudget(0.9, 1e-6, nil)
	_, err := trust.Release(context.Background(), budget, input(t, f.events, f.ledger), trust.Config{Epsilon: 1, Delta: 1e-6, PersonKey: "person", Policy: consenttest.RetailPolicy()})
	assert.ErrorIs(t, err, dp.ErrBudgetExhausted)
	e, d := budget.Spent()
	assert.Zero(t, e+d)
}

func TestReleaseNeedsThePersonOnEveryResponse(t *testing.T) {
	f := cleanFixture(t)
	events := lines(f.events)
	i := find(t, events, func(m map[string]any) bool { return m["msg"] == "recommend.serve" })
	events[i] = edit(t, events[i], func(m map[string]any) { delete(m, "person") })
	budget, _ := dp.NewBudget(1, 1e-6, nil)
	_, err := trust.Release(context.Background(), budget, input(t, join(events), f.ledger), exact(trust.Config{PersonKey: "person"}))
	var le *trust.LineError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, i+1, le.Line)
	assert.Contains(t, err.Error(), `"person": missing`)
}

// Without a person key the report leaves the response tables out, says
// why, and spends only what its other tables cost.
func TestReleaseWithoutPersonKey(t *testing.T) {
	f := cleanFixture(t)
	rep := release(t, input(t, f.events, f.ledger), exact(trust.Config{}))
	assert.Nil(t, rep.Serve)
	assert.Nil(t, rep.TierMoves)
	assert.NotEmpty(t, rep.ByPurpose)
	require.Len(t, rep.Notes, 1)
	assert.Contains(t, rep.Notes[0], "PersonKey")
	assert.Contains(t, rep.String(), rep.Notes[0])
}

// ledgerCase is a random consent history for property tests.
type ledgerCase struct {
	recs []consent.Record
	in   trust.Input
}

func randomLedger(t *testing.T, r *rand.Rand, people int) ledgerCase {
	ctx := context.Background()
	gate, err := consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{Rand: consenttest.Rand(r.Uint64())})
	require.NoError(t, err)
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	purposes := []consent.Purpose{consent.PurposePersonalize, consent.PurposePersonalizeHistory, consent.PurposeMarketingEmail, consent.PurposeAdvertising}
	channels := []consent.Channel{consent.ChannelWeb, consent.ChannelApp, consent.ChannelStore}
	for p := range people {
		who := fmt.Sprintf("p%d", p)
		at := start.Add(time.Duration(r.IntN(21*24)) * time.Hour)
		for range 1 + r.IntN(6) {
			at = at.Add(time.Duration(r.IntN(72)) * time.Hour)
			a := []consent.Action{consent.Grant, consent.Deny, consent.Withdraw}[r.IntN(3)]
			_, err := gate.Record(ctx, consent.Event{Action: a, Subject: who, Purpose: purposes[r.IntN(len(purposes))], At: at, Channel: channels[r.IntN(3)]})
			require.NoError(t, err)
		}
		if r.IntN(5) == 0 {
			_, err := gate.Decide(ctx, who, consent.PurposeAdvertising, at.Add(time.Hour), consent.Signals{GPC: true})
			require.NoError(t, err)
		}
	}
	var buf bytes.Buffer
	_, err = gate.ExportLedger(ctx, &buf)
	require.NoError(t, err)
	recs, err := trust.ReadLedger(&buf)
	require.NoError(t, err)
	return ledgerCase{recs, trust.Input{Ledger: recs}}
}

// With no noise and bounds no one exceeds, every released count is the
// exact number of people, computed here independently.
func TestReleaseCountsPeopleExactly(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for n := range 20 {
		c := randomLedger(t, r, 20+r.IntN(60))
		rep := release(t, c.in, exact(trust.Config{MaxPartitions: 1000}))
		type cell struct{ week, key, action string }
		want := make(map[cell]map[string]bool)
		optouts, gpc := make(map[string]map[string]bool), make(map[string]map[string]bool)
		put := func(m map[string]map[string]bool, k, who string) {
			if m[k] == nil {
				m[k] = make(map[string]bool)
			}
			m[k][who] = true
		}
		for _, rec := range c.recs {
			w := trust.Week.Start(rec.At).Format(time.DateOnly)
			k := cell{w, string(rec.Purpose), rec.Action.String()}
			if want[k] == nil {
				want[k] = make(map[string]bool)
			}
			want[k][rec.Subject] = true
			if rec.Action != consent.Grant {
				put(optouts, w, rec.Subject)
				if rec.Source == consent.SourceGPC {
					put(gpc, w, rec.Subject)
				}
			}
		}
		got := 0
		for _, row := range rep.ByPurpose {
			for action, e := range map[string]trust.Estimate{"grant": row.Grants, "deny": row.Denials, "withdraw": row.Withdrawals} {
				k := cell{row.Bucket.Format(time.DateOnly), row.Key, action}
				if e.Released {
					got++
					assert.Equal(t, float64(len(want[k])), e.Value, "case %d %v", n, k)
					assert.LessOrEqual(t, e.Lower, e.Value)
					assert.GreaterOrEqual(t, e.Upper, e.Value)
				} else {
					assert.Empty(t, want[k], "case %d %v: a cell with people is released without noise", n, k)
				}
			}
		}
		assert.Equal(t, len(want), got, "case %d: every cell released", n)
		// The totals over the weeks are the sums of the cells.
		totals := make(map[[2]string]float64)
		for k, people := range want {
			totals[[2]string{k.key, k.action}] += float64(len(people))
		}
		shown := 0
		for _, row := range rep.PurposeTotals {
			assert.Equal(t, rep.From, row.Bucket)
			for action, e := range map[string]trust.Estimate{"grant": row.Grants, "deny": row.Denials, "withdraw": row.Withdrawals} {
				if e.Released {
					shown++
					assert.Equal(t, totals[[2]string{row.Key, action}], e.Value, "case %d %s %s", n, row.Key, action)
				}
			}
		}
		assert.Equal(t, len(totals), shown, "case %d: every total shown", n)
		for _, row := range rep.GPC {
			w := row.Bucket.Format(time.DateOnly)
			assert.Equal(t, float64(len(optouts[w])), row.OptOuts.Value*b2f(row.OptOuts.Released), "case %d %s", n, w)
			assert.Equal(t, float64(len(gpc[w])), row.FromGPC.Value*b2f(row.FromGPC.Released), "case %d %s", n, w)
			if len(gpc[w]) > 0 {
				assert.InDelta(t, float64(len(gpc[w]))/float64(len(optouts[w])), row.Share.Value, 1e-12)
			}
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Person-level bounding: however many records a person has, they add to
// at most MaxPartitions cells of a table, MaxContributions each.
func TestReleaseBoundsEachPerson(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for n := range 20 {
		c := randomLedger(t, r, 10+r.IntN(30))
		people := make(map[string]bool)
		for _, rec := range c.recs {
			people[rec.Subject] = true
		}
		l0 := 1 + r.IntN(3)
		rep := release(t, c.in, exact(trust.Config{MaxPartitions: l0}))
		total := 0.0
		for _, row := range rep.ByPurpose {
			total += row.Grants.Value + row.Denials.Value + row.Withdrawals.Value
		}
		assert.LessOrEqual(t, total, float64(len(people)*l0), "case %d: %d people, L0 %d", n, len(people), l0)
		assert.Equal(t, l0, rep.MaxPartitions)
	}
}

// Small groups are never shown: every released count has at least
// MinPersons people behind it.
func TestReleaseSuppressesSmallGroups(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	shown, hidden := 0, 0
	for n := range 20 {
		c := randomLedger(t, r, 30+r.IntN(50))
		k := 2 + r.IntN(6)
		all := release(t, c.in, exact(trust.Config{MaxPartitions: 1000}))
		rep := release(t, c.in, exact(trust.Config{MaxPartitions: 1000, MinPersons: k}))
		for _, row := range all.ByPurpose {
			var kept *trust.ConsentRow
			for j := range rep.ByPurpose {
				if rep.ByPurpose[j].Bucket.Equal(row.Bucket) && rep.ByPurpose[j].Key == row.Key {
					kept = &rep.ByPurpose[j]
				}
			}
			for a, e := range []trust.Estimate{row.Grants, row.Denials, row.Withdrawals} {
				if !e.Released {
					continue
				}
				var got trust.Estimate
				if kept != nil {
					got = []trust.Estimate{kept.Grants, kept.Denials, kept.Withdrawals}[a]
				}
				if e.Value >= float64(k) {
					shown++
					assert.True(t, got.Released, "case %d: %v people, threshold %d", n, e.Value, k)
				} else {
					hidden++
					assert.False(t, got.Released, "case %d: %v people shown under threshold %d", n, e.Value, k)
				}
			}
		}
		assert.Equal(t, k, rep.MinPersons)
	}
	assert.Positive(t, shown, "the cases have cells above the threshold")
	assert.Positive(t, hidden, "and below it")
}

// The report spends what it declares, in one dp release per table, each
// logged; and its meaning is stated.
func TestReleaseSpendsDeclaredBudget(t *testing.T) {
	f := cleanFixture(t)
	var log bytes.Buffer
	budget, _ := dp.NewBudget(2, 1e-5, nil)
	rep, err := trust.Release(context.Background(), budget, input(t, f.events, f.ledger), trust.Config{
		Epsilon: 1, Delta: 1e-6, PersonKey: "person", Policy: consenttest.RetailPolicy(), Logger: slog.New(slog.NewJSONHandler(&log, nil))})
	require.NoError(t, err)
	e, d := budget.Spent()
	assert.LessOrEqual(t, e, 1.0)
	assert.InDelta(t, 1, e, 1e-9)
	assert.InDelta(t, 1e-6, d, 1e-15)
	assert.Equal(t, e, rep.Epsilon)
	assert.Equal(t, d, rep.Delta)
	assert.True(t, rep.Private)
	assert.Len(t, budget.Ledger(), 6, "six tables, six releases")
	assert.Equal(t, 6, strings.Count(log.String(), `"msg":"dp.release"`))
	assert.Contains(t, rep.Meaning(), "factor of 2.72")
	assert.NotContains(t, rep.Meaning(), "NOT PRIVATE")
	assert.Contains(t, rep.String(), "ε=1, δ=1e-06")

	// The report's releases pass the continuous audit against the same
	// declared budget, and fail it against a smaller one.
	evs, err := trust.ReadEvents(&log)
	require.NoError(t, err)
	_, err = trust.Check(context.Background(), trust.Input{Events: evs}, trust.CheckConfig{Epsilon: 1, Delta: 1e-6})
	require.NoError(t, err)
	_, err = trust.Check(context.Background(), trust.Input{Events: evs}, trust.CheckConfig{Epsilon: 0.9, Delta: 1e-6})
	assert.ErrorIs(t, err, trust.ErrOverBudget)
}

// The fixture's story, in the report's numbers.
func TestReleaseMeasuresTheFixture(t *testing.T) {
	f := cleanFixture(t)
	rep := release(t, input(t, f.events, f.ledger), exact(trust.Config{PersonKey: "person", MaxPartitions: 100}))
	require.Len(t, rep.Buckets, 2)
	assert.Equal(t, f.start.Truncate(24*time.Hour), rep.From)

	// Re-consent: 20 of 160 shoppers granted history again under version
	// 2 in week 2, all of whom had granted personalize under version 1.
	require.Len(t, rep.Reconsent, 1)
	assert.Equal(t, consent.PurposePersonalizeHistory, rep.Reconsent[0].Purpose)
	assert.Equal(t, 20.0, rep.Reconsent[0].People.Value, "shoppers 1, 9, 17, ...")

	// GPC: every sixth visitor in week 2 sent the signal.
	require.Len(t, rep.GPC, 2)
	assert.False(t, rep.GPC[0].FromGPC.Released)
	assert.Equal(t, 27.0, rep.GPC[1].FromGPC.Value, "shoppers 0, 6, 12, ... 156")

	// Warm-up: every fifth visit.
	var served, warm float64
	for _, row := range rep.Serve {
		served += row.Served.Value
		warm += row.WarmUp.Value
	}
	assert.Equal(t, 320.0, served, "160 people served in each week")
	assert.InDelta(t, 64, warm, 1e-9, "32 warm-up visits each week")
	// Tier moves: shoppers who granted history for the first time in week
	// 2 became established.
	require.NotEmpty(t, rep.TierMoves)
	for _, row := range rep.TierMoves {
		assert.Equal(t, recommend.Established, row.Tier)
		assert.Equal(t, rep.Buckets[1], row.Bucket)
	}
}

func TestPeriodStart(t *testing.T) {
	sun := time.Date(2026, 3, 8, 23, 59, 0, 0, time.UTC)
	assert.Equal(t, "2026-03-02", trust.Week.Start(sun).Format(time.DateOnly), "weeks start on Monday")
	assert.Equal(t, "2026-03-09", trust.Week.Start(sun.Add(time.Minute)).Format(time.DateOnly))
	assert.Equal(t, "2026-03-08", trust.Day.Start(sun).Format(time.DateOnly))
	cet := time.FixedZone("CET", 3600)
	assert.Equal(t, "2026-03-08", trust.Day.Start(time.Date(2026, 3, 9, 0, 30, 0, 0, cet)).Format(time.DateOnly), "buckets are UTC")
	assert.Equal(t, "week", trust.Week.String())
	assert.Equal(t, "day", trust.Day.String())
}

// Daily buckets, and a window that cuts the input.
func TestReleaseDaysInWindow(t *testing.T) {
	f := cleanFixture(t)
	from := f.start.AddDate(0, 0, 1).Truncate(24 * time.Hour)
	rep := release(t, input(t, f.events, f.ledger), exact(trust.Config{PersonKey: "person", Period: trust.Day, From: from, To: from.AddDate(0, 0, 2)}))
	require.Len(t, rep.Buckets, 2)
	for _, row := range rep.Serve {
		assert.Equal(t, from, row.Bucket, "only day 1 had responses in the window")
	}
	assert.Empty(t, rep.ByPurpose, "no consent change on those days")
	assert.Contains(t, rep.String(), "Trust report by day, 2025-09-02 to 2025-09-03 (2 days, UTC)")
}

// Re-consent counts grants under a newer policy version by people who
// had granted the purpose, or one related to it, under an older one; not
// a second grant under the same version, nor a first grant.
func TestReleaseReconsent(t *testing.T) {
	ctx := context.Background()
	gate, err := consent.NewGate(policyV1(), consent.NewMemoryStore(), consent.GateConfig{Rand: consenttest.Rand(2)})
	require.NoError(t, err)
	at := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	grant := func(who string, p consent.Purpose, at time.Time) {
		_, err := gate.Record(ctx, consent.Event{Action: consent.Grant, Subject: who, Purpose: p, At: at, Channel: consent.ChannelWeb})
		require.NoError(t, err)
	}
	for i := range 6 {
		grant(fmt.Sprint("again-", i), consent.PurposePersonalize, at)
		grant(fmt.Sprint("again-", i), consent.PurposePersonalizeHistory, at.Add(time.Hour)) // same version: not re-consent
		grant(fmt.Sprint("first-", i), consent.PurposeMarketingEmail, at)
	}
	require.NoError(t, gate.SetPolicy(consenttest.RetailPolicy()))
	later := at.AddDate(0, 0, 7)
	for i := range 6 {
		if i < 4 {
			grant(fmt.Sprint("again-", i), consent.PurposePersonalizeHistory, later)
		}
		grant(fmt.Sprint("first-", i), consent.PurposePersonalizeHistory, later) // never granted before
	}
	var buf bytes.Buffer
	_, err = gate.ExportLedger(ctx, &buf)
	require.NoError(t, err)
	recs, err := trust.ReadLedger(&buf)
	require.NoError(t, err)
	rep := release(t, trust.Input{Ledger: recs}, exact(trust.Config{}))
	require.Len(t, rep.Reconsent, 1)
	assert.Equal(t, trust.Week.Start(later), rep.Reconsent[0].Bucket)
	assert.Equal(t, consent.PurposePersonalizeHistory, rep.Reconsent[0].Purpose)
	assert.Equal(t, 4.0, rep.Reconsent[0].People.Value)
}

func TestShare(t *testing.T) {
	e := func(v, lo, hi float64) trust.Estimate {
		return trust.Estimate{Value: v, Lower: lo, Upper: hi, Released: true}
	}
	for _, tc := range []struct {
		name     string
		num, den trust.Estimate
		want     trust.Ratio
	}{
		{"plain", e(20, 10, 30), e(100, 80, 120), trust.Ratio{Value: 0.2, Lower: 10.0 / 120, Upper: 30.0 / 80, Released: true}},
		{"noise above the whole", e(130, 110, 150), e(100, 80, 120), trust.Ratio{Value: 1, Lower: 110.0 / 120, Upper: 1, Released: true}},
		{"denominator interval at zero", e(5, 1, 9), e(10, 0, 30), trust.Ratio{Value: 0.5, Lower: 1.0 / 30, Upper: 1, Released: true}},
		{"numerator not shown", trust.Estimate{}, e(100, 80, 120), trust.Ratio{}},
		{"denominator not shown", e(20, 10, 30), trust.Estimate{}, trust.Ratio{}},
		{"denominator not positive", e(20, 10, 30), e(-3, 0, 10), trust.Ratio{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := trust.Share(tc.num, tc.den)
			assert.Equal(t, tc.want.Released, got.Released)
			assert.InDelta(t, tc.want.Value, got.Value, 1e-12)
			assert.InDelta(t, tc.want.Lower, got.Lower, 1e-12)
			assert.InDelta(t, tc.want.Upper, got.Upper, 1e-12)
			if got.Released {
				assert.LessOrEqual(t, got.Lower, got.Value)
				assert.GreaterOrEqual(t, got.Upper, got.Value)
			}
		})
	}
}

// What each response counts for: "suppressed" is any guard but
// already_bought; a tier move is a response above every tier before.
func TestReleaseServeCounts(t *testing.T) {
	line := func(day int, person, tier string, warm bool, filtered string) string {
		return fmt.Sprintf(`{"time":"2026-03-0%dT10:00:00Z","msg":"recommend.serve","tier":%q,"items":3,"categories":"","purposes":"","withheld":"","warm_up":%v,"filtered":{%s},"person":%q}`,
			day, tier, warm, filtered, person)
	}
	events := strings.Join([]string{
		line(2, "p1", "anonymous", false, `"already_bought":2`),
		line(3, "p1", "recognized", false, `"already_bought":1`),
		line(3, "p2", "recognized", false, `"not_interested":1,"already_bought":0`),
		line(4, "p3", "recognized", true, `"sensitive":1,"confidence_floor":2`),
		line(5, "p3", "anonymous", false, ``), // down a tier: not a move
	}, "\n")
	evs, err := trust.ReadEvents(strings.NewReader(events))
	require.NoError(t, err)
	rep := release(t, trust.Input{Events: evs}, exact(trust.Config{PersonKey: "person"}))
	require.Len(t, rep.Serve, 2)
	anon, rec := rep.Serve[0], rep.Serve[1]
	assert.Equal(t, recommend.Anonymous, anon.Tier)
	assert.Equal(t, 2.0, anon.Served.Value)
	assert.False(t, anon.Suppressed.Released, "already bought is not a suppression")
	assert.Equal(t, recommend.Recognized, rec.Tier)
	assert.Equal(t, 3.0, rec.Served.Value)
	assert.Equal(t, 1.0, rec.NotInterested.Value)
	assert.Equal(t, 2.0, rec.Suppressed.Value, "p2 (not interested) and p3 (sensitive, floor), not p1")
	assert.Equal(t, 1.0, rec.WarmUp.Value)
	assert.Equal(t, 1.0, rec.ConfidenceFloor.Value)
	assert.Equal(t, 1.0, rec.Sensitive.Value)
	require.Len(t, rep.TierMoves, 1)
	assert.Equal(t, recommend.Recognized, rep.TierMoves[0].Tier)
	assert.Equal(t, 1.0, rep.TierMoves[0].People.Value, "p1 moved up; p2 and p3 were first seen at their tier")
	assert.InDelta(t, 2.0/3, trust.Share(rec.Suppressed, rec.Served).Value, 1e-12)
}

// The rows are public lists, not what the data holds: with noise shifted
// up by five standard deviations every cell is shown, and the rows are
// exactly the policy's purposes on consent or legitimate interest (those
// on legitimate interest without grants: they can only be objected to),
// the usual channels, "other" and "erased".
func TestReleasePublicRows(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	c := randomLedger(t, r, 5)
	cfg := exact(trust.Config{})
	cfg.NoiseSource, cfg.Alpha = dptest.Noise{StdDevs: 5}, 0.05
	rep := release(t, c.in, cfg)
	var want []string
	for _, s := range cfg.Policy.Purposes {
		if s.Basis.NeedsConsent() || s.Basis == consent.BasisLegitimateInterest {
			want = append(want, string(s.Purpose))
		}
	}
	want = append(want, "other")
	var got []string
	for _, row := range rep.PurposeTotals {
		got = append(got, row.Key)
		spec, _ := cfg.Policy.Spec(consent.Purpose(row.Key))
		assert.Equal(t, spec.Basis != consent.BasisLegitimateInterest, row.Grants.Released, row.Key)
		assert.True(t, row.Denials.Released && row.Withdrawals.Released, row.Key)
	}
	assert.ElementsMatch(t, want, got)
	got = got[:0]
	for _, row := range rep.ChannelTotals {
		got = append(got, row.Key)
	}
	assert.ElementsMatch(t, []string{"web", "app", "store", "call_centre", "email", "post", "api", "other", "erased"}, got)
	assert.Len(t, rep.Reconsent, len(rep.Buckets), "one changed purpose (personalize.history), every week")
}

// A table computed but with nothing shown is empty, not nil, and the text
// says so; a table not computed is nil.
func TestReleaseEmptyTablesAreShownEmpty(t *testing.T) {
	f := cleanFixture(t)
	rep := release(t, input(t, f.events, f.ledger), exact(trust.Config{PersonKey: "person", MinPersons: 1_000_000}))
	for name, n := range map[string]int{"serve": len(rep.Serve), "moves": len(rep.TierMoves), "purpose": len(rep.ByPurpose),
		"totals": len(rep.PurposeTotals), "reconsent": len(rep.Reconsent)} {
		assert.Zero(t, n, name)
	}
	assert.NotNil(t, rep.Serve)
	assert.NotNil(t, rep.TierMoves)
	assert.NotNil(t, rep.ByPurpose)
	assert.NotNil(t, rep.Reconsent)
	assert.Equal(t, 7, strings.Count(rep.String(), "(none shown)"), "every table but GPC, which has a row per week: %s", rep.String())
}
