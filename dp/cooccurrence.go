package dp

import (
	"log/slog"
	"math/rand/v2"
	"slices"
)

// CooccurrenceParams configure a [Cooccurrence]. Epsilon, MaxItems and
// MaxPairs are required; the rest have the defaults their docs give.
type CooccurrenceParams struct {
	// Epsilon and Delta are spent once at release, split as: 10% of ε for
	// the number of persons (Laplace), 30% for item counts, 60% for pair
	// counts; δ a third to items and two thirds to pairs (all to pairs
	// with a catalog and Laplace noise). A thresholded count with Gaussian
	// noise gives half of its δ to the noise, half to the threshold.
	// Epsilon must be positive; Delta in (0, 1).
	Epsilon, Delta float64

	// MaxItems is how many distinct items one person may contribute (a
	// uniformly random subset of the person's items is kept). At least 2.
	MaxItems int

	// MaxPairs is how many item pairs one person may contribute, sampled
	// uniformly from the pairs of the person's kept items. At least 1.
	// The noise is calibrated to min(MaxPairs, MaxItems·(MaxItems-1)/2).
	MaxPairs int

	// Noise is the noise of item and pair counts. Gaussian is usually much
	// better here, a person touching many pairs. The zero value is Laplace.
	Noise NoiseKind

	// Items, if not nil, is the public item catalog: every item in it gets a
	// noisy count, even zero, and events for other items are ignored. If
	// nil, item counts are thresholded like pairs.
	Items []string

	// MinPersons pre-thresholds pair (and private item) counts: counts
	// below it are dropped without drawing noise, and the threshold rises
	// by MinPersons-1 (Google's pre-thresholding, which keeps the
	// guarantee). Zero means automatic: a tenth of the threshold, which
	// skips the noise for the long tail of rare pairs at a cost of 10% in
	// threshold (1 with a test NoiseSource).
	MinPersons int

	// Label, Rand, NoiseSource and Logger are as in [Params].
	Label       string
	Rand        *rand.Rand
	NoiseSource NoiseSource
	Logger      *slog.Logger
}

// Cooccurrence counts, with differential privacy at the person level, how
// many persons have each item and each unordered pair of items in their
// history: the statistics an item-item recommender is trained on. Feed it
// person histories with Add and release once with Release, which returns
// plain data.
//
// Pairs are many and mostly rare, so they are always selected by
// thresholding: only pairs whose noisy count clears the noise floor are
// released. Cooccurrence is not safe for concurrent use; its partial state
// can be encoded and merged for sharding like an Aggregation's.
type Cooccurrence struct {
	p        CooccurrenceParams
	pairs    int // enforced pairs bound
	salt     uint64
	rng      *rand.Rand
	b        *bounder[int64]
	keys     []string
	index    map[string]int32
	released bool
	rejected int64
}

