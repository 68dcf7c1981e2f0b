package consent

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// GateConfig holds a Gate's optional settings. The zero value is valid: GDPR
// rules and no logging.
type GateConfig struct {
	// Regime is the regime applied when a request does not name one in
	// [Signals].Regime. RegimeDefault (the zero value) means [GDPR], the
	// strictest.
	Regime Regime
	// Logger receives audit events (see the package documentation, section
	// Audit). Nil means no logging.
	Logger *slog.Logger
	// LogDecisions makes the Gate log every decision as a "consent.decision"
	// event. It is off by default because Decide runs on every request;
	// changes, erasures and imports are always logged when Logger is set.
	LogDecisions bool
	// Rand is the source of the random salt in each record (see [Record]).
	// Nil means crypto/rand, which is what production should use; tests
	// and examples may pass a fixed stream to get the same hashes on every
	// run.
	Rand io.Reader
}

// Gate decides whether a subject's data may be used for a purpose, records
// the choices people make, and keeps the ledger that proves both.
//
// Make a Gate with [NewGate]; a Gate that was not made by NewGate returns
// [ErrUninitialized] from every method. A Gate is safe for concurrent use by
// multiple goroutines: decisions run in parallel and see every record whose
// Record call has returned; records are appended one batch at a time.
type Gate struct {
	policy atomic.Pointer[compiledPolicy]
	store  Store
	mem    *MemoryStore   // store, when it is a *MemoryStore: the fast path
	batch  StandingReader // store, when it implements StandingReader
	regime Regime
	logger *slog.Logger
	logDec bool
	rand   io.Reader // nil: crypto/rand

	mu        sync.Mutex // serializes appends and erasures; guards head
	head      Checkpoint // the end of the ledger, as far as this Gate knows
	headKnown bool
	scratch   []Record // reused for appends; cleared after each, so it holds no one's data
}

// compiledPolicy is a validated policy indexed for decisions.
type compiledPolicy struct {
	src      *Policy
	version  int
	purposes map[Purpose]*compiledPurpose
	// floor is the highest Version each purpose has had in any policy this
	// Gate has had in force, dropped purposes included: a purpose may never
	// come back below it.
	floor map[Purpose]int
	// gpc lists, per regime, the purposes a GPC signal opts out of (those
	// marked, and their descendants), parents first.
	gpc [CPRA + 1][]*compiledPurpose
}

type compiledPurpose struct {
	spec PurposeSpec
	// path is the purpose then its ancestors up to the top-level key, as the
	// policy spells them.
	path []Purpose
	// version[i] is the highest Version along path[0..i]: a grant of path[i]
	// made under an older policy version needs re-consent.
	version []int
	// lifetime[i] is the shortest consent Lifetime along path[0..i] (zero:
	// none): how long a grant of path[i] allows this purpose.
	lifetime []time.Duration
	// related lists the purposes whose records must be in time order with
	// this one's: itself, its ancestors and its descendants.
	related  []Purpose
	explicit bool           // explicit consent: only a grant of the purpose itself allows
	gpc      [CPRA + 1]bool // a GPC signal opts out of it, per regime
}

func compile(p *Policy) (*compiledPolicy, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	src := p.Clone()
	cp := &compiledPolicy{src: src, version: src.Version, purposes: make(map[Purpose]*compiledPurpose, len(src.Purposes)),
		floor: make(map[Purpose]int, len(src.Purposes))}
	for _, s := range src.Purposes {
		cp.purposes[s.Purpose] = &compiledPurpose{spec: s}
		cp.floor[s.Purpose] = s.Version
	}
	for _, c := range cp.purposes {
		for _, s := range src.Purposes {
			if related(s.Purpose, c.spec.Purpose) {
				c.related = append(c.related, s.Purpose)
			}
		}
	}
	for _, c := range cp.purposes {
		for q := c.spec.Purpose; q != ""; q = q.Parent() {
			a := cp.purposes[q]
			c.path = append(c.path, a.spec.Purpose)
			v, life := a.spec.Version, a.spec.Lifetime
			if n := len(c.version); n > 0 {
				v = max(v, c.version[n-1])
				if prev := c.lifetime[n-1]; prev > 0 && (life == 0 || prev < life) {
					life = prev
				}
			}
			c.version = append(c.version, v)
			c.lifetime = append(c.lifetime, life)
		}
		c.explicit = c.spec.Basis == BasisExplicitConsent
		for r := GDPR; r <= CPRA; r++ {
			c.gpc[r] = src.GPCCovers(c.spec.Purpose, r)
		}
	}
	for r := GDPR; r <= CPRA; r++ {
		for _, s := range src.Purposes {
			if c := cp.purposes[s.Purpose]; c.gpc[r] {
				cp.gpc[r] = append(cp.gpc[r], c)
			}
		}
		sort.SliceStable(cp.gpc[r], func(i, j int) bool { return len(cp.gpc[r][i].path) < len(cp.gpc[r][j].path) })
	}
	return cp, nil
}

