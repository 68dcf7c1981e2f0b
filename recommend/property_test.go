package recommend_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/recommendtest"
)

// tableDecider answers from a table set per case and counts calls per
// purpose. Not safe for concurrent use: the property test is sequential.
type tableDecider struct {
	allowed map[consent.Purpose]bool
	failing map[consent.Purpose]bool
	calls   map[consent.Purpose]int
	policy  *consent.Policy // nil: recommendtest.Policy()
}

func (d *tableDecider) Policy() *consent.Policy {
	if d.policy == nil {
		return recommendtest.Policy()
	}
	return d.policy
}

var errTable = errors.New("table: unavailable")

func (d *tableDecider) Decide(_ context.Context, subject string, p consent.Purpose, at time.Time, _ consent.Signals) (consent.Decision, error) {
	d.calls[p]++
	if d.failing[p] {
		return consent.Decision{}, errTable
	}
	dec := consent.Decision{Subject: subject, Purpose: p, At: at, Allowed: d.allowed[p], Reason: consent.ReasonNoConsent, PolicyVersion: 1}
	if d.policy != nil {
		dec.PolicyVersion = d.policy.Version
	}
	if dec.Allowed {
		dec.Reason = consent.ReasonGranted
	}
	return dec, nil
}

var personalSources = []recommend.Source{recommend.SourceContext, recommend.SourceDeclared, recommend.SourceFeedback, recommend.SourceHistory}

// sourceOf maps each data category to the source that reads it.
var sourceOf = func() map[consent.Category]recommend.Source {
	m := map[consent.Category]recommend.Source{}
	for _, s := range personalSources {
		for _, c := range s.Categories() {
			m[c] = s
		}
	}
	return m
}()

