package recommend_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/recommendtest"
)

// shop builds a small running store: a catalog, models trained on a few
// baskets, consent and profiles. Real services train on their own data
// (or on differentially private counts of it).
func shop() (*recommend.Recommender, *recommendtest.Consents, *recommend.MemoryStore) {
	return shopWith(recommend.Config{})
}

func shopWith(cfg recommend.Config) (*recommend.Recommender, *recommendtest.Consents, *recommend.MemoryStore) {
	cat, _ := recommend.NewCatalog([]recommend.Item{
		{ID: "road-shoes", Title: "Road running shoes", Category: "running-shoes", Tags: []string{"running", "road", "marathon"}},
		{ID: "trail-shoes", Title: "Trail running shoes", Category: "running-shoes", Tags: []string{"running", "trail"}},
		{ID: "gels", Title: "Energy gels", Category: "nutrition", Tags: []string{"marathon", "energy"}, Replenishable: true},
		{ID: "socks", Title: "Running socks", Category: "running-apparel", Tags: []string{"running"}},
		{ID: "vest", Title: "Hydration vest", Category: "running-gear", Tags: []string{"trail", "marathon"}},
		{ID: "watch", Title: "GPS watch", Category: "running-gear", Tags: []string{"running", "marathon"}, Promotional: true},
		{ID: "roller", Title: "Foam roller", Category: "recovery", Tags: []string{"running", "recovery"}},
		{ID: "kettle", Title: "Gooseneck kettle", Category: "coffee", Tags: []string{"coffee"}},
		{ID: "beans", Title: "Espresso beans", Category: "coffee", Tags: []string{"coffee"}, Replenishable: true},
		{ID: "vitamins", Title: "Prenatal vitamins", Category: "pharmacy", Tags: []string{"health", "pregnancy"}, Sensitive: true},
	})
	baskets := [][]string{
		{"road-shoes", "gels", "socks"}, {"road-shoes", "gels", "watch"}, {"road-shoes", "socks", "roller"},
		{"trail-shoes", "vest", "socks"}, {"trail-shoes", "vest"}, {"road-shoes", "gels"}, {"gels", "vest", "watch"},
		{"kettle", "beans"}, {"kettle", "beans"}, {"beans", "vitamins"}, {"watch"}, {"watch", "beans"},
	}
	var in []recommend.Interaction
	for p, b := range baskets {
		for _, id := range b {
			in = append(in, recommend.Interaction{Person: fmt.Sprint("p", p), Item: id})
		}
	}
	pop, _ := recommend.NewPopularity(cat, recommend.CountItems(in, recommend.CountOptions{}), nil)
	ii, _ := recommend.TrainItemItem(cat, in, recommend.CountOptions{}, recommend.ItemItemConfig{Similarity: recommend.Cosine})
	model, _ := recommend.NewModel(cat, pop, ii)
	consents := recommendtest.NewConsents()
	store := new(recommend.MemoryStore)
	r, _ := recommend.New(model, consents, store, cfg)
	return r, consents, store
}

var (
	now   = time.Date(2025, 6, 1, 18, 0, 0, 0, time.UTC)
	visit = now.Add(-10 * time.Minute) // past the 2-minute warm-up
	ctx   = context.Background()
)

func print(resp recommend.Response, err error) {
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println("tier:", resp.Tier)
	for _, it := range resp.Items {
		fmt.Printf("  %s: %s\n", it.Item.Title, it.Reasons[0].Text)
	}
	fmt.Println("used:", resp.Used)
	for _, w := range resp.Withheld {
		fmt.Println("  withheld:", w.Text)
	}
}

// An anonymous visitor, identified only by a session pseudonym, looks at
// road shoes: context and popularity only.
func Example_anonymous() {
	r, consents, _ := shop()
	consents.Allow("session-7f3a", consent.PurposePersonalizeContext)
	print(r.Recommend(ctx, recommend.Request{
		Subject: "session-7f3a", At: now, VisitStart: visit, K: 3,
		Context: recommend.Context{Item: "road-shoes"},
	}))
	// Output:
	// tier: anonymous
	//   Trail running shoes: Because you're looking at Road running shoes
	//   Energy gels: Popular with shoppers
	//   Running socks: Popular with shoppers
	// used: [user.behavior.session]
	//   withheld: Your stated preferences not used: you have not given consent.
	//   withheld: Your feedback not used: you have not given consent.
	//   withheld: Your purchase history not used: you have not given consent.
}

