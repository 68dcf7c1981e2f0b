package recommend

import (
	"cmp"
	"math"
	"slices"
	"sync"
)

// Similarity selects how the item-item model turns co-occurrence counts
// into a similarity between two items. With c(a) the persons who have item
// a, c(a,b) the persons who have both and N the persons:
type Similarity uint8

// Similarities.
const (
	// Cosine is c(a,b) / sqrt(c(a) c(b)), in [0, 1]. The zero value.
	Cosine Similarity = iota
	// Jaccard is c(a,b) / (c(a) + c(b) - c(a,b)), in [0, 1].
	Jaccard
	// Lift is c(a,b) N / (c(a) c(b)); pairs with lift at most 1 (no
	// positive association) are dropped and the model keeps 1 - 1/lift, in
	// [0, 1), which orders neighbours as lift does.
	Lift
)

var similarityNames = [...]string{Cosine: "cosine", Jaccard: "jaccard", Lift: "lift"}

// String returns "cosine", "jaccard" or "lift".
func (s Similarity) String() string {
	if int(s) < len(similarityNames) {
		return similarityNames[s]
	}
	return "unknown"
}

// DefaultNeighbors is the number of neighbours per item [ItemItemConfig]
// keeps when Neighbors is 0. 20 was the best choice on a validation split
// of MovieLens (see examples/evaluate) and bounds the work of a request.
const DefaultNeighbors = 20

// ItemItemConfig configures [NewItemItem]. The zero value means cosine
// similarity, [DefaultNeighbors] neighbours, no support shrinkage.
type ItemItemConfig struct {
	Similarity Similarity
	// Neighbors is the number of most similar items kept per item; 0 means
	// [DefaultNeighbors]. At most 1000.
	Neighbors int
	// MinCount drops pairs counted by fewer persons. Pairs whose count is
	// not above zero (possible after noise) are always dropped.
	MinCount float64
	// Shrink multiplies each similarity by c(a,b) / (c(a,b) + Shrink),
	// damping pairs seen by few persons (or, in noisy counts, pairs whose
	// count is mostly noise). 0 means the default: none for exact counts,
	// [DefaultShrinkNoise] standard deviations of the pair noise for counts
	// from a release ([Counts.Noise]). Negative means none.
	Shrink float64
}

// DefaultShrinkNoise is the shrinkage [NewItemItem] applies to noisy counts
// when [ItemItemConfig].Shrink is 0, in standard deviations of the pair
// noise: chosen on validation splits of both data sets of
// examples/evaluate.
const DefaultShrinkNoise = 3

// ItemItem is an item-to-item similarity model: for each catalog item, its
// most similar items. It is built from cross-person [Counts] and applied at
// request time to one person's own items. It is immutable and safe for
// simultaneous use by multiple goroutines.
type ItemItem struct {
	cat *Catalog
	cfg ItemItemConfig
	// The neighbours of catalog item i are nbr[start[i]:start[i+1]],
	// strongest first: in decreasing magnitude of sim, which is positive
	// but for EASE models (see [TrainEASE]).
	start []int32
	nbr   []int32
	sim   []float32
	// scale is the median similarity of items to their nearest neighbour,
	// used to map summed similarities to a confidence in [0, 1].
	scale   float64
	unknown int
	// byCount lists the catalog items with a positive count in the counts
	// the model was built from, most counted first (ties in catalog
	// order): the popularity Top backfills with.
	byCount []int32
	ease    *EASEConfig // how TrainEASE made the model; nil for NewItemItem
	snr     float64     // the counts' Counts.SignalToNoise
	pool    sync.Pool   // *topScratch for Top
}

type topScratch struct {
	acc     []float64
	mark    []uint8 // markSeen, markTouched
	touched []int32
	cands   []int32 // the touched items with a positive sum
}

const (
	markSeen    = 1 // in the history
	markTouched = 2 // in touched
)

// Neighbor is one similar item and its similarity.
type Neighbor struct {
	Item       string
	Similarity float64
}

// Scored is an item and a model score; higher is better.
type Scored struct {
	Item  string
	Score float64
}

