package pds

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/tact-go/tact/consent"
)

// Keys finds the public keys of the personal data stores the service
// trusts.
//
// Key returns the Ed25519 public key that issuer signs grants with under
// key id kid, or an error wrapping [ErrUnknownKey] if there is none (an
// issuer the service does not trust, a key id it does not know, a key
// retired). A key belongs to one issuer: the Verifier takes the issuer from
// the token and trusts the claim only because its key verifies, so a Keys
// must never return one issuer's key for another. Other errors (a store
// that cannot be reached) are returned by Verify as they are. Key must be
// safe for simultaneous use.
type Keys interface {
	Key(ctx context.Context, issuer, kid string) (ed25519.PublicKey, error)
}

// Revocations says which grants their issuers have revoked.
//
// Revoked reports whether issuer has revoked its grant id (the "jti"). It
// is asked on every verification and on every decision that rests on a
// grant, so a revocation takes effect on the next one; how the host learns
// of revocations (a status list it fetches, a callback from the data store)
// is its own. An error is returned by Verify and Decide as it is. Revoked
// must be safe for simultaneous use.
type Revocations interface {
	Revoked(ctx context.Context, issuer, id string) (bool, error)
}

// Ledger is what a [Verifier] needs from the consent ledger: the policy in
// force, decisions, and a record of each grant used. *consent.Gate
// implements it; the methods have the contracts of [consent.Gate.Decide],
// [consent.Gate.Record] and [consent.Gate.Policy].
type Ledger interface {
	Decide(ctx context.Context, subject string, purpose consent.Purpose, at time.Time, sig consent.Signals) (consent.Decision, error)
	Record(ctx context.Context, ev consent.Event) (consent.Record, error)
	Policy() *consent.Policy
}

var (
	_ Ledger      = (*consent.Gate)(nil)
	_ ManyDecider = (*consent.Gate)(nil)
)

// ManyDecider is a [Ledger] that decides several purposes at once, as
// [consent.Gate.DecideMany] does; [Verifier.DecideMany] uses it when the
// Ledger has it.
type ManyDecider interface {
	DecideMany(ctx context.Context, subject string, purposes []consent.Purpose, at time.Time, sig consent.Signals, dst []consent.Decision) ([]consent.Decision, error)
}

// Defaults of [Config].
const (
	// DefaultMaxLifetime is the longest a grant may last (exp - iat) when
	// Config.MaxLifetime is zero.
	DefaultMaxLifetime = 30 * 24 * time.Hour
	// DefaultSkew is the clock skew allowed when Config.Skew is zero.
	DefaultSkew = time.Minute
)

// Config holds a Verifier's optional settings. The zero value is valid:
// grants of up to 30 days, one minute of clock skew.
type Config struct {
	// MaxLifetime is the longest a grant may last from its "iat" to its
	// "exp"; longer ones are refused with [ErrLifetime]. Zero means
	// [DefaultMaxLifetime].
	MaxLifetime time.Duration
	// Skew is how far the data store's clock may run ahead of the
	// service's: a grant is accepted up to Skew before its "iat" and
	// "nbf". It does not extend "exp": a grant stops at the time the
	// person set, by the service's clock. Zero means [DefaultSkew].
	Skew time.Duration
}

// Verifier verifies grants for one service (the audience), records their
// use in the consent ledger, and decides, for the recommender, as the
// ledger does but ending the decisions that rest on a grant when the grant
// ends. It is safe for simultaneous use by multiple goroutines.
//
// Make a Verifier with [NewVerifier]; every method of one that was not
// made by NewVerifier returns [ErrConfig].
type Verifier struct {
	ledger   Ledger
	many     ManyDecider // ledger, when it implements ManyDecider
	keys     Keys
	revs     Revocations
	audience string
	maxLife  time.Duration
	skew     time.Duration
}

