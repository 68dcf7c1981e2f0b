package dp

import (
	"cmp"
	"context"
	"iter"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/tact-go/tact/dp/internal/gdp"
)

// CooccurrenceParams configure a [Cooccurrence]. Epsilon, MaxItems and
// MaxPairs are required; the rest have the defaults their docs give.
type CooccurrenceParams struct {
	// Epsilon and Delta are spent once at release. By default ε goes 10%
	// to the number of persons (Laplace), 30% to item counts and 60% to
	// pair counts (or as Split says), and δ a third to items and two
	// thirds to pairs (all to pairs with a catalog and Laplace noise; a
	// quarter to items and three quarters to pairs with a catalog and
	// Gaussian noise). A thresholded count with Gaussian noise gives half
	// of its δ to the noise, half to the threshold.
	//
	// With PairItems nothing is thresholded. Laplace noise then spends no
	// δ at all (Delta may be 0, and the release spends and reports δ = 0).
	// Gaussian noise on item and pair counts composes exactly (Gaussian
	// differential privacy), and adding their shares of ε and δ is a
	// loose bound on it: the release divides both noises by the same
	// factor, as far as composing them exactly to their shares of ε and
	// all of δ allows. At ε = 8 and δ = 10⁻⁵ with the default Split that
	// is 21% less noise, at ε = 1 24% less. ItemNoise and PairNoise then
	// report their shares of ε and the δ at which each noise alone is
	// calibrated: with the persons' Laplace noise they compose to the
	// release's (ε, δ), though their δ sum to more than δ. Where float64
	// cannot compute this reliably (ε below about 10⁻⁶ with a very small
	// δ), the shares are added.
	//
	// Epsilon must be at least 2⁻⁵⁰ and at most [MaxEpsilon] (100); Delta
	// in [0, 1), positive unless PairItems is set and Noise is Laplace.
	Epsilon, Delta float64

	// Split, if not zero, divides Epsilon between the number of persons,
	// the item counts and the pair counts, in this order, in proportion to
	// its three weights, each positive and finite: {1, 3, 6} is the
	// default. A model that does not use the number of persons (cosine or
	// Jaccard similarity) can give it a small share, e.g. {0.01, 0.3,
	// 0.69}.
	Split [3]float64

	// MaxItems is how many distinct items one person may contribute (a
	// uniformly random subset of the person's items is kept). At least 2.
	// The noise of item counts is calibrated to it, unless Weighted.
	MaxItems int

	// MaxPairs is how many item pairs one person may contribute, sampled
	// uniformly from the pairs of the person's kept items (of the kept
	// items that are candidates, with PairItems). At least 1. The noise is
	// calibrated to min(MaxPairs, MaxItems·(MaxItems-1)/2), unless
	// Weighted.
	MaxPairs int

	// Noise is the noise of item and pair counts. Gaussian is usually much
	// better here, a person touching many pairs. The zero value is Laplace.
	Noise NoiseKind

	// Items, if not nil, is the public item catalog: every item in it gets a
	// noisy count, even zero, and events for other items are ignored. If
	// nil, item counts are thresholded like pairs.
	Items []string

	// PairItems, if positive, releases pairs as public partitions instead
	// of selecting them by thresholding, which on small data sets keeps
	// almost nothing. It needs the catalog Items. The release first counts
	// every catalog item with noise, then takes the PairItems items with
	// the largest noisy counts (all of them if the catalog is smaller; ties
	// by id) as candidates, and releases every pair of candidates with a
	// noisy count, even zero; pairs with other items are ignored. The
	// candidates are a function of released counts only, so choosing them
	// costs no privacy. The release draws noise for every candidate pair:
	// PairItems·(PairItems-1)/2 of them, at most [MaxPairItems] items.
	PairItems int

	// Weighted replaces the person-level bounds by weights, after McSherry
	// and Mironov: every person's vector of item counts and of pair counts
	// is scaled to norm 1 (L2 for Gaussian, L1 for Laplace noise), and the
	// noise is calibrated to that norm instead of MaxItems and MaxPairs,
	// which then only bound the work per person. With items of equal
	// weight (Add), each kept item of a person with m kept items counts
	// 1/√m (1/m with Laplace noise), and each counted pair of a person with
	// n counted pairs counts 1/√n (1/n). With weights x (a rating, a
	// quantity, a time decay: [Cooccurrence.AddWeighted]) the counts are
	// the persons' item Gram matrices, each normalized: a kept item a
	// counts x_a²/‖(x_b²)‖ over the person's kept items b, and a counted
	// pair {a, b} counts x_a·x_b/‖(x_c·x_d)‖ over the person's counted
	// pairs {c, d}, the norm being the noise's. A person with many items
	// thus weighs less in each of their pairs than one with few, and the
	// counts are sums of weights ([ItemCount].Count, [PairCount].Count),
	// not numbers of persons. Weighted needs PairItems: a threshold would
	// have to exceed the weight of a whole person, which drops nearly every
	// pair.
	Weighted bool

	// MinPersons pre-thresholds pair (and private item) counts: counts
	// below it are dropped without drawing noise, and the threshold rises
	// by MinPersons-1 (Google's pre-thresholding, which keeps the
	// guarantee). Zero means automatic: a tenth of the threshold, which
	// skips the noise for the long tail of rare pairs at a cost of 10% in
	// threshold (1 with a test NoiseSource). Not used by public pairs
	// (PairItems), which have no threshold.
	MinPersons int

	// Label, Rand, NoiseSource, Logger and ExpectedPersons (a capacity
	// hint) are as in [Params].
	Label           string
	Rand            *rand.Rand
	NoiseSource     NoiseSource
	Logger          *slog.Logger
	ExpectedPersons int
}

