package trust

import (
	"cmp"
	"context"
	"errors"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/recommend"
)

// Estimate is one released count: the noisy value and its confidence
// interval. Released is false for a count that is not shown: its interval
// reaches below MinPersons (a small group, or too noisy at the report's ε
// to tell from one).
type Estimate struct {
	Value        float64
	Lower, Upper float64
	Released     bool
}

// Ratio is a share of two released counts, in [0, 1], with an interval
// from theirs (holding with probability at least 1-2α). Released is false
// when either count was not.
type Ratio struct {
	Value        float64
	Lower, Upper float64
	Released     bool
}

// Share returns num/den as a [Ratio]: post-processing of released counts,
// which costs no privacy. Rows of a table can be summed first (add the
// values and the bounds) to share over several of them.
func Share(num, den Estimate) Ratio {
	if !num.Released || !den.Released || den.Value <= 0 {
		return Ratio{}
	}
	clamp := func(x float64) float64 { return math.Min(math.Max(x, 0), 1) }
	r := Ratio{Value: clamp(num.Value / den.Value), Lower: 0, Upper: 1, Released: true}
	if den.Upper > 0 {
		r.Lower = clamp(num.Lower / den.Upper)
	}
	if den.Lower > 0 {
		r.Upper = clamp(num.Upper / den.Lower)
	}
	r.Lower, r.Upper = math.Min(r.Lower, r.Value), math.Max(r.Upper, r.Value)
	return r
}

// ConsentRow is one row of a consent table: the people who granted,
// denied and withdrew consent in one bucket, for one purpose (or through
// one channel). A person counts once per cell and event, up to
// MaxContributions events.
type ConsentRow struct {
	Bucket                       time.Time
	Key                          string // the purpose, or the channel ("erased" for erased subjects' records)
	Grants, Denials, Withdrawals Estimate
}

// GPCRow is the GPC share of one bucket: of the people who opted out of
// something (a denial or withdrawal of any purpose), those whose opt-out
// came from a Global Privacy Control signal.
type GPCRow struct {
	Bucket           time.Time
	OptOuts, FromGPC Estimate
	Share            Ratio
}

// ReconsentRow counts, for one bucket and one purpose that changed
// materially (its Version in the policy is above 1), the people who
// granted it, or a purpose covering it, under a newer policy version after
// they had granted it, or a purpose covering it, under an older one.
type ReconsentRow struct {
	Bucket  time.Time
	Purpose consent.Purpose
	People  Estimate
}

// ServeRow is what the recommender did for one tier in one bucket: the
// people (or, with MaxContributions above 1, responses) served, and of
// them those whose responses showed each of: an item left out because the
// person said "not interested"; any item suppressed by a guard (any count
// of the event's "filtered" group but already_bought, which keeps out
// what the person owns: relevance rather than restraint); the warm-up of a
// visit; items held back below the confidence floor; a sensitive item
// held back. [Share] turns a count into a share of Served.
type ServeRow struct {
	Bucket                                                        time.Time
	Tier                                                          recommend.Tier
	Served                                                        Estimate
	NotInterested, Suppressed, WarmUp, ConfidenceFloor, Sensitive Estimate
}

// TierMoveRow counts the people who, in one bucket, were first served at
// a tier above every tier they had been served at before.
type TierMoveRow struct {
	Bucket time.Time
	Tier   recommend.Tier // the tier reached
	People Estimate
}

// Report is a trust report: the tables, and what they cost in privacy.
// Rows hold only what is shown; a table's rows are sorted by bucket, then
// key. A table the report did not compute (its Notes say why) is nil; one
// it computed and shows nothing of is empty. A Report is immutable and
// safe for concurrent use.
type Report struct {
	Period   Period
	From, To time.Time   // the buckets cover [From, To)
	Buckets  []time.Time // the start of every bucket, in order

	// What the report spent, and the bounds its guarantee rests on.
	Epsilon, Delta   float64
	MaxPartitions    int
	MaxContributions int
	MinPersons       int
	Alpha            float64
	// Private is false when the report was built with a test NoiseSource.
	Private bool

	ByPurpose []ConsentRow
	ByChannel []ConsentRow
	// PurposeTotals and ChannelTotals sum each row over every bucket of
	// the report (their Bucket is From): the sum of all the noisy counts,
	// shown or not, which estimates the total without the bias of leaving
	// small cells out, with an interval from the noise's spread.
	PurposeTotals []ConsentRow
	ChannelTotals []ConsentRow
	GPC           []GPCRow // one per bucket
	Reconsent     []ReconsentRow
	Serve         []ServeRow
	TierMoves     []TierMoveRow

	// Notes say what the report could not measure, and why.
	Notes []string
}

