package pdsource_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/pds"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/pdsource"
)

// TestRecommendFromGrant follows a grant through its life in the
// recommender: not used before it is handed over, used (goals suggest,
// sizes filter) while it holds, withheld for consent once it expires or is
// revoked.
func TestRecommendFromGrant(t *testing.T) {
	s := newShop(t)
	if used, w := declared(s.recommend(t, now)); used || w == nil || w.Reason != recommend.WithheldConsent {
		t.Fatalf("before the grant: used=%v withheld=%+v; want withheld for consent", used, w)
	}

	tok := issue(t, claims(), data())
	d, err := s.store.Accept(ctx, person, tok, now, consent.Signals{})
	if err != nil || !d.Allowed {
		t.Fatalf("Accept: %+v, %v", d, err)
	}
	resp := s.recommend(t, now.Add(time.Hour))
	if used, w := declared(resp); !used || w != nil {
		t.Fatalf("with the grant: used=%v withheld=%+v", used, w)
	}
	got := ids(resp)
	if !slices.Contains(got, "road-42") || slices.Contains(got, "road-38") {
		t.Errorf("items %v: want road-42 (the granted goal and size), never road-38 (another size)", got)
	}
	var because bool
	for _, it := range resp.Items {
		for _, r := range it.Reasons {
			because = because || (r.Source == recommend.SourceDeclared && strings.Contains(r.Text, "training for a marathon"))
		}
	}
	if !because {
		t.Errorf("no item explained by the granted goal: %+v", resp.Items)
	}

	exp := claims().Expires
	if used, w := declared(s.recommend(t, exp)); used || w == nil || w.Reason != recommend.WithheldConsent || w.Decision.Reason != consent.ReasonExpired {
		t.Errorf("at exp: used=%v withheld=%+v; want withheld, consent expired", used, w)
	}

	s.revs.Revoke(issuer, "g-1")
	if used, w := declared(s.recommend(t, now.Add(2*time.Hour))); used || w == nil || w.Decision.Reason != consent.ReasonWithdrawn {
		t.Errorf("after revocation: used=%v withheld=%+v; want withheld, withdrawn", used, w)
	}
}

