package minimize

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tact-go/tact/consent"
)

// Allower is what consent currently allows: a [Minimizer] narrowed by an
// Allower drops every field whose category Allows rejects, whatever the
// policy says. The consent package's gate, or anything else, can provide it
// through a small adapter or an [AllowFunc].
//
// Allows is called with the exact category a field is tagged with (or
// mapped to by a [Schema]); deciding whether a grant for a parent covers it
// is the implementation's business. It is called at most once per category
// per record (for a record type with more than 256 categories, once per
// field for the categories beyond), must not block, and must be safe to
// call from the goroutines that minimize records. Fields without a category (kept by a field rule)
// are not subject to it.
type Allower interface {
	Allows(c consent.Category) bool
}

// AllowFunc adapts a function to [Allower].
type AllowFunc func(consent.Category) bool

// Allows returns f(c).
func (f AllowFunc) Allows(c consent.Category) bool { return f(c) }

type bothAllow struct{ a, b Allower }

func (x bothAllow) Allows(c consent.Category) bool { return x.a.Allows(c) && x.b.Allows(c) }

// Config holds the optional parts of a [Minimizer]. The zero value is
// valid for any policy that does not pseudonymize: no logging, and age
// bands computed at time.Now.
type Config struct {
	// Keyring supplies the pseudonym keys. Required when the policy has a
	// [Pseudonymize] rule; the minimizer derives the policy purpose's keys
	// from it once, in [New].
	Keyring *Keyring
	// Now returns the time [AgeBand] computes ages at. Nil means time.Now.
	// It is called once per record, and only when the policy has an age
	// band.
	Now func() time.Time
	// Logger receives a "minimize.report" audit event per minimized record
	// (Struct, Map and their Report variants) or per batch; see the Audit
	// section of the package documentation. Nil means no logging.
	Logger *slog.Logger
}

// Minimizer applies one [Policy] to records: Go structs through [Struct],
// [StructReport] and [StructBatch], map records through [Minimizer.Map],
// [Minimizer.MapReport] and [Minimizer.MapBatch]. It compiles a plan per
// struct type and per [Schema] on first use and keeps it, so build
// minimizers and schemas once, not per request.
//
// A Minimizer prints and logs as its purpose, its number of rules and its
// pseudonym key ids, never key material; see [Minimizer.String].
//
// A Minimizer is safe for simultaneous use by multiple goroutines; minimizers
// returned by [Minimizer.Narrow] share its plans. The zero value is not
// usable: its methods return [ErrNoMinimizer].
type Minimizer struct {
	c     *core
	allow Allower
}

type core struct {
	pol     *Policy
	ps      *Pseudonymizer
	now     func() time.Time
	log     *slog.Logger
	structs sync.Map // reflect.Type → *planEntry
	last    atomic.Pointer[planEntry]
	maps    sync.Map // *Schema → *mapPlan
}

// New returns a minimizer for policy p. The error wraps [ErrInvalidPolicy]
// for a nil or zero policy, is [ErrNoKeyring] when the policy pseudonymizes
// and c.Keyring is nil, or comes from [Keyring.Pseudonymizer].
func New(p *Policy, c Config) (*Minimizer, error) {
	if p == nil || p.purpose == "" {
		return nil, &RuleError{Index: -1, Err: ErrInvalidPolicy, Why: "nil or zero policy; use NewPolicy"}
	}
	co := &core{pol: p, now: c.Now, log: c.Logger}
	if co.now == nil {
		co.now = time.Now
	}
	if p.pseudo {
		if c.Keyring == nil || len(c.Keyring.keys) == 0 {
			return nil, ErrNoKeyring
		}
		ps, err := c.Keyring.Pseudonymizer(p.purpose)
		if err != nil {
			return nil, err
		}
		co.ps = ps
	}
	return &Minimizer{c: co}, nil
}

// Purpose returns the purpose of the minimizer's policy.
func (m *Minimizer) Purpose() consent.Purpose {
	if m == nil || m.c == nil {
		return ""
	}
	return m.c.pol.purpose
}

// Policy returns the minimizer's policy.
func (m *Minimizer) Policy() *Policy {
	if m == nil || m.c == nil {
		return nil
	}
	return m.c.pol
}

