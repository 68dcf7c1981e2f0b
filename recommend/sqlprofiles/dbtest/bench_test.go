package dbtest_test

import (
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
	"github.com/tact-go/tact/consent/sqlstore"
	"github.com/tact-go/tact/consent/sqlstore/sqltest"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/recommendtest"
	"github.com/tact-go/tact/recommend/sqlprofiles"
)

// BenchmarkRecommend serves an established, consenting shopper (every
// source read: one consent query, three profile reads), with the consent
// ledger and the profiles in memory, in SQLite (a file in WAL mode) and in
// PostgreSQL:
//
//	go test -run '^$' -bench Recommend -benchtime 2000x ./...   (in this module)
func BenchmarkRecommend(b *testing.B) {
	w := recommendtest.Generate(recommendtest.Options{Seed: 1, Items: 2000, Shoppers: 300})
	model := w.Model()
	at := recommendtest.Epoch.AddDate(0, 6, 0)
	for _, where := range []string{"memory", "sqlite", "postgres"} {
		b.Run(where, func(b *testing.B) {
			var cs consent.Store = consent.NewMemoryStore()
			var ps recommendtest.ProfileStore = new(recommend.MemoryStore)
			if where != "memory" {
				d := map[string]sqlstore.Dialect{"sqlite": sqlstore.SQLite, "postgres": sqlstore.Postgres}[where]
				db := sqltest.New(b, d).Open(b)
				if err := sqlstore.Migrate(ctx, db, d); err != nil {
					b.Fatal(err)
				}
				if err := sqlprofiles.Migrate(ctx, db, d); err != nil {
					b.Fatal(err)
				}
				s, err := sqlstore.New(ctx, db, d)
				if err != nil {
					b.Fatal(err)
				}
				p, err := sqlprofiles.New(ctx, db, d)
				if err != nil {
					b.Fatal(err)
				}
				cs, ps = s, p
			}
			gate, err := consent.NewGate(consenttest.RetailPolicy(), cs, consent.GateConfig{})
			if err != nil {
				b.Fatal(err)
			}
			const persons = 100
			for i, sh := range w.Shoppers[:persons] {
				if _, err := gate.Record(ctx, consent.Event{Action: consent.Grant, Subject: sh.ID, Purpose: consent.PurposePersonalize,
					At: at.Add(-time.Duration(i+1) * time.Minute), Channel: consent.ChannelWeb}); err != nil {
					b.Fatal(err)
				}
				if err := ps.SetPreferences(ctx, sh.ID, sh.Preferences); err != nil {
					b.Fatal(err)
				}
				if err := ps.AddFeedback(ctx, sh.ID, sh.Feedback...); err != nil {
					b.Fatal(err)
				}
				if err := ps.AddEvents(ctx, sh.ID, sh.History...); err != nil {
					b.Fatal(err)
				}
			}
			r, err := recommend.New(model, gate, ps, recommend.Config{})
			if err != nil {
				b.Fatal(err)
			}
			rel := recommend.Relationship{Known: true, FirstSeen: at.AddDate(-1, 0, 0), Visits: 10, Orders: 5}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				sh := w.Shoppers[i%persons]
				resp, err := r.Recommend(ctx, recommend.Request{Subject: sh.ID, At: at, VisitStart: at.Add(-time.Hour), K: 10, Relationship: rel})
				if err != nil || resp.Tier != recommend.Established {
					b.Fatal(resp.Tier, err)
				}
				i++
			}
		})
	}
}
