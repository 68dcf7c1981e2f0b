package recommend

import (
	"cmp"
	"iter"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Interaction is one person's event with one item, the unit of training
// data for the cross-person models.
type Interaction struct {
	Person string
	Item   string
	Kind   EventKind
	At     time.Time
	// Weight is how much the interaction counts with [CountOptions].Weighted
	// (a rating, a quantity); 0 means 1. Counting with weights skips an
	// interaction whose weight is negative, NaN or infinite; counting
	// without ignores Weight.
	Weight float64
}

// DefaultMaxItemsPerPerson is the per-person bound [CountOptions] uses
// when MaxItemsPerPerson is 0.
const DefaultMaxItemsPerPerson = 500

// CountOptions say how much one person contributes to cross-person
// statistics: which items (at most MaxItemsPerPerson of them) and with
// which weight. The same bounding serves exact and differentially private
// counting: a DP counter iterates [PersonItems] with the same options and
// so sees exactly the item sets that [CountCooccurrence] counts. The zero
// value is ready to use: every person counts 1 for each distinct item they
// interacted with.
//
// A person's weight for an item, x, combines their interactions with it:
// each counts its Weight (with Weighted; 1 otherwise) times its decay
// 2^(-age/HalfLife) (with HalfLife; 1 otherwise), and x is the sum of these
// with Weighted, their largest otherwise (so that by default, and with
// decay alone, x is at most 1); DampActivity then scales it down for
// persons with many items.
type CountOptions struct {
	// MaxItemsPerPerson caps the distinct items counted per person; a
	// person with more is represented by a uniform random sample of that
	// size. 0 means [DefaultMaxItemsPerPerson]; negative means no cap.
	MaxItemsPerPerson int
	// Seed makes the sampling reproducible: the sample depends only on the
	// seed, the person id and the person's distinct items, not on the order
	// of the interactions.
	Seed uint64
	// Weighted makes interactions count their [Interaction].Weight, summed
	// over a person's interactions with an item.
	Weighted bool
	// HalfLife, if positive, makes an interaction count half as much for
	// every HalfLife of age: its age is Now - At (interactions with a zero
	// At, or at or after Now, are not decayed).
	HalfLife time.Duration
	// Now is the time ages are measured from; the zero value means the
	// latest At among the interactions.
	Now time.Time
	// DampActivity makes a person with many items weigh less per item:
	// each of their weights is multiplied by n^(-1/4), n the number of
	// items counted for them (after the cap), so that their contribution
	// to each item and pair count (x², xa·xb) is divided by √n: a person
	// with 400 items counts 1/20 in each of their pairs, one with 4 items
	// 1/2, so that the few heavy users stop dominating the Gram matrix. On
	// MovieLens it makes EASE and item-item better (see examples/evaluate);
	// counts are then sums of weights ([Counts.Weighted]).
	DampActivity bool
}

func (o CountOptions) max() int {
	switch {
	case o.MaxItemsPerPerson == 0:
		return DefaultMaxItemsPerPerson
	case o.MaxItemsPerPerson < 0:
		return math.MaxInt
	}
	return o.MaxItemsPerPerson
}

// weighs reports whether a person's weight for an item can differ from 1,
// which makes counts sums of weights rather than numbers of persons.
func (o CountOptions) weighs() bool { return o.Weighted || o.HalfLife > 0 || o.DampActivity }

// sampleRNG returns the generator for one person's sample. It hashes the
// person id with FNV-1a (stable across processes, unlike maphash).
func sampleRNG(seed uint64, person string) *rand.Rand {
	h := uint64(14695981039346656037)
	for i := 0; i < len(person); i++ {
		h ^= uint64(person[i])
		h *= 1099511628211
	}
	return rand.New(rand.NewPCG(seed, h))
}

// weighted is one item of a person with the person's weight for it.
type weighted struct {
	item string
	x    float64
}

// boundItems sorts items by id, merges repeated items (combining their
// weights as o says) and, when more remain than the cap, keeps a seeded
// uniform sample of them, in place; it returns the kept prefix in sorted
// order.
func boundItems(person string, items []weighted, o CountOptions) []weighted {
	slices.SortFunc(items, func(a, b weighted) int { return cmp.Compare(a.item, b.item) })
	w := 0
	for i := range items {
		switch {
		case w > 0 && items[w-1].item == items[i].item && o.Weighted:
			items[w-1].x += items[i].x
		case w > 0 && items[w-1].item == items[i].item:
			items[w-1].x = max(items[w-1].x, items[i].x)
		default:
			items[w] = items[i]
			w++
		}
	}
	items = items[:w]
	m := o.max()
	if len(items) <= m {
		return items
	}
	r := sampleRNG(o.Seed, person)
	for i := 0; i < m; i++ { // partial Fisher-Yates
		j := i + r.IntN(len(items)-i)
		items[i], items[j] = items[j], items[i]
	}
	items = items[:m]
	slices.SortFunc(items, func(a, b weighted) int { return cmp.Compare(a.item, b.item) })
	return items
}

type grouped struct {
	persons []string
	start   []int // items of person p are flat[start[p]:start[p+1]]
	flat    []weighted
}

// weight returns the weight an interaction contributes under o (now is
// the reference time of decay), and false for one to skip.
func (o CountOptions) weight(x *Interaction, now time.Time) (float64, bool) {
	w := 1.0
	if o.Weighted && x.Weight != 0 {
		w = x.Weight
	}
	if !(w > 0) || math.IsInf(w, 0) {
		return 0, false
	}
	if o.HalfLife > 0 && !x.At.IsZero() && x.At.Before(now) {
		w *= math.Exp2(-float64(now.Sub(x.At)) / float64(o.HalfLife))
	}
	return w, true
}

// group collects each person's bounded distinct items with their weights.
// Interactions with an empty person or item id, or a weight to skip, are
// skipped.
func group(in []Interaction, o CountOptions) grouped {
	now := o.Now
	if o.HalfLife > 0 && now.IsZero() {
		for _, x := range in {
			if x.At.After(now) {
				now = x.At
			}
		}
	}
	idx := make(map[string]int32)
	var g grouped
	pid := make([]int32, len(in))
	wt := make([]float64, len(in))
	var n []int
	for i := range in {
		x := &in[i]
		w, ok := o.weight(x, now)
		if x.Person == "" || x.Item == "" || !ok {
			pid[i] = -1
			continue
		}
		wt[i] = w
		p, ok := idx[x.Person]
		if !ok {
			p = int32(len(g.persons))
			idx[x.Person] = p
			g.persons = append(g.persons, x.Person)
			n = append(n, 0)
		}
		pid[i] = p
		n[p]++
	}
	g.start = make([]int, len(g.persons)+1)
	for p, c := range n {
		g.start[p+1] = g.start[p] + c
	}
	flat := make([]weighted, g.start[len(g.persons)])
	fill := slices.Clone(g.start[:len(g.persons)])
	for i := range in {
		if p := pid[i]; p >= 0 {
			flat[fill[p]] = weighted{in[i].Item, wt[i]}
			fill[p]++
		}
	}
	// Bound each person and compact the flat array in place.
	w := 0
	for p := range g.persons {
		kept := boundItems(g.persons[p], flat[g.start[p]:g.start[p+1]], o)
		if o.DampActivity {
			f := math.Pow(float64(len(kept)), -0.25)
			for k := range kept {
				kept[k].x *= f
			}
		}
		s := w
		w += copy(flat[w:], kept)
		g.start[p] = s
	}
	g.start[len(g.persons)] = w
	g.flat = flat[:w:w]
	return g
}

// PersonItems yields, for each person in order of first appearance, the
// distinct items that person contributes under o: sorted by id and, for a
// person with more than the cap, a seeded uniform sample. It is the
// per-person contribution bounding that [CountCooccurrence] and
// [CountItems] apply, exported so that a differentially private counter
// can bound in exactly the same way. Interactions with an empty person or
// item id are skipped. The yielded slice is only valid until the next
// iteration. It yields the items without their weights: see
// [PersonWeights].
func PersonItems(in []Interaction, o CountOptions) iter.Seq2[string, []string] {
	return func(yield func(string, []string) bool) {
		g := group(in, o)
		var items []string
		for p, person := range g.persons {
			items = items[:0]
			for _, x := range g.flat[g.start[p]:g.start[p+1]] {
				items = append(items, x.item)
			}
			if !yield(person, items) {
				return
			}
		}
	}
}

// PersonWeights is [PersonItems] with each item's weight for the person
// (see [CountOptions]): the input of a weighted DP counter. The yielded
// slices are only valid until the next iteration.
func PersonWeights(in []Interaction, o CountOptions) iter.Seq2[string, ItemWeights] {
	return func(yield func(string, ItemWeights) bool) {
		g := group(in, o)
		var w ItemWeights
		for p, person := range g.persons {
			w.Items, w.Weights = w.Items[:0], w.Weights[:0]
			for _, x := range g.flat[g.start[p]:g.start[p+1]] {
				w.Items = append(w.Items, x.item)
				w.Weights = append(w.Weights, x.x)
			}
			if !yield(person, w) {
				return
			}
		}
	}
}

// ItemWeights are one person's distinct items, sorted by id, and their
// weights (positive and finite), as [PersonWeights] yields them.
type ItemWeights struct {
	Items   []string
	Weights []float64
}

// ItemCount is a count for one item: the number of persons who interacted
// with it, possibly noisy.
type ItemCount struct {
	Item  string
	Count float64
}

// CountItems returns, for every item, the number of distinct persons who
// interacted with it under the bounding of o (the sum of their weights for
// it, with weights or decay: see [CountOptions]), in decreasing order of
// count (ties by id). It is the exact counterpart of a DP per-item count
// and feeds [NewPopularity].
func CountItems(in []Interaction, o CountOptions) []ItemCount {
	g := group(in, o)
	m := make(map[string]float64)
	for _, it := range g.flat {
		m[it.item] += it.x
	}
	out := make([]ItemCount, 0, len(m))
	for it, c := range m {
		out = append(out, ItemCount{Item: it, Count: c})
	}
	slices.SortFunc(out, func(a, b ItemCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Item, b.Item)
	})
	return out
}

