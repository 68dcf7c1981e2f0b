package trust

import (
	"context"
	"errors"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tact-go/tact/consent"
)

// InForce is a consent policy and the time from which it was in force.
type InForce struct {
	From   time.Time       `json:"from"`
	Policy *consent.Policy `json:"policy"`
}

// CheckConfig configures a [Check]. The zero value checks the ledger's
// chain and the sensitive items; each field enables more, as its doc says.
type CheckConfig struct {
	// Policies are the consent policies in force during the events, each
	// from its From until the next one's From (an event before the first
	// is judged under the first). With none, the checks of what responses
	// used are skipped, and the summary says so.
	Policies []InForce

	// Regime is the regime decisions are replayed under, as
	// consent.GateConfig.Regime: the zero value means GDPR.
	Regime consent.Regime

	// PersonKey names the attribute of "recommend.serve" events that
	// identifies the person (added by the host's slog handler: recommend
	// never logs who was served). With it, and Policies, each purpose a
	// response relied on is decided again from the ledger as it stood at
	// the time of the response.
	PersonKey string

	// Pseudonym maps a ledger subject to the value of the PersonKey
	// attribute, for a host whose handler logs a keyed pseudonym rather
	// than the subject id. Nil means the attribute is the subject id.
	Pseudonym func(subject string) string

	// Epsilon and Delta are the declared budget of every "dp.release"
	// event together. Zero Epsilon skips the budget check.
	Epsilon, Delta float64

	// Trusted are checkpoints kept outside the ledger, which it must
	// match and reach (see consent.VerifyRecords).
	Trusted []consent.Checkpoint
}

// Summary says what [Check] looked at, what the releases spent, and what
// it could not check and why.
type Summary struct {
	Events, Records int
	// Serves counts the "recommend.serve" events, Replayed those checked
	// against the ledger for their person, Decisions the
	// "consent.decision" events checked against their records.
	Serves, Replayed, Decisions int
	// Releases counts the "dp.release" events, Epsilon and Delta what they
	// spent together (rounded up).
	Releases       int
	Epsilon, Delta float64
	// Unchecked lists what could not be checked, and why.
	Unchecked []string
}

// Check is the continuous audit: it reads the audit events and the
// ledger and reports every violation of these rules.
//
//   - Chain ([ErrChainBreak]): the ledger verifies (consent.VerifyRecords,
//     against cfg.Trusted); it reaches every record a "consent.change" or
//     "consent.import" event names (a ledger cut short still verifies);
//     and each record is what its "consent.change" event said it was
//     (purpose, action, source, channel, policy version), which also
//     catches a ledger rewritten and chained again from some point on.
//   - Data used without an allowing record ([ErrNoAllowingRecord]): a
//     "consent.decision" event that allowed on a grant names a record that
//     is a grant of the purpose or of one covering it; a
//     "recommend.serve" event used no data category that none of the
//     purposes it relied on declares in the policy then in force, relied
//     on no purpose it withheld for consent or policy, and, when it
//     carries the person (cfg.PersonKey), relied only on purposes that
//     the ledger, replayed up to the response's time, allowed for that
//     person under that policy (consent.Gate.Decide, without signals).
//   - Budget ([ErrOverBudget], [ErrNotPrivate]): the "dp.release" events
//     together spent no more than cfg.Epsilon and cfg.Delta, summed
//     exactly as dp.Budget sums; and none was made with test noise.
//   - Sensitive items ([ErrSensitiveInferred]): a response led to a
//     sensitive item only by what the person declared. recommend logs the
//     sources of the sensitive items it serves (recommend.AuditSensitiveSources,
//     comma-separated source names); for an event without that attribute
//     (an older trail) Check says it could not check.
//
// It returns a [*AuditError] listing the violations (errors.Is
// [ErrViolation] and each kind found), [ErrNoData] for an empty input, a
// [*ConfigError] for cfg out of range (a policy that is not valid, a
// negative or NaN budget), a [*LineError] for a response whose person
// attribute is not a valid subject id, or ctx's error. The [Summary] is
// filled in either way.
func Check(ctx context.Context, in Input, cfg CheckConfig) (Summary, error) {
	sum := Summary{Events: len(in.Events), Records: len(in.Ledger)}
	if len(in.Events) == 0 && len(in.Ledger) == 0 {
		return sum, ErrNoData
	}
	if math.IsNaN(cfg.Epsilon) || math.IsInf(cfg.Epsilon, 0) || cfg.Epsilon < 0 {
		return sum, &ConfigError{Field: "Epsilon", Why: "must be finite and not negative, not " + ftoa(cfg.Epsilon)}
	}
	if math.IsNaN(cfg.Delta) || math.IsInf(cfg.Delta, 0) || cfg.Delta < 0 {
		return sum, &ConfigError{Field: "Delta", Why: "must be finite and not negative, not " + ftoa(cfg.Delta)}
	}
	c := &checker{in: in, cfg: cfg, sum: &sum, bySeq: make(map[uint64]int, len(in.Ledger))}
	for i := range in.Ledger {
		c.bySeq[in.Ledger[i].Seq] = i
	}
	if err := c.policies(); err != nil {
		return sum, err
	}
	c.chain()
	if err := c.uses(ctx); err != nil {
		return sum, err
	}
	c.budget()
	c.sensitive()
	if len(c.found) > 0 {
		return sum, &AuditError{Violations: c.found}
	}
	return sum, nil
}

