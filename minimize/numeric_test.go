package minimize

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/tact-go/tact/consent"
)

// The numeric transforms follow one rule for every numeric kind (int*,
// uint*, float*), in struct fields and in map records alike: the result is
// the exact mathematical one (clamp, floor to a multiple, largest edge),
// given in the value's own type; parameters that cannot give a value of
// the type (a fractional bound or width for an integer, an edge or a coded
// tail outside the type's range) are ErrTypeMismatch, a result that
// exists but does not fit the type is ErrOutOfRange, and NaN or infinite
// values are ErrNotFinite. The tests below check this against an oracle
// in exact (math/big) arithmetic.

// numKinds are the numeric types, one struct type each for the struct path.
var numKinds = []reflect.Type{
	reflect.TypeFor[int](), reflect.TypeFor[int8](), reflect.TypeFor[int16](), reflect.TypeFor[int32](), reflect.TypeFor[int64](),
	reflect.TypeFor[uint](), reflect.TypeFor[uint8](), reflect.TypeFor[uint16](), reflect.TypeFor[uint32](), reflect.TypeFor[uint64](),
	reflect.TypeFor[uintptr](), reflect.TypeFor[float32](), reflect.TypeFor[float64](),
}

func isIntType(t reflect.Type) bool {
	return t.Kind() != reflect.Float32 && t.Kind() != reflect.Float64
}

// typeRange returns the smallest and largest value of a numeric type,
// exactly.
func typeRange(t reflect.Type) (lo, hi *big.Float) {
	switch t.Kind() {
	case reflect.Float32:
		return big.NewFloat(-math.MaxFloat32), big.NewFloat(math.MaxFloat32)
	case reflect.Float64:
		return big.NewFloat(-math.MaxFloat64), big.NewFloat(math.MaxFloat64)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		p := new(big.Int).Lsh(big.NewInt(1), uint(t.Bits()-1))
		return new(big.Float).SetInt(new(big.Int).Neg(p)), new(big.Float).SetInt(p.Sub(p, big.NewInt(1)))
	}
	p := new(big.Int).Lsh(big.NewInt(1), uint(t.Bits()))
	return new(big.Float), new(big.Float).SetInt(p.Sub(p, big.NewInt(1)))
}

// exact returns v (a numeric reflect.Value) as an exact big.Float.
func exact(v reflect.Value) *big.Float {
	switch {
	case v.CanInt():
		return new(big.Float).SetInt64(v.Int())
	case v.CanUint():
		return new(big.Float).SetUint64(v.Uint())
	}
	return big.NewFloat(v.Float())
}

// numResult is what one path (map or struct) made of one value.
type numResult struct {
	out reflect.Value // valid when err is nil
	err error
}

