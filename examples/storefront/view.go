package main

import (
	"context"
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
)

var templateFuncs = template.FuncMap{
	"price": func(p float64) string { return fmt.Sprintf("€%.2f", p) },
	"label": capitalize,
	"date":  func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 MST") },
}

// chrome is what every page's layout needs.
type chrome struct {
	Title      string
	Active     string // "shop", "preferences", "data": the current nav entry
	Page       string // the page's template name, for tests to tell pages apart
	Controller string
	GPC        bool // the request carries Sec-GPC: 1
	HasVisitor bool
	Flash      string
}

func (s *server) chrome(x *visit, page, title, active string) chrome {
	return chrome{Page: page, Title: title, Active: active, Controller: s.shop.Policy.Controller, GPC: x.gpc, HasVisitor: x.v != nil}
}

type errorPage struct {
	chrome
	Msg    string
	Status int
}

// catView is a data category as shown to people.
type catView struct{ Code, Label string }

var categoryLabels = map[consent.Category]string{
	consent.CategoryBehaviorSession:         "what you're looking at now (this visit only)",
	consent.CategoryBehaviorSearch:          "what you searched for",
	consent.CategoryPreferenceDeclared:      "preferences you told us",
	consent.CategoryPreferenceFeedback:      "your likes and “not interested”",
	consent.CategoryBehaviorPurchaseHistory: "what you bought",
	consent.CategoryBehaviorBrowsingHistory: "what you viewed before",
	consent.CategoryContactEmail:            "your email address",
	consent.CategoryContactAddress:          "your postal address",
	consent.CategoryPayment:                 "payment details",
	consent.CategoryUniqueID:                "your customer number",
	consent.CategoryLocationApp:             "your approximate location",
	consent.CategoryDemographicBirthDate:    "your date of birth",
	consent.CategoryDeviceID:                "your device id",
}

func catViews(cs []consent.Category) []catView {
	out := make([]catView, 0, len(cs))
	for _, c := range cs {
		l := categoryLabels[c]
		if l == "" {
			l = string(c)
		}
		out = append(out, catView{Code: string(c), Label: l})
	}
	return out
}

// purposeRef is a purpose relied on, with its description.
type purposeRef struct{ Code, Desc string }

func (s *server) purposeRef(p consent.Purpose) purposeRef {
	spec, _ := s.shop.Policy.Spec(p)
	return purposeRef{Code: string(p), Desc: spec.Description}
}

// recView is one recommended item with its reasons.
type recView struct {
	ID, Title, Category string
	Price               float64
	Reasons             []reasonView
}

type reasonView struct {
	Text    string
	Data    []catView
	Purpose purposeRef // zero for popularity
	Share   int        // percent of the score
}

// respView is a recommendation response as a page shows it.
type respView struct {
	Tier, TierText string
	WarmUp         bool
	WarmUpText     string
	Used           []catView
	Purposes       []purposeRef
	Withheld       []string
	HeldBack       []string
	Items          []recView
}

var tierText = map[recommend.Tier]string{
	recommend.Anonymous:   "Nothing personal: only what is popular across the shop (counted with differential privacy) and the page you are on.",
	recommend.Recognized:  "You told us about yourself and allowed us to use it: your stated preferences and feedback shape these.",
	recommend.Established: "You are a customer and allowed purchase history: what you bought shapes these too.",
}

func (s *server) respView(resp recommend.Response) respView {
	v := respView{Tier: resp.Tier.String(), TierText: tierText[resp.Tier], WarmUp: resp.WarmUp, Used: catViews(resp.Used)}
	if resp.WarmUp {
		v.WarmUpText = fmt.Sprintf("You are in the first %s of your visit: we hold back anything personal and any promotion until then.", minutes(s.warmUp))
	}
	for _, p := range resp.Purposes {
		v.Purposes = append(v.Purposes, s.purposeRef(p))
	}
	for _, w := range resp.Withheld {
		v.Withheld = append(v.Withheld, sentence(w.Text)+".")
	}
	f := resp.Filtered
	for _, h := range []struct {
		n          int
		one, other string
	}{
		{f.WarmUp, "promotional item held back during the warm-up of your visit", "promotional items held back during the warm-up of your visit"},
		{f.Sensitive, "sensitive item (health, baby) not suggested, as you have not told us you want it", "sensitive items (health, baby) not suggested, as you have not told us you want them"},
		{f.AlreadyBought, "item you already bought", "items you already bought"},
		{f.NotInterested, "item you said you are not interested in", "items you said you are not interested in"},
		{f.Declared, "item outside your budget, sizes or avoided tags", "items outside your budget, sizes or avoided tags"},
		{f.FrequencyCap, "item shown to you too often already", "items shown to you too often already"},
		{f.ConfidenceFloor, "weak guess (we show fewer items rather than guess)", "weak guesses (we show fewer items rather than guess)"},
	} {
		switch {
		case h.n == 1:
			v.HeldBack = append(v.HeldBack, "1 "+h.one)
		case h.n > 1:
			v.HeldBack = append(v.HeldBack, fmt.Sprintf("%d %s", h.n, h.other))
		}
	}
	for _, r := range resp.Items {
		rv := recView{ID: r.Item.ID, Title: r.Item.Title, Category: r.Item.Category, Price: r.Item.Price}
		for _, rs := range r.Reasons {
			x := reasonView{Text: rs.Text, Data: catViews(rs.Data), Share: int(math.Round(100 * rs.Weight))}
			if rs.Purpose != "" {
				x.Purpose = s.purposeRef(rs.Purpose)
			}
			rv.Reasons = append(rv.Reasons, x)
		}
		v.Items = append(v.Items, rv)
	}
	return v
}

