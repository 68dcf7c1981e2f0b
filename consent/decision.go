package consent

import (
	"strconv"
	"time"
)

// Signals are facts about the request a decision is made for, as opposed to
// facts on record. The zero value means "no signal".
type Signals struct {
	// GPC is true when the request carries the Global Privacy Control signal
	// (the Sec-GPC: 1 header or navigator.globalPrivacyControl). It is an
	// opt-out of sale, sharing and targeted advertising, and, where the
	// policy says so, an objection to direct marketing (see [Regime] and
	// [Policy].GPCObjectsToMarketing).
	GPC bool
	// Age is the person's age in whole years when known, 0 when unknown
	// (treated as an adult). Negative ages are an error.
	Age int
	// Regime is the body of law that applies to this person, when it differs
	// from the Gate's default; RegimeDefault (the zero value) means the
	// Gate's.
	Regime Regime
}

// Basis is the legal basis a purpose relies on (GDPR Art. 6 and 9).
type Basis uint8

// Legal bases.
const (
	BasisUnknown            Basis = iota // the zero value; never valid in a policy
	BasisConsent                         // Art. 6(1)(a)
	BasisExplicitConsent                 // Art. 9(2)(a): required for sensitive categories
	BasisContract                        // Art. 6(1)(b)
	BasisLegalObligation                 // Art. 6(1)(c)
	BasisVitalInterest                   // Art. 6(1)(d)
	BasisPublicTask                      // Art. 6(1)(e)
	BasisLegitimateInterest              // Art. 6(1)(f)
)

var basisNames = [...]string{
	BasisUnknown:            "unknown",
	BasisConsent:            "consent",
	BasisExplicitConsent:    "explicit_consent",
	BasisContract:           "contract",
	BasisLegalObligation:    "legal_obligation",
	BasisVitalInterest:      "vital_interest",
	BasisPublicTask:         "public_task",
	BasisLegitimateInterest: "legitimate_interest",
}

// String returns the basis as a snake_case word ("explicit_consent").
func (b Basis) String() string { return name(basisNames[:], b) }

// NeedsConsent reports whether the basis is consent or explicit consent.
func (b Basis) NeedsConsent() bool { return b == BasisConsent || b == BasisExplicitConsent }

// Decision is the Gate's answer for one subject, purpose and time. It is a
// plain value: it can be kept, compared and logged (log the Reason and
// Purpose, not the Subject).
type Decision struct {
	Allowed bool      `json:"allowed"`
	Subject string    `json:"subject"`
	Purpose Purpose   `json:"purpose"`
	At      time.Time `json:"at"`     // the time the decision was made for
	Basis   Basis     `json:"basis"`  // the legal basis the purpose relies on
	Reason  Reason    `json:"reason"` // why, as a code callers can branch on
	// Expires is when an allowing decision stops holding (consent lifetime),
	// zero when it does not expire.
	Expires time.Time `json:"expires,omitzero"`
	// Record is the ledger record the decision rests on: the grant that
	// allows, the denial or withdrawal that denies, the grant that expired
	// or is out of date. It is the zero Record (Seq 0) when the decision
	// rests on the policy and the regime alone (no consent needed, nothing
	// on record, a signal).
	Record Record `json:"record,omitzero"`
	// PolicyVersion is the version of the policy the decision was made under.
	PolicyVersion int `json:"policy_version"`
	// Regime is the regime the decision was made under.
	Regime Regime `json:"regime"`
}

// ParseBasis returns the basis named by s, one of the words [Basis.String]
// returns ("consent", "explicit_consent", "contract", "legal_obligation",
// "vital_interest", "public_task", "legitimate_interest"). "unknown" and
// anything else is an [ErrInvalidPolicy].
func ParseBasis(s string) (Basis, error) {
	if b, ok := lookup(basisNames[:], s, BasisConsent); ok {
		return b, nil
	}
	return BasisUnknown, &PolicyError{Field: "basis", Why: "unknown legal basis " + strconv.Quote(s)}
}

// MarshalText encodes the basis as its [Basis.String] word.
func (b Basis) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText decodes a basis word; see [ParseBasis].
func (b *Basis) UnmarshalText(text []byte) error {
	v, err := ParseBasis(string(text))
	if err != nil {
		return err
	}
	*b = v
	return nil
}
