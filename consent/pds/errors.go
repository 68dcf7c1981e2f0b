package pds

import "errors"

// Sentinel errors. Every error about a grant is one of these, or a
// [*GrantError] that unwraps to one of them, so callers can branch with
// [errors.Is]. Errors of the host's [Keys], [Revocations] and [Ledger] are
// returned as they are.
var (
	// ErrMalformed is returned for a token that is not a grant in the
	// documented format: too long, a byte outside base64url and dots, not
	// three parts, bad base64, bad or non-UTF-8 JSON, a JSON object with a
	// repeated member name, an "alg" other than exactly "EdDSA" (including
	// "none", "HS256" and "Ed25519"), a "crit" or "b64" header parameter, a
	// "typ" other than [Type], a missing or ill-typed claim, or granted
	// data of the wrong shape.
	ErrMalformed = errors.New("pds: malformed grant")
	// ErrSignature is returned when the signature does not verify with the
	// issuer's key: the token was altered or signed with another key.
	ErrSignature = errors.New("pds: grant signature does not verify")
	// ErrUnknownKey is returned when the [Keys] hold no key for the
	// token's issuer and key id.
	ErrUnknownKey = errors.New("pds: unknown issuer key")
	// ErrExpired is returned at or after the grant's expiry ("exp").
	ErrExpired = errors.New("pds: grant expired")
	// ErrNotYetValid is returned before the grant's "nbf" or "iat", beyond
	// the allowed clock skew.
	ErrNotYetValid = errors.New("pds: grant not yet valid")
	// ErrLifetime is returned for a grant whose "exp" is further after its
	// "iat" than the verifier accepts ([Config].MaxLifetime).
	ErrLifetime = errors.New("pds: grant lasts longer than the verifier accepts")
	// ErrAudience is returned for a grant whose "aud" does not name this
	// service.
	ErrAudience = errors.New("pds: grant is for another audience")
	// ErrSubject is returned for a grant whose "sub" is not the person the
	// service asked about.
	ErrSubject = errors.New("pds: grant is about another person")
	// ErrRevoked is returned for a grant its issuer revoked ([Revocations]).
	ErrRevoked = errors.New("pds: grant revoked")
	// ErrScope is returned for a read of a category the grant does not
	// cover, and for a grant whose scope or data reach beyond what its
	// purpose uses in the service's policy.
	ErrScope = errors.New("pds: outside the grant's scope")
	// ErrPurpose is returned for a grant for another purpose than the one
	// asked for, or for a purpose the service's policy does not declare.
	ErrPurpose = errors.New("pds: purpose not granted")
	// ErrConfig is returned by [NewVerifier] and [MemoryKeys.Add] for
	// invalid settings, and by every method of a Verifier not made by
	// NewVerifier.
	ErrConfig = errors.New("pds: invalid verifier configuration")
)

// GrantError says what is wrong with a grant, or with a read from one. It
// unwraps to its sentinel (Err) and to the underlying cause, if any.
type GrantError struct {
	// Claim is the header parameter, claim or data category concerned
	// ("alg", "exp", "data.user.preference.declared.sizes"), "" for the
	// token as a whole.
	Claim string
	Why   string // what is wrong, in a few words
	Err   error  // the sentinel: ErrMalformed, ErrScope, ...
	Cause error  // an underlying error (a JSON syntax error, a [consent.KeyError], ...), or nil
}

func (e *GrantError) Error() string {
	s := e.Err.Error()
	if e.Claim != "" {
		s += ": " + e.Claim
	}
	if e.Why != "" {
		s += ": " + e.Why
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the sentinel and the cause, if any.
func (e *GrantError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}

// malformed returns a *GrantError for ErrMalformed.
func malformed(claim, why string, cause error) error {
	return &GrantError{Claim: claim, Why: why, Err: ErrMalformed, Cause: cause}
}