// A table is one dp release: a count per (bucket, key...) cell.
type table struct {
	label      string
	mech       dp.Mechanism // the noise of each count
	l0         int          // per person, already multiplied by the counts one event adds to
	linf       int
	partitions []string // every cell's key
	adds       []contribution
	res        *dp.Result[int64]
	min        float64 // a cell with a smaller noisy count is not shown
}

// newTable returns a table whose cells are every combination of the
// parts, in order.
func newTable(label string, l0, linf int, parts ...[]string) *table {
	keys := []string{""}
	for i, p := range parts {
		next := make([]string, 0, len(keys)*len(p))
		for _, k := range keys {
			for _, x := range p {
				if i > 0 {
					x = k + sep + x
				}
				next = append(next, x)
			}
		}
		keys = next
	}
	return &table{label: label, l0: l0, linf: linf, partitions: keys}
}

// Keys of the rows that gather what the public lists do not name.
const (
	other  = "other"  // a purpose or channel not in the lists
	erased = "erased" // an erased subject's records, which keep no channel
)

// policyPurposes returns the purposes of p that people can grant, deny,
// withdraw or object to: those on consent or legitimate interest.
func policyPurposes(p *consent.Policy) []string {
	var out []string
	for _, s := range p.Purposes {
		if s.Basis.NeedsConsent() || s.Basis == consent.BasisLegitimateInterest {
			out = append(out, string(s.Purpose))
		}
	}
	return out
}

// objectOnlyPurposes returns the purposes of p on legitimate interest,
// which people can object to but not grant.
func objectOnlyPurposes(p *consent.Policy) []string {
	var out []string
	for _, s := range p.Purposes {
		if s.Basis == consent.BasisLegitimateInterest {
			out = append(out, string(s.Purpose))
		}
	}
	return out
}

// changedPurposes returns the purposes of p on consent that changed
// materially: whose Version is above 1, so that older grants no longer
// allow them.
func changedPurposes(p *consent.Policy) []string {
	var out []string
	for _, s := range p.Purposes {
		if s.Basis.NeedsConsent() && s.Version > 1 {
			out = append(out, string(s.Purpose))
		}
	}
	return out
}

func channelNames(cs []consent.Channel) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

type contribution struct{ person, key string }

func (t *table) add(person string, parts ...string) {
	t.adds = append(t.adds, contribution{person, strings.Join(parts, sep)})
}

// shown reports whether a released count is shown: when its confidence
// interval lies at or above the threshold (and so excludes zero), the
// count is, with the interval's confidence, a group of at least that many
// people, and not noise around nobody. A count of people is a whole
// number, so the interval's lower end is rounded up.
func (t *table) shown(c dp.Estimate[int64]) bool { return atLeast(c.Lower, t.min) }

func atLeast(lower, min float64) bool { return math.Ceil(lower) >= min && lower > 0 }

// get returns the count of a cell, not released if it is not shown.
func (t *table) get(parts ...string) Estimate {
	p, ok := t.res.Lookup(strings.Join(parts, sep))
	if !ok || !t.shown(p.Count) {
		return Estimate{}
	}
	return Estimate{Value: float64(p.Count.Value), Lower: p.Count.Lower, Upper: p.Count.Upper, Released: true}
}

// keys returns the keys of the cells shown, split.
func (t *table) keys() [][]string {
	var out [][]string
	for _, p := range t.res.Partitions() {
		if t.shown(p.Count) {
			out = append(out, strings.Split(p.Key, sep))
		}
	}
	return out
}

// sep separates the parts of a cell's key; no purpose, channel or tier
// holds it.
const sep = "\x1f"