// Cooccurrence counts, with differential privacy at the person level, how
// many persons have each item and each unordered pair of items in their
// history: the statistics an item-item recommender is trained on. Feed it
// person histories with Add (or, with [CooccurrenceParams].Weighted, items
// of different weights with AddWeighted) and release once with Release,
// which returns plain data.
//
// Pairs are many and mostly rare, so by default they are selected by
// thresholding: only pairs whose noisy count clears the noise floor are
// released. With [CooccurrenceParams].PairItems they are public partitions
// among the most counted catalog items instead, released without
// threshold. Cooccurrence is not safe for concurrent use; its partial state
// can be encoded and merged for sharding like an Aggregation's, and its
// zero value is only a target for UnmarshalBinary.
type Cooccurrence struct {
	p        CooccurrenceParams
	pairs    int // enforced pairs bound
	salt     uint64
	rng      *rand.Rand
	b        *bounder[float64] // slot values: item weights, with Weighted
	plan     coocPlan
	keys     []string
	index    map[string]int32
	released bool
	rejected int64
	taken    []bool // pair sampling scratch
	picks    []int
}

// NewCooccurrence validates p once and returns an empty Cooccurrence.
func NewCooccurrence(p CooccurrenceParams) (*Cooccurrence, error) {
	if err := checkReleaseEpsilon(p.Epsilon); err != nil {
		return nil, err
	}
	if err := checkDelta("Delta", p.Delta); err != nil {
		return nil, err
	}
	if p.PairItems < 0 || p.PairItems > MaxPairItems {
		return nil, paramErr("PairItems", p.PairItems, "must be between 0 and "+itoa(MaxPairItems))
	}
	if p.PairItems > 0 && p.Items == nil {
		return nil, paramErr("PairItems", p.PairItems, "public pairs need the public catalog Items")
	}
	if p.Weighted && p.PairItems == 0 {
		return nil, paramErr("Weighted", p.Weighted, "weighted counts need public pairs (PairItems > 0)")
	}
	switch {
	case p.Delta == 0 && p.PairItems == 0:
		return nil, paramErr("Delta", p.Delta, "pair selection by thresholding needs delta > 0")
	case p.Delta == 0 && p.Noise == Gaussian:
		return nil, paramErr("Delta", p.Delta, "Gaussian noise needs delta > 0")
	}
	if p.Split != [3]float64{} {
		for _, w := range p.Split {
			if !(w > 0) || math.IsInf(w, 0) {
				return nil, paramErr("Split", p.Split, "weights must be positive and finite")
			}
		}
		// Every share must still be a valid ε for the secure noise.
		sum := p.Split[0] + p.Split[1] + p.Split[2]
		for _, w := range p.Split {
			if err := checkEpsilon("Split", p.Epsilon*(w/sum)); err != nil {
				return nil, paramErr("Split", p.Split, "a share of Epsilon is too small for the secure noise")
			}
		}
	}
	if p.MaxItems < 2 || p.MaxItems > MaxL0 {
		return nil, paramErr("MaxItems", p.MaxItems, "must be between 2 and "+itoa(MaxL0))
	}
	if err := checkExpectedPersons(p.ExpectedPersons); err != nil {
		return nil, err
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
	if err := c.makePlan(); err != nil {
		return nil, err
	}
	c.rng = randomness(p.Rand)
	c.salt = c.rng.Uint64()
	c.b = newBounder[float64](p.MaxItems, 1, false, c.salt, c.rng, p.ExpectedPersons)
	c.b.weights = p.Weighted
	if p.Items != nil {
		c.p.Items = dedupe(p.Items)
		for _, it := range c.p.Items {
			c.item(it)
		}
	}
	return c, nil
}

// coocPlan is how a release divides its (ε, δ) among the number of persons,
// the item counts and the pair counts, fixed and checked at construction.
type coocPlan struct {
	delta    float64      // δ spent
	eps, del [3]float64   // shares: persons, items, pairs
	itemTh   *thresholder // items selected by thresholding (no catalog)
	pairTh   *thresholder // pairs selected by thresholding (no PairItems)
}

func (c *Cooccurrence) makePlan() error {
	p := &c.p
	pl := &c.plan
	pl.delta = p.Delta
	if p.PairItems > 0 && p.Noise == Laplace {
		pl.delta = 0
	}
	split := p.Split
	if split == [3]float64{} {
		split = [3]float64{0.1, 0.3, 0.6}
	}
	pl.eps = [3]float64(splitDown(p.Epsilon, split[:]...))
	switch {
	case p.Items != nil && p.Noise == Gaussian:
		pl.del = [3]float64(splitDown(pl.delta, 0, 1, 3)) // item noise needs no threshold
	case p.Items != nil:
		pl.del = [3]float64{0, 0, pl.delta}
	default:
		pl.del = [3]float64(splitDown(pl.delta, 0, 1, 2))
	}
	// Refuse here what Google's library would refuse at release, after the
	// budget is spent, or where its results would not be finite: the very
	// mechanisms Release uses.
	if err := c.personsMech().check(); err != nil {
		return err
	}
	var err error
	if p.Items == nil {
		pl.itemTh, err = c.thresholder(pl.eps[1], pl.del[1], int64(p.MaxItems))
	} else {
		err = c.itemMech().check()
	}
	if err != nil {
		return err
	}
	if p.PairItems == 0 {
		pl.pairTh, err = c.thresholder(pl.eps[2], pl.del[2], int64(c.pairs))
	} else {
		err = c.pairMech().check()
	}
	if err == nil && p.PairItems > 0 && p.Noise == Gaussian {
		c.planJoint()
	}
	return err
}

// planJoint lowers the noise of the item and pair counts when both are
// Gaussian (public pairs): their additive plan, with both σ divided by the
// same factor, so that the two compose exactly to their shares of ε and
// all of δ (gdp.Scale). Smaller σ and larger δ pass every check that the
// additive plan passed. Where gdp.Scale declines, the additive plan stays.
func (c *Cooccurrence) planJoint() {
	pl := &c.plan
	im, pm := c.itemMech(), c.pairMech()
	parts := []gdp.Part{
		{Epsilon: im.Epsilon, Delta: im.Delta, L0: im.L0, LInf: im.LInf},
		{Epsilon: pm.Epsilon, Delta: pm.Delta, L0: pm.L0, LInf: pm.LInf},
	}
	if dels, ok := gdp.Scale(pl.eps[1]+pl.eps[2], pl.delta, parts); ok {
		pl.del[1], pl.del[2] = dels[0], dels[1]
	}
}

// personsMech is the noise of the number of persons: Laplace, sensitivity 1.
func (c *Cooccurrence) personsMech() mech { return newMech(Laplace, c.plan.eps[0], 0, 1, 1, 1) }

// itemMech is the noise of catalog item counts: a person has at most
// MaxItems items, or weights of norm 1 (Weighted).
func (c *Cooccurrence) itemMech() mech {
	l0 := int64(c.p.MaxItems)
	if c.p.Weighted {
		l0 = 1
	}
	return newMech(c.p.Noise, c.plan.eps[1], c.plan.del[1], l0, 1, 1)
}

// pairMech is the noise of public pair counts (PairItems): a person has at
// most pairs pairs, or weights of norm 1 (Weighted).
func (c *Cooccurrence) pairMech() mech {
	l0 := int64(c.pairs)
	if c.p.Weighted {
		l0 = 1
	}
	return newMech(c.p.Noise, c.plan.eps[2], c.plan.del[2], l0, 1, 1)
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
// Release, Add does nothing. With Weighted, Add is AddWeighted with weight
// 1.
func (c *Cooccurrence) Add(person, item string) bool {
	if c.released || c.b == nil {
		return false
	}
	return c.add(person, item, 1)
}

// AddWeighted records that item is in person's history with weight w (a
// rating, a quantity, a time decay), and reports whether it was accepted.
// It needs [CooccurrenceParams].Weighted, which says how weights count:
// without it the counts are numbers of persons, and AddWeighted rejects
// every event. An item added several times weighs the largest of its
// weights, so that Add (weight 1) counts repeats once and a redelivered
// event changes nothing: to count totals, sum a person's weights per item
// first (recommend.PersonWeights yields them so). A weight that is NaN,
// infinite, zero or negative is rejected, as is an empty person id (both
// counted in Rejected); with a catalog, other items are ignored; after
// Release, AddWeighted does nothing.
//
// Weights decide how much a kept item counts, never which items or pairs
// are kept: MaxItems keeps a uniform sample of a person's distinct items
// (by keyed hash, whatever the weights and their order) and MaxPairs a
// uniform sample of the pairs of those, exactly as without weights, and
// the weights then follow the sample. Each person's item and pair vectors
// are scaled to norm 1 whatever the weights, so the noise calibration
// holds unchanged: weights move a person's contribution within the unit
// ball, never out of it.
func (c *Cooccurrence) AddWeighted(person, item string, w float64) bool {
	if c.released || c.b == nil {
		return false
	}
	if !c.p.Weighted || !(w > 0) || math.IsInf(w, 0) {
		c.rejected++
		return false
	}
	return c.add(person, item, w)
}

func (c *Cooccurrence) add(person, item string, w float64) bool {
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
	c.b.add(person, pid, w)
	return true
}

// Rejected returns how many events Add and AddWeighted rejected (exact,
// not private).
func (c *Cooccurrence) Rejected() int64 { return c.rejected }

// ItemCount is a released item count: the noisy number of persons with the
// item (a whole number), or with Weighted the noisy sum of their
// contributions (see [CooccurrenceParams].Weighted).
// It may be negative: noise is not clamped, so that sums of counts stay
// unbiased.
type ItemCount struct {
	Item  string  `json:"item"`
	Count float64 `json:"count"`
}

// ItemCounts yields every released item count, sorted by item. It and
// [Cooccurrences.PairCounts], [Cooccurrences.PersonCount],
// [Cooccurrences.CountNoise] and [Cooccurrences.SumsOfWeights] are what
// package recommend reads to train its models from a release
// (recommend.CountsFromRelease): recommend declares the interface, and
// imports neither dp nor Google's library.
func (c *Cooccurrences) ItemCounts() iter.Seq2[string, float64] {
	return func(yield func(string, float64) bool) {
		for _, it := range c.Items {
			if !yield(it.Item, it.Count) {
				return
			}
		}
	}
}

// PairCounts yields every released pair count, sorted by A then B.
func (c *Cooccurrences) PairCounts() iter.Seq2[[2]string, float64] {
	return func(yield func([2]string, float64) bool) {
		for _, p := range c.Pairs {
			if !yield([2]string{p.A, p.B}, p.Count) {
				return
			}
		}
	}
}

// PersonCount returns the released number of persons.
func (c *Cooccurrences) PersonCount() float64 { return float64(c.Persons) }

// CountNoise returns the standard deviations of the noise of an item count
// and of a pair count, in the units of the counts.
func (c *Cooccurrences) CountNoise() (item, pair float64) {
	return c.ItemNoise.StdDev(), c.PairNoise.StdDev()
}

// SumsOfWeights reports whether the counts are sums of weights (Weighted)
// rather than numbers of persons.
func (c *Cooccurrences) SumsOfWeights() bool { return c.Weighted }

// PairCount is a released pair count: the noisy number of persons with
// both items, or with Weighted the noisy sum of their contributions. A < B.
type PairCount struct {
	A     string  `json:"a"`
	B     string  `json:"b"`
	Count float64 `json:"count"` // as in [ItemCount]
}

// Cooccurrences is the plain result of a [Cooccurrence] release. Its
// String says plainly when it is not private.
type Cooccurrences struct {
	Items   []ItemCount // sorted by item
	Pairs   []PairCount // sorted by A, then B
	Persons int64       // noisy number of persons with at least one item, at least 0

	// ItemThreshold and PairThreshold are the noisy counts an item or a
	// pair needed to be released (ItemThreshold is 0 with a catalog,
	// PairThreshold 0 with PairItems).
	ItemThreshold, PairThreshold int64

	// PersonNoise, ItemNoise and PairNoise describe the noise added to the
	// number of persons and to each item and pair count: its kind, its
	// share of (ε, δ) and the sensitivity it is calibrated to. Their StdDev
	// is the typical error of a count, in the units of Count. With public
	// pairs and Gaussian noise, the δ of ItemNoise and PairNoise each
	// describe their noise alone; together the two compose to their
	// shares of ε and all of δ (see [CooccurrenceParams].Epsilon).
	PersonNoise, ItemNoise, PairNoise Mechanism

	Weighted       bool    // counts are sums of weights (see CooccurrenceParams.Weighted)
	Epsilon, Delta float64 // spent
	Private        bool    // false when built with a test NoiseSource
	Label          string  // the release's label, as recorded in the budget's ledger
}

// String summarizes the release in one line, saying plainly when it is not
// private.
func (c *Cooccurrences) String() string {
	what := "counts"
	if c.Weighted {
		what = "weighted counts"
	}
	what += " of " + itoa(int64(len(c.Items))) + " items and " + itoa(int64(len(c.Pairs))) + " pairs"
	public := c.ItemThreshold == 0 && c.PairThreshold == 0
	return summary(c.Label, what, len(c.Items)+len(c.Pairs), public, c.Epsilon, c.Delta, c.Private)
}

// MaxPairItems is the largest [CooccurrenceParams].PairItems: the release
// then draws noise for about two million pairs.
const MaxPairItems = 2048

// Release spends (Epsilon, Delta) from budget once and returns the counts
// (δ = 0 with PairItems and Laplace noise, which need none). If the budget
// refuses it returns the *[BudgetError] and stays unreleased; a second
// release returns [ErrReleased].
func (c *Cooccurrence) Release(ctx context.Context, budget *Budget) (*Cooccurrences, error) {
	if c.released {
		return nil, ErrReleased
	}
	if c.b == nil {
		return nil, errZero("Cooccurrence")
	}
	p, pl := &c.p, &c.plan
	label := p.Label
	if label == "" {
		label = "dp co-occurrence"
	}
	if err := budget.Spend(ctx, label, p.Epsilon, pl.delta); err != nil {
		return nil, err
	}
	c.released = true
	src := p.NoiseSource
	out := &Cooccurrences{Epsilon: p.Epsilon, Delta: pl.delta, Private: src == nil, Weighted: p.Weighted, Label: label}

	c.b.flush()
	pm := c.personsMech()
	out.PersonNoise = pm.Mechanism
	n, err := pm.addInt64(src, int64(c.b.npeople))
	if err != nil {
		return nil, err
	}
	out.Persons = max(n, 0) // a number of people; clamping is post-processing

	if err := c.releaseItems(out); err != nil {
		return nil, err
	}
	if p.PairItems > 0 {
		err = c.releasePublicPairs(out)
	} else {
		err = c.releasePairs(out)
	}
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out.Items, func(a, b ItemCount) int { return cmpString(a.Item, b.Item) })
	slices.SortFunc(out.Pairs, func(x, y PairCount) int {
		if c := cmpString(x.A, y.A); c != 0 {
			return c
		}
		return cmpString(x.B, y.B)
	})
	logRelease(p.Logger, "cooccurrence", label, out.Epsilon, out.Delta, len(out.Items)+len(out.Pairs), out.Private)
	return out, nil
}

// releaseItems releases the item counts into out.Items, unsorted.
func (c *Cooccurrence) releaseItems(out *Cooccurrences) error {
	p := &c.p
	src := p.NoiseSource
	counts := c.b.personsPerPartition()
	switch {
	case p.Weighted:
		// Public catalog (Weighted needs PairItems, which needs Items).
		m := c.itemMech()
		out.ItemNoise = m.Mechanism
		sums := c.itemWeights()
		for pid, it := range c.keys {
			x, err := m.addFloat64(src, sums[pid])
			if err != nil {
				return err
			}
			out.Items = append(out.Items, ItemCount{Item: it, Count: x})
		}
	case p.Items != nil:
		m := c.itemMech()
		out.ItemNoise = m.Mechanism
		for pid, it := range c.keys {
			x, err := m.addInt64(src, counts[pid])
			if err != nil {
				return err
			}
			out.Items = append(out.Items, ItemCount{Item: it, Count: float64(x)})
		}
	default:
		th := c.plan.itemTh
		out.ItemNoise = th.m.Mechanism
		out.ItemThreshold = th.threshold()
		for pid, it := range c.keys {
			x, keep, err := th.release(counts[pid])
			if err != nil {
				return err
			}
			if keep {
				out.Items = append(out.Items, ItemCount{Item: it, Count: float64(x)})
			}
		}
	}
	return nil
}

// releasePairs releases the pairs selected by thresholding into out.Pairs,
// unsorted.
func (c *Cooccurrence) releasePairs(out *Cooccurrences) error {
	th := c.plan.pairTh
	out.PairNoise = th.m.Mechanism
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
				return err
			}
			if keep {
				a, b := c.keys[keys[i]/uint64(len(c.keys))], c.keys[keys[i]%uint64(len(c.keys))]
				if b < a {
					a, b = b, a
				}
				out.Pairs = append(out.Pairs, PairCount{A: a, B: b, Count: float64(x)})
			}
		}
		i = j
	}
	return nil
}

