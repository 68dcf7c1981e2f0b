package dp

import (
	"cmp"
	"context"
	"slices"
	"strings"
)

// TopK finds what is trending: from person-level events (person, segment,
// item) it releases, once, the k items with the most distinct persons in
// each segment, with noisy counts. It is the popularity signal for people
// the service knows nothing about (the recommender's anonymous tier).
//
// Each person counts at most once per (segment, item) and in at most
// Params.MaxPartitions (segment, item) pairs, sampled uniformly;
// Params.MaxContributions is not used. Counts are released with Google's
// thresholding: a pair appears only when its noisy count clears a threshold
// set by δ, so Params.Delta must be positive. Params.Partitions, if set, is
// an allow-list of items (others are ignored), not a list of public
// partitions: selection still applies. Ranking the noisy counts is
// post-processing and costs nothing more.
//
// TopK is not safe for concurrent use; its partial state can be encoded
// and merged for sharding like an Aggregation's, and its zero value is only
// a target for UnmarshalBinary.
type TopK struct {
	p        Params
	k        int
	salt     uint64
	b        *bounder[int64]
	th       *thresholder
	index    map[segItem]int32
	keys     []segItem
	allow    map[string]struct{}
	released bool
	rejected int64
}

type segItem struct{ seg, item string }

// NewTopK validates k (at least 1) and p once and returns an empty TopK.
func NewTopK(k int, p Params) (*TopK, error) {
	if k < 1 {
		return nil, paramErr("k", k, "must be at least 1")
	}
	p.MaxContributions = 1
	if err := p.validate(); err != nil {
		return nil, err
	}
	if p.Delta == 0 {
		return nil, paramErr("Delta", p.Delta, "TopK selects by thresholding, which needs delta > 0")
	}
	th, err := newThresholder(p.NoiseSource, p.Noise, p.Epsilon, p.Delta, int64(p.MaxPartitions), p.minPersons())
	if err != nil {
		return nil, err
	}
	t := &TopK{p: p, k: k, th: th, index: make(map[segItem]int32)}
	rng := randomness(p.Rand)
	t.salt = rng.Uint64()
	t.b = newBounder[int64](p.MaxPartitions, 1, false, t.salt, rng, p.ExpectedPersons)
	if p.Partitions != nil {
		t.allow = make(map[string]struct{}, len(p.Partitions))
		for _, it := range p.Partitions {
			t.allow[it] = struct{}{}
		}
	}
	return t, nil
}

// Add records that person interacted with item in segment, and reports
// whether the event was accepted. An empty person id is rejected and
// counted in Rejected; an item outside the allow-list is ignored; after
// Release, Add does nothing. Segments and items may be any strings,
// including empty ones.
func (t *TopK) Add(person, segment, item string) bool {
	if t.released || t.b == nil {
		return false
	}
	if person == "" {
		t.rejected++
		return false
	}
	if t.allow != nil {
		if _, ok := t.allow[item]; !ok {
			return false
		}
	}
	key := segItem{segment, item}
	pid, ok := t.index[key]
	if !ok {
		pid = t.partition(key)
	}
	t.b.add(person, pid, 0)
	return true
}

// partition registers key and returns its id.
func (t *TopK) partition(key segItem) int32 {
	h := hashString(t.salt^hashK2, key.seg) ^ fmix(hashString(t.salt^hashK3, key.item))
	pid := t.b.addPartition(h)
	t.index[key] = pid
	t.keys = append(t.keys, key)
	return pid
}

// Rejected returns how many events Add rejected (exact, not private).
func (t *TopK) Rejected() int64 { return t.rejected }

// Ranked is one trending item: its noisy count of distinct persons and the
// count's confidence interval.
type Ranked struct {
	Item  string  `json:"item"`
	Count int64   `json:"count"`
	Lower float64 `json:"lower"`
	Upper float64 `json:"upper"`
}

// Trending is an immutable TopK release. It is safe for concurrent use.
type Trending struct {
	bySeg     map[string][]Ranked
	segs      []string
	k         int
	eps       float64
	delta     float64
	alpha     float64
	threshold int64
	private   bool
	label     string
}

// Release spends (Epsilon, Delta) from budget once and returns the top k
// items per segment. If the budget refuses it returns the *[BudgetError]
// and stays unreleased; a second release returns [ErrReleased].
func (t *TopK) Release(ctx context.Context, budget *Budget) (*Trending, error) {
	if t.released {
		return nil, ErrReleased
	}
	if t.b == nil {
		return nil, errZero("TopK")
	}
	label := t.p.label("dp trending")
	if err := budget.Spend(ctx, label, t.p.Epsilon, t.p.Delta); err != nil {
		return nil, err
	}
	t.released = true
	th := t.th
	persons := t.b.personsPerPartition()
	tr := &Trending{bySeg: make(map[string][]Ranked), k: t.k, eps: t.p.Epsilon, delta: t.p.Delta,
		alpha: t.p.alpha(), threshold: th.threshold(), private: t.p.NoiseSource == nil, label: label}
	for pid, key := range t.keys {
		noisy, keep, err := th.release(persons[pid])
		if err != nil {
			return nil, err
		}
		if !keep {
			continue
		}
		lo, hi, err := th.m.ciInt64(noisy, tr.alpha)
		if err != nil {
			return nil, err
		}
		tr.bySeg[key.seg] = append(tr.bySeg[key.seg], Ranked{Item: key.item, Count: noisy, Lower: max(0, lo), Upper: max(0, hi)})
	}
	released := 0
	for seg, items := range tr.bySeg {
		slices.SortFunc(items, func(a, b Ranked) int {
			if c := cmp.Compare(b.Count, a.Count); c != 0 {
				return c
			}
			return strings.Compare(a.Item, b.Item)
		})
		if len(items) > t.k {
			items = slices.Clip(items[:t.k])
		}
		tr.bySeg[seg] = items
		tr.segs = append(tr.segs, seg)
		released += len(items)
	}
	slices.Sort(tr.segs)
	logRelease(t.p.Logger, "topk", label, tr.eps, tr.delta, released, tr.private)
	return tr, nil
}

// Segments returns the segments with at least one released item, sorted.
func (t *Trending) Segments() []string { return slices.Clone(t.segs) }

// Top returns a copy of the top items of segment, most popular first (at
// most k; fewer when fewer cleared the threshold; nil for an unknown
// segment).
func (t *Trending) Top(segment string) []Ranked { return slices.Clone(t.bySeg[segment]) }

// All returns a copy of every segment's top items, as plain data.
func (t *Trending) All() map[string][]Ranked {
	out := make(map[string][]Ranked, len(t.bySeg))
	for s, items := range t.bySeg {
		out[s] = slices.Clone(items)
	}
	return out
}

// Threshold returns the noisy count an item needed to be released: the
// noise floor below which nothing is shown.
func (t *Trending) Threshold() int64 { return t.threshold }

// Epsilon returns the ε the release spent.
func (t *Trending) Epsilon() float64 { return t.eps }

// Delta returns the δ the release spent.
func (t *Trending) Delta() float64 { return t.delta }

// Private reports whether the release is differentially private (false when
// built with a test NoiseSource).
func (t *Trending) Private() bool { return t.private }

// String summarizes the release in one line.
func (t *Trending) String() string {
	n := 0
	for _, items := range t.bySeg {
		n += len(items)
	}
	return summary(t.label, "top "+itoa(int64(t.k))+" per segment in "+itoa(int64(len(t.segs)))+" segments", n, false, t.eps, t.delta, t.private)
}
