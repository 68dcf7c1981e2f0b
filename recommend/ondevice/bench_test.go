package ondevice_test

import (
	"testing"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/ondevice"
	"github.com/tact-go/tact/recommend/recommendtest"
)

// BenchmarkRank ranks for one established shopper over a 10,000-item
// model: on the device (Rank, over the decoded model and the shipped
// decisions) and, as the baseline, on the service (Recommend over the
// same model, consent Decider and profile in a MemoryStore).
func BenchmarkRank(b *testing.B) {
	w, model, dm := shipped(b, 10000)
	sh := w.Shoppers[0]
	gate := recommendtest.NewConsents()
	gate.Allow(sh.ID, purposes...)
	req := recommend.Request{Subject: sh.ID, At: at, K: 10, VisitStart: at.Add(-recommend.DefaultWarmUp),
		Relationship: recommend.Relationship{Known: true, FirstSeen: at.AddDate(-1, 0, 0), Visits: 9, Orders: 9}}
	c, _ := ondevice.Decide(ctx, gate, sh.ID, at, consent.Signals{})
	device, err := ondevice.New(dm, &c, ondevice.Settings{})
	if err != nil {
		b.Fatal(err)
	}
	store := new(recommend.MemoryStore)
	_ = store.SetPreferences(ctx, sh.ID, sh.Preferences)
	_ = store.AddFeedback(ctx, sh.ID, sh.Feedback...)
	_ = store.AddEvents(ctx, sh.ID, sh.History...)
	server, _ := recommend.New(model, gate, store, recommend.Config{})
	p := profileOf(sh)
	b.Run("device", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := device.Rank(ctx, p, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("server", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := server.Recommend(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
