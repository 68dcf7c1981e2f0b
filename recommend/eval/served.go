package eval

import (
	"context"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
)

// Served returns a [Ranker] that ranks with a [recommend.Recommender] over
// model m, exactly as it serves: every training person has their training
// interactions as history (in a [recommend.MemoryStore]), allows every
// personal purpose, is an established customer, and asks past the
// warm-up, at the time of the last training interaction plus a day. So
// the metrics measure what a person who consents to everything is shown,
// guards, blend and backfill included, not a model on its own. cfg is the
// Recommender's configuration (its zero value: the defaults a service
// gets). The history the Ranker is given is ignored: the Recommender reads
// the store, as in production.
func Served(m *recommend.Model, train []recommend.Interaction, cfg recommend.Config) (Ranker, error) {
	ctx := context.Background()
	store := new(recommend.MemoryStore)
	var last time.Time
	byPerson := make(map[string][]recommend.Event)
	for _, x := range train {
		if x.Person == "" || x.Item == "" {
			continue
		}
		byPerson[x.Person] = append(byPerson[x.Person], recommend.Event{Item: x.Item, Kind: x.Kind, At: x.At})
		if x.At.After(last) {
			last = x.At
		}
	}
	for p, evs := range byPerson {
		if err := store.AddEvents(ctx, p, evs...); err != nil {
			return nil, err
		}
	}
	if last.IsZero() {
		last = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	at := last.Add(24 * time.Hour)
	r, err := recommend.New(m, allowAll{}, store, cfg)
	if err != nil {
		return nil, err
	}
	rel := recommend.Relationship{Known: true, FirstSeen: at.AddDate(-10, 0, 0), Visits: 1000, Orders: 1000}
	return func(person string, _ []string, k int) []string {
		resp, err := r.Recommend(ctx, recommend.Request{Subject: person, At: at, VisitStart: at.Add(-time.Hour), K: min(k, recommend.MaxK), Relationship: rel})
		if err != nil {
			return nil
		}
		out := make([]string, len(resp.Items))
		for i, it := range resp.Items {
			out[i] = it.Item.ID
		}
		return out
	}, nil
}

// allowAll is a Decider that allows every purpose, under a policy that
// declares every purpose and category a recommender reads.
type allowAll struct{}

var allowAllPolicy = func() *consent.Policy {
	p := &consent.Policy{Version: 1, Controller: "eval", Contact: "eval", Withdraw: "eval"}
	add := func(pur consent.Purpose, b consent.Basis, cats ...consent.Category) {
		s := consent.PurposeSpec{Purpose: pur, Version: 1, Basis: b, Description: "evaluation", Benefit: "evaluation", Categories: cats}
		if len(cats) > 0 {
			s.Retention = time.Hour
		}
		if b.NeedsConsent() {
			s.Lifetime = time.Hour
		}
		p.Purposes = append(p.Purposes, s)
	}
	add(consent.PurposePersonalize, consent.BasisConsent)
	add(consent.PurposePersonalizeContext, consent.BasisConsent, consent.CategoryBehaviorSession, consent.CategoryBehaviorSearch)
	add(consent.PurposePersonalizeDeclared, consent.BasisConsent, consent.CategoryPreferenceDeclared)
	add(consent.PurposePersonalizeFeedback, consent.BasisConsent, consent.CategoryPreferenceFeedback)
	add(consent.PurposePersonalizeHistory, consent.BasisConsent, consent.CategoryBehaviorPurchaseHistory, consent.CategoryBehaviorBrowsingHistory)
	return p
}()

func (allowAll) Decide(_ context.Context, subject string, p consent.Purpose, at time.Time, _ consent.Signals) (consent.Decision, error) {
	return consent.Decision{Subject: subject, Purpose: p, At: at, Allowed: true, Reason: consent.ReasonGranted,
		Basis: consent.BasisConsent, PolicyVersion: 1}, nil
}

func (allowAll) Policy() *consent.Policy { return allowAllPolicy }