// Names of the counts of the response table, in the order of ServeRow.
var serveCounts = []string{"served", "not_interested", "suppressed", "warm_up", "confidence_floor", "sensitive"}

// Release computes the trust report of in and spends cfg.Epsilon (and
// cfg.Delta, if a table's noise is Gaussian) from budget, split evenly
// between its tables. Each table is released once through dp, over public
// partitions (its buckets and the public lists of cfg: purposes,
// channels, tiers), with person-level contribution bounding; a count is
// then shown only if its interval lies at or above cfg.MinPersons.
// Consent tables come from the ledger, whose records name their subject
// (an erased subject's tombstones count as one person, linked by their
// back links); response and tier tables from "recommend.serve" events,
// when cfg.PersonKey names the attribute that identifies the person.
//
// The ledger must verify (consent.VerifyRecords) and reach every record
// the "consent.change" events name; otherwise Release returns an error
// wrapping [ErrLedger] and spends nothing. Other errors: [ErrNoData] for
// an empty input; a [*ConfigError] ([ErrInvalidConfig]) for cfg out of
// range (ε NaN, infinite or not positive, δ outside [0, 1), a share of
// them dp refuses, no or an invalid Policy with a ledger) or a nil
// budget; a [*LineError] for a response event without the person
// attribute; and a *dp.BudgetError (dp.ErrBudgetExhausted) when the
// budget cannot pay for the whole report. In each case nothing is spent.
func Release(ctx context.Context, budget *dp.Budget, in Input, cfg Config) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if budget == nil {
		return nil, &ConfigError{Field: "budget", Why: "nil"}
	}
	if len(in.Events) == 0 && len(in.Ledger) == 0 {
		return nil, ErrNoData
	}
	if len(in.Ledger) > 0 && cfg.Policy == nil {
		return nil, &ConfigError{Field: "Policy", Why: "required with a ledger: its purposes are the rows of the consent tables"}
	}
	if _, err := consent.VerifyRecords(in.Ledger); err != nil {
		return nil, errors.Join(ErrLedger, err)
	}
	if v := truncation(in); v != nil {
		return nil, errors.Join(ErrLedger, v)
	}
	serves, err := servesOf(in.Events, cfg.PersonKey)
	if err != nil {
		return nil, err
	}
	r := &Report{Period: cfg.Period, MaxPartitions: cfg.MaxPartitions, MaxContributions: cfg.MaxContributions,
		MinPersons: cfg.MinPersons, Alpha: cfg.Alpha, Private: true}
	r.window(cfg, in.Ledger, serves)

	// Every table's cells are public partitions: the buckets, the
	// policy's purposes, the channels, the tiers, known without looking
	// at anyone's data. Each is released with noise; small ones are then
	// hidden.
	buckets := make([]string, len(r.Buckets))
	for i, b := range r.Buckets {
		buckets[i] = day(b)
	}
	actions := []string{consent.Grant.String(), consent.Deny.String(), consent.Withdraw.String()}
	var tables []*table
	var purpose, channel, gpc, reconsent, serve, moves *table
	var purposes, channels []string
	switch {
	case len(buckets) == 0:
		r.Notes = append(r.Notes, "nothing in the input is dated within the report's window")
	case len(in.Ledger) == 0:
		r.Notes = append(r.Notes, "no ledger: the consent, GPC and re-consent tables are left out")
	default:
		purposes = append(policyPurposes(cfg.Policy), other)
		changed := changedPurposes(cfg.Policy)
		channels = append(channelNames(cfg.Channels), other, erased)
		purpose = newTable("trust report: consent changes by purpose", cfg.MaxPartitions, cfg.MaxContributions, buckets, purposes, actions)
		// A purpose on legitimate interest cannot be granted, only objected
		// to: its grant cells would only ever hold noise.
		objectOnly := objectOnlyPurposes(cfg.Policy)
		purpose.partitions = slices.DeleteFunc(purpose.partitions, func(k string) bool {
			parts := strings.Split(k, sep)
			return parts[2] == actions[0] && slices.Contains(objectOnly, parts[1])
		})
		channel = newTable("trust report: consent changes by channel", cfg.MaxPartitions, cfg.MaxContributions, buckets, channels, actions)
		gpc = newTable("trust report: GPC share", 2*cfg.MaxPartitions, 1, buckets, []string{"optout", "gpc"})
		tables = append(tables, purpose, channel, gpc)
		if len(changed) > 0 {
			reconsent = newTable("trust report: re-consent", cfg.MaxPartitions, 1, buckets, changed)
			tables = append(tables, reconsent)
		} else {
			r.Notes = append(r.Notes, "no purpose of the policy changed materially (Version above 1): there is no re-consent to count")
		}
		r.ledgerTables(in.Ledger, purposes, objectOnly, changed, channels, purpose, channel, gpc, reconsent)
	}
	tierNames := []string{recommend.Anonymous.String(), recommend.Recognized.String(), recommend.Established.String()}
	switch {
	case len(buckets) == 0:
	case cfg.PersonKey == "":
		r.Notes = append(r.Notes, "the response events carry no person key (Config.PersonKey), so no per-person bound can be enforced on them: the response and tier tables are left out")
	case len(serves) == 0:
		r.Notes = append(r.Notes, "no recommend.serve events: the response and tier tables are left out")
	default:
		serve = newTable("trust report: responses per tier", len(serveCounts)*cfg.MaxPartitions, cfg.MaxContributions, buckets, tierNames, serveCounts)
		moves = newTable("trust report: tier moves", cfg.MaxPartitions, 1, buckets, tierNames[1:])
		tables = append(tables, serve, moves)
		r.serveTables(serves, serve, moves)
	}

	// ε goes evenly to the tables; δ evenly to those whose noise is
	// Gaussian (Laplace noise on public partitions spends none).
	eps := splitDown(cfg.Epsilon, len(tables))
	kinds := make([]dp.NoiseKind, len(tables))
	gaussian := 0
	for i, t := range tables {
		if kinds[i] = t.noise(eps, splitDown(cfg.Delta, len(tables))); kinds[i] == dp.Gaussian {
			gaussian++
		}
	}
	counters := make([]*dp.Counter, len(tables))
	for i, t := range tables {
		delta := 0.0
		if kinds[i] == dp.Gaussian {
			delta = splitDown(cfg.Delta, gaussian)
		}
		c, err := dp.NewCounter(dp.Params{
			Epsilon: eps, Delta: delta, MaxPartitions: t.l0, MaxContributions: t.linf,
			Noise: kinds[i], Partitions: t.partitions, Alpha: cfg.Alpha, Label: t.label,
			Logger: cfg.Logger, NoiseSource: cfg.NoiseSource, Rand: cfg.Rand,
		})
		if err != nil {
			var pe *dp.ParamError
			field := "privacy parameters"
			if errors.As(err, &pe) {
				field = pe.Param
			}
			return nil, &ConfigError{Field: field, Why: "dp refuses the share of one table (" + t.label + ")", Err: err}
		}
		for _, a := range t.adds {
			c.Add(a.person, a.key)
		}
		counters[i] = c
	}
	// The shares add up to at most cfg's ε, and δ if any noise is
	// Gaussian: check that the budget holds that much before spending.
	needE, needD := 0.0, 0.0
	if len(tables) > 0 {
		needE = cfg.Epsilon
	}
	if gaussian > 0 {
		needD = cfg.Delta
	}
	if re, rd := budget.Remaining(); needE > re || needD > rd {
		return nil, &dp.BudgetError{Label: "trust report", Epsilon: needE, Delta: needD, RemainingEpsilon: re, RemainingDelta: rd}
	}
	var spentEps, spentDelta, x big.Rat
	for i, t := range tables {
		res, err := counters[i].Release(ctx, budget)
		if err != nil {
			return nil, err
		}
		t.res, t.min = res, float64(cfg.MinPersons)
		t.mech = dp.Mechanism{Kind: kinds[i], Epsilon: eps, L0: int64(t.l0), LInf: float64(t.linf)}
		if kinds[i] == dp.Gaussian {
			t.mech.Delta = splitDown(cfg.Delta, gaussian)
		}
		r.Private = r.Private && res.Private()
		spentEps.Add(&spentEps, x.SetFloat64(res.Epsilon()))
		spentDelta.Add(&spentDelta, x.SetFloat64(res.Delta()))
	}
	r.Epsilon, r.Delta = ratUp(&spentEps), ratUp(&spentDelta)
	// A table that was released has a non-nil slice of rows, empty if no
	// count is shown; one that was not (see Notes) has nil.
	if purpose != nil {
		r.ByPurpose = consentRows(purpose)
		r.ByChannel = consentRows(channel)
		r.PurposeTotals = r.totals(purpose, purposes)
		r.ChannelTotals = r.totals(channel, channels)
		for _, b := range r.Buckets {
			k := day(b)
			row := GPCRow{Bucket: b, OptOuts: gpc.get(k, "optout"), FromGPC: gpc.get(k, "gpc")}
			row.Share = Share(row.FromGPC, row.OptOuts)
			r.GPC = append(r.GPC, row)
		}
		if reconsent != nil {
			r.Reconsent = []ReconsentRow{}
			for _, k := range reconsent.keys() {
				r.Reconsent = append(r.Reconsent, ReconsentRow{Bucket: parseDay(k[0]), Purpose: consent.Purpose(k[1]), People: reconsent.get(k...)})
			}
		}
	}
	if serve != nil {
		r.serveRows(serve, moves)
	}
	return r, nil
}

