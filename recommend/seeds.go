package recommend

import (
	"math"
	"math/bits"
	"slices"
)

// MaxSeeds is the most history items, and the most liked items, that seed
// the item-item model in one request, so that the work of a request does
// not grow with the length of a history: each item counts with its
// strongest event (a purchase weighs 1, a view half; with
// [Config].HistoryHalfLife an event weighs half as much every half-life of
// age), the strongest items first and, among equals, the most recent. What
// was bought is still left out however old the purchase.
//
// The seeds then share at most 60,000 visits of their neighbours, each
// seed its strongest neighbours, as many for each (at least 5) but for
// the seeds with fewer, whose leftover visits go to the others, until
// they reach 4,000 distinct items; of those, the 1,000 with the largest
// summed similarity that no guard removes become candidates. A visit is an
// addition in a per-item array, so a history is served as the plain model
// ([ItemItem.Top]) ranks it as long as its neighbour lists fit in the
// visits (a 1,000-item history with 60 neighbours per item does), and a
// request with a 5,000-item history on a 100,000-item catalog takes about
// 0.25 to 0.6 ms at the median and 0.35 to 1.1 ms at the 99th percentile
// of its own CPU time on a shared 2-core machine, with 20 or 300
// neighbours per item, alone or beside processes that churn memory
// (BenchmarkRecommend/established-history5000…, the upper ends beside
// them); its wall-clock latency is the same while a core is free for it.
//
// These bounds were raised from 500 seeds sharing 30,000 visits, which
// served the EASE model tuned for MovieLens (N = 3000, λ = 24, 1,000
// weights per item) 2.6% below the plain model on the test split of
// examples/evaluate (nDCG@10 0.3875 against 0.3978): MovieLens persons
// have up to about 2,000 training items, and for a person with 500 or
// more the visits cut each row of 1,000 weights to 60. With these bounds
// the served row is 1.6% below it (0.3913); the model tuned since (with
// [EASEConfig].PopularityDamping 0.2) is served 1.3% below its plain
// model (0.4003 against 0.4055), and the library's default EASE at
// 0.3935. The tuned Online Retail row does not change (0.1024, as the
// plain model). The bounds before had been chosen on the validation
// splits, whose histories are a third shorter and where both bounds
// serve within about 1% of the plain model.
const MaxSeeds = 1000

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

// seedNeighbours adds the item-item neighbours of seeds to slot, in two
// passes so that the work of a long history stays bounded: first the seeds,
// strongest first, visit their strongest neighbours (maxNeighbourVisits
// shared among them by visitShare, until maxReached distinct items are
// reached; strongest in magnitude, for an EASE model's negative weights
// count against an item), summing each item's similarities in s.acc, a
// plain per-item array; then only the maxSourceCandidates items with the
// largest sums that no guard blocks become candidates. A visit costs an
// addition, a candidate its guards, blend and explanation.
func (q *request) seedNeighbours(slot int, seeds []seed) {
	ii := q.m.ii
	if ii == nil || len(seeds) == 0 {
		return
	}
	s := q.s
	acc, g := s.accumulator(len(q.m.meta))
	reached := s.reached[:0]
	per := visitShare(ii, seeds)
visits:
	for k, sd := range seeds {
		lo, hi := ii.start[sd.item], ii.start[sd.item+1]
		for j := lo; j < min(hi, lo+per); j++ {
			i := ii.nbr[j]
			a := &acc[i]
			v := sd.w * ii.sim[j]
			if a.gen != g {
				if len(reached) == maxReached {
					break visits
				}
				*a = accum{sum: v, best: v, from: int32(k), gen: g}
				reached = append(reached, i)
				continue
			}
			a.sum += v
			if v > a.best {
				a.best, a.from = v, int32(k)
			}
		}
	}
	s.reached = reached
	// The items the seeds speak for: an EASE model's negative weights can
	// leave a sum at or below 0.
	ranked := s.ranked[:0]
	for _, i := range reached {
		if acc[i].sum > 0 {
			ranked = append(ranked, rankedItem{acc[i].sum, i})
		}
	}
	s.ranked = ranked
	if len(ranked) == 0 {
		return
	}
	q.active[slot] = true
	// The strongest first, until maxSourceCandidates are candidates: the
	// blocked ones (bought, not interested, …) are counted by touch and
	// leave their place to the next.
	for left := maxSourceCandidates; left > 0 && len(ranked) > 0; {
		n := min(left, len(ranked))
		strongestItems(ranked, n, &s.hist)
		for _, r := range ranked[:n] {
			cd := s.touch(r.item)
			if cd == &s.sink {
				continue
			}
			a := &acc[r.item]
			cd.x[slot] = float32(ii.conf(float64(a.sum)))
			cd.from[slot] = a.from
			left--
		}
		ranked = ranked[n:]
	}
}

