package main

import (
	"context"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
)

// ownData is what the storefront itself holds about one visitor: the
// "data" of the preference centre's export (GET /privacy/export), beside
// the visitor's consent records, and what "Your data" shows.
type ownData struct {
	About      string        `json:"about"`
	Controller string        `json:"controller"`
	Contact    string        `json:"contact"`
	ExportedAt time.Time     `json:"exported_at"`
	Visitor    exportVisitor `json:"visitor"`
	// Receipt is the consent receipt (Kantara Consent Receipt / ISO/IEC TS
	// 27560 field names); with it the visitor can prove a record theirs
	// even after erasure.
	Receipt     consent.Receipt  `json:"receipt"`
	Preferences exportPrefs      `json:"declared_preferences"`
	Feedback    []exportFeedback `json:"feedback"`
	Orders      []exportOrder    `json:"orders"`

	prefs recommend.Preferences
}

type exportVisitor struct {
	ID        string    `json:"id"`
	FirstSeen time.Time `json:"first_seen"`
	Visits    int       `json:"visits"`
	Orders    int       `json:"orders"`
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

// ownData gathers what the storefront holds about v, as of now.
func (s *server) ownData(ctx context.Context, v *visitor, now time.Time) (ownData, error) {
	f := s.facts(v)
	d := ownData{
		About:      "Everything " + s.shop.Policy.Controller + " holds about you in this demo storefront, beside your consent records.",
		Controller: s.shop.Policy.Controller, Contact: s.shop.Policy.Contact, ExportedAt: now.UTC(),
		Visitor:  exportVisitor{ID: f.ID, FirstSeen: f.FirstSeen.UTC(), Visits: f.Visits, Orders: f.Orders},
		Feedback: []exportFeedback{}, Orders: []exportOrder{},
	}
	var err error
	if d.Receipt, err = s.shop.Gate.Receipt(ctx, v.id, now); err != nil {
		return d, err
	}
	prof, err := s.shop.Profiles.Export(ctx, v.id)
	if err != nil {
		return d, err
	}
	d.prefs = prof.Preferences
	d.Preferences = exportPrefs{Interests: []string{}, Sizes: prof.Preferences.Sizes, MaxPrice: prof.Preferences.MaxPrice, Avoid: prof.Preferences.Avoid}
	if d.Preferences.Sizes == nil {
		d.Preferences.Sizes = []string{}
	}
	if d.Preferences.Avoid == nil {
		d.Preferences.Avoid = []string{}
	}
	for _, in := range prof.Preferences.Interests {
		d.Preferences.Interests = append(d.Preferences.Interests, in.Text)
	}
	title := func(id string) string {
		it, _ := s.shop.World.Catalog.Lookup(id)
		return it.Title
	}
	for _, fb := range prof.Feedback {
		d.Feedback = append(d.Feedback, exportFeedback{Item: fb.Item, Title: title(fb.Item), Kind: fb.Kind.String(), At: fb.At.UTC()})
	}
	for _, e := range prof.History {
		if e.Kind != recommend.Purchase {
			continue
		}
		it, _ := s.shop.World.Catalog.Lookup(e.Item)
		d.Orders = append(d.Orders, exportOrder{Item: e.Item, Title: it.Title, Price: it.Price, At: e.At.UTC()})
	}
	return d, nil
}
