package consent

import (
	"context"
	"time"
)

// Guest is a view of a [Gate] for people the host does not know (a browser
// without an account or a visitor id): it decides as the Gate would for
// someone with nothing on record, from the policy, the regime and the
// request's [Signals] alone, and it reads and writes nothing. A GPC signal
// is honoured but not recorded: there is no one to record it for. Its
// methods have the Gate's signatures, so that it can stand in for the Gate
// wherever a decider is asked for (a recommender serving a guest); the
// subject they are given is checked, and then not used.
type Guest struct{ g *Gate }

// Guest returns the Gate's view for people the host does not know.
func (g *Gate) Guest() Guest { return Guest{g} }

// Policy returns a copy of the Gate's policy.
func (v Guest) Policy() *Policy { return v.g.Policy() }

// Decide decides purpose for a person with nothing on record; see
// [Gate.Decide] for the rules and errors (less those of the store).
func (v Guest) Decide(ctx context.Context, subject string, purpose Purpose, at time.Time, sig Signals) (Decision, error) {
	var out [1]Decision
	ds, err := v.DecideMany(ctx, subject, []Purpose{purpose}, at, sig, out[:0])
	if err != nil {
		return Decision{}, err
	}
	return ds[0], nil
}

// DecideMany is Decide for several purposes, appended to dst; on an error,
// dst is returned unchanged.
func (v Guest) DecideMany(ctx context.Context, subject string, purposes []Purpose, at time.Time, sig Signals, dst []Decision) ([]Decision, error) {
	pol := v.g.policy.Load()
	if pol == nil {
		return dst, ErrUninitialized
	}
	if err := checkRequest(subject, at, sig); err != nil {
		return dst, err
	}
	regime := sig.Regime
	if regime == RegimeDefault {
		regime = v.g.regime
	}
	n := len(dst)
	for _, p := range purposes {
		cp := pol.purposes[p]
		if cp == nil {
			return dst[:n], badPurpose(p)
		}
		d := Decision{Subject: subject, Purpose: p, At: at, Basis: cp.spec.Basis, PolicyVersion: pol.version, Regime: regime}
		if !cp.spec.Basis.NeedsConsent() && cp.spec.Basis != BasisLegitimateInterest {
			d.Allowed, d.Reason = true, ReasonNotConsent
		} else {
			var none [MaxKeyDepth]*Record
			evaluate(cp, none[:len(cp.path)], 0, &d, sig.Age)
			if sig.GPC && cp.gpc[regime] {
				vetoGPC(&d)
			}
		}
		dst = append(dst, d)
	}
	return dst, nil
}
