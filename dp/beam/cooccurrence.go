package dpbeam

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/google/differential-privacy/privacy-on-beam/v3/pbeam"
	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/internal/gdp"
)

// ItemEvent is one item in a person's history, for a co-occurrence job
// ([Cooccurrence]): dp.Cooccurrence.Add(Person, Item) when Weight is 0,
// AddWeighted(Person, Item, Weight) otherwise.
type ItemEvent struct {
	Person string
	Item   string
	Weight float64
}

// CooccurrenceJob is a co-occurrence job added to a [Pipeline] by
// [Cooccurrence]. Its Result is available once the pipeline has run.
type CooccurrenceJob struct {
	file   string
	output beam.PCollection
	logger *slog.Logger
	res    *dp.Cooccurrences
}

// Result returns the job's release, a *dp.Cooccurrences as package dp's
// Cooccurrence.Release returns it (it implements
// recommend.CooccurrenceRelease), or [ErrNotRun] before the pipeline ran
// successfully.
func (j *CooccurrenceJob) Result() (*dp.Cooccurrences, error) {
	if j.res == nil {
		return nil, ErrNotRun
	}
	return j.res, nil
}

// Output returns the release as a PCollection of one string, its JSON
// document (dp.Cooccurrences' encoding).
func (j *CooccurrenceJob) Output() beam.PCollection { return j.output }

// Path returns where the pipeline writes the release's JSON document.
func (j *CooccurrenceJob) Path() string { return j.file }

func (j *CooccurrenceJob) path() string { return j.file }

func (j *CooccurrenceJob) load(data []byte) error {
	c := new(dp.Cooccurrences)
	if err := json.Unmarshal(data, c); err != nil { // dp's decoder checks the release
		return err
	}
	j.res = c
	logRelease(j.logger, "cooccurrence", c.Label, c.Epsilon, c.Delta, len(c.Items)+len(c.Pairs), c.Private)
	return nil
}

// coocPlan is how a co-occurrence release divides its (ε, δ), as package
// dp's does.
type coocPlan struct {
	delta                 float64 // spent
	maxPairs              int     // the enforced bound on pairs per person
	persons, items, pairs mech
	itemTh, pairTh        *thresholding // nil with a catalog, with PairItems
}

func planCooccurrence(p dp.CooccurrenceParams, test bool) (*coocPlan, error) {
	pl := &coocPlan{delta: p.Delta, maxPairs: min(p.MaxPairs, p.MaxItems*(p.MaxItems-1)/2)}
	if p.PairItems > 0 && p.Noise == dp.Laplace {
		pl.delta = 0
	}
	split := p.Split
	if split == [3]float64{} {
		split = [3]float64{0.1, 0.3, 0.6}
	}
	eps := splitDown(p.Epsilon, split[:]...)
	var del []float64
	switch {
	case p.Items != nil && p.Noise == dp.Gaussian:
		del = splitDown(pl.delta, 0, 1, 3)
	case p.Items != nil:
		del = []float64{0, 0, pl.delta}
	default:
		del = splitDown(pl.delta, 0, 1, 2)
	}
	pl.persons = newMech(dp.Laplace, eps[0], 0, 1, 1, 1)
	thresholds := func(eps, delta float64, l0 int64) (*thresholding, error) {
		pre := int64(p.MinPersons)
		if pre == 0 && test {
			pre = 1
		}
		if pre == 0 {
			noiseDelta, thresholdDelta := 0.0, delta
			if p.Noise == dp.Gaussian {
				noiseDelta, thresholdDelta = delta/2, delta/2
			}
			t, ok := exactThreshold(newMech(p.Noise, eps, noiseDelta, l0, 1, 1).Mechanism, thresholdDelta)
			if !ok {
				t = 10 // newThresholding refuses it below
			}
			pre = max(1, t/10)
		}
		th, err := newThresholding(p.Noise, eps, delta, l0, pre)
		return &th, err
	}
	var err error
	switch {
	case p.Weighted:
		pl.items = newMech(p.Noise, eps[1], del[1], 1, 1, 1)
	case p.Items != nil:
		pl.items = newMech(p.Noise, eps[1], del[1], int64(p.MaxItems), 1, 1)
	default:
		if pl.itemTh, err = thresholds(eps[1], del[1], int64(p.MaxItems)); err != nil {
			return nil, err
		}
		pl.items = pl.itemTh.m
	}
	switch {
	case p.PairItems > 0 && p.Weighted:
		pl.pairs = newMech(p.Noise, eps[2], del[2], 1, 1, 1)
	case p.PairItems > 0:
		pl.pairs = newMech(p.Noise, eps[2], del[2], int64(pl.maxPairs), 1, 1)
	default:
		if pl.pairTh, err = thresholds(eps[2], del[2], int64(pl.maxPairs)); err != nil {
			return nil, err
		}
		pl.pairs = pl.pairTh.m
	}
	if p.PairItems > 0 && p.Noise == dp.Gaussian {
		// dp's joint plan: both noises divided by one factor, as far as
		// composing them exactly allows.
		parts := []gdp.Part{
			{Epsilon: pl.items.Epsilon, Delta: pl.items.Delta, L0: pl.items.L0, LInf: pl.items.LInf},
			{Epsilon: pl.pairs.Epsilon, Delta: pl.pairs.Delta, L0: pl.pairs.L0, LInf: pl.pairs.LInf},
		}
		if dels, ok := gdp.Scale(eps[1]+eps[2], pl.delta, parts); ok {
			pl.items.Delta, pl.pairs.Delta = dels[0], dels[1]
		}
	}
	return pl, nil
}

