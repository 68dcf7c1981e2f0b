package consent

// Reason says why a [Decision] came out as it did. Callers branch on it; the
// text for a person is [Catalog.Reason] ([Reason.Text] in English), and
// [Decision.Explain] is a sentence for logs.
type Reason uint8

// Reasons.
const (
	ReasonUnknown Reason = iota
	// Allowing reasons.
	ReasonGranted     // the person granted consent for the purpose or a parent of it
	ReasonNotConsent  // the basis is not consent (contract, legal obligation, ...): allowed without it
	ReasonNotOptedOut // an opt-out regime (CPRA) and the person has not opted out
	// Denying reasons.
	ReasonNoConsent // consent is required and none is on record
	ReasonDenied    // the person denied consent for the purpose or a parent of it
	ReasonWithdrawn // the person withdrew consent for the purpose or a parent of it
	ReasonExpired   // the consent on record is older than the purpose's consent lifetime
	ReasonReconsent // the consent on record is for an older version of the purpose
	ReasonGPC       // a Global Privacy Control signal opts the person out
	ReasonMinor     // the person is under the age that needs opt-in consent
	ReasonObjected  // the person objected to a legitimate-interest purpose

	// ReasonLegitimateInterest allows: the purpose rests on a legitimate
	// interest and the person has not objected. It comes after the codes
	// above so that their numbers stay stable.
	ReasonLegitimateInterest
)

var reasonNames = [...]string{
	ReasonUnknown:     "unknown",
	ReasonGranted:     "granted",
	ReasonNotConsent:  "not_consent_basis",
	ReasonNotOptedOut: "not_opted_out",
	ReasonNoConsent:   "no_consent",
	ReasonDenied:      "denied",
	ReasonWithdrawn:   "withdrawn",
	ReasonExpired:     "expired",
	ReasonReconsent:   "reconsent_required",
	ReasonGPC:         "gpc",
	ReasonMinor:       "minor",
	ReasonObjected:    "objected",

	ReasonLegitimateInterest: "legitimate_interest",
}

// Allows reports whether the reason is one an allowing decision carries.
func (r Reason) Allows() bool {
	return r == ReasonGranted || r == ReasonNotConsent || r == ReasonNotOptedOut || r == ReasonLegitimateInterest
}

// String returns a stable snake_case code ("withdrawn") for logs and JSON.
func (r Reason) String() string { return name(reasonNames[:], r) }

// Text returns a short plain-language sentence fragment for the reason,
// written to the person, in English ("you withdrew your consent"). For
// other languages, see [Catalog.Reason].
func (r Reason) Text() string { return defaultCatalog().Reason(fallbackLang, r) }

// Explain returns the decision in one sentence for logs and developers,
// such as "personalize.history is not allowed: you withdrew your consent".
// It names the purpose by its key: for a person, use the purpose's label
// and [Catalog.Reason].
func (d Decision) Explain() string {
	verdict := " is not allowed: "
	if d.Allowed {
		verdict = " is allowed: "
	}
	return string(d.Purpose) + verdict + d.Reason.Text()
}

// MarshalText encodes the reason as its [Reason.String] code.
func (r Reason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText decodes a [Reason.String] code ("withdrawn"), so that a
// [Decision] read back from JSON is the Decision written. An unknown code is
// an error that unwraps to [ErrInvalidDecision].
func (r *Reason) UnmarshalText(text []byte) error {
	if v, ok := lookup(reasonNames[:], string(text), ReasonUnknown); ok {
		*r = v
		return nil
	}
	return &codeError{ErrInvalidDecision, "reason", string(text)}
}
