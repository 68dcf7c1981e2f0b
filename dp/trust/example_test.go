package trust_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/dptest"
	"github.com/tact-go/tact/dp/trust"
)

// A trust report over two weeks of a small shop: 1,000 people grant
// personalization; in the second week 400 withdraw purchase history and
// 500 visitors arrive with Global Privacy Control; the recommender serves
// them all, and 700 reach the established tier, where a third of them had
// an item left out because they had said "not interested". The noise is dptest's (none), so
// that the output is stable: a real report uses the secure noise.
func Example() {
	ctx := context.Background()
	week1 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) // a Monday
	week2 := week1.AddDate(0, 0, 7)

	// The consent ledger, as consent.Gate.ExportLedger writes it.
	gate, _ := consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{Rand: consenttest.Rand(1)})
	for i := range 1000 {
		who := fmt.Sprintf("shopper-%04d", i)
		gate.Record(ctx, consent.Event{Action: consent.Grant, Subject: who, Purpose: consent.PurposePersonalize, At: week1, Channel: consent.ChannelWeb})
		if i < 400 {
			gate.Record(ctx, consent.Event{Action: consent.Withdraw, Subject: who, Purpose: consent.PurposePersonalizeHistory, At: week2, Channel: consent.ChannelApp})
		}
	}
	for i := range 500 {
		gate.Decide(ctx, fmt.Sprintf("visitor-%03d", i), consent.PurposePersonalizeContext, week2, consent.Signals{GPC: true})
	}
	var ledger bytes.Buffer
	gate.ExportLedger(ctx, &ledger)

	// The audit events, as slog's JSON handler writes them; the host's
	// handler added "person", a pseudonym.
	var events bytes.Buffer
	serve := func(at time.Time, person, tier string, notInterested int) {
		fmt.Fprintf(&events, `{"time":%q,"level":"INFO","msg":"recommend.serve","event":"recommend.serve","tier":%q,"items":3,`+
			`"categories":"user.behavior.session","purposes":"personalize.context","withheld":"","warm_up":false,`+
			`"filtered":{"warm_up":0,"sensitive":0,"frequency_cap":0,"not_interested":%d,"already_bought":0,"declared":0,"confidence_floor":0},"person":%q}`+"\n",
			at.Format(time.RFC3339), tier, notInterested, person)
	}
	for i := range 1000 {
		who := fmt.Sprintf("p%04d", i)
		serve(week1, who, "recognized", 0)
		tier := "recognized"
		if i < 700 {
			tier = "established"
		}
		serve(week2, who, tier, i%3/2)
	}

	evs, err := trust.ReadEvents(&events)
	if err != nil {
		panic(err)
	}
	recs, err := trust.ReadLedger(&ledger)
	if err != nil {
		panic(err)
	}
	budget, _ := dp.NewBudget(1, 1e-6, nil)
	rep, err := trust.Release(ctx, budget, trust.Input{Events: evs, Ledger: recs}, trust.Config{
		Epsilon: 1, Delta: 1e-6, PersonKey: "person", Policy: consenttest.RetailPolicy(),
		// Two weeks: a person is in at most two rows of a table.
		MaxPartitions: 2,
		// Tests only: no noise, seeded bounding.
		NoiseSource: dptest.Noise{}, Rand: rand.New(rand.NewPCG(1, 2)),
	})
	if err != nil {
		panic(err)
	}
	fmt.Print(rep)
	// Output:
	// Trust report by week, 2026-03-02 to 2026-03-15 (2 weeks, UTC)
	// Privacy: ε=1, δ=1e-06. NOT PRIVATE (built with test noise): Adding or removing any one person's events and consent records changes the chance of any result in this report by at most a factor of 2.72 (e^ε), except with probability at most δ = 1e-06.
	// Each person counts in at most 2 rows of each table, once per row; ± is the 99% confidence interval, and a count whose interval reaches below 10 people is not shown (·): each count shown is, with 99% confidence, a group of at least 10 (across many cells, a few may not be).
	//
	// Consent changes by purpose over the 2 weeks (people per week, summed)
	// purpose              grants    denials  withdrawals
	// personalize          1000 ±62  ·        ·
	// personalize.history  ·         ·        400 ±62
	// advertising          ·         500 ±62  ·
	// sharing              ·         500 ±62  ·
	//
	// Consent changes by channel over the 2 weeks (people per week, summed)
	// channel  grants    denials  withdrawals
	// web      1000 ±62  500 ±62  ·
	// app      ·         ·        400 ±62
	//
	// Consent changes by purpose (people)
	// week        purpose              grants    denials  withdrawals
	// 2026-03-02  personalize          1000 ±55  ·        ·
	// 2026-03-09  advertising          ·         500 ±55  ·
	// 2026-03-09  personalize.history  ·         ·        400 ±55
	// 2026-03-09  sharing              ·         500 ±55  ·
	//
	// Consent changes by channel (people)
	// week        channel  grants    denials  withdrawals
	// 2026-03-02  web      1000 ±55  ·        ·
	// 2026-03-09  app      ·         ·        400 ±55
	// 2026-03-09  web      ·         500 ±55  ·
	//
	// Opt-outs from Global Privacy Control (people who denied or withdrew anything; share from a GPC signal)
	// week        opted out  from GPC  share
	// 2026-03-02  ·          ·         ·
	// 2026-03-09  900 ±111   500 ±111  56% [38-77]
	//
	// Re-consent after a policy change (people who granted again under a newer version)
	// week  purpose  people
	// (none shown)
	//
	// Responses per tier (people served; share whose responses left out a "not interested" item, suppressed any item, were in warm-up, held back below the confidence floor, held back a sensitive item)
	// week        tier         served     not interested  suppressed  warm-up  confidence floor  sensitive
	// 2026-03-02  recognized   1000 ±201  ·               ·           ·        ·                 ·
	// 2026-03-09  recognized   300 ±201   ·               ·           ·        ·                 ·
	// 2026-03-09  established  700 ±201   33% [4-87]      33% [4-87]  ·        ·                 ·
	//
	// Tier moves (people served at a tier above any before)
	// week        tier reached  people
	// 2026-03-09  established   700 ±55
}

