package consent

import (
	"context"
	"errors"
	"time"
)

// Access is everything the Gate holds about one subject, for a right-of-access
// request (GDPR Art. 15, CPRA right to know, LGPD Art. 18): every record of
// the subject in the ledger and the decision for every purpose of the policy
// at the time of the request. It encodes to JSON with snake_case names.
type Access struct {
	Subject       string     `json:"subject"`
	At            time.Time  `json:"at"`
	PolicyVersion int        `json:"policy_version"`
	Records       []Record   `json:"records"`
	Decisions     []Decision `json:"decisions"`
}

// Access returns everything held about subject, with decisions made at time
// at under the Gate's default regime and no signals (they are not logged as
// decisions). Errors: [ErrEmptySubject], [ErrZeroTime], an [*EventError]
// for a subject id that is too long or not UTF-8, and the store's.
func (g *Gate) Access(ctx context.Context, subject string, at time.Time) (Access, error) {
	pol, err := g.forSubject(subject, at)
	if err != nil {
		return Access{}, err
	}
	a := Access{Subject: subject, At: at, PolicyVersion: pol.version, Records: []Record{}}
	err = g.store.Scan(ctx, subject, 0, func(r Record) error {
		a.Records = append(a.Records, r)
		return nil
	})
	if err != nil {
		return Access{}, err
	}
	if a.Decisions, err = g.decideAll(ctx, pol, subject, at); err != nil {
		return Access{}, err
	}
	return a, nil
}

// Erasure reports what [Gate.Erase] did.
type Erasure struct {
	// Records is the number of the subject's records replaced by tombstones,
	// including the withdrawals Erase recorded first.
	Records int `json:"records"`
	// Withdrawn lists the purposes whose grant Erase withdrew.
	Withdrawn []Purpose `json:"withdrawn"`
}

// Erase erases a subject (GDPR Art. 17, CPRA right to delete, LGPD Art. 18),
// keeping only what proof of withdrawal requires.
//
// First it withdraws every purpose the subject's latest record grants
// (Source [SourceErasure], at time at, on the grant's channel), so that the
// ledger shows consent ended before the data went. Then it replaces every
// record of the subject by its tombstone ([Record.Tombstone]): no subject,
// channel, evidence or actor remains; denials and withdrawals keep their
// purpose, time, policy version and source; grants keep only the fact that
// they were grants. The chain still verifies, so the ledger still proves
// every withdrawal, and a person who kept a receipt can show that a
// tombstone is theirs by its hash.
//
// Afterwards the Gate knows nothing about the subject: a later decision for
// the same id is that for a new person. Errors: [ErrEmptySubject],
// [ErrZeroTime], and the store's; on a store error some withdrawals may
// have been recorded but no record is erased unless Redact succeeded.
func (g *Gate) Erase(ctx context.Context, subject string, at time.Time) (Erasure, error) {
	pol, err := g.forSubject(subject, at)
	if err != nil {
		return Erasure{}, err
	}
	if y := at.UTC().Year(); y < 1 || y > 9999 {
		return Erasure{}, &EventError{Field: "at", Why: "year out of range 1-9999"}
	}
	g.mu.Lock()
	e, withdrawals, err := g.eraseLocked(ctx, pol, subject, at)
	g.mu.Unlock()
	for i := range withdrawals {
		g.logChange(ctx, &withdrawals[i])
	}
	if err != nil {
		return e, err
	}
	g.logErase(ctx, &e)
	return e, nil
}

// eraseLocked does Erase's work under g.mu and returns the withdrawals it
// recorded, to be logged once the lock is released. Another writer may
// record for the subject between the reading of its records and their
// redaction; the store then refuses the redaction, and eraseLocked starts
// again, withdrawing anything granted since.
func (g *Gate) eraseLocked(ctx context.Context, pol *compiledPolicy, subject string, at time.Time) (Erasure, []Record, error) {
	e := Erasure{Withdrawn: []Purpose{}}
	var withdrawals []Record
	for try := 1; ; try++ {
		ws, n, err := g.withdrawAll(ctx, pol, subject, at, &e)
		withdrawals = append(withdrawals, ws...)
		if err != nil {
			return e, withdrawals, err
		}
		tombs := make([]Record, 0, n+len(ws))
		err = g.store.Scan(ctx, subject, 0, func(r Record) error {
			tombs = append(tombs, r.Tombstone())
			return nil
		})
		if err != nil {
			return e, withdrawals, err
		}
		err = g.store.Redact(ctx, tombs)
		var ce *ConflictError
		if errors.As(err, &ce) && try < maxAppendTries {
			if err := g.learnHead(ce.Last); err != nil {
				return e, withdrawals, err
			}
			continue
		}
		if err != nil {
			return e, withdrawals, err
		}
		e.Records = len(tombs)
		return e, withdrawals, nil
	}
}

// withdrawAll records a withdrawal (Source [SourceErasure]) of every
// purpose the subject's latest record grants, dated at, or at the subject's
// latest record if that is later, adds the purposes to e.Withdrawn and
// returns the records and the number of records the subject had before.
func (g *Gate) withdrawAll(ctx context.Context, pol *compiledPolicy, subject string, at time.Time, e *Erasure) ([]Record, int, error) {
	var order []Purpose // the latest record per purpose, in ledger order
	latest := map[Purpose]Record{}
	n := 0
	err := g.store.Scan(ctx, subject, 0, func(r Record) error {
		n++
		if _, ok := latest[r.Purpose]; !ok {
			order = append(order, r.Purpose)
		}
		latest[r.Purpose] = r
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	var evs []Event
	for _, p := range order {
		r := latest[p]
		if r.Action != Grant {
			continue
		}
		ev := Event{Action: Withdraw, Subject: subject, Purpose: p, At: at.Round(0).UTC(),
			Channel: r.Channel, PolicyVersion: pol.version, Source: SourceErasure, Actor: r.Actor}
		if err := ev.validate(); err != nil {
			return nil, n, err
		}
		evs = append(evs, ev)
	}
	if len(evs) == 0 {
		return nil, n, nil
	}
	recs, err := g.appendLocked(ctx, pol, evs, true)
	if err != nil {
		return nil, n, err
	}
	for _, r := range recs {
		e.Withdrawn = append(e.Withdrawn, r.Purpose)
	}
	return recs, n, nil
}
