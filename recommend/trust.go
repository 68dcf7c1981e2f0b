package recommend

import (
	"time"

	"github.com/tact-go/tact/consent"
)

// Tier is how far a relationship has earned personal recommendations. A
// tier decides which signal sources may be read at all; consent then
// decides, per source, whether its purpose holds.
//
//	tier         sources read (when consent allows)
//	Anonymous    context, popularity; "not interested" feedback (it only removes)
//	Recognized   + declared preferences, feedback ("liked")
//	Established  + purchase and view history
//
// During the warm-up of a visit the personal sources a tier reaches are
// read only for what they leave out (avoided tags, budget, sizes, "not
// interested", items already bought): only context and popularity suggest
// items.
type Tier uint8

// Tiers, from least to most personal.
const (
	Anonymous Tier = iota
	Recognized
	Established
	numTiers
)

var tierNames = [...]string{Anonymous: "anonymous", Recognized: "recognized", Established: "established"}

// String returns "anonymous", "recognized" or "established".
func (t Tier) String() string {
	if t < numTiers {
		return tierNames[t]
	}
	return "unknown"
}

// Allows reports whether sources of kind s may suggest items at tier t.
// Feedback is read at every tier for its "not interested", which only
// removes items.
func (t Tier) Allows(s Source) bool {
	switch s {
	case SourceContext, SourcePopularity:
		return true
	case SourceDeclared, SourceFeedback:
		return t >= Recognized && t < numTiers
	case SourceHistory:
		return t == Established
	}
	return false
}

// Relationship is what the host knows about its relationship with the
// person making a request. The zero value is a stranger.
type Relationship struct {
	// Known is true when the host knows who the person is (signed in, or a
	// returning customer it recognizes), not just a session.
	Known bool
	// FirstSeen is when the relationship began; zero when unknown.
	FirstSeen time.Time
	// Visits is the number of visits so far, this one included.
	Visits int
	// Orders is the number of completed orders.
	Orders int
}

// Tenure returns how long the relationship has lasted at time at; 0 when
// FirstSeen is unknown or after at.
func (r Relationship) Tenure(at time.Time) time.Duration {
	if r.FirstSeen.IsZero() || r.FirstSeen.After(at) {
		return 0
	}
	return at.Sub(r.FirstSeen)
}

// TrustPolicy derives the tier of a request.
//
// Tier returns the tier for relationship r at time at. allowed reports
// whether consent allows a purpose for this request; the [Recommender]
// asks its [Decider] at most once per purpose per request however often
// allowed is called, and a policy should call it only for the purposes it
// needs (each call may reach the host's consent store). Tier must be safe
// for simultaneous use and must not keep allowed after it returns.
type TrustPolicy interface {
	Tier(r Relationship, at time.Time, allowed func(consent.Purpose) bool) Tier
}

// TrustFunc adapts a function to a [TrustPolicy].
type TrustFunc func(r Relationship, at time.Time, allowed func(consent.Purpose) bool) Tier

// Tier calls f.
func (f TrustFunc) Tier(r Relationship, at time.Time, allowed func(consent.Purpose) bool) Tier {
	return f(r, at, allowed)
}

// DefaultTrust is the default [TrustPolicy]. A person is
//
//   - Anonymous unless Known, or when consent allows neither
//     personalize.declared nor personalize.feedback (nothing personal may be
//     used, so nothing personal is pretended);
//   - Recognized when Known and one of those purposes is allowed;
//   - Established when Recognized, with at least EstablishedOrders orders,
//     EstablishedVisits visits and EstablishedTenure since first seen, and
//     consent allows personalize.history.
//
// The zero value uses 2 orders, 3 visits and 30 days: a zero field takes
// its default ([DefaultEstablishedOrders], [DefaultEstablishedVisits],
// [DefaultEstablishedTenure]); a negative one asks for no minimum.
type DefaultTrust struct {
	EstablishedOrders int
	EstablishedVisits int
	EstablishedTenure time.Duration
}

// Default thresholds of [DefaultTrust].
const (
	DefaultEstablishedOrders = 2
	DefaultEstablishedVisits = 3
	DefaultEstablishedTenure = 30 * 24 * time.Hour
)

// Tier implements [TrustPolicy].
func (p DefaultTrust) Tier(r Relationship, at time.Time, allowed func(consent.Purpose) bool) Tier {
	if !r.Known {
		return Anonymous
	}
	if !allowed(consent.PurposePersonalizeDeclared) && !allowed(consent.PurposePersonalizeFeedback) {
		return Anonymous
	}
	orders, visits, tenure := p.EstablishedOrders, p.EstablishedVisits, p.EstablishedTenure
	if orders == 0 {
		orders = DefaultEstablishedOrders
	}
	if visits == 0 {
		visits = DefaultEstablishedVisits
	}
	if tenure == 0 {
		tenure = DefaultEstablishedTenure
	}
	if r.Orders >= orders && r.Visits >= visits && r.Tenure(at) >= tenure && allowed(consent.PurposePersonalizeHistory) {
		return Established
	}
	return Recognized
}
