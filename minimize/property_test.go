package minimize

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
)

// The property tests generate random struct types (reflect.StructOf, with
// random tags, nesting, pointers and slices), random policies over a small
// category tree, random consent, and random values including adversarial
// strings (single characters of the token alphabet, the key id), NaN and
// extreme numbers. An oracle written independently of the package decides
// which fields may appear. Properties:
//
//   - a field the policy does not allow, or whose category consent does
//     not allow, is zero in the output (nil for pointers and slices);
//   - a pointer or slice of structs is in the output exactly when it is in
//     the input and some field in it may appear (never copied empty);
//   - a pseudonymized string never equals or contains its input (the empty
//     string stays empty);
//   - a kept value equals its input;
//   - the input is not modified;
//   - errors are typed (*FieldError wrapping ErrNotFinite or
//     ErrOutOfRange), never panics; plans for these types never fail.
//
// The struct types are dynamic, so the test drives the engine that the
// generic Struct[T] wraps (plan + runStruct) directly.

// family groups value kinds that share transforms, so category rules
// never meet a kind they do not fit.
type family uint8

const (
	famString family = iota
	famInt
	famFloat
	famTime
	famBool
	famCount
)

var familyCats = [famCount][]consent.Category{
	famString: {"user.s", "user.s.a", "user.s.b", "user.s.a.x", "user.health", "user.health.note"},
	famInt:    {"user.n", "user.n.a", "user.n.b"},
	famFloat:  {"user.f", "user.f.a", "user.f.b", "user.location", "user.location.precise"},
	famTime:   {"user.t", "user.t.a"},
	famBool:   {"user.b"},
}

var familyTypes = [famCount][]reflect.Type{
	famString: {reflect.TypeFor[string]()},
	famInt: {reflect.TypeFor[int](), reflect.TypeFor[int8](), reflect.TypeFor[int16](), reflect.TypeFor[int32](), reflect.TypeFor[int64](),
		reflect.TypeFor[uint](), reflect.TypeFor[uint8](), reflect.TypeFor[uint16](), reflect.TypeFor[uint32](), reflect.TypeFor[uint64]()},
	famFloat: {reflect.TypeFor[float32](), reflect.TypeFor[float64]()},
	famTime:  {timeType},
	famBool:  {reflect.TypeFor[bool]()},
}

func randTransform(r *rand.Rand, f family) Transform {
	switch f {
	case famString:
		switch r.IntN(8) { // pseudonyms are the riskiest transform: 3 in 8
		case 0:
			return Keep()
		case 1:
			return Drop()
		case 2:
			return Redact()
		case 3:
			return Mask(r.IntN(4), r.IntN(4))
		case 4:
			return PostalPrefix(1 + r.IntN(4))
		}
		return Pseudonymize()
	case famInt:
		switch r.IntN(5) {
		case 0:
			return Keep()
		case 1:
			return Drop()
		case 2:
			return Bucket(float64(1 + r.IntN(50)))
		case 3:
			e := []float64{float64(r.IntN(10))}
			for len(e) < 1+r.IntN(4) {
				e = append(e, e[len(e)-1]+float64(1+r.IntN(30)))
			}
			return BucketEdges(e...)
		}
		return TopBottom(float64(r.IntN(20)), float64(20+r.IntN(100)))
	case famFloat:
		switch r.IntN(6) {
		case 0:
			return Keep()
		case 1:
			return Drop()
		case 2:
			return Bucket(0.25 + r.Float64()*50)
		case 3:
			e := []float64{-50 + r.Float64()*10}
			for len(e) < 1+r.IntN(4) {
				e = append(e, e[len(e)-1]+0.5+r.Float64()*30)
			}
			return BucketEdges(e...)
		case 4:
			return TopBottom(-r.Float64()*10, r.Float64()*10)
		}
		return GeoPrecision(r.IntN(7))
	case famTime:
		switch r.IntN(5) {
		case 0:
			return Keep()
		case 1:
			return Drop()
		case 2:
			return Truncate(TimeUnit(1 + r.IntN(5)))
		case 3:
			return Part(TimePart(1 + r.IntN(2)))
		}
		return AgeBand(1 + r.IntN(20))
	}
	if r.IntN(2) == 0 {
		return Keep()
	}
	return Drop()
}

