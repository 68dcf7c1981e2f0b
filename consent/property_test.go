package consent_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
)

// TestDecideProperties checks privacy invariants over many random histories:
// whatever happened, a person's latest "no" holds, an allow under opt-in
// rests on a valid grant the person made, GPC is never overridden in the
// request that carries it, and the fast and generic store paths agree.
func TestDecideProperties(t *testing.T) {
	reasonCount := map[consent.Reason]int{}
	defer func() {
		// The generator must reach every kind of outcome, or the checks
		// above prove little.
		for r := consent.ReasonGranted; r <= consent.ReasonLegitimateInterest; r++ {
			if reasonCount[r] == 0 {
				t.Errorf("no random case ended with reason %s: the generator needs work", r)
			}
		}
		t.Logf("outcomes: %v", reasonCount)
	}()
	pol := consenttest.RetailPolicy()
	specs := map[consent.Purpose]consent.PurposeSpec{}
	var refusable []consent.Purpose
	for _, s := range pol.Purposes {
		specs[s.Purpose] = s
		if s.Basis.NeedsConsent() || s.Basis == consent.BasisLegitimateInterest {
			refusable = append(refusable, s.Purpose)
		}
	}
	onPath := func(q, p consent.Purpose) bool { return q.Covers(p) }
	rng := rand.New(rand.NewPCG(3, 5))
	iterations := 1000
	if testing.Short() {
		iterations = 300
	}
	for it := 0; it < iterations; it++ {
		regime := consent.Regime(1 + rng.IntN(3))
		mem := consent.NewMemoryStore()
		fast, err := consent.NewGate(pol, mem, consent.GateConfig{Regime: regime})
		require.NoError(t, err)
		slow, err := consent.NewGate(pol, opaqueStore{consent.NewMemoryStore()}, consent.GateConfig{Regime: regime})
		require.NoError(t, err)

		var history []consent.Record
		n := rng.IntN(8)
		for i := 0; i < n; i++ {
			p := refusable[rng.IntN(len(refusable))]
			a := consent.Action(1 + rng.IntN(3))
			if specs[p].Basis == consent.BasisLegitimateInterest && a == consent.Grant {
				a = consent.Deny
			}
			age := time.Duration(rng.IntN(300*24)) * time.Hour
			if rng.IntN(4) == 0 {
				age = time.Duration(rng.IntN(3*365*24)) * time.Hour // often expired
			}
			e := ev(a, subj, p, now.Add(-age))
			e.Actor = consent.Actor(rng.IntN(3))
			e.PolicyVersion = 2
			if rng.IntN(5) == 0 {
				e.PolicyVersion = 1
			}
			r1, err := fast.Record(ctx, e)
			require.NoError(t, err)
			r2, err := slow.Record(ctx, e)
			require.NoError(t, err)
			require.Equal(t, r1, r2, "both gates chain the same records")
			history = append(history, r1)
		}
		q := pol.Purposes[rng.IntN(len(pol.Purposes))]
		if len(history) > 0 && rng.IntN(3) > 0 {
			// Mostly ask about a purpose the history touches: the event's or a child's.
			base := history[rng.IntN(len(history))].Purpose
			var under []consent.PurposeSpec
			for _, s := range pol.Purposes {
				if base.Covers(s.Purpose) {
					under = append(under, s)
				}
			}
			q = under[rng.IntN(len(under))]
		}
		sig := consent.Signals{Age: []int{0, 0, 0, 10, 12, 14, 15, 30}[rng.IntN(8)], GPC: rng.IntN(6) == 0}
		d1, err := fast.Decide(ctx, subj, q.Purpose, now, sig)
		require.NoError(t, err)
		d2, err := slow.Decide(ctx, subj, q.Purpose, now, sig)
		require.NoError(t, err)
		require.Equal(t, d1, d2, "iteration %d: fast and generic paths agree", it)
		d := d1
		fail := func(what string) {
			var h strings.Builder
			for _, r := range history {
				fmt.Fprintf(&h, "\n  %d %s %s at %s v%d by %s", r.Seq, r.Action, r.Purpose, r.At.Format(time.DateOnly), r.PolicyVersion, r.Actor)
			}
			t.Fatalf("iteration %d (%s, %s, signals %+v): %s: got %s (%s, record %d); history:%s", it, regime, q.Purpose, sig, what, d.Explain(), d.Reason, d.Record.Seq, h.String())
		}

		reasonCount[d.Reason]++
		if d.Allowed != d.Reason.Allows() {
			fail("Allowed and Reason disagree")
		}
		if !q.Basis.NeedsConsent() && q.Basis != consent.BasisLegitimateInterest {
			if !d.Allowed || d.Reason != consent.ReasonNotConsent {
				fail("contract and legal purposes are always allowed")
			}
			continue
		}
		// The person's latest choice on the path, in ledger order.
		var last *consent.Record
		for i := range history {
			if onPath(history[i].Purpose, q.Purpose) {
				last = &history[i]
			}
		}
		if last != nil && last.Action != consent.Grant && d.Allowed {
			fail("the latest choice on the path is a no, yet allowed")
		}
		if sig.GPC && (q.SaleOrShare || specs[q.Purpose.Parent()].SaleOrShare) && d.Allowed {
			fail("allowed against a GPC signal")
		}
		if d.Record.Seq != 0 {
			if d.Record.Seq > uint64(len(history)) || history[d.Record.Seq-1] != d.Record {
				if d.Reason != consent.ReasonGPC { // GPC decisions may rest on the opt-out they just recorded
					fail("the decision rests on a record that is not in the ledger as made")
				}
			}
			if !onPath(d.Record.Purpose, q.Purpose) {
				fail("the decision rests on a record for another purpose")
			}
		}
		optIn := regime != consent.CPRA || q.Basis == consent.BasisExplicitConsent || (sig.Age > 0 && sig.Age < 16)
		if d.Allowed && q.Basis.NeedsConsent() && optIn {
			r := d.Record
			switch {
			case d.Reason != consent.ReasonGranted || r.Action != consent.Grant:
				fail("opt-in purpose allowed without a grant")
			case q.Basis == consent.BasisExplicitConsent && r.Purpose != q.Purpose:
				fail("explicit consent allowed by another purpose's grant")
			case !now.Before(d.Expires) || d.Expires.IsZero():
				fail("allowed by an expired grant")
			case r.PolicyVersion < q.Version:
				fail("allowed by a grant older than the purpose's last material change")
			}
			guardian := map[consent.Regime]int{consent.GDPR: 16, consent.LGPD: 12, consent.CPRA: 13}[regime]
			if sig.Age > 0 && sig.Age < guardian && r.Actor != consent.ActorGuardian {
				fail("a child's own grant allowed where a guardian must consent")
			}
			// No later refusal anywhere on the path.
			for _, h := range history[r.Seq:] {
				if onPath(h.Purpose, q.Purpose) && h.Action != consent.Grant {
					fail("a later refusal on the path was ignored")
				}
			}
		}
		if !d.Allowed && d.Record.Seq != 0 && d.Record.Action == consent.Grant {
			switch d.Reason {
			case consent.ReasonExpired, consent.ReasonReconsent, consent.ReasonMinor:
			default:
				fail("a denial resting on a grant must say why the grant does not hold")
			}
		}
	}
}