// releasePublicPairs releases every pair among the PairItems catalog items
// with the largest released counts (out.Items) into out.Pairs, unsorted.
func (c *Cooccurrence) releasePublicPairs(out *Cooccurrences) error {
	p := &c.p
	src := p.NoiseSource
	// Candidates: post-processing of the released item counts.
	cands := slices.Clone(out.Items)
	slices.SortFunc(cands, func(a, b ItemCount) int {
		if a.Count != b.Count {
			if a.Count > b.Count {
				return -1
			}
			return 1
		}
		return cmpString(a.Item, b.Item)
	})
	k := min(p.PairItems, len(cands))
	cand := make([]int32, len(c.keys)) // pid → candidate index, or -1
	for i := range cand {
		cand[i] = -1
	}
	ids := make([]string, k)
	for i, ic := range cands[:k] {
		cand[c.index[ic.Item]] = int32(i)
		ids[i] = ic.Item
	}
	// Sums over persons, in a triangular array: pair (x < y) of candidates
	// is at tri(x, y).
	tri := func(x, y int) int { return y*(y-1)/2 + x }
	sums := make([]float64, k*(k-1)/2)
	var items []candidate
	var at []int     // one person's counted pairs, as indexes in sums,
	var ys []float64 // and their contributions
	c.eachPerson(func(kept []int32, xs []float64) {
		items = items[:0]
		for i, pid := range kept {
			if ci := cand[pid]; ci >= 0 {
				items = append(items, candidate{ci, xs[i]})
			}
		}
		if len(items) < 2 {
			return
		}
		slices.SortFunc(items, func(a, b candidate) int { return cmp.Compare(a.ci, b.ci) })
		at, ys = at[:0], ys[:0]
		c.forPairs(len(items), func(x, y int) {
			at = append(at, tri(int(items[x].ci), int(items[y].ci)))
			ys = append(ys, items[x].x*items[y].x)
		})
		if p.Weighted {
			c.normalize(ys)
		}
		for i, t := range at {
			sums[t] += ys[i]
		}
	})
	m := c.pairMech()
	out.PairNoise = m.Mechanism
	out.Pairs = slices.Grow(out.Pairs, len(sums))
	for y := 1; y < k; y++ {
		for x := 0; x < y; x++ {
			a, b := ids[x], ids[y]
			if b < a {
				a, b = b, a
			}
			sum := sums[tri(x, y)]
			pc := PairCount{A: a, B: b}
			if p.Weighted {
				v, err := m.addFloat64(src, sum)
				if err != nil {
					return err
				}
				pc.Count = v
			} else {
				v, err := m.addInt64(src, int64(sum))
				if err != nil {
					return err
				}
				pc.Count = float64(v)
			}
			out.Pairs = append(out.Pairs, pc)
		}
	}
	return nil
}

