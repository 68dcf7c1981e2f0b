package minimize

import (
	"reflect"
	"sync"
	"unsafe"
)

// plan returns the compiled plan for type t, building it on first use.
// The plan used last is checked first: most minimizers see one type.
func (c *core) plan(t reflect.Type) (*structPlan, error) {
	if pe := c.last.Load(); pe != nil && pe.typ == t {
		return pe.p, pe.err
	}
	pe := loadPlan(&c.structs, t, c.pol, false)
	c.last.Store(pe)
	return pe.p, pe.err
}

// loadPlan returns the plan for t from cache, building it on first use.
func loadPlan(cache *sync.Map, t reflect.Type, pol *Policy, keepAll bool) *planEntry {
	if e, ok := cache.Load(t); ok {
		return e.(*planEntry)
	}
	p, err := buildPlan(t, pol, keepAll)
	e, _ := cache.LoadOrStore(t, &planEntry{typ: t, p: p, err: err})
	return e.(*planEntry)
}

// Struct returns a minimized copy of the record in, a struct or a pointer
// to a struct whose fields carry `tact:"<category>"` tags. Each field is
// kept, transformed or zeroed as the policy (narrowed by consent, see
// [Minimizer.Narrow]) says; untagged fields are zeroed unless a field rule
// names them. The input is never modified and the output shares no mutable
// memory with it: pointers and slices are copied.
//
// # Fields
//
// Tags go on leaf fields: strings, bools, integers, floats and time.Time,
// also behind pointers and in slices (each element is transformed). Nested
// structs, pointers to structs and slices of structs are walked, and their
// fields are named by dotted paths ("Address.Postal"); a pointer or slice
// of structs none of whose fields passes stays nil. The tag "-" makes the
// package ignore a field. Unexported fields are never copied, but the
// exported fields of an embedded struct are walked even when the embedded
// type is unexported (as encoding/json does). A field of another type
// (map, interface, channel, function, array) is zeroed; if tagged or named
// by a rule, the plan fails with [ErrUnsupported].
//
// # Plans
//
// The plan for T is built on first use and cached in the minimizer. A
// malformed tag, a transform that does not fit a field's type (a mask on an
// int) or an unsupported type is reported then, as a [*FieldError] naming
// the field, on every call for T; use [Explain] at start-up to fail early.
//
// # Errors
//
// Besides plan errors: [ErrNilRecord] for a nil pointer, [ErrNoMinimizer]
// for a nil or zero m, and a [*FieldError] wrapping [ErrNotFinite],
// [ErrOutOfRange] or [ErrPseudonym] for a value a transform cannot take.
// On error the zero T is returned.
func Struct[T any](m *Minimizer, in T) (T, error) {
	var out T
	var x exec
	if _, err := structOne(m, &x, &out, &in); err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// structOne minimizes *in into *out, which is zero, and emits the audit
// event: the common part of [Struct] and [StructReport].
func structOne[T any](m *Minimizer, x *exec, out, in *T) (*structPlan, error) {
	if !m.ok() {
		return nil, ErrNoMinimizer
	}
	p, err := m.c.plan(reflect.TypeFor[T]())
	if err != nil {
		return nil, err
	}
	if err := m.runStruct(x, p, unsafe.Pointer(out), unsafe.Pointer(in)); err != nil {
		return nil, err
	}
	if m.c.log != nil {
		m.c.audit(p.typ.String(), 1, 0, p.totals(x))
	}
	return p, nil
}

// runStruct sets up x for p and runs it.
func (m *Minimizer) runStruct(x *exec, p *structPlan, dst, src unsafe.Pointer) error {
	if p.root.code == nPtr && *(*unsafe.Pointer)(src) == nil {
		return ErrNilRecord
	}
	m.start(x, p.needsNow, p.cats)
	return x.runStruct(p, dst, src)
}

// totals counts the outcomes for one record, consent included.
func (p *structPlan) totals(x *exec) FieldTally {
	if x.allow == nil {
		return p.static
	}
	var t FieldTally
	for i := range p.fields {
		t.add(x.outcome(&p.fields[i]))
	}
	return t
}

// report builds the per-record report.
func (p *structPlan) report(m *Minimizer, x *exec) *Report {
	r := &Report{Purpose: m.c.pol.purpose, Fields: make([]FieldReport, len(p.fields))}
	for i := range p.fields {
		r.Fields[i] = x.report(&p.fields[i])
	}
	return r
}

// StructReport is [Struct] that also reports what happened to each field.
// The report costs a few allocations; use Struct on hot paths and
// [StructBatch] for aggregate counts. On error the report is nil.
func StructReport[T any](m *Minimizer, in T) (T, *Report, error) {
	var out T
	var x exec
	p, err := structOne(m, &x, &out, &in)
	if err != nil {
		var zero T
		return zero, nil, err
	}
	return out, p.report(m, &x), nil
}

// StructBatch minimizes every record of in and tallies the outcomes. The
// output is aligned with the input. A record that fails leaves the zero T
// in its place and is listed in the returned [*BatchError]; the others are
// minimized regardless. With a logger, one audit event covers the batch.
// A plan error (bad tags, unsupported types) fails the whole batch.
func StructBatch[T any](m *Minimizer, in []T) ([]T, *Tally, error) {
	if !m.ok() {
		return nil, nil, ErrNoMinimizer
	}
	p, err := m.c.plan(reflect.TypeFor[T]())
	if err != nil {
		return nil, nil, err
	}
	out := make([]T, len(in))
	tally := p.newTally(m)
	var failed []*RecordError
	for i := range in {
		var x exec
		if err := m.runStruct(&x, p, unsafe.Pointer(&out[i]), unsafe.Pointer(&in[i])); err != nil {
			var zero T
			out[i] = zero
			failed = append(failed, &RecordError{Index: i, Err: err})
			continue
		}
		tally.Records++
		for j := range p.fields {
			tally.Fields[j].add(x.outcome(&p.fields[j]))
		}
	}
	tally.Failed = len(failed)
	if m.c.log != nil {
		m.c.audit(p.typ.String(), tally.Records, tally.Failed, tally.sum())
	}
	if failed != nil {
		return out, tally, &BatchError{Failed: failed}
	}
	return out, tally, nil
}

func (p *structPlan) newTally(m *Minimizer) *Tally {
	t := &Tally{Purpose: m.c.pol.purpose, Fields: make([]FieldTally, len(p.fields))}
	for i := range p.fields {
		f := &p.fields[i]
		t.Fields[i] = FieldTally{Field: f.Field, Category: f.Category, Rule: f.Rule}
	}
	return t
}

// Explain builds (or fetches) the plan for T and returns what it does to
// each field of T: the report every record of T gets (with consent when m
// is narrowed). Use it at start-up to fail early on bad tags, and to tell a person
// what a purpose keeps about them. The errors are those of building a plan
// (see [Struct]).
func Explain[T any](m *Minimizer) (*Report, error) {
	if !m.ok() {
		return nil, ErrNoMinimizer
	}
	p, err := m.c.plan(reflect.TypeFor[T]())
	if err != nil {
		return nil, err
	}
	var x exec
	x.setAllow(m.allow, p.cats)
	return p.report(m, &x), nil
}