// NewItemItem builds the model for catalog cat from counts c, which may be
// exact ([CountCooccurrence]) or noisy ([CountsBuilder]). Noisy counts are
// clamped: pairs at or below zero or below cfg.MinCount are dropped, an
// item count is raised to at least the largest count of a pair it is in
// (so that similarities stay in range), negative item counts become 0, and
// the number of persons is raised to at least the largest item count and
// 1. Lift on weighted counts ([Counts.Weighted]) is an error: it compares
// counts with the number of persons. Items in c that are not in cat are ignored ([ItemItem.Unknown] counts
// them). The error wraps [ErrNilModel] or [ErrInvalidConfig].
func NewItemItem(cat *Catalog, c *Counts, cfg ItemItemConfig) (*ItemItem, error) {
	if cat == nil || c == nil {
		return nil, ErrNilModel
	}
	if cfg.Neighbors == 0 {
		cfg.Neighbors = DefaultNeighbors
	}
	switch {
	case cfg.Similarity > Lift:
		return nil, configError("Similarity", "unknown similarity")
	case cfg.Neighbors < 0 || cfg.Neighbors > 1000:
		return nil, configError("Neighbors", "must be in [0, 1000]")
	case math.IsNaN(cfg.MinCount) || math.IsInf(cfg.MinCount, 0):
		return nil, configError("MinCount", "must be finite")
	case math.IsNaN(cfg.Shrink) || math.IsInf(cfg.Shrink, 0):
		return nil, configError("Shrink", "must be finite")
	case cfg.Similarity == Lift && c.Weighted():
		return nil, configError("Similarity", "lift compares counts with the number of persons, which weighted counts are not")
	}
	switch {
	case cfg.Shrink < 0:
		cfg.Shrink = 0
	case cfg.Shrink == 0:
		cfg.Shrink = DefaultShrinkNoise * c.noise
	}
	m := &ItemItem{cat: cat, cfg: cfg, snr: c.SignalToNoise()}
	n := cat.Len()
	remap := make([]int32, len(c.ids))
	for i, id := range c.ids {
		if j, ok := cat.lookup(id); ok {
			remap[i] = j
		} else {
			remap[i] = -1
			m.unknown++
		}
	}
	// Effective item counts: clamp negatives, raise to the largest pair.
	items := make([]float64, len(c.items))
	for i, v := range c.items {
		items[i] = max(v, 0)
	}
	minCount := max(cfg.MinCount, math.SmallestNonzeroFloat64)
	for a := range c.ids {
		for k := c.rowStart[a]; k < c.rowStart[a+1]; k++ {
			if v := float64(c.pn[k]); v >= minCount {
				b := c.pb[k]
				items[a] = max(items[a], v)
				items[b] = max(items[b], v)
			}
		}
	}
	persons := max(c.persons, 1)
	for _, v := range items {
		persons = max(persons, v)
	}

	// Per-item bounded min-heaps of the best neighbours, in flat arrays:
	// item a's heap is hs[off[a]:off[a+1]], sized to the lesser of N and
	// the number of pairs a is in, so that memory follows the pairs, not
	// the catalog times N.
	N := cfg.Neighbors
	hl := make([]int32, n) // first the pairs per item, then the heap lengths
	for a := range c.ids {
		for k := c.rowStart[a]; k < c.rowStart[a+1]; k++ {
			if ca, cb := remap[a], remap[c.pb[k]]; ca >= 0 && cb >= 0 && float64(c.pn[k]) >= minCount {
				hl[ca]++
				hl[cb]++
			}
		}
	}
	off := make([]int, n+1)
	for i, d := range hl {
		off[i+1] = off[i] + min(N, int(d))
		hl[i] = 0
	}
	hs := make([]float32, off[n])
	hn := make([]int32, off[n])
	// thr[a] is the similarity a candidate must beat once a's heap is
	// full: a compact array checked before touching the heap's memory.
	thr := make([]float32, n)
	for i := range thr {
		thr[i] = -1
	}
	push := func(a, b int32, s float32) {
		if s < thr[a] {
			return
		}
		h, hb := hs[off[a]:off[a+1]], hn[off[a]:off[a+1]]
		l, size := int(hl[a]), len(h)
		if l < size {
			// sift up
			i := l
			h[i], hb[i] = s, b
			for i > 0 {
				p := (i - 1) / 2
				if !less(h[i], hb[i], h[p], hb[p]) {
					break
				}
				h[i], h[p], hb[i], hb[p] = h[p], h[i], hb[p], hb[i]
				i = p
			}
			hl[a]++
			if int(hl[a]) == size {
				thr[a] = h[0]
			}
			return
		}
		if !less(h[0], hb[0], s, b) {
			return
		}
		h[0], hb[0] = s, b
		for i := 0; ; { // sift down
			l, r, m := 2*i+1, 2*i+2, i
			if l < size && less(h[l], hb[l], h[m], hb[m]) {
				m = l
			}
			if r < size && less(h[r], hb[r], h[m], hb[m]) {
				m = r
			}
			if m == i {
				break
			}
			h[i], h[m], hb[i], hb[m] = h[m], h[i], hb[m], hb[i]
			i = m
		}
		thr[a] = h[0]
	}
	for a := range c.ids {
		ca := remap[a]
		if ca < 0 {
			continue
		}
		na := items[a]
		for k := c.rowStart[a]; k < c.rowStart[a+1]; k++ {
			v := float64(c.pn[k])
			if !(v >= minCount) {
				continue
			}
			b := c.pb[k]
			cb := remap[b]
			if cb < 0 {
				continue
			}
			s := similarity(cfg.Similarity, v, na, items[b], persons)
			if cfg.Shrink > 0 {
				s *= v / (v + cfg.Shrink)
			}
			// Similarities are stored as float32: one that is positive in
			// float64 can still underflow to zero (a huge noisy item count).
			s32 := float32(s)
			if !(s32 > 0) {
				continue
			}
			push(ca, cb, s32)
			push(cb, ca, s32)
		}
	}
	// Compact into rows sorted by decreasing similarity.
	m.start = make([]int32, n+1)
	var total int
	for i := 0; i < n; i++ {
		total += int(hl[i])
		m.start[i+1] = int32(total)
	}
	m.nbr = make([]int32, total)
	m.sim = make([]float32, total)
	var tops []float64
	type pair struct {
		s float32
		b int32
	}
	row := make([]pair, 0, N)
	for i := 0; i < n; i++ {
		row = row[:0]
		for k := off[i]; k < off[i]+int(hl[i]); k++ {
			row = append(row, pair{hs[k], hn[k]})
		}
		slices.SortFunc(row, func(x, y pair) int {
			if x.s != y.s {
				return cmp.Compare(y.s, x.s)
			}
			return cmp.Compare(x.b, y.b)
		})
		for k, p := range row {
			m.nbr[int(m.start[i])+k] = p.b
			m.sim[int(m.start[i])+k] = p.s
		}
		if len(row) > 0 {
			tops = append(tops, float64(row[0].s))
		}
	}
	m.scale = 1
	if len(tops) > 0 {
		slices.Sort(tops)
		if med := tops[len(tops)/2]; med > 0 {
			m.scale = med
		}
	}
	m.byCount = byCount(n, c.items, remap)
	return m, nil
}

