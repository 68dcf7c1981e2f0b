package minimize

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// KAnonymity configures a k-anonymity check of a batch of (minimized)
// records: records that agree on every quasi-identifier form an equivalence
// class, and a batch is k-anonymous when every class has at least k
// records, so no one is distinguishable from fewer than k-1 others by those
// fields.
type KAnonymity struct {
	// QuasiIdentifiers are the fields that together could single a person
	// out (age band, postal prefix, gender): struct field paths as in
	// [Rule.Field] or map keys. At least one.
	QuasiIdentifiers []string
	// K is the threshold, ≥ 1.
	K int
	// Sensitive optionally names a field whose diversity within classes is
	// measured (l-diversity): a class whose records all share one
	// diagnosis discloses it despite k-anonymity.
	Sensitive string
	// Suppress removes the records of classes smaller than K from
	// [KResult.Records].
	Suppress bool
}

// Class is one equivalence class below the threshold.
type Class struct {
	// Values are the quasi-identifier values of the class, in the order of
	// [KAnonymity.QuasiIdentifiers], formatted as text ("<nil>" for a nil
	// pointer or value, "<missing>" for a key a map record lacks).
	Values []string
	Size   int
	// Distinct is the number of distinct sensitive values in the class, 0
	// without [KAnonymity.Sensitive].
	Distinct int
}

// KResult is the outcome of [CheckK].
type KResult[T any] struct {
	// K is the k the batch achieves: the size of its smallest class, 0
	// for an empty batch. K, L, Classes and Small describe the batch as
	// given, before any suppression; the records that remain after it form
	// classes of at least [KAnonymity.K] records.
	K int
	// L is the smallest number of distinct sensitive values in a class (the
	// batch is L-diverse), 0 without [KAnonymity.Sensitive].
	L int
	// Classes is the number of equivalence classes.
	Classes int
	// Small lists the classes with fewer than the threshold's records,
	// smallest first.
	Small []Class
	// Records are the records that remain: with Suppress, those of classes
	// with at least K records, in input order; otherwise recs itself.
	Records []T
	// Suppressed counts the records removed.
	Suppressed int
}

// CheckK computes the equivalence classes of recs over the configured
// quasi-identifiers, and reports k, the classes below the threshold, l
// when a sensitive field is named, and optionally suppresses the small
// classes. T is a struct, a pointer to a struct, or map[string]any.
//
// The error wraps [ErrInvalidK] for k < 1, no quasi-identifiers, or a
// field the struct type does not have or that is not a single value
// (string, bool, number, time.Time, possibly behind pointers), and is
// [ErrNilRecord] for a nil map or pointer record.
func CheckK[T any](recs []T, cfg KAnonymity) (*KResult[T], error) {
	if cfg.K < 1 {
		return nil, fmt.Errorf("%w: k must be ≥ 1", ErrInvalidK)
	}
	if len(cfg.QuasiIdentifiers) == 0 {
		return nil, fmt.Errorf("%w: no quasi-identifiers", ErrInvalidK)
	}
	names := cfg.QuasiIdentifiers
	if cfg.Sensitive != "" {
		names = append(slices.Clone(names), cfg.Sensitive)
	}
	get, err := accessor[T](names)
	if err != nil {
		return nil, err
	}
	type class struct {
		values    []string
		members   []int
		sensitive map[string]struct{}
	}
	classes := make(map[string]*class)
	var order []*class
	memberOf := make([]*class, len(recs))
	var key strings.Builder
	nq := len(cfg.QuasiIdentifiers)
	absent := make([]bool, len(names))
	for i := range recs {
		vals, err := get(recs[i], absent)
		if err != nil {
			return nil, err
		}
		key.Reset()
		for j, v := range vals[:nq] {
			if absent[j] { // "<nil>" and "<missing>" never equal a value that reads the same
				key.WriteByte('!')
			}
			key.WriteString(strconv.Itoa(len(v)))
			key.WriteByte(':')
			key.WriteString(v)
		}
		c, ok := classes[key.String()]
		if !ok {
			c = &class{values: vals[:nq:nq], sensitive: make(map[string]struct{})}
			classes[key.String()] = c
			order = append(order, c)
		}
		c.members = append(c.members, i)
		if cfg.Sensitive != "" {
			c.sensitive[vals[nq]] = struct{}{}
		}
		memberOf[i] = c
	}
	res := &KResult[T]{Classes: len(order), Records: recs}
	for _, c := range order {
		if res.K == 0 || len(c.members) < res.K {
			res.K = len(c.members)
		}
		d := 0
		if cfg.Sensitive != "" {
			d = len(c.sensitive)
			if res.L == 0 || d < res.L {
				res.L = d
			}
		}
		if len(c.members) < cfg.K {
			res.Small = append(res.Small, Class{Values: c.values, Size: len(c.members), Distinct: d})
		}
	}
	slices.SortStableFunc(res.Small, func(a, b Class) int {
		if c := cmp.Compare(a.Size, b.Size); c != 0 {
			return c
		}
		return slices.Compare(a.Values, b.Values)
	})
	if cfg.Suppress && len(res.Small) > 0 {
		kept := make([]T, 0, len(recs))
		for i := range recs {
			if len(memberOf[i].members) >= cfg.K {
				kept = append(kept, recs[i])
			}
		}
		res.Suppressed = len(recs) - len(kept)
		res.Records = kept
	}
	return res, nil
}