// NewCooccurrence validates p once and returns an empty Cooccurrence.
func NewCooccurrence(p CooccurrenceParams) (*Cooccurrence, error) {
	if err := checkEpsilon("Epsilon", p.Epsilon); err != nil {
		return nil, err
	}
	if err := checkDelta("Delta", p.Delta); err != nil {
		return nil, err
	}
	if p.Delta == 0 {
		return nil, paramErr("Delta", p.Delta, "pair selection by thresholding needs delta > 0")
	}
	if p.MaxItems < 2 || p.MaxItems > MaxL0 {
		return nil, paramErr("MaxItems", p.MaxItems, "must be between 2 and "+itoa(MaxL0))
	}
	if p.MaxPairs < 1 {
		return nil, paramErr("MaxPairs", p.MaxPairs, "must be at least 1")
	}
	if p.Noise != Laplace && p.Noise != Gaussian {
		return nil, paramErr("Noise", p.Noise, "must be Laplace or Gaussian")
	}
	if p.MinPersons < 0 {
		return nil, paramErr("MinPersons", p.MinPersons, "must not be negative")
	}
	c := &Cooccurrence{p: p, index: make(map[string]int32)}
	c.pairs = min(p.MaxPairs, p.MaxItems*(p.MaxItems-1)/2)
	c.rng = p.Rand
	if c.rng == nil {
		c.rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	c.salt = c.rng.Uint64()
	c.b = newBounder[int64](p.MaxItems, 1, false, c.salt, c.rng)
	if p.Items != nil {
		c.p.Items = dedupe(p.Items)
		for _, it := range c.p.Items {
			c.item(it)
		}
	}
	return c, nil
}

func (c *Cooccurrence) item(it string) int32 {
	pid := c.b.addPartition(hashString(c.salt^hashK2, it))
	c.index[it] = pid
	c.keys = append(c.keys, it)
	return pid
}

// Add records that item is in person's history, and reports whether it was
// accepted. Repeats of an item count once. An empty person id is rejected
// (counted in Rejected); with a catalog, other items are ignored; after
// Release, Add does nothing.
func (c *Cooccurrence) Add(person, item string) bool {
	if c.released {
		return false
	}
	if person == "" {
		c.rejected++
		return false
	}
	pid, ok := c.index[item]
	if !ok {
		if c.p.Items != nil {
			return false
		}
		pid = c.item(item)
	}
	c.b.add(c.b.pseudonym(person), pid, 0)
	return true
}

// Rejected returns how many events Add rejected (exact, not private).
func (c *Cooccurrence) Rejected() int64 { return c.rejected }

// ItemCount is a released item count: the noisy number of persons with the
// item.
type ItemCount struct {
	Item  string
	Count int64
}

// PairCount is a released pair count: the noisy number of persons with
// both items. A < B.
type PairCount struct {
	A, B  string
	Count int64
}

// Cooccurrences is the plain result of a [Cooccurrence] release.
type Cooccurrences struct {
	Items   []ItemCount // sorted by item
	Pairs   []PairCount // sorted by A, then B
	Persons int64       // noisy number of persons with at least one item

	// ItemThreshold and PairThreshold are the noisy counts an item or a
	// pair needed to be released (ItemThreshold is 0 with a catalog).
	ItemThreshold, PairThreshold int64

	Epsilon, Delta float64 // spent
	Private        bool    // false when built with a test NoiseSource
}

// Release spends (Epsilon, Delta) from budget once and returns the counts.
// If the budget refuses it returns the *[BudgetError] and stays
// unreleased; a second release returns [ErrReleased].
func (c *Cooccurrence) Release(budget *Budget) (*Cooccurrences, error) {
	if c.released {
		return nil, ErrReleased
	}
	p := &c.p
	label := p.Label
	if label == "" {
		label = "dp co-occurrence"
	}
	if err := budget.Spend(label, p.Epsilon, p.Delta); err != nil {
		return nil, err
	}
	c.released = true
	eps := splitDown(p.Epsilon, 0.1, 0.3, 0.6)
	// δ shares: [persons, items, pairs].
	del := splitDown(p.Delta, 0, 1, 2)
	switch {
	case p.Items != nil && p.Noise == Gaussian:
		del = splitDown(p.Delta, 0, 1, 3) // item noise needs no threshold
	case p.Items != nil:
		del = []float64{0, 0, p.Delta}
	}
	src := p.NoiseSource
	out := &Cooccurrences{Epsilon: p.Epsilon, Delta: p.Delta, Private: src == nil}

	// Persons: Laplace count, sensitivity 1.
	persons := newMech(Laplace, eps[0], 0, 1, 1, 1)
	n, err := persons.addInt64(src, int64(c.b.npeople))
	if err != nil {
		return nil, err
	}
	out.Persons = n

	// Items.
	counts := c.b.personsPerPartition()
	l0 := int64(p.MaxItems)
	if p.Items != nil {
		m := newMech(p.Noise, eps[1], del[1], l0, 1, 1)
		for pid, it := range c.keys {
			x, err := m.addInt64(src, counts[pid])
			if err != nil {
				return nil, err
			}
			out.Items = append(out.Items, ItemCount{Item: it, Count: x})
		}
	} else {
		th, err := c.thresholder(eps[1], del[1], l0)
		if err != nil {
			return nil, err
		}
		out.ItemThreshold = th.threshold()
		for pid, it := range c.keys {
			x, keep, err := th.release(counts[pid])
			if err != nil {
				return nil, err
			}
			if keep {
				out.Items = append(out.Items, ItemCount{Item: it, Count: x})
			}
		}
	}
	slices.SortFunc(out.Items, func(a, b ItemCount) int { return cmpString(a.Item, b.Item) })

	// Pairs.
	th, err := c.thresholder(eps[2], del[2], int64(c.pairs))
	if err != nil {
		return nil, err
	}
	out.PairThreshold = th.threshold()
	keys := c.pairKeys(th.pre)
	for i := 0; i < len(keys); {
		j := i + 1
		for j < len(keys) && keys[j] == keys[i] {
			j++
		}
		if int64(j-i) >= th.pre {
			x, keep, err := th.release(int64(j - i))
			if err != nil {
				return nil, err
			}
			if keep {
				a, b := c.keys[keys[i]/uint64(len(c.keys))], c.keys[keys[i]%uint64(len(c.keys))]
				if b < a {
					a, b = b, a
				}
				out.Pairs = append(out.Pairs, PairCount{A: a, B: b, Count: x})
			}
		}
		i = j
	}
	slices.SortFunc(out.Pairs, func(x, y PairCount) int {
		if c := cmpString(x.A, y.A); c != 0 {
			return c
		}
		return cmpString(x.B, y.B)
	})
	logRelease(p.Logger, "cooccurrence", label, out.Epsilon, out.Delta, len(out.Items)+len(out.Pairs), out.Private)
	return out, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// thresholder builds the thresholder of items or pairs, resolving the
// automatic pre-threshold.
func (c *Cooccurrence) thresholder(eps, delta float64, l0 int64) (*thresholder, error) {
	pre := int64(c.p.MinPersons)
	if pre == 0 && c.p.NoiseSource != nil {
		pre = 1 // test sources decide selection themselves
	}
	if pre == 0 {
		th, err := newThresholder(c.p.NoiseSource, c.p.Noise, eps, delta, l0, 1)
		if err != nil {
			return nil, err
		}
		pre = max(1, th.threshold()/10)
	}
	return newThresholder(c.p.NoiseSource, c.p.Noise, eps, delta, l0, pre)
}

// pairKeys returns the sorted pair keys (a·n+b for item ids a < b, n the
// number of items) of every
// person's sampled pairs; a key repeats once per person. Pairs of items
// held by fewer than pre persons can never be released, so they are not
// formed.
func (c *Cooccurrence) pairKeys(pre int64) []uint64 {
	b := c.b
	counts := b.personsPerPartition()
	size := 0
	for i := range b.people {
		m := int(b.people[i].used)
		size += min(m*(m-1)/2, c.pairs)
	}
	keys := make([]uint64, 0, size)
	var items []int32
	var picks []int
	var taken []bool
	n := uint64(len(c.keys))
	for i := range b.people {
		p := &b.people[i]
		items = items[:0]
		for j := 0; j < int(p.used); j++ {
			items = append(items, b.at(p, j).pid)
		}
		m := len(items)
		if m < 2 {
			continue
		}
		slices.Sort(items)
		total := m * (m - 1) / 2
		if total <= c.pairs {
			for x := 0; x < m; x++ {
				for y := x + 1; y < m; y++ {
					if counts[items[x]] >= pre && counts[items[y]] >= pre {
						keys = append(keys, uint64(items[x])*n+uint64(items[y]))
					}
				}
			}
			continue
		}
		// Uniform sample of c.pairs of the total pairs (Floyd's algorithm).
		if len(taken) < total {
			taken = make([]bool, total)
		}
		picks = picks[:0]
		for j := total - c.pairs; j < total; j++ {
			t := c.rng.IntN(j + 1)
			if taken[t] {
				t = j
			}
			taken[t] = true
			picks = append(picks, t)
		}
		for _, t := range picks {
			taken[t] = false
			x, y := pairAt(t, m)
			if counts[items[x]] >= pre && counts[items[y]] >= pre {
				keys = append(keys, uint64(items[x])*n+uint64(items[y]))
			}
		}
	}
	return radixSort(keys, n*n)
}

// radixSort sorts keys (all below limit) with an LSD radix sort, 11 bits a
// pass: linear time for the millions of pair keys of a large release.
func radixSort(keys []uint64, limit uint64) []uint64 {
	const bitsPerPass = 11
	buf := make([]uint64, len(keys))
	var count [1 << bitsPerPass]int
	for shift := uint(0); shift < 64 && limit>>shift > 0; shift += bitsPerPass {
		clear(count[:])
		for _, k := range keys {
			count[(k>>shift)&(1<<bitsPerPass-1)]++
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, k := range keys {
			d := (k >> shift) & (1<<bitsPerPass - 1)
			buf[count[d]] = k
			count[d]++
		}
		keys, buf = buf, keys
	}
	return keys
}

// pairAt returns the t-th pair (x < y) of m items in lexicographic order.
func pairAt(t, m int) (int, int) {
	// Row x holds m-1-x pairs.
	x := 0
	for row := m - 1; t >= row; row-- {
		t -= row
		x++
	}
	return x, x + 1 + t
}
