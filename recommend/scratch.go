package recommend

import (
	"slices"
)

// Context sub-signals recorded in cand.from[srcContext] (>= 0: the item in view).
const (
	fromCategory = -2
	fromQuery    = -3
)

// Why an item was blocked before scoring.
const (
	blockInView uint8 = iota + 1
	blockBought
	blockNotInterested
	blockCap
)

type cand struct {
	item    int32
	blocked uint8         // blocked after it became a candidate: why
	q       uint16        // keys of the current match that reach this item
	qgen    uint16        // the match q counts for (scratch.mgen)
	x       [nSrc]float32 // per-source score, in [0, 1] once finished
	from    [nSrc]int32   // what led here, for the reason
}

type seed struct {
	item int32
	w    float32
	kind EventKind
}

// slot is the per-catalog-item state of one request, generation-stamped
// so that it never needs clearing, and 8 bytes so that the random accesses
// of a request stay in cache. pos >= 0 is the item's candidate index;
// pos < 0 marks an item blocked before it became a candidate, -why.
type slot struct {
	stamp uint32
	pos   int32
}

type scratch struct {
	gen    uint32
	slots  []slot
	cands  []cand
	sink   cand // stands in for blocked items, which are never candidates
	seeds  []seed
	liked  []seed
	tmp    []int32 // the items the current match reached
	mgen   uint16  // the current match, counted from 1 in each request
	top    []int32
	scores []float64
	keys   []seedKey // the events proposed as seeds
	seen   itemSet   // the items of the seeds picked
	// bought blocks, on first sight, the items of the history's purchases.
	bought boughtSet
	// blockedSeen counts blocked items that sources proposed, per reason.
	blockedSeen [blockCap + 1]int
	// acc sums the neighbour visits of one source's seeds per catalog item
	// (seedNeighbours), stamped with accGen so that it never needs
	// clearing; reached lists the items of the current pass and ranked
	// holds them by their sums.
	acc     []accum
	accGen  uint32
	reached []int32
	ranked  []rankedItem
	hist    [1 << 11]int32 // for strongestItems
}

// accumulator returns s.acc for a catalog of n items and the stamp of a
// new pass.
func (s *scratch) accumulator(n int) ([]accum, uint32) {
	if len(s.acc) < n {
		s.acc = make([]accum, n)
		s.accGen = 0
	}
	s.accGen++
	if s.accGen == 0 { // wrapped: forget every stamp
		clear(s.acc)
		s.accGen = 1
	}
	return s.acc, s.accGen
}

func (r *Recommender) scratch(n int) *scratch {
	s, _ := r.pool.Get().(*scratch)
	if s == nil || len(s.slots) < n {
		s = &scratch{slots: make([]slot, n)}
	}
	s.gen++
	if s.gen == 0 { // wrapped: forget every stamp
		clear(s.slots)
		s.gen = 1
	}
	s.cands, s.seeds, s.liked, s.tmp, s.top, s.scores, s.keys = s.cands[:0], s.seeds[:0], s.liked[:0], s.tmp[:0], s.top[:0], s.scores[:0], s.keys[:0]
	s.mgen = 0
	s.blockedSeen = [blockCap + 1]int{}
	return s
}

// putScratch returns s to the pool holding no reference to the request's
// data.
func (r *Recommender) putScratch(s *scratch) {
	s.bought.forget()
	r.pool.Put(s)
}

// fresh reports whether item i is not yet a candidate nor blocked; an
// item bought (s.bought) is blocked on first sight.
func (s *scratch) fresh(sl *slot, i int32) bool {
	if sl.stamp == s.gen {
		return false
	}
	if s.bought.has(i) {
		sl.stamp, sl.pos = s.gen, -int32(blockBought)
		return false
	}
	return true
}

// touch returns the candidate for item i, creating it; for a blocked item
// it returns a scratch value that is discarded.
func (s *scratch) touch(i int32) *cand {
	sl := &s.slots[i]
	if !s.fresh(sl, i) {
		if sl.pos >= 0 {
			return &s.cands[sl.pos]
		}
		if sl.pos > -16 { // first proposal of a blocked item: count it once
			s.blockedSeen[-sl.pos]++
			sl.pos -= 16
		}
		s.sink = cand{}
		return &s.sink
	}
	sl.stamp = s.gen
	sl.pos = int32(len(s.cands))
	s.cands = append(s.cands, cand{item: i, from: [nSrc]int32{-1, -1, -1, -1, -1}})
	return &s.cands[len(s.cands)-1]
}

func (s *scratch) cand(i int32) *cand { return &s.cands[s.slots[i].pos] }

// isCand reports whether item i is a candidate (blocked or not).
func (s *scratch) isCand(i int32) bool {
	sl := &s.slots[i]
	return sl.stamp == s.gen && sl.pos >= 0
}

// match makes a candidate of every unblocked item in the postings of keys
// (at most maxPostings per key), counts in its q how many distinct keys
// reach it, lists the items reached in s.tmp and returns the number of
// distinct keys.
func (s *scratch) match(index map[string][]int32, keys []string) int {
	s.mgen++
	s.tmp = s.tmp[:0]
	n := 0
	for k, key := range keys {
		if slices.Contains(keys[:k], key) {
			continue
		}
		n++
		l := index[key]
		for _, i := range l[:min(len(l), maxPostings)] {
			cd := s.touch(i)
			if cd == &s.sink {
				continue
			}
			if cd.qgen != s.mgen {
				cd.qgen, cd.q = s.mgen, 0
				s.tmp = append(s.tmp, i)
			}
			cd.q++
		}
	}
	return n
}

func (s *scratch) block(i int32, why uint8) {
	sl := &s.slots[i]
	switch {
	case sl.stamp != s.gen:
		sl.stamp, sl.pos = s.gen, -int32(why)
	case sl.pos >= 0:
		if c := &s.cands[sl.pos]; c.blocked == 0 {
			c.blocked = why
		}
	}
}

func (s *scratch) blocked(i int32) bool {
	sl := &s.slots[i]
	return !s.fresh(sl, i) && (sl.pos < 0 || s.cands[sl.pos].blocked != 0)
}
