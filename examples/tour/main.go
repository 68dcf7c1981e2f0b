// Command tour is the README's code tour, runnable: consent, then minimize,
// then dp, then recommend, on three shoppers. A test checks that the README
// shows exactly the code between the tour markers.
package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/minimize"
	"github.com/tact-go/tact/recommend"
)

// Order is an order line as checkout records it.
type Order struct {
	Customer string  `tact:"user.unique_id"`
	Email    string  `tact:"user.contact.email"`
	Item     string  `tact:"user.behavior.purchase_history"`
	Total    float64 `tact:"user.payment"`
}

func main() {
	ctx, now := context.Background(), time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	// tour:begin
	// consent: the Gate decides with a reason, and chains every event in a ledger.
	gate := must(consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{Regime: consent.GDPR}))
	must(gate.Record(ctx, consent.Event{Action: consent.Grant, Subject: "ana", Purpose: consent.PurposePersonalize, At: now, Channel: consent.ChannelWeb}))
	d := must(gate.Decide(ctx, "ana", consent.PurposePersonalizeHistory, now, consent.Signals{}))
	fmt.Println(d.Explain()) // personalize.history is allowed: you gave your consent

	// minimize: analytics keeps a keyed pseudonym, the item and a price band; the e-mail is dropped.
	policy := must(minimize.NewPolicy(consent.PurposeAnalyticsAggregate,
		minimize.ForCategory(consent.CategoryUniqueID, minimize.Pseudonymize()),
		minimize.ForCategory(consent.CategoryBehaviorPurchaseHistory, minimize.Keep()),
		minimize.ForCategory(consent.CategoryPayment, minimize.Bucket(25))))
	keys := must(minimize.NewKeyring(minimize.Key{ID: "k1", Secret: []byte(rand.Text() + rand.Text())})) // yours: from a secret store
	m := must(minimize.New(policy, minimize.Config{Keyring: keys}))
	kept, tally := must2(minimize.StructBatch(m, []Order{{"ana", "ana@example.com", "gels", 12}, {"ben", "ben@example.com", "gels", 95}}))
	fmt.Print(tally) // per field: kept, transformed, dropped

	// dp: counts across people get noise calibrated to a bounded contribution per person, from a budget.
	budget := must(dp.NewBudget(1, 1e-5, nil))
	trending := must(dp.NewTopK(10, dp.Params{Epsilon: 1, Delta: 1e-5, MaxPartitions: 3, MaxContributions: 1}))
	for _, o := range kept {
		trending.Add(o.Customer, "all", o.Item) // the person is the pseudonym
	}
	top := must(trending.Release(ctx, budget)) // two shoppers are far too few: nothing clears the noise threshold
	fmt.Println("trending:", top.Top("all"), "thresholded at", top.Threshold(), "persons")

	// recommend: the tier and consent decide which signals are read; every item says why.
	cat := must(recommend.NewCatalog([]recommend.Item{{ID: "gels", Title: "Energy gels", Tags: []string{"marathon"}}}))
	profiles := new(recommend.MemoryStore)
	must(0, profiles.SetPreferences(ctx, "ana", recommend.Preferences{Interests: []recommend.Interest{{Text: "you're training for a marathon", Tags: []string{"marathon"}}}}))
	rec := must(recommend.New(must(recommend.NewModel(cat, nil, nil)), gate, profiles, recommend.Config{}))
	resp := must(rec.Recommend(ctx, recommend.Request{Subject: "ana", At: now, VisitStart: now.Add(-5 * time.Minute), K: 3,
		Relationship: recommend.Relationship{Known: true, FirstSeen: now.AddDate(0, 0, -7), Visits: 2}}))
	for _, it := range resp.Items {
		fmt.Println(it.Item.Title+":", it.Reasons[0].Text) // Energy gels: Because you told us you're training for a marathon
	}
	fmt.Println("tier:", resp.Tier, "data used:", resp.Used)
	// tour:end
}

func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}

func must2[T, U any](v T, u U, err error) (T, U) {
	if err != nil {
		log.Fatal(err)
	}
	return v, u
}