var uncopyable = []reflect.Type{reflect.TypeFor[map[string]int](), reflect.TypeFor[any](), reflect.TypeFor[[2]string]()}

// genType builds a random struct type; leaves records the leaf paths and
// families so that field rules can be drawn.
type leafInfo struct {
	path string
	fam  family
}

func genType(r *rand.Rand, depth int, prefix string, leaves *[]leafInfo) reflect.Type {
	n := 1 + r.IntN(8)
	fields := make([]reflect.StructField, 0, n)
	for i := 0; i < n; i++ {
		name := "F" + strconv.Itoa(i)
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		f := reflect.StructField{Name: name}
		if depth < 2 && r.IntN(6) == 0 {
			st := genType(r, depth+1, path, leaves)
			switch r.IntN(4) {
			case 0:
				f.Type = st
			case 1:
				f.Type = reflect.PointerTo(st)
			case 2:
				f.Type = reflect.SliceOf(st)
			default:
				f.Type = reflect.SliceOf(reflect.PointerTo(st))
			}
			fields = append(fields, f)
			continue
		}
		if r.IntN(20) == 0 { // untagged, of a type the engine cannot copy: zeroed
			f.Type = uncopyable[r.IntN(len(uncopyable))]
			fields = append(fields, f)
			continue
		}
		fam := family(r.IntN(int(famCount)))
		lt := familyTypes[fam][r.IntN(len(familyTypes[fam]))]
		switch r.IntN(5) {
		case 0:
			f.Type = reflect.PointerTo(lt)
		case 1:
			f.Type = reflect.SliceOf(lt)
		default:
			f.Type = lt
		}
		switch x := r.IntN(10); {
		case x == 0: // untagged
		case x == 1:
			f.Tag = `tact:"-"`
		default:
			cats := familyCats[fam]
			f.Tag = reflect.StructTag(`tact:"` + string(cats[r.IntN(len(cats))]) + `"`)
		}
		*leaves = append(*leaves, leafInfo{path, fam})
		fields = append(fields, f)
	}
	return reflect.StructOf(fields)
}

// oracle decides independently of Policy.decide.
type oracle struct {
	fields map[string]Transform
	cats   map[consent.Category]Transform
	allow  map[consent.Category]bool // nil: everything
}

func (o *oracle) rule(path string, cat consent.Category) (Transform, bool) {
	if t, ok := o.fields[path]; ok {
		return t, true
	}
	c := string(cat)
	sensitive := isSensitive(c)
	for c != "" {
		if sensitive && !isSensitive(c) {
			break // rules for non-sensitive ancestors do not reach sensitive data
		}
		if t, ok := o.cats[consent.Category(c)]; ok {
			return t, true
		}
		i := strings.LastIndexByte(c, '.')
		if i < 0 {
			break
		}
		c = c[:i]
	}
	return Transform{}, false
}

// passes reports whether a leaf field may appear in the output, and with
// which transform.
func (o *oracle) passes(path string, cat consent.Category) (Transform, bool) {
	t, ok := o.rule(path, cat)
	if !ok || t.op == opDrop {
		return t, false
	}
	if cat != "" && o.allow != nil && !o.allow[cat] {
		return t, false
	}
	return t, true
}

// isSensitive knows the sensitive categories of the generator's pools.
func isSensitive(c string) bool {
	return c == "user.health" || strings.HasPrefix(c, "user.health.") || c == "user.location.precise"
}

func randPolicy(r *rand.Rand, leaves []leafInfo) (*Policy, *oracle) {
	o := &oracle{fields: map[string]Transform{}, cats: map[consent.Category]Transform{}}
	var rules []Rule
	for f := family(0); f < famCount; f++ {
		for _, c := range familyCats[f] {
			if r.IntN(2) == 0 {
				t := randTransform(r, f)
				o.cats[c] = t
				rules = append(rules, ForCategory(c, t))
			}
		}
	}
	if r.IntN(5) == 0 {
		t := Keep()
		if r.IntN(2) == 0 {
			t = Drop()
		}
		o.cats["user"] = t
		rules = append(rules, ForCategory("user", t))
	}
	for _, l := range leaves {
		if _, dup := o.fields[l.path]; !dup && r.IntN(7) == 0 {
			t := randTransform(r, l.fam)
			o.fields[l.path] = t
			rules = append(rules, ForField(l.path, t))
		}
	}
	r.Shuffle(len(rules), func(i, j int) { rules[i], rules[j] = rules[j], rules[i] })
	p, err := NewPolicy("analytics.aggregate", rules...)
	if err != nil {
		panic(err)
	}
	return p, o
}

