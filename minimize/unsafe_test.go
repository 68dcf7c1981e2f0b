package minimize

import (
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"github.com/tact-go/tact/consent"
)

// The struct engine reads and writes slices through sliceHeader; this
// fails if the layout of a slice ever stops being {data, len, cap}.
func TestSliceHeaderLayout(t *testing.T) {
	s := make([]int64, 2, 5)
	sh := (*sliceHeader)(unsafe.Pointer(&s))
	if unsafe.Sizeof(*sh) != unsafe.Sizeof(s) || sh.data != unsafe.Pointer(unsafe.SliceData(s)) || sh.len != 2 || sh.cap != 5 {
		t.Fatalf("sliceHeader does not match the layout of a slice: %+v", *sh)
	}
	var out []int64
	*(*sliceHeader)(unsafe.Pointer(&out)) = sliceHeader{data: unsafe.Pointer(unsafe.SliceData(s)), len: 1, cap: 3}
	if len(out) != 1 || cap(out) != 3 || &out[0] != &s[0] {
		t.Fatal("a slice written through sliceHeader is not the slice meant")
	}
}

// A smoke test of the engine's memory handling: outputs with nested
// pointers, slices, strings and times, made while the collector runs
// almost without pause, stay intact after many collections; under -race,
// checkptr also checks every pointer conversion the engine makes. (That
// the collector sees the pointers the engine stores is by construction,
// not something a test can show reliably: every store is typed, as a
// string, time.Time, unsafe.Pointer or sliceHeader, never as a uintptr, so
// the compiler emits its write barriers.)
func TestStructOutputsSurviveGC(t *testing.T) {
	type leaf struct {
		S  string     `tact:"user.behavior.search"`
		P  *string    `tact:"user.behavior.search"`
		T  *time.Time `tact:"user.behavior.session"`
		Ns []int      `tact:"user.behavior.session"`
	}
	type rec struct {
		ID   string `tact:"user.unique_id"`
		One  *leaf
		Many []leaf
		Ptrs []*leaf
	}
	pol, err := NewPolicy("analytics",
		ForCategory(consent.CategoryBehavior, Keep()),
		ForCategory(consent.CategoryUniqueID, Pseudonymize()),
	)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := NewKeyring(Key{ID: "k1", Secret: []byte("gc-test-secret-0123456789abcdef-0123")})
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(pol, Config{Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(1))
	mk := func(i int) leaf {
		s := "s" + strconv.Itoa(i)
		at := time.Unix(int64(i), 0).UTC()
		return leaf{S: s + "x", P: &s, T: &at, Ns: []int{i, i + 1}}
	}
	const n = 300
	outs := make([]rec, n)
	for i := range outs {
		one, a, b := mk(i), mk(i+1), mk(i+2)
		outs[i], err = Struct(m, rec{ID: strconv.Itoa(i), One: &one, Many: []leaf{a, b}, Ptrs: []*leaf{&a, nil}})
		if err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			runtime.GC()
		}
	}
	runtime.GC()
	for i, o := range outs {
		want := mk(i)
		if o.One.S != want.S || *o.One.P != *want.P || !o.One.T.Equal(*want.T) || o.One.Ns[1] != i+1 ||
			len(o.Many) != 2 || *o.Many[1].P != *mk(i + 2).P || o.Ptrs[0].Ns[0] != i+1 || o.Ptrs[1] != nil ||
			!m.Pseudonymizer().Match(o.ID, strconv.Itoa(i)) {
			t.Fatalf("output %d corrupted: %+v", i, o)
		}
	}
}