// NewGate returns a Gate that applies policy p to the records in s. It
// validates p and keeps a copy. Errors: [ErrNilStore], and a [*PolicyError]
// ([ErrInvalidPolicy]) for a policy that is not valid or an unknown
// [GateConfig].Regime.
func NewGate(p *Policy, s Store, cfg GateConfig) (*Gate, error) {
	if s == nil {
		return nil, ErrNilStore
	}
	if cfg.Regime == RegimeDefault {
		cfg.Regime = GDPR
	}
	if !cfg.Regime.valid() {
		return nil, &PolicyError{Field: "regime", Why: "unknown regime"}
	}
	cp, err := compile(p)
	if err != nil {
		return nil, err
	}
	g := &Gate{store: s, regime: cfg.Regime, logger: cfg.Logger, logDec: cfg.LogDecisions && cfg.Logger != nil, rand: cfg.Rand}
	g.mem, _ = s.(*MemoryStore)
	g.batch, _ = s.(StandingReader)
	g.policy.Store(cp)
	return g, nil
}

// SetPolicy replaces the Gate's policy with a validated copy of p, for
// decisions that start after it returns. Grants made under older versions
// keep allowing the purposes whose [PurposeSpec].Version did not move past
// them. The error is a [*PolicyError] if p is not valid, or if it goes back
// on a policy this Gate has had in force ([ErrPolicyDowngrade]): a lower
// Version, or a purpose whose Version is lower than it has ever been, even
// if the purpose was dropped in between (that would revive grants its
// material change had ended); or a different policy under the same Version
// (receipts cite it). Setting the policy in force again is a no-op.
//
// The Gate remembers the versions it has seen for its lifetime. A new Gate
// knows only the policy it is made with: a host that drops a purpose and
// later brings it back gives it a Version no lower than it ever had.
func (g *Gate) SetPolicy(p *Policy) error {
	cp, err := compile(p)
	for {
		cur := g.policy.Load()
		if cur == nil {
			return ErrUninitialized
		}
		if err != nil {
			return err
		}
		if err := cp.follows(cur); err != nil {
			return err
		}
		next := *cp
		next.floor = maps.Clone(cur.floor)
		for p, v := range cp.floor {
			next.floor[p] = max(next.floor[p], v)
		}
		if g.policy.CompareAndSwap(cur, &next) {
			return nil
		}
	}
}

// follows reports whether cp may replace the policy in force, cur.
func (cp *compiledPolicy) follows(cur *compiledPolicy) error {
	switch {
	case cp.version < cur.version:
		return &PolicyError{Field: "version", Why: "lower than the version in force (" + strconv.Itoa(cur.version) + ")", Err: ErrPolicyDowngrade}
	case cp.version == cur.version:
		a, errA := json.Marshal(cp.src)
		b, errB := json.Marshal(cur.src)
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			return &PolicyError{Field: "version", Why: "the policy changed but its version did not"}
		}
	}
	for _, s := range cp.src.Purposes {
		if floor, ok := cur.floor[s.Purpose]; ok && s.Version < floor {
			return &PolicyError{Purpose: s.Purpose, Field: "version", Err: ErrPolicyDowngrade,
				Why: "lower than it has been in force (" + strconv.Itoa(floor) + "), even if dropped since: a material change cannot be taken back"}
		}
	}
	return nil
}

// Policy returns a copy of the policy in force.
func (g *Gate) Policy() *Policy {
	cp := g.policy.Load()
	if cp == nil {
		return nil
	}
	return cp.src.Clone()
}