func randAllow(r *rand.Rand) map[consent.Category]bool {
	if r.IntN(3) == 0 {
		return nil
	}
	allow := map[consent.Category]bool{}
	for f := family(0); f < famCount; f++ {
		for _, c := range familyCats[f] {
			allow[c] = r.IntN(10) < 7
		}
	}
	return allow
}

const tokenAlphabet = "0123456789abcdefghijklmnopqrstuv"

func randString(r *rand.Rand) string {
	switch r.IntN(10) {
	case 0:
		return ""
	case 1, 2:
		return string(tokenAlphabet[r.IntN(len(tokenAlphabet))])
	case 3:
		return "k1"
	case 4:
		b := make([]byte, 2+r.IntN(3))
		for i := range b {
			b[i] = tokenAlphabet[r.IntN(len(tokenAlphabet))]
		}
		return string(b)
	case 5:
		return strings.Repeat("ż", 1+r.IntN(5))
	case 6:
		if r.IntN(10) == 0 {
			return strings.Repeat("x", 250+r.IntN(300)) // crosses the hashing chunk size
		}
	}
	b := make([]byte, 1+r.IntN(24))
	for i := range b {
		b[i] = byte(32 + r.IntN(95))
	}
	return string(b)
}

func randFloat(r *rand.Rand) float64 {
	switch r.IntN(60) {
	case 0:
		return math.NaN()
	case 1:
		return math.Inf(1 - 2*r.IntN(2))
	case 2:
		return math.MaxFloat64 * (r.Float64() - 0.5)
	}
	return r.NormFloat64() * 100
}

var propZones = []*time.Location{time.UTC, time.FixedZone("X", 5*3600+1800), time.FixedZone("Y", -7*3600)}

// fillValue sets v (settable) to a random value of its type.
func fillValue(r *rand.Rand, v reflect.Value) {
	t := v.Type()
	if t == timeType {
		if r.IntN(10) == 0 {
			return // zero time
		}
		sec := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).Unix() + r.Int64N(80*365*86400)
		v.Set(reflect.ValueOf(time.Unix(sec, r.Int64N(1e9)).In(propZones[r.IntN(len(propZones))])))
		return
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString(randString(r))
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if r.IntN(3) == 0 {
			v.SetInt(int64(r.Uint64()) >> (64 - t.Bits())) // full range of the type
		} else {
			v.SetInt(int64(r.IntN(400)) - 200)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(r.Uint64() >> (64 - t.Bits()))
	case reflect.Float32:
		f := randFloat(r)
		if !math.IsNaN(f) && !math.IsInf(f, 0) && math.Abs(f) > math.MaxFloat32 {
			f = math.Copysign(math.MaxFloat32, f)
		}
		v.SetFloat(f)
	case reflect.Float64:
		v.SetFloat(randFloat(r))
	case reflect.Pointer:
		if r.IntN(4) == 0 {
			return
		}
		p := reflect.New(t.Elem())
		fillValue(r, p.Elem())
		v.Set(p)
	case reflect.Slice:
		if r.IntN(5) == 0 {
			return
		}
		n := r.IntN(4)
		s := reflect.MakeSlice(t, n, n)
		for i := 0; i < n; i++ {
			fillValue(r, s.Index(i))
		}
		v.Set(s)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			fillValue(r, v.Field(i))
		}
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			fillValue(r, v.Index(i))
		}
	case reflect.Map:
		m := reflect.MakeMap(t)
		m.SetMapIndex(reflect.ValueOf(randString(r)), reflect.ValueOf(r.IntN(9)))
		v.Set(m)
	case reflect.Interface:
		v.Set(reflect.ValueOf(randString(r)))
	}
}

