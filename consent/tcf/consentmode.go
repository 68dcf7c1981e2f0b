package tcf

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tact-go/tact/consent"
)

// Consent Mode v2 signal names, as gtag takes them.
const (
	AdStorage         = "ad_storage"
	AdUserData        = "ad_user_data"
	AdPersonalization = "ad_personalization"
	AnalyticsStorage  = "analytics_storage"
)

// ConsentMode is the state of Google Consent Mode v2's four signals: true
// is "granted", false "denied". The zero value denies everything, which is
// what a page must send until it knows better.
type ConsentMode struct {
	AdStorage         bool
	AdUserData        bool
	AdPersonalization bool
	AnalyticsStorage  bool
}

func status(granted bool) string {
	if granted {
		return "granted"
	}
	return "denied"
}

// MarshalJSON renders the object gtag('consent', 'update', …) takes:
// {"ad_storage":"granted","ad_user_data":"denied",…}, keys in a fixed
// order.
func (c ConsentMode) MarshalJSON() ([]byte, error) {
	return []byte(`{"` + AdStorage + `":"` + status(c.AdStorage) +
		`","` + AdUserData + `":"` + status(c.AdUserData) +
		`","` + AdPersonalization + `":"` + status(c.AdPersonalization) +
		`","` + AnalyticsStorage + `":"` + status(c.AnalyticsStorage) + `"}`), nil
}

// Gtag returns the JavaScript statement that sends the state to Google's
// tags: gtag('consent', 'update', {...});. It holds only the four fixed
// keys and the words granted and denied, so it is safe to put in a page.
func (c ConsentMode) Gtag() string {
	b, _ := c.MarshalJSON()
	return "gtag('consent', 'update', " + string(b) + ");"
}

// ConsentModeMapping says which tact purposes each Consent Mode signal
// needs: a signal is granted only when every purpose listed for it is
// allowed. Each signal needs at least one purpose. Build one by hand, or
// from a TCF mapping with [GoogleConsentMode].
type ConsentModeMapping struct {
	AdStorage         []consent.Purpose
	AdUserData        []consent.Purpose
	AdPersonalization []consent.Purpose
	AnalyticsStorage  []consent.Purpose
}

func (c *ConsentModeMapping) signals() [4]struct {
	name     string
	purposes []consent.Purpose
	set      func(*ConsentMode, bool)
} {
	return [4]struct {
		name     string
		purposes []consent.Purpose
		set      func(*ConsentMode, bool)
	}{
		{AdStorage, c.AdStorage, func(m *ConsentMode, v bool) { m.AdStorage = v }},
		{AdUserData, c.AdUserData, func(m *ConsentMode, v bool) { m.AdUserData = v }},
		{AdPersonalization, c.AdPersonalization, func(m *ConsentMode, v bool) { m.AdPersonalization = v }},
		{AnalyticsStorage, c.AnalyticsStorage, func(m *ConsentMode, v bool) { m.AnalyticsStorage = v }},
	}
}

// Validate checks that every signal lists at least one purpose and that
// every purpose is well formed. The error is a [*MappingError] naming the
// signal; for a malformed key it unwraps to [consent.ErrMalformedKey] too.
func (c ConsentModeMapping) Validate() error {
	for _, s := range c.signals() {
		if len(s.purposes) == 0 {
			return &MappingError{Signal: s.name, Why: "no purpose: a signal with nothing to decide it would be granted to everyone"}
		}
		for _, p := range s.purposes {
			if err := p.Validate(); err != nil {
				return &MappingError{Signal: s.name, Purpose: p, Why: "malformed purpose", Err: err}
			}
		}
	}
	return nil
}

