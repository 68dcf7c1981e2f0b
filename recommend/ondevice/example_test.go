package ondevice_test

import (
	"fmt"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/ondevice"
	"github.com/tact-go/tact/recommend/recommendtest"
)

// The service ships the model and the person's consent decisions; the
// device ranks with the preferences it keeps, which the service never
// sees.
func ExampleRanker() {
	// On the service: the catalog and what is popular, encoded once for
	// every device, and this person's consent decisions.
	cat, _ := recommend.NewCatalog([]recommend.Item{
		{ID: "shoe", Title: "Trail shoe", Category: "shoes", Tags: []string{"trail"}},
		{ID: "sock", Title: "Wool sock", Category: "socks", Tags: []string{"trail"}},
		{ID: "mug", Title: "Mug", Category: "kitchen"},
	})
	pop, _ := recommend.NewPopularity(cat, []recommend.ItemCount{{Item: "mug", Count: 90}, {Item: "sock", Count: 40}, {Item: "shoe", Count: 30}}, nil)
	model, _ := recommend.NewModel(cat, pop, nil)
	shipped, _ := model.MarshalBinary()
	gate := recommendtest.NewConsents() // the service's consent Gate
	gate.Allow("p-1", consent.PurposePersonalizeDeclared)
	decisions, _ := ondevice.Decide(ctx, gate, "p-1", at, consent.Signals{})

	// On the device.
	m, _ := recommend.UnmarshalModel(shipped)
	r, _ := ondevice.New(m, &decisions, ondevice.Settings{WarmUp: -1})
	mine := recommend.Profile{Preferences: recommend.Preferences{Interests: []recommend.Interest{{Text: "you like the trails", Tags: []string{"trail"}}}}}
	resp, _ := r.Rank(ctx, mine, recommend.Request{At: at, K: 2, Relationship: recommend.Relationship{Known: true}})
	for _, it := range resp.Items {
		fmt.Printf("%s: %s\n", it.Item.Title, it.Reasons[0].Text)
	}
	fmt.Println("data used:", resp.Used)
	// Output:
	// Wool sock: Because you told us you like the trails
	// Trail shoe: Because you told us you like the trails
	// data used: [user.preference.declared]
}