// Counts are the co-occurrence statistics the item models are built from:
// the item Gram matrix of the persons' (bounded, weighted) item vectors
// and the number of persons. The count of an item is Σ x² over persons,
// of a pair Σ xa·xb, x being a person's weight for an item (see
// [CountOptions]): with the default weights of 1, the numbers of persons
// per item and per pair. Counts come exact from [CountCooccurrence] or,
// for example noisy from a differentially private release, through
// [CountsFromRelease] or a [CountsBuilder]. They are weighted
// ([Counts.Weighted]) when they are sums of weights rather than numbers of
// persons. Counts is immutable and safe for simultaneous use by multiple
// goroutines.
type Counts struct {
	persons  float64
	weighted bool
	ids      []string
	index    map[string]int32
	items    []float64
	// Pairs (a, b) with a < b in index order, grouped by a: the partners
	// of a are pb[rowStart[a]:rowStart[a+1]], with counts pn.
	rowStart []int64
	pb       []int32
	pn       []float32
	// noise is the standard deviation of the noise of a pair count (0 for
	// exact counts), and snr the pair counts' signal-to-noise ratio (see
	// SignalToNoise), both set by CountsFromRelease.
	noise, snr float64
}

// Persons returns the number of persons the counts were taken over.
func (c *Counts) Persons() float64 { return c.persons }

