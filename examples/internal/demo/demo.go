// Package demo builds the synthetic shop the example programs run on: a
// catalog with a few sensitive and promotional items, shoppers with consent
// states, declared preferences and purchase histories, and the whole tact
// pipeline wired over them — a consent Gate, an order log minimized for
// analytics, differentially private trending lists and item-item statistics,
// and a Recommender that reads only what consent and trust allow.
//
// Everything is deterministic for a seed except the DP noise, which comes
// from a secure source on purpose.
package demo

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/minimize"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/recommendtest"
)

// Options size the shop. Zero fields take the defaults in their docs.
type Options struct {
	Seed     uint64 // default 1
	Items    int    // catalog size, default 300
	Shoppers int    // default 3000
	// Logger receives the audit events of every package; nil logs nothing.
	Logger *slog.Logger
	// Noise replaces the secure DP noise, for tests that need the same shop
	// on every run (see package dptest); contribution bounding is then
	// seeded too. Such releases say they are not private. Nil means
	// Google's secure noise.
	Noise dp.NoiseSource

	// Consents holds the consent ledger; nil means a new MemoryStore. A
	// store that already holds a ledger (the shop restarted over its
	// database) is not seeded again.
	Consents consent.Store
	// Profiles holds what the recommender reads about people; nil means the
	// synthetic shoppers' profiles, in memory.
	Profiles recommendtest.ProfileStore
	// SpendLog keeps the privacy budget's spends (see dp.SpendLog); nil
	// keeps them in memory.
	SpendLog dp.SpendLog
	// Releases keeps the shop's DP releases; nil keeps none, so every New
	// releases (and spends) again. With a durable SpendLog, a shop must keep
	// its releases too: a restart then serves them instead of spending the
	// budget a second time.
	Releases Releases
}

// Releases keeps differentially private releases by name, as JSON: they
// are public, and a shop over a durable budget releases each once.
type Releases interface {
	// Load returns the release saved under name, and ok false if there is
	// none.
	Load(ctx context.Context, name string) (data []byte, ok bool, err error)
	// Save keeps data under name.
	Save(ctx context.Context, name string, data []byte) error
}

// Shop is the wired pipeline over the synthetic data. Its fields are the
// pieces a host service would hold.
type Shop struct {
	Now    time.Time
	Policy *consent.Policy
	Gate   *consent.Gate
	// Consents is the consent store behind Gate.
	Consents consent.Store
	// Profiles hold declared preferences, feedback and history.
	Profiles recommendtest.ProfileStore
	World    *recommendtest.World
	// Country is each shopper's coarse location, the DP segment.
	Country map[string]string
	// Analytics minimizes order events for analytics.aggregate.
	Analytics *minimize.Minimizer
	// Minimized is the tally of minimizing the whole order log.
	Minimized *minimize.Tally
	// Orders and Kept count the order log before and after dropping the
	// shoppers who objected to analytics.
	Orders, Kept int
	minimized    []Order

	Budget      *dp.Budget
	Trending    *dp.Trending
	Cooc        *dp.Cooccurrences
	Model       *recommend.Model
	Recommender *recommend.Recommender
}

// Regime is the regime the shop's Gate applies by default.
const Regime = consent.GDPR

// Countries are the DP segments of the shop.
var Countries = []string{"GB", "DE", "FR"}

// countryShare is the share of shoppers per country, cumulative.
var countryShare = []float64{0.40, 0.75, 1}

// Privacy parameters of the shop's cross-shopper statistics.
const (
	TrendingEpsilon = 1.0
	CoocEpsilon     = 2.0
	Delta           = 1e-5
	TrendingK       = 10
	// CoocPairItems is how many of the most bought items the item-item
	// pairs are released among.
	CoocPairItems = 60
)

