package consent

import "time"

// Signals are facts about the request a decision is made for, as opposed to
// facts on record. The zero value means "no signal".
type Signals struct {
	// GPC is true when the request carries the Global Privacy Control signal
	// (the Sec-GPC: 1 header or navigator.globalPrivacyControl). It is an
	// opt-out of sale, sharing and targeted advertising, and under GDPR an
	// objection to direct marketing.
	GPC bool
	// Age is the person's age in whole years when known, 0 when unknown.
	Age int
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
func (b Basis) String() string {
	if int(b) < len(basisNames) {
		return basisNames[b]
	}
	return "unknown"
}

// NeedsConsent reports whether the basis is consent or explicit consent.
func (b Basis) NeedsConsent() bool { return b == BasisConsent || b == BasisExplicitConsent }

// Decision is the Gate's answer for one subject, purpose and time. It is a
// plain value: it can be kept, compared and logged.
type Decision struct {
	Allowed bool
	Subject string
	Purpose Purpose
	At      time.Time // the time the decision was made for
	Basis   Basis     // the legal basis the purpose relies on
	Reason  Reason    // why, as a code callers can branch on
	// Expires is when an allowing decision stops holding (consent lifetime),
	// zero when it does not expire.
	Expires time.Time
}
