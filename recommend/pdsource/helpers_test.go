package pdsource_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
	"github.com/tact-go/tact/consent/pds"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/pdsource"
)

const (
	audience = "https://shop.example"
	issuer   = "https://pds.example/alice"
	kid      = "k1"
	person   = consenttest.SubjectNew // nothing on record
)

var (
	ctx = context.Background()
	now = consenttest.Now()
	key = ed25519.NewKeyFromSeed([]byte("tact pdsource test key: 32 bytes"))
)

// shop is a recommender whose declared source reads grants.
type shop struct {
	gate   *consent.Gate
	revs   *pds.MemoryRevocations
	keys   *pds.MemoryKeys
	v      *pds.Verifier
	base   *recommend.MemoryStore
	tokens *pdsource.MemoryTokens
	store  *pdsource.Store
	clock  time.Time // what Config.Now returns
	r      *recommend.Recommender
}

func newShop(t testing.TB) *shop {
	t.Helper()
	s := &shop{
		gate:   consenttest.NewGate(t, consent.GateConfig{Rand: consenttest.Rand(1)}),
		revs:   new(pds.MemoryRevocations),
		keys:   new(pds.MemoryKeys),
		base:   new(recommend.MemoryStore),
		tokens: new(pdsource.MemoryTokens),
		clock:  now,
	}
	if err := s.keys.Add(issuer, kid, key.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	var err error
	if s.v, err = pds.NewVerifier(s.gate, s.keys, s.revs, audience, pds.Config{}); err != nil {
		t.Fatal(err)
	}
	if s.store, err = pdsource.New(s.base, s.v, s.tokens, pdsource.Config{Now: func() time.Time { return s.clock }}); err != nil {
		t.Fatal(err)
	}
	cat, err := recommend.NewCatalog([]recommend.Item{
		{ID: "road-42", Title: "Road shoes (42)", Category: "shoes", Tags: []string{"running", "marathon"}, Sizes: []string{"shoe:42", "shoe:43"}},
		{ID: "road-38", Title: "Road shoes (38)", Category: "shoes", Tags: []string{"running", "marathon"}, Sizes: []string{"shoe:38"}},
		{ID: "gels", Title: "Energy gels", Category: "nutrition", Tags: []string{"marathon", "energy"}},
		{ID: "mat", Title: "Yoga mat", Category: "yoga", Tags: []string{"yoga"}},
		{ID: "blocks", Title: "Yoga blocks", Category: "yoga", Tags: []string{"yoga"}},
		{ID: "kettle", Title: "Kettle", Category: "coffee", Tags: []string{"coffee"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var in []recommend.Interaction
	for p, b := range [][]string{{"kettle"}, {"kettle", "mat"}, {"kettle", "gels"}, {"road-38"}, {"blocks"}} {
		for _, id := range b {
			in = append(in, recommend.Interaction{Person: fmt.Sprint("p", p), Item: id})
		}
	}
	pop, err := recommend.NewPopularity(cat, recommend.CountItems(in, recommend.CountOptions{}), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := recommend.NewModel(cat, pop, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.r, err = recommend.New(m, s.v, s.store, recommend.Config{}); err != nil {
		t.Fatal(err)
	}
	return s
}

// claims are valid claims for person: issued an hour ago for a week,
// scope goals and sizes.
func claims() pds.Claims {
	return pds.Claims{
		Issuer: issuer, Subject: person, Audience: []string{audience}, ID: "g-1",
		IssuedAt: now.Add(-time.Hour), Expires: now.Add(7 * 24 * time.Hour),
		Purpose: consent.PurposePersonalizeDeclared,
		Scope:   []consent.Category{pds.CategoryGoals, pds.CategorySizes},
	}
}

func data() map[consent.Category]any {
	return map[consent.Category]any{
		pds.CategoryGoals: []pds.Goal{{Text: "you're training for a marathon", Tags: []string{"marathon"}}},
		pds.CategorySizes: []string{"shoe:42"},
	}
}

func issue(t testing.TB, c pds.Claims, d map[consent.Category]any) string {
	t.Helper()
	tok, err := pds.Issue(key, kid, c, d)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// recommend asks for 3 items for person, a recognized customer past the
// warm-up, at time at (the store's clock set to the same time).
func (s *shop) recommend(t testing.TB, at time.Time) recommend.Response {
	t.Helper()
	s.clock = at
	resp, err := s.r.Recommend(ctx, recommend.Request{
		Subject: person, At: at, VisitStart: at.Add(-10 * time.Minute), K: 3,
		Relationship: recommend.Relationship{Known: true, FirstSeen: at.AddDate(0, 0, -3), Visits: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func ids(resp recommend.Response) []string {
	var out []string
	for _, it := range resp.Items {
		out = append(out, it.Item.ID)
	}
	return out
}

// declared returns whether the response used declared preferences, and
// the withheld entry of the declared source, if any.
func declared(resp recommend.Response) (bool, *recommend.Withheld) {
	used := slices.Contains(resp.Used, consent.CategoryPreferenceDeclared)
	for i := range resp.Withheld {
		if resp.Withheld[i].Source == recommend.SourceDeclared {
			return used, &resp.Withheld[i]
		}
	}
	return used, nil
}