// NewVerifier returns a Verifier for the service audience (the "aud" its
// grants must name) that trusts the keys of keys, checks revocations with
// revs and records in, and decides with, ledger. Errors: [ErrConfig] for a
// nil argument, an empty audience or a negative duration.
func NewVerifier(ledger Ledger, keys Keys, revs Revocations, audience string, cfg Config) (*Verifier, error) {
	switch {
	case ledger == nil || keys == nil || revs == nil:
		return nil, &GrantError{Why: "ledger, keys and revocations are required", Err: ErrConfig}
	case audience == "":
		return nil, &GrantError{Claim: "aud", Why: "the audience is required", Err: ErrConfig}
	case cfg.MaxLifetime < 0 || cfg.Skew < 0:
		return nil, &GrantError{Why: "negative duration", Err: ErrConfig}
	}
	if cfg.MaxLifetime == 0 {
		cfg.MaxLifetime = DefaultMaxLifetime
	}
	if cfg.Skew == 0 {
		cfg.Skew = DefaultSkew
	}
	v := &Verifier{ledger: ledger, keys: keys, revs: revs, audience: audience, maxLife: cfg.MaxLifetime, skew: cfg.Skew}
	v.many, _ = ledger.(ManyDecider)
	return v, nil
}

// Verify verifies token as a grant to read data about subject (the
// service's id for the person) for purpose at time now, and returns it.
// It checks, in this order:
//
//  1. the form: a compact JWS of at most [MaxTokenLen] bytes, "alg"
//     exactly "EdDSA", "typ" [Type], no "crit" nor "b64", every claim
//     present and well typed, no repeated JSON member ([ErrMalformed]);
//  2. the signature, with the key [Keys] returns for "iss" and "kid"
//     ([ErrUnknownKey], [ErrSignature]);
//  3. "aud" names the service ([ErrAudience]);
//  4. the grant lasts no longer than [Config].MaxLifetime ([ErrLifetime]);
//  5. now is not before "iat" and "nbf", give or take the skew
//     ([ErrNotYetValid]), and is before "exp" ([ErrExpired]);
//  6. "sub" is subject ([ErrSubject]);
//  7. "purpose" is purpose, and the policy in force ([Ledger].Policy)
//     declares it ([ErrPurpose]);
//  8. the purpose uses, in that policy, every category of the scope, and
//     the scope covers every category of the data ([ErrScope]);
//  9. the issuer has not revoked it ([ErrRevoked]).
//
// Each error is a [*GrantError] naming the claim; errors of Keys and
// Revocations are returned as they are. Verify reads nothing but its
// arguments, the Keys, the Revocations and the policy, and writes nothing:
// a service verifies a grant each time it reads from it, so expiry and
// revocation take effect at once. Arguments: [consent.ErrZeroTime] for a
// zero now, [consent.ErrEmptySubject], [consent.ErrMalformedKey] for a
// malformed purpose.
func (v *Verifier) Verify(ctx context.Context, token, subject string, purpose consent.Purpose, now time.Time) (Grant, error) {
	switch {
	case v.ledger == nil:
		return Grant{}, ErrConfig
	case now.IsZero():
		return Grant{}, consent.ErrZeroTime
	case subject == "":
		return Grant{}, consent.ErrEmptySubject
	}
	if err := purpose.Validate(); err != nil {
		return Grant{}, err
	}
	t, err := parse(token)
	if err != nil {
		return Grant{}, err
	}
	c := &t.claims
	pub, err := v.keys.Key(ctx, c.Issuer, t.kid)
	if err != nil {
		return Grant{}, err
	}
	if len(pub) != ed25519.PublicKeySize {
		return Grant{}, &GrantError{Claim: "kid", Why: "the key found is not an Ed25519 public key", Err: ErrUnknownKey}
	}
	if !ed25519.Verify(pub, []byte(t.signed), t.sig) {
		return Grant{}, &GrantError{Why: "not signed with the issuer's key " + strconv.Quote(t.kid), Err: ErrSignature}
	}
	if !slices.Contains(c.Audience, v.audience) {
		return Grant{}, &GrantError{Claim: "aud", Why: "does not name " + strconv.Quote(v.audience), Err: ErrAudience}
	}
	if c.Expires.Sub(c.IssuedAt) > v.maxLife {
		return Grant{}, &GrantError{Claim: "exp", Why: "more than " + v.maxLife.String() + " after iat", Err: ErrLifetime}
	}
	start := c.IssuedAt
	if c.NotBefore.After(start) {
		start = c.NotBefore
	}
	if now.Add(v.skew).Before(start) {
		return Grant{}, &GrantError{Claim: "nbf", Why: "valid from " + start.Format(time.RFC3339), Err: ErrNotYetValid}
	}
	if !now.Before(c.Expires) {
		return Grant{}, &GrantError{Claim: "exp", Why: "expired at " + c.Expires.Format(time.RFC3339), Err: ErrExpired}
	}
	if c.Subject != subject {
		return Grant{}, &GrantError{Claim: "sub", Why: "not the person asked about", Err: ErrSubject}
	}
	if c.Purpose != purpose {
		return Grant{}, &GrantError{Claim: "purpose", Why: "granted for " + strconv.Quote(string(c.Purpose)) + ", asked for " + strconv.Quote(string(purpose)), Err: ErrPurpose}
	}
	spec, ok := v.ledger.Policy().Spec(purpose)
	if !ok {
		return Grant{}, &GrantError{Claim: "purpose", Why: "not declared in the service's policy", Err: ErrPurpose, Cause: consent.ErrUnknownPurpose}
	}
	for _, s := range c.Scope {
		if !covers(spec.Categories, s) {
			return Grant{}, &GrantError{Claim: "scope", Why: "purpose " + string(purpose) + " does not use " + string(s) + " in the service's policy", Err: ErrScope}
		}
	}
	if err := checkData(c.Scope, t.data); err != nil {
		return Grant{}, err
	}
	revoked, err := v.revs.Revoked(ctx, c.Issuer, c.ID)
	if err != nil {
		return Grant{}, err
	}
	if revoked {
		return Grant{}, &GrantError{Claim: "jti", Why: "revoked by its issuer", Err: ErrRevoked}
	}
	return Grant{claims: *c, kid: t.kid, digest: sha256.Sum256([]byte(token)), data: t.data, decl: t.decl}, nil
}