// noise returns the noise kind with the smaller standard deviation for
// the table's bounds: Laplace grows with L0, Gaussian with its square
// root, and needs δ.
func (t *table) noise(eps, delta float64) dp.NoiseKind {
	if delta == 0 {
		return dp.Laplace
	}
	l := dp.Mechanism{Kind: dp.Laplace, Epsilon: eps, L0: int64(t.l0), LInf: float64(t.linf)}
	g := dp.Mechanism{Kind: dp.Gaussian, Epsilon: eps, Delta: delta, L0: int64(t.l0), LInf: float64(t.linf)}
	if g.StdDev() < l.StdDev() {
		return dp.Gaussian
	}
	return dp.Laplace
}

// splitDown returns x/n rounded down so that n shares never exceed x
// exactly, as a dp.Budget adds them.
func splitDown(x float64, n int) float64 {
	if n <= 1 {
		return x
	}
	share := x / float64(n)
	var want, sum, s big.Rat
	want.SetFloat64(x)
	for {
		sum.Mul(s.SetFloat64(share), new(big.Rat).SetInt64(int64(n)))
		if sum.Cmp(&want) <= 0 {
			return share
		}
		share = math.Nextafter(share, 0)
	}
}

// ratUp returns the smallest float64 not below x.
func ratUp(x *big.Rat) float64 {
	f, _ := x.Float64()
	if new(big.Rat).SetFloat64(f).Cmp(x) < 0 {
		f = math.Nextafter(f, math.Inf(1))
	}
	return f
}