// A recognized customer told us about a goal: declared preferences and
// feedback join in; history is not used yet.
func Example_recognized() {
	r, consents, store := shop()
	consents.Allow("ana", consent.PurposePersonalize)
	_ = store.SetPreferences(ctx, "ana", recommend.Preferences{
		Interests: []recommend.Interest{{Text: "you're training for a marathon", Tags: []string{"marathon"}}},
	})
	_ = store.AddFeedback(ctx, "ana", recommend.Feedback{Item: "kettle", Kind: recommend.NotInterested, At: visit})
	print(r.Recommend(ctx, recommend.Request{
		Subject: "ana", At: now, VisitStart: visit, K: 3,
		Relationship: recommend.Relationship{Known: true, FirstSeen: now.AddDate(0, 0, -3), Visits: 2},
	}))
	// Output:
	// tier: recognized
	//   Road running shoes: Because you told us you're training for a marathon
	//   Energy gels: Because you told us you're training for a marathon
	//   GPS watch: Because you told us you're training for a marathon
	// used: [user.preference.declared user.preference.feedback]
	//   withheld: Your purchase history not used: used only once you're an established customer.
}

// An established customer with consent for history gets recommendations
// from what they bought; items bought are not offered again unless
// replenishable.
func Example_established() {
	r, consents, store := shop()
	consents.Allow("ben", consent.PurposePersonalize) // covers every personalize.* purpose
	_ = store.AddEvents(ctx, "ben",
		recommend.Event{Item: "trail-shoes", Kind: recommend.Purchase, At: now.AddDate(0, -2, 0)},
		recommend.Event{Item: "kettle", Kind: recommend.Purchase, At: now.AddDate(0, -1, 0)},
	)
	print(r.Recommend(ctx, recommend.Request{
		Subject: "ben", At: now, VisitStart: visit, K: 3,
		Relationship: recommend.Relationship{Known: true, FirstSeen: now.AddDate(-1, 0, 0), Visits: 12, Orders: 2},
	}))
	// Output:
	// tier: established
	//   Hydration vest: Because you bought Trail running shoes
	//   Espresso beans: Because you bought Gooseneck kettle
	//   Running socks: Because you bought Trail running shoes
	// used: [user.behavior.purchase_history]
}

// Every item says why it is there, and every response says which data it
// used and what it held back: here the person withdrew consent for their
// purchase history, and the visit has just begun.
func Example_explanations() {
	r, consents, store := shop()
	consents.Allow("cleo", consent.PurposePersonalize)
	consents.Withdraw("cleo", consent.PurposePersonalizeHistory)
	_ = store.AddEvents(ctx, "cleo", recommend.Event{Item: "road-shoes", At: now.AddDate(0, -1, 0)})
	resp, _ := r.Recommend(ctx, recommend.Request{
		Subject: "cleo", At: now, VisitStart: now.Add(-30 * time.Second), K: 2,
		Relationship: recommend.Relationship{Known: true, FirstSeen: now.AddDate(-1, 0, 0), Visits: 9, Orders: 4},
		Context:      recommend.Context{Item: "road-shoes"},
	})
	fmt.Println("tier:", resp.Tier, "warm-up:", resp.WarmUp)
	for _, it := range resp.Items {
		fmt.Printf("%s (%.2f)\n", it.Item.Title, it.Score)
		for _, why := range it.Reasons {
			fmt.Printf("  %s [source %s, purpose %q, data %v]\n", why.Text, why.Source, why.Purpose, why.Data)
		}
	}
	fmt.Println("data used:", resp.Used)
	for _, w := range resp.Withheld {
		fmt.Println("withheld:", w.Text)
	}
	fmt.Println("promotions held back:", resp.Filtered.WarmUp)
	// Output:
	// tier: recognized warm-up: true
	// Trail running shoes (0.75)
	//   Because you're looking at Road running shoes [source context, purpose "personalize.context", data [user.behavior.session]]
	//   Popular with shoppers [source popularity, purpose "", data []]
	// Energy gels (0.66)
	//   Because you're looking at Road running shoes [source context, purpose "personalize.context", data [user.behavior.session]]
	//   Popular with shoppers [source popularity, purpose "", data []]
	// data used: [user.behavior.session]
	// withheld: Your stated preferences not used: not in the first 2 minutes of your visit (except to leave items out).
	// withheld: Your feedback not used: not in the first 2 minutes of your visit (except to leave items out).
	// withheld: Your purchase history not used: you withdrew your consent.
	// promotions held back: 1
}

