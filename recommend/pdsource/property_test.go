package pdsource_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/pds"
	"github.com/tact-go/tact/recommend"
)

// TestPropertyServedOnlyWhileValid: over random grants (random scope
// within declared preferences, random data, random window, sometimes
// revoked, sometimes for another person) read at random times, every
// field of the served preferences is the grant's exactly when the grant
// verifies at that time and its scope covers the field's category, and
// the service's own otherwise.
func TestPropertyServedOnlyWhileValid(t *testing.T) {
	s := newShop(t)
	own := recommend.Preferences{
		Interests: []recommend.Interest{{Text: "own", Tags: []string{"own"}}},
		Sizes:     []string{"own:1"}, Avoid: []string{"own"}, MaxPrice: 1,
	}
	if err := s.base.SetPreferences(ctx, person, own); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(11, 12))
	cats := []consent.Category{pds.CategoryGoals, pds.CategorySizes, pds.CategoryAvoid, pds.CategoryBudget}
	valid := 0
	for i := range 400 {
		c := claims()
		c.ID = "g-" + strconv.Itoa(i)
		c.IssuedAt = now.Add(-time.Duration(r.IntN(48)) * time.Hour)
		c.Expires = c.IssuedAt.Add(time.Duration(1+r.IntN(72)) * time.Hour)
		if r.IntN(8) == 0 {
			c.Subject = "someone-else"
		}
		c.Scope = nil
		d := map[consent.Category]any{}
		for _, cat := range cats {
			if r.IntN(2) == 0 {
				continue
			}
			c.Scope = append(c.Scope, cat)
			switch cat {
			case pds.CategoryGoals:
				d[cat] = []pds.Goal{{Text: "goal " + c.ID, Tags: []string{"t" + c.ID}}}
			case pds.CategorySizes:
				d[cat] = []string{"shoe:" + c.ID}
			case pds.CategoryAvoid:
				d[cat] = []string{"avoid-" + c.ID}
			case pds.CategoryBudget:
				d[cat] = float64(10 + i)
			}
		}
		if len(c.Scope) == 0 {
			c.Scope = []consent.Category{consent.CategoryPreferenceDeclared}
		}
		tok := issue(t, c, d)
		if r.IntN(6) == 0 {
			s.revs.Revoke(issuer, c.ID)
		}
		if err := s.tokens.SetToken(ctx, person, tok); err != nil {
			t.Fatal(err)
		}
		s.clock = now.Add(time.Duration(r.IntN(96)-48) * time.Hour)
		_, verr := s.v.Verify(ctx, tok, person, consent.PurposePersonalizeDeclared, s.clock)
		var bad *pds.GrantError
		if verr != nil && !errors.As(verr, &bad) {
			t.Fatal(verr)
		}
		got, err := s.store.Preferences(ctx, person)
		if err != nil {
			t.Fatal(err)
		}
		// What the Store must serve: the service's own preferences, with
		// each field a verified grant's scope covers taken from the grant
		// (empty where it carries nothing).
		want := own
		covered := func(cat consent.Category) bool {
			return verr == nil && slices.ContainsFunc(c.Scope, func(s consent.Category) bool { return s.Covers(cat) })
		}
		if covered(pds.CategoryGoals) {
			want.Interests = nil
			if g, ok := d[pds.CategoryGoals].([]pds.Goal); ok {
				want.Interests = []recommend.Interest{recommend.Interest(g[0])}
			}
		}
		if covered(pds.CategorySizes) {
			want.Sizes, _ = d[pds.CategorySizes].([]string)
		}
		if covered(pds.CategoryAvoid) {
			want.Avoid, _ = d[pds.CategoryAvoid].([]string)
		}
		if covered(pds.CategoryBudget) {
			want.MaxPrice, _ = d[pds.CategoryBudget].(float64)
		}
		if !equal(got, want) {
			t.Fatalf("case %d (verify: %v, scope %v): served %+v, want %+v", i, verr, c.Scope, got, want)
		}
		if verr == nil {
			valid++
		}
	}
	if valid < 40 || valid > 360 {
		t.Errorf("%d of 400 grants valid: the cases do not cover both sides", valid)
	}
}