// Weighted reports whether the counts are sums of weights rather than
// numbers of persons, which the lift similarity cannot use.
func (c *Counts) Weighted() bool { return c.weighted }

// Len returns the number of items with a count.
func (c *Counts) Len() int { return len(c.ids) }

// NumPairs returns the number of pairs with a count.
func (c *Counts) NumPairs() int { return len(c.pb) }

// Item returns the count of item id, 0 when it has none.
func (c *Counts) Item(id string) float64 {
	if i, ok := c.index[id]; ok {
		return c.items[i]
	}
	return 0
}

// Pair returns the count of the unordered pair {a, b}, 0 when it has none.
func (c *Counts) Pair(a, b string) float64 {
	i, ok1 := c.index[a]
	j, ok2 := c.index[b]
	if !ok1 || !ok2 || i == j {
		return 0
	}
	if i > j {
		i, j = j, i
	}
	for k := c.rowStart[i]; k < c.rowStart[i+1]; k++ {
		if c.pb[k] == j {
			return float64(c.pn[k])
		}
	}
	return 0
}

// Pairs iterates over the pairs with a count, each unordered pair once.
func (c *Counts) Pairs() iter.Seq2[[2]string, float64] {
	return func(yield func([2]string, float64) bool) {
		for a := range c.ids {
			for k := c.rowStart[a]; k < c.rowStart[a+1]; k++ {
				if !yield([2]string{c.ids[a], c.ids[c.pb[k]]}, float64(c.pn[k])) {
					return
				}
			}
		}
	}
}

