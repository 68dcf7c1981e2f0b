package minimize

import (
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/tact-go/tact/consent"
)

// Schema maps the keys of map records to their categories, the map
// counterpart of struct tags. Keys the schema does not name have no
// category: a [Minimizer] drops them unless a field rule names them.
//
// A Schema is immutable and safe for simultaneous use by multiple
// goroutines. Minimizers compile a plan per Schema and keep it, so build
// schemas once. The zero value is an empty schema.
type Schema struct {
	fields map[string]consent.Category
	keys   []string // sorted
}

// NewSchema validates and copies fields. The error is a [*FieldError]
// wrapping [ErrSchema] that names the offending key: an empty, over-long
// (over 256 bytes), non-UTF-8 or control-character key, or a malformed
// category.
func NewSchema(fields map[string]consent.Category) (*Schema, error) {
	s := &Schema{fields: make(map[string]consent.Category, len(fields))}
	for k, c := range fields {
		if why := checkField(k); why != "" {
			return nil, &FieldError{Field: k, Err: ErrSchema, Why: why}
		}
		if err := c.Validate(); err != nil {
			return nil, &FieldError{Field: k, Err: ErrSchema, Why: "malformed category " + quote(string(c))}
		}
		s.fields[k] = c
		s.keys = append(s.keys, k)
	}
	slices.Sort(s.keys)
	return s, nil
}

// Category returns the category of a key, false when the schema has none.
func (s *Schema) Category(key string) (consent.Category, bool) {
	if s == nil {
		return "", false
	}
	c, ok := s.fields[key]
	return c, ok
}

// Keys returns the schema's keys, sorted.
func (s *Schema) Keys() []string {
	if s == nil {
		return nil
	}
	return slices.Clone(s.keys)
}

// mapPlan is the compiled form of a schema under a policy.
type mapPlan struct {
	entries  []mapEntry // keys that survive, sorted
	fields   []fieldInfo
	byKey    map[string]int32 // key → fields index
	cats     []consent.Category
	needsNow bool
}

type mapEntry struct {
	key   string
	cat   int32
	field int32
	x     *xform
}

func (c *core) mapPlan(s *Schema) *mapPlan {
	if e, ok := c.maps.Load(s); ok {
		return e.(*mapPlan)
	}
	p := buildMapPlan(s, c.pol)
	e, _ := c.maps.LoadOrStore(s, p)
	return e.(*mapPlan)
}

func buildMapPlan(s *Schema, pol *Policy) *mapPlan {
	keys := slices.Clone(s.keys)
	for f := range pol.byField {
		if _, ok := s.fields[f]; !ok {
			keys = append(keys, f)
		}
	}
	slices.Sort(keys)
	p := &mapPlan{byKey: make(map[string]int32, len(keys))}
	var cats catSet
	for _, k := range keys {
		cat := s.fields[k]
		fi := fieldInfo{FieldReport: FieldReport{Field: k, Category: cat, Transform: Drop()}, cat: -1}
		p.byKey[k] = int32(len(p.fields))
		if ri := pol.decide(k, cat); ri >= 0 {
			x := pol.xforms[ri]
			fi.Reason, fi.Rule, fi.Transform, fi.Outcome = ReasonRule, pol.rules[ri], x.Transform, x.outcome()
			if x.op != opDrop {
				fi.cat = cats.index(cat)
				p.needsNow = p.needsNow || x.op == opAgeBand
				p.entries = append(p.entries, mapEntry{key: k, cat: fi.cat, field: int32(len(p.fields)), x: x})
			}
		}
		p.fields = append(p.fields, fi)
	}
	p.cats = cats.list
	return p
}

