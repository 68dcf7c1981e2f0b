package dbtest_test

import (
	"database/sql"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
	"github.com/tact-go/tact/consent/sqlstore"
	"github.com/tact-go/tact/consent/sqlstore/sqltest"
)

// Benchmarks of the consent store on SQLite (a file in WAL mode) and
// PostgreSQL, beside their baselines:
//
//	go test -run '^$' -bench . -benchtime 2000x ./...   (in this module)
//
// BenchmarkDecide/sqlite must stay within 1.3× BenchmarkBaselineSelect/sqlite:
// one bare indexed SELECT of one row of the table a decision reads.

const benchSubjects = 1000

// benchGate is a Gate over a migrated database holding, for each of 1,000
// subjects, a grant of personalize and of personalize.history.
func benchGate(b *testing.B, d sqlstore.Dialect) (*consent.Gate, *sqlstore.Store, *sql.DB) {
	b.Helper()
	db := sqltest.New(b, d).Open(b)
	if err := sqlstore.Migrate(ctx, db, d); err != nil {
		b.Fatal(err)
	}
	s, err := sqlstore.New(ctx, db, d)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	g, err := consent.NewGate(consenttest.RetailPolicy(), s, consent.GateConfig{})
	if err != nil {
		b.Fatal(err)
	}
	for i := range benchSubjects {
		for _, p := range []consent.Purpose{consent.PurposePersonalize, consent.PurposePersonalizeHistory} {
			if _, err := g.Record(ctx, ev(consent.Grant, "shopper-"+strconv.Itoa(i), p, now)); err != nil {
				b.Fatal(err)
			}
		}
	}
	return g, s, db
}

func dialects(b *testing.B, f func(b *testing.B, d sqlstore.Dialect)) {
	for _, d := range []sqlstore.Dialect{sqlstore.SQLite, sqlstore.Postgres} {
		b.Run(d.String(), func(b *testing.B) { f(b, d) })
	}
}

// BenchmarkDecide decides personalize.history (the purpose and its parent:
// one query of tact_consent_latest).
func BenchmarkDecide(b *testing.B) {
	dialects(b, func(b *testing.B, d sqlstore.Dialect) {
		g, _, _ := benchGate(b, d)
		at := now.Add(time.Hour)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			dec, err := g.Decide(ctx, "shopper-"+strconv.Itoa(i%benchSubjects), consent.PurposePersonalizeHistory, at, consent.Signals{})
			if err != nil || !dec.Allowed {
				b.Fatal(dec.Reason, err)
			}
			i++
		}
	})
}

// BenchmarkBaselineSelect is one bare indexed SELECT of one row by its
// primary key, with a prepared statement: the least a decision over SQL
// can cost. It reads the row of tact_consent_subjects a decision reads.
func BenchmarkBaselineSelect(b *testing.B) {
	dialects(b, func(b *testing.B, d sqlstore.Dialect) {
		_, _, db := benchGate(b, d)
		st, err := db.PrepareContext(ctx, d.Rebind(`SELECT last, standing FROM tact_consent_subjects WHERE subject = ?`))
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		var last int64
		var standing []byte
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := st.QueryRowContext(ctx, "shopper-"+strconv.Itoa(i%benchSubjects)).Scan(&last, &standing); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkDecideMany decides the four purposes a recommendation reads, in
// one query.
func BenchmarkDecideMany(b *testing.B) {
	dialects(b, func(b *testing.B, d sqlstore.Dialect) {
		g, _, _ := benchGate(b, d)
		at := now.Add(time.Hour)
		ps := []consent.Purpose{consent.PurposePersonalizeContext, consent.PurposePersonalizeDeclared,
			consent.PurposePersonalizeFeedback, consent.PurposePersonalizeHistory}
		ds := make([]consent.Decision, 0, len(ps))
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			var err error
			ds, err = g.DecideMany(ctx, "shopper-"+strconv.Itoa(i%benchSubjects), ps, at, consent.Signals{}, ds[:0])
			if err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkRecord records a grant for a new subject each time.
func BenchmarkRecord(b *testing.B) {
	dialects(b, func(b *testing.B, d sqlstore.Dialect) {
		g, _, _ := benchGate(b, d)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := g.Record(ctx, ev(consent.Grant, "new-"+strconv.Itoa(i), consent.PurposeMarketing, now)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkErase erases a subject with 2,000 records (withdrawals, then
// one transaction of tombstones).
func BenchmarkErase(b *testing.B) {
	const records = 2000
	dialects(b, func(b *testing.B, d sqlstore.Dialect) {
		g, _, _ := benchGate(b, d)
		at := now
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			subject := fmt.Sprint("erased-", i)
			for j := range records {
				at = at.Add(time.Second)
				if _, err := g.Record(ctx, ev([]consent.Action{consent.Grant, consent.Withdraw}[j%2], subject, consent.PurposeMarketing, at)); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
			if _, err := g.Erase(ctx, subject, at); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAppendsEightWriters has 8 goroutines, each with a Gate of its
// own (8 service instances) over one database, recording for their own
// subjects; it reports appends per second across all of them. Every
// append goes through the one row of tact_consent_head, so writers take
// turns: this is the ceiling of one hash chain.
func BenchmarkAppendsEightWriters(b *testing.B) {
	dialects(b, func(b *testing.B, d sqlstore.Dialect) {
		_, s, _ := benchGate(b, d)
		var next atomic.Int64
		b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			g, err := consent.NewGate(consenttest.RetailPolicy(), s, consent.GateConfig{})
			if err != nil {
				b.Error(err)
				return
			}
			w := next.Add(1)
			i := 0
			for pb.Next() {
				subject := fmt.Sprint("writer-", w, "-", i)
				if _, err := g.Record(ctx, ev(consent.Grant, subject, consent.PurposeMarketing, now)); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "appends/s")
	})
}
