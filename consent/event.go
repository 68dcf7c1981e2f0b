package consent

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Action is what a person (or someone on their behalf) did about a purpose.
type Action uint8

// Actions. Granting, denying and withdrawing are recorded with the same call,
// [Gate.Record], so withdrawing is exactly as easy as granting.
const (
	// ActionUnknown is the zero value; it is never valid in an event.
	ActionUnknown Action = iota
	// Grant gives consent for the purpose and its sub-purposes (for a
	// legitimate-interest purpose: lifts the person's objection).
	Grant
	// Deny refuses consent (or, for a legitimate-interest purpose, objects).
	Deny
	// Withdraw takes back consent given earlier (or objects, for a
	// legitimate-interest purpose).
	Withdraw
)

var actionNames = [...]string{ActionUnknown: "unknown", Grant: "grant", Deny: "deny", Withdraw: "withdraw"}

// String returns "grant", "deny" or "withdraw".
func (a Action) String() string { return name(actionNames[:], a) }

// MarshalText encodes the action as its String.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText decodes "grant", "deny" or "withdraw".
func (a *Action) UnmarshalText(b []byte) error {
	if v, ok := lookup(actionNames[:], string(b), Grant); ok {
		*a = v
		return nil
	}
	return &EventError{Field: "action", Why: "unknown action " + strconv.Quote(string(b))}
}

// refuses reports whether the action is a denial or a withdrawal.
func (a Action) refuses() bool { return a == Deny || a == Withdraw }

// Channel is where an event happened: "web", "app", "store", "call_centre".
// Any key of the form described at [ParsePurpose] is accepted; the constants
// are the usual ones.
type Channel string

// Usual channels.
const (
	ChannelWeb        Channel = "web"
	ChannelApp        Channel = "app"
	ChannelStore      Channel = "store"       // in person, at a till or kiosk
	ChannelCallCentre Channel = "call_centre" // by phone
	ChannelEmail      Channel = "email"       // a reply or a link in an email
	ChannelPost       Channel = "post"        // a paper form
	ChannelAPI        Channel = "api"         // a partner or agent, machine to machine
)

// Source says what produced an event.
type Source uint8

// Sources.
const (
	// SourceUser is the zero value: the person's own action (a tick box, a
	// button, a form).
	SourceUser Source = iota
	// SourceGPC is a Global Privacy Control signal; the Gate records these
	// itself (see [Gate.Decide]).
	SourceGPC
	// SourceImport is a record brought over from another system.
	SourceImport
	// SourceDefault is a default the business set, not a choice the person
	// made. A default can deny but never grant: pre-ticked boxes are not
	// consent.
	SourceDefault
	// SourceErasure is a withdrawal the Gate records when it erases a
	// subject ([Gate.Erase]).
	SourceErasure
)

var sourceNames = [...]string{SourceUser: "user", SourceGPC: "gpc", SourceImport: "import", SourceDefault: "default", SourceErasure: "erasure"}

// String returns the source's name ("user", "gpc", ...).
func (s Source) String() string { return name(sourceNames[:], s) }

// MarshalText encodes the source as its String.
func (s Source) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a source name.
func (s *Source) UnmarshalText(b []byte) error {
	if v, ok := lookup(sourceNames[:], string(b), SourceUser); ok {
		*s = v
		return nil
	}
	return &EventError{Field: "source", Why: "unknown source " + strconv.Quote(string(b))}
}

// Actor says who acted.
type Actor uint8

// Actors.
const (
	// ActorSelf is the zero value: the person the data is about.
	ActorSelf Actor = iota
	// ActorGuardian is a parent or guardian acting for a child. Regimes need
	// a guardian's grant below an age (see [Regime]).
	ActorGuardian
	// ActorAgent is an authorized agent acting for the person (CPRA).
	ActorAgent
)

var actorNames = [...]string{ActorSelf: "self", ActorGuardian: "guardian", ActorAgent: "agent"}

// String returns the actor's name ("self", "guardian", "agent").
func (a Actor) String() string { return name(actorNames[:], a) }

// MarshalText encodes the actor as its String.
func (a Actor) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText decodes an actor name.
func (a *Actor) UnmarshalText(b []byte) error {
	if v, ok := lookup(actorNames[:], string(b), ActorSelf); ok {
		*a = v
		return nil
	}
	return &EventError{Field: "actor", Why: "unknown actor " + strconv.Quote(string(b))}
}