// sentence upper-cases the first letter of s.
func sentence(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func minutes(d time.Duration) string {
	if d%time.Minute == 0 && d >= time.Minute {
		if d == time.Minute {
			return "minute"
		}
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return d.String()
}

// purposeGroup is a top-level purpose of the policy and its sub-purposes,
// as the preference centre shows them.
type purposeGroup struct {
	Purpose, Heading string
	Rows             []purposeRow
}

// Kinds of purpose rows.
const (
	kindConsent   = "consent"   // rests on consent: turn on, turn off
	kindObjection = "objection" // a legitimate interest: one can object
	kindFixed     = "fixed"     // contract or law: not optional
)

type purposeRow struct {
	Purpose, Description, Benefit, Basis string
	Data                                 []catView
	Kind                                 string
	On                                   bool
	Status                               string // why it is on or off
	GPC                                  bool   // held off by Global Privacy Control
	Since                                string // when the visitor's choice was recorded
}

var basisText = map[consent.Basis]string{
	consent.BasisConsent:            "your consent",
	consent.BasisExplicitConsent:    "your explicit consent",
	consent.BasisContract:           "needed to run your orders (contract)",
	consent.BasisLegalObligation:    "required by law",
	consent.BasisVitalInterest:      "to protect someone's life",
	consent.BasisPublicTask:         "a task in the public interest",
	consent.BasisLegitimateInterest: "our legitimate interest, until you object",
}

// gpcCovers reports whether a Global Privacy Control signal opts out of
// purpose p under the shop's regime (GDPR).
func (s *server) gpcCovers(p consent.Purpose) bool { return s.shop.Policy.GPCCovers(p, consent.GDPR) }

// purposeKind says how a visitor can act on a purpose.
func purposeKind(b consent.Basis) string {
	switch {
	case b.NeedsConsent():
		return kindConsent
	case b == consent.BasisLegitimateInterest:
		return kindObjection
	}
	return kindFixed
}

// purposeGroups returns the policy's purposes, grouped under their
// top-level purpose (which stands alone when it has no sub-purposes), with
// the visitor's current decision for each.
func (s *server) purposeGroups(ctx context.Context, x *visit) ([]purposeGroup, error) {
	var groups []purposeGroup
	var specs [][]consent.PurposeSpec
	idx := map[consent.Purpose]int{}
	for _, spec := range s.shop.Policy.Purposes {
		top := spec.Purpose
		for top.Parent() != "" {
			top = top.Parent()
		}
		i, ok := idx[top]
		if !ok {
			ts, _ := s.shop.Policy.Spec(top)
			groups = append(groups, purposeGroup{Purpose: string(top), Heading: ts.Description})
			specs = append(specs, nil)
			i = len(groups) - 1
			idx[top] = i
		}
		if spec.Purpose != top {
			specs[i] = append(specs[i], spec)
		}
	}
	for i := range groups {
		if len(specs[i]) == 0 {
			ts, _ := s.shop.Policy.Spec(consent.Purpose(groups[i].Purpose))
			specs[i] = []consent.PurposeSpec{ts}
		}
		for _, spec := range specs[i] {
			row, err := s.purposeRow(ctx, x, spec)
			if err != nil {
				return nil, err
			}
			groups[i].Rows = append(groups[i].Rows, row)
		}
	}
	return groups, nil
}

// purposeRow returns one purpose and the visitor's decision for it. A
// browser without a visitor id has no records: its decisions are the
// policy's defaults, and the Gate is not asked (it would record a GPC
// signal under a throw-away id).
func (s *server) purposeRow(ctx context.Context, x *visit, spec consent.PurposeSpec) (purposeRow, error) {
	row := purposeRow{Purpose: string(spec.Purpose), Description: spec.Description, Benefit: spec.Benefit,
		Basis: basisText[spec.Basis], Data: catViews(spec.Categories), Kind: purposeKind(spec.Basis)}
	if x.v == nil {
		switch {
		case row.Kind != kindFixed && x.gpc && s.gpcCovers(spec.Purpose):
			row.Status, row.GPC = consent.ReasonGPC.Text(), true
		case row.Kind == kindConsent:
			row.Status = consent.ReasonNoConsent.Text()
		case row.Kind == kindObjection:
			row.On, row.Status = true, consent.ReasonLegitimateInterest.Text()
		default:
			row.On, row.Status = true, consent.ReasonNotConsent.Text()
		}
		return row, nil
	}
	d, err := s.shop.Gate.Decide(ctx, x.v.id, spec.Purpose, x.now, x.signals())
	if err != nil {
		return row, err
	}
	row.On, row.Status, row.GPC = d.Allowed, d.Reason.Text(), d.Reason == consent.ReasonGPC
	if d.Record.Seq != 0 && d.Record.Source != consent.SourceGPC {
		row.Since = d.Record.At.UTC().Format("2 Jan 2006 15:04 MST")
	}
	return row, nil
}