// Cooccurrence adds to p the co-occurrence release that
// dp.NewCooccurrence(params) makes, over events, a PCollection of
// [ItemEvent]: the same validation and spend (from p's budget now), the
// same per-person bounding (a uniform sample of MaxItems distinct items,
// each weighing its largest weight, and of MaxPairs of their pairs), the
// same split of (ε, δ), noise, thresholds, candidate items (PairItems:
// the most counted catalog items, chosen from the released counts) and
// weighting (Weighted: each person's item and pair vectors scaled to norm
// 1), and the same release, a *dp.Cooccurrences. Counts of persons go
// through pbeam (Count with public partitions, DistinctPrivacyID with
// thresholding); weighted counts, whose bound is a norm that pbeam cannot
// express, are summed in Beam and noised with Google's secure noise, as
// package dp does. An event with an empty item is rejected: dp's decoder
// refuses a release that names one.
func Cooccurrence(p *Pipeline, events beam.PCollection, params dp.CooccurrenceParams) (*CooccurrenceJob, error) {
	if p.ran {
		return nil, dp.ErrReleased
	}
	if err := checkInput(events, reflect.TypeOf(ItemEvent{})); err != nil {
		return nil, p.refuse(err)
	}
	mode, err := testMode(params.NoiseSource)
	if err != nil {
		return nil, p.refuse(err)
	}
	check := params
	check.ExpectedPersons, check.Logger = forValidation(params.ExpectedPersons), nil
	if _, err := dp.NewCooccurrence(check); err != nil {
		return nil, p.refuse(err)
	}
	test := mode != pbeam.TestModeDisabled
	pl, err := planCooccurrence(params, test)
	if err != nil {
		return nil, p.refuse(err)
	}
	label := params.Label
	if label == "" {
		label = "dp co-occurrence"
	}
	file, err := p.add(label, params.Epsilon, pl.delta)
	if err != nil {
		return nil, err
	}

	s := p.s.Scope("dpbeam.Cooccurrence")
	var catalog []string
	if params.Items != nil {
		catalog = dedupe(params.Items)
	}
	gaussian := params.Noise == dp.Gaussian
	nk := pbeamNoise(params.Noise)
	private := func(col beam.PCollection, m mech, th *thresholding) (pbeam.PrivatePCollection, error) {
		sp := pbeam.PrivacySpecParams{AggregationEpsilon: m.Epsilon, AggregationDelta: m.Delta, TestMode: mode}
		if th != nil {
			sp.PartitionSelectionDelta, sp.PreThreshold = th.thresholdDelta, preThreshold(th.pre)
		}
		ps, err := pbeam.NewPrivacySpec(sp)
		if err != nil {
			return pbeam.PrivatePCollection{}, err
		}
		return pbeam.MakePrivate(s, col, ps), nil
	}
	baskets := beam.ParDo(s, &basketFn{MaxItems: params.MaxItems}, beam.GroupByKey(s,
		beam.ParDo(s, &coocPrepFn{Weighted: params.Weighted, Catalog: catalog}, events)))

	// The number of persons: each person once, in one public partition.
	pc, err := private(beam.ParDo(s, basketPerson, baskets), pl.persons, nil)
	if err != nil {
		return nil, p.refuse(err)
	}
	persons := beam.ParDo(s, personsCell, pbeam.Count(s, pc, pbeam.CountParams{NoiseKind: pbeam.LaplaceNoise{},
		AggregationEpsilon: pl.persons.Epsilon, PublicPartitions: []string{personsKey},
		MaxPartitionsContributed: 1, MaxValue: 1, AllowNegativeOutputs: true}))

	// Item counts.
	var items beam.PCollection
	switch {
	case params.Weighted:
		contrib := beam.ParDo(s, &itemWeightsFn{Gaussian: gaussian}, baskets)
		zeros := beam.ParDo(s, zeroOf, beam.CreateList(s, catalog))
		items = beam.ParDo(s, itemSumCell, beam.CombinePerKey(s, &noisySumFn{M: pl.items, Test: test},
			beam.Flatten(s, contrib, zeros)))
	default:
		pc, err := private(beam.ParDo(s, basketItems, baskets), pl.items, pl.itemTh)
		if err != nil {
			return nil, p.refuse(err)
		}
		if catalog != nil {
			items = beam.ParDo(s, itemCountCell, pbeam.Count(s, pc, pbeam.CountParams{NoiseKind: nk,
				AggregationEpsilon: pl.items.Epsilon, AggregationDelta: pl.items.Delta, PublicPartitions: catalog,
				MaxPartitionsContributed: int64(params.MaxItems), MaxValue: 1, AllowNegativeOutputs: true}))
		} else {
			items = beam.ParDo(s, itemCountCell, pbeam.DistinctPrivacyID(s, pc, pbeam.DistinctPrivacyIDParams{
				NoiseKind: nk, AggregationEpsilon: pl.items.Epsilon, AggregationDelta: pl.items.Delta,
				PartitionSelectionDelta: pl.itemTh.thresholdDelta, MaxPartitionsContributed: int64(params.MaxItems)}))
		}
	}

	// Pair counts.
	var pairs beam.PCollection
	if params.PairItems > 0 {
		// Candidates: the most counted items of the release, post-processing.
		cands := beam.ParDo(s, &candidatesFn{K: params.PairItems}, beam.GroupByKey(s, beam.AddFixedKey(s,
			beam.Flatten(s, beam.Create(s, cell{Kind: cellHeader}), items))))
		candPairs := beam.ParDo(s, candidatePairs, cands)
		side := beam.SideInput{Input: cands}
		pf := &publicPairsFn{Pairs: pl.maxPairs, Gaussian: gaussian, Weighted: params.Weighted}
		if params.Weighted {
			contrib := beam.ParDo(s, &publicPairWeightsFn{F: *pf}, baskets, side)
			pairs = beam.ParDo(s, pairSumCell, beam.CombinePerKey(s, &noisySumFn{M: pl.pairs, Test: test},
				beam.Flatten(s, contrib, beam.ParDo(s, zeroOf, candPairs))))
		} else {
			pc, err := private(beam.ParDo(s, pf, baskets, side), pl.pairs, nil)
			if err != nil {
				return nil, p.refuse(err)
			}
			pairs = beam.ParDo(s, pairCountCell, pbeam.Count(s, pc, pbeam.CountParams{NoiseKind: nk,
				AggregationEpsilon: pl.pairs.Epsilon, AggregationDelta: pl.pairs.Delta, PublicPartitions: candPairs,
				MaxPartitionsContributed: int64(pl.maxPairs), MaxValue: 1, AllowNegativeOutputs: true}))
		}
	} else {
		pc, err := private(beam.ParDo(s, &pairsFn{Pairs: pl.maxPairs}, baskets), pl.pairs, pl.pairTh)
		if err != nil {
			return nil, p.refuse(err)
		}
		pairs = beam.ParDo(s, pairCountCell, pbeam.DistinctPrivacyID(s, pc, pbeam.DistinctPrivacyIDParams{
			NoiseKind: nk, AggregationEpsilon: pl.pairs.Epsilon, AggregationDelta: pl.pairs.Delta,
			PartitionSelectionDelta: pl.pairTh.thresholdDelta, MaxPartitionsContributed: int64(pl.maxPairs)}))
	}

	meta := coocMeta{Label: label, Epsilon: params.Epsilon, Delta: pl.delta, Weighted: params.Weighted,
		Private: !test, PersonNoise: pl.persons.Mechanism, ItemNoise: pl.items.Mechanism, PairNoise: pl.pairs.Mechanism}
	if pl.itemTh != nil {
		meta.ItemThreshold = pl.itemTh.Threshold
	}
	if pl.pairTh != nil {
		meta.PairThreshold = pl.pairTh.Threshold
	}
	all := beam.Flatten(s, beam.Create(s, cell{Kind: cellHeader}), persons, items, pairs)
	j := &CooccurrenceJob{file: file, logger: params.Logger}
	j.output = beam.ParDo(s, &assembleCoocFn{Meta: meta, Path: file}, beam.GroupByKey(s, beam.AddFixedKey(s, all)))
	p.jobs = append(p.jobs, j)
	return j, nil
}