// runNumeric applies tr to v through a map record and through a struct
// field of v's type; a policy error is returned as both results.
func runNumeric(t *testing.T, tr Transform, v reflect.Value) (mapRes, structRes numResult) {
	t.Helper()
	pol, err := NewPolicy(consent.PurposeAnalyticsAggregate, ForField("V", tr))
	if err != nil {
		return numResult{err: err}, numResult{err: err}
	}
	m, err := New(pol, Config{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSchema(nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Map(s, map[string]any{"V": v.Interface()})
	if err == nil {
		got, ok := out["V"]
		if !ok {
			t.Fatalf("%s of %T(%v): key left out", tr, v.Interface(), v)
		}
		if reflect.TypeOf(got) != v.Type() {
			t.Fatalf("%s of %T(%v): map value changed type to %T", tr, v.Interface(), v, got)
		}
		mapRes.out = reflect.ValueOf(got)
	}
	mapRes.err = err

	typ := reflect.StructOf([]reflect.StructField{{Name: "V", Type: v.Type()}})
	p, err := m.c.plan(typ)
	if err != nil {
		return mapRes, numResult{err: err}
	}
	src, dst := reflect.New(typ), reflect.New(typ)
	src.Elem().Field(0).Set(v)
	var x exec
	if err := m.runStruct(&x, p, dst.UnsafePointer(), src.UnsafePointer()); err != nil {
		return mapRes, numResult{err: err}
	}
	return mapRes, numResult{out: dst.Elem().Field(0)}
}

// numWant is the oracle's answer: an exact value, or an error.
type numWant struct {
	val *big.Float
	err error
}

func (w numWant) String() string {
	if w.err != nil {
		return w.err.Error()
	}
	return w.val.Text('g', 30)
}

// check compares one path's result with the oracle's; negative zero is
// never a result (it would tell which side of zero a value was on).
func (w numWant) check(t *testing.T, what string, got numResult) {
	t.Helper()
	switch {
	case w.err != nil:
		if !errors.Is(got.err, w.err) {
			t.Fatalf("%s: got %v (err %v), want %v", what, got.out, got.err, w.err)
		}
		if got.err != nil && !errors.Is(got.err, ErrInvalidPolicy) {
			var fe *FieldError
			if !errors.As(got.err, &fe) || fe.Field != "V" {
				t.Fatalf("%s: %v is not a *FieldError naming the field", what, got.err)
			}
		}
	case got.err != nil:
		t.Fatalf("%s: got error %v, want %s", what, got.err, w)
	default:
		if g := exact(got.out); g.Cmp(w.val) != 0 {
			t.Fatalf("%s: got %v, want %s", what, got.out, w)
		}
		if (got.out.Kind() == reflect.Float32 || got.out.Kind() == reflect.Float64) && math.Signbit(got.out.Float()) && got.out.Float() == 0 {
			t.Fatalf("%s: got -0", what)
		}
	}
}

// whole reports whether x is a whole number or an infinity (the bounds an
// integer can be coded to, or not coded at all).
func wholeOrInf(x float64) bool { return x == math.Trunc(x) }

// topBottomOracle is the rule for TopBottom(lo, hi) on v of type typ.
func topBottomOracle(lo, hi float64, v reflect.Value) numWant {
	if math.IsNaN(lo) || math.IsNaN(hi) || lo > hi || math.IsInf(lo, 1) || math.IsInf(hi, -1) {
		return numWant{err: ErrInvalidPolicy} // every value would be coded to NaN or an infinity
	}
	typ := v.Type()
	tmin, tmax := typeRange(typ)
	if isIntType(typ) && (!wholeOrInf(lo) || !wholeOrInf(hi)) {
		return numWant{err: ErrTypeMismatch}
	}
	l, h := big.NewFloat(lo), big.NewFloat(hi)
	if l.Cmp(tmax) > 0 || h.Cmp(tmin) < 0 {
		return numWant{err: ErrTypeMismatch} // every value would be coded outside the type
	}
	if !isIntType(typ) && (math.IsNaN(v.Float()) || math.IsInf(v.Float(), 0)) {
		return numWant{err: ErrNotFinite}
	}
	r := exact(v)
	if r.Cmp(l) < 0 {
		r = l
	}
	if r.Cmp(h) > 0 {
		r = h
	}
	if typ.Kind() == reflect.Float32 {
		f, _ := r.Float64()
		r = big.NewFloat(float64(float32(f)))
	}
	if r.Sign() == 0 {
		r = new(big.Float)
	}
	return numWant{val: r}
}

// numValue converts x to type typ (x must fit).
func numValue(typ reflect.Type, x float64) reflect.Value {
	v := reflect.New(typ).Elem()
	switch {
	case v.CanInt():
		v.SetInt(int64(x))
	case v.CanUint():
		v.SetUint(uint64(x))
	default:
		v.SetFloat(x)
	}
	return v
}

func TestTopBottomEveryKind(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	tests := []struct {
		name   string
		lo, hi float64
		reason string
	}{
		{"normal", 10, 20, "below lo becomes lo, above hi becomes hi"},
		{"no coding", -inf, inf, "both tails left alone: every value of every kind passes"},
		{"top code only", -inf, 5, "-Inf leaves the bottom tail alone"},
		{"bottom code only", 5, inf, "+Inf leaves the top tail alone"},
		{"lo +Inf", inf, inf, "every value would become +Inf: rejected by NewPolicy for every kind"},
		{"hi -Inf", -inf, -inf, "every value would become -Inf: rejected by NewPolicy for every kind"},
		{"NaN lo", nan, 5, "NaN is no bound"},
		{"NaN hi", 0, nan, "NaN is no bound"},
		{"lo above hi", 5, 1, "an empty range"},
		{"negative", -300, -200, "coded below zero: no unsigned or int8 value can hold it"},
		{"above small ints", 300, 400, "coded above int8 and uint8"},
		{"beyond int64", 1e19, 2e19, "above int64 but within uint64"},
		{"beyond every integer", 1e20, 1e21, "no integer type holds it, floats do"},
		{"beyond float32", 1e39, 1e40, "float64 only"},
		{"wide", -1e300, 1e300, "bounds wider than every integer type: no coding for integers"},
		{"int64 limits", -(1 << 63), 1 << 63, "2^63 is above MaxInt64: no top code for int64"},
		{"uint64 limit", 0, 1 << 64, "2^64 is above MaxUint64: no top code for uint64"},
		{"fraction", 0.5, 10, "a fractional bound has no integer meaning"},
		{"zero", 0, 0, "every value becomes 0, +0 for floats"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, typ := range numKinds {
				values := []reflect.Value{numValue(typ, 0), numValue(typ, 3), numValue(typ, 15), numValue(typ, 127)}
				min, max := reflect.New(typ).Elem(), reflect.New(typ).Elem()
				switch {
				case min.CanInt():
					min.SetInt(-1 << (typ.Bits() - 1))
					max.SetInt(1<<(typ.Bits()-1) - 1)
				case min.CanUint():
					max.SetUint(^uint64(0) >> (64 - typ.Bits()))
				default:
					tmin, tmax := typeRange(typ)
					lo, _ := tmin.Float64()
					hi, _ := tmax.Float64()
					min.SetFloat(lo)
					max.SetFloat(hi)
					values = append(values, numValue(typ, math.Copysign(0, -1)), numValue(typ, -1e-9), numValue(typ, nan), numValue(typ, -inf))
				}
				values = append(values, min, max)
				for _, v := range values {
					want := topBottomOracle(tt.lo, tt.hi, v)
					what := fmt.Sprintf("%s: TopBottom(%g, %g) of %s(%v)", tt.reason, tt.lo, tt.hi, typ, v)
					mr, sr := runNumeric(t, TopBottom(tt.lo, tt.hi), v)
					want.check(t, what+" in a map", mr)
					want.check(t, what+" in a struct", sr)
				}
			}
		})
	}
}

// edgeBounds are parameters at and around the limits of the numeric types.
var edgeBounds = []float64{
	math.Inf(-1), math.Inf(1), math.NaN(), 0, 1, -1, 3.5, -3.5, 10, 100,
	math.MinInt8, math.MaxInt8, math.MaxUint8, math.MinInt16, math.MaxInt16, math.MaxUint16,
	math.MinInt32, math.MaxInt32, math.MaxUint32, math.MinInt64, 1 << 63, 1 << 64, 1e19, -1e19, 1e20,
	math.MaxFloat32, -math.MaxFloat32, 1e39, -1e39, math.MaxFloat64, -math.MaxFloat64, 1e300,
}

func randBound(r *rand.Rand) float64 {
	switch r.IntN(4) {
	case 0:
		return float64(r.IntN(2001) - 1000)
	case 1:
		return r.NormFloat64() * 1000
	}
	return edgeBounds[r.IntN(len(edgeBounds))]
}

// randNumValue returns a random value of typ: anywhere in its range, near
// zero, or at its limits (NaN and infinities for floats).
func randNumValue(r *rand.Rand, typ reflect.Type) reflect.Value {
	v := reflect.New(typ).Elem()
	switch {
	case v.CanInt():
		switch r.IntN(4) {
		case 0:
			v.SetInt(int64(r.Uint64()) >> (64 - typ.Bits()))
		case 1:
			v.SetInt(-1 << (typ.Bits() - 1))
		case 2:
			v.SetInt(1<<(typ.Bits()-1) - 1)
		default:
			v.SetInt(int64(r.IntN(2001) - 1000))
		}
	case v.CanUint():
		switch r.IntN(3) {
		case 0:
			v.SetUint(r.Uint64() >> (64 - typ.Bits()))
		case 1:
			v.SetUint(^uint64(0) >> (64 - typ.Bits()))
		default:
			v.SetUint(uint64(r.IntN(1001)))
		}
	default:
		f := randFloat(r)
		if typ.Kind() == reflect.Float32 && math.Abs(f) > math.MaxFloat32 && !math.IsInf(f, 0) {
			f = math.Copysign(math.MaxFloat32, f)
		}
		if r.IntN(10) == 0 {
			f = math.Copysign(0, -1)
		}
		v.SetFloat(f)
	}
	return v
}

func TestPropertyTopBottom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for range propCount(3_000, 30_000) {
		lo, hi := randBound(r), randBound(r)
		if lo > hi && r.IntN(8) != 0 {
			lo, hi = hi, lo
		}
		v := randNumValue(r, numKinds[r.IntN(len(numKinds))])
		want := topBottomOracle(lo, hi, v)
		what := fmt.Sprintf("TopBottom(%g, %g) of %s(%v)", lo, hi, v.Type(), v)
		mr, sr := runNumeric(t, TopBottom(lo, hi), v)
		want.check(t, what+" in a map", mr)
		want.check(t, what+" in a struct", sr)
	}
}

// bucketOracle is the rule for Bucket(width) on integer values: the
// largest multiple of width at or below v.
func bucketOracle(width float64, v reflect.Value) numWant {
	if math.IsNaN(width) || math.IsInf(width, 0) || width <= 0 {
		return numWant{err: ErrInvalidPolicy}
	}
	if width != math.Trunc(width) {
		return numWant{err: ErrTypeMismatch}
	}
	w, _ := big.NewFloat(width).Int(nil)
	x, _ := exact(v).Int(nil)
	q := new(big.Int)
	q.Div(x, w) // Euclidean: floor for a positive divisor
	rf := new(big.Float).SetInt(q.Mul(q, w))
	if tmin, tmax := typeRange(v.Type()); rf.Cmp(tmin) < 0 || rf.Cmp(tmax) > 0 {
		return numWant{err: ErrOutOfRange}
	}
	return numWant{val: rf}
}

// edgesOracle is the rule for BucketEdges(edges...): the largest edge at or
// below v, the first edge below them all.
func edgesOracle(edges []float64, v reflect.Value) numWant {
	for i, e := range edges {
		if math.IsNaN(e) || math.IsInf(e, 0) || i > 0 && e <= edges[i-1] {
			return numWant{err: ErrInvalidPolicy}
		}
	}
	typ := v.Type()
	tmin, tmax := typeRange(typ)
	for _, e := range edges {
		if isIntType(typ) && e != math.Trunc(e) {
			return numWant{err: ErrTypeMismatch}
		}
		if b := big.NewFloat(e); b.Cmp(tmin) < 0 || b.Cmp(tmax) > 0 {
			return numWant{err: ErrTypeMismatch}
		}
	}
	if !isIntType(typ) && (math.IsNaN(v.Float()) || math.IsInf(v.Float(), 0)) {
		return numWant{err: ErrNotFinite}
	}
	x := exact(v)
	r := edges[0]
	for _, e := range edges {
		if big.NewFloat(e).Cmp(x) <= 0 {
			r = e
		}
	}
	if typ.Kind() == reflect.Float32 {
		r = float64(float32(r))
	}
	return numWant{val: big.NewFloat(r + 0)}
}

func TestPropertyBuckets(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 3))
	for range propCount(3_000, 30_000) {
		typ := numKinds[r.IntN(len(numKinds))]
		v := randNumValue(r, typ)
		if r.IntN(2) == 0 {
			edges := []float64{randBound(r)}
			for range r.IntN(4) {
				edges = append(edges, randBound(r))
			}
			if r.IntN(8) != 0 {
				edges = sortedUnique(edges)
			}
			want := edgesOracle(edges, v)
			what := fmt.Sprintf("BucketEdges(%v) of %s(%v)", edges, typ, v)
			mr, sr := runNumeric(t, BucketEdges(edges...), v)
			want.check(t, what+" in a map", mr)
			want.check(t, what+" in a struct", sr)
			continue
		}
		width := math.Abs(randBound(r))
		what := fmt.Sprintf("Bucket(%g) of %s(%v)", width, typ, v)
		mr, sr := runNumeric(t, Bucket(width), v)
		if isIntType(typ) {
			want := bucketOracle(width, v)
			want.check(t, what+" in a map", mr)
			want.check(t, what+" in a struct", sr)
			continue
		}
		for _, got := range []numResult{mr, sr} {
			checkFloatBucket(t, what, width, v.Float(), typ, got)
		}
	}
}