// equal is reflect.DeepEqual with NaN equal to NaN.
func equal(a, b reflect.Value) bool {
	if a.Type() == timeType {
		return a.Interface().(time.Time).Equal(b.Interface().(time.Time)) &&
			a.Interface().(time.Time).Location() == b.Interface().(time.Time).Location()
	}
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		x, y := a.Float(), b.Float()
		return x == y || math.IsNaN(x) && math.IsNaN(y)
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return equal(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		for i := 0; i < a.Len(); i++ {
			if !equal(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if !equal(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Map, reflect.Interface:
		return reflect.DeepEqual(a.Interface(), b.Interface())
	}
	return a.Interface() == b.Interface()
}

type propStats struct {
	records, errors, pseudonyms, kept, zeroed int
}

// checkStruct verifies the output of one struct against the oracle.
func checkStruct(t *testing.T, o *oracle, prefix string, in, out reflect.Value, st *propStats) {
	typ := in.Type()
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		path := f.Name
		if prefix != "" {
			path = prefix + "." + f.Name
		}
		iv, ov := in.Field(i), out.Field(i)
		tag := f.Tag.Get("tact")
		base := f.Type
		for base != timeType && (base.Kind() == reflect.Pointer || base.Kind() == reflect.Slice) {
			base = base.Elem()
		}
		if base.Kind() == reflect.Struct && base != timeType {
			checkContainer(t, o, path, iv, ov, st)
			continue
		}
		if tag == "-" {
			if !ov.IsZero() {
				t.Fatalf("%s: tagged \"-\" but copied", path)
			}
			continue
		}
		tr, pass := o.passes(path, consent.Category(tag))
		if !pass {
			if !ov.IsZero() {
				t.Fatalf("%s (%q): not allowed but present in the output", path, tag)
			}
			st.zeroed++
			continue
		}
		checkLeaf(t, path, tr, iv, ov, st)
	}
}

// checkContainer checks a struct, or a pointer or slice holding structs: a
// pointer or slice is in the output exactly when it is in the input and at
// least one field below may appear (an empty copy would tell that the
// input had one, and how long it was).
func checkContainer(t *testing.T, o *oracle, path string, in, out reflect.Value, st *propStats) {
	if in.Kind() == reflect.Struct {
		checkStruct(t, o, path, in, out, st)
		return
	}
	switch want := !in.IsNil() && o.anyPasses(path, in.Type()); {
	case !want:
		if !out.IsNil() {
			t.Fatalf("%s: no field of it may appear, but the output has it", path)
		}
		st.zeroed++
		return
	case out.IsNil():
		t.Fatalf("%s: lost: a field of it may appear", path)
	}
	if in.Kind() == reflect.Pointer {
		checkContainer(t, o, path, in.Elem(), out.Elem(), st)
		return
	}
	if in.Len() != out.Len() {
		t.Fatalf("%s: slice length changed", path)
	}
	for i := 0; i < in.Len(); i++ {
		checkContainer(t, o, path, in.Index(i), out.Index(i), st)
	}
}

// anyPasses reports whether any field of the struct inside type typ (behind
// pointers and slices) may appear in the output.
func (o *oracle) anyPasses(prefix string, typ reflect.Type) bool {
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
		typ = typ.Elem()
	}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		path := prefix + "." + f.Name
		base := f.Type
		for base != timeType && (base.Kind() == reflect.Pointer || base.Kind() == reflect.Slice) {
			base = base.Elem()
		}
		tag := f.Tag.Get("tact")
		switch {
		case base.Kind() == reflect.Struct && base != timeType:
			if o.anyPasses(path, f.Type) {
				return true
			}
		case tag == "-":
		default:
			if _, pass := o.passes(path, consent.Category(tag)); pass {
				return true
			}
		}
	}
	return false
}

func checkLeaf(t *testing.T, path string, tr Transform, in, out reflect.Value, st *propStats) {
	switch in.Kind() {
	case reflect.Pointer:
		if in.IsNil() != out.IsNil() {
			t.Fatalf("%s: pointer nil-ness changed", path)
		}
		if !in.IsNil() {
			checkLeaf(t, path, tr, in.Elem(), out.Elem(), st)
		}
		return
	case reflect.Slice:
		if in.IsNil() != out.IsNil() || in.Len() != out.Len() {
			t.Fatalf("%s: slice changed shape", path)
		}
		for i := 0; i < in.Len(); i++ {
			checkLeaf(t, path, tr, in.Index(i), out.Index(i), st)
		}
		return
	}
	switch tr.op {
	case opPseudonymize:
		s, tok := in.String(), out.String()
		st.pseudonyms++
		if s == "" {
			if tok != "" {
				t.Fatalf("%s: empty input got a token", path)
			}
			return
		}
		if tok == "" || tok == s || strings.Contains(tok, s) {
			t.Fatalf("%s: token %q equals or contains input %q", path, tok, s)
		}
	case opKeep:
		st.kept++
		if !equal(in, out) {
			t.Fatalf("%s: kept value changed", path)
		}
	}
}

