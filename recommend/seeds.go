package recommend

import (
	"math/bits"
	"slices"
)

// MaxSeeds is the most history items, and the most liked items, that seed
// the item-item model in one request, so that the work of a request does
// not grow with the length of a history: each item counts with its
// strongest event (a purchase weighs 1, a view half; with
// [Config].HistoryHalfLife an event weighs half as much every half-life of
// age), the strongest items first and, among equals, the most recent. What
// was bought is still left out however old the purchase. 300 keeps the
// offline quality of long histories close to that of using every item
// (MovieLens, Online Retail) while a request with a 5,000-item history
// stays well below 1 ms.
const MaxSeeds = 300

// seedKey is an event proposed as a seed: its weight, its time and ref,
// what it refers to (an index in the history, or an item).
type seedKey struct {
	w    float32
	ref  int32
	sec  int64
	nsec int32
}

// before orders seed keys strongest first: heavier, then more recent, then
// first in the list.
func (a *seedKey) before(b *seedKey) bool {
	switch {
	case a.w != b.w:
		return a.w > b.w
	case a.sec != b.sec:
		return a.sec > b.sec
	case a.nsec != b.nsec:
		return a.nsec > b.nsec
	}
	return a.ref < b.ref
}

func compareKeys(a, b seedKey) int {
	switch {
	case a.before(&b):
		return -1
	case b.before(&a):
		return 1
	}
	return 0
}

// pickSeeds appends to dst the items of keys, strongest first, each once
// (with its strongest event), at most MaxSeeds in all. resolve maps a
// key's ref to its item and event kind, and rejects those that may not
// seed. keys is reordered. Only the keys needed are sorted (doubling their
// number while repeats and rejections leave too few seeds), so that a
// long history costs no full sort.
func pickSeeds(dst []seed, seen *itemSet, keys []seedKey, resolve func(ref int32) (int32, EventKind, bool)) []seed {
	seen.reset()
	for n := MaxSeeds; len(dst) < MaxSeeds && len(keys) > 0; n *= 2 {
		n = min(n, len(keys))
		strongestFirst(keys, n)
		for k := range keys[:n] {
			i, kind, ok := resolve(keys[k].ref)
			if !ok || !seen.add(i) {
				continue
			}
			dst = append(dst, seed{item: i, w: keys[k].w, kind: kind})
			if len(dst) == MaxSeeds {
				break
			}
		}
		keys = keys[n:]
	}
	return dst
}

// itemSet is a set of at most MaxSeeds catalog items, to keep seeds
// distinct: an open-addressing table of item + 1 (0: empty), a power of
// two long and at most half full.
type itemSet struct{ t []int32 }

func (s *itemSet) reset() {
	if s.t == nil {
		n := 8
		for n < 2*MaxSeeds {
			n <<= 1
		}
		s.t = make([]int32, n)
	}
	clear(s.t)
}

// add adds item i and reports whether it was not in s already.
func (s *itemSet) add(i int32) bool {
	mask := len(s.t) - 1
	for p := int(uint32(i)*0x9e3779b1) & mask; ; p = (p + 1) & mask {
		switch s.t[p] {
		case 0:
			s.t[p] = i + 1
			return true
		case i + 1:
			return false
		}
	}
}

// strongestFirst reorders keys so that keys[:n] are the n strongest,
// strongest first, and the rest follow in any order: a quickselect (linear
// on average, a sort when it degrades) and a sort of the n.
func strongestFirst(keys []seedKey, n int) {
	lo, hi := 0, len(keys)
	// keys[:lo] are stronger than the rest and keys[hi:] weaker than the
	// rest: the boundary n lies in [lo, hi].
	for budget := 2 * bits.Len(uint(len(keys))); lo < n && n < hi; budget-- {
		if budget == 0 {
			slices.SortFunc(keys[lo:hi], compareKeys)
			break
		}
		// Median of three as the pivot, at hi-1.
		a, b, c := lo, lo+(hi-lo)/2, hi-1
		if keys[b].before(&keys[a]) {
			a, b = b, a
		}
		if keys[c].before(&keys[b]) {
			b = c
			if keys[b].before(&keys[a]) {
				b = a
			}
		}
		keys[b], keys[hi-1] = keys[hi-1], keys[b]
		p := lo
		for i := lo; i < hi-1; i++ {
			if keys[i].before(&keys[hi-1]) {
				keys[i], keys[p] = keys[p], keys[i]
				p++
			}
		}
		keys[p], keys[hi-1] = keys[hi-1], keys[p]
		if p < n {
			lo = p + 1
		} else {
			hi = p
		}
	}
	slices.SortFunc(keys[:n], compareKeys)
}

// seedNeighbours adds the item-item neighbours of seeds to slot.
func (q *request) seedNeighbours(slot int, seeds []seed) {
	ii := q.m.ii
	if ii == nil || len(seeds) == 0 {
		return
	}
	s := q.s
	// Bound the work of long histories: at most MaxSeeds seeds, each
	// contributing its strongest neighbours, maxNeighbourVisits shared
	// among them but at least minPerSeed each.
	per := int32(max(minPerSeed, maxNeighbourVisits/len(seeds)))
	for k, sd := range seeds {
		lo, hi := ii.start[sd.item], ii.start[sd.item+1]
		for j := lo; j < min(hi, lo+per); j++ {
			cd := s.touch(ii.nbr[j])
			v := sd.w * ii.sim[j]
			cd.x[slot] += v
			if v > cd.best[slot] {
				cd.best[slot], cd.from[slot] = v, int32(k)
			}
			q.active[slot] = true
		}
	}
	for i := range s.cands {
		cd := &s.cands[i]
		if cd.x[slot] > 0 {
			cd.x[slot] = float32(ii.conf(float64(cd.x[slot])))
		}
	}
}

// conf maps a summed similarity to a confidence in [0, 1): one half at
// the model's typical nearest-neighbour similarity, approaching 1 as
// evidence accumulates.
func (m *ItemItem) conf(sum float64) float64 { return sum / (sum + m.scale) }
