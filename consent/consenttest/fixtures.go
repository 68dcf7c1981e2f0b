package consenttest

import (
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
)

// Now returns the fixed "now" of the fixtures, 2025-06-01 12:00 UTC: the
// shoppers' events happen before it, and their described states hold at it.
func Now() time.Time { return time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) }

const (
	day  = 24 * time.Hour
	year = 365 * day
)

// Purposes of [RetailPolicy] beyond the default taxonomy.
const (
	// PurposeWellness uses health data (training goals, injuries), so it
	// rests on explicit consent.
	PurposeWellness consent.Purpose = "personalize.wellness"
)

// RetailPolicy returns a fresh copy of a version-2 policy for a sports
// retailer, over the default taxonomy: 20 purposes covering every legal
// basis, hierarchy (parents declared), a sensitive purpose on explicit
// consent ([PurposeWellness]), sale/share and direct-marketing purposes for
// GPC, a legitimate-interest purpose, and a material change in version 2
// (personalize.history now also uses browsing history).
func RetailPolicy() *consent.Policy {
	return &consent.Policy{
		Version:    2,
		Controller: "Acme Outfitters",
		Contact:    "privacy@acme.example",
		Withdraw:   "open Account > Privacy in the app or at acme.example/privacy, or reply STOP to any email",
		NoticeURL:  "https://acme.example/privacy",
		Purposes: []consent.PurposeSpec{
			{Purpose: consent.PurposeService, Version: 1, Basis: consent.BasisContract,
				Description: "Running your account and your orders"},
			{Purpose: consent.PurposeServiceCheckout, Version: 1, Basis: consent.BasisContract,
				Description: "Taking payment and delivering your order",
				Categories:  []consent.Category{consent.CategoryContactEmail, consent.CategoryContactAddress, consent.CategoryPayment},
				Retention:   2 * year},
			{Purpose: consent.PurposeServiceAccount, Version: 1, Basis: consent.BasisContract,
				Description: "Keeping your account and sign-in",
				Categories:  []consent.Category{consent.CategoryUniqueID, consent.CategoryContactEmail},
				Retention:   2 * year},
			{Purpose: consent.PurposePersonalize, Version: 1, Basis: consent.BasisConsent,
				Description: "Tailoring the shop to you",
				Benefit:     "a shop that shows you what fits you first", Lifetime: year},
			{Purpose: consent.PurposePersonalizeContext, Version: 1, Basis: consent.BasisLegitimateInterest,
				Description: "Suggestions based on the page you are looking at, with no profile",
				Benefit:     "related items while you browse",
				Categories:  []consent.Category{consent.CategoryBehaviorSession, consent.CategoryBehaviorSearch}, Retention: day},
			{Purpose: consent.PurposePersonalizeDeclared, Version: 1, Basis: consent.BasisConsent,
				Description: "Recommendations from the sports and sizes you tell us",
				Benefit:     "recommendations that match what you told us",
				Categories:  []consent.Category{consent.CategoryPreferenceDeclared}, Lifetime: year, Retention: 2 * year},
			{Purpose: consent.PurposePersonalizeFeedback, Version: 1, Basis: consent.BasisConsent,
				Description: "Learning from your likes and \"not interested\"",
				Benefit:     "fewer suggestions you do not want",
				Categories:  []consent.Category{consent.CategoryPreferenceFeedback}, Lifetime: year, Retention: year},
			{Purpose: consent.PurposePersonalizeHistory, Version: 2, Basis: consent.BasisConsent,
				Description: "Recommendations from what you bought and browsed",
				Benefit:     "recommendations that fit your training, without repeats of what you own",
				Categories:  []consent.Category{consent.CategoryBehaviorPurchaseHistory, consent.CategoryBehaviorBrowsingHistory},
				Lifetime:    year, Retention: 2 * year},
			{Purpose: PurposeWellness, Version: 1, Basis: consent.BasisExplicitConsent,
				Description: "Recommendations from the training goals and injuries you tell us",
				Benefit:     "kit that suits your training and recovery",
				Categories:  []consent.Category{consent.CategoryHealth}, Lifetime: 180 * day, Retention: 180 * day},
			{Purpose: consent.PurposeAnalytics, Version: 1, Basis: consent.BasisLegitimateInterest,
				Description: "Understanding how the shop is used"},
			{Purpose: consent.PurposeAnalyticsAggregate, Version: 1, Basis: consent.BasisLegitimateInterest,
				Description: "Statistics across all shoppers, made differentially private",
				Benefit:     "a better range and trending lists, without singling you out",
				Categories:  []consent.Category{consent.CategoryBehaviorPurchaseHistory}, Retention: 400 * day},
			{Purpose: consent.PurposeMarketing, Version: 1, Basis: consent.BasisConsent, DirectMarketing: true,
				Description: "Offers and news we send you",
				Benefit:     "early access to sales", Lifetime: 2 * year},
			{Purpose: consent.PurposeMarketingEmail, Version: 1, Basis: consent.BasisConsent, DirectMarketing: true,
				Description: "Offers by email",
				Benefit:     "early access to sales, by email",
				Categories:  []consent.Category{consent.CategoryContactEmail}, Lifetime: 2 * year, Retention: 2 * year},
			{Purpose: consent.PurposeMarketingDirect, Version: 1, Basis: consent.BasisConsent, DirectMarketing: true,
				Description: "Offers by post and phone",
				Benefit:     "our catalogue at home",
				Categories:  []consent.Category{consent.CategoryContactAddress, consent.CategoryContactPhone}, Lifetime: 2 * year, Retention: 2 * year},
			{Purpose: consent.PurposeAdvertising, Version: 1, Basis: consent.BasisConsent, SaleOrShare: true,
				Description: "Advertising on other sites and apps",
				Benefit:     "ads for things you might like instead of random ones", Lifetime: year},
			{Purpose: consent.PurposeAdvertisingTargeted, Version: 1, Basis: consent.BasisConsent, SaleOrShare: true,
				Description: "Ads elsewhere based on what you did here",
				Benefit:     "ads for things you might like instead of random ones",
				Categories:  []consent.Category{consent.CategoryDeviceID, consent.CategoryBehaviorBrowsingHistory}, Lifetime: year, Retention: 90 * day},
			{Purpose: consent.PurposeSharing, Version: 1, Basis: consent.BasisConsent, SaleOrShare: true,
				Description: "Sharing your details with partners",
				Benefit:     "partner offers", Lifetime: year},
			{Purpose: consent.PurposeSharingPartners, Version: 1, Basis: consent.BasisConsent, SaleOrShare: true,
				Description: "Sharing your email and purchases with our gym partners",
				Benefit:     "gym partner discounts",
				Categories:  []consent.Category{consent.CategoryContactEmail, consent.CategoryBehaviorPurchaseHistory}, Lifetime: year, Retention: year},
			{Purpose: consent.PurposeLegal, Version: 1, Basis: consent.BasisLegalObligation,
				Description: "What the law makes us do"},
			{Purpose: consent.PurposeLegalObligation, Version: 1, Basis: consent.BasisLegalObligation,
				Description: "Keeping tax and accounting records",
				Categories:  []consent.Category{consent.CategoryPayment, consent.CategoryContactAddress}, Retention: 10 * year},
		},
	}
}

