package recommendtest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
)

// Consents is an in-memory fake of a consent gate for tests: a table of
// granted and refused purposes per subject, under a policy ([Policy]
// unless [Consents.SetPolicy] set another). A grant of a purpose covers its
// descendants ("personalize" covers "personalize.history"); a refusal of a
// purpose or an ancestor wins over a grant. Anything not granted is denied
// with [consent.ReasonNoConsent]. Decisions report the policy's version but
// do not check that it declares the purpose: the Recommender checks the
// policy itself. The request's signals (Global Privacy Control, age) are
// ignored: use a *consent.Gate to test those. The zero value denies
// everything, under [Policy]. It is safe for simultaneous use by multiple
// goroutines.
type Consents struct {
	mu      sync.RWMutex
	grants  map[string][]consent.Purpose
	refusal map[string]map[consent.Purpose]consent.Reason
	err     error
	policy  *consent.Policy // nil: Policy()
	calls   atomic.Int64
}

// Policy returns a valid consent policy, version 1, that declares
// personalize and, for each source of package recommend, the source's
// purpose with exactly the categories the source reads
// ([recommend.Source.Categories]): what a Recommender needs to read every
// source.
func Policy() *consent.Policy {
	const year = 365 * 24 * time.Hour
	p := &consent.Policy{
		Version: 1, Controller: "recommendtest", Contact: "privacy@recommendtest.example",
		Withdraw: "ask the test to withdraw",
		Purposes: []consent.PurposeSpec{{Purpose: consent.PurposePersonalize, Version: 1, Basis: consent.BasisConsent,
			Description: "Tailoring the shop to you", Benefit: "a shop that fits you", Lifetime: year}},
	}
	for s := recommend.SourceContext; s <= recommend.SourceHistory; s++ {
		p.Purposes = append(p.Purposes, consent.PurposeSpec{Purpose: s.Purpose(), Version: 1, Basis: consent.BasisConsent,
			Description: "Recommendations from " + s.String(), Benefit: "recommendations that fit you",
			Categories: s.Categories(), Lifetime: year, Retention: year})
	}
	return p
}

// SetPolicy makes p (a copy of it) the policy in force; nil restores
// [Policy]. It does not validate p, so tests can use any policy.
func (c *Consents) SetPolicy(p *consent.Policy) {
	p = p.Clone()
	c.mu.Lock()
	c.policy = p
	c.mu.Unlock()
}

// Policy returns a copy of the policy in force: implements
// [recommend.Decider].
func (c *Consents) Policy() *consent.Policy {
	c.mu.RLock()
	p := c.policy
	c.mu.RUnlock()
	if p == nil {
		return Policy()
	}
	return p.Clone()
}

var _ recommend.Decider = (*Consents)(nil)

// ErrUnavailable is the error [Consents.Fail] makes Decide return by
// default.
var ErrUnavailable = errors.New("recommendtest: consent store unavailable")

// NewConsents returns an empty Consents.
func NewConsents() *Consents { return &Consents{} }

// Allow grants purposes to subject and lifts refusals of exactly those
// purposes.
func (c *Consents) Allow(subject string, purposes ...consent.Purpose) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.grants == nil {
		c.grants = make(map[string][]consent.Purpose)
	}
	c.grants[subject] = append(c.grants[subject], purposes...)
	for _, p := range purposes {
		delete(c.refusal[subject], p)
	}
}

// Refuse records that subject refused purpose for reason (such as
// [consent.ReasonWithdrawn] or [consent.ReasonDenied]).
func (c *Consents) Refuse(subject string, purpose consent.Purpose, reason consent.Reason) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refusal == nil {
		c.refusal = make(map[string]map[consent.Purpose]consent.Reason)
	}
	if c.refusal[subject] == nil {
		c.refusal[subject] = make(map[consent.Purpose]consent.Reason)
	}
	c.refusal[subject][purpose] = reason
}

// Withdraw is Refuse with [consent.ReasonWithdrawn].
func (c *Consents) Withdraw(subject string, purpose consent.Purpose) {
	c.Refuse(subject, purpose, consent.ReasonWithdrawn)
}

// Fail makes every later Decide return err ([ErrUnavailable] when nil)
// until [Consents.Recover].
func (c *Consents) Fail(err error) {
	if err == nil {
		err = ErrUnavailable
	}
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
}

// Recover undoes [Consents.Fail].
func (c *Consents) Recover() {
	c.mu.Lock()
	c.err = nil
	c.mu.Unlock()
}

// Calls returns how many times Decide was called.
func (c *Consents) Calls() int { return int(c.calls.Load()) }

// Decide implements [recommend.Decider].
func (c *Consents) Decide(_ context.Context, subject string, purpose consent.Purpose, at time.Time, _ consent.Signals) (consent.Decision, error) {
	c.calls.Add(1)
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.err != nil {
		return consent.Decision{}, c.err
	}
	version := 1 // Policy()
	if c.policy != nil {
		version = c.policy.Version
	}
	d := consent.Decision{Subject: subject, Purpose: purpose, At: at, Basis: consent.BasisConsent, Reason: consent.ReasonNoConsent,
		PolicyVersion: version}
	for p := purpose; p != ""; p = p.Parent() {
		if why, ok := c.refusal[subject][p]; ok {
			d.Reason = why
			return d, nil
		}
	}
	for _, p := range c.grants[subject] {
		if p.Covers(purpose) {
			d.Allowed, d.Reason = true, consent.ReasonGranted
			return d, nil
		}
	}
	return d, nil
}