func utoa(u uint64) string { return strconv.FormatUint(u, 10) }

// window sets the report's buckets: cfg's From and To, or the extent of
// the data, widened to whole buckets.
func (r *Report) window(cfg Config, ledger []consent.Record, serves []serve) {
	from, to := cfg.From, cfg.To
	if from.IsZero() || to.IsZero() {
		var lo, hi time.Time
		see := func(t time.Time) {
			if t.IsZero() {
				return
			}
			if lo.IsZero() || t.Before(lo) {
				lo = t
			}
			if t.After(hi) {
				hi = t
			}
		}
		for i := range ledger {
			see(ledger[i].At)
		}
		for _, s := range serves {
			see(s.at)
		}
		if from.IsZero() {
			from = lo
		}
		if to.IsZero() {
			to = hi.Add(time.Nanosecond)
		}
	}
	if from.IsZero() || !from.Before(to) {
		return // nothing dated: no buckets
	}
	r.From = r.Period.Start(from)
	for b := r.From; b.Before(to); b = r.Period.next(b) {
		r.Buckets = append(r.Buckets, b)
		r.To = r.Period.next(b)
	}
}

// bucket returns the key of the bucket t falls in, and false if it is
// outside the report.
func (r *Report) bucket(t time.Time) (string, bool) {
	if t.IsZero() || t.Before(r.From) || !t.Before(r.To) {
		return "", false
	}
	return day(r.Period.Start(t)), true
}

func day(t time.Time) string { return t.Format(time.DateOnly) }