// String returns the purpose, the number of rules, the key ids when the
// policy pseudonymizes and whether consent narrows the minimizer:
// `minimize.Minimizer{purpose: analytics, rules: 2, keys: 2, ids: [k2 k1],
// current: k2, narrowed}`; `minimize.Minimizer{}` for the zero value and
// `minimize.Minimizer(nil)` for nil.
func (m *Minimizer) String() string {
	switch {
	case m == nil:
		return "minimize.Minimizer(nil)"
	case m.c == nil:
		return "minimize.Minimizer{}"
	}
	var b strings.Builder
	b.WriteString("minimize.Minimizer{purpose: ")
	b.WriteString(string(m.c.pol.purpose))
	b.WriteString(", rules: ")
	b.WriteString(strconv.Itoa(len(m.c.pol.rules)))
	if m.c.ps != nil {
		b.WriteString(", ")
		writeKeys(&b, m.c.ps.ids)
	}
	if m.allow != nil {
		b.WriteString(", narrowed")
	}
	b.WriteString("}")
	return b.String()
}

// GoString is [Minimizer.String], for %#v.
func (m *Minimizer) GoString() string { return m.String() }

// Format prints [Minimizer.String] whatever the verb, as [Keyring.Format]
// does.
func (m *Minimizer) Format(f fmt.State, verb rune) { formatSummary(f, verb, m.String()) }

// LogValue logs what [Minimizer.String] shows, "narrowed" as a bool.
func (m *Minimizer) LogValue() slog.Value {
	if !m.ok() {
		return slog.GroupValue()
	}
	a := []slog.Attr{slog.String("purpose", string(m.c.pol.purpose)), slog.Int("rules", len(m.c.pol.rules))}
	if m.c.ps != nil {
		a = append(a, keyAttrs(m.c.ps.ids)...)
	}
	return slog.GroupValue(append(a, slog.Bool("narrowed", m.allow != nil))...)
}

// Pseudonymizer returns the pseudonymizer the minimizer's tokens come from
// (to match or re-key stored tokens), nil when the policy does not
// pseudonymize.
func (m *Minimizer) Pseudonymizer() *Pseudonymizer {
	if m == nil || m.c == nil {
		return nil
	}
	return m.c.ps
}

// Narrow returns a minimizer that also drops every field whose category a
// does not allow: a category the policy would keep but consent no longer
// allows is dropped, and a pointer or slice of structs none of whose
// fields consent allows is left nil (an empty copy would tell that the
// person had one, and how many). Narrowing a narrowed minimizer requires
// both. It is cheap (one small allocation; plans are shared), so narrowing
// per request with the person's current consent is the intended use. A
// nil a returns m.
func (m *Minimizer) Narrow(a Allower) *Minimizer {
	if a == nil || m == nil {
		return m
	}
	if m.allow != nil {
		a = bothAllow{m.allow, a}
	}
	return &Minimizer{c: m.c, allow: a}
}

func (m *Minimizer) ok() bool { return m != nil && m.c != nil }

// start prepares x for one record of a plan: the time when the plan needs
// it, the pseudonym key, and what consent allows of the plan's categories.
func (m *Minimizer) start(x *exec, needsNow bool, cats []consent.Category) {
	if needsNow {
		x.now = m.c.now()
	}
	if m.c.ps != nil {
		x.ps = m.c.ps.cur
	}
	x.setAllow(m.allow, cats)
}

// audit emits one "minimize.report" event.
func (c *core) audit(shape string, records, failed int, t FieldTally) {
	ctx := context.Background()
	if !c.log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, EventReport,
		slog.String("event", EventReport),
		slog.String("purpose", string(c.pol.purpose)),
		slog.String("record", shape),
		slog.Int("records", records),
		slog.Int("failed", failed),
		slog.Int("fields_kept", t.Kept),
		slog.Int("fields_transformed", t.Transformed),
		slog.Int("fields_dropped", t.Dropped),
		slog.Int("fields_no_consent", t.NoConsent),
	)
}

// EventReport is the message and "event" attribute of the audit events
// this package emits.
const EventReport = "minimize.report"