// personsKey is the one public partition of the number of persons.
const personsKey = "persons"

// itemW is one item of a person with its weight.
type itemW struct {
	Item string
	W    float64
}

// coocPrepFn keys events by person as dp.Cooccurrence.Add and AddWeighted
// accept them.
type coocPrepFn struct {
	Weighted bool     `json:"weighted"`
	Catalog  []string `json:"catalog"`
	catalog  map[string]struct{}
	rejected beam.Counter
}

func (f *coocPrepFn) Setup() {
	f.rejected = beam.NewCounter("dpbeam", "rejected")
	if f.Catalog != nil {
		f.catalog = make(map[string]struct{}, len(f.Catalog))
		for _, it := range f.Catalog {
			f.catalog[it] = struct{}{}
		}
	}
}

func (f *coocPrepFn) ProcessElement(ctx context.Context, e ItemEvent, emit func(string, itemW)) {
	w := e.Weight
	if w == 0 {
		w = 1 // Add
	} else if !f.Weighted || !(w > 0) || math.IsInf(w, 0) {
		f.rejected.Inc(ctx, 1) // AddWeighted refuses it
		return
	}
	if e.Person == "" || e.Item == "" {
		f.rejected.Inc(ctx, 1)
		return
	}
	if f.catalog != nil {
		if _, ok := f.catalog[e.Item]; !ok {
			return
		}
	}
	emit(e.Person, itemW{Item: e.Item, W: w})
}