// Map returns a minimized copy of rec, a flat record whose keys s maps to
// categories: each key is kept, transformed or left out as the policy
// (narrowed by consent) says; keys neither the schema nor a field rule
// names are left out. rec is never modified.
//
// Values must be nil, a string, a bool, an integer or float of any size, or
// a time.Time; nil passes through every rule that keeps the key. Nested
// maps, slices and other types are rejected, even by [Keep], so the output
// never shares mutable memory with the input (name nested values with
// their own keys). Transforms that change a value's type do so here (see
// [Transform]); a numeric generalization keeps the value's Go type.
//
// The error is [ErrNilRecord] for a nil map, [ErrNoMinimizer] for a nil or
// zero m or a nil s, or a [*FieldError] naming the key and wrapping [ErrTypeMismatch]
// (a value of the wrong or an unsupported type), [ErrNotFinite],
// [ErrOutOfRange] or [ErrPseudonym]. On error the result is nil.
func (m *Minimizer) Map(s *Schema, rec map[string]any) (map[string]any, error) {
	if !m.ok() || s == nil {
		return nil, ErrNoMinimizer
	}
	p := m.c.mapPlan(s)
	var x exec
	out, err := m.runMap(&x, p, rec)
	if err != nil {
		return nil, err
	}
	if m.c.log != nil {
		m.c.audit("map", 1, 0, p.totals(&x, rec))
	}
	return out, nil
}

// MapReport is [Minimizer.Map] that also reports what happened to each key
// of rec. On error the report is nil.
func (m *Minimizer) MapReport(s *Schema, rec map[string]any) (map[string]any, *Report, error) {
	if !m.ok() || s == nil {
		return nil, nil, ErrNoMinimizer
	}
	p := m.c.mapPlan(s)
	var x exec
	out, err := m.runMap(&x, p, rec)
	if err != nil {
		return nil, nil, err
	}
	r := &Report{Purpose: m.c.pol.purpose, Fields: make([]FieldReport, 0, len(rec))}
	p.each(&x, rec, func(fr FieldReport) { r.Fields = append(r.Fields, fr) })
	slices.SortFunc(r.Fields, func(a, b FieldReport) int { return strings.Compare(a.Field, b.Field) })
	if m.c.log != nil {
		m.c.audit("map", 1, 0, p.totals(&x, rec))
	}
	return out, r, nil
}

// MapBatch minimizes every record of recs and tallies the outcomes per
// key. The output is aligned with the input; a record that fails leaves nil
// in its place and is listed in the returned [*BatchError]. With a logger,
// one audit event covers the batch.
func (m *Minimizer) MapBatch(s *Schema, recs []map[string]any) ([]map[string]any, *Tally, error) {
	if !m.ok() || s == nil {
		return nil, nil, ErrNoMinimizer
	}
	p := m.c.mapPlan(s)
	out := make([]map[string]any, len(recs))
	tally := &Tally{Purpose: m.c.pol.purpose}
	index := make(map[string]int)
	var failed []*RecordError
	for i, rec := range recs {
		var x exec
		o, err := m.runMap(&x, p, rec)
		if err != nil {
			failed = append(failed, &RecordError{Index: i, Err: err})
			continue
		}
		out[i] = o
		tally.Records++
		p.each(&x, rec, func(fr FieldReport) {
			j, ok := index[fr.Field]
			if !ok {
				j = len(tally.Fields)
				index[fr.Field] = j
				tally.Fields = append(tally.Fields, FieldTally{Field: fr.Field, Category: fr.Category, Rule: fr.Rule})
			}
			tally.Fields[j].add(fr.Outcome, fr.Reason == ReasonNoConsent)
		})
	}
	slices.SortFunc(tally.Fields, func(a, b FieldTally) int { return strings.Compare(a.Field, b.Field) })
	tally.Failed = len(failed)
	if m.c.log != nil {
		m.c.audit("map", tally.Records, tally.Failed, tally.sum())
	}
	if failed != nil {
		return out, tally, &BatchError{Failed: failed}
	}
	return out, tally, nil
}

// each calls f with the report of every key of rec.
func (p *mapPlan) each(x *exec, rec map[string]any, f func(FieldReport)) {
	for k := range rec {
		if i, ok := p.byKey[k]; ok {
			f(x.report(&p.fields[i]))
		} else {
			f(FieldReport{Field: k, Transform: Drop(), Reason: ReasonNoRule})
		}
	}
}