// GoogleConsentMode returns the Consent Mode mapping that follows Google's
// published mapping from TCF purposes ("Implement the Transparency & Consent
// Framework", https://developers.google.com/tag-platform/security/guides/implement-TCF-strings,
// section "TCF integration behavior", updated November 2023 for
// ad_user_data and ad_personalization): the signal is denied when any of
// its TCF purposes is denied.
//
//	ad_storage          TCF purpose 1 (store and/or access information on a device)
//	ad_user_data        TCF purposes 1 and 7 (measure advertising performance)
//	ad_personalization  TCF purposes 3 (create a personalised ads profile)
//	                    and 4 (use profiles to select personalised ads)
//	analytics_storage   no TCF purpose: Google's TCF integration leaves it to
//	                    consent mode, so the host names the purposes
//
// purposes is the TCF-to-tact mapping (as in [Config].Purposes), which must
// map TCF purposes 1, 3, 4 and 7; analytics names the tact purposes that
// decide analytics_storage (at least one; typically those TCF purposes 8
// and 9 map to, or a first-party analytics purpose). Errors are
// [*MappingError]s that unwrap to [ErrMapping].
//
// Derived from tact decisions, the signals are never more permissive than
// Google's own reading of the same TC string after it is imported: a tact
// purpose mapped from several TCF purposes is allowed only if all of them
// are (see [Mapping.Events]). A choice the person made later, recorded in
// the Gate, prevails over the string, as it should.
func GoogleConsentMode(purposes map[int]consent.Purpose, analytics ...consent.Purpose) (ConsentModeMapping, error) {
	of := func(signal string, ns ...int) ([]consent.Purpose, error) {
		var out []consent.Purpose
		for _, n := range ns {
			p, ok := purposes[n]
			if !ok {
				return nil, &MappingError{TCF: n, Signal: signal, Why: "Google's mapping needs this TCF purpose mapped"}
			}
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
		return out, nil
	}
	var c ConsentModeMapping
	var err error
	if c.AdStorage, err = of(AdStorage, 1); err != nil {
		return ConsentModeMapping{}, err
	}
	if c.AdUserData, err = of(AdUserData, 1, 7); err != nil {
		return ConsentModeMapping{}, err
	}
	if c.AdPersonalization, err = of(AdPersonalization, 3, 4); err != nil {
		return ConsentModeMapping{}, err
	}
	c.AnalyticsStorage = slices.Clone(analytics)
	if err := c.Validate(); err != nil {
		return ConsentModeMapping{}, err
	}
	return c, nil
}

// Decider decides whether a subject's data may be used for a purpose.
// *consent.Gate implements it.
type Decider interface {
	// Decide returns the decision for subject and purpose at time at, given
	// the request's signals; see [consent.Gate.Decide].
	Decide(ctx context.Context, subject string, purpose consent.Purpose, at time.Time, sig consent.Signals) (consent.Decision, error)
}

// Decide asks d about each purpose of the mapping (once each) for subject
// at time at with the request's signals, and returns the Consent Mode
// state: a signal is granted only if every purpose listed for it is
// allowed. The error is the mapping's ([ConsentModeMapping.Validate]), one
// wrapping [consent.ErrNilArgument] for a nil d, or the first error of
// d.Decide, returned as it is (for a Gate: [consent.ErrUnknownPurpose] for a
// purpose its policy does not declare, and the others [consent.Gate.Decide]
// documents); on error the state is the zero value, all denied.
func (c ConsentModeMapping) Decide(ctx context.Context, d Decider, subject string, at time.Time, sig consent.Signals) (ConsentMode, error) {
	if err := c.Validate(); err != nil {
		return ConsentMode{}, err
	}
	if d == nil {
		return ConsentMode{}, fmt.Errorf("tcf: nil Decider: %w", consent.ErrNilArgument)
	}
	allowed := map[consent.Purpose]bool{}
	for _, s := range c.signals() {
		for _, p := range s.purposes {
			if _, done := allowed[p]; done {
				continue
			}
			dec, err := d.Decide(ctx, subject, p, at, sig)
			if err != nil {
				return ConsentMode{}, err
			}
			allowed[p] = dec.Allowed
		}
	}
	return c.from(func(p consent.Purpose) bool { return allowed[p] }), nil
}

// FromDecisions returns the Consent Mode state for decisions already made,
// keyed by purpose (as from [consent.Gate.DecideMany]). A purpose with no
// decision in the map counts as not allowed. The error is the mapping's
// ([ConsentModeMapping.Validate]), with the zero state.
func (c ConsentModeMapping) FromDecisions(decisions map[consent.Purpose]consent.Decision) (ConsentMode, error) {
	if err := c.Validate(); err != nil {
		return ConsentMode{}, err
	}
	return c.from(func(p consent.Purpose) bool { return decisions[p].Allowed }), nil
}

func (c *ConsentModeMapping) from(allowed func(consent.Purpose) bool) ConsentMode {
	var m ConsentMode
	for _, s := range c.signals() {
		granted := true
		for _, p := range s.purposes {
			granted = granted && allowed(p)
		}
		s.set(&m, granted)
	}
	return m
}
