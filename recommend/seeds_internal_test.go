package recommend

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// strongestFirst puts the n strongest keys first, in order, whatever the
// input order (random, sorted either way, all weights equal), as a full
// sort would.
func TestStrongestFirstMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for c := range 2000 {
		keys := make([]seedKey, rng.IntN(3000))
		for k := range keys {
			keys[k] = seedKey{w: float32(rng.IntN(4)) / 2, ref: int32(k), sec: int64(rng.IntN(50)), nsec: int32(rng.IntN(3))}
		}
		switch c % 4 {
		case 1:
			slices.SortFunc(keys, compareKeys)
		case 2:
			slices.SortFunc(keys, func(a, b seedKey) int { return compareKeys(b, a) })
		case 3:
			for k := range keys {
				keys[k].w = 1
			}
		}
		want := slices.Clone(keys)
		slices.SortFunc(want, compareKeys)
		n := 0
		if len(keys) > 0 {
			n = rng.IntN(len(keys) + 1)
		}
		strongestFirst(keys, n)
		if !slices.Equal(keys[:n], want[:n]) {
			t.Fatalf("case %d: %d keys, n %d: the first n are not the n strongest in order", c, len(keys), n)
		}
		got := slices.Clone(keys)
		slices.SortFunc(got, compareKeys)
		if !slices.Equal(got, want) {
			t.Fatalf("case %d: keys lost or duplicated", c)
		}
	}
}
