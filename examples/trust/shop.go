package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/dp/trust"
	"github.com/tact-go/tact/examples/internal/demo"
	"github.com/tact-go/tact/recommend"
)

// Context keys of the host's log handler.
type (
	personKey struct{}
	timeKey   struct{}
)

// hostHandler is the host's slog handler: audit events carry no person,
// so it adds a keyed pseudonym of the request's subject ("person"), and it
// stamps each record with the request's time (the shop's clock is
// simulated). Both come from the request's context, which recommend and
// consent log with.
type hostHandler struct{ slog.Handler }

func (h hostHandler) Handle(ctx context.Context, r slog.Record) error {
	if p, ok := ctx.Value(personKey{}).(string); ok {
		r.AddAttrs(slog.String("person", p))
	}
	if t, ok := ctx.Value(timeKey{}).(time.Time); ok {
		r.Time = t
	}
	return h.Handler.Handle(ctx, r)
}

func (h hostHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return hostHandler{h.Handler.WithAttrs(as)}
}

func (h hostHandler) WithGroup(name string) slog.Handler {
	return hostHandler{h.Handler.WithGroup(name)}
}

// pseudonymizer returns the host's pseudonym function: HMAC-SHA256 of the
// subject under the shop's key, shortened. The same seed gives the same
// pseudonyms, so that a check of saved files can map ledger subjects to
// them.
func pseudonymizer(seed uint64) func(string) string {
	key := demo.DemoKey(seed).Secret
	return func(subject string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(subject))
		return "p" + hex.EncodeToString(m.Sum(nil)[:8])
	}
}

// request is a request's context as the host builds it: the person's
// pseudonym and the time, for the log handler.
func request(ctx context.Context, pseudonym string, at time.Time) context.Context {
	return context.WithValue(context.WithValue(ctx, personKey{}, pseudonym), timeKey{}, at)
}

// policyV2 is the shop's policy after a material change: personalize.history
// now also covers what people browse in the app, so grants made under
// version 1 no longer allow it (re-consent).
func policyV2() *consent.Policy {
	p := demo.Policy()
	p.Version = 2
	for i := range p.Purposes {
		if p.Purposes[i].Purpose == consent.PurposePersonalizeHistory {
			p.Purposes[i].Version = 2
			p.Purposes[i].Description = "Recommendations from what you bought and what you browse, on the web and in the app"
		}
	}
	return p
}

// simulation is the synthetic shop's audit trail.
type simulation struct {
	events, ledger []byte
	policies       []trust.InForce
	from, to       time.Time // the simulated weeks
}

