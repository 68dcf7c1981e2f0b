package pds_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/pds"
)

// records returns the subject's records in the ledger.
func records(t *testing.T, f *fixture, subj string) []consent.Record {
	t.Helper()
	a, err := f.gate.Access(ctx, subj, now)
	if err != nil {
		t.Fatal(err)
	}
	return a.Records
}

func TestAcceptRecordsOnce(t *testing.T) {
	f := newFixture(t)
	tok := issue(t, claims(), data())
	d, err := f.v.Accept(ctx, tok, subject, consent.PurposePersonalizeDeclared, now, consent.Signals{})
	if err != nil {
		t.Fatal(err)
	}
	if !d.Allowed || d.Reason != consent.ReasonGranted {
		t.Fatalf("decision = %+v, want allowed", d)
	}
	if !d.Expires.Equal(claims().Expires) {
		t.Errorf("Expires = %v, want the grant's exp %v (the purpose's lifetime is longer)", d.Expires, claims().Expires)
	}
	recs := records(t, f, subject)
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	r := recs[0]
	g, _ := f.v.Verify(ctx, tok, subject, consent.PurposePersonalizeDeclared, now)
	if r.Action != consent.Grant || r.Channel != pds.ChannelPDS || r.Source != consent.SourceImport ||
		r.Evidence != g.Evidence() || !r.At.Equal(claims().IssuedAt) || r.Purpose != consent.PurposePersonalizeDeclared {
		t.Errorf("record = %+v", r.Event)
	}
	if strings.Contains(r.Evidence, "shoe") || strings.Contains(r.Evidence, "marathon") || strings.Contains(r.Evidence, subject) {
		t.Errorf("evidence %q carries personal data", r.Evidence)
	}
	dg := g.Digest()
	if !strings.Contains(r.Evidence, "jti=g-1 ") || !strings.Contains(r.Evidence, fmt.Sprintf("sha256=%x", dg[:])) {
		t.Errorf("evidence %q does not name the grant", r.Evidence)
	}
	// Handing the same grant again records nothing.
	if _, err := f.v.Accept(ctx, tok, subject, consent.PurposePersonalizeDeclared, now.Add(time.Hour), consent.Signals{}); err != nil {
		t.Fatal(err)
	}
	if n := len(records(t, f, subject)); n != 1 {
		t.Errorf("%d records after a second Accept, want 1", n)
	}
}

func TestAcceptRefusedRecordsNothing(t *testing.T) {
	f := newFixture(t)
	c := claims()
	c.Expires = now.Add(-time.Second)
	c.IssuedAt = now.Add(-time.Hour)
	_, err := f.v.Accept(ctx, issue(t, c, data()), subject, consent.PurposePersonalizeDeclared, now, consent.Signals{})
	if !errors.Is(err, pds.ErrExpired) {
		t.Fatalf("err = %v, want ErrExpired", err)
	}
	if n := len(records(t, f, subject)); n != 0 {
		t.Errorf("%d records after a refused grant, want 0", n)
	}
}

// TestDecideEndsWithTheGrant checks that a decision resting on a grant's
// record ends when the grant does, although the ledger alone would still
// allow (the purpose's consent lifetime is a year).
func TestDecideEndsWithTheGrant(t *testing.T) {
	f := newFixture(t)
	tok := issue(t, claims(), data())
	if _, err := f.v.Accept(ctx, tok, subject, consent.PurposePersonalizeDeclared, now, consent.Signals{}); err != nil {
		t.Fatal(err)
	}
	exp := claims().Expires
	decide := func(at time.Time) consent.Decision {
		d, err := f.v.Decide(ctx, subject, consent.PurposePersonalizeDeclared, at, consent.Signals{})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := decide(exp.Add(-time.Second)); !d.Allowed {
		t.Errorf("before exp: %+v", d)
	}
	if d := decide(exp); d.Allowed || d.Reason != consent.ReasonExpired {
		t.Errorf("at exp: allowed=%v reason=%v, want denied, expired", d.Allowed, d.Reason)
	}
	if d, _ := f.gate.Decide(ctx, subject, consent.PurposePersonalizeDeclared, exp, consent.Signals{}); !d.Allowed {
		t.Fatalf("the gate alone denies at exp, so this test shows nothing: %+v", d)
	}
	ds, err := f.v.DecideMany(ctx, subject, []consent.Purpose{consent.PurposePersonalizeDeclared, consent.PurposePersonalizeFeedback}, exp, consent.Signals{}, nil)
	if err != nil || len(ds) != 2 || ds[0].Allowed || ds[0].Reason != consent.ReasonExpired {
		t.Errorf("DecideMany at exp = %+v, %v", ds, err)
	}
	f.revs.Revoke(issuer, "g-1")
	if d := decide(now); d.Allowed || d.Reason != consent.ReasonWithdrawn {
		t.Errorf("after revocation: allowed=%v reason=%v, want denied, withdrawn", d.Allowed, d.Reason)
	}
}

// TestAcceptDoesNotOverrideLaterChoice checks that a grant cannot exceed
// what the person's consent for the purpose allows: a withdrawal made
// after the grant was issued (or at the same second) stands.
func TestAcceptDoesNotOverrideLaterChoice(t *testing.T) {
	for _, tt := range []struct {
		name    string
		purpose consent.Purpose
		at      time.Duration // after the grant's iat
	}{
		{"withdrawn after", consent.PurposePersonalizeDeclared, time.Minute},
		{"withdrawn at the same second", consent.PurposePersonalizeDeclared, 0},
		{"parent withdrawn after", consent.PurposePersonalize, time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := f.gate.Record(ctx, consent.Event{Action: consent.Withdraw, Subject: subject, Purpose: tt.purpose,
				At: claims().IssuedAt.Add(tt.at), Channel: consent.ChannelWeb})
			if err != nil {
				t.Fatal(err)
			}
			d, err := f.v.Accept(ctx, issue(t, claims(), data()), subject, consent.PurposePersonalizeDeclared, now, consent.Signals{})
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed {
				t.Errorf("a grant issued before a withdrawal overrode it: %+v", d)
			}
			if n := len(records(t, f, subject)); n != 1 {
				t.Errorf("%d records, want only the withdrawal", n)
			}
		})
	}
}