// Decide decides whether subject's data may be used for purpose at time at,
// given the request's signals. The Decision says whether, on what basis and
// why, and carries the record it rests on.
//
// The rules, in order:
//
//  1. A purpose whose basis is contract, legal obligation, vital interest or
//     public task is allowed without consent ([ReasonNotConsent]).
//  2. A Global Privacy Control signal denies the purposes it covers in the
//     regime ([ReasonGPC]; see [Regime]) and, the first time it is seen
//     (whatever the purpose asked about), is recorded as denials (Source
//     [SourceGPC], channel web, evidence "Sec-GPC: 1") of every purpose it
//     covers that is not refused already, so that its later absence is not
//     an opt-in. That is the only case in which Decide writes. The one
//     exception: a grant the person made after being told of the conflict
//     ([Event].OverridesGPC) allows its purpose and those under it despite
//     the signal, as long as rule 3 says it allows; the signal records no
//     denial over it. A grant made without that confirmation does not
//     prevail: the next request with the signal denies and records a
//     denial again.
//  3. The subject's latest record for the purpose and for each of its
//     ancestors decide, most specific first: a denial or withdrawal of the
//     purpose or of an ancestor denies, and beats any grant of an ancestor;
//     a grant allows, unless the purpose or an ancestor was denied or
//     withdrawn after it (even if granted again since: then that later
//     grant is the one that may allow), the grant has outlived the shortest
//     consent lifetime on the way ([ReasonExpired]), it was made under a
//     policy version older than a material change on the way
//     ([ReasonReconsent]), or the person is a child and the grant was not
//     made by a guardian ([ReasonMinor]). An explicit-consent purpose is
//     allowed only by a grant of that purpose itself.
//  4. With nothing decisive on record, the regime decides: consent is
//     opt-in under GDPR and LGPD, and for sensitive purposes and under-16s
//     under CPRA ([ReasonNoConsent], [ReasonMinor], or why an earlier grant
//     no longer holds); otherwise allowed until the person opts out
//     ([ReasonNotOptedOut]). Legitimate-interest purposes are allowed until
//     the person objects ([ReasonLegitimateInterest], [ReasonObjected]),
//     and again once they lift their objection with a grant of the
//     purpose itself, made after it (the decision then cites that grant).
//
// Decide answers from the records on file when it runs; at is the time of
// the decision, against which consent lifetimes are measured, and Decide
// never reads a clock. Errors: [ErrUnknownPurpose] for a purpose the policy
// does not declare (never an allow), [ErrMalformedKey] for a malformed one,
// [ErrEmptySubject], an [*EventError] for a subject id longer than
// [MaxSubjectLen], [ErrZeroTime], [ErrInvalidSignals], the errors of
// [Gate.Record] when it records a GPC signal, and the store's errors. With a
// [MemoryStore], Decide does not allocate unless it records a GPC signal or
// logs.
func (g *Gate) Decide(ctx context.Context, subject string, purpose Purpose, at time.Time, sig Signals) (Decision, error) {
	pol := g.policy.Load()
	if pol == nil {
		return Decision{}, ErrUninitialized
	}
	cp := pol.purposes[purpose]
	if cp == nil {
		return Decision{}, badPurpose(purpose)
	}
	if err := checkRequest(subject, at, sig); err != nil {
		return Decision{}, err
	}
	regime := sig.Regime
	if regime == RegimeDefault {
		regime = g.regime
	}
	if sig.GPC {
		// Whatever the purpose asked about: the signal is the person's
		// opt-out, and must outlast the request that carried it.
		if err := g.recordGPC(ctx, pol, subject, at, regime); err != nil {
			return Decision{}, err
		}
	}
	d := Decision{Subject: subject, Purpose: purpose, At: at, Basis: cp.spec.Basis, PolicyVersion: pol.version, Regime: regime}
	if err := g.decide(ctx, cp, &d, sig); err != nil {
		return Decision{}, err
	}
	if g.logDec {
		g.logDecision(ctx, &d)
	}
	return d, nil
}

// DecideMany decides several purposes for one subject at one time and with
// one set of signals, as [Gate.Decide] would for each, and appends the
// decisions to dst in the order of purposes. With a [StandingReader] store
// it reads the store once for all the purposes and their ancestors: one
// round trip to a database per request instead of one per purpose. A
// caller that needs several purposes (a recommender reading several
// sources) should use it. Errors are those of Decide, for the first purpose
// that has one; then dst is returned unchanged.
func (g *Gate) DecideMany(ctx context.Context, subject string, purposes []Purpose, at time.Time, sig Signals, dst []Decision) ([]Decision, error) {
	pol := g.policy.Load()
	if pol == nil {
		return dst, ErrUninitialized
	}
	n := len(dst)
	for _, p := range purposes {
		cp := pol.purposes[p]
		if cp == nil {
			return dst, badPurpose(p)
		}
		if err := checkRequest(subject, at, sig); err != nil {
			return dst, err
		}
	}
	regime := sig.Regime
	if regime == RegimeDefault {
		regime = g.regime
	}
	if sig.GPC {
		if err := g.recordGPC(ctx, pol, subject, at, regime); err != nil {
			return dst, err
		}
	}
	for _, p := range purposes {
		cp := pol.purposes[p]
		dst = append(dst, Decision{Subject: subject, Purpose: p, At: at, Basis: cp.spec.Basis, PolicyVersion: pol.version, Regime: regime})
	}
	ds := dst[n:]
	if err := g.decideMany(ctx, pol, ds, sig); err != nil {
		return dst[:n], err
	}
	if g.logDec {
		for i := range ds {
			g.logDecision(ctx, &ds[i])
		}
	}
	return dst, nil
}

