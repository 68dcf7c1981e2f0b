package recommend

import (
	"errors"
	"strconv"
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

func (q *request) withhold(s Source, why WithheldReason, d consent.Decision, err error, text string) {
	q.resp.Withheld = append(q.resp.Withheld, Withheld{
		Source: s, Purpose: s.Purpose(), Reason: why, Decision: d, Err: err,
		Text: s.noun() + " " + text,
	})
}

// undeclared withholds source s, which the policy of decision d does not
// let read category c (nor, when purpose is set, the purpose at all).
func (q *request) undeclared(s Source, d consent.Decision, c consent.Category, purpose bool) {
	text := "not used: our privacy policy does not list " + string(c) + " for " + string(s.Purpose())
	if purpose {
		text = "not used: our privacy policy does not include " + string(s.Purpose())
	}
	q.withhold(s, WithheldPolicy, d, nil, text)
	q.resp.Withheld[len(q.resp.Withheld)-1].Category = c
}

// excludeNote ends the explanation of a source read only to leave items
// out.
const excludeNote = " (except to leave items out)"

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
		q.withhold(s, WithheldNoSubject, consent.Decision{}, nil, "not used: no person or session to ask consent for")
		return noAccess
	}
	d, err := q.decide(s.Purpose())
	if err != nil {
		q.withhold(s, WithheldUnavailable, d, err, "not used: consent could not be checked")
		return noAccess
	}
	if pc := q.r.policyFor(d.PolicyVersion); pc.missing[s] != "" {
		q.undeclared(s, d, pc.missing[s], pc.undeclared[s])
		return noAccess
	}
	switch {
	case !d.Allowed:
		q.withhold(s, WithheldConsent, d, nil, "not used: "+d.Explain())
		return noAccess
	case s != SourceContext && q.r.profiles == nil:
		q.withhold(s, WithheldUnavailable, d, ErrNoProfiles, "not used: not available")
		return noAccess
	case !tierOK:
		text := "used only once you're a recognized customer"
		if s == SourceHistory {
			text = "used only once you're an established customer"
		}
		if s != SourceFeedback {
			q.withhold(s, WithheldTier, consent.Decision{}, nil, "not used: "+text)
			return noAccess
		}
		q.withhold(s, WithheldTier, consent.Decision{}, nil, "not used: "+text+excludeNote)
		return excludeOnly
	case warm:
		q.withhold(s, WithheldWarmUp, consent.Decision{}, nil, "not used: warm-up: first "+minutes(q.r.warmUp)+" of your visit"+excludeNote)
		return excludeOnly
	}
	return fullAccess
}

func minutes(d time.Duration) string {
	if d%time.Minute == 0 {
		n := int(d / time.Minute)
		if n == 1 {
			return "minute"
		}
		return strconv.Itoa(n) + " minutes"
	}
	return d.String()
}