// Accept verifies token as [Verifier.Verify] does and records in the
// ledger that the person granted its purpose through their data store,
// then returns the decision for subject and purpose at now, as
// [Verifier.Decide] makes it. A service calls it when a person hands it a
// grant; reads then go through Decide and Verify.
//
// The record is a [consent.Grant] event with Source [consent.SourceImport],
// Channel [ChannelPDS], the grant's [Grant.Evidence] (never its data), and
// At the grant's "iat", or now if that is earlier: the time the person
// chose. It is written once per grant, and never over a later choice:
// Accept writes nothing when the decision already rests on the grant's
// record, when the purpose needs no consent, when the decision rests on a
// record made at or after the grant's "iat" (on a tie, the choice on
// record stands), or when the ledger refuses the record as out of order
// ([consent.ErrOutOfOrder]: a later choice about the purpose, a purpose
// above it or one below it). The ledger's order is the order in time, so a
// grant issued before a withdrawal never undoes it. Calls for one grant
// that race may record it twice, which changes no decision.
//
// The returned decision may deny (a later withdrawal, a Global Privacy
// Control signal in sig, a minor): read nothing then. Errors: those of
// Verify (and nothing is recorded), and those of the Ledger.
func (v *Verifier) Accept(ctx context.Context, token, subject string, purpose consent.Purpose, now time.Time, sig consent.Signals) (consent.Decision, error) {
	g, err := v.Verify(ctx, token, subject, purpose, now)
	if err != nil {
		return consent.Decision{}, err
	}
	d, err := v.Decide(ctx, subject, purpose, now, sig)
	if err != nil {
		return consent.Decision{}, err
	}
	ev, at := g.Evidence(), g.claims.IssuedAt
	if now.Before(at) {
		at = now // within the skew: never date a record after the time of its writing
	}
	switch r := &d.Record; {
	case d.Reason == consent.ReasonNotConsent:
		return d, nil
	case r.Seq != 0 && r.Channel == ChannelPDS && r.Evidence == ev:
		return d, nil
	case r.Seq != 0 && !r.At.Before(at):
		// A choice the person made at or after the grant's issue decides:
		// on a tie, the choice already on record stands.
		return d, nil
	}
	_, err = v.ledger.Record(ctx, consent.Event{Action: consent.Grant, Subject: subject, Purpose: purpose, At: at,
		Channel: ChannelPDS, Source: consent.SourceImport, Evidence: ev})
	if errors.Is(err, consent.ErrOutOfOrder) {
		return d, nil
	}
	if err != nil {
		return consent.Decision{}, err
	}
	return v.Decide(ctx, subject, purpose, now, sig)
}

