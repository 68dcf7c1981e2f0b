package pds_test

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/pds"
)

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// randomGrant returns random valid claims and data: a random non-empty
// subset of the four declared categories (or their parent), random values
// and times.
func randomGrant(r *rand.Rand) (pds.Claims, map[consent.Category]any, pds.Declared) {
	c := claims()
	c.ID = "g-" + strconv.FormatUint(r.Uint64(), 36)
	c.IssuedAt = now.Add(-time.Duration(r.IntN(3600*24)) * time.Second)
	c.Expires = now.Add(time.Duration(1+r.IntN(3600*24*7)) * time.Second)
	if r.IntN(3) == 0 {
		c.Audience = []string{"https://other.example", audience}
	}
	str := func() string {
		b := make([]byte, 1+r.IntN(12))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	strs := func() []string {
		s := make([]string, r.IntN(5))
		for i := range s {
			s[i] = str()
		}
		return s
	}
	d := map[consent.Category]any{}
	var want pds.Declared
	c.Scope = nil
	all := r.IntN(4) == 0
	if all {
		c.Scope = []consent.Category{consent.CategoryPreferenceDeclared}
	}
	for _, cat := range []consent.Category{pds.CategoryGoals, pds.CategorySizes, pds.CategoryAvoid, pds.CategoryBudget} {
		if !all && r.IntN(2) == 0 {
			continue
		}
		if !all {
			c.Scope = append(c.Scope, cat)
		}
		switch cat {
		case pds.CategoryGoals:
			g := make([]pds.Goal, r.IntN(4))
			for i := range g {
				g[i] = pds.Goal{Text: str(), Tags: strs()}
			}
			d[cat], want.Goals = g, g
		case pds.CategorySizes:
			s := strs()
			for i := range s {
				s[i] = "dim:" + s[i]
			}
			d[cat], want.Sizes = s, s
		case pds.CategoryAvoid:
			s := strs()
			d[cat], want.Avoid = s, s
		case pds.CategoryBudget:
			b := float64(r.IntN(100000)) / 100
			d[cat], want.Budget = b, b
		}
	}
	if len(c.Scope) == 0 {
		c.Scope = []consent.Category{pds.CategorySizes}
	}
	return c, d, want
}

// TestPropertyRoundTrip: every grant Issue writes verifies, with the
// claims and declared data it was issued with.
func TestPropertyRoundTrip(t *testing.T) {
	f := newFixture(t)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		c, d, want := randomGrant(r)
		g, err := f.v.Verify(ctx, issue(t, c, d), subject, consent.PurposePersonalizeDeclared, now)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		got := g.Declared()
		if !declaredEqual(got, want) {
			t.Fatalf("case %d: Declared = %+v, want %+v", i, got, want)
		}
		if gc := g.Claims(); gc.ID != c.ID || !gc.Expires.Equal(c.Expires) || !reflect.DeepEqual(gc.Scope, c.Scope) {
			t.Fatalf("case %d: claims = %+v, want %+v", i, gc, c)
		}
	}
}

// declaredEqual compares, treating nil and empty lists as equal.
func declaredEqual(a, b pds.Declared) bool {
	if len(a.Goals) != len(b.Goals) || a.Budget != b.Budget ||
		!eqStrings(a.Sizes, b.Sizes) || !eqStrings(a.Avoid, b.Avoid) {
		return false
	}
	for i := range a.Goals {
		if a.Goals[i].Text != b.Goals[i].Text || !eqStrings(a.Goals[i].Tags, b.Goals[i].Tags) {
			return false
		}
	}
	return true
}

func eqStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestPropertySingleByteChange: changing any one byte of a valid grant, to
// any other byte, gets it refused with a typed error. Every position of
// every token is tried, with a replacement from the base64url alphabet
// (which passes the first checks and so tests the signature and the
// strict decoding) and one arbitrary byte.
func TestPropertySingleByteChange(t *testing.T) {
	f := newFixture(t)
	r := rand.New(rand.NewPCG(3, 4))
	n := 12
	if testing.Short() {
		n = 3
	}
	for range n {
		c, d, _ := randomGrant(r)
		tok := issue(t, c, d)
		if _, err := f.v.Verify(ctx, tok, subject, consent.PurposePersonalizeDeclared, now); err != nil {
			t.Fatal(err)
		}
		b := []byte(tok)
		for i := range b {
			orig := b[i]
			for _, x := range []byte{alphabet[r.IntN(len(alphabet))], byte(r.IntN(256)), '.'} {
				if x == orig {
					continue
				}
				b[i] = x
				g, err := f.v.Verify(ctx, string(b), subject, consent.PurposePersonalizeDeclared, now)
				var ge *pds.GrantError
				if err == nil || !errors.As(err, &ge) {
					t.Fatalf("byte %d changed %q -> %q: err = %v (grant %v)", i, orig, x, err, g)
				}
			}
			b[i] = orig
		}
	}
}

// TestPropertyResignedByOther: whatever the claims, a grant signed with a
// key the service does not trust for the issuer is refused as
// ErrSignature.
func TestPropertyResignedByOther(t *testing.T) {
	f := newFixture(t)
	r := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		c, d, _ := randomGrant(r)
		tok, err := pds.Issue(other, kid, c, d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.v.Verify(ctx, tok, subject, consent.PurposePersonalizeDeclared, now); !errors.Is(err, pds.ErrSignature) {
			t.Fatalf("err = %v, want ErrSignature", err)
		}
	}
}

// TestPropertyWindow: for random grants and random times, Verify accepts
// exactly within [max(iat, nbf) - skew, exp).
func TestPropertyWindow(t *testing.T) {
	f := newFixture(t)
	r := rand.New(rand.NewPCG(7, 8))
	for range 500 {
		c, d, _ := randomGrant(r)
		if r.IntN(2) == 0 {
			c.NotBefore = c.IssuedAt.Add(time.Duration(r.IntN(3600)) * time.Second)
			if !c.Expires.After(c.NotBefore) {
				c.NotBefore = time.Time{}
			}
		}
		tok := issue(t, c, d)
		at := now.Add(time.Duration(r.IntN(3600*24*9)-3600*24) * time.Second)
		start := c.IssuedAt
		if c.NotBefore.After(start) {
			start = c.NotBefore
		}
		_, err := f.v.Verify(ctx, tok, subject, consent.PurposePersonalizeDeclared, at)
		switch {
		case at.Add(pds.DefaultSkew).Before(start):
			if !errors.Is(err, pds.ErrNotYetValid) {
				t.Fatalf("at %v before %v: %v", at, start, err)
			}
		case !at.Before(c.Expires):
			if !errors.Is(err, pds.ErrExpired) {
				t.Fatalf("at %v after exp %v: %v", at, c.Expires, err)
			}
		case err != nil:
			t.Fatalf("at %v within %v..%v: %v", at, start, c.Expires, err)
		}
	}
}