// accessor returns a function formatting the named fields of a T and
// flagging in absent those that are nil or missing.
func accessor[T any](names []string) (func(T, []bool) ([]string, error), error) {
	t := reflect.TypeFor[T]()
	if t == reflect.TypeFor[map[string]any]() {
		return func(rec T, absent []bool) ([]string, error) {
			m := any(rec).(map[string]any)
			if m == nil {
				return nil, ErrNilRecord
			}
			out := make([]string, len(names))
			for i, n := range names {
				v, ok := m[n]
				if !ok {
					out[i], absent[i] = "<missing>", true
					continue
				}
				out[i], absent[i] = formatValue(reflect.ValueOf(v))
			}
			return out, nil
		}, nil
	}
	st := t
	if st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	if st.Kind() != reflect.Struct || st == timeType {
		return nil, fmt.Errorf("%w: records must be structs, pointers to structs or map[string]any, have %s", ErrInvalidK, t)
	}
	paths := make([][]int, len(names))
	for i, n := range names {
		idx, err := fieldPath(st, n)
		if err != nil {
			return nil, err
		}
		paths[i] = idx
	}
	return func(rec T, absent []bool) ([]string, error) {
		v := reflect.ValueOf(&rec).Elem()
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return nil, ErrNilRecord
			}
			v = v.Elem()
		}
		out := make([]string, len(paths))
		for i, p := range paths {
			out[i], absent[i] = formatValue(walk(v, p))
		}
		return out, nil
	}, nil
}

// fieldPath resolves a dotted path of exported fields to a sequence of
// field indexes, each step possibly through a pointer; the leaf must be a
// scalar or time.Time.
func fieldPath(t reflect.Type, path string) ([]int, error) {
	var idx []int
	for _, name := range strings.Split(path, ".") {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t == timeType {
			return nil, fmt.Errorf("%w: field %q: %s has no fields", ErrInvalidK, path, t)
		}
		f, ok := t.FieldByName(name)
		if !ok || !f.IsExported() {
			return nil, fmt.Errorf("%w: no exported field %q", ErrInvalidK, path)
		}
		idx = append(idx, f.Index...)
		t = f.Type
	}
	base := t
	for base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	if kindOf(base) == kInvalid {
		return nil, fmt.Errorf("%w: field %q is not a single value (%s)", ErrInvalidK, path, t)
	}
	return idx, nil
}

// walk follows a field index path, through pointers; an invalid Value
// stands for a nil pointer on the way.
func walk(v reflect.Value, idx []int) reflect.Value {
	for _, i := range idx {
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	return v
}

// formatValue formats v as text, or reports it absent ("<nil>").
func formatValue(v reflect.Value) (string, bool) {
	if !v.IsValid() {
		return "<nil>", true
	}
	return formatText(v), false
}

func formatText(v reflect.Value) string {
	if v.Type() == timeType {
		return v.Interface().(time.Time).Format(time.RFC3339Nano)
	}
	switch k := kindOf(v.Type()); {
	case k == kString:
		return v.String()
	case k == kBool:
		return strconv.FormatBool(v.Bool())
	case k.signed():
		return strconv.FormatInt(v.Int(), 10)
	case k.unsigned():
		return strconv.FormatUint(v.Uint(), 10)
	case k.float():
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	}
	return fmt.Sprint(v.Interface())
}