// Event is one expression of a person's choice about one purpose.
type Event struct {
	Action  Action
	Subject string  // the host's id for the person; opaque to tact
	Purpose Purpose // the purpose concerned; covers its sub-purposes
	At      time.Time
	Channel Channel
	// PolicyVersion is the version of the policy the person was shown. Zero
	// means the Gate's current version; a version newer than the Gate's is
	// an error.
	PolicyVersion int
	Source        Source
	// Evidence ties the event to what the person saw or did, such as
	// "sha256:…" of the notice text or a form submission id. Optional.
	Evidence string
	Actor    Actor
	// OverridesGPC marks a grant the person made while told that their
	// browser's Global Privacy Control signal opts them out of the purpose,
	// choosing to allow it anyway for this business (as the CCPA
	// regulations, 11 CCR § 7025(c)(3), allow). Such a grant prevails over
	// a GPC signal for its purpose and the purposes under it; any other
	// grant does not (see [Gate.Decide]). Only a grant by the person
	// (SourceUser) or one imported from a system that recorded such a
	// confirmation (SourceImport) may carry it, and only for a purpose GPC
	// covers. Put the disclosure the person saw in Evidence.
	OverridesGPC bool
}

// Limits on event fields.
const (
	// MaxSubjectLen is the longest subject id accepted, in bytes.
	MaxSubjectLen = 256
	// MaxEvidenceLen is the longest evidence string accepted, in bytes.
	MaxEvidenceLen = 1024
)

// validate checks the event's own fields (not against a policy). Purpose
// errors wrap the key error; everything is an *EventError.
func (e *Event) validate() error {
	bad := func(field, why string, err error) error { return &EventError{Field: field, Why: why, Err: err} }
	if e.Action < Grant || e.Action > Withdraw {
		return bad("action", "must be grant, deny or withdraw", nil)
	}
	if err := checkSubject(e.Subject); err != nil {
		if err == ErrEmptySubject {
			return bad("subject", "required", err)
		}
		return err
	}
	if err := e.Purpose.Validate(); err != nil {
		return bad("purpose", "malformed", err)
	}
	if e.At.IsZero() {
		return bad("at", "the time of the event is required", ErrZeroTime)
	}
	if y := e.At.UTC().Year(); y < 1 || y > 9999 {
		return bad("at", "year out of range 1-9999", nil)
	}
	if e.Channel == "" {
		return bad("channel", "required (web, app, store, call_centre, ...)", nil)
	}
	if err := checkKey("channel", string(e.Channel)); err != nil {
		return bad("channel", "malformed", err)
	}
	if e.PolicyVersion < 0 {
		return bad("policy_version", "negative", nil)
	}
	if int(e.Source) >= len(sourceNames) {
		return bad("source", "unknown source", nil)
	}
	if int(e.Actor) >= len(actorNames) {
		return bad("actor", "unknown actor", nil)
	}
	if len(e.Evidence) > MaxEvidenceLen || !utf8.ValidString(e.Evidence) {
		return bad("evidence", "must be valid UTF-8 of at most "+strconv.Itoa(MaxEvidenceLen)+" bytes", nil)
	}
	if e.Action == Grant && e.Source == SourceDefault {
		return bad("source", "a default is not consent: only the person (or their guardian or agent) can grant", nil)
	}
	if e.Action == Grant && (e.Source == SourceGPC || e.Source == SourceErasure) {
		return bad("source", "a "+e.Source.String()+" event can only deny or withdraw", nil)
	}
	if e.OverridesGPC && (e.Action != Grant || (e.Source != SourceUser && e.Source != SourceImport)) {
		return bad("overrides_gpc", "only a grant by the person (source user or import) can override Global Privacy Control", nil)
	}
	return nil
}

// checkSubject reports whether s is usable as a subject id.
func checkSubject(s string) error {
	switch {
	case s == "":
		return ErrEmptySubject
	case len(s) > MaxSubjectLen:
		return &EventError{Field: "subject", Why: "longer than " + strconv.Itoa(MaxSubjectLen) + " bytes"}
	case !utf8.ValidString(s):
		return &EventError{Field: "subject", Why: "not valid UTF-8"}
	}
	return nil
}