// TestAcceptThenWithdraw checks that a withdrawal after a grant was
// accepted denies, whatever the grant says.
func TestAcceptThenWithdraw(t *testing.T) {
	f := newFixture(t)
	if _, err := f.v.Accept(ctx, issue(t, claims(), data()), subject, consent.PurposePersonalizeDeclared, now, consent.Signals{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.gate.Record(ctx, consent.Event{Action: consent.Withdraw, Subject: subject, Purpose: consent.PurposePersonalize,
		At: now.Add(time.Minute), Channel: consent.ChannelWeb}); err != nil {
		t.Fatal(err)
	}
	d, err := f.v.Decide(ctx, subject, consent.PurposePersonalizeDeclared, now.Add(2*time.Minute), consent.Signals{})
	if err != nil || d.Allowed || d.Reason != consent.ReasonWithdrawn {
		t.Errorf("after withdrawal: %+v, %v", d, err)
	}
}

func TestAcceptMinorDenied(t *testing.T) {
	f := newFixture(t)
	d, err := f.v.Accept(ctx, issue(t, claims(), data()), subject, consent.PurposePersonalizeDeclared, now, consent.Signals{Age: 12})
	if err != nil {
		t.Fatal(err)
	}
	if d.Allowed || d.Reason != consent.ReasonMinor {
		t.Errorf("a child's own grant: %+v, want denied (minor)", d)
	}
}

type failingRevocations struct{}

var errDown = errors.New("revocation list unreachable")

func (failingRevocations) Revoked(context.Context, string, string) (bool, error) {
	return false, errDown
}

// TestRevocationsFailClosed checks that when revocation cannot be checked,
// the grant is not used.
func TestRevocationsFailClosed(t *testing.T) {
	f := newFixture(t)
	tok := issue(t, claims(), data())
	if _, err := f.v.Accept(ctx, tok, subject, consent.PurposePersonalizeDeclared, now, consent.Signals{}); err != nil {
		t.Fatal(err)
	}
	v, err := pds.NewVerifier(f.gate, f.keys, failingRevocations{}, audience, pds.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, tok, subject, consent.PurposePersonalizeDeclared, now); !errors.Is(err, errDown) {
		t.Errorf("Verify: %v, want the host's error", err)
	}
	if d, err := v.Decide(ctx, subject, consent.PurposePersonalizeDeclared, now, consent.Signals{}); !errors.Is(err, errDown) {
		t.Errorf("Decide: %+v, %v; want the host's error", d, err)
	}
}

// TestGrantPrintsNoPersonalData checks every formatting path.
func TestGrantPrintsNoPersonalData(t *testing.T) {
	f := newFixture(t)
	g, err := f.v.Verify(ctx, issue(t, claims(), data()), subject, consent.PurposePersonalizeDeclared, now)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("grant", "g", g)
	out := fmt.Sprintf("%v %+v %#v %s %q %d", g, g, g, g, g, g) + buf.String()
	for _, secret := range []string{subject, "shoe", "marathon", "top:M"} {
		if strings.Contains(out, secret) {
			t.Errorf("output carries %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, "g-1") {
		t.Errorf("output does not name the grant: %s", out)
	}
}
