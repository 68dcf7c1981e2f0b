package trust_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/trust"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/recommendtest"
)

// Context keys of the host's handler.
type (
	personKey struct{}
	timeKey   struct{}
)

// hostHandler is what a host's slog handler does for the trust report:
// it adds the person (a pseudonym) and stamps the record with the
// request's time, both from the request's context.
type hostHandler struct{ slog.Handler }

func (h hostHandler) Handle(ctx context.Context, r slog.Record) error {
	if p, ok := ctx.Value(personKey{}).(string); ok {
		r.AddAttrs(slog.String("person", p))
	}
	if t, ok := ctx.Value(timeKey{}).(time.Time); ok {
		r.Time = t
	}
	return h.Handler.Handle(ctx, r)
}

func (h hostHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return hostHandler{h.Handler.WithAttrs(as)}
}
func (h hostHandler) WithGroup(n string) slog.Handler { return hostHandler{h.Handler.WithGroup(n)} }

// pseudonym is the host's pseudonym of a subject, as it logs it.
func pseudonym(subject string) string {
	h := sha256.Sum256([]byte("host key|" + subject))
	return "h" + hex.EncodeToString(h[:6])
}

// policyV1 is consenttest's retail policy before its material change:
// version 1, personalize.history at version 1.
func policyV1() *consent.Policy {
	p := consenttest.RetailPolicy()
	p.Version = 1
	for i := range p.Purposes {
		if p.Purposes[i].Version > 1 {
			p.Purposes[i].Version = 1
		}
	}
	return p
}

// fixture is a clean audit trail: a real Gate and Recommender over a
// synthetic shop, two weeks of requests, a policy change, withdrawals, GPC
// visitors and one DP release, logged through the host's handler.
type fixture struct {
	events, ledger []byte
	policies       []trust.InForce
	start, change  time.Time
}

var (
	fixtureOnce sync.Once
	fixtureData *fixture
)

// cleanFixture returns the shared clean fixture; callers must not modify
// its slices (use lines to copy).
func cleanFixture(t testing.TB) *fixture {
	t.Helper()
	fixtureOnce.Do(func() { fixtureData = buildFixture(t) })
	if fixtureData == nil {
		t.Fatal("fixture failed")
	}
	return fixtureData
}