// TestWithdrawalIsImmediate: 8 goroutines decide while another withdraws; no
// decision that started after the withdrawal returned may allow.
func TestWithdrawalIsImmediate(t *testing.T) {
	rounds := 20
	if testing.Short() {
		rounds = 5
	}
	for _, path := range []string{"memory", "generic"} {
		t.Run(path, func(t *testing.T) {
			for round := 0; round < rounds; round++ {
				var store consent.Store = consent.NewMemoryStore()
				if path == "generic" {
					store = opaqueStore{consent.NewMemoryStore()}
				}
				g, err := consent.NewGate(consenttest.RetailPolicy(), store, consent.GateConfig{})
				require.NoError(t, err)
				record(t, g, ev(consent.Grant, subj, consent.PurposePersonalize, now.Add(-time.Hour)))
				// Other subjects keep the store busy.
				record(t, g, ev(consent.Grant, "other", consent.PurposePersonalize, now.Add(-time.Hour)))

				var withdrawn, stop atomic.Bool
				var decided atomic.Int64
				var violations atomic.Int64
				var wg sync.WaitGroup
				for w := 0; w < 8; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						after := 0
						for !stop.Load() || after < 50 {
							started := withdrawn.Load()
							d, err := g.Decide(ctx, subj, consent.PurposePersonalizeHistory, now, consent.Signals{})
							if err != nil {
								violations.Add(1)
								return
							}
							decided.Add(1)
							if started {
								after++
								if d.Allowed {
									violations.Add(1)
								}
							}
						}
					}()
				}
				for decided.Load() < 200 {
					time.Sleep(50 * time.Microsecond)
				}
				record(t, g, ev(consent.Withdraw, subj, consent.PurposePersonalize, now))
				withdrawn.Store(true)
				// Unrelated writes while deciders run.
				record(t, g, ev(consent.Deny, "other", consent.PurposeMarketing, now))
				stop.Store(true)
				wg.Wait()
				require.Zero(t, violations.Load(), "round %d: an allowed decision started after the withdrawal returned", round)
			}
		})
	}
}

func TestDecideAllocs(t *testing.T) {
	g := consenttest.NewGate(t, consent.GateConfig{})
	cases := []struct {
		subject string
		p       consent.Purpose
		sig     consent.Signals
	}{
		{consenttest.SubjectGranted, consent.PurposePersonalizeHistory, consent.Signals{}},
		{consenttest.SubjectWithdrawn, consent.PurposePersonalizeHistory, consent.Signals{}},
		{consenttest.SubjectNew, consent.PurposeMarketingEmail, consent.Signals{Regime: consent.CPRA}},
		{consenttest.SubjectGranted, consent.PurposeServiceCheckout, consent.Signals{}},
		{consenttest.SubjectMinor, consent.PurposePersonalizeHistory, consent.Signals{Age: 14}},
	}
	// GPC after the opt-out is on record: no writes, so no allocations either.
	_, err := g.Decide(ctx, consenttest.SubjectGPC, consent.PurposeAdvertising, now, consent.Signals{GPC: true})
	require.NoError(t, err)
	cases = append(cases, struct {
		subject string
		p       consent.Purpose
		sig     consent.Signals
	}{consenttest.SubjectGPC, consent.PurposeSharingPartners, consent.Signals{GPC: true}})
	for _, c := range cases {
		allocs := testing.AllocsPerRun(200, func() {
			if _, err := g.Decide(ctx, c.subject, c.p, now, c.sig); err != nil {
				t.Fatal(err)
			}
		})
		require.Zero(t, allocs, "Decide(%s, %s) allocates", c.subject, c.p)
	}
}