// visitShare returns how many neighbours each seed visits: the largest
// share such that the seeds' visits, each seed at most its share and its
// row's length, come to at most maxNeighbourVisits, and at least
// minPerSeed. So the visits short rows leave go to the longer ones rather
// than unused.
func visitShare(ii *ItemItem, seeds []seed) int32 {
	visits := func(per int32) int {
		n := 0
		for _, sd := range seeds {
			n += int(min(per, ii.start[sd.item+1]-ii.start[sd.item]))
		}
		return n
	}
	lo, hi := int32(minPerSeed), int32(0) // visits(lo) fits or lo is the floor
	for _, sd := range seeds {
		hi = max(hi, ii.start[sd.item+1]-ii.start[sd.item])
	}
	if hi <= lo || visits(hi) <= maxNeighbourVisits {
		return max(hi, lo)
	}
	for lo+1 < hi { // visits(hi) > maxNeighbourVisits
		if mid := lo + (hi-lo)/2; visits(mid) <= maxNeighbourVisits {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// accum is one item's sum of the similarities the seeds lead to it with,
// its strongest single contribution and the seed it came from; gen stamps
// the pass it belongs to.
type accum struct {
	sum, best float32
	from      int32
	gen       uint32
}

// rankedItem is an item and its summed similarity.
type rankedItem struct {
	sum  float32
	item int32
}

// before orders ranked items strongest first, ties by catalog order.
func (a *rankedItem) before(b *rankedItem) bool {
	return a.sum > b.sum || (a.sum == b.sum && a.item < b.item)
}

// strongestItems reorders r so that r[:n] are its n strongest items, in
// any order. Sums are positive, so the bits of a float32 order them: a
// histogram of their top bits finds the bucket of the n-th strongest in
// one pass, a second pass moves the stronger buckets to the front and
// only that bucket is sorted out (a quickselect), so that choosing among
// many items costs two linear passes, not a sort.
func strongestItems(r []rankedItem, n int, hist *[1 << 11]int32) {
	if n >= len(r) {
		return
	}
	bucket := func(x *rankedItem) int { return int(math.Float32bits(x.sum) >> 20) }
	clear(hist[:])
	for i := range r {
		hist[bucket(&r[i])]++
	}
	b, above := len(hist)-1, 0
	for ; b > 0 && above+int(hist[b]) < n; b-- {
		above += int(hist[b])
	}
	p, q := 0, len(r)
	for i := 0; i < q; {
		switch k := bucket(&r[i]); {
		case k > b:
			r[i], r[p] = r[p], r[i]
			p++
			i++
		case k < b:
			q--
			r[i], r[q] = r[q], r[i]
		default:
			i++
		}
	}
	selectItems(r[p:q], n-p)
}

// selectItems reorders r so that r[:n] are its n strongest items, in any
// order: a quickselect, linear on average, a sort when it degrades.
func selectItems(r []rankedItem, n int) {
	lo, hi := 0, len(r)
	for budget := 2 * bits.Len(uint(len(r))); lo < n && n < hi; budget-- {
		if budget == 0 {
			slices.SortFunc(r[lo:hi], func(a, b rankedItem) int {
				if a.before(&b) {
					return -1
				}
				if b.before(&a) {
					return 1
				}
				return 0
			})
			return
		}
		a, b, c := lo, lo+(hi-lo)/2, hi-1
		if r[b].before(&r[a]) {
			a, b = b, a
		}
		if r[c].before(&r[b]) {
			b = c
			if r[b].before(&r[a]) {
				b = a
			}
		}
		r[b], r[hi-1] = r[hi-1], r[b]
		p := lo
		for i := lo; i < hi-1; i++ {
			if r[i].before(&r[hi-1]) {
				r[i], r[p] = r[p], r[i]
				p++
			}
		}
		r[p], r[hi-1] = r[hi-1], r[p]
		if p < n {
			lo = p + 1
		} else {
			hi = p
		}
	}
}

// conf maps a summed similarity to a confidence in [0, 1): one half at
// the model's typical nearest-neighbour similarity, approaching 1 as
// evidence accumulates.
func (m *ItemItem) conf(sum float64) float64 { return sum / (sum + m.scale) }