// checkFloatBucket checks a float bucket without asking for exact
// rounding: errors exactly when the value is not finite or the exact bound,
// rounded to the type, overflows, and otherwise a result within one width below
// the value, or the value itself when floats that large are already
// further apart than the width; never -0.
func checkFloatBucket(t *testing.T, what string, width, v float64, typ reflect.Type, got numResult) {
	t.Helper()
	switch {
	case math.IsNaN(width) || math.IsInf(width, 0) || width <= 0:
		if !errors.Is(got.err, ErrInvalidPolicy) {
			t.Fatalf("%s: got %v, want ErrInvalidPolicy", what, got.err)
		}
		return
	case math.IsNaN(v) || math.IsInf(v, 0):
		if !errors.Is(got.err, ErrNotFinite) {
			t.Fatalf("%s: got %v, want ErrNotFinite", what, got.err)
		}
		return
	}
	prec := uint(2000)
	bv, bw := new(big.Float).SetPrec(prec).SetFloat64(v), new(big.Float).SetPrec(prec).SetFloat64(width)
	q, _ := new(big.Float).SetPrec(prec).Quo(bv, bw).Int(nil)
	if bv.Sign() < 0 && new(big.Float).SetPrec(prec).Mul(new(big.Float).SetPrec(prec).SetInt(q), bw).Cmp(bv) != 0 {
		q.Sub(q, big.NewInt(1)) // Int truncates toward zero
	}
	floor := new(big.Float).SetPrec(prec).Mul(new(big.Float).SetPrec(prec).SetInt(q), bw)
	rounded, _ := floor.Float64()
	if typ.Kind() == reflect.Float32 {
		r32, _ := floor.Float32()
		rounded = float64(r32)
	}
	if math.IsInf(rounded, 0) {
		if !errors.Is(got.err, ErrOutOfRange) {
			t.Fatalf("%s: got %v (err %v), want ErrOutOfRange: the bound %s rounds below the type", what, got.out, got.err, floor.Text('g', 10))
		}
		return
	}
	if got.err != nil {
		t.Fatalf("%s: got error %v, the bound %s exists", what, got.err, floor.Text('g', 20))
	}
	f := got.out.Float()
	if f == 0 && math.Signbit(f) {
		t.Fatalf("%s: got -0", what)
	}
	// Within one width of the exact bound, with float rounding.
	diff := new(big.Float).Sub(new(big.Float).SetFloat64(f), floor)
	diff.Abs(diff)
	slack := width*(1+0x1p-40) + math.Abs(v)*0x1p-50
	if typ.Kind() == reflect.Float32 {
		slack += math.Abs(v) * 0x1p-22
	}
	if diff.Cmp(big.NewFloat(slack)) > 0 {
		t.Fatalf("%s: got %v, exact bound %s", what, f, floor.Text('g', 20))
	}
}