// decideMany is decide for each of ds, reading a StandingReader store once.
func (g *Gate) decideMany(ctx context.Context, pol *compiledPolicy, ds []Decision, sig Signals) error {
	if g.batch == nil || g.mem != nil || len(ds) < 2 {
		for i := range ds {
			if err := g.decide(ctx, pol.purposes[ds[i].Purpose], &ds[i], sig); err != nil {
				return err
			}
		}
		return nil
	}
	// The purposes on all the paths, each once.
	var buf [4 * MaxKeyDepth]Purpose
	all := buf[:0]
	for i := range ds {
		for _, p := range pol.purposes[ds[i].Purpose].path {
			if !slices.Contains(all, p) {
				all = append(all, p)
			}
		}
	}
	st := make([]Standing, len(all))
	if err := g.batch.Standings(ctx, ds[0].Subject, all, st); err != nil {
		return err
	}
	var path [MaxKeyDepth]Standing
	for i := range ds {
		cp := pol.purposes[ds[i].Purpose]
		if !cp.spec.Basis.NeedsConsent() && cp.spec.Basis != BasisLegitimateInterest {
			ds[i].Allowed, ds[i].Reason = true, ReasonNotConsent
			continue
		}
		for j, p := range cp.path {
			path[j] = st[slices.Index(all, p)]
		}
		evaluateStandings(cp, path[:len(cp.path)], &ds[i], sig.Age)
		if sig.GPC && cp.gpc[ds[i].Regime] {
			vetoGPC(&ds[i])
		}
	}
	return nil
}

// checkRequest checks Decide's arguments but the purpose.
func checkRequest(subject string, at time.Time, sig Signals) error {
	switch {
	case subject == "":
		return ErrEmptySubject
	case len(subject) > MaxSubjectLen:
		return &EventError{Field: "subject", Why: "longer than the longest subject id"}
	case at.IsZero():
		return ErrZeroTime
	case sig.Age < 0 || !sig.Regime.valid():
		return ErrInvalidSignals
	}
	return nil
}

// decide is Decide after its argument checks and the recording of a GPC
// signal: rules 1 to 4. d has everything but the verdict set; decide sets
// the verdict, reason, record and expiry.
func (g *Gate) decide(ctx context.Context, cp *compiledPurpose, d *Decision, sig Signals) error {
	if !cp.spec.Basis.NeedsConsent() && cp.spec.Basis != BasisLegitimateInterest {
		d.Allowed, d.Reason = true, ReasonNotConsent
		return nil
	}
	if g.mem != nil {
		g.mem.decide(d.Subject, cp, d, sig.Age)
	} else if err := g.decideGeneric(ctx, cp, d, sig.Age); err != nil {
		return err
	}
	if sig.GPC && cp.gpc[d.Regime] {
		vetoGPC(d)
	}
	return nil
}

// vetoGPC applies rule 2 of Decide to a decision made from the records: a
// GPC signal denies, unless the decision rests on a grant the person
// confirmed over it.
func vetoGPC(d *Decision) {
	if d.Allowed && d.Record.OverridesGPC {
		return
	}
	d.Allowed, d.Reason, d.Record, d.Expires = false, ReasonGPC, Record{}, time.Time{}
}

// decideAll returns the decisions for every purpose of pol, in policy
// order, under the Gate's regime and no signals, for Access and Receipt.
// They are not logged: they show a person their choices, they do not use
// data.
func (g *Gate) decideAll(ctx context.Context, pol *compiledPolicy, subject string, at time.Time) ([]Decision, error) {
	ds := make([]Decision, len(pol.src.Purposes))
	for i, s := range pol.src.Purposes {
		cp := pol.purposes[s.Purpose]
		ds[i] = Decision{Subject: subject, Purpose: s.Purpose, At: at, Basis: s.Basis, PolicyVersion: pol.version, Regime: g.regime}
		if err := g.decide(ctx, cp, &ds[i], Signals{}); err != nil {
			return nil, err
		}
	}
	return ds, nil
}

// forSubject checks the arguments of a call about one subject and returns
// the policy in force.
func (g *Gate) forSubject(subject string, at time.Time) (*compiledPolicy, error) {
	pol := g.policy.Load()
	if pol == nil {
		return nil, ErrUninitialized
	}
	if err := checkSubject(subject); err != nil {
		return nil, err
	}
	if at.IsZero() {
		return nil, ErrZeroTime
	}
	return pol, nil
}

func badPurpose(p Purpose) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return unknownPurpose(p)
}

// decideGeneric is Decide's lookup through the Store interface. The latest
// record per purpose hides a refusal that a later grant of the same purpose
// replaced; that refusal matters only if it came after a grant of another
// purpose on the path, so when two or more of the latest records are grants
// it scans the subject's records after the oldest of them for a refusal on
// the path.
func (g *Gate) decideGeneric(ctx context.Context, cp *compiledPurpose, d *Decision, age int) error {
	if g.batch != nil {
		st := standingsPool.Get().(*[MaxKeyDepth]Standing)
		defer standingsPool.Put(st)
		if err := g.batch.Standings(ctx, d.Subject, cp.path, st[:len(cp.path)]); err != nil {
			return err
		}
		evaluateStandings(cp, st[:len(cp.path)], d, age)
		clear(st[:len(cp.path)]) // hold no one's records while pooled
		return nil
	}
	var buf [MaxKeyDepth]Record
	var recs [MaxKeyDepth]*Record
	var refused uint64
	grants, oldest := 0, uint64(0)
	for i, p := range cp.path {
		r, ok, err := g.store.Latest(ctx, d.Subject, p)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		buf[i] = r
		recs[i] = &buf[i]
		if r.Action.refuses() {
			refused = max(refused, r.Seq)
			continue
		}
		grants++
		if grants == 1 || r.Seq < oldest {
			oldest = r.Seq
		}
	}
	if grants > 1 {
		r, err := g.lastRefusal(ctx, d.Subject, d.Purpose, oldest)
		if err != nil {
			return err
		}
		refused = max(refused, r)
	}
	evaluate(cp, recs[:len(cp.path)], refused, d, age)
	return nil
}

