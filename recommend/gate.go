package recommend

import (
	"errors"
	"time"

	"github.com/tact-go/tact/consent"
)

func (q *request) decide(p consent.Purpose) (consent.Decision, error) {
	for i := 0; i < q.nmemo; i++ {
		if q.memo[i].p == p {
			return q.memo[i].d, q.memo[i].err
		}
	}
	for _, x := range q.extra {
		if x.p == p {
			return x.d, x.err
		}
	}
	d, err := q.r.decider.Decide(q.ctx, q.req.Subject, p, q.req.At, q.req.Signals)
	x := decision{p, d, err}
	if q.nmemo < len(q.memo) {
		q.memo[q.nmemo] = x
		q.nmemo++
	} else {
		q.extra = append(q.extra, x)
	}
	return d, err
}

// decideAll asks a ManyDecider, in one call, for the purposes of every
// source the newest policy declares, and memoizes the decisions.
func (q *request) decideAll() {
	if q.r.many == nil {
		return
	}
	pc := q.r.policy.Load()
	var ps [SourceHistory + 1]consent.Purpose
	n := 0
	for s := SourceContext; s <= SourceHistory; s++ {
		if !pc.undeclared[s] {
			ps[n] = s.Purpose()
			n++
		}
	}
	if n == 0 {
		return
	}
	ds, err := q.r.many.DecideMany(q.ctx, q.req.Subject, ps[:n], q.req.At, q.req.Signals, q.dbuf[:0])
	if errors.Is(err, consent.ErrUnknownPurpose) {
		return // the policy changed under us: ask per purpose
	}
	for i, p := range ps[:n] {
		x := decision{p: p, err: err}
		if err == nil {
			x.d = ds[i]
		}
		q.memo[q.nmemo] = x
		q.nmemo++
	}
}

func (q *request) allowed(p consent.Purpose) bool {
	if q.req.Subject == "" {
		return false
	}
	d, err := q.decide(p)
	return err == nil && d.Allowed
}

// withhold notes that source s was not used (or only to leave items out),
// with its English text written once per Recommender.
func (q *request) withhold(s Source, why WithheldReason, d consent.Decision, err error) {
	w := Withheld{Source: s, Purpose: s.Purpose(), Reason: why, Decision: d, Err: err}
	if why == WithheldWarmUp {
		w.WarmUp = q.r.warmUp
	}
	w.Text = q.r.notes.text(w)
	q.resp.Withheld = append(q.resp.Withheld, w)
}

// undeclared withholds source s, which the policy pc of decision d does
// not let read category pc.missing[s].
func (q *request) undeclared(s Source, d consent.Decision, pc *policyCheck) {
	q.resp.Withheld = append(q.resp.Withheld, Withheld{
		Source: s, Purpose: s.Purpose(), Reason: WithheldPolicy, Decision: d, Category: pc.missing[s], Text: pc.note[s],
	})
}

// notes are the English texts of the notes a Recommender may write,
// written once (the warm-up's length is its own) so that withholding a
// source costs a request no allocation: by source, reason and, for
// consent, the decision's reason. Those of the policy are the
// policyCheck's.
type notes struct {
	by      [SourceHistory + 1][WithheldPolicy + 1]string // WithheldUnavailable: the store failed
	consent [SourceHistory + 1][]string                   // by consent.Reason
	none    [SourceHistory + 1]string                     // ErrNoProfiles
}

func newNotes(warmUp time.Duration) *notes {
	n := new(notes)
	for s := SourceContext; s <= SourceHistory; s++ {
		for why := WithheldTier; why < WithheldPolicy; why++ {
			n.by[s][why] = Withheld{Source: s, Reason: why, WarmUp: warmUp}.Localize(nil, "en")
		}
		n.none[s] = Withheld{Source: s, Reason: WithheldUnavailable, Err: ErrNoProfiles}.Localize(nil, "en")
		for r := consent.Reason(0); r == 0 || r.String() != "unknown"; r++ {
			d := consent.Decision{Reason: r}
			n.consent[s] = append(n.consent[s], Withheld{Source: s, Reason: WithheldConsent, Decision: d}.Localize(nil, "en"))
		}
	}
	return n
}

// text returns w.Localize(nil, "en"), for a w the Recommender wrote.
func (n *notes) text(w Withheld) string {
	if !w.Source.valid() || w.Source < SourceContext {
		return w.Localize(nil, "en")
	}
	switch {
	case w.Reason == WithheldConsent:
		if int(w.Decision.Reason) < len(n.consent[w.Source]) {
			return n.consent[w.Source][w.Decision.Reason]
		}
	case w.Reason == WithheldUnavailable && errors.Is(w.Err, ErrNoProfiles):
		return n.none[w.Source]
	case w.Reason >= WithheldTier && w.Reason < WithheldPolicy:
		return n.by[w.Source][w.Reason]
	}
	return w.Localize(nil, "en")
}

// access is how far one request may read a source.
type access uint8

const (
	noAccess access = iota
	// excludeOnly: the source only leaves items out ("not interested",
	// avoided tags, budget, sizes, already bought); it suggests nothing.
	excludeOnly
	fullAccess
)

// gate decides how far source s may be read, recording why not fully.
// Consent is asked first (once per purpose per request, memoized), so that
// a source withheld for several reasons is explained by the most
// fundamental one: the policy the decision was made under must declare
// every category the source reads for its purpose, whatever the person
// chose. Below its tier a source is not read, except feedback, whose "not
// interested" is honoured at every tier; during the warm-up a source is
// read only for what it leaves out.
func (q *request) gate(s Source, tierOK, warm bool) access {
	if q.req.Subject == "" {
		q.withhold(s, WithheldNoSubject, consent.Decision{}, nil)
		return noAccess
	}
	d, err := q.decide(s.Purpose())
	if err != nil {
		q.withhold(s, WithheldUnavailable, d, err)
		return noAccess
	}
	if pc := q.r.policyFor(d.PolicyVersion); pc.missing[s] != "" {
		q.undeclared(s, d, pc)
		return noAccess
	}
	switch {
	case !d.Allowed:
		q.withhold(s, WithheldConsent, d, nil)
		return noAccess
	case s != SourceContext && q.r.profiles == nil:
		q.withhold(s, WithheldUnavailable, d, ErrNoProfiles)
		return noAccess
	case !tierOK:
		q.withhold(s, WithheldTier, consent.Decision{}, nil)
		if !leavesOut(s, WithheldTier) {
			return noAccess
		}
		return excludeOnly
	case warm:
		q.withhold(s, WithheldWarmUp, consent.Decision{}, nil)
		return excludeOnly
	}
	return fullAccess
}