type checker struct {
	in    Input
	cfg   CheckConfig
	sum   *Summary
	found []*Violation
	gates []*consent.Gate // one per cfg.Policies, over store
	bySeq map[uint64]int  // ledger index by Seq
	store *asOf
}

func (c *checker) violation(kind error, line int, seq uint64, why string) {
	c.found = append(c.found, &Violation{Kind: kind, Line: line, Seq: seq, Why: why})
}

// record returns the ledger record with sequence number seq, or nil.
func (c *checker) record(seq uint64) *consent.Record {
	if i, ok := c.bySeq[seq]; ok {
		return &c.in.Ledger[i]
	}
	return nil
}

func (c *checker) note(s string) { c.sum.Unchecked = append(c.sum.Unchecked, s) }

func (c *checker) policies() error {
	ps := slices.Clone(c.cfg.Policies)
	slices.SortStableFunc(ps, func(a, b InForce) int { return a.From.Compare(b.From) })
	c.cfg.Policies = ps
	c.store = &asOf{}
	for i, p := range ps {
		g, err := consent.NewGate(p.Policy, c.store, consent.GateConfig{Regime: c.cfg.Regime})
		if err != nil {
			return &ConfigError{Field: "Policies[" + strconv.Itoa(i) + "]", Why: "not a valid policy", Err: err}
		}
		c.gates = append(c.gates, g)
	}
	return nil
}

// chain checks the ledger's chain, and the ledger against the events.
func (c *checker) chain() {
	if len(c.in.Ledger) == 0 {
		c.note("no ledger: its chain, and what decisions and responses used, were not checked against it")
	}
	if _, err := consent.VerifyRecords(c.in.Ledger, c.cfg.Trusted...); err != nil {
		var ce *consent.ChainError
		seq := uint64(0)
		why := err.Error()
		if errors.As(err, &ce) {
			seq, why = ce.Seq, ce.Why
		}
		c.violation(ErrChainBreak, 0, seq, "the ledger does not verify: "+why)
		c.note("the ledger does not verify: what decisions and responses used was checked against it as it stands")
	}
	if v := truncation(c.in); v != nil {
		c.found = append(c.found, v)
	}
	for i := range c.in.Events {
		e := &c.in.Events[i]
		ch := e.change
		if ch == nil {
			continue
		}
		r := c.record(ch.seq)
		if r == nil {
			continue // missing: the violations above cover it
		}
		if why := disagreement(ch, r); why != "" {
			c.violation(ErrChainBreak, e.Line, r.Seq, "the ledger says "+why)
		}
	}
}

// disagreement says how record r differs from what its change event said,
// or "" if it does not. A tombstone is compared on what it keeps.
func disagreement(ch *changeEvent, r *consent.Record) string {
	var diff []string
	cmp := func(field, was, is string) {
		if was != is {
			diff = append(diff, field+" "+strconv.Quote(is)+" where the event said "+strconv.Quote(was))
		}
	}
	cmp("action", ch.action.String(), r.Action.String())
	if !r.Erased || r.Action != consent.Grant {
		cmp("purpose", string(ch.purpose), string(r.Purpose))
		cmp("source", ch.source.String(), r.Source.String())
		cmp("policy version", strconv.Itoa(ch.policyVersion), strconv.Itoa(r.PolicyVersion))
	}
	if !r.Erased {
		cmp("channel", string(ch.channel), string(r.Channel))
	}
	return strings.Join(diff, ", ")
}