// TestPreferencesOnlyWhileValid checks the Store alone: with consent given
// in the preference centre (so the recommender would read), a grant's data
// is served only while the grant verifies, and the service's own
// preferences otherwise.
func TestPreferencesOnlyWhileValid(t *testing.T) {
	own := recommend.Preferences{
		Interests: []recommend.Interest{{Text: "you do yoga", Tags: []string{"yoga"}}},
		Sizes:     []string{"shoe:38"}, Avoid: []string{"fur"}, MaxPrice: 50,
	}
	granted := recommend.Preferences{
		Interests: []recommend.Interest{{Text: "you're training for a marathon", Tags: []string{"marathon"}}},
		Sizes:     []string{"shoe:42"}, Avoid: []string{"fur"}, MaxPrice: 50,
	}
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T, s *shop)
		at    time.Time
		want  recommend.Preferences
	}{
		{name: "valid", at: now, want: granted},
		{name: "not yet valid", at: claims().IssuedAt.Add(-2 * time.Minute), want: own},
		{name: "expired", at: claims().Expires, want: own},
		{name: "revoked", at: now, setup: func(t *testing.T, s *shop) { s.revs.Revoke(issuer, "g-1") }, want: own},
		{name: "key retired", at: now, setup: func(t *testing.T, s *shop) { s.keys.Remove(issuer, kid) }, want: own},
		{name: "another person's grant", at: now, setup: func(t *testing.T, s *shop) {
			c := claims()
			c.Subject = "someone-else"
			_ = s.tokens.SetToken(ctx, person, issue(t, c, data()))
		}, want: own},
		{name: "grant for another purpose", at: now, setup: func(t *testing.T, s *shop) {
			c := claims()
			c.Purpose = consent.PurposePersonalizeFeedback
			c.Scope = []consent.Category{consent.CategoryPreferenceFeedback}
			_ = s.tokens.SetToken(ctx, person, issue(t, c, nil))
		}, want: own},
		{name: "scope of everything declared", at: now, setup: func(t *testing.T, s *shop) {
			c := claims()
			c.Scope = []consent.Category{consent.CategoryPreferenceDeclared}
			d := data()
			d[pds.CategoryBudget] = 120
			_ = s.tokens.SetToken(ctx, person, issue(t, c, d))
		}, want: recommend.Preferences{Interests: granted.Interests, Sizes: granted.Sizes, MaxPrice: 120}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newShop(t)
			if _, err := s.gate.Record(ctx, consent.Event{Action: consent.Grant, Subject: person,
				Purpose: consent.PurposePersonalizeDeclared, At: now.Add(-24 * time.Hour), Channel: consent.ChannelWeb}); err != nil {
				t.Fatal(err)
			}
			if err := s.base.SetPreferences(ctx, person, own); err != nil {
				t.Fatal(err)
			}
			if err := s.tokens.SetToken(ctx, person, issue(t, claims(), data())); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(t, s)
			}
			s.clock = tt.at
			got, err := s.store.Preferences(ctx, person)
			if err != nil {
				t.Fatal(err)
			}
			if !equal(got, tt.want) {
				t.Errorf("Preferences = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func equal(a, b recommend.Preferences) bool {
	if len(a.Interests) != len(b.Interests) || a.MaxPrice != b.MaxPrice ||
		!slices.Equal(a.Sizes, b.Sizes) || !slices.Equal(a.Avoid, b.Avoid) {
		return false
	}
	for i := range a.Interests {
		if a.Interests[i].Text != b.Interests[i].Text || !slices.Equal(a.Interests[i].Tags, b.Interests[i].Tags) {
			return false
		}
	}
	return true
}

func TestAcceptKeepsOnlyAllowedGrants(t *testing.T) {
	s := newShop(t)
	c := claims()
	c.Expires = now.Add(-time.Second)
	if _, err := s.store.Accept(ctx, person, issue(t, c, data()), now, consent.Signals{}); !errors.Is(err, pds.ErrExpired) {
		t.Errorf("expired grant: %v, want ErrExpired", err)
	}
	if _, err := s.store.Accept(ctx, person, "not a token", now, consent.Signals{}); !errors.Is(err, pds.ErrMalformed) {
		t.Errorf("garbage: %v, want ErrMalformed", err)
	}
	// A child's own grant does not allow: it is not kept.
	d, err := s.store.Accept(ctx, person, issue(t, claims(), data()), now, consent.Signals{Age: 12})
	if err != nil || d.Allowed {
		t.Errorf("child: %+v, %v; want a denial", d, err)
	}
	if n := s.tokens.Len(); n != 0 {
		t.Errorf("%d tokens kept, want 0", n)
	}
	if _, err := s.store.Accept(ctx, person, issue(t, claims(), data()), now, consent.Signals{}); err != nil {
		t.Fatal(err)
	}
	if n := s.tokens.Len(); n != 1 {
		t.Errorf("%d tokens kept after a good grant, want 1", n)
	}
}

type failing struct{ err error }

func (f failing) Token(context.Context, string) (string, error)         { return "", f.err }
func (f failing) SetToken(context.Context, string, string) error        { return f.err }
func (f failing) Revoked(context.Context, string, string) (bool, error) { return false, f.err }

// TestErrorsWithholdTheSource checks that when a grant cannot be checked
// (tokens or revocations unreachable), Preferences fails, so that the
// recommender withholds the source instead of using an unchecked grant.
func TestErrorsWithholdTheSource(t *testing.T) {
	down := errors.New("down")
	s := newShop(t)
	if _, err := s.store.Accept(ctx, person, issue(t, claims(), data()), now, consent.Signals{}); err != nil {
		t.Fatal(err)
	}
	v, err := pds.NewVerifier(s.gate, s.keys, failing{down}, audience, pds.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for name, st := range map[string]func() (*pdsource.Store, error){
		"tokens": func() (*pdsource.Store, error) { return pdsource.New(s.base, s.v, failing{down}, pdsource.Config{}) },
		"revocations": func() (*pdsource.Store, error) {
			return pdsource.New(s.base, v, s.tokens, pdsource.Config{Now: func() time.Time { return now }})
		},
	} {
		store, err := st()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Preferences(ctx, person); !errors.Is(err, down) {
			t.Errorf("%s down: %v, want the error", name, err)
		}
	}
}

func TestNewConfig(t *testing.T) {
	s := newShop(t)
	if _, err := pdsource.New(nil, nil, s.tokens, pdsource.Config{}); !errors.Is(err, pdsource.ErrInvalidConfig) {
		t.Errorf("nil verifier: %v", err)
	}
	if _, err := pdsource.New(nil, s.v, nil, pdsource.Config{}); !errors.Is(err, pdsource.ErrInvalidConfig) {
		t.Errorf("nil tokens: %v", err)
	}
	var zero pdsource.Store
	if _, err := zero.Preferences(ctx, person); !errors.Is(err, pdsource.ErrInvalidConfig) {
		t.Errorf("zero Store: %v", err)
	}
	// Without a base store: only the grant.
	st, err := pdsource.New(nil, s.v, s.tokens, pdsource.Config{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.tokens.SetToken(ctx, person, issue(t, claims(), data()))
	p, err := st.Preferences(ctx, person)
	if err != nil || len(p.Interests) != 1 || !slices.Equal(p.Sizes, []string{"shoe:42"}) {
		t.Errorf("no base: %+v, %v", p, err)
	}
	if f, err := st.Feedback(ctx, person); f != nil || err != nil {
		t.Errorf("no base feedback: %v, %v", f, err)
	}
	if h, err := st.History(ctx, person); h != nil || err != nil {
		t.Errorf("no base history: %v, %v", h, err)
	}
	var _ recommend.Decider = s.v
	var _ recommend.ManyDecider = s.v
}