// standingsPool holds the buffers decideGeneric hands a StandingReader:
// through the interface they would escape, one allocation per decision.
var standingsPool = sync.Pool{New: func() any { return new([MaxKeyDepth]Standing) }}

// evaluateStandings is evaluate over the standings of cp's path.
func evaluateStandings(cp *compiledPurpose, st []Standing, d *Decision, age int) {
	var recs [MaxKeyDepth]*Record
	var refused uint64
	for i := range st {
		if st[i].Record.Seq != 0 {
			recs[i] = &st[i].Record
		}
		refused = max(refused, st[i].Refused)
	}
	evaluate(cp, recs[:len(st)], refused, d, age)
}

// lastRefusal returns the Seq of the subject's latest denial or withdrawal
// of purpose or a purpose above it, among the records after seq after; 0 if
// there is none.
func (g *Gate) lastRefusal(ctx context.Context, subject string, purpose Purpose, after uint64) (uint64, error) {
	var last uint64
	err := g.store.Scan(ctx, subject, after, func(r Record) error {
		if r.Action.refuses() && r.Purpose.Covers(purpose) {
			last = r.Seq
		}
		return nil
	})
	return last, err
}

// evaluate applies rules 3 and 4 of Decide to the latest records along the
// purpose's path (nil where there is none). refused is the Seq of the latest
// denial or withdrawal of any purpose on the path, whether or not a later
// record of its purpose replaced it (0 if none): a grant older than it no
// longer counts. d has Subject, Purpose, At and Regime set; evaluate sets
// the verdict, reason, record and expiry.
func evaluate(cp *compiledPurpose, recs []*Record, refused uint64, d *Decision, age int) {
	regime := d.Regime
	minor := age > 0 && age < regime.guardianAge()
	var stale *Record // the most specific grant that no longer holds
	var staleWhy Reason
	for i, r := range recs {
		switch {
		case r == nil:
			continue
		case r.Action.refuses():
			d.Reason = refusal(r, cp.spec.Basis)
			d.Record = *r
			return
		case r.Action != Grant || (cp.explicit && i > 0):
			continue // an explicit consent rests only on its own grant
		case cp.spec.Basis == BasisLegitimateInterest:
			// A legitimate interest rests on no grant; a grant of the
			// purpose itself lifts the person's objections to it, those
			// on the path made before it: cite it.
			if i == 0 && r.Seq > refused {
				d.Allowed, d.Reason, d.Record = true, ReasonLegitimateInterest, *r
				return
			}
			continue
		case r.Seq < refused:
			// Refused since: this grant no longer counts. A refusal that is
			// still the latest record of a purpose above comes later in
			// the loop and denies, unless a grant in between, made after
			// it, allows first (the later grant is the one that may allow).
			continue
		}
		why := ReasonGranted
		var expires time.Time
		if life := cp.lifetime[i]; life > 0 {
			expires = r.At.Add(life)
		}
		switch {
		case minor && r.Actor != ActorGuardian:
			why = ReasonMinor
		case r.PolicyVersion < cp.version[i]:
			why = ReasonReconsent
		case !expires.IsZero() && !d.At.Before(expires):
			why = ReasonExpired
		}
		if why == ReasonGranted {
			d.Allowed, d.Reason, d.Record, d.Expires = true, ReasonGranted, *r, expires
			return
		}
		if stale == nil {
			stale, staleWhy = r, why
		}
	}
	switch {
	case cp.spec.Basis == BasisLegitimateInterest:
		d.Allowed, d.Reason = true, ReasonLegitimateInterest
		return
	case regime.optIn() || cp.explicit:
	case age > 0 && age < regime.minorOptInAge():
		minor = true
	default:
		d.Allowed, d.Reason = true, ReasonNotOptedOut
		return
	}
	switch {
	case stale != nil:
		d.Reason, d.Record = staleWhy, *stale
	case minor && !regime.optIn():
		d.Reason = ReasonMinor
	default:
		d.Reason = ReasonNoConsent
	}
}

// refusal returns the reason a refusing record gives.
func refusal(r *Record, b Basis) Reason {
	switch {
	case r.Source == SourceGPC:
		return ReasonGPC
	case b == BasisLegitimateInterest:
		return ReasonObjected
	case r.Action == Withdraw:
		return ReasonWithdrawn
	default:
		return ReasonDenied
	}
}

