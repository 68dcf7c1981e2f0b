package main

import (
	"math"
	"strconv"
	"strings"

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
// words of the request's language, no key. The sentences of reasons and
// of what was not used are the recommend package's, from the storefront's
// catalog (newTexts).
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

func (s *server) respView(x *visit, resp recommend.Response, _ recommend.Context) respView {
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
		v.Withheld = append(v.Withheld, w.Localize(s.texts, x.Lang))
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
			rv.Reasons = append(rv.Reasons, reasonView{Text: rs.Localize(s.texts, x.Lang, s.rec.Model().Catalog()), Data: s.texts.Categories(x.Lang, rs.Data),
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