// Decide is the ledger's decision ([consent.Gate.Decide]), ended with the
// grant it rests on: when the decision rests on a record [Verifier.Accept]
// wrote, it denies from the grant's "exp" on ([consent.ReasonExpired]) and
// once the issuer has revoked the grant ([consent.ReasonWithdrawn]), and
// an allowing decision's Expires is no later than the grant's. The record
// is the person's latest choice about the purpose, so its end is not
// made up by an older grant of a purpose above. Decisions that rest on
// anything else are the ledger's.
//
// With Decide, DecideMany and Policy, a Verifier is the consent check a
// recommender asks before it reads a signal source (recommend.Decider and
// recommend.ManyDecider). Errors: those of the Ledger and of
// [Revocations]; a ledger record of channel [ChannelPDS] whose evidence is
// not a grant's denies, as expired.
func (v *Verifier) Decide(ctx context.Context, subject string, purpose consent.Purpose, at time.Time, sig consent.Signals) (consent.Decision, error) {
	if v.ledger == nil {
		return consent.Decision{}, ErrConfig
	}
	d, err := v.ledger.Decide(ctx, subject, purpose, at, sig)
	if err != nil {
		return d, err
	}
	return d, v.bound(ctx, &d)
}

// DecideMany decides several purposes as [Verifier.Decide] decides each,
// with the Ledger's DecideMany if it has one ([ManyDecider]), and appends
// the decisions to dst in the order of purposes. On error, dst is returned
// unchanged.
func (v *Verifier) DecideMany(ctx context.Context, subject string, purposes []consent.Purpose, at time.Time, sig consent.Signals, dst []consent.Decision) ([]consent.Decision, error) {
	if v.ledger == nil {
		return dst, ErrConfig
	}
	n := len(dst)
	if v.many != nil {
		out, err := v.many.DecideMany(ctx, subject, purposes, at, sig, dst)
		if err != nil {
			return dst[:n], err
		}
		dst = out
	} else {
		for _, p := range purposes {
			d, err := v.ledger.Decide(ctx, subject, p, at, sig)
			if err != nil {
				return dst[:n], err
			}
			dst = append(dst, d)
		}
	}
	for i := n; i < len(dst); i++ {
		if err := v.bound(ctx, &dst[i]); err != nil {
			return dst[:n], err
		}
	}
	return dst, nil
}

// Policy returns the Ledger's policy in force.
func (v *Verifier) Policy() *consent.Policy {
	if v.ledger == nil {
		return nil
	}
	return v.ledger.Policy()
}

// bound ends an allowing decision that rests on a grant's record with the
// grant.
func (v *Verifier) bound(ctx context.Context, d *consent.Decision) error {
	r := &d.Record
	if !d.Allowed || r.Channel != ChannelPDS || r.Source != consent.SourceImport {
		return nil
	}
	deny := func(why consent.Reason) {
		d.Allowed, d.Reason, d.Expires = false, why, time.Time{}
	}
	e, ok := parseEvidence(r.Evidence)
	if !ok || !d.At.Before(e.expires) {
		deny(consent.ReasonExpired)
		return nil
	}
	revoked, err := v.revs.Revoked(ctx, e.issuer, e.id)
	switch {
	case err != nil:
		return err
	case revoked:
		deny(consent.ReasonWithdrawn)
	case d.Expires.IsZero() || e.expires.Before(d.Expires):
		d.Expires = e.expires
	}
	return nil
}
