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
	v2, _ := m.MarshalBinary()
	if len(v2) != len(v1)+8 {
		t.Fatalf("version 2 is %d bytes, version 1 %d: want the 8 bytes of the damping more", len(v2), len(v1))
	}
}

// A popularity damping outside [0, 1] in an encoding is malformed.
func TestUnmarshalRejectsBadDamping(t *testing.T) {
	m := codecEASE(t)
	good := m.marshal(2)
	// Where the damping is: the 8 bytes that change with it alone.
	m.ii.ease.PopularityDamping = 0.25
	diff := m.marshal(2)
	m.ii.ease.PopularityDamping = 0.5
	at := -1
	for i := range min(len(good), len(diff)) {
		if good[i] != diff[i] {
			at = i
			break
		}
	}
	for at = max(at-7, 0); at+8 <= len(good) && math.Float64frombits(le64(good[at:])) != 0.5; at++ {
	}
	if len(diff) != len(good) || at+8 > len(good) || math.Float64frombits(le64(diff[at:])) != 0.25 {
		t.Fatal("damping not found in the encoding")
	}
	for _, bad := range []float64{-0.5, 1.5, math.NaN(), math.Inf(1)} {
		data := append([]byte(nil), good...)
		putLE64(data[at:], math.Float64bits(bad))
		if _, err := UnmarshalModel(data); !errors.Is(err, ErrMalformedModel) {
			t.Errorf("damping %g: err %v, want ErrMalformedModel", bad, err)
		}
	}
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