// CountCooccurrence counts, exactly, the item Gram matrix over the
// persons' bounded, weighted item sets (see [PersonItems] and
// [CountOptions]): with default options the number of persons per item and
// per unordered pair of items. Interactions with an empty person or item
// id are skipped. The work is linear in the sum over persons of the
// squared number of items they contribute, which the cap bounds.
func CountCooccurrence(in []Interaction, o CountOptions) *Counts {
	g := group(in, o)
	c := &Counts{persons: float64(len(g.persons)), weighted: o.weighs(), index: make(map[string]int32)}
	// Item indexes in order of first appearance; per-person lists of
	// (index, weight), sorted by index.
	lists := make([]int32, len(g.flat))
	xs := make([]float64, len(g.flat))
	for k, it := range g.flat {
		i, ok := c.index[it.item]
		if !ok {
			i = int32(len(c.ids))
			c.index[it.item] = i
			c.ids = append(c.ids, it.item)
		}
		lists[k], xs[k] = i, it.x
	}
	g.flat = nil
	n := len(c.ids)
	c.items = make([]float64, n)
	var buf []indexWeight
	for p := range g.persons {
		l, x := lists[g.start[p]:g.start[p+1]], xs[g.start[p]:g.start[p+1]]
		buf = sortTogether(l, x, buf)
		for k, i := range l {
			c.items[i] += x[k] * x[k]
		}
	}
	// Inverted index: the persons of each item.
	invStart := make([]int, n+1)
	for _, i := range lists {
		invStart[i+1]++
	}
	for i := 0; i < n; i++ {
		invStart[i+1] += invStart[i]
	}
	inv := make([]int32, len(lists))
	fill := slices.Clone(invStart[:n])
	for p := range g.persons {
		for _, i := range lists[g.start[p]:g.start[p+1]] {
			inv[fill[i]] = int32(p)
			fill[i]++
		}
	}
	// partners calls f for every b > a co-occurring with a, once per person,
	// with the product of the person's weights for a and b.
	partners := func(a int32, f func(b int32, w float64)) {
		for _, p := range inv[invStart[a]:invStart[a+1]] {
			l, x := lists[g.start[p]:g.start[p+1]], xs[g.start[p]:g.start[p+1]]
			k, _ := slices.BinarySearch(l, a)
			xa := x[k]
			for m, b := range l[k+1:] {
				f(b, xa*x[k+1+m])
			}
		}
	}
	// Pass 1 sizes the rows exactly, pass 2 fills them: no slice growth.
	mark := make([]int32, n)
	for i := range mark {
		mark[i] = -1
	}
	c.rowStart = make([]int64, n+1)
	for a := int32(0); int(a) < n; a++ {
		var distinct int64
		partners(a, func(b int32, _ float64) {
			if mark[b] != a {
				mark[b] = a
				distinct++
			}
		})
		c.rowStart[a+1] = c.rowStart[a] + distinct
	}
	total := c.rowStart[n]
	c.pb = make([]int32, total)
	c.pn = make([]float32, total)
	acc := make([]float64, n)
	for i := range mark {
		mark[i] = -1
	}
	for a := int32(0); int(a) < n; a++ {
		w := c.rowStart[a]
		partners(a, func(b int32, x float64) {
			if mark[b] != a {
				mark[b] = a
				c.pb[w] = b
				w++
			}
			acc[b] += x
		})
		for k := c.rowStart[a]; k < w; k++ {
			b := c.pb[k]
			c.pn[k] = float32(acc[b])
			acc[b] = 0
		}
	}
	return c
}

type indexWeight struct {
	i int32
	x float64
}

