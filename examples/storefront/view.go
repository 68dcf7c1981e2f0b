package main

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
)

// chrome is what every page's layout needs.
type chrome struct {
	tr
	Title      string
	Active     string // "shop", "preferences", "data": the current nav entry
	Page       string // the page's template name, for tests to tell pages apart
	Controller string
	GPC        bool // the request carries the Global Privacy Control signal
	HasVisitor bool
	Flash      string
}

func (s *server) chrome(x *visit, page, title, active string) chrome {
	return chrome{tr: x.tr, Page: page, Title: title, Active: active, Controller: s.shop.Policy.Controller,
		GPC: x.sig.GPC, HasVisitor: x.v != nil}
}

type errorPage struct {
	chrome
	Msg    string
	Status int
}

// respView is a recommendation response as a page shows it: everything in
// words of the request's language, no key, except the reasons' sentences,
// which come from the recommend package (in English).
type respView struct {
	tr
	tier                recommend.Tier
	Tier                string // the tier's name, for tests and styles
	TierLabel, TierText string
	WarmUp              bool
	WarmUpText          string
	Used                string // the data categories used, in words
	Purposes            string // the purposes relied on, by their labels
	Withheld            []string
	HeldBack            []string
	Items               []recView
}

// recView is one recommended item with its reasons.
type recView struct {
	ID, Title, Category, Price string
	Because                    string // the first reason
	Reasons                    []reasonView
}

type reasonView struct {
	Text    string
	Data    string // the data used, in words; "" for none
	Purpose string // the purpose relied on; "" for none
	Share   string // percent of the score
}

func (s *server) respView(x *visit, resp recommend.Response, c recommend.Context) respView {
	v := respView{tr: x.tr, tier: resp.Tier, Tier: resp.Tier.String(), TierLabel: x.T("tier." + resp.Tier.String()),
		TierText: x.T("tier." + resp.Tier.String() + ".text"), WarmUp: resp.WarmUp, Used: s.texts.Categories(x.Lang, resp.Used)}
	if resp.WarmUp {
		v.WarmUpText = x.T("recs.warmup", "span", x.Span(s.warmUp))
	}
	var purposes []string
	for _, p := range resp.Purposes {
		purposes = append(purposes, s.label(x, p))
	}
	v.Purposes = strings.Join(purposes, "; ")
	for _, w := range resp.Withheld {
		v.Withheld = append(v.Withheld, s.withheld(x, w))
	}
	f := resp.Filtered
	for _, h := range []struct {
		n   int
		key string
	}{
		{f.WarmUp, "warmup"}, {f.Sensitive, "sensitive"}, {f.AlreadyBought, "bought"}, {f.NotInterested, "not_interested"},
		{f.Declared, "declared"}, {f.FrequencyCap, "cap"}, {f.ConfidenceFloor, "floor"},
	} {
		if h.n > 0 {
			v.HeldBack = append(v.HeldBack, x.Count(h.n, "held."+h.key))
		}
	}
	for _, r := range resp.Items {
		rv := recView{ID: r.Item.ID, Title: r.Item.Title, Category: x.Category(r.Item.Category), Price: x.Price(r.Item.Price)}
		for _, rs := range r.Reasons {
			text := rs.Text
			if rs.Source == recommend.SourceContext && rs.Related == "" && slices.Contains(rs.Data, consent.CategoryBehaviorSession) {
				// The category in view: recommend names it by its key.
				text = x.T("reason.category", "category", x.Category(c.Category))
			}
			rv.Reasons = append(rv.Reasons, reasonView{Text: text, Data: s.texts.Categories(x.Lang, rs.Data),
				Share: strconv.Itoa(int(math.Round(100 * rs.Weight)))})
			if rs.Purpose != "" {
				rv.Reasons[len(rv.Reasons)-1].Purpose = s.label(x, rs.Purpose)
			}
		}
		if len(rv.Reasons) > 0 {
			rv.Because = rv.Reasons[0].Text
		}
		v.Items = append(v.Items, rv)
	}
	return v
}

// withheld says, in words, why a source was not used.
func (s *server) withheld(x *visit, w recommend.Withheld) string {
	var why string
	switch w.Reason {
	case recommend.WithheldConsent:
		why = s.texts.Reason(x.Lang, w.Decision.Reason)
	case recommend.WithheldTier:
		why = x.T("withheld.tier.recognized")
		if w.Source == recommend.SourceHistory {
			why = x.T("withheld.tier.established")
		}
		if w.Source == recommend.SourceFeedback {
			why += x.T("withheld.except")
		}
	case recommend.WithheldWarmUp:
		why = x.T("withheld.warmup", "span", x.Span(s.warmUp)) + x.T("withheld.except")
	case recommend.WithheldPolicy:
		why = x.T("withheld.policy")
	default:
		why = x.T("withheld.unavailable")
	}
	return x.T("withheld", "what", x.T("source."+w.Source.String()), "why", why)
}