// uses checks what decisions and responses used.
func (c *checker) uses(ctx context.Context) error {
	for i := range c.in.Events {
		e := &c.in.Events[i]
		d := e.decision
		if d == nil {
			continue
		}
		c.sum.Decisions++
		if !d.allowed || d.reason != consent.ReasonGranted {
			continue
		}
		r := c.record(d.seq)
		switch {
		case r == nil:
			c.violation(ErrNoAllowingRecord, e.Line, d.seq, "a decision allowed "+string(d.purpose)+" on a grant the ledger does not hold")
		case r.Action != consent.Grant:
			c.violation(ErrNoAllowingRecord, e.Line, d.seq, "a decision allowed "+string(d.purpose)+" on a record that is a "+r.Action.String()+", not a grant")
		case !r.Erased && !r.Purpose.Covers(d.purpose):
			c.violation(ErrNoAllowingRecord, e.Line, d.seq, "a decision allowed "+string(d.purpose)+" on a grant of "+string(r.Purpose)+", which does not cover it")
		}
	}

	c.store.index(c.in.Ledger)
	subjects := make(map[string]string) // person attribute -> subject
	for s := range c.store.subjects {
		p := s
		if c.cfg.Pseudonym != nil {
			p = c.cfg.Pseudonym(s)
		}
		subjects[p] = s
	}
	noPerson := 0
	for i := range c.in.Events {
		e := &c.in.Events[i]
		s := e.serve
		if s == nil {
			continue
		}
		c.sum.Serves++
		for _, w := range s.withheld {
			if (w.reason == "consent" || w.reason == "policy") && slices.Contains(s.purposes, w.purpose) {
				c.violation(ErrNoAllowingRecord, e.Line, 0, "a response relied on "+string(w.purpose)+", which it withheld ("+w.reason+")")
			}
		}
		if len(c.gates) == 0 {
			continue
		}
		k := c.policyAt(e.Time)
		pol := c.cfg.Policies[k].Policy
		for _, cat := range s.categories {
			if !slices.ContainsFunc(s.purposes, func(p consent.Purpose) bool { return declares(pol, p, cat) }) {
				c.violation(ErrNoAllowingRecord, e.Line, 0, "a response used "+string(cat)+", which none of the purposes it relied on ("+
					joinPurposes(s.purposes)+") declares in policy version "+strconv.Itoa(pol.Version))
			}
		}
		person, ok := "", false
		if c.cfg.PersonKey != "" {
			person, ok = e.Attr(c.cfg.PersonKey)
		}
		if !ok || person == "" {
			noPerson++
			continue
		}
		subject, known := subjects[person]
		if !known {
			subject = person // not in the ledger: the regime's defaults decide
		}
		c.sum.Replayed++
		c.store.at = e.Time
		for _, p := range s.purposes {
			d, err := c.gates[k].Decide(ctx, subject, p, e.Time, consent.Signals{})
			switch {
			case errors.Is(err, consent.ErrUnknownPurpose):
				c.violation(ErrNoAllowingRecord, e.Line, 0, "a response relied on "+string(p)+", which policy version "+strconv.Itoa(pol.Version)+" does not declare")
			case err != nil && ctx.Err() != nil:
				return ctx.Err()
			case err != nil:
				return &LineError{Input: "events", Line: e.Line, Err: err}
			case !d.Allowed:
				why := "a response relied on " + string(p) + ", which the ledger did not allow for this person at " +
					e.Time.Format(time.RFC3339) + ": " + d.Reason.String()
				c.violation(ErrNoAllowingRecord, e.Line, d.Record.Seq, why)
			}
		}
	}
	switch {
	case c.sum.Serves == 0:
	case len(c.gates) == 0:
		c.note("no policy (CheckConfig.Policies): what responses used was not checked against the ledger")
	case noPerson > 0:
		c.note(strconv.Itoa(noPerson) + " of " + strconv.Itoa(c.sum.Serves) +
			" responses carry no person (CheckConfig.PersonKey): their purposes were checked against the policy only, not against the ledger")
	}
	return nil
}

// policyAt returns the index of the policy in force at t.
func (c *checker) policyAt(t time.Time) int {
	k := 0
	for i, p := range c.cfg.Policies {
		if !p.From.After(t) {
			k = i
		}
	}
	return k
}