// totals counts the outcomes for one record, consent included.
func (p *mapPlan) totals(x *exec, rec map[string]any) FieldTally {
	var t FieldTally
	p.each(x, rec, func(fr FieldReport) { t.add(fr.Outcome, fr.Reason == ReasonNoConsent) })
	return t
}

func (m *Minimizer) runMap(x *exec, p *mapPlan, rec map[string]any) (map[string]any, error) {
	if rec == nil {
		return nil, ErrNilRecord
	}
	m.start(x, p.needsNow, p.cats)
	out := make(map[string]any, len(p.entries))
	for i := range p.entries {
		e := &p.entries[i]
		v, ok := rec[e.key]
		if !ok || !x.allows(e.cat) {
			continue
		}
		nv, keep, err := x.value(e.x, v)
		if err != nil {
			f := &p.fields[e.field]
			return nil, &FieldError{Field: f.Field, Category: f.Category, Transform: e.x.name, Err: err.err, Why: err.why}
		}
		if keep {
			out[e.key] = nv
		}
	}
	return out, nil
}

type valueError struct {
	err error
	why string
}

// value applies x to one map value; keep is false when the key is to be
// left out.
func (ex *exec) value(x *xform, v any) (out any, keep bool, verr *valueError) {
	if v == nil {
		return nil, true, nil
	}
	var k kind
	switch v.(type) {
	case string:
		k = kString
	case time.Time:
		k = kTime
	case bool:
		k = kBool
	case int:
		k = kInt
	case int8:
		k = kInt8
	case int16:
		k = kInt16
	case int32:
		k = kInt32
	case int64:
		k = kInt64
	case uint:
		k = kUint
	case uint8:
		k = kUint8
	case uint16:
		k = kUint16
	case uint32:
		k = kUint32
	case uint64:
		k = kUint64
	case uintptr:
		k = kUintptr
	case float32:
		k = kFloat32
	case float64:
		k = kFloat64
	default:
		return nil, false, &valueError{ErrTypeMismatch, "unsupported value type " + reflect.TypeOf(v).String()}
	}
	if x.op == opKeep {
		return v, true, nil
	}
	if why := x.accepts(k); why != "" {
		return nil, false, &valueError{ErrTypeMismatch, why + ", have " + reflect.TypeOf(v).String()}
	}
	var err error
	switch v := v.(type) {
	case string:
		if x.op == opPseudonymize {
			out, err = ex.ps.token(v)
		} else {
			out = x.str(v)
		}
	case time.Time:
		out, keep, err = x.timeValue(v, ex.now)
		if err == nil {
			return out, keep, nil
		}
	case int:
		out, err = signed(x, v, k)
	case int8:
		out, err = signed(x, v, k)
	case int16:
		out, err = signed(x, v, k)
	case int32:
		out, err = signed(x, v, k)
	case int64:
		out, err = signed(x, v, k)
	case uint:
		out, err = unsigned(x, v, k)
	case uint8:
		out, err = unsigned(x, v, k)
	case uint16:
		out, err = unsigned(x, v, k)
	case uint32:
		out, err = unsigned(x, v, k)
	case uint64:
		out, err = unsigned(x, v, k)
	case uintptr:
		out, err = unsigned(x, v, k)
	case float32:
		out, err = floating(x, v, k)
	case float64:
		out, err = floating(x, v, k)
	}
	if err != nil {
		return nil, false, &valueError{err: err}
	}
	return out, true, nil
}

// signed, unsigned and floating apply a numeric transform to a map value
// of kind k, keeping its Go type.
func signed[T int | int8 | int16 | int32 | int64](x *xform, v T, k kind) (any, error) {
	r, err := x.int(int64(v), k)
	return T(r), err
}

func unsigned[T uint | uint8 | uint16 | uint32 | uint64 | uintptr](x *xform, v T, k kind) (any, error) {
	r, err := x.uint(uint64(v), k)
	return T(r), err
}

func floating[T float32 | float64](x *xform, v T, k kind) (any, error) {
	r, err := x.float(float64(v), k)
	return T(r), err
}