// byCount returns the catalog items (of n) with a positive count in
// items (indexed as the counts, mapped to the catalog by remap), most
// counted first, ties in catalog order.
func byCount(n int, items []float64, remap []int32) []int32 {
	count := make([]float64, n)
	var out []int32
	for a, v := range items {
		if i := remap[a]; i >= 0 && v > 0 {
			if count[i] == 0 {
				out = append(out, i)
			}
			count[i] += v
		}
	}
	slices.SortFunc(out, func(x, y int32) int {
		if count[x] != count[y] {
			return cmp.Compare(count[y], count[x])
		}
		return cmp.Compare(x, y)
	})
	return out
}

// less orders heap entries: lower similarity first, then higher index, so
// that ties keep the lower index.
func less(s1 float32, b1 int32, s2 float32, b2 int32) bool {
	if s1 != s2 {
		return s1 < s2
	}
	return b1 > b2
}

func similarity(s Similarity, ab, a, b, persons float64) float64 {
	switch s {
	case Jaccard:
		return ab / (a + b - ab)
	case Lift:
		lift := ab * persons / (a * b)
		if !(lift > 1) {
			return 0
		}
		return 1 - 1/lift
	default:
		return ab / math.Sqrt(a*b)
	}
}

// TrainItemItem counts co-occurrences in the interactions exactly with
// [CountCooccurrence] under o and builds the model with [NewItemItem]. A
// differentially private model swaps the first step: build [Counts] with a
// [CountsBuilder] from DP counts over [PersonItems] and call [NewItemItem].
func TrainItemItem(cat *Catalog, in []Interaction, o CountOptions, cfg ItemItemConfig) (*ItemItem, error) {
	if cat == nil {
		return nil, ErrNilModel
	}
	return NewItemItem(cat, CountCooccurrence(in, o), cfg)
}

// Catalog returns the catalog the model was built for.
func (m *ItemItem) Catalog() *Catalog { return m.cat }

// Config returns the configuration the model was built with, defaults
// filled in (for a model of [TrainEASE], that of its tail).
func (m *ItemItem) Config() ItemItemConfig { return m.cfg }

// EASE returns the configuration [TrainEASE] built the model with, defaults
// filled in, and false for a model of [NewItemItem].
func (m *ItemItem) EASE() (EASEConfig, bool) {
	if m.ease == nil {
		return EASEConfig{}, false
	}
	return *m.ease, true
}

// Unknown returns the number of items in the counts that were not in the
// catalog and so were ignored.
func (m *ItemItem) Unknown() int { return m.unknown }