// sortTogether sorts l and, alongside, x, using buf (returned, grown if
// needed) as scratch.
func sortTogether(l []int32, x []float64, buf []indexWeight) []indexWeight {
	buf = buf[:0]
	for k := range l {
		buf = append(buf, indexWeight{l[k], x[k]})
	}
	slices.SortFunc(buf, func(a, b indexWeight) int { return cmp.Compare(a.i, b.i) })
	for k, e := range buf {
		l[k], x[k] = e.i, e.x
	}
	return buf
}

// CountsBuilder assembles [Counts] from plain statistics, such as noisy
// counts released by a differentially private aggregation. Counts may be
// fractional or negative (noise); pairs may be missing (dropped by private
// partition selection). Add methods reject only NaN, infinities, empty ids
// and self-pairs, so nothing already added is lost. The zero value is ready
// to use. A CountsBuilder is not safe for simultaneous use.
type CountsBuilder struct {
	persons  float64
	weighted bool
	ids      []string
	index    map[string]int32
	items    []float64
	pairs    []builderPair
}

type builderPair struct {
	a, b int32
	n    float64
}

func (b *CountsBuilder) id(s string) int32 {
	if b.index == nil {
		b.index = make(map[string]int32)
	}
	i, ok := b.index[s]
	if !ok {
		i = int32(len(b.ids))
		b.index[s] = i
		b.ids = append(b.ids, s)
		b.items = append(b.items, 0)
	}
	return i
}

// SetWeighted marks the counts as sums of weights rather than numbers of
// persons (see [Counts.Weighted]).
func (b *CountsBuilder) SetWeighted(w bool) { b.weighted = w }

// SetPersons sets the number of persons the counts were taken over.
func (b *CountsBuilder) SetPersons(n float64) error {
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return &CountError{Item: "persons", Value: n}
	}
	b.persons = n
	return nil
}

// AddItem adds n to the count of item id.
func (b *CountsBuilder) AddItem(id string, n float64) error {
	if id == "" {
		return &ItemError{Index: -1, ID: id, Err: ErrEmptyID}
	}
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return &CountError{Item: id, Value: n}
	}
	b.items[b.id(id)] += n
	return nil
}

// AddPair adds n to the count of the unordered pair {a, b}. A pair of an
// item with itself is an [ErrInvalidCount].
func (b *CountsBuilder) AddPair(x, y string, n float64) error {
	if x == "" || y == "" {
		return &ItemError{Index: -1, Err: ErrEmptyID}
	}
	if x == y || math.IsNaN(n) || math.IsInf(n, 0) {
		return &CountError{Item: x, Other: y, Value: n}
	}
	i, j := b.id(x), b.id(y)
	if i > j {
		i, j = j, i
	}
	b.pairs = append(b.pairs, builderPair{i, j, n})
	return nil
}

// Build returns the counts added so far, summing repeated items and
// pairs, and leaves the builder empty. Counts keeps what was given, except
// that a sum beyond the range of its type (float64 for items, float32 for
// pairs) is clamped to it; noisy values are clamped where the counts are
// used (see [NewItemItem]).
func (b *CountsBuilder) Build() *Counts {
	c := &Counts{persons: b.persons, weighted: b.weighted, ids: b.ids, index: b.index, items: b.items}
	for i, v := range c.items { // sums of finite counts may overflow
		c.items[i] = max(min(v, math.MaxFloat64), -math.MaxFloat64)
	}
	if c.index == nil {
		c.index = map[string]int32{}
	}
	slices.SortFunc(b.pairs, func(x, y builderPair) int {
		if x.a != y.a {
			return cmp.Compare(x.a, y.a)
		}
		return cmp.Compare(x.b, y.b)
	})
	n := len(c.ids)
	c.rowStart = make([]int64, n+1)
	for k := 0; k < len(b.pairs); {
		p := b.pairs[k]
		sum := p.n
		k++
		for k < len(b.pairs) && b.pairs[k].a == p.a && b.pairs[k].b == p.b {
			sum += b.pairs[k].n
			k++
		}
		c.pb = append(c.pb, p.b)
		c.pn = append(c.pn, float32(max(min(sum, math.MaxFloat32), -math.MaxFloat32)))
		c.rowStart[p.a+1]++
	}
	for i := 0; i < n; i++ {
		c.rowStart[i+1] += c.rowStart[i]
	}
	*b = CountsBuilder{}
	return c
}