// candidate is a kept item of one person among the candidates of public
// pairs: its candidate index and its relative weight.
type candidate struct {
	ci int32
	x  float64
}

// itemWeights returns, per item, the sum over persons of the contributions
// of their kept items (Weighted): each person's squared weights, scaled to
// norm 1.
func (c *Cooccurrence) itemWeights() []float64 {
	sums := make([]float64, len(c.keys))
	c.eachPerson(func(kept []int32, xs []float64) {
		for i, x := range xs {
			xs[i] = x * x
		}
		c.normalize(xs)
		for i, pid := range kept {
			sums[pid] += xs[i]
		}
	})
	return sums
}

// normalize scales one person's contributions ys (non-negative, not all
// zero unless underflowed) in place to norm 1: L2 for Gaussian noise, L1
// for Laplace, rounded down where floating point would exceed it. Equal
// contributions become exactly 1/√n (1/n) each. The norm is a compensated
// sum, so that it is as exact with unequal contributions as with equal
// ones; ys are first divided by their largest, so that it neither
// overflows nor underflows.
func (c *Cooccurrence) normalize(ys []float64) {
	top := slices.Max(ys)
	if top == 0 {
		return // all underflowed: the person counts nothing here
	}
	gaussian := c.p.Noise == Gaussian
	var norm, comp float64 // Neumaier's summation
	for i := range ys {
		ys[i] /= top
		t := ys[i]
		if gaussian {
			t *= t
		}
		sum := norm + t
		if norm >= t {
			comp += (norm - sum) + t
		} else {
			comp += (t - sum) + norm
		}
		norm = sum
	}
	norm += comp
	s := 1 / norm
	exceeds := func(s float64) bool { return s*norm > 1 }
	if gaussian {
		s = 1 / math.Sqrt(norm)
		exceeds = func(s float64) bool { return s*s*norm > 1 }
	}
	for exceeds(s) {
		s = math.Nextafter(s, 0)
	}
	for i := range ys {
		ys[i] *= s
	}
}