// recordGPC records, once, the opt-outs a GPC signal means in the regime:
// a denial of each covered purpose the subject has not already refused.
// When all of them are refused already, as on every request after the
// first, it takes no lock and does not allocate.
func (g *Gate) recordGPC(ctx context.Context, pol *compiledPolicy, subject string, at time.Time, regime Regime) error {
	for _, c := range pol.gpc[regime] {
		settled, err := g.settledOnRecord(ctx, pol, c, subject, at, regime)
		if err != nil {
			return err
		}
		if !settled {
			g.mu.Lock()
			recs, err := g.recordGPCLocked(ctx, pol, subject, at, regime)
			g.mu.Unlock()
			for i := range recs {
				g.logChange(ctx, &recs[i])
			}
			return err
		}
	}
	return nil
}

// recordGPCLocked appends the GPC denials still missing, parents first (a
// parent's denial covers its children), and returns them. g.mu must be
// held.
func (g *Gate) recordGPCLocked(ctx context.Context, pol *compiledPolicy, subject string, at time.Time, regime Regime) ([]Record, error) {
	var recs []Record
	for _, c := range pol.gpc[regime] {
		settled, err := g.settledOnRecord(ctx, pol, c, subject, at, regime)
		if err != nil {
			return recs, err
		}
		if settled {
			continue
		}
		ev := Event{Action: Deny, Subject: subject, Purpose: c.spec.Purpose, At: at.Round(0).UTC(),
			Channel: ChannelWeb, PolicyVersion: pol.version, Source: SourceGPC, Evidence: "Sec-GPC: 1"}
		if err := ev.validate(); err != nil {
			return recs, err
		}
		rs, err := g.appendLocked(ctx, pol, []Event{ev}, true)
		if err != nil {
			return recs, err
		}
		recs = append(recs, rs...)
	}
	return recs, nil
}

// settledOnRecord reports whether the subject's records already say what
// a GPC signal means for purpose c: they deny it, or a grant confirmed
// over GPC allows it or a purpose under it (a denial of c would end that
// grant: the purposes under c are then denied one by one instead, and c
// itself is left to the signal).
func (g *Gate) settledOnRecord(ctx context.Context, pol *compiledPolicy, c *compiledPurpose, subject string, at time.Time, regime Regime) (bool, error) {
	for _, x := range pol.gpc[regime] {
		if x != c && !c.spec.Purpose.Covers(x.spec.Purpose) {
			continue
		}
		d := Decision{Subject: subject, Purpose: x.spec.Purpose, At: at, Regime: regime}
		if g.mem != nil {
			g.mem.decide(subject, x, &d, 0)
		} else if err := g.decideGeneric(ctx, x, &d, 0); err != nil {
			return false, err
		}
		switch {
		case d.Allowed && d.Record.OverridesGPC:
			return true, nil
		case x == c && d.Record.Seq != 0 && d.Record.Action.refuses():
			return true, nil
		}
	}
	return false, nil
}

// Record checks ev against the policy and appends it to the ledger. A grant,
// a denial and a withdrawal are all recorded this way. Once Record returns,
// every decision that starts afterwards, on any goroutine, sees the event.
//
// The ledger's order is the order of events in time, and decides: an event
// may not be dated before the subject's latest record about the same
// purpose, a purpose that covers it or one it covers. So a grant cannot be
// backdated to before a withdrawal and override it; such an event is
// refused with [ErrOutOfOrder]. (The denials a GPC signal records and the
// withdrawals of an erasure are made by the Gate and are dated no earlier
// than that latest record instead.)
//
// Record fills in PolicyVersion (the current version) when it is zero and
// stores At in UTC. Errors are [*EventError]s that unwrap to
// [ErrInvalidEvent] and the cause: [ErrEmptySubject], [ErrZeroTime],
// [ErrMalformedKey], [ErrUnknownPurpose], [ErrNotConsentBasis] (an event
// for a purpose that does not rest on consent; legitimate-interest
// purposes accept denials and withdrawals, as objections, and grants,
// which lift them),
// [ErrUnknownVersion] (a policy version newer than the policy in force),
// [ErrOutOfOrder]. If the store's ledger ends before, or differs at, the
// last record this Gate appended (records were cut off or rewritten behind
// its back), Record appends nothing and returns a [*ChainError] (unwrapping
// to [ErrTampered]). If other writers sharing the store keep appending
// first, Record tries again, up to 100 times in all, and then returns the
// store's [*ConflictError] ([ErrConflict]); nothing was recorded, and the
// call can be repeated. Other store errors, and those of [GateConfig].Rand,
// are returned as they are. On any error, nothing was recorded.
func (g *Gate) Record(ctx context.Context, ev Event) (Record, error) {
	pol := g.policy.Load()
	if pol == nil {
		return Record{}, ErrUninitialized
	}
	if err := pol.check(&ev); err != nil {
		return Record{}, err
	}
	var out [1]Record
	g.mu.Lock()
	err := g.appendInto(ctx, pol, []Event{ev}, out[:], false)
	g.mu.Unlock()
	rec := out[0]
	if err != nil {
		return Record{}, err
	}
	g.logChange(ctx, &rec)
	return rec, nil
}