// SignalToNoise returns the [Counts.SignalToNoise] of the counts the model
// was trained on: +Inf for exact counts, small for a release whose pairs
// are mostly noise. A [Recommender] serving the model gives history less
// weight, and popularity more, the smaller it is (see [Weights]).
func (m *ItemItem) SignalToNoise() float64 { return m.snr }

// Neighbors returns the most similar items to id, most similar first; nil
// for an unknown id or an item with no neighbours. Only positive
// similarities count: the negative weights of an EASE model say that an
// item speaks against another, which makes it no neighbour.
func (m *ItemItem) Neighbors(id string) []Neighbor {
	i, ok := m.cat.lookup(id)
	if !ok {
		return nil
	}
	lo, hi := m.start[i], m.start[i+1]
	if lo == hi {
		return nil
	}
	var out []Neighbor
	for k := lo; k < hi; k++ {
		if m.sim[k] > 0 {
			out = append(out, Neighbor{Item: m.cat.items[m.nbr[k]].ID, Similarity: float64(m.sim[k])})
		}
	}
	return out // rows are in order of magnitude, so the positive ones in order
}

// Top returns up to k items the history speaks for, scored by the sum of
// their similarities to the history items (an item whose sum is not
// positive is no candidate), best first (ties by catalog order), skipping
// the history items themselves and those for which exclude (if non-nil)
// returns true.
// When the history scores fewer than k items, Top backfills with
// popularity: the most counted items of the counts the model was built
// from (ties in catalog order), with score 0, as a [Recommender] fills the
// places its personal sources leave with popular items. So a history
// whose items have no neighbours (a thin model, trained on few people or
// on a noisy release) still gets a full list while the counts have items.
// Unknown history ids are ignored; k <= 0 returns nil. This is the plain
// model, without consent, tiers or guards: it serves offline evaluation.
func (m *ItemItem) Top(history []string, k int, exclude func(id string) bool) []Scored {
	if k <= 0 || m.cat.Len() == 0 {
		return nil
	}
	sc, _ := m.pool.Get().(*topScratch)
	if sc == nil {
		sc = &topScratch{acc: make([]float64, m.cat.Len()), mark: make([]uint8, m.cat.Len())}
	}
	acc, mark, touched := sc.acc, sc.mark, sc.touched[:0]
	defer func() {
		for _, j := range touched {
			acc[j], mark[j] = 0, 0
		}
		for _, id := range history {
			if i, ok := m.cat.lookup(id); ok {
				mark[i] = 0
			}
		}
		sc.touched = touched
		m.pool.Put(sc)
	}()
	for _, id := range history {
		if i, ok := m.cat.lookup(id); ok {
			mark[i] = markSeen
		}
	}
	for _, id := range history {
		i, ok := m.cat.lookup(id)
		if !ok {
			continue
		}
		for k := m.start[i]; k < m.start[i+1]; k++ {
			j := m.nbr[k]
			if mark[j] == markSeen {
				continue
			}
			if mark[j] == 0 {
				mark[j] = markTouched
				touched = append(touched, j)
			}
			acc[j] += float64(m.sim[k])
		}
	}
	// Only items the history speaks for are candidates: an EASE model's
	// negative weights can leave a sum at or below 0.
	cands := sc.cands[:0]
	for _, j := range touched {
		if acc[j] > 0 {
			cands = append(cands, j)
		}
	}
	sc.cands = cands
	out := topK(m.cat, cands, acc, k, exclude)
	// Backfill: every candidate not excluded is in out already, so the
	// popular items to add are those neither seen nor candidates.
	for _, j := range m.byCount {
		if len(out) >= k {
			break
		}
		if mark[j] == markSeen || acc[j] > 0 {
			continue
		}
		if id := m.cat.items[j].ID; exclude == nil || !exclude(id) {
			out = append(out, Scored{Item: id})
		}
	}
	return out
}

// topK selects the k best of cands by score (ties by index), keeping a
// sorted list of the best so far instead of sorting every candidate.
func topK(cat *Catalog, cands []int32, score []float64, k int, exclude func(string) bool) []Scored {
	type sc struct {
		i int32
		s float64
	}
	best := make([]sc, 0, min(k, len(cands)))
	for _, i := range cands {
		v, n := score[i], len(best)
		if n == k && !better(v, i, best[n-1].s, best[n-1].i) {
			continue
		}
		if exclude != nil && exclude(cat.items[i].ID) {
			continue
		}
		if n < k {
			best = append(best, sc{})
		} else {
			n--
		}
		for n > 0 && better(v, i, best[n-1].s, best[n-1].i) {
			best[n] = best[n-1]
			n--
		}
		best[n] = sc{i, v}
	}
	out := make([]Scored, len(best))
	for n, x := range best {
		out[n] = Scored{Item: cat.items[x.i].ID, Score: x.s}
	}
	return out
}