// eachPerson calls f with the partition ids of every person's kept items
// and their weights relative to the person's largest, which is 1 (all 1
// unless Weighted), in the bounder's table order. The slices are reused
// between calls, and f may change xs.
func (c *Cooccurrence) eachPerson(f func(kept []int32, xs []float64)) {
	b := c.b
	var items []int32
	var xs []float64
	for i := range b.people {
		p := &b.people[i]
		if p.used == 0 {
			continue
		}
		items, xs = items[:0], xs[:0]
		top := 0.0
		for j := 0; j < int(p.used); j++ {
			s := b.at(p, j)
			x := 1.0
			if b.weights {
				x = s.v
			}
			items = append(items, s.pid)
			xs = append(xs, x)
			top = max(top, x)
		}
		for j := range xs {
			xs[j] /= top
		}
		f(items, xs)
	}
}

// forPairs calls f(x, y), x < y, for the pairs among m items that one
// person contributes: all m(m-1)/2 of them if at most the pairs bound,
// else a uniform sample of that many (Floyd's algorithm).
func (c *Cooccurrence) forPairs(m int, f func(x, y int)) {
	total := m * (m - 1) / 2
	if total <= c.pairs {
		for x := 0; x < m; x++ {
			for y := x + 1; y < m; y++ {
				f(x, y)
			}
		}
		return
	}
	// Floyd's sampling needs to know which pairs are taken: a bitmap of all
	// the person's pairs while that is small, else a set of the picks (a
	// person with 65535 items has 2·10⁹ pairs).
	var taken map[int]struct{}
	if total <= maxTakenBitmap {
		if len(c.taken) < total {
			c.taken = make([]bool, total)
		}
	} else {
		taken = make(map[int]struct{}, c.pairs)
	}
	c.picks = c.picks[:0]
	for j := total - c.pairs; j < total; j++ {
		t := c.rng.IntN(j + 1)
		if taken == nil {
			if c.taken[t] {
				t = j
			}
			c.taken[t] = true
		} else {
			if _, dup := taken[t]; dup {
				t = j
			}
			taken[t] = struct{}{}
		}
		c.picks = append(c.picks, t)
	}
	for _, t := range c.picks {
		if taken == nil {
			c.taken[t] = false
		}
		f(pairAt(t, m))
	}
}

// maxTakenBitmap is the most pairs of one person that forPairs tracks in a
// bitmap.
const maxTakenBitmap = 1 << 16

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
// number of items) of every person's sampled pairs; a key repeats once per
// person. Pairs of items held by fewer than pre persons can never be
// released, so they are not formed; they are dropped after sampling, so
// that what a person contributes never depends on anyone else's data.
func (c *Cooccurrence) pairKeys(pre int64) []uint64 {
	b := c.b
	counts := b.personsPerPartition()
	size := 0
	for i := range b.people {
		m := int(b.people[i].used)
		size += min(m*(m-1)/2, c.pairs)
	}
	keys := make([]uint64, 0, size)
	n := uint64(len(c.keys))
	c.eachPerson(func(items []int32, _ []float64) {
		if len(items) < 2 {
			return
		}
		slices.Sort(items)
		c.forPairs(len(items), func(x, y int) {
			if counts[items[x]] >= pre && counts[items[y]] >= pre {
				keys = append(keys, uint64(items[x])*n+uint64(items[y]))
			}
		})
	})
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