func propCount(short, long int) int {
	if testing.Short() {
		return short
	}
	return long
}

func TestPropertyStructs(t *testing.T) {
	const perType = 50
	records := propCount(10_000, 100_000)
	r := rand.New(rand.NewPCG(1, 2))
	kr, err := NewKeyring(Key{ID: "k1", Secret: []byte("property-test-secret-0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var st propStats
	for done := 0; done < records; done += perType {
		var leaves []leafInfo
		typ := genType(r, 0, "", &leaves)
		pol, o := randPolicy(r, leaves)
		m, err := New(pol, Config{Keyring: kr, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		root := typ
		if r.IntN(5) == 0 {
			root = reflect.PointerTo(typ)
		}
		p, err := m.c.plan(root)
		if err != nil {
			t.Fatalf("plan for %s: %v", typ, err)
		}
		for i := 0; i < perType; i++ {
			o.allow = randAllow(r)
			mm := m
			if o.allow != nil {
				allow := o.allow
				mm = m.Narrow(AllowFunc(func(c consent.Category) bool { return allow[c] }))
			}
			seed := r.Uint64()
			in := reflect.New(typ).Elem()
			fillValue(rand.New(rand.NewPCG(seed, 9)), in)
			twin := reflect.New(typ).Elem()
			fillValue(rand.New(rand.NewPCG(seed, 9)), twin)

			src := in.Addr()
			if root != typ {
				src = reflect.New(root)
				src.Elem().Set(in.Addr())
			}
			dst := reflect.New(root)
			var x exec
			err := mm.runStruct(&x, p, dst.UnsafePointer(), src.UnsafePointer())
			st.records++
			if !equal(in, twin) {
				t.Fatalf("input modified (type %s)", typ)
			}
			if err != nil {
				var fe *FieldError
				if !errors.As(err, &fe) || !(errors.Is(err, ErrNotFinite) || errors.Is(err, ErrOutOfRange)) {
					t.Fatalf("unexpected error type: %v", err)
				}
				st.errors++
				continue
			}
			out := dst.Elem()
			if root != typ {
				out = out.Elem()
			}
			checkStruct(t, o, "", in, out, &st)
		}
	}
	t.Logf("%d records, %d value errors, %d pseudonyms checked, %d kept values checked, %d disallowed fields checked zero",
		st.records, st.errors, st.pseudonyms, st.kept, st.zeroed)
	if st.errors*4 > st.records || st.pseudonyms < st.records/10 || st.zeroed < st.records {
		t.Fatalf("the generator does not exercise the properties enough: %+v", st)
	}
}

func randMapValue(r *rand.Rand) any {
	switch r.IntN(14) {
	case 0:
		return nil
	case 1, 2, 3:
		return randString(r)
	case 4:
		return r.IntN(2) == 0
	case 5:
		return int(r.Int64())
	case 6:
		return int8(r.IntN(256) - 128)
	case 7:
		return uint16(r.IntN(1 << 16))
	case 8:
		return randFloat(r)
	case 9:
		return float32(r.NormFloat64())
	case 10:
		v := reflect.New(timeType).Elem()
		fillValue(r, v)
		return v.Interface()
	case 11:
		return []any{"nested"}
	case 12:
		return map[string]any{"a": 1}
	}
	return struct{ X int }{1}
}

func randFamilyValue(r *rand.Rand, f family) any {
	ts := familyTypes[f]
	v := reflect.New(ts[r.IntN(len(ts))]).Elem()
	fillValue(r, v)
	return v.Interface()
}

func TestPropertyMaps(t *testing.T) {
	records := propCount(10_000, 100_000)
	r := rand.New(rand.NewPCG(3, 4))
	kr, err := NewKeyring(Key{ID: "k1", Secret: []byte("property-test-secret-0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	all := []consent.Category{}
	for f := family(0); f < famCount; f++ {
		all = append(all, familyCats[f]...)
	}
	var st propStats
	typeErrors := 0
	const perSchema = 50
	for done := 0; done < records; done += perSchema {
		fields := map[string]consent.Category{}
		var leaves []leafInfo
		var fams []family
		for i := 0; i < 1+r.IntN(12); i++ {
			k := "k" + strconv.Itoa(i)
			f := family(r.IntN(int(famCount)))
			switch x := r.IntN(12); {
			case x == 0: // not in the schema
			case x == 1: // any category: transforms may not fit the values
				fields[k] = all[r.IntN(len(all))]
			default:
				fields[k] = familyCats[f][r.IntN(len(familyCats[f]))]
			}
			fams = append(fams, f)
			leaves = append(leaves, leafInfo{k, f})
		}
		s, err := NewSchema(fields)
		if err != nil {
			t.Fatal(err)
		}
		pol, o := randPolicy(r, leaves)
		m, err := New(pol, Config{Keyring: kr, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < perSchema; i++ {
			o.allow = randAllow(r)
			mm := m
			if o.allow != nil {
				allow := o.allow
				mm = m.Narrow(AllowFunc(func(c consent.Category) bool { return allow[c] }))
			}
			rec := map[string]any{}
			for j, f := range fams {
				switch x := r.IntN(20); {
				case x < 3: // absent
				case x < 5:
					rec["k"+strconv.Itoa(j)] = randMapValue(r) // often of the wrong type
				default:
					rec["k"+strconv.Itoa(j)] = randFamilyValue(r, f)
				}
			}
			if r.IntN(4) == 0 {
				rec["other"] = randString(r)
			}
			before := make(map[string]any, len(rec))
			for k, v := range rec {
				before[k] = v
			}
			out, err := mm.Map(s, rec)
			st.records++
			if len(before) != len(rec) {
				t.Fatal("input map modified")
			}
			for k, v := range before {
				if !equalAny(v, rec[k]) {
					t.Fatalf("input value %q modified", k)
				}
			}
			if err != nil {
				var fe *FieldError
				switch {
				case !errors.As(err, &fe):
					t.Fatalf("untyped error: %v", err)
				case errors.Is(err, ErrTypeMismatch):
					typeErrors++
				case errors.Is(err, ErrNotFinite), errors.Is(err, ErrOutOfRange):
					st.errors++
				default:
					t.Fatalf("unexpected error: %v", err)
				}
				if out != nil {
					t.Fatal("partial output on error")
				}
				continue
			}
			for k, v := range out {
				if _, had := rec[k]; !had {
					t.Fatalf("key %q not in the input but in the output", k)
				}
				tr, pass := o.passes(k, fields[k])
				if !pass {
					t.Fatalf("key %q (%q) not allowed but present", k, fields[k])
				}
				switch tr.op {
				case opPseudonymize:
					st.pseudonyms++
					in, tok := rec[k], v
					if in == nil {
						if tok != nil {
							t.Fatalf("%q: nil got a token", k)
						}
						continue
					}
					s, ts := in.(string), tok.(string)
					if s == "" && ts != "" || s != "" && (ts == "" || ts == s || strings.Contains(ts, s)) {
						t.Fatalf("%q: token %q for input %q", k, ts, s)
					}
				case opKeep:
					st.kept++
					if !equalAny(rec[k], v) {
						t.Fatalf("%q: kept value changed", k)
					}
				}
			}
			st.zeroed += len(rec) - len(out)
		}
	}
	t.Logf("%d records, %d type errors, %d value errors, %d pseudonyms checked, %d kept values checked, %d keys dropped",
		st.records, typeErrors, st.errors, st.pseudonyms, st.kept, st.zeroed)
	if (typeErrors+st.errors)*3 > st.records || st.pseudonyms < st.records/20 {
		t.Fatalf("the generator does not exercise the properties enough: %+v, %d type errors", st, typeErrors)
	}
}

func equalAny(a, b any) bool {
	if fa, ok := a.(float64); ok {
		fb, ok := b.(float64)
		return ok && (fa == fb || math.IsNaN(fa) && math.IsNaN(fb))
	}
	if a == nil || b == nil {
		return a == b
	}
	return equal(reflect.ValueOf(a), reflect.ValueOf(b))
}
