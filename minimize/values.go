package minimize

import (
	"cmp"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// kind is the scalar kind of a value a transform works on.
type kind uint8

const (
	kInvalid kind = iota
	kString
	kBool
	kInt
	kInt8
	kInt16
	kInt32
	kInt64
	kUint
	kUint8
	kUint16
	kUint32
	kUint64
	kUintptr
	kFloat32
	kFloat64
	kTime
)

var timeType = reflect.TypeFor[time.Time]()

// kindOf maps a reflect type to a scalar kind, kInvalid when it is not one.
func kindOf(t reflect.Type) kind {
	if t == timeType {
		return kTime
	}
	switch t.Kind() {
	case reflect.String:
		return kString
	case reflect.Bool:
		return kBool
	case reflect.Int:
		return kInt
	case reflect.Int8:
		return kInt8
	case reflect.Int16:
		return kInt16
	case reflect.Int32:
		return kInt32
	case reflect.Int64:
		return kInt64
	case reflect.Uint:
		return kUint
	case reflect.Uint8:
		return kUint8
	case reflect.Uint16:
		return kUint16
	case reflect.Uint32:
		return kUint32
	case reflect.Uint64:
		return kUint64
	case reflect.Uintptr:
		return kUintptr
	case reflect.Float32:
		return kFloat32
	case reflect.Float64:
		return kFloat64
	}
	return kInvalid
}

func (k kind) signed() bool   { return k >= kInt && k <= kInt64 }
func (k kind) unsigned() bool { return k >= kUint && k <= kUintptr }
func (k kind) float() bool    { return k == kFloat32 || k == kFloat64 }

// intRange returns the bounds of a signed kind.
func (k kind) intRange() (int64, int64) {
	switch k {
	case kInt8:
		return math.MinInt8, math.MaxInt8
	case kInt16:
		return math.MinInt16, math.MaxInt16
	case kInt32:
		return math.MinInt32, math.MaxInt32
	case kInt:
		return math.MinInt, math.MaxInt
	}
	return math.MinInt64, math.MaxInt64
}

// uintMax returns the largest value of an unsigned kind.
func (k kind) uintMax() uint64 {
	switch k {
	case kUint8:
		return math.MaxUint8
	case kUint16:
		return math.MaxUint16
	case kUint32:
		return math.MaxUint32
	case kUint, kUintptr:
		return math.MaxUint
	}
	return math.MaxUint64
}

// xform is a Transform validated and prepared for the kinds it meets.
type xform struct {
	Transform
	name string

	// Signed integer form; intWhy says why there is none.
	intWhy       string
	iwidth       int64
	iedges       []int64
	ilo, ihi     int64
	uintWhy      string
	uwidth       uint64
	uedges       []uint64
	ulo, uhi     uint64
	geoPow       float64
	geoIdentical float64 // |x| at or above this is already at the precision
}

// whole reports whether x is an integer in int64 range.
func whole(x float64) bool {
	return x == math.Trunc(x) && x >= -(1<<63) && x < 1<<63
}

func compileTransform(t Transform) *xform {
	x := &xform{Transform: t, name: t.String()}
	switch t.op {
	case opBucket:
		if !whole(t.width) {
			x.intWhy, x.uintWhy = "bucket width is not a whole number", "bucket width is not a whole number"
		} else {
			x.iwidth, x.uwidth = int64(t.width), uint64(t.width)
		}
	case opEdges:
		for _, e := range t.edges {
			if !whole(e) {
				x.intWhy, x.uintWhy = "bucket edges are not whole numbers", "bucket edges are not whole numbers"
				break
			}
			x.iedges = append(x.iedges, int64(e))
			if e < 0 {
				x.uintWhy = "bucket edges below zero"
			} else {
				x.uedges = append(x.uedges, uint64(e))
			}
		}
	case opTopBottom:
		bound := func(v float64, inf int64) (int64, bool) {
			if math.IsInf(v, 0) {
				return inf, true
			}
			return int64(v), whole(v)
		}
		lo, ok1 := bound(t.lo, math.MinInt64)
		hi, ok2 := bound(t.hi, math.MaxInt64)
		if !ok1 || !ok2 {
			x.intWhy, x.uintWhy = "bounds are not whole numbers", "bounds are not whole numbers"
			break
		}
		x.ilo, x.ihi = lo, hi
		x.ulo, x.uhi = 0, math.MaxUint64
		if lo > 0 {
			x.ulo = uint64(lo)
		}
		if hi < 0 {
			x.uintWhy = "top code below zero"
		} else if !math.IsInf(t.hi, 1) {
			x.uhi = uint64(hi)
		}
	case opGeo:
		x.geoPow = math.Pow10(t.n)
		x.geoIdentical = (1 << 52) / x.geoPow
	}
	return x
}

// accepts reports whether the transform fits a value of kind k, and why
// not. It is the plan-time check for struct fields and the run-time check
// for map values.
func (x *xform) accepts(k kind) string {
	switch x.op {
	case opDrop, opKeep:
		if k == kInvalid {
			return "unsupported type"
		}
		return ""
	case opRedact, opMask, opPostal, opPseudonymize:
		if k != kString {
			return "needs a string"
		}
	case opBucket, opEdges, opTopBottom:
		switch {
		case k.signed():
			if x.intWhy != "" {
				return x.intWhy + " for an integer"
			}
			if x.op == opEdges {
				lo, hi := k.intRange()
				for _, e := range x.iedges {
					if e < lo || e > hi {
						return "bucket edge outside the field type's range"
					}
				}
			}
		case k.unsigned():
			if x.uintWhy != "" {
				return x.uintWhy + " for an unsigned integer"
			}
			if x.op == opEdges {
				for _, e := range x.uedges {
					if e > k.uintMax() {
						return "bucket edge outside the field type's range"
					}
				}
			}
		case k.float():
		default:
			return "needs a number"
		}
	case opGeo:
		if !k.float() {
			return "needs a floating-point number"
		}
	case opAgeBand, opTruncate, opPart:
		if k != kTime {
			return "needs a time.Time"
		}
	default:
		return "unknown transform"
	}
	return ""
}

// str applies a string transform other than pseudonymize.
func (x *xform) str(s string) string {
	if s == "" {
		return s
	}
	switch x.op {
	case opRedact:
		return Redacted
	case opMask:
		return mask(s, x.n, x.m)
	case opPostal:
		return prefixRunes(s, x.n)
	}
	return s
}

func mask(s string, first, last int) string {
	n := utf8.RuneCountInString(s)
	if n <= first+last {
		return strings.Repeat("*", n)
	}
	var b strings.Builder
	b.Grow(len(s))
	i := 0
	for _, r := range s {
		if i < first || i >= n-last {
			b.WriteRune(r)
		} else {
			b.WriteByte('*')
		}
		i++
	}
	return b.String()
}

func prefixRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// int applies a numeric transform to a signed integer of kind k.
func (x *xform) int(v int64, k kind) (int64, error) {
	var r int64
	switch x.op {
	case opBucket:
		w := x.iwidth
		m := v % w
		if m < 0 {
			m += w
		}
		r = v - m
		if r > v {
			return 0, ErrOutOfRange
		}
	case opEdges:
		r = floorEdge(x.iedges, v)
	case opTopBottom:
		r = min(max(v, x.ilo), x.ihi)
	default:
		return v, nil
	}
	if lo, hi := k.intRange(); r < lo || r > hi {
		return 0, ErrOutOfRange
	}
	return r, nil
}

// floorEdge returns the largest edge at or below v, or the first edge
// when v is below them all (edges are sorted).
func floorEdge[T cmp.Ordered](edges []T, v T) T {
	i, found := slices.BinarySearch(edges, v)
	if !found {
		i--
	}
	return edges[max(i, 0)]
}

// uint applies a numeric transform to an unsigned integer of kind k.
func (x *xform) uint(v uint64, k kind) (uint64, error) {
	var r uint64
	switch x.op {
	case opBucket:
		r = v - v%x.uwidth
	case opEdges:
		r = floorEdge(x.uedges, v)
	case opTopBottom:
		r = min(max(v, x.ulo), x.uhi)
	default:
		return v, nil
	}
	if r > k.uintMax() {
		return 0, ErrOutOfRange
	}
	return r, nil
}

// float applies a numeric transform to a float of kind k.
func (x *xform) float(v float64, k kind) (float64, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, ErrNotFinite
	}
	var r float64
	switch x.op {
	case opBucket:
		r = math.Floor(v/x.width) * x.width
	case opEdges:
		r = floorEdge(x.edges, v)
	case opTopBottom:
		r = min(max(v, x.lo), x.hi)
	case opGeo:
		if math.Abs(v) >= x.geoIdentical {
			r = v
		} else {
			r = math.Round(v*x.geoPow) / x.geoPow
		}
	default:
		return v, nil
	}
	if math.IsNaN(r) || math.IsInf(r, 0) || (k == kFloat32 && math.Abs(r) > math.MaxFloat32) {
		return 0, ErrOutOfRange
	}
	return r, nil
}

