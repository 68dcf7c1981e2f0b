package consent

// Regime is a body of privacy law whose defaults the Gate applies. A Gate has
// a default regime ([GateConfig].Regime); a request may name another in
// [Signals].Regime, so one Gate serves people in several jurisdictions.
//
// The rules the Gate applies, by regime:
//
//   - [GDPR] (EU, UK): purposes on a consent basis are denied until the
//     person grants them (opt-in). A person under 16 ([Signals].Age) needs a
//     grant by a guardian (Art. 8). Legitimate-interest purposes are allowed
//     until the person objects. A Global Privacy Control signal denies
//     purposes marked SaleOrShare and, when the policy says so
//     ([Policy].GPCObjectsToMarketing), counts as an objection to purposes
//     marked DirectMarketing (Art. 21(2) and (5)).
//   - [LGPD] (Brazil): as GDPR (consent is opt-in, Art. 7 and 8; an
//     objection under Art. 18 §2), with a guardian needed under 12 (Art. 14).
//   - [CPRA] (California): purposes on a consent basis are allowed until the
//     person opts out, except explicit-consent (sensitive) purposes, which stay
//     opt-in. For a person under 16 every consent-basis purpose is opt-in,
//     with the grant made by a guardian under 13: the law asks this for sale
//     and sharing (Cal. Civ. Code 1798.120(c)); the Gate applies it to all
//     of them, the stricter reading. GPC is an opt-out of sale, sharing and
//     targeted advertising (purposes marked SaleOrShare).
//
// In every regime: contract, legal-obligation, vital-interest and public-task
// purposes are allowed without consent and the decision says so; a denial or
// withdrawal is honoured; a GPC signal, once seen, is recorded so that its
// later absence is not an opt-in, and it prevails over earlier grants; a
// later grant the person confirms over it ([Event].OverridesGPC) prevails
// over the signal for that purpose. When the age is unknown ([Signals].Age is 0)
// the person is treated as an adult: hosts that serve children should pass
// the age they know.
type Regime uint8

// Regimes.
const (
	// RegimeDefault is the zero value. In [Signals] it means "the Gate's
	// regime"; in [GateConfig] it means [GDPR].
	RegimeDefault Regime = iota
	GDPR                 // EU General Data Protection Regulation: opt-in
	LGPD                 // Brazil's Lei Geral de Proteção de Dados: opt-in
	CPRA                 // California Privacy Rights Act: opt-out, opt-in for sensitive and minors
)

var regimeNames = [...]string{
	RegimeDefault: "default",
	GDPR:          "gdpr",
	LGPD:          "lgpd",
	CPRA:          "cpra",
}

// String returns the regime's lower-case name ("gdpr").
func (r Regime) String() string { return name(regimeNames[:], r) }

// MarshalText encodes the regime as its String.
func (r Regime) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText decodes a regime's String ("gdpr"). An unknown name is an
// error that unwraps to [ErrInvalidSignals].
func (r *Regime) UnmarshalText(text []byte) error {
	if v, ok := lookup(regimeNames[:], string(text), RegimeDefault); ok {
		*r = v
		return nil
	}
	return &codeError{ErrInvalidSignals, "regime", string(text)}
}

func (r Regime) valid() bool { return r <= CPRA }

// optIn reports whether consent-basis purposes need a grant by default.
func (r Regime) optIn() bool { return r != CPRA }

// guardianAge returns the age under which a grant must come from a guardian.
func (r Regime) guardianAge() int {
	switch r {
	case LGPD:
		return 12
	case CPRA:
		return 13
	default:
		return 16
	}
}

// minorOptInAge returns the age under which sale or sharing needs an opt-in
// grant even in an opt-out regime; 0 when the regime is opt-in anyway.
func (r Regime) minorOptInAge() int {
	if r == CPRA {
		return 16
	}
	return 0
}
