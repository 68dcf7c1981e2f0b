package trust

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
)

// Kinds of audit event this package reads; others are kept and ignored.
const (
	kindServe    = "recommend.serve"
	kindRelease  = "dp.release"
	kindChange   = consent.AuditChange
	kindDecision = consent.AuditDecision
	kindImport   = consent.AuditImport
)

// sensitiveSources is the attribute of a "recommend.serve" event that
// [Check] reads for sensitive items: one entry per source (recommend's
// Source names: "declared", "history", ...) that led to a sensitive item
// served, comma-separated: recommend.AuditSensitiveSources.
const sensitiveSources = recommend.AuditSensitiveSources

// MaxEventLine is the longest line of audit events accepted, in bytes.
const MaxEventLine = 1 << 20

// Event is one audit event, as [ReadEvents] decodes it from a line the
// log/slog JSON handler wrote: its time, its kind (the record's message,
// such as "recommend.serve") and the attributes this package reads. Events
// of other kinds are kept, unread.
type Event struct {
	Line int       // the line it was read from, 1-based
	Time time.Time // the record's time, UTC
	Kind string    // the record's message

	attrs    map[string]json.RawMessage
	serve    *serveEvent
	change   *changeEvent
	decision *decisionEvent
	release  *releaseEvent
	imported uint64 // a "consent.import" event's last record
}

// serveEvent is what a "recommend.serve" event says.
type serveEvent struct {
	tier       recommend.Tier
	items      int
	categories []consent.Category
	purposes   []consent.Purpose
	withheld   []withheld
	warmUp     bool
	filtered   map[string]int
	sensitive  []string // sources of sensitive items served; nil when not logged
}

type withheld struct {
	purpose consent.Purpose
	reason  string
}

// changeEvent is what a "consent.change" event says of a ledger record.
type changeEvent struct {
	purpose       consent.Purpose
	action        consent.Action
	source        consent.Source
	channel       consent.Channel
	policyVersion int
	seq           uint64
}

// decisionEvent is what a "consent.decision" event says.
type decisionEvent struct {
	purpose consent.Purpose
	allowed bool
	reason  consent.Reason
	seq     uint64
}

// releaseEvent is what a "dp.release" event says.
type releaseEvent struct {
	label          string
	epsilon, delta float64
	private        bool
}

// ReadEvents reads audit events as JSON Lines, one object per line as
// slog.NewJSONHandler writes them, with at least "time" (RFC 3339) and
// "msg". Blank lines are skipped. The attributes of the kinds this
// package reads ("recommend.serve", "consent.change", "consent.decision",
// "consent.import", "dp.release") are checked for type and range as they are read.
//
// On a line it cannot read it returns the events before it and a
// [*LineError] naming the line (errors.Is [ErrBadInput]); it never
// panics. The reader's own errors are returned as they are.
func ReadEvents(r io.Reader) ([]Event, error) {
	if r == nil {
		return nil, &ConfigError{Field: "events", Why: "nil reader"}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxEventLine)
	var out []Event
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		ev, err := parseEvent(b)
		if err != nil {
			return out, &LineError{Input: "events", Line: line, Err: err}
		}
		ev.Line = line
		out = append(out, ev)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return out, &LineError{Input: "events", Line: line + 1, Err: errors.New("longer than " + strconv.Itoa(MaxEventLine) + " bytes")}
		}
		return out, err
	}
	return out, nil
}

// attrError says which attribute of an event is wrong.
type attrError struct{ key, why string }

func (e *attrError) Error() string { return "attribute " + strconv.Quote(e.key) + ": " + e.why }

func parseEvent(b []byte) (Event, error) {
	var attrs map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&attrs); err != nil {
		return Event{}, errors.New("not a JSON object: " + err.Error())
	}
	if attrs == nil {
		return Event{}, errors.New("not a JSON object")
	}
	if dec.More() {
		return Event{}, errors.New("more than one JSON value on the line")
	}
	ev := Event{attrs: attrs}
	ts, err := ev.str("time", true)
	if err != nil {
		return Event{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return Event{}, &attrError{"time", "not an RFC 3339 time"}
	}
	ev.Time = t.UTC()
	if ev.Kind, err = ev.str("msg", true); err != nil {
		return Event{}, err
	}
	switch ev.Kind {
	case kindServe:
		ev.serve, err = ev.parseServe()
	case kindChange:
		ev.change, err = ev.parseChange()
	case kindDecision:
		ev.decision, err = ev.parseDecision()
	case kindRelease:
		ev.release, err = ev.parseRelease()
	case kindImport:
		ev.imported, err = ev.count("seq")
	}
	if err != nil {
		return Event{}, err
	}
	return ev, nil
}