// basket is one person's kept items, with their weights relative to the
// largest, which is 1 (all 1 without weights).
type basket struct {
	Items []string
	X     []float64
}

// basketFn bounds one person's items as dp.Cooccurrence does: each
// distinct item once, at its largest weight; a uniformly random subset of
// MaxItems of them.
type basketFn struct {
	MaxItems int `json:"max_items"`
	rng      *rand.Rand
}

func (f *basketFn) Setup() { f.rng = newRand() }

func (f *basketFn) ProcessElement(person string, events func(*itemW) bool, emit func(string, basket)) {
	best := make(map[string]float64)
	var e itemW
	for events(&e) {
		best[e.Item] = max(best[e.Item], e.W)
	}
	type prio struct {
		p  uint64
		it string
	}
	all := make([]prio, 0, len(best))
	for it := range best {
		all = append(all, prio{f.rng.Uint64(), it})
	}
	if len(all) > f.MaxItems {
		slices.SortFunc(all, func(a, b prio) int { return cmp.Compare(a.p, b.p) })
		all = all[:f.MaxItems]
	}
	b := basket{Items: make([]string, len(all)), X: make([]float64, len(all))}
	top := 0.0
	for i, x := range all {
		b.Items[i], b.X[i] = x.it, best[x.it]
		top = max(top, b.X[i])
	}
	for i := range b.X {
		b.X[i] /= top
	}
	emit(person, b)
}

func basketPerson(person string, _ basket) (string, string) { return person, personsKey }

func basketItems(person string, b basket, emit func(string, string)) {
	for _, it := range b.Items {
		emit(person, it)
	}
}

func zeroOf(k string) (string, float64) { return k, 0 }

