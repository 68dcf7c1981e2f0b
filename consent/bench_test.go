package consent_test

import (
	"context"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
)

// BenchmarkRecordGrant records a grant: validation, the SHA-256 chain and the
// append to a MemoryStore. Target: at most 2 µs/op. It comes first so that it
// runs before the big fixture below exists (the testing package collects
// garbage before every benchmark, and that fixture makes each collection
// take about a second).
func BenchmarkRecordGrant(b *testing.B) {
	g, err := consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	subjects := make([]string, 4096)
	for i := range subjects {
		subjects[i] = "shopper-" + strconv.Itoa(i)
	}
	ev := consent.Event{Action: consent.Grant, Purpose: consent.PurposePersonalizeHistory, At: consenttest.Now(),
		Channel: consent.ChannelWeb, Evidence: "sha256:9f2c1d"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev.Subject = subjects[i&(len(subjects)-1)]
		if _, err := g.Record(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}

// The decision benchmark's fixture: 1,000,000 subjects under the 20-purpose
// retail policy, in a mix of states (nothing on record, a parent granted,
// specific grants, grant then withdrawal, a denial, an expired grant): 1.3
// records per subject, 1.3 million records in the chained ledger. The
// baseline holds the same facts in a bare map[string]map[string]bool.
const benchSubjects = 1_000_000

type benchQuery struct {
	subject string
	purpose consent.Purpose
}

var bench struct {
	once     sync.Once
	gate     *consent.Gate
	baseline map[string]map[string]bool
	all      []benchQuery // uniform over subjects × all 20 purposes
	needs    []benchQuery // uniform over subjects × the purposes that need consent
	now      time.Time
	records  int
}

func benchFixture(b *testing.B) {
	bench.once.Do(func() {
		// Collect once at the end instead of at every doubling of the heap
		// while it grows to about 700 MB: this halves the setup time.
		defer debug.SetGCPercent(debug.SetGCPercent(-1))
		ctx := context.Background()
		now := consenttest.Now()
		pol := consenttest.RetailPolicy()
		g, err := consent.NewGate(pol, consent.NewMemoryStore(), consent.GateConfig{})
		if err != nil {
			panic(err)
		}
		// Subject i is in state plans[i%10].
		type step struct {
			a  consent.Action
			p  consent.Purpose
			at time.Time
		}
		month := now.Add(-30 * 24 * time.Hour)
		plans := [10][]step{
			0: nil, 1: nil, // new
			2: {{consent.Grant, consent.PurposePersonalize, month}},
			3: {{consent.Grant, consent.PurposePersonalize, month}},
			4: {{consent.Grant, consent.PurposePersonalize, month}},
			5: {{consent.Grant, consent.PurposePersonalizeHistory, month}, {consent.Grant, consent.PurposeMarketingEmail, month}},
			6: {{consent.Grant, consent.PurposePersonalize, month}, {consent.Withdraw, consent.PurposePersonalize, month.Add(time.Hour)}},
			7: {{consent.Deny, consent.PurposeMarketing, month}, {consent.Grant, consent.PurposeAdvertising, month}},
			8: {{consent.Grant, consent.PurposePersonalizeDeclared, month}, {consent.Grant, consent.PurposePersonalizeFeedback, month},
				{consent.Grant, consent.PurposeSharingPartners, month}},
			9: {{consent.Grant, consent.PurposeMarketing, now.AddDate(-3, 0, 0)}}, // expired
		}
		subjects := make([]string, benchSubjects)
		for i := range subjects {
			subjects[i] = "shopper-" + strconv.Itoa(1_000_000+i)
		}
		// The baseline and the Gate are built from the same plan at the same
		// time, on two cores when there are two.
		base := make(map[string]map[string]bool, benchSubjects)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, s := range subjects {
				if plan := plans[i%10]; len(plan) > 0 {
					m := make(map[string]bool, len(plan))
					for _, st := range plan {
						m[string(st.p)] = st.a == consent.Grant
					}
					base[s] = m
				}
			}
		}()
		for i, s := range subjects {
			for _, st := range plans[i%10] {
				if _, err := g.Record(ctx, consent.Event{Action: st.a, Subject: s, Purpose: st.p, At: st.at, Channel: consent.ChannelWeb}); err != nil {
					panic(err)
				}
				bench.records++
			}
		}
		wg.Wait()
		var needs []consent.Purpose
		for _, s := range pol.Purposes {
			if s.Basis.NeedsConsent() {
				needs = append(needs, s.Purpose)
			}
		}
		rng := rand.New(rand.NewPCG(1, 2))
		const nq = 1 << 16
		bench.all = make([]benchQuery, nq)
		bench.needs = make([]benchQuery, nq)
		for i := range nq {
			bench.all[i] = benchQuery{subjects[rng.IntN(len(subjects))], pol.Purposes[rng.IntN(len(pol.Purposes))].Purpose}
			bench.needs[i] = benchQuery{subjects[rng.IntN(len(subjects))], needs[rng.IntN(len(needs))]}
		}
		bench.gate, bench.baseline, bench.now = g, base, now
		runtime.GC() // settle the heap so that collection does not run during the first benchmark
	})
	b.ResetTimer()
}

var sink int

// BenchmarkBaselineNestedMap is the yardstick for BenchmarkDecide: one lookup
// in a bare map[string]map[string]bool holding the same facts, for the same
// queries.
func BenchmarkBaselineNestedMap(b *testing.B) {
	benchFixture(b)
	b.ReportAllocs()
	n := 0
	for i := 0; i < b.N; i++ {
		q := bench.all[i&(len(bench.all)-1)]
		if bench.baseline[q.subject][string(q.purpose)] {
			n++
		}
	}
	sink = n
}

// BenchmarkDecide decides for a uniformly random subject of 1,000,000 and
// purpose of the 20 in the policy. Target: at most 2× the baseline, 0
// allocs/op.
func BenchmarkDecide(b *testing.B) {
	benchFixture(b)
	b.ReportAllocs()
	benchDecide(b, bench.all)
}

// BenchmarkDecideConsentPurposes is BenchmarkDecide restricted to the
// purposes that need consent: every decision reads the store.
func BenchmarkDecideConsentPurposes(b *testing.B) {
	benchFixture(b)
	b.ReportAllocs()
	benchDecide(b, bench.needs)
}

func benchDecide(b *testing.B, qs []benchQuery) {
	ctx := context.Background()
	g, now := bench.gate, bench.now
	n := 0
	for i := 0; i < b.N; i++ {
		q := qs[i&(len(qs)-1)]
		d, err := g.Decide(ctx, q.subject, q.purpose, now, consent.Signals{})
		if err != nil {
			b.Fatal(err)
		}
		if d.Allowed {
			n++
		}
	}
	sink = n
}

// BenchmarkBaselineNestedMapParallel and BenchmarkDecideParallel run the
// same lookups on every core (-cpu to vary), to show that decisions scale.
func BenchmarkBaselineNestedMapParallel(b *testing.B) {
	benchFixture(b)
	b.ReportAllocs()
	var seed sync.Mutex
	next := 0
	b.RunParallel(func(pb *testing.PB) {
		seed.Lock()
		i := next * 7919
		next++
		seed.Unlock()
		n := 0
		for pb.Next() {
			q := bench.all[i&(len(bench.all)-1)]
			if bench.baseline[q.subject][string(q.purpose)] {
				n++
			}
			i++
		}
		_ = n
	})
}

func BenchmarkDecideParallel(b *testing.B) {
	benchFixture(b)
	b.ReportAllocs()
	ctx := context.Background()
	g, now := bench.gate, bench.now
	var seed sync.Mutex
	next := 0
	b.RunParallel(func(pb *testing.PB) {
		seed.Lock()
		i := next * 7919
		next++
		seed.Unlock()
		for pb.Next() {
			q := bench.all[i&(len(bench.all)-1)]
			if _, err := g.Decide(ctx, q.subject, q.purpose, now, consent.Signals{}); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkErase32k erases a subject with 32,000 records from a
// MemoryStore: withdrawals, then one tombstone per record. Target: at most
// 50 ms/op (linear in the records; it was quadratic). The baseline is
// BenchmarkEraseBaselineScan: reading the subject's records once.
func BenchmarkErase32k(b *testing.B) {
	benchErase(b, func(ctx context.Context, g *consent.Gate, s *consent.MemoryStore, subject string, at time.Time) error {
		_, err := g.Erase(ctx, subject, at)
		return err
	})
}

// BenchmarkEraseBaselineScan reads the 32,000 records of a subject once,
// the least an erasure must do.
func BenchmarkEraseBaselineScan(b *testing.B) {
	benchErase(b, func(ctx context.Context, g *consent.Gate, s *consent.MemoryStore, subject string, at time.Time) error {
		n := 0
		return s.Scan(ctx, subject, 0, func(consent.Record) error { n++; return nil })
	})
}

func benchErase(b *testing.B, op func(context.Context, *consent.Gate, *consent.MemoryStore, string, time.Time) error) {
	const records = 32000
	ctx := context.Background()
	s := consent.NewMemoryStore()
	g, err := consent.NewGate(consenttest.RetailPolicy(), s, consent.GateConfig{})
	if err != nil {
		b.Fatal(err)
	}
	at := consenttest.Now()
	fill := func(subject string) {
		for i := range records {
			a := []consent.Action{consent.Grant, consent.Withdraw}[i%2]
			at = at.Add(time.Second)
			if _, err := g.Record(ctx, consent.Event{Action: a, Subject: subject, Purpose: consent.PurposeMarketing, At: at, Channel: consent.ChannelWeb}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		subject := "erased-" + strconv.Itoa(i)
		fill(subject)
		b.StartTimer()
		if err := op(ctx, g, s, subject, at); err != nil {
			b.Fatal(err)
		}
	}
}