func parseDay(s string) time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return t
}

// persons returns the person each ledger record belongs to: its subject,
// or for a tombstone, the person of the record it links back to (an
// erased subject's first tombstone starts a person of its own).
func persons(ledger []consent.Record) []string {
	out := make([]string, len(ledger))
	for i := range ledger {
		r := &ledger[i]
		switch {
		case !r.Erased:
			out[i] = "s:" + r.Subject
		case r.Back > 0 && r.Back <= uint64(i):
			out[i] = out[r.Back-1]
		default:
			out[i] = "e:" + utoa(r.Seq)
		}
	}
	return out
}

// ledgerTables adds the ledger's records to the consent tables.
// The rows of a purpose or channel are its own if the public list has it,
// other if not.
// A grant counts as re-consent for each changed purpose it covers, when
// the person had granted a purpose covering that one under an older
// policy version.
func (r *Report) ledgerTables(ledger []consent.Record, purposes, objectOnly, changed, channels []string, purpose, channel, gpc, reconsent *table) {
	row := func(list []string, key string) string {
		if slices.Contains(list, key) {
			return key
		}
		return other
	}
	type grant struct {
		purpose consent.Purpose
		version int
	}
	grants := make(map[string][]grant) // per person, every grant so far
	who := persons(ledger)
	for i := range ledger {
		rec := &ledger[i]
		p := who[i]
		b, in := r.bucket(rec.At)
		if rec.Action == consent.Grant && !rec.Erased {
			for _, c := range changed {
				cp := consent.Purpose(c)
				if in && rec.Purpose.Covers(cp) && slices.ContainsFunc(grants[p], func(g grant) bool {
					return g.version < rec.PolicyVersion && g.purpose.Covers(cp)
				}) {
					reconsent.add(p, b, c)
				}
			}
			grants[p] = append(grants[p], grant{rec.Purpose, rec.PolicyVersion})
		}
		if !in {
			continue
		}
		action := rec.Action.String()
		key := row(purposes, string(rec.Purpose))
		if rec.Action == consent.Grant && slices.Contains(objectOnly, key) {
			key = other // a grant of a purpose on legitimate interest, which no Gate records
		}
		purpose.add(p, b, key, action)
		ch := row(channels, string(rec.Channel))
		if rec.Erased {
			ch = erased
		}
		channel.add(p, b, ch, action)
		if rec.Action == consent.Deny || rec.Action == consent.Withdraw {
			gpc.add(p, b, "optout")
			if rec.Source == consent.SourceGPC {
				gpc.add(p, b, "gpc")
			}
		}
	}
}

func consentRows(t *table) []ConsentRow {
	out := []ConsentRow{}
	for _, k := range t.keys() {
		b, key := parseDay(k[0]), k[1]
		if n := len(out); n > 0 && out[n-1].Bucket.Equal(b) && out[n-1].Key == key {
			continue
		}
		out = append(out, ConsentRow{Bucket: b, Key: key,
			Grants:      t.get(k[0], key, consent.Grant.String()),
			Denials:     t.get(k[0], key, consent.Deny.String()),
			Withdrawals: t.get(k[0], key, consent.Withdraw.String()),
		})
	}
	return out
}

// totals sums the consent table t over the buckets, per key and action:
// the noisy counts add up to an unbiased estimate of the total, whose
// noise has √buckets times the spread of one count (a normal interval).
func (r *Report) totals(t *table, keys []string) []ConsentRow {
	z := math.Sqrt2 * math.Erfinv(1-r.Alpha)
	half := z * t.mech.StdDev() * math.Sqrt(float64(len(r.Buckets)))
	out := []ConsentRow{}
	for _, k := range keys {
		var e [3]Estimate
		any := false
		for a, action := range []consent.Action{consent.Grant, consent.Deny, consent.Withdraw} {
			sum := 0.0
			for _, b := range r.Buckets {
				if p, ok := t.res.Lookup(day(b) + sep + k + sep + action.String()); ok {
					sum += float64(p.Count.Value)
				}
			}
			e[a] = Estimate{Value: sum, Lower: math.Max(0, sum-half), Upper: math.Max(0, sum+half)}
			e[a].Released = atLeast(e[a].Lower, t.min)
			any = any || e[a].Released
		}
		if any {
			out = append(out, ConsentRow{Bucket: r.From, Key: k, Grants: e[0], Denials: e[1], Withdrawals: e[2]})
		}
	}
	return out
}

