package recommend

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
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

// strongestItems puts the n strongest items first (in any order), ties by
// catalog order, whatever the spread of the sums (one bucket, many, sorted
// either way), as a full sort would, losing nothing.
func TestStrongestItemsMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var hist [1 << 11]int32
	order := func(a, b rankedItem) int {
		switch {
		case a.before(&b):
			return -1
		case b.before(&a):
			return 1
		}
		return 0
	}
	for c := range 2000 {
		r := make([]rankedItem, rng.IntN(3000))
		for k := range r {
			var v float32
			switch c % 4 {
			case 0: // many orders of magnitude
				v = float32(math.Exp(rng.NormFloat64() * 5))
			case 1: // one bucket, many ties
				v = 1 + float32(rng.IntN(3))/1000
			case 2: // tiny sums, some zero (an underflowed decay)
				v = float32(rng.IntN(5)) * 1e-40
			default:
				v = rng.Float32()
			}
			r[k] = rankedItem{v, int32(rng.IntN(5000))}
		}
		if c%8 == 3 {
			slices.SortFunc(r, order)
		}
		want := slices.Clone(r)
		slices.SortFunc(want, order)
		n := 0
		if len(r) > 0 {
			n = rng.IntN(len(r) + 1)
		}
		strongestItems(r, n, &hist)
		got := slices.Clone(r[:n])
		slices.SortFunc(got, order)
		if !slices.Equal(got, want[:n]) {
			t.Fatalf("case %d: %d items, n %d: the first n are not the n strongest", c, len(r), n)
		}
		all := slices.Clone(r)
		slices.SortFunc(all, order)
		if !slices.Equal(all, want) {
			t.Fatalf("case %d: items lost or duplicated", c)
		}
	}
}