// Fixture subjects, each in a typical state at [Now] (see [Shoppers]).
const (
	SubjectNew       = "shopper-new"       // nothing on record
	SubjectGranted   = "shopper-granted"   // granted everything that needs consent, a month ago
	SubjectWithdrawn = "shopper-withdrawn" // granted personalize, then withdrew it
	SubjectDenied    = "shopper-denied"    // granted personalize, said no to marketing
	SubjectExpired   = "shopper-expired"   // granted marketing.email three years ago (lifetime two)
	SubjectOutdated  = "shopper-outdated"  // granted personalize.history under policy version 1
	SubjectMinor     = "shopper-minor"     // 14, granted personalize herself
	SubjectGuardian  = "shopper-guarded"   // 12, personalize granted by a guardian
	SubjectGPC       = "visitor-gpc"       // a visitor whose browser sends GPC; nothing on record
)

// Shopper is a fixture subject: an id, the state it is in, the signals its
// requests carry and the events that put it there.
type Shopper struct {
	ID      string
	About   string
	Signals consent.Signals
	Events  []consent.Event
}

// Shoppers returns the fixture subjects in a fresh slice.
func Shoppers() []Shopper {
	now := Now()
	ev := func(a consent.Action, subject string, p consent.Purpose, ago time.Duration, ch consent.Channel) consent.Event {
		return consent.Event{Action: a, Subject: subject, Purpose: p, At: now.Add(-ago), Channel: ch, PolicyVersion: 2,
			Evidence: "sha256:notice-v2"}
	}
	outdated := ev(consent.Grant, SubjectOutdated, consent.PurposePersonalizeHistory, 200*day, consent.ChannelWeb)
	outdated.PolicyVersion, outdated.Evidence = 1, "sha256:notice-v1"
	expired := ev(consent.Grant, SubjectExpired, consent.PurposeMarketingEmail, 3*year, consent.ChannelEmail)
	expired.PolicyVersion, expired.Evidence = 1, "sha256:notice-v1"
	guardian := ev(consent.Grant, SubjectGuardian, consent.PurposePersonalize, 5*day, consent.ChannelApp)
	guardian.Actor = consent.ActorGuardian
	return []Shopper{
		{ID: SubjectNew, About: "new: nothing on record"},
		{ID: SubjectGranted, About: "granted every purpose that needs consent, a month ago", Events: []consent.Event{
			ev(consent.Grant, SubjectGranted, consent.PurposePersonalize, 30*day, consent.ChannelWeb),
			ev(consent.Grant, SubjectGranted, PurposeWellness, 30*day, consent.ChannelWeb),
			ev(consent.Grant, SubjectGranted, consent.PurposeMarketing, 30*day, consent.ChannelWeb),
			ev(consent.Grant, SubjectGranted, consent.PurposeAdvertising, 30*day, consent.ChannelWeb),
			ev(consent.Grant, SubjectGranted, consent.PurposeSharing, 30*day, consent.ChannelWeb),
		}},
		{ID: SubjectWithdrawn, About: "granted personalize, then withdrew it", Events: []consent.Event{
			ev(consent.Grant, SubjectWithdrawn, consent.PurposePersonalize, 60*day, consent.ChannelWeb),
			ev(consent.Withdraw, SubjectWithdrawn, consent.PurposePersonalize, 10*day, consent.ChannelApp),
		}},
		{ID: SubjectDenied, About: "granted personalize, said no to marketing", Events: []consent.Event{
			ev(consent.Grant, SubjectDenied, consent.PurposePersonalize, 20*day, consent.ChannelStore),
			ev(consent.Deny, SubjectDenied, consent.PurposeMarketing, 20*day, consent.ChannelStore),
		}},
		{ID: SubjectExpired, About: "granted marketing.email three years ago; the lifetime is two", Events: []consent.Event{expired}},
		{ID: SubjectOutdated, About: "granted personalize.history under policy version 1; version 2 changed it", Events: []consent.Event{outdated}},
		{ID: SubjectMinor, About: "14 years old, granted personalize herself", Signals: consent.Signals{Age: 14}, Events: []consent.Event{
			ev(consent.Grant, SubjectMinor, consent.PurposePersonalize, 5*day, consent.ChannelApp),
		}},
		{ID: SubjectGuardian, About: "12 years old, personalize granted by a guardian", Signals: consent.Signals{Age: 12}, Events: []consent.Event{guardian}},
		{ID: SubjectGPC, About: "a visitor whose browser sends Global Privacy Control", Signals: consent.Signals{GPC: true}},
	}
}

