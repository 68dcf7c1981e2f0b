package ondevice

import (
	"context"
	"errors"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
)

// Sentinel errors.
var (
	// ErrNoDecision is returned by [Consent.Decide] for a purpose, or a
	// subject, the service sent no decision for.
	ErrNoDecision = errors.New("ondevice: no decision from the service for this purpose")
	// ErrExpired is returned by [Consent.Decide] for a decision past its
	// Expires: the device must ask the service again.
	ErrExpired = errors.New("ondevice: the service's decision has expired")
	// ErrMalformed is returned by [Load] and [Ranker.RankJSON] for JSON
	// they cannot read.
	ErrMalformed = errors.New("ondevice: malformed JSON")
)

// Consent is what the service tells the device about one person's
// consent: the policy in force and the decisions its Gate made for the
// purposes of the recommender's sources. It is what [Decide] builds and
// what the device ranks with, as a [recommend.Decider]. It holds no
// profile data. The zero value decides nothing: every personal source is
// withheld with [ErrNoDecision].
type Consent struct {
	// Subject is the person's id at the service (a pseudonym); the
	// device's requests use it as their Subject.
	Subject string `json:"subject"`
	// Known is whether the service knows the person (they hold an id
	// there), for [recommend.Relationship].Known.
	Known bool `json:"known"`
	// PolicyInForce is the policy the decisions were made under; the
	// Decider's Policy.
	PolicyInForce *consent.Policy `json:"policy"`
	// Decisions are the service's decisions, one per purpose.
	Decisions []consent.Decision `json:"decisions"`
}

var _ recommend.Decider = (*Consent)(nil)

// Decide builds the Consent of subject at time at: d's decisions (d is
// the service's consent Gate) for the purpose of every personal source of
// package recommend, under the request's signals. An empty subject, or a
// failing Decider, is an error, and no Consent.
func Decide(ctx context.Context, d recommend.Decider, subject string, at time.Time, sig consent.Signals) (Consent, error) {
	if subject == "" {
		return Consent{}, recommend.ErrEmptyID
	}
	c := Consent{Subject: subject, PolicyInForce: d.Policy()}
	for s := recommend.SourceContext; s <= recommend.SourceHistory; s++ {
		dec, err := d.Decide(ctx, subject, s.Purpose(), at, sig)
		if err != nil {
			return Consent{}, err
		}
		c.Decisions = append(c.Decisions, dec)
	}
	return c, nil
}

// Decide implements [recommend.Decider]: the service's decision for
// purpose, as it was made. It returns [ErrNoDecision] when the service
// sent none for the purpose and subject, and [ErrExpired] when at is at
// or past the decision's Expires. The signals are ignored: the service
// decided under the signals of the request that fetched the decisions.
func (c *Consent) Decide(_ context.Context, subject string, purpose consent.Purpose, at time.Time, _ consent.Signals) (consent.Decision, error) {
	if subject != c.Subject {
		return consent.Decision{}, ErrNoDecision
	}
	for _, d := range c.Decisions {
		if d.Purpose != purpose || d.Subject != subject {
			continue
		}
		if !d.Expires.IsZero() && !at.Before(d.Expires) {
			return consent.Decision{}, ErrExpired
		}
		return d, nil
	}
	return consent.Decision{}, ErrNoDecision
}

// Policy implements [recommend.Decider]: PolicyInForce.
func (c *Consent) Policy() *consent.Policy { return c.PolicyInForce }

// Settings are the service's ranking configuration, shipped with the
// model so that the device ranks as the service would: the fields of
// [recommend.Config] that are data. The zero value means the defaults of
// [recommend.Config].
type Settings struct {
	// Trust is the trust policy; the zero value means the library's
	// default thresholds.
	Trust recommend.DefaultTrust `json:"trust"`
	// Weights overrides the blend of the tiers it has an entry for.
	Weights map[recommend.Tier]recommend.Weights `json:"weights,omitempty"`
	// WarmUp, FrequencyCap, ConfidenceFloor, SuppressCategory and
	// HistoryHalfLife are as in [recommend.Config].
	WarmUp           time.Duration `json:"warm_up,omitempty"`
	FrequencyCap     int           `json:"frequency_cap,omitempty"`
	ConfidenceFloor  float64       `json:"confidence_floor,omitempty"`
	SuppressCategory bool          `json:"suppress_category,omitempty"`
	HistoryHalfLife  time.Duration `json:"history_half_life,omitempty"`
}

// Config returns the [recommend.Config] of s.
func (s Settings) Config() recommend.Config {
	return recommend.Config{Trust: s.Trust, Weights: s.Weights, WarmUp: s.WarmUp, FrequencyCap: s.FrequencyCap,
		ConfidenceFloor: s.ConfidenceFloor, SuppressCategory: s.SuppressCategory, HistoryHalfLife: s.HistoryHalfLife}
}

// Ranker ranks on the device: a [recommend.Recommender] over a shipped
// model, deciding consent from a [Consent] and reading the profile each
// call is given. It is safe for simultaneous use.
type Ranker struct {
	rec     *recommend.Recommender
	consent *Consent
}

// New returns a Ranker over model that decides consent from c (which it
// keeps: do not modify it afterwards) and ranks with s. It returns the
// errors of [recommend.New] (a nil model, settings out of range, a policy
// that cannot support a source).
func New(model *recommend.Model, c *Consent, s Settings) (*Ranker, error) {
	if c == nil {
		c = &Consent{}
	}
	rec, err := recommend.New(model, c, profiles{}, s.Config())
	if err != nil {
		return nil, err
	}
	return &Ranker{rec: rec, consent: c}, nil
}

// Rank ranks for the person whose data on the device is p. The request's
// Subject is the Consent's (whatever req says), so that the service's
// decisions apply; everything else is as in [recommend.Recommender.Recommend],
// whose errors it returns.
func (r *Ranker) Rank(ctx context.Context, p recommend.Profile, req recommend.Request) (recommend.Response, error) {
	req.Subject = r.consent.Subject
	return r.rec.Recommend(context.WithValue(ctx, profileKey{}, &p), req)
}

// Consent returns the Consent the Ranker decides from.
func (r *Ranker) Consent() *Consent { return r.consent }

// profiles reads the profile the context carries: the one passed to Rank.
type profiles struct{}

type profileKey struct{}

func profileOf(ctx context.Context) *recommend.Profile {
	p, _ := ctx.Value(profileKey{}).(*recommend.Profile)
	if p == nil {
		return &recommend.Profile{}
	}
	return p
}

func (profiles) Preferences(ctx context.Context, _ string) (recommend.Preferences, error) {
	return profileOf(ctx).Preferences, nil
}

func (profiles) Feedback(ctx context.Context, _ string) ([]recommend.Feedback, error) {
	return profileOf(ctx).Feedback, nil
}

func (profiles) History(ctx context.Context, _ string) ([]recommend.Event, error) {
	return profileOf(ctx).History, nil
}
