package consent_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
)

// TestDecideProperties checks privacy invariants over many random histories.
// The central one: no allowed decision without a basis. Every allow is one
// of: a purpose that does not rest on consent; a legitimate interest nobody
// objected to; CPRA's opt-out default for an adult who did not opt out; or
// a grant the person made that still holds — valid for the person's age,
// not expired, not older than a material change, and followed by no denial
// or withdrawal of the purpose or any purpose above it, anywhere in the
// history. Besides: a person's latest "no" holds; GPC denies what it
// covers in the request that carries it and on later requests without it,
// except where a grant the person confirmed over GPC allows (then the
// signal changes nothing); a signal changes nothing it does not cover; and
// the fast, generic and batched store paths agree.
//
// Two thirds of the histories stay within one family of purposes (a
// top-level purpose and its descendants) or one path (a purpose and those
// above it), so that grants and refusals of a purpose and its parent
// interleave often.
func TestDecideProperties(t *testing.T) {
	reasonCount := map[consent.Reason]int{}
	prevailed := 0 // decisions in which a grant confirmed over GPC prevailed over the signal
	defer func() {
		if prevailed == 0 {
			t.Errorf("no random case had a grant confirmed over GPC prevail: the generator needs work")
		}
		// The generator must reach every kind of outcome, or the checks
		// above prove little.
		for r := consent.ReasonGranted; r <= consent.ReasonLegitimateInterest; r++ {
			if reasonCount[r] == 0 {
				t.Errorf("no random case ended with reason %s: the generator needs work", r)
			}
		}
		t.Logf("outcomes: %v; confirmed grants prevailed over GPC %d times", reasonCount, prevailed)
	}()
	pol := consenttest.RetailPolicy()
	for i, s := range pol.Purposes {
		// More material changes in version 2 than the fixture has (only
		// personalize.history): a parent, and a child of another family.
		if s.Purpose == consent.PurposeMarketing || s.Purpose == consent.PurposeSharingPartners {
			pol.Purposes[i].Version = 2
		}
	}
	// A third level, so that grants and refusals of a purpose, its parent
	// and its grandparent interleave.
	pol.Purposes = append(pol.Purposes, consent.PurposeSpec{Purpose: "personalize.history.recent", Version: 1,
		Basis: consent.BasisConsent, Description: "Recommendations from what you did this month", Benefit: "fresher recommendations",
		Categories: []consent.Category{consent.CategoryBehaviorBrowsingHistory}, Lifetime: 120 * day, Retention: 30 * day},
		consent.PurposeSpec{Purpose: "sharing.partners.gyms", Version: 1, Basis: consent.BasisConsent, SaleOrShare: true,
			Description: "Sharing with gyms", Benefit: "gym discounts", Lifetime: 200 * day})
	// The same policy with GPC objecting to direct marketing, for half the
	// histories.
	polMkt := pol.Clone()
	polMkt.GPCObjectsToMarketing = true
	specs := map[consent.Purpose]consent.PurposeSpec{}
	families := map[consent.Purpose][]consent.Purpose{} // top-level purpose → refusable purposes under it
	var refusable, roots []consent.Purpose
	for _, s := range pol.Purposes {
		specs[s.Purpose] = s
		if s.Basis.NeedsConsent() || s.Basis == consent.BasisLegitimateInterest {
			refusable = append(refusable, s.Purpose)
			root := s.Purpose
			for root.Parent() != "" {
				root = root.Parent()
			}
			if families[root] == nil {
				roots = append(roots, root)
			}
			families[root] = append(families[root], s.Purpose)
		}
	}
	onPath := func(q, p consent.Purpose) bool { return q.Covers(p) }
	// gpcCovers reports whether a GPC signal opts out of p in the regime.
	var mkt bool // this history's policy is polMkt
	gpcCovers := func(p consent.Purpose, regime consent.Regime) bool {
		if b := specs[p].Basis; !b.NeedsConsent() && b != consent.BasisLegitimateInterest {
			return false
		}
		for a := p; a != ""; a = a.Parent() {
			if specs[a].SaleOrShare || (specs[a].DirectMarketing && mkt && regime != consent.CPRA) {
				return true
			}
		}
		return false
	}
	rng := rand.New(rand.NewPCG(3, 5))
	iterations := 4000
	if testing.Short() {
		iterations = 500
	}
	for it := 0; it < iterations; it++ {
		regime := consent.Regime(1 + rng.IntN(3))
		p := pol
		if mkt = rng.IntN(2) == 0; mkt {
			p = polMkt
		}
		mem := consent.NewMemoryStore()
		fast, err := consent.NewGate(p, mem, consent.GateConfig{Regime: regime, Rand: consenttest.Rand(uint64(it))})
		require.NoError(t, err)
		slow, err := consent.NewGate(p, opaqueStore{consent.NewMemoryStore()}, consent.GateConfig{Regime: regime, Rand: consenttest.Rand(uint64(it))})
		require.NoError(t, err)
		batched, err := consent.NewGate(p, newBatchStore(), consent.GateConfig{Regime: regime, Rand: consenttest.Rand(uint64(it))})
		require.NoError(t, err)

		// The purposes events are about: any, one family, or one purpose
		// and those above it.
		pool := refusable
		switch rng.IntN(3) {
		case 1:
			pool = families[roots[rng.IntN(len(roots))]]
		case 2:
			pool = nil
			start := refusable[rng.IntN(len(refusable))]
			if rng.IntN(2) == 0 { // often a path three deep
				start = []consent.Purpose{"personalize.history.recent", "sharing.partners.gyms"}[rng.IntN(2)]
			}
			for p := start; p != ""; p = p.Parent() {
				pool = append(pool, p)
			}
		}
		var history []consent.Record
		n := rng.IntN(9)
		ages := make([]time.Duration, n)
		for i := range ages {
			ages[i] = time.Duration(rng.IntN(300*24)) * time.Hour
			if rng.IntN(4) == 0 {
				ages[i] = time.Duration(rng.IntN(3*365*24)) * time.Hour // often expired
			}
		}
		slices.SortFunc(ages, func(a, b time.Duration) int { return cmp.Compare(b, a) }) // a subject's events are in time order
		for i := 0; i < n; i++ {
			p := pool[rng.IntN(len(pool))]
			a := consent.Action(1 + rng.IntN(3))
			if specs[p].Basis == consent.BasisLegitimateInterest && a == consent.Grant && rng.IntN(2) == 0 {
				a = consent.Deny // grants of a legitimate interest (lifting an objection) half as often
			}
			e := ev(a, subj, p, now.Add(-ages[i]))
			e.Actor = consent.Actor(rng.IntN(3))
			e.PolicyVersion = 2
			if rng.IntN(5) == 0 {
				e.PolicyVersion = 1
			}
			// Some grants are confirmed over GPC, where GPC covers the
			// purpose in some regime.
			if a == consent.Grant && rng.IntN(3) == 0 && (gpcCovers(p, consent.GDPR) || gpcCovers(p, consent.CPRA)) {
				e.OverridesGPC = true
			}
			r1, err := fast.Record(ctx, e)
			require.NoError(t, err)
			r2, err := slow.Record(ctx, e)
			require.NoError(t, err)
			require.Equal(t, r1, r2, "both gates chain the same records")
			r3, err := batched.Record(ctx, e)
			require.NoError(t, err)
			require.Equal(t, r1, r3, "all gates chain the same records")
			history = append(history, r1)
		}
		q := pol.Purposes[rng.IntN(len(pol.Purposes))]
		if rng.IntN(4) > 0 {
			q = specs[pool[rng.IntN(len(pool))]]
		}
		sig := consent.Signals{Age: []int{0, 0, 0, 10, 12, 14, 15, 30}[rng.IntN(8)], GPC: rng.IntN(4) == 0}
		// The decision from the records alone, before any signal is recorded.
		base, err := fast.Decide(ctx, subj, q.Purpose, now, consent.Signals{Age: sig.Age})
		require.NoError(t, err)
		d1, err := fast.Decide(ctx, subj, q.Purpose, now, sig)
		require.NoError(t, err)
		d2, err := slow.Decide(ctx, subj, q.Purpose, now, sig)
		require.NoError(t, err)
		require.Equal(t, d1, d2, "iteration %d: fast and generic paths agree", it)
		d3, err := batched.Decide(ctx, subj, q.Purpose, now, sig)
		require.NoError(t, err)
		require.Equal(t, d1, d3, "iteration %d: fast and batched paths agree", it)
		// DecideMany over a few purposes agrees with Decide for each, on
		// every path.
		many := []consent.Purpose{q.Purpose, pool[rng.IntN(len(pool))], pol.Purposes[rng.IntN(len(pol.Purposes))].Purpose}
		for _, g := range []*consent.Gate{fast, slow, batched} {
			ds, err := g.DecideMany(ctx, subj, many, now, sig, nil)
			require.NoError(t, err)
			require.Len(t, ds, len(many))
			for i, p := range many {
				want, err := g.Decide(ctx, subj, p, now, sig)
				require.NoError(t, err)
				require.Equal(t, want, ds[i], "iteration %d: DecideMany and Decide agree on %s", it, p)
			}
		}
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
		if sig.GPC && gpcCovers(q.Purpose, regime) {
			// GPC denies, unless the records allow by a grant confirmed
			// over it; then the signal changes nothing.
			if d.Allowed {
				prevailed++
			}
			switch {
			case d.Allowed && !d.Record.OverridesGPC:
				fail("allowed against a GPC signal")
			case base.Allowed && base.Record.OverridesGPC && d != base:
				fail("a grant confirmed over GPC did not prevail: from the records alone " + base.Explain())
			case !(base.Allowed && base.Record.OverridesGPC) && d.Reason != consent.ReasonGPC:
				fail("GPC covers the purpose, yet the reason is not GPC")
			}
		} else if d != base {
			fail("a signal that does not cover the purpose changed the decision: from the records alone " + base.Explain())
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

		// The decision from the records alone is what the rules of
		// Decide's documentation give, applied here from scratch: the
		// latest record of each purpose on the path, most specific first;
		// a refusal denies unless a usable grant more specific than it,
		// made after every refusal on the path, allows first; with no such
		// grant, the regime's default.
		if want, why := expected(q, history, sig.Age, regime, specs); base.Allowed != want {
			d = base
			fail("from the records alone, expected allowed=" + fmt.Sprint(want) + " (" + why + ")")
		}

		// No allowed decision without a basis.
		minorUnder := func(age int) bool { return sig.Age > 0 && sig.Age < age }
		switch {
		case !d.Allowed:
		case d.Reason == consent.ReasonNotConsent:
			if q.Basis.NeedsConsent() || q.Basis == consent.BasisLegitimateInterest {
				fail("allowed as not resting on consent, but it does")
			}
		case d.Reason == consent.ReasonLegitimateInterest:
			if q.Basis != consent.BasisLegitimateInterest {
				fail("allowed as a legitimate interest, but that is not its basis")
			}
		case d.Reason == consent.ReasonNotOptedOut:
			if regime != consent.CPRA || q.Basis != consent.BasisConsent || minorUnder(16) {
				fail("allowed by an opt-out default where consent is opt-in")
			}
		case d.Reason == consent.ReasonGranted:
			r := d.Record
			if r.Seq == 0 || r.Action != consent.Grant || !q.Basis.NeedsConsent() {
				fail("allowed as granted without a grant on record")
			}
			if q.Basis == consent.BasisExplicitConsent && r.Purpose != q.Purpose {
				fail("explicit consent allowed by another purpose's grant")
			}
			// The shortest lifetime and the latest material change between
			// the purpose and the purpose granted.
			var life time.Duration
			version := 0
			for a := q.Purpose; ; a = a.Parent() {
				if l := specs[a].Lifetime; l > 0 && (life == 0 || l < life) {
					life = l
				}
				version = max(version, specs[a].Version)
				if a == r.Purpose {
					break
				}
			}
			if !now.Before(r.At.Add(life)) || !d.Expires.Equal(r.At.Add(life)) {
				fail("allowed by an expired grant, or the expiry is wrong")
			}
			if r.PolicyVersion < version {
				fail("allowed by a grant older than a material change")
			}
			guardian := map[consent.Regime]int{consent.GDPR: 16, consent.LGPD: 12, consent.CPRA: 13}[regime]
			if minorUnder(guardian) && r.Actor != consent.ActorGuardian {
				fail("a child's own grant allowed where a guardian must consent")
			}
			for _, h := range history[r.Seq:] {
				if onPath(h.Purpose, q.Purpose) && h.Action != consent.Grant {
					fail("a later denial or withdrawal on the path was ignored")
				}
			}
		default:
			fail("allowed for a reason that does not allow")
		}
		optIn := regime != consent.CPRA || q.Basis == consent.BasisExplicitConsent || minorUnder(16)
		if d.Allowed && q.Basis.NeedsConsent() && optIn && d.Reason != consent.ReasonGranted {
			fail("opt-in purpose allowed without a grant")
		}
		if !d.Allowed && d.Record.Seq != 0 && d.Record.Action == consent.Grant {
			switch d.Reason {
			case consent.ReasonExpired, consent.ReasonReconsent, consent.ReasonMinor:
			default:
				fail("a denial resting on a grant must say why the grant does not hold")
			}
		}

		// A GPC signal, once seen on any request, opts out of everything it
		// covers on later requests that do not carry it.
		if sig.GPC {
			var covered []consent.Purpose
			for _, s := range pol.Purposes {
				if gpcCovers(s.Purpose, regime) {
					covered = append(covered, s.Purpose)
				}
			}
			p := covered[rng.IntN(len(covered))]
			for _, g := range []*consent.Gate{fast, slow} {
				later, err := g.Decide(ctx, subj, p, now.Add(time.Minute), consent.Signals{Age: sig.Age})
				require.NoError(t, err)
				// A purpose above a grant confirmed over GPC is left to the
				// signal: a denial of it would end that grant.
				shielded := false
				for _, x := range covered {
					if x != p && p.Covers(x) {
						dx, err := g.Decide(ctx, subj, x, now.Add(time.Minute), consent.Signals{Age: sig.Age})
						require.NoError(t, err)
						shielded = shielded || (dx.Allowed && dx.Record.OverridesGPC)
					}
				}
				if later.Allowed && !later.Record.OverridesGPC && !shielded {
					fail("GPC was seen (deciding " + string(q.Purpose) + "), yet " + later.Explain() + " later without it")
				}
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
	}{consenttest.SubjectGPC, consent.PurposeSharingPartners, consent.Signals{GPC: true}}, struct {
		subject string
		p       consent.Purpose
		sig     consent.Signals
	}{consenttest.SubjectGPC, consent.PurposePersonalizeHistory, consent.Signals{GPC: true}})
	for _, c := range cases {
		allocs := testing.AllocsPerRun(200, func() {
			if _, err := g.Decide(ctx, c.subject, c.p, now, c.sig); err != nil {
				t.Fatal(err)
			}
		})
		require.Zero(t, allocs, "Decide(%s, %s) allocates", c.subject, c.p)
	}
}

// expected decides q from history as Decide's documentation says, without
// signals but the age: whether it is allowed, and why, in words.
func expected(q consent.PurposeSpec, history []consent.Record, age int, regime consent.Regime, specs map[consent.Purpose]consent.PurposeSpec) (bool, string) {
	switch q.Basis {
	case consent.BasisContract, consent.BasisLegalObligation, consent.BasisVitalInterest, consent.BasisPublicTask:
		return true, "not consent"
	}
	var path []consent.Purpose // most specific first
	for p := q.Purpose; p != ""; p = p.Parent() {
		path = append(path, p)
	}
	latest := map[consent.Purpose]consent.Record{}
	var refusedMax uint64
	for _, r := range history {
		if r.Purpose.Covers(q.Purpose) {
			latest[r.Purpose] = r
			if r.Action != consent.Grant {
				refusedMax = max(refusedMax, r.Seq)
			}
		}
	}
	guardianAge := map[consent.Regime]int{consent.GDPR: 16, consent.LGPD: 12, consent.CPRA: 13}[regime]
	var life time.Duration
	version := 0
	for i, p := range path {
		if l := specs[p].Lifetime; l > 0 && (life == 0 || l < life) {
			life = l
		}
		version = max(version, specs[p].Version)
		r, ok := latest[p]
		switch {
		case !ok:
			continue
		case r.Action != consent.Grant:
			return false, "the latest record of " + string(p) + " refuses"
		case q.Basis == consent.BasisExplicitConsent && i > 0:
			continue
		case q.Basis == consent.BasisLegitimateInterest:
			if i == 0 && r.Seq > refusedMax {
				return true, "objections lifted by record " + fmt.Sprint(r.Seq)
			}
			continue
		case r.Seq < refusedMax,
			age > 0 && age < guardianAge && r.Actor != consent.ActorGuardian,
			r.PolicyVersion < version,
			life > 0 && !now.Before(r.At.Add(life)):
			continue
		}
		return true, "granted by record " + fmt.Sprint(r.Seq)
	}
	switch {
	case q.Basis == consent.BasisLegitimateInterest:
		return true, "legitimate interest"
	case regime != consent.CPRA || q.Basis == consent.BasisExplicitConsent || (age > 0 && age < 16):
		return false, "opt-in, no usable grant"
	}
	return true, "opt-out, not opted out"
}