// Attr returns the string attribute key of the event, and whether it has
// one (a host's handler may add its own, such as a person key).
func (e *Event) Attr(key string) (string, bool) {
	s, err := e.str(key, true)
	return s, err == nil
}

func (e *Event) str(key string, required bool) (string, error) {
	raw, ok := e.attrs[key]
	if !ok {
		if required {
			return "", &attrError{key, "missing"}
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", &attrError{key, "not a string"}
	}
	return s, nil
}

func (e *Event) boolean(key string) (bool, error) {
	raw, ok := e.attrs[key]
	if !ok {
		return false, &attrError{key, "missing"}
	}
	var v bool
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, &attrError{key, "not a boolean"}
	}
	return v, nil
}

// count decodes a non-negative integer.
func count(key string, raw json.RawMessage) (uint64, error) {
	v, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil {
		return 0, &attrError{key, "not a non-negative integer"}
	}
	return v, nil
}

func (e *Event) count(key string) (uint64, error) {
	raw, ok := e.attrs[key]
	if !ok {
		return 0, &attrError{key, "missing"}
	}
	return count(key, raw)
}

func (e *Event) number(key string) (float64, error) {
	raw, ok := e.attrs[key]
	if !ok {
		return 0, &attrError{key, "missing"}
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, &attrError{key, "not a finite non-negative number"}
	}
	return v, nil
}

// list splits a comma-separated attribute; "" is the empty list.
func (e *Event) list(key string) ([]string, error) {
	s, err := e.str(key, true)
	if err != nil || s == "" {
		return nil, err
	}
	return strings.Split(s, ","), nil
}

// tiers maps recommend's tier names back to tiers.
var tiers = func() map[string]recommend.Tier {
	m := make(map[string]recommend.Tier)
	for _, t := range []recommend.Tier{recommend.Anonymous, recommend.Recognized, recommend.Established} {
		m[t.String()] = t
	}
	return m
}()

func (e *Event) parseServe() (*serveEvent, error) {
	s := &serveEvent{}
	name, err := e.str(recommend.AuditTier, true)
	if err != nil {
		return nil, err
	}
	t, ok := tiers[name]
	if !ok {
		return nil, &attrError{recommend.AuditTier, "unknown tier " + strconv.Quote(name)}
	}
	s.tier = t
	n, err := e.count(recommend.AuditItems)
	if err != nil {
		return nil, err
	}
	s.items = int(min(n, math.MaxInt32))
	cats, err := e.list(recommend.AuditCategories)
	if err != nil {
		return nil, err
	}
	for _, c := range cats {
		if err := consent.Category(c).Validate(); err != nil {
			return nil, &attrError{recommend.AuditCategories, err.Error()}
		}
		s.categories = append(s.categories, consent.Category(c))
	}
	purps, err := e.list(recommend.AuditPurposes)
	if err != nil {
		return nil, err
	}
	for _, p := range purps {
		if err := consent.Purpose(p).Validate(); err != nil {
			return nil, &attrError{recommend.AuditPurposes, err.Error()}
		}
		s.purposes = append(s.purposes, consent.Purpose(p))
	}
	wh, err := e.list(recommend.AuditWithheld)
	if err != nil {
		return nil, err
	}
	for _, w := range wh {
		p, reason, ok := strings.Cut(w, ":")
		if !ok || consent.Purpose(p).Validate() != nil || reason == "" {
			return nil, &attrError{recommend.AuditWithheld, "entry " + strconv.Quote(w) + " is not purpose:reason"}
		}
		s.withheld = append(s.withheld, withheld{consent.Purpose(p), reason})
	}
	if s.warmUp, err = e.boolean(recommend.AuditWarmUp); err != nil {
		return nil, err
	}
	raw, ok := e.attrs[recommend.AuditFiltered]
	if !ok {
		return nil, &attrError{recommend.AuditFiltered, "missing"}
	}
	var group map[string]json.RawMessage
	if err := json.Unmarshal(raw, &group); err != nil || group == nil {
		return nil, &attrError{recommend.AuditFiltered, "not an object"}
	}
	s.filtered = make(map[string]int, len(group))
	for k, v := range group {
		n, err := count(recommend.AuditFiltered+"."+k, v)
		if err != nil {
			return nil, err
		}
		s.filtered[k] = int(min(n, math.MaxInt32))
	}
	if _, ok := e.attrs[sensitiveSources]; ok {
		src, err := e.list(sensitiveSources)
		if err != nil {
			return nil, err
		}
		s.sensitive = append(make([]string, 0, len(src)), src...)
	}
	return s, nil
}