// New builds the shop.
func New(ctx context.Context, o Options) (*Shop, error) {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Items <= 0 {
		o.Items = 300
	}
	if o.Shoppers <= 0 {
		o.Shoppers = 3000
	}
	s := &Shop{
		Now:     recommendtest.Epoch.AddDate(1, 0, 14).Add(10 * time.Hour), // 2026-01-15 10:00 UTC
		Policy:  Policy(),
		World:   recommendtest.Generate(recommendtest.Options{Seed: o.Seed, Items: o.Items, Shoppers: o.Shoppers}),
		Country: make(map[string]string, o.Shoppers),
	}
	s.Consents = o.Consents
	if s.Consents == nil {
		s.Consents = consent.NewMemoryStore()
	}
	var err error
	s.Gate, err = consent.NewGate(s.Policy, s.Consents, consent.GateConfig{Regime: Regime, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	s.Profiles = o.Profiles
	if s.Profiles == nil {
		s.Profiles = s.World.Store()
	}
	end, err := s.Gate.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	seed := end.Seq == 0 // a ledger on record was seeded when it was new
	r := rand.New(rand.NewPCG(o.Seed, 0x7ac7))
	for _, sh := range s.World.Shoppers {
		x := r.Float64()
		s.Country[sh.ID] = Countries[slices.IndexFunc(countryShare, func(c float64) bool { return x < c })]
		if err := s.seedConsent(ctx, r, sh, seed); err != nil {
			return nil, err
		}
	}
	if err := s.minimizeOrders(ctx, o); err != nil {
		return nil, err
	}
	if s.Budget, err = dp.NewBudget(TrendingEpsilon+CoocEpsilon, 2*Delta, &dp.BudgetOptions{
		Now: func() time.Time { return s.Now }, Logger: o.Logger, Log: o.SpendLog,
	}); err != nil {
		return nil, err
	}
	if err := s.trending(ctx, o); err != nil {
		return nil, err
	}
	if err := s.train(ctx, o); err != nil {
		return nil, err
	}
	s.Recommender, err = recommend.New(s.Model, s.Gate, s.Profiles, recommend.Config{Logger: o.Logger})
	return s, err
}

// bounding returns the randomness of a release's contribution bounding:
// nil (fresh and secret) with secure noise, seeded with test noise.
func (o Options) bounding(stream uint64) *rand.Rand {
	if o.Noise == nil {
		return nil
	}
	return rand.New(rand.NewPCG(o.Seed, stream))
}

// Policy is the shop's consent policy, over the default taxonomy.
func Policy() *consent.Policy {
	const year = 365 * 24 * time.Hour
	return &consent.Policy{
		Version:    1,
		Controller: "Acme Outfitters",
		Contact:    "privacy@acme.example",
		Withdraw:   "Your data > Preferences on acme.example, or reply STOP to any email",
		NoticeURL:  "https://acme.example/privacy",
		Purposes: []consent.PurposeSpec{
			{Purpose: consent.PurposeService, Version: 1, Basis: consent.BasisContract,
				Description: "Running your account and your orders"},
			{Purpose: consent.PurposeServiceCheckout, Version: 1, Basis: consent.BasisContract,
				Description: "Taking payment and delivering your order",
				Benefit:     "faster checkout",
				Categories:  []consent.Category{consent.CategoryContactEmail, consent.CategoryContactAddress, consent.CategoryPayment},
				Retention:   2 * year},
			{Purpose: consent.PurposePersonalize, Version: 1, Basis: consent.BasisConsent,
				Description: "Tailoring the shop to you",
				Benefit:     "a shop that shows what fits you first", Lifetime: year},
			{Purpose: consent.PurposePersonalizeContext, Version: 1, Basis: consent.BasisLegitimateInterest,
				Description: "Suggestions from the page you are on, with no profile",
				Benefit:     "related items while you browse",
				Categories:  []consent.Category{consent.CategoryBehaviorSession, consent.CategoryBehaviorSearch}, Retention: 24 * time.Hour},
			{Purpose: consent.PurposePersonalizeDeclared, Version: 1, Basis: consent.BasisConsent,
				Description: "Recommendations from the goals and sizes you tell us",
				Benefit:     "recommendations that fit your training",
				Categories:  []consent.Category{consent.CategoryPreferenceDeclared}, Lifetime: year, Retention: 2 * year},
			{Purpose: consent.PurposePersonalizeFeedback, Version: 1, Basis: consent.BasisConsent,
				Description: "Learning from the items you like or dismiss",
				Benefit:     "fewer suggestions you do not want",
				Categories:  []consent.Category{consent.CategoryPreferenceFeedback}, Lifetime: year, Retention: year},
			{Purpose: consent.PurposePersonalizeHistory, Version: 1, Basis: consent.BasisConsent,
				Description: "Recommendations from what you bought",
				Benefit:     "ideas that go with what you own, without repeats",
				Categories:  []consent.Category{consent.CategoryBehaviorPurchaseHistory, consent.CategoryBehaviorBrowsingHistory},
				Lifetime:    year, Retention: 2 * year},
			{Purpose: consent.PurposeAnalytics, Version: 1, Basis: consent.BasisLegitimateInterest,
				Description: "Understanding how the shop is used"},
			{Purpose: consent.PurposeAnalyticsAggregate, Version: 1, Basis: consent.BasisLegitimateInterest,
				Description: "Statistics across all shoppers, made differentially private",
				Benefit:     "a better range and trending lists, without singling you out",
				Categories: []consent.Category{consent.CategoryUniqueID, consent.CategoryLocationApp,
					consent.CategoryDemographicBirthDate, consent.CategoryBehaviorPurchaseHistory, consent.CategoryPayment},
				Retention: 400 * 24 * time.Hour},
			{Purpose: consent.PurposeMarketing, Version: 1, Basis: consent.BasisConsent, DirectMarketing: true,
				Description: "Offers and news we send you",
				Benefit:     "early access to sales", Lifetime: 2 * year},
			{Purpose: consent.PurposeMarketingEmail, Version: 1, Basis: consent.BasisConsent, DirectMarketing: true,
				Description: "Offers by email",
				Benefit:     "early access to sales, by email",
				Categories:  []consent.Category{consent.CategoryContactEmail}, Lifetime: 2 * year, Retention: 2 * year},
			{Purpose: consent.PurposeAdvertising, Version: 1, Basis: consent.BasisConsent, SaleOrShare: true,
				Description: "Advertising on other sites and apps",
				Benefit:     "ads for things you might like instead of random ones", Lifetime: year},
			{Purpose: consent.PurposeAdvertisingTargeted, Version: 1, Basis: consent.BasisConsent, SaleOrShare: true,
				Description: "Ads elsewhere based on what you did here",
				Benefit:     "ads for things you might like instead of random ones",
				Categories:  []consent.Category{consent.CategoryDeviceID, consent.CategoryBehaviorBrowsingHistory}, Lifetime: year, Retention: 90 * 24 * time.Hour},
			{Purpose: consent.PurposeLegal, Version: 1, Basis: consent.BasisLegalObligation,
				Description: "What the law makes us do"},
			{Purpose: consent.PurposeLegalObligation, Version: 1, Basis: consent.BasisLegalObligation,
				Description: "Keeping tax and accounting records",
				Categories:  []consent.Category{consent.CategoryPayment, consent.CategoryContactAddress}, Retention: 10 * 365 * 24 * time.Hour},
		},
	}
}

// seedConsent gives a shopper a typical consent history: most known
// shoppers let the shop personalize, some only from what they declare,
// some withdrew history later, some said no; a few objected to analytics.
// Without record, it draws the same random numbers and records nothing (the
// ledger on record holds the history already).
func (s *Shop) seedConsent(ctx context.Context, r *rand.Rand, sh recommendtest.Shopper, record bool) error {
	if !sh.Relationship.Known {
		return nil
	}
	at := sh.Relationship.FirstSeen
	ch := []consent.Channel{consent.ChannelWeb, consent.ChannelApp, consent.ChannelStore}[r.IntN(3)]
	rec := func(a consent.Action, p consent.Purpose, at time.Time) error {
		if !record {
			return nil
		}
		_, err := s.Gate.Record(ctx, consent.Event{Action: a, Subject: sh.ID, Purpose: p, At: at, Channel: ch,
			Evidence: NoticeHash})
		return err
	}
	var err error
	switch x := r.IntN(100); {
	case x < 55:
		err = rec(consent.Grant, consent.PurposePersonalize, at)
	case x < 70:
		err = cmp.Or(rec(consent.Grant, consent.PurposePersonalizeDeclared, at),
			rec(consent.Grant, consent.PurposePersonalizeFeedback, at))
	case x < 80:
		err = cmp.Or(rec(consent.Grant, consent.PurposePersonalize, at),
			rec(consent.Withdraw, consent.PurposePersonalizeHistory, at.Add(60*24*time.Hour)))
	case x < 90:
		err = rec(consent.Deny, consent.PurposePersonalize, at)
	}
	if err == nil && r.IntN(10) < 3 {
		err = rec(consent.Grant, consent.PurposeMarketingEmail, at)
	}
	if err == nil && r.IntN(20) == 0 {
		err = rec(consent.Deny, consent.PurposeAnalyticsAggregate, at.Add(24*time.Hour))
	}
	return err
}

// NoticeHash is the evidence recorded with every consent event: the hash of
// the privacy notice the shopper was shown.
var NoticeHash = fmt.Sprintf("sha256:%x", sha256.Sum256([]byte("Acme Outfitters privacy notice, version 1")))

// Order is an order line as the shop's checkout records it: more than
// analytics needs.
type Order struct {
	Customer  string    `tact:"user.unique_id"`
	Email     string    `tact:"user.contact.email"`
	Country   string    `tact:"user.location.approximate"`
	BirthDate time.Time `tact:"user.demographic.birth_date"`
	Item      string    `tact:"user.behavior.purchase_history"`
	Price     float64   `tact:"user.payment"`
	PlacedAt  time.Time `tact:"user.behavior.purchase_history"`
}

// analyticsPolicy is what analytics.aggregate keeps of an Order: a keyed
// pseudonym instead of the customer, the country, a ten-year age band, the
// item, the price to the nearest 10 and the week; the e-mail is dropped.
func analyticsPolicy() (*minimize.Policy, error) {
	return minimize.NewPolicy(consent.PurposeAnalyticsAggregate,
		minimize.ForCategory(consent.CategoryUniqueID, minimize.Pseudonymize()),
		minimize.ForCategory(consent.CategoryLocationApp, minimize.Keep()),
		minimize.ForCategory(consent.CategoryDemographicBirthDate, minimize.AgeBand(10)),
		minimize.ForField("Item", minimize.Keep()),
		minimize.ForField("PlacedAt", minimize.Truncate(minimize.Week)),
		minimize.ForCategory(consent.CategoryPayment, minimize.Bucket(10)),
	)
}

// DemoKey stands in for the pseudonym key a host loads from its secret
// store; here it is derived from the seed so that runs are reproducible.
func DemoKey(seed uint64) minimize.Key {
	k := sha256.Sum256(fmt.Appendf(nil, "tact demo pseudonym key %d", seed))
	return minimize.Key{ID: "demo-1", Secret: k[:]}
}

// OrderOf builds the raw order line of one interaction.
func (s *Shop) OrderOf(x recommend.Interaction) Order {
	it, _ := s.World.Catalog.Lookup(x.Item)
	h := sha256.Sum256([]byte(x.Person))
	born := time.Date(1950+int(h[0])%55, time.Month(1+int(h[1])%12), 1+int(h[2])%28, 0, 0, 0, 0, time.UTC)
	return Order{Customer: x.Person, Email: x.Person + "@mail.example", Country: s.Country[x.Person],
		BirthDate: born, Item: x.Item, Price: it.Price, PlacedAt: x.At}
}

// minimizeOrders minimizes the order log for analytics, leaving out the
// orders of shoppers who objected, and narrowing each record to the
// categories the policy told shoppers analytics uses.
func (s *Shop) minimizeOrders(ctx context.Context, o Options) error {
	pol, err := analyticsPolicy()
	if err != nil {
		return err
	}
	keys, err := minimize.NewKeyring(DemoKey(o.Seed))
	if err != nil {
		return err
	}
	m, err := minimize.New(pol, minimize.Config{Keyring: keys, Now: func() time.Time { return s.Now }, Logger: o.Logger})
	if err != nil {
		return err
	}
	spec, _ := s.Policy.Spec(consent.PurposeAnalyticsAggregate)
	s.Analytics = m.Narrow(minimize.AllowFunc(func(c consent.Category) bool {
		return slices.ContainsFunc(spec.Categories, func(d consent.Category) bool { return d.Covers(c) })
	}))
	allowed := make(map[string]bool)
	var orders []Order
	for _, x := range s.World.Interactions {
		if x.Kind != recommend.Purchase {
			continue
		}
		s.Orders++
		ok, seen := allowed[x.Person]
		if !seen {
			d, err := s.Gate.Decide(ctx, x.Person, consent.PurposeAnalyticsAggregate, s.Now, consent.Signals{})
			if err != nil {
				return err
			}
			ok = d.Allowed
			allowed[x.Person] = ok
		}
		if ok {
			orders = append(orders, s.OrderOf(x))
		}
	}
	out, tally, err := minimize.StructBatch(s.Analytics, orders)
	if err != nil {
		return err
	}
	s.Kept, s.Minimized, s.minimized = len(out), tally, out
	return nil
}

// trending releases, with differential privacy, the items most shoppers
// bought per country and overall, from the minimized order log: the
// person is the pseudonym, never the customer id.
func (s *Shop) trending(ctx context.Context, o Options) error {
	s.Trending = new(dp.Trending)
	if ok, err := load(ctx, o.Releases, "trending", s.Trending); ok || err != nil {
		return err
	}
	top, err := dp.NewTopK(TrendingK, dp.Params{
		Epsilon: TrendingEpsilon, Delta: Delta, MaxPartitions: 16, MaxContributions: 1, Noise: dp.Gaussian,
		Label: "trending per country", Logger: o.Logger, NoiseSource: o.Noise, Rand: o.bounding(1),
	})
	if err != nil {
		return err
	}
	for _, m := range s.minimized {
		top.Add(m.Customer, m.Country, m.Item)
		top.Add(m.Customer, AllSegments, m.Item)
	}
	if s.Trending, err = top.Release(ctx, s.Budget); err != nil {
		return err
	}
	return save(ctx, o.Releases, "trending", s.Trending)
}

// load decodes the release saved under name into v, and reports whether
// there was one.
func load(ctx context.Context, rs Releases, name string, v any) (bool, error) {
	if rs == nil {
		return false, nil
	}
	b, ok, err := rs.Load(ctx, name)
	if !ok || err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("demo: the saved %s release: %w", name, err)
	}
	return true, nil
}

// save keeps release v under name.
func save(ctx context.Context, rs Releases, name string, v any) error {
	if rs == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return rs.Save(ctx, name, b)
}

// AllSegments is the trending segment of every country together.
const AllSegments = "all"

// train builds the models: popularity from the DP trending lists, item-item
// from DP co-occurrence counts of the shoppers' bounded item sets.
func (s *Shop) train(ctx context.Context, o Options) error {
	cat := s.World.Catalog
	ranked := func(rs []dp.Ranked) []recommend.ItemCount {
		out := make([]recommend.ItemCount, 0, len(rs))
		for _, r := range rs {
			out = append(out, recommend.ItemCount{Item: r.Item, Count: float64(r.Count)})
		}
		return out
	}
	segments := make(map[string][]recommend.ItemCount)
	for _, c := range Countries {
		segments[c] = ranked(s.Trending.Top(c))
	}
	pop, err := recommend.NewPopularity(cat, ranked(s.Trending.Top(AllSegments)), segments)
	if err != nil {
		return err
	}

	// Item-item statistics cross people: count them with DP over the
	// pseudonymized order log. Each shopper weighs 1 in total (spread over
	// their items and pairs), pairs are released among the most bought
	// catalog items, and the noise then sets the shrinkage.
	items := make([]string, 0, cat.Len())
	for it := range cat.All() {
		items = append(items, it.ID)
	}
	log := make([]recommend.Interaction, len(s.minimized))
	for i, m := range s.minimized {
		log[i] = recommend.Interaction{Person: m.Customer, Item: m.Item}
	}
	bound := recommend.CountOptions{MaxItemsPerPerson: 50, Seed: o.Seed}
	opts := recommend.ReleaseOptions{ItemPrior: 30}
	res := new(dp.Cooccurrences)
	ok, err := load(ctx, o.Releases, "cooccurrence", res)
	if err != nil {
		return err
	}
	if !ok {
		cooc, err := dp.NewCooccurrence(dp.CooccurrenceParams{
			Epsilon: CoocEpsilon, Delta: Delta, Noise: dp.Gaussian, Items: items,
			MaxItems: bound.MaxItemsPerPerson, MaxPairs: CoocPairItems * (CoocPairItems - 1) / 2,
			PairItems: CoocPairItems, Weighted: true,
			Label: "item-item co-occurrence", Logger: o.Logger, NoiseSource: o.Noise, Rand: o.bounding(2),
		})
		if err != nil {
			return err
		}
		for person, items := range recommend.PersonItems(log, bound) {
			for _, it := range items {
				cooc.Add(person, it)
			}
		}
		if res, err = cooc.Release(ctx, s.Budget); err != nil {
			return err
		}
		if err := save(ctx, o.Releases, "cooccurrence", res); err != nil {
			return err
		}
	}
	counts, err := recommend.CountsFromRelease(res, opts)
	if err != nil {
		return err
	}
	s.Cooc = res
	ii, err := recommend.NewItemItem(cat, counts, recommend.ItemItemConfig{
		Similarity: recommend.Cosine, Shrink: 3 * res.PairNoise.StdDev()})
	if err != nil {
		return err
	}
	s.Model, err = recommend.NewModel(cat, pop, ii)
	return err
}