func sortedUnique(xs []float64) []float64 {
	out := make([]float64, 0, len(xs))
	for _, x := range xs {
		if math.IsNaN(x) {
			out = append(out, x)
			continue
		}
		i := 0
		for i < len(out) && out[i] < x {
			i++
		}
		if i < len(out) && out[i] == x {
			continue
		}
		out = append(out[:i], append([]float64{x}, out[i:]...)...)
	}
	return out
}

// Generalized floats never come out as -0: -0.001 rounded to 2 decimals,
// or -0 bucketed, gives the same 0 as +0.001 does, so the output does not
// tell which side of zero the value was on.
func TestFloatTransformsGiveNoNegativeZero(t *testing.T) {
	tests := []struct {
		name string
		tr   Transform
		in   float64
	}{
		{"geo", GeoPrecision(2), -0.001},
		{"geo 0", GeoPrecision(0), -0.4},
		{"bucket", Bucket(10), math.Copysign(0, -1)},
		{"edges", BucketEdges(-1, 0, 1), math.Copysign(0, -1)},
		{"top bottom", TopBottom(0, 5), math.Copysign(0, -1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, typ := range []reflect.Type{reflect.TypeFor[float32](), reflect.TypeFor[float64]()} {
				mr, sr := runNumeric(t, tt.tr, numValue(typ, tt.in))
				for _, got := range []numResult{mr, sr} {
					if got.err != nil || got.out.Float() != 0 || math.Signbit(got.out.Float()) {
						t.Fatalf("%s of %s(%g): got %v, %v; want +0", tt.tr, typ, tt.in, got.out, got.err)
					}
				}
			}
		})
	}
}

// Huge floats keep a bucket when the width is below one: the quotient
// overflows, the bucket bound does not.
func TestFloatBucketOfHugeValues(t *testing.T) {
	for _, v := range []float64{math.MaxFloat64, -math.MaxFloat64 / 2, 1e300} {
		mr, sr := runNumeric(t, Bucket(0.25), reflect.ValueOf(v))
		for _, got := range []numResult{mr, sr} {
			if got.err != nil || got.out.Float() != v {
				t.Fatalf("Bucket(0.25) of %g: got %v, %v; want the value itself, a multiple of 0.25", v, got.out, got.err)
			}
		}
	}
}
