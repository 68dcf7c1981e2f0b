package recommend

import (
	"errors"
	"math"
	"reflect"
	"testing"
)

// codecEASE is a small EASE model with popularity damping.
func codecEASE(t *testing.T) *Model {
	t.Helper()
	items := make([]Item, 6)
	for i := range items {
		items[i] = Item{ID: string(rune('a' + i))}
	}
	cat, err := NewCatalog(items)
	if err != nil {
		t.Fatal(err)
	}
	var in []Interaction
	for p, basket := range [][]string{{"a", "b", "c"}, {"a", "b"}, {"b", "c", "d"}, {"d", "e"}, {"e", "f", "a"}, {"a", "c"}} {
		for _, it := range basket {
			in = append(in, Interaction{Person: string(rune('p' + p)), Item: it})
		}
	}
	ii, err := TrainEASE(cat, CountCooccurrence(in, CountOptions{}), EASEConfig{PopularityDamping: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewModel(cat, nil, ii)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A model encoded in format version 1, before PopularityDamping, still
// decodes: the same weights, and no popularity damping in its
// configuration (version 1 could not say).
func TestUnmarshalVersion1(t *testing.T) {
	m := codecEASE(t)
	v1 := m.marshal(1)
	if v1[len(modelMagic)] != 1 {
		t.Fatalf("version byte %d", v1[len(modelMagic)])
	}
	got, err := UnmarshalModel(v1)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := m.ii.EASE()
	have, ok := got.ii.EASE()
	if !ok || have.PopularityDamping != 0 {
		t.Fatalf("EASE config %+v, %v; want one without popularity damping", have, ok)
	}
	want.PopularityDamping = 0
	if have != want {
		t.Fatalf("EASE config %+v, want %+v", have, want)
	}
	if !reflect.DeepEqual(got.ii.sim, m.ii.sim) || !reflect.DeepEqual(got.ii.nbr, m.ii.nbr) {
		t.Fatal("weights differ")
	}
	v2 := m.marshal(2)
	if len(v2) != len(v1)+8 {
		t.Fatalf("version 2 is %d bytes, version 1 %d: want the 8 bytes of the damping more", len(v2), len(v1))
	}
}

// A model encoded in format version 2, before the signal-to-noise ratio,
// still decodes: the same weights, and the ratio of exact counts (+Inf),
// which moves no weight to popularity.
func TestUnmarshalVersion2(t *testing.T) {
	m := codecEASE(t)
	m.ii.snr = 0.5
	v2 := m.marshal(2)
	got, err := UnmarshalModel(v2)
	if err != nil {
		t.Fatal(err)
	}
	if s := got.ii.SignalToNoise(); !math.IsInf(s, 1) || got.modelShare != 1 {
		t.Fatalf("signal-to-noise %g, model share %g; want +Inf and 1", s, got.modelShare)
	}
	if !reflect.DeepEqual(got.ii.sim, m.ii.sim) || !reflect.DeepEqual(got.ii.nbr, m.ii.nbr) {
		t.Fatal("weights differ")
	}
	v3, _ := m.MarshalBinary()
	if len(v3) != len(v2)+8 {
		t.Fatalf("version 3 is %d bytes, version 2 %d: want the 8 bytes of the ratio more", len(v3), len(v2))
	}
	if got, err = UnmarshalModel(v3); err != nil || got.ii.SignalToNoise() != 0.5 {
		t.Fatalf("version 3 decodes to signal-to-noise %v, err %v; want 0.5", got.ii.SignalToNoise(), err)
	}
}

// A popularity damping outside [0, 1] in an encoding is malformed.
func TestUnmarshalRejectsBadDamping(t *testing.T) {
	m := codecEASE(t)
	good, at := locate(t, m, func(v float64) { m.ii.ease.PopularityDamping = v }, 0.5, 0.25)
	for _, bad := range []float64{-0.5, 1.5, math.NaN(), math.Inf(1)} {
		data := append([]byte(nil), good...)
		putLE64(data[at:], math.Float64bits(bad))
		if _, err := UnmarshalModel(data); !errors.Is(err, ErrMalformedModel) {
			t.Errorf("damping %g: err %v, want ErrMalformedModel", bad, err)
		}
	}
}

// A negative or NaN signal-to-noise ratio in an encoding is malformed; 0
// and +Inf are ratios models have.
func TestUnmarshalRejectsBadSignal(t *testing.T) {
	m := codecEASE(t)
	good, at := locate(t, m, func(v float64) { m.ii.snr = v }, 0.5, 0.25)
	for _, tc := range []struct {
		snr float64
		ok  bool
	}{{-1, false}, {math.NaN(), false}, {math.Inf(-1), false}, {0, true}, {math.Inf(1), true}} {
		data := append([]byte(nil), good...)
		putLE64(data[at:], math.Float64bits(tc.snr))
		got, err := UnmarshalModel(data)
		switch {
		case !tc.ok && !errors.Is(err, ErrMalformedModel):
			t.Errorf("signal-to-noise %g: err %v, want ErrMalformedModel", tc.snr, err)
		case tc.ok && (err != nil || got.ii.SignalToNoise() != tc.snr):
			t.Errorf("signal-to-noise %g: decoded %v, err %v", tc.snr, got, err)
		}
	}
}

// locate encodes m with set(v) and returns the encoding and where the 8
// bytes of v are in it: those that change when set(w) changes it alone.
// It leaves m as set(v) made it.
func locate(t *testing.T, m *Model, set func(float64), v, w float64) ([]byte, int) {
	t.Helper()
	set(w)
	diff, _ := m.MarshalBinary()
	set(v)
	good, _ := m.MarshalBinary()
	at := -1
	for i := range min(len(good), len(diff)) {
		if good[i] != diff[i] {
			at = i
			break
		}
	}
	for at = max(at-7, 0); at+8 <= len(good) && math.Float64frombits(le64(good[at:])) != v; at++ {
	}
	if len(diff) != len(good) || at+8 > len(good) || math.Float64frombits(le64(diff[at:])) != w {
		t.Fatal("value not found in the encoding")
	}
	return good, at
}

func le64(b []byte) uint64 {
	var x uint64
	for i := 7; i >= 0; i-- {
		x = x<<8 | uint64(b[i])
	}
	return x
}

func putLE64(b []byte, x uint64) {
	for i := range 8 {
		b[i] = byte(x >> (8 * i))
	}
}