// TestPropertyPrivacyInvariants checks, over 100,000 random combinations of
// consent state, tier, signals, clock, context and configuration, that:
// the data categories a response used are among those consent allowed and
// belong to sources its tier reaches; the data of every reason is among
// them; no reason relies on a purpose not allowed or a source the tier does
// not reach; every source consent does not allow is reported withheld; no
// sensitive item owes any of its score to anything but declared
// preferences, and no sensitive item in a history, in view or liked leads
// to another; no promotional item and nothing personal but context
// suggests during warm-up; nothing the person is not interested in, has
// bought (unless replenishable) or declared to avoid, whenever consent and
// the tier let that be read, warm-up or not; and consent is asked at most
// once per purpose per request. Each guard was removed in turn to see this
// test fail.
func TestPropertyPrivacyInvariants(t *testing.T) {
	const cases = 100_000
	w := recommendtest.Generate(recommendtest.Options{Seed: 11, Items: 120, Shoppers: 40, ItemsPerPerson: 12, PromotionalShare: 0.3})
	model := w.Model()
	store := w.Store()
	ctx := context.Background()
	base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	// Some shoppers declare sensitive interests, so that sensitive items can
	// legitimately appear (from declared preferences only).
	// Others liked a sensitive item, which must not lead anywhere.
	var sensitive []string
	for _, it := range w.Items {
		if it.Sensitive {
			sensitive = append(sensitive, it.ID)
		}
	}
	for i, s := range w.Shoppers {
		if i%4 == 0 {
			_ = store.SetPreferences(ctx, s.ID, recommend.Preferences{Interests: []recommend.Interest{
				{Text: "you're expecting", Tags: []string{"pregnancy", "baby"}}, {Tags: []string{"running"}}}})
		}
		if i%4 == 1 {
			_ = store.AddFeedback(ctx, s.ID, recommend.Feedback{Item: sensitive[i%len(sensitive)], Kind: recommend.Liked, At: base})
		}
	}
	profiles := map[string]recommend.Profile{}
	for _, s := range w.Shoppers {
		profiles[s.ID], _ = store.Export(ctx, s.ID)
	}
	dec := &tableDecider{}
	var caseTier recommend.Tier
	var useDefault bool
	policy := recommend.TrustFunc(func(r recommend.Relationship, at time.Time, allowed func(consent.Purpose) bool) recommend.Tier {
		if useDefault {
			return recommend.DefaultTrust{}.Tier(r, at, allowed)
		}
		allowed(consent.PurposePersonalizeHistory) // a policy may ask too
		return caseTier
	})
	configs := []recommend.Config{
		{Trust: policy},
		{Trust: policy, SuppressCategory: true, HistoryHalfLife: 24 * time.Hour, ConfidenceFloor: -1, FrequencyCap: 1, WarmUp: 5 * time.Minute},
	}
	var rs []*recommend.Recommender
	for _, cfg := range configs {
		r, err := recommend.New(model, dec, store, cfg)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	rng := rand.New(rand.NewPCG(2025, 6))
	var sensitiveShown, promoShown, historyUsed int
	for n := 0; n < cases; n++ {
		dec.allowed = map[consent.Purpose]bool{}
		dec.failing = map[consent.Purpose]bool{}
		dec.calls = map[consent.Purpose]int{}
		for _, s := range personalSources {
			dec.allowed[s.Purpose()] = rng.IntN(2) == 0
			dec.failing[s.Purpose()] = rng.IntN(20) == 0
		}
		caseTier = recommend.Tier(rng.IntN(3))
		useDefault = rng.IntN(2) == 0
		ci := rng.IntN(len(rs))
		cfgWarm := 2 * time.Minute
		if ci == 1 {
			cfgWarm = 5 * time.Minute
		}
		req := recommend.Request{
			At:      base.Add(time.Duration(rng.Int64N(int64(90 * 24 * time.Hour)))),
			K:       1 + rng.IntN(20),
			Signals: consent.Signals{GPC: rng.IntN(2) == 0, Age: rng.IntN(80)},
			Relationship: recommend.Relationship{Known: rng.IntN(3) > 0, Visits: rng.IntN(10), Orders: rng.IntN(5),
				FirstSeen: base.Add(-time.Duration(rng.Int64N(int64(400 * 24 * time.Hour))))},
		}
		switch rng.IntN(20) {
		case 0:
			req.Subject = ""
		case 1:
			req.Subject = "unknown-person"
		default:
			req.Subject = w.Shoppers[rng.IntN(len(w.Shoppers))].ID
		}
		if rng.IntN(4) > 0 {
			req.VisitStart = req.At.Add(-time.Duration(rng.Int64N(int64(10 * time.Minute))))
		}
		if rng.IntN(2) == 0 {
			req.Context.Item = w.Items[rng.IntN(len(w.Items))].ID
		}
		if rng.IntN(3) == 0 {
			req.Context.Category = w.Items[rng.IntN(len(w.Items))].Category
		}
		if rng.IntN(3) == 0 {
			req.Context.Query = w.Items[rng.IntN(len(w.Items))].Tags[0] + " vitamins"
		}
		if rng.IntN(5) == 0 {
			req.Shown = map[string]int{w.Items[rng.IntN(len(w.Items))].ID: rng.IntN(5)}
		}
		resp, err := rs[ci].Recommend(ctx, req)
		if err != nil {
			t.Fatalf("case %d: %v", n, err)
		}
		// Expected permissions.
		allowedPurpose := map[consent.Purpose]bool{}
		allowedCat := map[consent.Category]bool{}
		if req.Subject != "" {
			for _, s := range personalSources {
				if p := s.Purpose(); dec.allowed[p] && !dec.failing[p] {
					allowedPurpose[p] = true
					for _, c := range s.Categories() {
						allowedCat[c] = true
					}
				}
			}
		}
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("case %d (req %+v, allowed %v, failing %v): "+format, append([]any{n, req, dec.allowed, dec.failing}, args...)...)
		}
		for p, c := range dec.calls {
			if c > 1 {
				fail("consent asked %d times for %s", c, p)
			}
		}
		for _, c := range resp.Used {
			if !allowedCat[c] {
				fail("used category %s without consent", c)
			}
			// A tier reads only the sources it reaches, but for feedback
			// ("not interested" only removes items).
			if src := sourceOf[c]; !resp.Tier.Allows(src) && src != recommend.SourceFeedback {
				fail("used category %s of source %s at tier %s", c, src, resp.Tier)
			}
			if resp.WarmUp && c == consent.CategoryBehaviorBrowsingHistory {
				fail("used %s during warm-up: views only suggest", c)
			}
		}
		// Every personal source not allowed is reported as withheld, with
		// the reason that comes first.
		for _, src := range personalSources {
			p := src.Purpose()
			var want recommend.WithheldReason
			switch {
			case req.Subject == "":
				want = recommend.WithheldNoSubject
			case dec.failing[p]:
				want = recommend.WithheldUnavailable
			case !dec.allowed[p]:
				want = recommend.WithheldConsent
			default:
				continue
			}
			found := false
			for _, w := range resp.Withheld {
				found = found || (w.Source == src && w.Reason == want)
			}
			if !found {
				fail("source %s not withheld for %s: %+v", src, want, resp.Withheld)
			}
		}
		for _, p := range resp.Purposes {
			if !allowedPurpose[p] {
				fail("relied on purpose %s without consent", p)
			}
		}
		wantWarm := req.VisitStart.IsZero() || req.At.Sub(req.VisitStart) < cfgWarm
		if resp.WarmUp != wantWarm {
			fail("WarmUp = %v, want %v", resp.WarmUp, wantWarm)
		}
		if req.Subject == "" && len(resp.Used) > 0 {
			fail("no subject but used %v", resp.Used)
		}
		if len(resp.Items) > req.K {
			fail("%d items for K=%d", len(resp.Items), req.K)
		}
		// The guards that only remove items hold whenever consent and the
		// tier let the recommender read what they need, warm-up or not.
		prof := profiles[req.Subject]
		leftOut := map[string]string{}
		if allowedPurpose[consent.PurposePersonalizeFeedback] {
			for _, f := range prof.Feedback {
				if f.Kind == recommend.NotInterested {
					leftOut[f.Item] = "not interested"
				}
			}
		}
		if allowedPurpose[consent.PurposePersonalizeHistory] && resp.Tier.Allows(recommend.SourceHistory) {
			for _, e := range prof.History {
				if it, ok := w.Catalog.Lookup(e.Item); ok && e.Kind == recommend.Purchase && !it.Replenishable {
					leftOut[e.Item] = "already bought"
				}
			}
		}
		avoid := []string(nil)
		if allowedPurpose[consent.PurposePersonalizeDeclared] && resp.Tier.Allows(recommend.SourceDeclared) {
			avoid = prof.Preferences.Avoid
		}
		seen := map[string]bool{}
		for _, it := range resp.Items {
			if why, ok := leftOut[it.Item.ID]; ok {
				fail("item %s recommended though %s", it.Item.ID, why)
			}
			for _, tag := range it.Item.Tags {
				if slices.Contains(avoid, tag) {
					fail("item %s has the avoided tag %s", it.Item.ID, tag)
				}
			}
			if seen[it.Item.ID] {
				fail("duplicate item %s", it.Item.ID)
			}
			seen[it.Item.ID] = true
			if math.IsNaN(it.Score) || it.Score <= 0 || it.Score > 1 {
				fail("score %v", it.Score)
			}
			if len(it.Reasons) == 0 {
				fail("item %s without reasons", it.Item.ID)
			}
			if resp.WarmUp && it.Item.Promotional {
				fail("promotional item %s during warm-up", it.Item.ID)
			}
			if it.Item.Promotional {
				promoShown++
			}
			if it.Item.Sensitive {
				sensitiveShown++
			}
			if it.Item.ID == req.Context.Item && slices.Contains(resp.Purposes, consent.PurposePersonalizeContext) {
				fail("recommended the item in view")
			}
			for _, why := range it.Reasons {
				// Reasons below a fifth of the score are not listed: the
				// whole score must come from the declared reason.
				if it.Item.Sensitive && (why.Source != recommend.SourceDeclared || math.Abs(why.Weight-1) > 1e-9) {
					fail("sensitive item %s from %s (share %v)", it.Item.ID, why.Source, why.Weight)
				}
				if !resp.Tier.Allows(why.Source) {
					fail("source %s at tier %s", why.Source, resp.Tier)
				}
				if resp.WarmUp && why.Source != recommend.SourceContext && why.Source != recommend.SourcePopularity {
					fail("source %s during warm-up", why.Source)
				}
				if why.Purpose != "" && !slices.Contains(resp.Purposes, why.Purpose) {
					fail("reason purpose %s not in response purposes %v", why.Purpose, resp.Purposes)
				}
				for _, c := range why.Data {
					if !slices.Contains(resp.Used, c) {
						fail("reason data %s not in response Used %v", c, resp.Used)
					}
				}
				if rel, ok := w.Catalog.Lookup(why.Related); ok && rel.Sensitive {
					fail("item %s inferred from sensitive item %s (%s)", it.Item.ID, rel.ID, why.Source)
				}
				if why.Source == recommend.SourceHistory {
					historyUsed++
				}
			}
		}
	}
	// The generator must exercise the interesting paths, or the property
	// proves little.
	if sensitiveShown == 0 || promoShown == 0 || historyUsed == 0 {
		t.Fatalf("weak generator: sensitive %d, promotional %d, history reasons %d", sensitiveShown, promoShown, historyUsed)
	}
	t.Logf("%d cases: %d sensitive items (declared), %d promotional items, %d history reasons", cases, sensitiveShown, promoShown, historyUsed)
}