// A report needs a budget that can pay for all of it: otherwise it spends
// nothing. And an empty input is an error, not an empty report.
func ExampleRelease_budget() {
	ctx := context.Background()
	gate, _ := consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{})
	gate.Record(ctx, consent.Event{Action: consent.Grant, Subject: "shopper-1", Purpose: consent.PurposePersonalize,
		At: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), Channel: consent.ChannelWeb})
	var ledger bytes.Buffer
	gate.ExportLedger(ctx, &ledger)
	recs, _ := trust.ReadLedger(&ledger)

	budget, _ := dp.NewBudget(0.5, 1e-6, nil)
	cfg := trust.Config{Epsilon: 1, Delta: 1e-6, Policy: consenttest.RetailPolicy()}
	_, err := trust.Release(ctx, budget, trust.Input{Ledger: recs}, cfg)
	fmt.Println(err)
	fmt.Println(budget.Spent())

	_, err = trust.Release(ctx, budget, trust.Input{}, cfg)
	fmt.Println(errors.Is(err, trust.ErrNoData))
	// Output:
	// dp: privacy budget exhausted: "trust report" asked ε=1 δ=0, remaining ε=0.5 δ=1e-06
	// 0 0
	// true
}

// The continuous audit, on releases that together spent more than the
// declared budget: the error lists every violation, and errors.Is tells
// the kinds apart.
func ExampleCheck() {
	events, err := trust.ReadEvents(strings.NewReader(`{"time":"2026-03-02T10:00:00Z","level":"INFO","msg":"dp.release","event":"dp.release","kind":"topk","label":"trending","epsilon":1,"delta":1e-06,"partitions":12,"private":true}
{"time":"2026-03-09T10:00:00Z","level":"INFO","msg":"dp.release","event":"dp.release","kind":"aggregation","label":"basket sizes","epsilon":0.5,"delta":0,"partitions":3,"private":true}
{"time":"2026-03-09T11:00:00Z","level":"INFO","msg":"dp.release","event":"dp.release","kind":"aggregation","label":"debug run","epsilon":0.25,"delta":0,"partitions":3,"private":false}
`))
	if err != nil {
		panic(err)
	}
	sum, err := trust.Check(context.Background(), trust.Input{Events: events}, trust.CheckConfig{Epsilon: 1.5, Delta: 1e-6})
	fmt.Println(sum.Releases, "releases spent ε =", sum.Epsilon)
	fmt.Println(err)
	fmt.Println(errors.Is(err, trust.ErrOverBudget), errors.Is(err, trust.ErrChainBreak))
	// Output:
	// 3 releases spent ε = 1.75
	// trust: 2 audit violations
	// trust: audit violation: release not differentially private: event line 3: release "debug run" was made with test noise
	// trust: audit violation: releases beyond the declared budget: event line 3: release "debug run" takes the releases to ε=1.75, δ=1e-06, beyond the declared ε=1.5, δ=1e-06
	// true false
}