// The item-item model can be built from plain co-occurrence statistics,
// such as noisy counts from a differentially private aggregation over the
// same bounded per-person item sets (recommend.PersonItems). Noise may make
// counts fractional or negative: they are clamped when the model is built.
func ExampleCountsBuilder() {
	cat, _ := recommend.NewCatalog([]recommend.Item{
		{ID: "tent", Title: "Tent"}, {ID: "stove", Title: "Camping stove"}, {ID: "mug", Title: "Enamel mug"},
	})
	var b recommend.CountsBuilder
	_ = b.SetPersons(1041.7)
	_ = b.AddItem("tent", 210.4)
	_ = b.AddItem("stove", 180.9)
	_ = b.AddItem("mug", 95.2)
	_ = b.AddPair("tent", "stove", 88.3)
	_ = b.AddPair("stove", "mug", 30.6)
	_ = b.AddPair("tent", "mug", -2.1) // noise: dropped
	ii, err := recommend.NewItemItem(cat, b.Build(), recommend.ItemItemConfig{Similarity: recommend.Jaccard})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, n := range ii.Neighbors("stove") {
		fmt.Printf("%s %.3f\n", n.Item, n.Similarity)
	}
	// Output:
	// tent 0.291
	// mug 0.125
}

// Reasons and withheld notes are data, a kind and its parameters, so that
// a host shows them in each person's language: Localize writes them from
// a message catalog (consent.Catalog) holding the built-in English and
// German texts and the host's own, here its label for a catalog category.
// Text is the English sentence.
func ExampleReason_Localize() {
	r, consents, _ := shop()
	consents.Allow("dana", consent.PurposePersonalizeContext)
	consents.Refuse("dana", consent.PurposePersonalizeHistory, consent.ReasonWithdrawn)
	resp, _ := r.Recommend(ctx, recommend.Request{Subject: "dana", At: now, VisitStart: visit, K: 2,
		Context: recommend.Context{Category: "running-gear"}})

	texts := consent.NewCatalog()
	_ = recommend.Messages(texts)
	_ = texts.Set("de", "recommend.category.running-gear", "Laufzubehör")
	lang := texts.Match("de-CH, de;q=0.9, en;q=0.5") // from the request's Accept-Language
	items := r.Model().Catalog()
	for _, it := range resp.Items {
		why := it.Reasons[0]
		fmt.Printf("%s: %s [%s]\n", it.Item.Title, why.Localize(texts, lang, items), why.Kind)
		fmt.Println("  en:", why.Text)
	}
	for _, w := range resp.Withheld {
		fmt.Println(w.Localize(texts, lang))
	}
	// Output:
	// GPS watch: Aus Laufzubehör, wo Sie gerade stöbern [browsing]
	//   en: From running gear, which you're browsing
	// Hydration vest: Aus Laufzubehör, wo Sie gerade stöbern [browsing]
	//   en: From running gear, which you're browsing
	// Ihre Angaben nicht genutzt: Sie haben nicht eingewilligt.
	// Ihre Bewertungen nicht genutzt: Sie haben nicht eingewilligt.
	// Ihre Kaufhistorie nicht genutzt: Sie haben Ihre Einwilligung widerrufen.
}
