package pdsource_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
	"github.com/tact-go/tact/consent/pds"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/pdsource"
)

// Example: a shopper hands the shop a grant from their data store with
// their goal and shoe size; the shop recommends from it while it holds.
func Example() {
	ctx := context.Background()
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

	// What the shopper's data store issues (see package pds).
	storeKey := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	token, err := pds.Issue(storeKey, "k1", pds.Claims{
		Issuer: "https://pds.example/ana", Subject: "ana", Audience: []string{"https://shop.example"},
		ID: "g-1", IssuedAt: at, Expires: at.Add(7 * 24 * time.Hour),
		Purpose: consent.PurposePersonalizeDeclared,
		Scope:   []consent.Category{pds.CategoryGoals, pds.CategorySizes},
	}, map[consent.Category]any{
		pds.CategoryGoals: []pds.Goal{{Text: "you're training for a marathon", Tags: []string{"marathon"}}},
		pds.CategorySizes: []string{"shoe:42"},
	})
	if err != nil {
		log.Fatal(err)
	}

	// The shop: consent gate, trusted keys, verifier, and a profile store
	// that serves grants.
	gate, _ := consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{})
	keys := new(pds.MemoryKeys)
	_ = keys.Add("https://pds.example/ana", "k1", storeKey.Public().(ed25519.PublicKey))
	v, _ := pds.NewVerifier(gate, keys, new(pds.MemoryRevocations), "https://shop.example", pds.Config{})
	clock := at
	store, _ := pdsource.New(new(recommend.MemoryStore), v, new(pdsource.MemoryTokens),
		pdsource.Config{Now: func() time.Time { return clock }})

	cat, _ := recommend.NewCatalog([]recommend.Item{
		{ID: "road-42", Title: "Road shoes", Tags: []string{"marathon"}, Sizes: []string{"shoe:42"}},
		{ID: "road-38", Title: "Road shoes, small", Tags: []string{"marathon"}, Sizes: []string{"shoe:38"}},
		{ID: "gels", Title: "Energy gels", Tags: []string{"marathon"}},
		{ID: "kettle", Title: "Kettle", Tags: []string{"coffee"}},
	})
	pop, _ := recommend.NewPopularity(cat, []recommend.ItemCount{{Item: "kettle", Count: 9}, {Item: "road-38", Count: 5}}, nil)
	model, _ := recommend.NewModel(cat, pop, nil)
	r, _ := recommend.New(model, v, store, recommend.Config{}) // the Verifier decides consent

	// Ana hands the grant over.
	if _, err := store.Accept(ctx, "ana", token, at, consent.Signals{}); err != nil {
		log.Fatal(err)
	}
	show := func(at time.Time) {
		clock = at
		resp, _ := r.Recommend(ctx, recommend.Request{
			Subject: "ana", At: at, VisitStart: at.Add(-10 * time.Minute), K: 2,
			Relationship: recommend.Relationship{Known: true, FirstSeen: at.AddDate(0, 0, -3), Visits: 2},
		})
		for _, it := range resp.Items {
			fmt.Printf("  %s: %s\n", it.Item.Title, it.Reasons[0].Text)
		}
		for _, w := range resp.Withheld {
			if w.Source == recommend.SourceDeclared {
				fmt.Println("  withheld:", w.Text)
			}
		}
	}
	fmt.Println("while the grant holds:")
	show(at.Add(time.Hour))
	fmt.Println("after it expired:")
	show(at.Add(8 * 24 * time.Hour))
	// Output:
	// while the grant holds:
	//   Road shoes: Because you told us you're training for a marathon
	//   Energy gels: Because you told us you're training for a marathon
	// after it expired:
	//   Kettle: Popular with shoppers
	//   Road shoes, small: Popular with shoppers
	//   withheld: Your stated preferences not used: your consent has expired.
}
