package pds_test

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/pds"
)

// TestConcurrentUse verifies, accepts and decides from many goroutines
// while keys are added and grants revoked; run with -race.
func TestConcurrentUse(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				c := claims()
				c.ID = "g-" + strconv.Itoa(w) + "-" + strconv.Itoa(i)
				tok, err := pds.Issue(key, kid, c, data())
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := f.v.Accept(ctx, tok, subject, consent.PurposePersonalizeDeclared, now, consent.Signals{}); err != nil && !errors.Is(err, pds.ErrRevoked) {
					t.Error(err)
					return
				}
				f.revs.Revoke(issuer, c.ID)
				if _, err := f.v.Decide(ctx, subject, consent.PurposePersonalizeDeclared, now.Add(time.Minute), consent.Signals{}); err != nil {
					t.Error(err)
					return
				}
				_ = f.keys.Add(issuer, "k-"+strconv.Itoa(w), other.Public().(ed25519.PublicKey))
			}
		}()
	}
	wg.Wait()
	// Every grant was revoked: nothing rests on one any more.
	d, err := f.v.Decide(ctx, subject, consent.PurposePersonalizeDeclared, now.Add(time.Minute), consent.Signals{})
	if err != nil || d.Allowed {
		t.Errorf("after revoking every grant: %+v, %v", d, err)
	}
}

// TestVerifyIndentedJSON checks that a grant whose JSON another encoder
// wrote, with whitespace and members in another order, verifies.
func TestVerifyIndentedJSON(t *testing.T) {
	f := newFixture(t)
	h, c := parts(t, issue(t, claims(), data()))
	hb, _ := json.MarshalIndent(h, "", "  ")
	cb, _ := json.MarshalIndent(c, " ", "\t")
	g, err := f.v.Verify(ctx, sign(key, string(hb), string(cb)), subject, consent.PurposePersonalizeDeclared, now)
	if err != nil {
		t.Fatal(err)
	}
	if d := g.Declared(); len(d.Sizes) != 2 {
		t.Errorf("Declared = %+v", d)
	}
}