// epoch is the first day of year 1, a Monday; Part results live in its week.
var epochYear1 = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)

// time applies a time transform for a struct field, which keeps its type.
func (x *xform) time(t, now time.Time) (time.Time, error) {
	if t.IsZero() {
		return t, nil
	}
	switch x.op {
	case opTruncate:
		return truncate(t, x.unit), nil
	case opPart:
		if x.part == HourOfDay {
			return epochYear1.Add(time.Duration(t.Hour()) * time.Hour), nil
		}
		return epochYear1.AddDate(0, 0, (int(t.Weekday())+6)%7), nil
	case opAgeBand:
		lower, err := ageBand(t, now, x.n)
		if err != nil {
			return time.Time{}, err
		}
		loc := t.Location()
		ny, nm, nd := now.In(loc).Date()
		d := time.Date(ny-lower, nm, nd, 0, 0, 0, 0, loc)
		if d.Month() != nm { // 29 February in a common year: use the 28th
			d = time.Date(ny-lower, nm+1, 0, 0, 0, 0, 0, loc)
		}
		return d, nil
	}
	return t, nil
}

// timeValue applies a time transform for a map value; ok is false when the
// key is to be left out (Part or AgeBand of the zero time).
func (x *xform) timeValue(t, now time.Time) (v any, ok bool, err error) {
	switch x.op {
	case opPart:
		if t.IsZero() {
			return nil, false, nil
		}
		if x.part == HourOfDay {
			return t.Hour(), true, nil
		}
		return int(t.Weekday()), true, nil
	case opAgeBand:
		if t.IsZero() {
			return nil, false, nil
		}
		lower, err := ageBand(t, now, x.n)
		if err != nil {
			return nil, false, err
		}
		return lower, true, nil
	}
	r, err := x.time(t, now)
	return r, true, err
}

func truncate(t time.Time, u TimeUnit) time.Time {
	y, mo, d := t.Date()
	loc := t.Location()
	switch u {
	case Hour:
		return time.Date(y, mo, d, t.Hour(), 0, 0, 0, loc)
	case Day:
		return time.Date(y, mo, d, 0, 0, 0, 0, loc)
	case Week:
		return time.Date(y, mo, d-(int(t.Weekday())+6)%7, 0, 0, 0, 0, loc)
	case Month:
		return time.Date(y, mo, 1, 0, 0, 0, 0, loc)
	case Year:
		return time.Date(y, 1, 1, 0, 0, 0, 0, loc)
	}
	return t
}

// ageBand returns the lower bound of the band of the given width that the
// age at now of a person born at birth falls in.
func ageBand(birth, now time.Time, width int) (int, error) {
	now = now.In(birth.Location())
	by, bm, bd := birth.Date()
	ny, nm, nd := now.Date()
	age := ny - by
	if nm < bm || (nm == bm && nd < bd) {
		age--
	}
	if age < 0 {
		return 0, ErrOutOfRange
	}
	return age / width * width, nil
}