// RecordMany records several events at once, all or none: the choices of
// one form (a preference centre saved in one go, "turn everything off").
// Each event is checked as [Gate.Record] checks it, and against the events
// before it in evs; if any is refused, or the store fails, nothing is
// recorded and the error is the first event's error, wrapped in a
// [*BatchError] that names its index. The records are returned in the
// order of evs. An empty evs records nothing and returns no error.
func (g *Gate) RecordMany(ctx context.Context, evs []Event) ([]Record, error) {
	pol := g.policy.Load()
	if pol == nil {
		return nil, ErrUninitialized
	}
	if len(evs) == 0 {
		return nil, nil
	}
	evs = slices.Clone(evs)
	for i := range evs {
		if err := pol.check(&evs[i]); err != nil {
			return nil, &BatchError{Index: i, Err: err}
		}
	}
	g.mu.Lock()
	recs, err := g.appendLocked(ctx, pol, evs, false)
	g.mu.Unlock()
	if err != nil {
		return nil, err
	}
	for i := range recs {
		g.logChange(ctx, &recs[i])
	}
	return recs, nil
}

// BatchError is the error of [Gate.RecordMany] about one of its events:
// nothing was recorded. It unwraps to the event's error.
type BatchError struct {
	Index int // the event's index in the batch
	Err   error
}

func (e *BatchError) Error() string { return "event " + strconv.Itoa(e.Index) + ": " + e.Err.Error() }

// Unwrap returns the event's error.
func (e *BatchError) Unwrap() error { return e.Err }

// check validates ev against the policy and normalizes it.
func (pol *compiledPolicy) check(ev *Event) error {
	if err := ev.validate(); err != nil {
		return err
	}
	if ev.Source == SourceErasure {
		return &EventError{Field: "source", Why: "erasure withdrawals are recorded by Gate.Erase"}
	}
	cp := pol.purposes[ev.Purpose]
	if cp == nil {
		return &EventError{Field: "purpose", Why: "not declared in the policy", Err: unknownPurpose(ev.Purpose)}
	}
	switch b := cp.spec.Basis; {
	case b.NeedsConsent():
	case b == BasisLegitimateInterest: // a denial or withdrawal objects; a grant lifts an objection
	default:
		return &EventError{Field: "purpose", Why: "basis is " + b.String(), Err: ErrNotConsentBasis}
	}
	if ev.OverridesGPC && !slices.Contains(cp.gpc[:], true) {
		return &EventError{Field: "overrides_gpc", Why: "Global Privacy Control does not cover " + string(ev.Purpose) + " in any regime: there is nothing to override"}
	}
	switch {
	case ev.PolicyVersion == 0:
		ev.PolicyVersion = pol.version
	case ev.PolicyVersion > pol.version:
		return &EventError{Field: "policy_version", Why: "newer than the policy in force (" + strconv.Itoa(pol.version) + ")", Err: ErrUnknownVersion}
	}
	ev.Purpose = cp.spec.Purpose
	ev.At = ev.At.Round(0).UTC()
	return nil
}

// maxAppendTries bounds the tries to append when other writers keep
// appending to the same store first. Each lost try means another writer's
// records were stored, so the ledger makes progress; a Gate that loses this
// many times in a row gives up with the store's *ConflictError.
const maxAppendTries = 100

// appendLocked chains evs after the ledger's last record, appends them and
// returns them in a fresh slice. g.mu must be held.
func (g *Gate) appendLocked(ctx context.Context, pol *compiledPolicy, evs []Event, clamp bool) ([]Record, error) {
	out := make([]Record, len(evs))
	if err := g.appendInto(ctx, pol, evs, out, clamp); err != nil {
		return nil, err
	}
	return out, nil
}