// A long history in a model with many neighbours per item stays within
// the bounds of a request: the seeds reach at most maxReached items, and
// the maxSourceCandidates strongest of them that were not bought become
// candidates, no weaker one in their place.
func TestSeedNeighboursBounds(t *testing.T) {
	const n, ring = 20000, 40
	items := make([]Item, n)
	for i := range items {
		items[i] = Item{ID: fmt.Sprint("i", i)}
	}
	cat, err := NewCatalog(items)
	if err != nil {
		t.Fatal(err)
	}
	var b CountsBuilder
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range n {
		_ = b.AddItem(items[i].ID, 50)
		for d := 1; d <= ring; d++ {
			_ = b.AddPair(items[i].ID, items[(i+d)%n].ID, 1+rng.Float64()*20)
		}
	}
	ii, err := NewItemItem(cat, b.Build(), ItemItemConfig{Neighbors: 2 * ring})
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewModel(cat, nil, ii)
	if err != nil {
		t.Fatal(err)
	}
	store := new(MemoryStore)
	at := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	bought := make(map[int32]bool)
	for k := range 3000 {
		i := int32(k * 5)
		bought[i] = true
		if err := store.AddEvents(context.Background(), "p", Event{Item: items[i].ID, At: at.Add(-time.Duration(k) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	r := &Recommender{profiles: store}
	q := &request{r: r, ctx: context.Background(), req: &Request{Subject: "p", At: at, K: 10}, m: m, s: r.scratch(n), resp: new(Response)}
	q.readHistory(true)
	s := q.s
	if len(s.seeds) != MaxSeeds {
		t.Fatalf("%d seeds; want MaxSeeds", len(s.seeds))
	}
	if len(s.reached) == 0 || len(s.reached) > maxReached {
		t.Fatalf("reached %d items; want 1 to %d", len(s.reached), maxReached)
	}
	chosen := make(map[int32]bool)
	for c := range s.cands {
		cd := &s.cands[c]
		if cd.x[srcHistory] > 0 {
			if bought[cd.item] {
				t.Fatalf("bought item %d is a candidate", cd.item)
			}
			chosen[cd.item] = true
		}
	}
	if len(chosen) != maxSourceCandidates {
		t.Fatalf("%d candidates from the history; want %d", len(chosen), maxSourceCandidates)
	}
	weakest, strongestLeft := float32(math.MaxFloat32), float32(0)
	for _, i := range s.reached {
		switch v := s.acc[i].sum; {
		case chosen[i]:
			weakest = min(weakest, v)
		case !bought[i]:
			strongestLeft = max(strongestLeft, v)
		}
	}
	if strongestLeft > weakest {
		t.Fatalf("an item summing %g was left out for one summing %g", strongestLeft, weakest)
	}
}

// An item the history speaks against (an EASE model's negative weights
// summing below 0) is no candidate of the history, however far below 0:
// the confidence of a negative sum would be meaningless (and above 1 past
// minus the model's scale).
func TestSpokenAgainstIsNoCandidate(t *testing.T) {
	items := []Item{{ID: "h1"}, {ID: "h2"}, {ID: "for"}, {ID: "against"}, {ID: "mixed"}}
	cat, err := NewCatalog(items)
	if err != nil {
		t.Fatal(err)
	}
	// h1 and h2 each: "for" +1, "against" -3, "mixed" +2 and -2.5.
	ii := &ItemItem{cat: cat, scale: 1,
		start: []int32{0, 3, 6, 6, 6, 6},
		nbr:   []int32{3, 4, 2, 3, 4, 2},
		sim:   []float32{-3, 2, 1, -3, -2.5, 1},
	}
	m, err := NewModel(cat, nil, ii)
	if err != nil {
		t.Fatal(err)
	}
	store := new(MemoryStore)
	at := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, id := range []string{"h1", "h2"} {
		if err := store.AddEvents(context.Background(), "p", Event{Item: id, Kind: Purchase, At: at.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	r := &Recommender{profiles: store}
	q := &request{r: r, ctx: context.Background(), req: &Request{Subject: "p", At: at, K: 10}, m: m, s: r.scratch(len(items)), resp: new(Response)}
	q.readHistory(true)
	got := map[string]float32{}
	for c := range q.s.cands {
		if cd := &q.s.cands[c]; cd.x[srcHistory] != 0 {
			got[items[cd.item].ID] = cd.x[srcHistory]
		}
	}
	if len(got) != 1 || !(got["for"] > 0 && got["for"] < 1) {
		t.Fatalf("history candidates %v; want only \"for\", with a confidence in (0, 1)", got)
	}

	// The item in view leads to its positive neighbours only.
	q = &request{r: r, ctx: context.Background(), req: &Request{Subject: "p", At: at, K: 10, Context: Context{Item: "h1"}}, m: m, s: r.scratch(len(items)), resp: new(Response)}
	q.readContext()
	for c := range q.s.cands {
		if cd := &q.s.cands[c]; cd.x[srcContext] != 0 && items[cd.item].ID == "against" {
			t.Fatalf("the item in view led to an item it speaks against (%g)", cd.x[srcContext])
		}
	}
}

// visitShare gives each seed the largest equal share of the visits that
// fits, short rows leaving theirs to the long ones: checked against its
// definition over random rows.
func TestVisitShare(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for c := range 500 {
		n := 1 + rng.IntN(600)
		ii := &ItemItem{start: make([]int32, n+1)}
		for i := range n {
			l := int32(rng.IntN(1 + []int{10, 100, 1000, 3000}[c%4]))
			ii.start[i+1] = ii.start[i] + l
		}
		var seeds []seed
		for _, i := range rng.Perm(n)[:1+rng.IntN(min(n, MaxSeeds))] {
			seeds = append(seeds, seed{item: int32(i)})
		}
		visits := func(per int32) (v int, longest int32) {
			for _, sd := range seeds {
				l := ii.start[sd.item+1] - ii.start[sd.item]
				v += int(min(per, l))
				longest = max(longest, l)
			}
			return v, longest
		}
		per := visitShare(ii, seeds)
		v, longest := visits(per)
		switch {
		case per < minPerSeed:
			t.Fatalf("case %d: share %d below the floor", c, per)
		case per > minPerSeed && v > maxNeighbourVisits:
			t.Fatalf("case %d: share %d makes %d visits", c, per, v)
		case per < longest:
			if more, _ := visits(per + 1); more <= maxNeighbourVisits {
				t.Fatalf("case %d: share %d, but %d would fit (%d visits)", c, per, per+1, more)
			}
		}
	}
}
