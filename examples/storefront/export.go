package main

import (
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
)

// dataExport is everything the storefront holds about one visitor, as the
// "Your data" download gives it.
type dataExport struct {
	About      string        `json:"about"`
	Controller string        `json:"controller"`
	Contact    string        `json:"contact"`
	ExportedAt time.Time     `json:"exported_at"`
	Visitor    exportVisitor `json:"visitor"`
	// Consent is every consent record of the visitor and the decision for
	// every purpose of the policy.
	Consent consent.Access `json:"consent"`
	// Receipt is the consent receipt (Kantara Consent Receipt / ISO/IEC TS
	// 27560 field names); with it the visitor can prove a record theirs
	// even after erasure.
	Receipt     consent.Receipt  `json:"receipt"`
	Preferences exportPrefs      `json:"declared_preferences"`
	Feedback    []exportFeedback `json:"feedback"`
	Orders      []exportOrder    `json:"orders"`

	receipt consent.Receipt
	prefs   recommend.Preferences
}

type exportVisitor struct {
	ID        string    `json:"id"`
	FirstSeen time.Time `json:"first_seen"`
	Visits    int       `json:"visits"`
	Orders    int       `json:"orders"`
}

func (v exportVisitor) facts() visitorFacts {
	return visitorFacts(v)
}

type exportPrefs struct {
	Interests []string `json:"interests"`
	Sizes     []string `json:"sizes"`
	MaxPrice  float64  `json:"max_price,omitempty"`
	Avoid     []string `json:"avoid_tags"`
}

type exportFeedback struct {
	Item  string    `json:"item"`
	Title string    `json:"title"`
	Kind  string    `json:"kind"`
	At    time.Time `json:"at"`
}

type exportOrder struct {
	Item  string    `json:"item"`
	Title string    `json:"title"`
	Price float64   `json:"price"`
	At    time.Time `json:"at"`
}

// exportOf gathers everything held about the request's visitor, who must
// have an id.
func (s *server) exportOf(x *visit) (dataExport, error) {
	ctx, v := x.ctx(), x.v
	f := s.facts(v)
	ex := dataExport{
		About:      "Everything " + s.shop.Policy.Controller + " holds about you in this demo storefront.",
		Controller: s.shop.Policy.Controller, Contact: s.shop.Policy.Contact, ExportedAt: x.now.UTC(),
		Visitor:  exportVisitor{ID: f.ID, FirstSeen: f.FirstSeen.UTC(), Visits: f.Visits, Orders: f.Orders},
		Feedback: []exportFeedback{}, Orders: []exportOrder{},
	}
	var err error
	if ex.Consent, err = s.shop.Gate.Access(ctx, v.id, x.now); err != nil {
		return ex, err
	}
	if ex.receipt, err = s.shop.Gate.Receipt(ctx, v.id, x.now); err != nil {
		return ex, err
	}
	ex.Receipt = ex.receipt
	prof, err := s.shop.Profiles.Export(ctx, v.id)
	if err != nil {
		return ex, err
	}
	ex.prefs = prof.Preferences
	ex.Preferences = exportPrefs{Interests: []string{}, Sizes: prof.Preferences.Sizes, MaxPrice: prof.Preferences.MaxPrice, Avoid: prof.Preferences.Avoid}
	if ex.Preferences.Sizes == nil {
		ex.Preferences.Sizes = []string{}
	}
	if ex.Preferences.Avoid == nil {
		ex.Preferences.Avoid = []string{}
	}
	for _, in := range prof.Preferences.Interests {
		ex.Preferences.Interests = append(ex.Preferences.Interests, in.Text)
	}
	title := func(id string) string {
		it, _ := s.shop.World.Catalog.Lookup(id)
		return it.Title
	}
	for _, fb := range prof.Feedback {
		ex.Feedback = append(ex.Feedback, exportFeedback{Item: fb.Item, Title: title(fb.Item), Kind: fb.Kind.String(), At: fb.At.UTC()})
	}
	for _, e := range prof.History {
		if e.Kind != recommend.Purchase {
			continue
		}
		it, _ := s.shop.World.Catalog.Lookup(e.Item)
		ex.Orders = append(ex.Orders, exportOrder{Item: e.Item, Title: it.Title, Price: it.Price, At: e.At.UTC()})
	}
	return ex, nil
}