func buildFixture(t testing.TB) *fixture {
	ctx := context.Background()
	f := &fixture{start: time.Date(2025, 9, 1, 9, 0, 0, 0, time.UTC)} // a Monday
	f.change = f.start.AddDate(0, 0, 8)
	var events bytes.Buffer
	log := slog.New(hostHandler{slog.NewJSONHandler(&events, nil)})
	world := recommendtest.Generate(recommendtest.Options{Seed: 1, Items: 200, Shoppers: 160})
	gate, err := consent.NewGate(policyV1(), consent.NewMemoryStore(), consent.GateConfig{Rand: consenttest.Rand(1), Logger: log, LogDecisions: true})
	if err != nil {
		t.Fatal(err)
	}
	rec := func(a consent.Action, who string, p consent.Purpose, at time.Time, ch consent.Channel) {
		if _, err := gate.Record(ctx, consent.Event{Action: a, Subject: who, Purpose: p, At: at, Channel: ch}); err != nil {
			t.Fatal(err)
		}
	}
	for i, sh := range world.Shoppers {
		at := f.start.Add(time.Duration(i) * time.Minute)
		ch := []consent.Channel{consent.ChannelWeb, consent.ChannelApp}[i%2]
		switch i % 4 {
		case 0, 1:
			rec(consent.Grant, sh.ID, consent.PurposePersonalize, at, ch)
		case 2:
			rec(consent.Grant, sh.ID, consent.PurposePersonalizeDeclared, at, ch)
			rec(consent.Grant, sh.ID, consent.PurposePersonalizeFeedback, at, ch)
		case 3:
			rec(consent.Deny, sh.ID, consent.PurposePersonalize, at, ch)
		}
	}
	r, err := recommend.New(world.Model(), gate, world.Store(), recommend.Config{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	serve := func(day int, gpcEvery int) {
		for i, sh := range world.Shoppers {
			at := f.start.AddDate(0, 0, day).Add(time.Duration(i) * time.Minute)
			rel := sh.Relationship
			rel.Visits += day
			if day > 7 && i%3 == 0 {
				rel.Orders += 2 // some become established in week 2
				rel.Visits += 3
			}
			visit := at.Add(-5 * time.Minute)
			if i%5 == 0 {
				visit = at.Add(-30 * time.Second) // in warm-up
			}
			req := recommend.Request{Subject: sh.ID, At: at, VisitStart: visit, K: 5, Relationship: rel}
			if gpcEvery > 0 && i%gpcEvery == 0 {
				req.Signals.GPC = true
			}
			rctx := context.WithValue(context.WithValue(ctx, personKey{}, pseudonym(sh.ID)), timeKey{}, at)
			if _, err := r.Recommend(rctx, req); err != nil {
				t.Fatal(err)
			}
		}
	}
	serve(1, 0)
	// Week 2: some withdraw history; the policy changes materially; some
	// grant history again under it; some visitors send GPC.
	for i, sh := range world.Shoppers {
		if i%8 == 0 {
			rec(consent.Withdraw, sh.ID, consent.PurposePersonalizeHistory, f.start.AddDate(0, 0, 7), consent.ChannelApp)
		}
	}
	if err := gate.SetPolicy(consenttest.RetailPolicy()); err != nil {
		t.Fatal(err)
	}
	for i, sh := range world.Shoppers {
		if i%8 == 1 || i%8 == 2 { // again; and for the first time, moving up a tier
			rec(consent.Grant, sh.ID, consent.PurposePersonalizeHistory, f.change.Add(time.Hour), consent.ChannelWeb)
		}
	}
	serve(9, 6)

	// One DP release, logged by dp.
	budget, _ := dp.NewBudget(1, 1e-5, &dp.BudgetOptions{Logger: log})
	c, err := dp.NewCounter(dp.Params{Epsilon: 0.5, Delta: 1e-6, MaxPartitions: 1, MaxContributions: 1, Logger: log, Label: "visits"})
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range world.Shoppers {
		c.Add(sh.ID, "all")
	}
	if _, err := c.Release(ctx, budget); err != nil {
		t.Fatal(err)
	}

	var ledger bytes.Buffer
	if _, err := gate.ExportLedger(ctx, &ledger); err != nil {
		t.Fatal(err)
	}
	f.events, f.ledger = events.Bytes(), ledger.Bytes()
	f.policies = []trust.InForce{{Policy: policyV1()}, {From: f.change, Policy: consenttest.RetailPolicy()}}
	return f
}

// checkConfig is the configuration that passes on the clean fixture.
func (f *fixture) checkConfig() trust.CheckConfig {
	return trust.CheckConfig{Policies: f.policies, PersonKey: "person", Pseudonym: pseudonym, Epsilon: 1, Delta: 1e-5}
}

// lines returns a copy of data split into lines (no trailing newlines).
func lines(data []byte) []string {
	return strings.Split(strings.TrimRight(string(data), "\n"), "\n")
}

func join(ls []string) []byte { return []byte(strings.Join(ls, "\n") + "\n") }

// input reads events and ledger, failing t on error.
func input(t testing.TB, events, ledger []byte) trust.Input {
	t.Helper()
	evs, err := trust.ReadEvents(bytes.NewReader(events))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := trust.ReadLedger(bytes.NewReader(ledger))
	if err != nil {
		t.Fatal(err)
	}
	return trust.Input{Events: evs, Ledger: recs}
}

// edit decodes a JSON line into a map, lets fn change it, and encodes it.
func edit(t testing.TB, line string, fn func(m map[string]any)) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// find returns the index of the first line for which fn is true.
func find(t testing.TB, ls []string, fn func(m map[string]any) bool) int {
	t.Helper()
	for i, l := range ls {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && fn(m) {
			return i
		}
	}
	t.Fatal("no such line")
	return -1
}

// testRand is a seeded source for contribution bounding in tests.
func testRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 7)) }

func nan() float64 { return math.NaN() }