func (e *Event) parseChange() (*changeEvent, error) {
	c := &changeEvent{}
	p, err := e.str("purpose", true)
	if err != nil {
		return nil, err
	}
	if err := consent.Purpose(p).Validate(); err != nil {
		return nil, &attrError{"purpose", err.Error()}
	}
	c.purpose = consent.Purpose(p)
	a, err := e.str("action", true)
	if err != nil {
		return nil, err
	}
	if err := c.action.UnmarshalText([]byte(a)); err != nil {
		return nil, &attrError{"action", "unknown action " + strconv.Quote(a)}
	}
	src, err := e.str("source", true)
	if err != nil {
		return nil, err
	}
	if err := c.source.UnmarshalText([]byte(src)); err != nil {
		return nil, &attrError{"source", "unknown source " + strconv.Quote(src)}
	}
	ch, err := e.str("channel", false)
	if err != nil {
		return nil, err
	}
	c.channel = consent.Channel(ch)
	v, err := e.count("policy_version")
	if err != nil {
		return nil, err
	}
	c.policyVersion = int(min(v, math.MaxInt32))
	if c.seq, err = e.count("seq"); err != nil {
		return nil, err
	}
	return c, nil
}

func (e *Event) parseDecision() (*decisionEvent, error) {
	d := &decisionEvent{}
	p, err := e.str("purpose", true)
	if err != nil {
		return nil, err
	}
	if err := consent.Purpose(p).Validate(); err != nil {
		return nil, &attrError{"purpose", err.Error()}
	}
	d.purpose = consent.Purpose(p)
	if d.allowed, err = e.boolean("allowed"); err != nil {
		return nil, err
	}
	r, err := e.str("reason", true)
	if err != nil {
		return nil, err
	}
	if err := d.reason.UnmarshalText([]byte(r)); err != nil {
		return nil, &attrError{"reason", "unknown reason " + strconv.Quote(r)}
	}
	if d.seq, err = e.count("seq"); err != nil {
		return nil, err
	}
	return d, nil
}

func (e *Event) parseRelease() (*releaseEvent, error) {
	r := &releaseEvent{}
	var err error
	if r.label, err = e.str("label", false); err != nil {
		return nil, err
	}
	if r.epsilon, err = e.number("epsilon"); err != nil {
		return nil, err
	}
	if r.delta, err = e.number("delta"); err != nil {
		return nil, err
	}
	if r.private, err = e.boolean("private"); err != nil {
		return nil, err
	}
	return r, nil
}

// ReadLedger reads a consent ledger exported as JSON Lines
// (consent.Gate.ExportLedger) and returns its records, checked for form
// (each line as consent.Record.UnmarshalJSON checks it) but not for the
// chain: [Release] and [Check] verify that, so that Check can report a
// tampered ledger as a violation. Blank lines at the end are ignored. A
// line it cannot read, a blank line before a record included, returns the
// records before it and a [*LineError] (errors.Is [ErrBadInput] and
// consent.ErrMalformedRecord).
func ReadLedger(r io.Reader) ([]consent.Record, error) {
	if r == nil {
		return nil, &ConfigError{Field: "ledger", Why: "nil reader"}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), consent.MaxLedgerLine)
	var out []consent.Record
	line, blank := 0, 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			if blank == 0 {
				blank = line
			}
			continue
		}
		if blank != 0 {
			return out, &LineError{Input: "ledger", Line: blank, Err: fmt.Errorf("%w: blank line before a record", consent.ErrMalformedRecord)}
		}
		var rec consent.Record
		if err := json.Unmarshal(b, &rec); err != nil {
			if !errors.Is(err, consent.ErrMalformedRecord) {
				err = fmt.Errorf("%w: %v", consent.ErrMalformedRecord, err)
			}
			return out, &LineError{Input: "ledger", Line: line, Err: err}
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return out, &LineError{Input: "ledger", Line: line + 1, Err: fmt.Errorf("%w: longer than %d bytes", consent.ErrMalformedRecord, consent.MaxLedgerLine)}
		}
		return out, err
	}
	return out, nil
}