// declares reports whether pol declares category cat for purpose p.
func declares(pol *consent.Policy, p consent.Purpose, cat consent.Category) bool {
	spec, ok := pol.Spec(p)
	return ok && slices.ContainsFunc(spec.Categories, func(d consent.Category) bool { return d.Covers(cat) })
}

func joinPurposes(ps []consent.Purpose) string {
	if len(ps) == 0 {
		return "none"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}

// budget sums the releases.
func (c *checker) budget() {
	var eps, delta, x, maxEps, maxDelta big.Rat
	maxEps.SetFloat64(c.cfg.Epsilon)
	maxDelta.SetFloat64(c.cfg.Delta)
	over := false
	for i := range c.in.Events {
		e := &c.in.Events[i]
		r := e.release
		if r == nil {
			continue
		}
		c.sum.Releases++
		eps.Add(&eps, x.SetFloat64(r.epsilon))
		delta.Add(&delta, x.SetFloat64(r.delta))
		if !r.private {
			c.violation(ErrNotPrivate, e.Line, 0, "release "+strconv.Quote(r.label)+" was made with test noise")
		}
		if c.cfg.Epsilon > 0 && !over && (eps.Cmp(&maxEps) > 0 || delta.Cmp(&maxDelta) > 0) {
			over = true
			c.violation(ErrOverBudget, e.Line, 0, "release "+strconv.Quote(r.label)+" takes the releases to ε="+
				ftoa(ratUp(&eps))+", δ="+ftoa(ratUp(&delta))+", beyond the declared ε="+ftoa(c.cfg.Epsilon)+", δ="+ftoa(c.cfg.Delta))
		}
	}
	c.sum.Epsilon, c.sum.Delta = ratUp(&eps), ratUp(&delta)
	if c.cfg.Epsilon == 0 && c.sum.Releases > 0 {
		c.note("no declared budget (CheckConfig.Epsilon): the releases' spending was not checked")
	}
}

// sensitive checks the sources of the sensitive items served.
func (c *checker) sensitive() {
	silent := 0
	for i := range c.in.Events {
		e := &c.in.Events[i]
		s := e.serve
		if s == nil {
			continue
		}
		if s.sensitive == nil {
			silent++
			continue
		}
		for _, src := range s.sensitive {
			if src != "declared" {
				c.violation(ErrSensitiveInferred, e.Line, 0, "a sensitive item was served because of "+strconv.Quote(src)+", not only what the person declared")
			}
		}
	}
	if silent > 0 {
		c.note(strconv.Itoa(silent) + " of " + strconv.Itoa(c.sum.Serves) + " responses do not say which sources led to the sensitive items they served (attribute " +
			strconv.Quote(sensitiveSources) + ", which recommend logs since it was added): sensitive items served from history were not checked for them")
	}
}

// asOf is a read-only consent.Store over a ledger as it stood at a time:
// the records dated at or before at. Each subject's records about related
// purposes are in time order (the ledger's rule), so that is a prefix of
// them.
type asOf struct {
	subjects map[string][]consent.Record // live records, in sequence order
	at       time.Time
}

var _ consent.Store = (*asOf)(nil)

var errReadOnly = errors.New("trust: the replayed ledger is read-only")

func (s *asOf) index(ledger []consent.Record) {
	s.subjects = make(map[string][]consent.Record)
	for _, r := range ledger {
		if !r.Erased {
			s.subjects[r.Subject] = append(s.subjects[r.Subject], r)
		}
	}
}

// Append implements consent.Store: it refuses.
func (s *asOf) Append(context.Context, []consent.Record) error { return errReadOnly }

// Redact implements consent.Store: it refuses.
func (s *asOf) Redact(context.Context, []consent.Record) error { return errReadOnly }

// Latest implements consent.Store.
func (s *asOf) Latest(_ context.Context, subject string, purpose consent.Purpose) (consent.Record, bool, error) {
	recs := s.subjects[subject]
	for i := len(recs) - 1; i >= 0; i-- {
		if r := recs[i]; !r.At.After(s.at) && (purpose == "" || r.Purpose == purpose) {
			return r, true, nil
		}
	}
	return consent.Record{}, false, nil
}

// Scan implements consent.Store for one subject; the Gate's decisions scan
// no more.
func (s *asOf) Scan(_ context.Context, subject string, after uint64, fn func(consent.Record) error) error {
	for _, r := range s.subjects[subject] {
		if r.Seq > after && !r.At.After(s.at) {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}