// Seed records every fixture shopper's events through g, in order.
func Seed(ctx context.Context, g *consent.Gate) error {
	for _, s := range Shoppers() {
		for _, e := range s.Events {
			if _, err := g.Record(ctx, e); err != nil {
				return err
			}
		}
	}
	return nil
}

// NewGate returns a Gate over a new [consent.MemoryStore] with
// [RetailPolicy] and the [Shoppers] seeded, for tests. It fails t on error.
func NewGate(t testing.TB, cfg consent.GateConfig) *consent.Gate {
	t.Helper()
	g, err := consent.NewGate(RetailPolicy(), consent.NewMemoryStore(), cfg)
	if err != nil {
		t.Fatalf("consenttest: NewGate: %v", err)
	}
	if err := Seed(context.Background(), g); err != nil {
		t.Fatalf("consenttest: Seed: %v", err)
	}
	return g
}

// Rand returns a deterministic stream of bytes for [consent.GateConfig].Rand,
// so that tests and examples get the same record salts, and so the same
// hashes, on every run. Two streams with the same seed are equal. Never use
// it in production: the salt is what keeps an erased subject's tombstones
// from being tested against guessed ids, and it must be unpredictable.
func Rand(seed uint64) io.Reader {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	return rand.NewChaCha8(key)
}