// itemWeightsFn emits each kept item's contribution to the weighted item
// counts: the person's squared weights scaled to norm 1 (dp's
// itemWeights).
type itemWeightsFn struct {
	Gaussian bool `json:"gaussian"`
}

func (f *itemWeightsFn) ProcessElement(_ string, b basket, emit func(string, float64)) {
	ys := make([]float64, len(b.X))
	for i, x := range b.X {
		ys[i] = x * x
	}
	normalize(ys, f.Gaussian)
	for i, it := range b.Items {
		emit(it, ys[i])
	}
}

// candidates are the items among which pairs are public partitions, most
// counted first.
type candidates struct {
	Items []string
}

// candidatesFn picks the K items with the largest released counts, ties by
// id, as dp.Cooccurrence does.
type candidatesFn struct {
	K int `json:"k"`
}

func (f *candidatesFn) ProcessElement(_ int, cells func(*cell) bool) candidates {
	var all []dp.ItemCount
	var c cell
	for cells(&c) {
		if c.Kind == cellItem {
			all = append(all, dp.ItemCount{Item: c.Key, Count: c.Float})
		}
	}
	slices.SortFunc(all, func(a, b dp.ItemCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Item, b.Item))
	})
	out := candidates{Items: make([]string, 0, min(f.K, len(all)))}
	for _, ic := range all[:min(f.K, len(all))] {
		out.Items = append(out.Items, ic.Item)
	}
	return out
}

// pairKey is the partition key of the pair {a, b}.
func pairKey(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return joinKey(a, b)
}

func candidatePairs(c candidates, emit func(string)) {
	for y := 1; y < len(c.Items); y++ {
		for x := 0; x < y; x++ {
			emit(pairKey(c.Items[x], c.Items[y]))
		}
	}
}

// publicPairsFn emits, keyed by person, the pairs a person counts among the
// candidates: all pairs of the person's kept items that are candidates,
// or a uniform sample of Pairs of them (dp's releasePublicPairs).
type publicPairsFn struct {
	Pairs    int  `json:"pairs"`
	Gaussian bool `json:"gaussian"`
	Weighted bool `json:"weighted"`
	index    map[string]int
	rng      *rand.Rand
	s        pairSampler
}

func (f *publicPairsFn) Setup() { f.rng = newRand() }

func (f *publicPairsFn) ProcessElement(person string, b basket, c candidates, emit func(string, string)) {
	f.each(b, c, func(k string, _ float64) { emit(person, k) })
}

// each calls fn with each pair the person counts and its contribution
// (x_a·x_b, scaled to norm 1 when Weighted).
func (f *publicPairsFn) each(b basket, c candidates, fn func(key string, y float64)) {
	if f.index == nil || len(f.index) != len(c.Items) {
		f.index = make(map[string]int, len(c.Items))
		for i, it := range c.Items {
			f.index[it] = i
		}
	}
	type cand struct {
		ci int
		x  float64
	}
	var items []cand
	for i, it := range b.Items {
		if ci, ok := f.index[it]; ok {
			items = append(items, cand{ci, b.X[i]})
		}
	}
	if len(items) < 2 {
		return
	}
	slices.SortFunc(items, func(a, b cand) int { return cmp.Compare(a.ci, b.ci) })
	var keys []string
	var ys []float64
	f.s.each(len(items), f.Pairs, f.rng, func(x, y int) {
		keys = append(keys, pairKey(c.Items[items[x].ci], c.Items[items[y].ci]))
		ys = append(ys, items[x].x*items[y].x)
	})
	if f.Weighted {
		normalize(ys, f.Gaussian)
	}
	for i, k := range keys {
		fn(k, ys[i])
	}
}

// publicPairWeightsFn emits each counted pair's contribution, keyed by
// pair, for the weighted pair counts.
type publicPairWeightsFn struct {
	F publicPairsFn `json:"f"`
}

func (f *publicPairWeightsFn) Setup() { f.F.Setup() }

func (f *publicPairWeightsFn) ProcessElement(_ string, b basket, c candidates, emit func(string, float64)) {
	f.F.each(b, c, emit)
}