// appendInto is appendLocked writing the records into out, which must have
// len(evs) elements. Each event is linked to its subject's last record and
// checked for time order against the subject's records of related purposes
// (with clamp, an event dated too early is recorded at the earliest time
// allowed instead: for the records the Gate makes itself). Both depend on
// what the store holds, so they are redone on every try: any append by
// another writer in between makes the store refuse this one. Only a stored
// batch moves the Gate's head. The records it hands to the store live in a
// buffer the Gate reuses and clears, so that appending allocates nothing of
// its own and keeps nothing afterwards. g.mu must be held.
func (g *Gate) appendInto(ctx context.Context, pol *compiledPolicy, evs []Event, out []Record, clamp bool) error {
	if cap(g.scratch) < len(evs) {
		g.scratch = make([]Record, len(evs))
	}
	recs := g.scratch[:len(evs)]
	defer clear(recs)
	for try := 1; ; try++ {
		if err := g.chainAll(ctx, pol, evs, recs, clamp); err != nil {
			return err
		}
		err := g.store.Append(ctx, recs)
		if err == nil {
			break
		}
		var ce *ConflictError // declared here: errors.As moves it to the heap
		if !errors.As(err, &ce) || try == maxAppendTries {
			return err
		}
		if err := g.learnHead(ce.Last); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	last := recs[len(recs)-1]
	g.head, g.headKnown = Checkpoint{Seq: last.Seq, Hash: last.Hash}, true
	copy(out, recs)
	return nil
}

// chainAll chains evs after the Gate's head into recs. g.mu must be held.
func (g *Gate) chainAll(ctx context.Context, pol *compiledPolicy, evs []Event, recs []Record, clamp bool) error {
	prev := g.head
	for i, ev := range evs {
		rel := []Purpose{ev.Purpose} // for a purpose the policy no longer declares (Erase withdraws those too)
		if cp := pol.purposes[ev.Purpose]; cp != nil {
			rel = cp.related
		}
		back, bound, err := g.standing(ctx, ev.Subject, rel)
		if err != nil {
			return err
		}
		for _, r := range recs[:i] { // earlier events of the batch
			if r.Subject == ev.Subject {
				back = r.Seq
				if related(r.Purpose, ev.Purpose) && r.At.After(bound.At) {
					bound = r
				}
			}
		}
		if ev.At.Before(bound.At) {
			if !clamp {
				err := &EventError{Field: "at", Err: ErrOutOfOrder, Why: "dated " + ev.At.Format(time.RFC3339Nano) +
					", before the subject's record " + strconv.FormatUint(bound.Seq, 10) + " about " + string(bound.Purpose) +
					" (" + bound.At.Format(time.RFC3339Nano) + ")"}
				if len(evs) > 1 {
					return &BatchError{Index: i, Err: err}
				}
				return err
			}
			ev.At = bound.At
		}
		r := &recs[i] // the salt is read into the Gate's buffer: a local would escape
		*r = Record{Event: ev, Seq: prev.Seq + 1, Prev: prev.Hash, Back: back}
		if err := g.salt(&r.Salt); err != nil {
			return err
		}
		r.Hash = r.link()
		prev = Checkpoint{Seq: r.Seq, Hash: r.Hash}
	}
	return nil
}

// salt fills s with random bytes.
func (g *Gate) salt(s *Salt) error {
	if g.rand == nil {
		rand.Read(s[:]) // never fails (crypto/rand)
		return nil
	}
	_, err := io.ReadFull(g.rand, s[:])
	return err
}

// standing returns the Seq of the subject's last record (the Back of its
// next one), and the subject's latest record about one of purposes (zero if
// none): no event related to them may be dated before it.
func (g *Gate) standing(ctx context.Context, subject string, purposes []Purpose) (back uint64, bound Record, err error) {
	if g.mem != nil {
		back, bound = g.mem.standing(subject, purposes)
		return back, bound, nil
	}
	if g.batch != nil {
		ps := append(make([]Purpose, 0, len(purposes)+1), "")
		ps = append(ps, purposes...)
		st := make([]Standing, len(ps))
		if err := g.batch.Standings(ctx, subject, ps, st); err != nil {
			return 0, Record{}, err
		}
		for _, x := range st[1:] {
			if x.Record.Seq != 0 && x.Record.At.After(bound.At) {
				bound = x.Record
			}
		}
		return st[0].Record.Seq, bound, nil
	}
	last, ok, err := g.store.Latest(ctx, subject, "")
	if err != nil || !ok {
		return 0, Record{}, err // a subject with no record has no related one either
	}
	for _, p := range purposes {
		r, ok, err := g.store.Latest(ctx, subject, p)
		if err != nil {
			return 0, Record{}, err
		}
		if ok && r.At.After(bound.At) {
			bound = r
		}
	}
	return last.Seq, bound, nil
}

// syncHead learns the ledger's last record from the store. g.mu must be
// held. It asks the store to append a record that cannot follow anything
// (Seq 0), which every Store refuses with the last record.
func (g *Gate) syncHead(ctx context.Context) error {
	err := g.store.Append(ctx, []Record{{}})
	var ce *ConflictError
	if !errors.As(err, &ce) {
		if err == nil {
			err = errors.New("consent: store accepted a record with sequence number 0")
		}
		return err
	}
	return g.learnHead(ce.Last)
}

// learnHead moves the Gate's idea of the end of the ledger to last, the
// store's last record. A ledger only grows: if the store's ends before, or
// differs at, the last record this Gate appended, records were cut off or
// rewritten, and the Gate reports it instead of chaining over the loss
// (after which Verify could no longer see it). g.mu must be held.
func (g *Gate) learnHead(last Record) error {
	if g.headKnown {
		switch {
		case last.Seq < g.head.Seq:
			return &ChainError{Seq: last.Seq + 1, Why: "missing: the ledger ends at record " + strconv.FormatUint(last.Seq, 10) +
				" but this Gate appended up to " + strconv.FormatUint(g.head.Seq, 10)}
		case last.Seq == g.head.Seq && last.Hash != g.head.Hash:
			return &ChainError{Seq: last.Seq, Why: "differs from the record this Gate appended"}
		}
	}
	g.head, g.headKnown = Checkpoint{Seq: last.Seq, Hash: last.Hash}, true
	return nil
}