// serve is a "recommend.serve" event with its person.
type serve struct {
	*serveEvent
	at     time.Time
	person string
}

// servesOf returns the response events, each with its person, in time
// order; none when key is "".
func servesOf(events []Event, key string) ([]serve, error) {
	if key == "" {
		return nil, nil
	}
	var out []serve
	for i := range events {
		e := &events[i]
		if e.serve == nil {
			continue
		}
		p, err := e.str(key, true)
		if err == nil && p == "" {
			err = &attrError{key, "empty"}
		}
		if err != nil {
			return nil, &LineError{Input: "events", Line: e.Line, Err: err}
		}
		out = append(out, serve{e.serve, e.Time, "p:" + p})
	}
	slices.SortStableFunc(out, func(a, b serve) int { return a.at.Compare(b.at) })
	return out, nil
}

// serveTables adds the responses to the response and tier tables.
func (r *Report) serveTables(serves []serve, serve, moves *table) {
	highest := make(map[string]recommend.Tier)
	for _, s := range serves {
		b, in := r.bucket(s.at)
		top, seen := highest[s.person]
		if !seen || s.tier > top {
			highest[s.person] = s.tier
		}
		if !in {
			continue
		}
		if seen && s.tier > top {
			moves.add(s.person, b, s.tier.String())
		}
		t := s.tier.String()
		serve.add(s.person, b, t, "served")
		guarded := false
		for k, n := range s.filtered {
			guarded = guarded || (n > 0 && k != "already_bought")
		}
		for _, c := range []struct {
			name string
			on   bool
		}{
			{"not_interested", s.filtered["not_interested"] > 0},
			{"suppressed", guarded},
			{"warm_up", s.warmUp},
			{"confidence_floor", s.filtered["confidence_floor"] > 0},
			{"sensitive", s.filtered["sensitive"] > 0},
		} {
			if c.on {
				serve.add(s.person, b, t, c.name)
			}
		}
	}
}

func (r *Report) serveRows(serve, moves *table) {
	r.Serve, r.TierMoves = []ServeRow{}, []TierMoveRow{}
	for _, k := range serve.keys() {
		if k[2] != "served" {
			continue
		}
		tier := tiers[k[1]]
		row := ServeRow{Bucket: parseDay(k[0]), Tier: tier, Served: serve.get(k...)}
		for i, dst := range []*Estimate{&row.NotInterested, &row.Suppressed, &row.WarmUp, &row.ConfidenceFloor, &row.Sensitive} {
			*dst = serve.get(k[0], k[1], serveCounts[i+1])
		}
		r.Serve = append(r.Serve, row)
	}
	slices.SortStableFunc(r.Serve, func(a, b ServeRow) int {
		return cmp.Or(a.Bucket.Compare(b.Bucket), cmp.Compare(a.Tier, b.Tier))
	})
	for _, k := range moves.keys() {
		r.TierMoves = append(r.TierMoves, TierMoveRow{Bucket: parseDay(k[0]), Tier: tiers[k[1]], People: moves.get(k...)})
	}
	slices.SortStableFunc(r.TierMoves, func(a, b TierMoveRow) int {
		return cmp.Or(a.Bucket.Compare(b.Bucket), cmp.Compare(a.Tier, b.Tier))
	})
}

// truncation returns why the ledger ends before a record that a
// "consent.change" event names, or nil.
func truncation(in Input) *Violation {
	n := len(in.Ledger)
	if n == 0 {
		return nil // no ledger to compare with
	}
	last := in.Ledger[n-1].Seq
	for i := range in.Events {
		e := &in.Events[i]
		seq := e.imported
		if e.change != nil {
			seq = e.change.seq
		}
		if seq > last {
			return &Violation{Kind: ErrChainBreak, Line: e.Line, Seq: seq,
				Why: "the ledger ends at record " + utoa(last) + " but the audit events name record " + utoa(seq) + ": records were cut off"}
		}
	}
	return nil
}