// pairsFn emits, keyed by person, the pairs of a person's kept items that
// the person counts for pairs selected by thresholding: all of them, or a
// uniform sample of Pairs (dp's pairKeys).
type pairsFn struct {
	Pairs int `json:"pairs"`
	rng   *rand.Rand
	s     pairSampler
}

func (f *pairsFn) Setup() { f.rng = newRand() }

func (f *pairsFn) ProcessElement(person string, b basket, emit func(string, string)) {
	f.s.each(len(b.Items), f.Pairs, f.rng, func(x, y int) { emit(person, pairKey(b.Items[x], b.Items[y])) })
}

// pairSampler is dp's forPairs: it calls f(x, y), x < y, for the pairs
// among m items that one person contributes, all m(m-1)/2 of them if at
// most limit, else a uniform sample of limit of them (Floyd's algorithm).
type pairSampler struct {
	taken []bool
	picks []int
}

func (ps *pairSampler) each(m, limit int, rng *rand.Rand, f func(x, y int)) {
	total := m * (m - 1) / 2
	if total <= limit {
		for x := 0; x < m; x++ {
			for y := x + 1; y < m; y++ {
				f(x, y)
			}
		}
		return
	}
	var taken map[int]struct{}
	if total <= 1<<16 {
		if len(ps.taken) < total {
			ps.taken = make([]bool, total)
		}
	} else {
		taken = make(map[int]struct{}, limit)
	}
	ps.picks = ps.picks[:0]
	for j := total - limit; j < total; j++ {
		t := rng.IntN(j + 1)
		if taken == nil {
			if ps.taken[t] {
				t = j
			}
			ps.taken[t] = true
		} else {
			if _, dup := taken[t]; dup {
				t = j
			}
			taken[t] = struct{}{}
		}
		ps.picks = append(ps.picks, t)
	}
	for _, t := range ps.picks {
		if taken == nil {
			ps.taken[t] = false
		}
		f(pairAt(t, m))
	}
}

// pairAt returns the t-th pair (x < y) of m items in lexicographic order.
func pairAt(t, m int) (int, int) {
	x := 0
	for row := m - 1; t >= row; row-- {
		t -= row
		x++
	}
	return x, x + 1 + t
}

// coocMeta is what the assembly of a co-occurrence release needs.
type coocMeta struct {
	Label                             string
	Epsilon, Delta                    float64
	Weighted, Private                 bool
	ItemThreshold, PairThreshold      int64
	PersonNoise, ItemNoise, PairNoise dp.Mechanism
}

// assembleCoocFn builds the dp.Cooccurrences release, writes it to Path
// and emits it.
type assembleCoocFn struct {
	Meta coocMeta `json:"meta"`
	Path string   `json:"path"`
}

func (f *assembleCoocFn) ProcessElement(ctx context.Context, _ int, cells func(*cell) bool, emit func(string)) error {
	mt := &f.Meta
	out := dp.Cooccurrences{Items: []dp.ItemCount{}, Pairs: []dp.PairCount{},
		ItemThreshold: mt.ItemThreshold, PairThreshold: mt.PairThreshold,
		PersonNoise: mt.PersonNoise, ItemNoise: mt.ItemNoise, PairNoise: mt.PairNoise, Weighted: mt.Weighted,
		Epsilon: mt.Epsilon, Delta: mt.Delta, Private: mt.Private, Label: mt.Label}
	var c cell
	for cells(&c) {
		switch c.Kind {
		case cellPersons:
			out.Persons = max(c.Int, 0) // as dp: a number of people, clamped (post-processing)
		case cellItem:
			out.Items = append(out.Items, dp.ItemCount{Item: c.Key, Count: c.Float})
		case cellPair:
			a, b, ok := splitKey(c.Key)
			if ok {
				out.Pairs = append(out.Pairs, dp.PairCount{A: a, B: b, Count: c.Float})
			}
		}
	}
	slices.SortFunc(out.Items, func(a, b dp.ItemCount) int { return strings.Compare(a.Item, b.Item) })
	slices.SortFunc(out.Pairs, func(x, y dp.PairCount) int {
		return cmp.Or(strings.Compare(x.A, y.A), strings.Compare(x.B, y.B))
	})
	doc, err := json.Marshal(out)
	if err != nil {
		return err
	}
	if err := writeFile(ctx, f.Path, doc); err != nil {
		return err
	}
	emit(string(doc))
	return nil
}
