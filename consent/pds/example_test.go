package pds_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
	"github.com/tact-go/tact/consent/pds"
)

// Example shows the whole flow: a person's data store issues a grant, the
// service accepts it (recording it in the consent ledger) and reads the
// declared data while the grant holds.
func Example() {
	ctx := context.Background()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

	// The person's data store signs a grant with its Ed25519 key. (In
	// production the store does this; Issue is the format's reference.)
	storeKey := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	token, err := pds.Issue(storeKey, "2025-06", pds.Claims{
		Issuer:   "https://pds.example/alice",
		Subject:  "alice",
		Audience: []string{"https://shop.example"},
		ID:       "g-1",
		IssuedAt: now.Add(-time.Minute),
		Expires:  now.Add(7 * 24 * time.Hour),
		Purpose:  consent.PurposePersonalizeDeclared,
		Scope:    []consent.Category{pds.CategorySizes, pds.CategoryGoals},
	}, map[consent.Category]any{
		pds.CategorySizes: []string{"shoe:42", "top:M"},
		pds.CategoryGoals: []pds.Goal{{Text: "you're training for a marathon", Tags: []string{"running"}}},
	})
	if err != nil {
		log.Fatal(err)
	}

	// The service trusts the store's key, and verifies against its consent
	// ledger.
	gate, err := consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{})
	if err != nil {
		log.Fatal(err)
	}
	keys := new(pds.MemoryKeys)
	if err := keys.Add("https://pds.example/alice", "2025-06", storeKey.Public().(ed25519.PublicKey)); err != nil {
		log.Fatal(err)
	}
	revs := new(pds.MemoryRevocations)
	v, err := pds.NewVerifier(gate, keys, revs, "https://shop.example", pds.Config{})
	if err != nil {
		log.Fatal(err)
	}

	// When the person hands the grant over: verify it and record it.
	d, err := v.Accept(ctx, token, "alice", consent.PurposePersonalizeDeclared, now, consent.Signals{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("allowed:", d.Allowed, "until", d.Expires.Format(time.DateOnly))

	// On each read: verify again, then read only what the scope covers.
	g, err := v.Verify(ctx, token, "alice", consent.PurposePersonalizeDeclared, now.Add(time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(g)
	fmt.Println("sizes:", g.Declared().Sizes)
	if _, err := g.Read(pds.CategoryBudget); errors.Is(err, pds.ErrScope) {
		fmt.Println("budget: not granted")
	}

	// The person revokes the grant in their store: reads stop at once.
	revs.Revoke("https://pds.example/alice", "g-1")
	_, err = v.Verify(ctx, token, "alice", consent.PurposePersonalizeDeclared, now.Add(2*time.Hour))
	fmt.Println(errors.Is(err, pds.ErrRevoked))
	d, _ = v.Decide(ctx, "alice", consent.PurposePersonalizeDeclared, now.Add(2*time.Hour), consent.Signals{})
	fmt.Println("allowed:", d.Allowed, d.Reason)
	// Output:
	// allowed: true until 2025-06-08
	// pds grant g-1 from https://pds.example/alice for personalize.declared until 2025-06-08T12:00:00Z
	// sizes: [shoe:42 top:M]
	// budget: not granted
	// true
	// allowed: false withdrawn
}

// ExampleVerifier_Verify shows the typed errors of grants that are not
// good: each unwraps to one sentinel and names the claim concerned.
func ExampleVerifier_Verify() {
	ctx := context.Background()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	storeKey := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	gate, _ := consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{})
	keys := new(pds.MemoryKeys)
	_ = keys.Add("https://pds.example/alice", "2025-06", storeKey.Public().(ed25519.PublicKey))
	v, _ := pds.NewVerifier(gate, keys, new(pds.MemoryRevocations), "https://shop.example", pds.Config{})

	c := pds.Claims{
		Issuer: "https://pds.example/alice", Subject: "alice", Audience: []string{"https://shop.example"},
		ID: "g-2", IssuedAt: now.Add(-48 * time.Hour), Expires: now.Add(-24 * time.Hour),
		Purpose: consent.PurposePersonalizeDeclared, Scope: []consent.Category{pds.CategorySizes},
	}
	expired, _ := pds.Issue(storeKey, "2025-06", c, nil)
	_, err := v.Verify(ctx, expired, "alice", consent.PurposePersonalizeDeclared, now)
	fmt.Println(errors.Is(err, pds.ErrExpired))
	fmt.Println(err)

	c.Expires = now.Add(time.Hour)
	c.Scope = []consent.Category{consent.CategoryBehaviorPurchaseHistory}
	tooWide, _ := pds.Issue(storeKey, "2025-06", c, nil)
	_, err = v.Verify(ctx, tooWide, "alice", consent.PurposePersonalizeDeclared, now)
	fmt.Println(errors.Is(err, pds.ErrScope))

	_, err = v.Verify(ctx, "eyJhbGciOiJub25lIn0.e30.", "alice", consent.PurposePersonalizeDeclared, now)
	var ge *pds.GrantError
	fmt.Println(errors.Is(err, pds.ErrMalformed), errors.As(err, &ge) && ge.Claim == "alg")
	// Output:
	// true
	// pds: grant expired: exp: expired at 2025-05-31T12:00:00Z
	// true
	// true true
}

// ExampleGrant_Evidence shows what the consent ledger keeps about a grant:
// its issuer, id, expiry and digest, never the person's data.
func ExampleGrant_Evidence() {
	ctx := context.Background()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	storeKey := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	gate, _ := consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{})
	keys := new(pds.MemoryKeys)
	_ = keys.Add("https://pds.example/alice", "2025-06", storeKey.Public().(ed25519.PublicKey))
	v, _ := pds.NewVerifier(gate, keys, new(pds.MemoryRevocations), "https://shop.example", pds.Config{})
	token, _ := pds.Issue(storeKey, "2025-06", pds.Claims{
		Issuer: "https://pds.example/alice", Subject: "alice", Audience: []string{"https://shop.example"},
		ID: "g-3", IssuedAt: now, Expires: now.Add(24 * time.Hour),
		Purpose: consent.PurposePersonalizeDeclared, Scope: []consent.Category{pds.CategorySizes},
	}, map[consent.Category]any{pds.CategorySizes: []string{"shoe:42"}})
	g, _ := v.Verify(ctx, token, "alice", consent.PurposePersonalizeDeclared, now)
	fmt.Println(g.Evidence())
	// Output:
	// pds-grant iss=https://pds.example/alice jti=g-3 exp=1748865600 sha256=793e6a7df408ab58acefa3f2393019cd713221ca4259b2f148ca9db191378c4d
}