// declares reports whether spec declares category c, itself or through an
// ancestor (written apart from the Recommender's check on purpose).
func declares(spec consent.PurposeSpec, c consent.Category) bool {
	for ; c != ""; c = c.Parent() {
		if slices.Contains(spec.Categories, c) {
			return true
		}
	}
	return false
}

// TestPropertyPolicyDeclaresEveryCategoryUsed checks, over 20,000 random
// policies put in force at run time (each source's purpose left out, or
// declaring a random subset of its own categories, their ancestors and
// descendants, and unrelated categories) and random requests, that every
// data category a response used and every reason's data is declared, in
// the policy in force, by the purpose relied on for it; that a source whose
// purpose consent allows but whose categories the policy does not all
// declare is reported withheld for the policy, naming the category; and
// that New accepts a policy exactly when it declares every category of
// each source whose purpose it declares.
func TestPropertyPolicyDeclaresEveryCategoryUsed(t *testing.T) {
	const cases = 20_000
	w := recommendtest.Generate(recommendtest.Options{Seed: 12, Items: 80, Shoppers: 30, ItemsPerPerson: 10})
	model, store := w.Model(), w.Store()
	ctx := context.Background()
	base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	dec := &tableDecider{}
	var caseTier recommend.Tier
	trust := recommend.TrustFunc(func(recommend.Relationship, time.Time, func(consent.Purpose) bool) recommend.Tier { return caseTier })
	r, err := recommend.New(model, dec, store, recommend.Config{Trust: trust})
	if err != nil {
		t.Fatal(err)
	}
	pool := []consent.Category{consent.CategoryUser, consent.CategoryBehavior, consent.CategoryPreference,
		consent.CategoryContactEmail, "user.behavior.search.terms", "user.behavior.session.page"}
	for _, s := range personalSources {
		pool = append(pool, s.Categories()...)
	}
	rng := rand.New(rand.NewPCG(2025, 12))
	var searchUsed, searchWithheld, rejected int
	for n := 0; n < cases; n++ {
		pol := recommendtest.Policy()
		pol.Version = n + 2 // a new policy, in force from this request on
		pol.Purposes = slices.DeleteFunc(pol.Purposes, func(s consent.PurposeSpec) bool {
			return s.Purpose != consent.PurposePersonalize && rng.IntN(8) == 0
		})
		for i := range pol.Purposes {
			if pol.Purposes[i].Purpose == consent.PurposePersonalize {
				continue
			}
			var cats []consent.Category
			for _, c := range pool {
				// Mostly the source's own categories, so that sources are
				// often supported.
				odds := 1
				if sourceOf[c].Purpose() == pol.Purposes[i].Purpose {
					odds = 7
				}
				if rng.IntN(8) < odds {
					cats = append(cats, c)
				}
			}
			pol.Purposes[i].Categories = cats
		}
		dec.policy = pol
		dec.allowed = map[consent.Purpose]bool{}
		dec.failing = map[consent.Purpose]bool{}
		dec.calls = map[consent.Purpose]int{}
		// missing[s]: the first category of s the policy does not declare
		// for its purpose ("" when all are), with the purpose declared.
		missing := map[recommend.Source]consent.Category{}
		wantNewErr := false
		for _, s := range personalSources {
			dec.allowed[s.Purpose()] = rng.IntN(5) > 0
			dec.failing[s.Purpose()] = rng.IntN(30) == 0
			spec, ok := pol.Spec(s.Purpose())
			for _, c := range s.Categories() {
				if !declares(spec, c) {
					missing[s] = c
					wantNewErr = wantNewErr || ok
					break
				}
			}
		}
		caseTier = recommend.Tier(rng.IntN(3))
		req := recommend.Request{
			Subject: w.Shoppers[rng.IntN(len(w.Shoppers))].ID,
			At:      base.Add(time.Duration(rng.Int64N(int64(60 * 24 * time.Hour)))),
			K:       1 + rng.IntN(10),
		}
		req.VisitStart = req.At.Add(-time.Duration(rng.Int64N(int64(10 * time.Minute))))
		if rng.IntN(2) == 0 {
			req.Context.Item = w.Items[rng.IntN(len(w.Items))].ID
		}
		if rng.IntN(3) == 0 {
			req.Context.Category = w.Items[rng.IntN(len(w.Items))].Category
		}
		if rng.IntN(2) == 0 {
			req.Context.Query = w.Items[rng.IntN(len(w.Items))].Tags[0]
		}
		resp, err := r.Recommend(ctx, req)
		if err != nil {
			t.Fatalf("case %d: %v", n, err)
		}
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("case %d (policy %+v, req %+v): "+format, append([]any{n, pol.Purposes, req}, args...)...)
		}
		for _, c := range resp.Used {
			p := sourceOf[c].Purpose()
			spec, _ := pol.Spec(p)
			if !slices.Contains(resp.Purposes, p) || !declares(spec, c) {
				fail("used %s relying on %v, which the policy does not let read it", c, resp.Purposes)
			}
		}
		for _, it := range resp.Items {
			for _, why := range it.Reasons {
				spec, _ := pol.Spec(why.Purpose)
				for _, c := range why.Data {
					if !declares(spec, c) {
						fail("reason %q of %s uses %s, which %s does not declare", why.Text, it.Item.ID, c, why.Purpose)
					}
				}
			}
		}
		for _, s := range personalSources {
			p := s.Purpose()
			c, miss := missing[s]
			if !miss || !dec.allowed[p] || dec.failing[p] {
				continue
			}
			found := false
			for _, w := range resp.Withheld {
				found = found || (w.Source == s && w.Reason == recommend.WithheldPolicy && w.Category == c)
			}
			if !found {
				fail("source %s not withheld for the policy (%s missing): %+v", s, c, resp.Withheld)
			}
			if s == recommend.SourceContext && req.Context.Query != "" {
				searchWithheld++
			}
		}
		if slices.Contains(resp.Used, consent.CategoryBehaviorSearch) {
			searchUsed++
		}
		if n%10 == 0 {
			_, err := recommend.New(model, dec, store, recommend.Config{})
			if wantNewErr != errors.Is(err, recommend.ErrUndeclaredCategory) {
				fail("New: %v, want an ErrUndeclaredCategory: %v", err, wantNewErr)
			}
			if wantNewErr {
				rejected++
			} else if err != nil {
				fail("New: %v", err)
			}
		}
	}
	if searchUsed == 0 || searchWithheld == 0 || rejected == 0 || rejected == cases/10 {
		t.Fatalf("weak generator: search used %d, withheld %d; New rejected %d of %d", searchUsed, searchWithheld, rejected, cases/10)
	}
	t.Logf("%d cases: search used %d, withheld by the policy %d; New rejected %d of %d", cases, searchUsed, searchWithheld, rejected, cases/10)
}