// simulate builds the quickstart's synthetic shop, then runs weeks of
// traffic before its clock: visits and recommendations at every tier,
// "not interested" clicks, sign-ups and grants that move people up a
// tier, withdrawals, browsers that send Global Privacy Control, and a
// material policy change halfway through, after which some people grant
// again. Everything is logged through the host's handler.
func simulate(ctx context.Context, o demo.Options, weeks int) (*simulation, error) {
	var events bytes.Buffer
	log := slog.New(hostHandler{slog.NewJSONHandler(&events, nil)})
	o.Logger = log
	shop, err := demo.New(ctx, o)
	if err != nil {
		return nil, err
	}
	pseudonym := pseudonymizer(o.Seed)
	r := rand.New(rand.NewPCG(o.Seed, 0x7275))
	end := trust.Week.Start(shop.Now)
	start := end.AddDate(0, 0, -7*weeks)
	change := start.AddDate(0, 0, 7*(weeks/2))
	sim := &simulation{from: start, to: end,
		policies: []trust.InForce{{Policy: demo.Policy()}, {From: change, Policy: policyV2()}}}

	type person struct {
		rel   recommend.Relationship
		shown map[string]int
		gpc   bool // the browser sends Global Privacy Control
		asked bool // asked to grant history again after the change
	}
	people := make([]*person, len(shop.World.Shoppers))
	for i, sh := range shop.World.Shoppers {
		people[i] = &person{rel: sh.Relationship, shown: make(map[string]int), gpc: r.IntN(100) < 8}
	}
	record := func(at time.Time, a consent.Action, who string, p consent.Purpose, ch consent.Channel) error {
		_, err := shop.Gate.Record(request(ctx, pseudonym(who), at), consent.Event{
			Action: a, Subject: who, Purpose: p, At: at, Channel: ch, Evidence: demo.NoticeHash})
		return err
	}
	changed := false
	for day := start; day.Before(end); day = day.AddDate(0, 0, 1) {
		if !changed && !day.Before(change) {
			if err := shop.Gate.SetPolicy(policyV2()); err != nil {
				return nil, err
			}
			changed = true
		}
		for i, sh := range shop.World.Shoppers {
			p := people[i]
			if r.IntN(100) >= 6 { // about 40% of shoppers visit in a week
				continue
			}
			at := day.Add(time.Duration(8*3600+r.IntN(12*3600)) * time.Second)
			rctx := request(ctx, pseudonym(sh.ID), at)
			ch := []consent.Channel{consent.ChannelWeb, consent.ChannelApp}[r.IntN(2)]
			var err error
			switch x := r.IntN(1000); {
			case !p.rel.Known && x < 150:
				// A visitor signs up and tells the shop what they like.
				p.rel.Known, p.rel.FirstSeen = true, at
				err = record(at, consent.Grant, sh.ID, consent.PurposePersonalizeDeclared, ch)
			case p.rel.Known && x < 20:
				err = record(at, consent.Withdraw, sh.ID, consent.PurposePersonalizeHistory, consent.ChannelApp)
			case p.rel.Known && x < 35:
				err = record(at, consent.Grant, sh.ID, consent.PurposePersonalizeHistory, ch)
			case p.rel.Known && x < 45:
				err = record(at, consent.Withdraw, sh.ID, consent.PurposeMarketingEmail, consent.ChannelEmail)
			case p.rel.Known && x < 60:
				err = record(at, consent.Grant, sh.ID, consent.PurposeMarketingEmail, ch)
			}
			if err != nil {
				return nil, err
			}
			if changed && p.rel.Known && !p.asked {
				// After the change, the shop asks once; about half agree.
				p.asked = true
				d, err := shop.Gate.Decide(rctx, sh.ID, consent.PurposePersonalizeHistory, at, consent.Signals{})
				if err != nil {
					return nil, err
				}
				if d.Reason == consent.ReasonReconsent && r.IntN(2) == 0 {
					if err := record(at, consent.Grant, sh.ID, consent.PurposePersonalizeHistory, consent.ChannelWeb); err != nil {
						return nil, err
					}
				}
			}
			p.rel.Visits++
			if r.IntN(4) == 0 {
				p.rel.Orders++
			}
			visit := at.Add(-time.Duration(r.IntN(15*60)) * time.Second) // some still in the 2-minute warm-up
			resp, err := shop.Recommender.Recommend(rctx, recommend.Request{
				Subject: sh.ID, At: at, VisitStart: visit, K: 6, Relationship: p.rel, Shown: p.shown,
				Signals: consent.Signals{GPC: p.gpc}, Context: recommend.Context{Segment: shop.Country[sh.ID]},
			})
			if err != nil {
				return nil, err
			}
			for _, it := range resp.Items {
				p.shown[it.Item.ID]++
			}
			if len(resp.Items) > 0 && r.IntN(100) < 12 {
				// "Not interested" in the first suggestion.
				if err := shop.Profiles.AddFeedback(ctx, sh.ID, recommend.Feedback{Item: resp.Items[0].Item.ID, Kind: recommend.NotInterested, At: at}); err != nil {
					return nil, err
				}
			}
		}
	}
	var ledger bytes.Buffer
	if _, err := shop.Gate.ExportLedger(ctx, &ledger); err != nil {
		return nil, err
	}
	sim.events, sim.ledger = events.Bytes(), ledger.Bytes()
	return sim, nil
}

// declaredBudget is what the shop declares its DP releases may spend: the
// demo's trending lists and item-item statistics.
func declaredBudget() (epsilon, delta float64) {
	return demo.TrendingEpsilon + demo.CoocEpsilon, 2 * demo.Delta
}
