package minimize

import (
	"cmp"
	"math"
	"reflect"
	"slices"
	"strconv"
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

// bits returns the size of an integer kind in bits.
func (k kind) bits() int {
	switch k {
	case kInt8, kUint8:
		return 8
	case kInt16, kUint16:
		return 16
	case kInt32, kUint32:
		return 32
	case kInt, kUint, kUintptr:
		return strconv.IntSize
	}
	return 64
}

// intRange returns the bounds of a signed kind.
func (k kind) intRange() (int64, int64) {
	n := k.bits()
	return -1 << (n - 1), 1<<(n-1) - 1
}

// uintMax returns the largest value of an unsigned kind.
func (k kind) uintMax() uint64 { return math.MaxUint64 >> (64 - k.bits()) }

// fits reports whether x is a value of numeric kind k: a whole number in
// its range for the integer kinds, a finite number in its range for the
// floating-point ones.
func (k kind) fits(x float64) bool {
	switch {
	case k.signed():
		p := math.Ldexp(1, k.bits()-1)
		return x == math.Trunc(x) && x >= -p && x < p
	case k.unsigned():
		return x == math.Trunc(x) && x >= 0 && x < math.Ldexp(1, k.bits())
	case k == kFloat32:
		return math.Abs(x) <= math.MaxFloat32
	}
	return !math.IsNaN(x) && !math.IsInf(x, 0)
}

// xform is a Transform validated and prepared for the kinds it meets.
//
// The numeric transforms follow the one rule stated at [Transform] for
// every kind: accepts rejects the parameters no value of a kind can use
// (checked with kind.fits), and int, uint and float compute the exact
// result, then check that the kind holds it.
type xform struct {
	Transform
	name string

	// intWhy says why the transform does not fit integers, "" when it
	// does. The integer forms of the parameters saturate at the limits of
	// int64 and uint64, which is exact for the kinds accepts lets through.
	intWhy   string
	uwidth   uint64 // bucket width; 0 when it is 2^64 or more
	iedges   []int64
	uedges   []uint64
	ilo, ihi int64
	ulo, uhi uint64
	geoPow   float64
	// identical: a float of at least this magnitude is its own bucket or
	// rounded coordinate, floats being further apart there than the width
	// or precision.
	identical float64
}

// satInt converts a whole number or infinity to int64, saturating at its
// limits.
func satInt(x float64) int64 {
	switch {
	case x <= math.MinInt64:
		return math.MinInt64
	case x >= 1<<63:
		return math.MaxInt64
	}
	return int64(x)
}

// satUint converts a whole number or infinity to uint64, saturating at its
// limits.
func satUint(x float64) uint64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1<<64:
		return math.MaxUint64
	}
	return uint64(x)
}

func compileTransform(t Transform) *xform {
	x := &xform{Transform: t, name: t.String()}
	whole := func(xs ...float64) bool {
		for _, v := range xs {
			if v != math.Trunc(v) { // false for NaN, true for infinities
				return false
			}
		}
		return true
	}
	switch t.op {
	case opBucket:
		x.identical = 0x1p53 * t.width
		if !whole(t.width) {
			x.intWhy = "bucket width is not a whole number"
		} else if t.width < 1<<64 {
			x.uwidth = uint64(t.width)
		}
	case opEdges:
		if !whole(t.edges...) {
			x.intWhy = "bucket edges are not whole numbers"
		}
		for _, e := range t.edges {
			x.iedges = append(x.iedges, satInt(e))
			x.uedges = append(x.uedges, satUint(e))
		}
	case opTopBottom:
		if !whole(t.lo, t.hi) {
			x.intWhy = "bounds are not whole numbers"
		}
		x.ilo, x.ihi = satInt(t.lo), satInt(t.hi)
		x.ulo, x.uhi = satUint(t.lo), satUint(t.hi)
	case opGeo:
		x.geoPow = math.Pow10(t.n)
		x.identical = 0x1p52 / x.geoPow
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
		case !k.signed() && !k.unsigned() && !k.float():
			return "needs a number"
		case !k.float() && x.intWhy != "":
			return x.intWhy + " for an integer"
		}
		switch x.op {
		case opEdges:
			for _, e := range x.edges {
				if !k.fits(e) {
					return "bucket edge outside the field type's range"
				}
			}
		case opTopBottom:
			// A bound beyond the range leaves that tail alone; a tail
			// coded beyond it would make every value out of range.
			if x.lo > 0 && !k.fits(x.lo) || x.hi < 0 && !k.fits(x.hi) {
				return "top/bottom coding outside the field type's range"
			}
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
		var ok bool
		if r, ok = floorMultiple(v, x.uwidth); !ok {
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

// floorMultiple returns the largest multiple of w at or below v, w = 0
// standing for a width of 2^64 or more; false when that is below
// math.MinInt64. It works on magnitudes in uint64, so that every whole
// width up to 2^64 is exact.
func floorMultiple(v int64, w uint64) (int64, bool) {
	if v >= 0 {
		if w == 0 {
			return 0, true
		}
		return int64(uint64(v) - uint64(v)%w), true
	}
	if w == 0 {
		return 0, false
	}
	a := -uint64(v) // |v|, up to 2^63
	m := a % w
	if m == 0 {
		return v, true
	}
	a += w - m // the result's magnitude; no overflow, as w-m ≤ w and a < w when w > 2^63
	if a > 1<<63 {
		return 0, false
	}
	return int64(-a), true // -2^63 wraps to math.MinInt64, as it should
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
		if x.uwidth != 0 { // else the width exceeds every uint64: bucket 0
			r = v - v%x.uwidth
		}
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

// float32Overflow is the smallest magnitude that rounds to an infinity as
// a float32: math.MaxFloat32 plus half its last place.
const float32Overflow = 0x1p128 - 0x1p103

// float applies a numeric transform to a float of kind k. A zero result is
// +0: -0 would tell which side of zero a generalized value was on.
func (x *xform) float(v float64, k kind) (float64, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, ErrNotFinite
	}
	var r float64
	switch x.op {
	case opBucket:
		if math.Abs(v) >= x.identical { // v/width may overflow; the bucket is v
			r = v
		} else {
			r = math.Floor(v/x.width) * x.width
		}
	case opEdges:
		r = floorEdge(x.edges, v)
	case opTopBottom:
		r = min(max(v, x.lo), x.hi)
	case opGeo:
		if math.Abs(v) >= x.identical {
			r = v
		} else {
			r = math.Round(v*x.geoPow) / x.geoPow
		}
	default:
		return v, nil
	}
	if math.IsNaN(r) || math.IsInf(r, 0) || (k == kFloat32 && math.Abs(r) >= float32Overflow) {
		return 0, ErrOutOfRange
	}
	if r == 0 {
		r = 0 // +0
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
