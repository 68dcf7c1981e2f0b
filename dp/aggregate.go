package dp

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"

	"github.com/google/differential-privacy/go/v3/dpagg"
	"github.com/google/differential-privacy/go/v3/noise"
)

// Spec says what an [Aggregation] computes per partition.
type Spec[V Value] struct {
	// Metrics to release, e.g. Count|Sum. Required.
	Metrics Metric

	// Lower and Upper clamp every value before it is summed, averaged or
	// ranked: the most one record can move a result. Required for Sum
	// (not both zero), Mean and Quantiles (Lower < Upper); ignored for Count
	// alone. Tight bounds mean less noise; values outside are clamped, which
	// biases results, so choose bounds from domain knowledge, not from the
	// data. Float64 bounds must lie within ±1e250, and must not be so close
	// to 0, or for Mean to each other, that the noise could not be that
	// fine (see "Limits" in the package doc).
	Lower, Upper V

	// Ranks are the quantiles to release with Quantiles, each in [0, 1]
	// (0.5 is the median).
	Ranks []float64
}

// Aggregation accumulates person-level records grouped by partition key and
// releases, once, differentially private count, sum, mean and quantiles per
// partition. Build it with [NewAggregation], feed it with Add, and call
// Release to spend from a [Budget] and get an immutable [Result].
//
// Contribution bounding happens as records arrive: each person keeps at
// most MaxPartitions partitions and MaxContributions records per partition,
// chosen uniformly at random; the noise is calibrated to exactly those
// bounds.
//
// Aggregation is not safe for concurrent use: give each goroutine its own
// (made from one origin, see Merge and MarshalBinary) and merge them.
//
// The zero Aggregation holds no parameters and is only a target for
// UnmarshalBinary: Add accepts nothing, Release and MarshalBinary return a
// *[ParamError], Merge returns [ErrIncompatible].
type Aggregation[V Value] struct {
	p      Params
	spec   Spec[V]
	plan   plan
	salt   uint64
	isInt  bool
	values bool
	mid    float64

	b        *bounder[V]
	keys     []string
	keyIndex map[string]int32

	released bool
	rejected int64
}

// plan is how a release splits its budget among its components.
type plan struct {
	eps, delta     float64 // what a release spends
	selEps, selDel float64 // private partition selection
	count          mech
	sum            mech
	norm           mech // normalized sum for Mean
	quantEps       float64
	quantDel       float64
	sel            *selector // private partition selection, or nil
}

// NewAggregation validates p and s once and returns an empty aggregation.
// Invalid parameters return a *[ParamError] (errors.Is [ErrInvalidParams]).
func NewAggregation[V Value](p Params, s Spec[V]) (*Aggregation[V], error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	a := &Aggregation[V]{p: p, spec: s}
	var zero V
	_, a.isInt = any(zero).(int64)
	if err := a.checkSpec(); err != nil {
		return nil, err
	}
	a.spec.Ranks = slices.Clone(s.Ranks)
	a.values = s.Metrics&(Sum|Mean|Quantiles) != 0
	a.mid = float64(s.Lower) + (float64(s.Upper)-float64(s.Lower))/2
	if err := a.makePlan(); err != nil {
		return nil, err
	}
	rng := randomness(p.Rand)
	a.salt = rng.Uint64()
	a.p.Rand = rng
	a.b = newBounder[V](p.MaxPartitions, p.MaxContributions, a.values, a.salt, rng, p.ExpectedPersons)
	a.keyIndex = make(map[string]int32)
	if p.Partitions != nil {
		a.p.Partitions = dedupe(p.Partitions)
		for _, k := range a.p.Partitions {
			a.newPartition(k)
		}
	}
	return a, nil
}

func (a *Aggregation[V]) checkSpec() error {
	s := a.spec
	if s.Metrics == 0 || s.Metrics&^(Count|Sum|Mean|Quantiles) != 0 {
		return paramErr("Metrics", s.Metrics, "must be a non-empty combination of Count, Sum, Mean and Quantiles")
	}
	if s.Metrics == Count {
		return nil
	}
	lo, hi := float64(s.Lower), float64(s.Upper)
	bounds := fmt.Sprintf("[%v, %v]", s.Lower, s.Upper)
	if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return paramErr("Bounds", bounds, "must be finite numbers")
	}
	if lo > hi {
		return paramErr("Bounds", bounds, "Lower must not exceed Upper")
	}
	if s.Metrics&(Mean|Quantiles) != 0 && lo == hi {
		return paramErr("Bounds", bounds, "Mean and Quantiles need Lower < Upper")
	}
	if lo == 0 && hi == 0 {
		return paramErr("Bounds", bounds, "must not both be zero")
	}
	maxAbs := math.Max(math.Abs(lo), math.Abs(hi))
	if a.isInt {
		// The library needs L∞·L0 to fit in int64 (makePlan's noise checks
		// then bound it further).
		if int64(s.Lower) == math.MinInt64 || maxAbs*float64(a.p.MaxContributions)*float64(a.p.MaxPartitions) >= 1<<62 {
			return paramErr("Bounds", bounds, "too large: the sensitivity would overflow int64")
		}
	} else if maxAbs > maxFloatBound {
		return paramErr("Bounds", bounds, "too large: beyond ±1e250, sums could overflow float64")
	}
	if s.Metrics&Quantiles != 0 {
		if len(s.Ranks) == 0 {
			return paramErr("Ranks", s.Ranks, "Quantiles needs at least one rank")
		}
		for _, r := range s.Ranks {
			if !(r >= 0 && r <= 1) {
				return paramErr("Ranks", s.Ranks, "each rank must be in [0, 1]")
			}
		}
	}
	return nil
}

func (a *Aggregation[V]) makePlan() error {
	p, m := &a.p, a.spec.Metrics
	private := p.Partitions == nil
	var weights []float64
	add := func(on bool) {
		if on {
			weights = append(weights, 1)
		} else {
			weights = append(weights, 0)
		}
	}
	add(private)
	add(m&(Count|Mean) != 0)
	add(m&Sum != 0)
	add(m&Mean != 0)
	add(m&Quantiles != 0)
	eps := splitDown(p.Epsilon, weights...)

	// δ: all to selection with Laplace; with Gaussian, half to selection (if
	// any) and the rest evenly to the noisy components.
	dw := make([]float64, len(weights))
	if p.Noise == Gaussian {
		copy(dw, weights)
		if private {
			noisy := 0.0
			for _, w := range weights[1:] {
				noisy += w
			}
			dw[0] = noisy
		}
	} else {
		dw[0] = weights[0]
	}
	var del []float64
	used := false
	for _, w := range dw {
		used = used || w > 0
	}
	if used {
		del = splitDown(p.Delta, dw...)
	} else {
		del = make([]float64, len(dw))
	}

	l0, linf := int64(p.MaxPartitions), int64(p.MaxContributions)
	lo, hi := float64(a.spec.Lower), float64(a.spec.Upper)
	maxAbs := math.Max(math.Abs(lo), math.Abs(hi))
	var maxAbsInt int64 // exact for int64 values (bounds are checked to fit)
	if a.isInt && a.values {
		l, h := int64(a.spec.Lower), int64(a.spec.Upper)
		maxAbsInt = max(h, -l, l, -h)
	}
	a.plan = plan{
		eps:    p.Epsilon,
		selEps: eps[0], selDel: del[0],
		count:    newMech(p.Noise, eps[1], del[1], l0, float64(linf), linf),
		sum:      newMech(p.Noise, eps[2], del[2], l0, maxAbs*float64(linf), maxAbsInt*linf),
		norm:     newMech(p.Noise, eps[3], del[3], l0, (hi-lo)/2*float64(linf), 0),
		quantEps: eps[4], quantDel: del[4],
	}
	if used {
		a.plan.delta = p.Delta
	}
	if p.Noise == Laplace {
		a.plan.quantDel = 0
	}
	// Refuse here what Google's library would refuse at release, after the
	// budget is spent, or where its results would not be finite: shares of
	// ε or δ too small for the secure noise, noise scales it cannot
	// represent.
	pl := &a.plan
	for _, c := range []struct {
		on bool
		m  mech
	}{
		{m&(Count|Mean) != 0, pl.count},
		{m&Sum != 0, pl.sum},
		{m&Mean != 0, pl.norm},
		// The quantile tree's float64 counts: a person changes L∞ leaves'
		// counts and their ancestors, up to L0·(tree height) nodes.
		{m&Quantiles != 0, newMech(p.Noise, pl.quantEps, pl.quantDel, dpagg.DefaultTreeHeight*l0, float64(linf), 0)},
	} {
		if c.on {
			if err := c.m.check(); err != nil {
				return err
			}
		}
	}
	if private {
		var err error
		if pl.sel, err = newSelector(p.NoiseSource, pl.selEps, pl.selDel, l0, p.minPersons()); err != nil {
			return err
		}
	}
	return nil
}

// newPartition registers key and returns its id.
func (a *Aggregation[V]) newPartition(key string) int32 {
	pid := a.b.addPartition(hashString(a.salt^hashK2, key))
	a.keys = append(a.keys, key)
	a.keyIndex[key] = pid
	return pid
}

// Add records that person contributed value v to partition key, and reports
// whether the record was accepted. It never fails loudly and never affects
// records already accepted:
//   - an empty person id or a NaN value is rejected (false) and counted in
//     Rejected, because it cannot be attributed or bounded;
//   - ±Inf and other out-of-bounds values are clamped to the bounds;
//   - with public partitions, a key outside them is ignored (false);
//   - after Release, or on the zero Aggregation, Add does nothing and
//     returns false.
//
// An accepted record may still be dropped later by contribution bounding.
// Add does not allocate except to grow its tables (see
// [Params].ExpectedPersons). Records are bounded in small batches, so Add
// may keep person for a while, as it keeps key: Go strings are immutable,
// and one made with unsafe.String must not change while it is kept.
func (a *Aggregation[V]) Add(person, key string, v V) bool {
	if a.released || a.b == nil {
		return false
	}
	if person == "" || math.IsNaN(float64(v)) {
		a.rejected++
		return false
	}
	pid, ok := a.keyIndex[key]
	if !ok {
		if a.p.Partitions != nil {
			return false
		}
		pid = a.newPartition(key)
	}
	if a.values {
		if v < a.spec.Lower {
			v = a.spec.Lower
		} else if v > a.spec.Upper {
			v = a.spec.Upper
		}
	}
	a.b.add(person, pid, v)
	return true
}

// Rejected returns how many records Add rejected as invalid (empty person
// id, NaN value). The figure is exact, not private: use it for monitoring,
// do not publish it.
func (a *Aggregation[V]) Rejected() int64 { return a.rejected }

// Dropped returns how many accepted records contribution bounding has
// dropped so far. Exact, not private, like Rejected.
func (a *Aggregation[V]) Dropped() int64 {
	if a.b == nil {
		return 0
	}
	a.b.flush()
	return a.b.dropped
}

// Epsilon returns the ε that Release will spend.
func (a *Aggregation[V]) Epsilon() float64 { return a.plan.eps }

// Delta returns the δ that Release will spend (see [Params.Delta]).
func (a *Aggregation[V]) Delta() float64 { return a.plan.delta }

// Release spends the aggregation's (ε, δ) from budget once and returns the
// noisy result. If the budget refuses, it returns the *[BudgetError]
// (errors.Is [ErrBudgetExhausted]), spends nothing and the aggregation
// stays unreleased: Release may be tried again; the same goes for an error
// of the budget's [SpendLog] or of ctx, which only a budget with a log can
// return. A second release returns [ErrReleased]. Everything that can fail
// is checked before the budget pays: the release state here, and the parameters by the constructor,
// including the limits within which the noise is finite and terminates
// (see "Limits" in the package doc); once the budget has paid, the release
// completes.
func (a *Aggregation[V]) Release(ctx context.Context, budget *Budget) (*Result[V], error) {
	if a.released {
		return nil, ErrReleased
	}
	if a.b == nil {
		return nil, errZero("Aggregation")
	}
	label := a.p.label("dp release")
	if err := budget.Spend(ctx, label, a.plan.eps, a.plan.delta); err != nil {
		return nil, err
	}
	a.released = true
	r, err := a.compute(label)
	if err != nil {
		return nil, err
	}
	logRelease(a.p.Logger, "aggregation", label, r.eps, r.delta, len(r.parts), r.private)
	return r, nil
}

// partials are the exact bounded aggregates per partition id.
type partials[V Value] struct {
	persons []int64
	count   []int64
	sum     []V
	sumF    []float64 // to detect int64 overflow
	norm    []float64
	off     []int32 // quantiles: CSR offsets into vals
	vals    []float64
}

func (a *Aggregation[V]) partials() *partials[V] {
	b, n := a.b, len(a.keys)
	b.flush()
	m := a.spec.Metrics
	pa := &partials[V]{persons: make([]int64, n), count: make([]int64, n)}
	if m&Sum != 0 {
		pa.sum, pa.sumF = make([]V, n), make([]float64, n)
	}
	if m&Mean != 0 {
		pa.norm = make([]float64, n)
	}
	var vals []V
	for i := range b.people {
		p := &b.people[i]
		for j := 0; j < int(p.used); j++ {
			s := b.at(p, j)
			pid, kept := s.pid, b.kept(s)
			pa.persons[pid]++
			pa.count[pid] += int64(kept)
			if !a.values {
				continue
			}
			if kept == 1 { // the common case, without the slice
				a.accumulate(pa, pid, s.v)
				continue
			}
			vals = b.vals(vals[:0], p.id, j, s)
			for _, v := range vals {
				a.accumulate(pa, pid, v)
			}
		}
	}
	if m&Quantiles != 0 {
		pa.off = make([]int32, n+1)
		for pid, c := range pa.count {
			pa.off[pid+1] = pa.off[pid] + int32(c)
		}
		pa.vals = make([]float64, pa.off[n])
		fill := slices.Clone(pa.off[:n])
		for i := range b.people {
			p := &b.people[i]
			for j := 0; j < int(p.used); j++ {
				s := b.at(p, j)
				vals = b.vals(vals[:0], p.id, j, s)
				for _, v := range vals {
					pa.vals[fill[s.pid]] = float64(v)
					fill[s.pid]++
				}
			}
		}
	}
	return pa
}

func (a *Aggregation[V]) accumulate(pa *partials[V], pid int32, v V) {
	if pa.sum != nil {
		pa.sum[pid] += v
		pa.sumF[pid] += float64(v)
	}
	if pa.norm != nil {
		pa.norm[pid] += float64(v) - a.mid
	}
}

func (a *Aggregation[V]) compute(label string) (*Result[V], error) {
	pa := a.partials()
	pl, src, alpha := &a.plan, a.p.NoiseSource, a.p.alpha()
	sel := pl.sel
	r := &Result[V]{
		metrics: a.spec.Metrics, ranks: slices.Clone(a.spec.Ranks),
		eps: pl.eps, delta: pl.delta, alpha: alpha,
		private: src == nil, label: label, public: a.p.Partitions != nil,
	}
	m := a.spec.Metrics
	for pid, key := range a.keys {
		if sel != nil {
			keep, err := sel.keep(pa.persons[pid])
			if err != nil {
				return nil, err
			}
			if !keep {
				continue
			}
		}
		part := Partition[V]{Key: key}
		var noisyCount int64
		if m&(Count|Mean) != 0 {
			c, err := pl.count.addInt64(src, pa.count[pid])
			if err != nil {
				return nil, err
			}
			noisyCount = c
			if m&Count != 0 {
				lo, hi, err := pl.count.ciInt64(c, alpha)
				if err != nil {
					return nil, err
				}
				part.Count = Estimate[int64]{Value: c, Lower: math.Max(0, lo), Upper: math.Max(0, hi)}
			}
		}
		if m&Sum != 0 {
			e, err := a.noisySum(pa, pid, alpha)
			if err != nil {
				return nil, err
			}
			part.Sum = e
		}
		if m&Mean != 0 {
			e, err := a.noisyMean(pa.norm[pid], noisyCount, alpha)
			if err != nil {
				return nil, err
			}
			part.Mean = e
		}
		if m&Quantiles != 0 {
			q, err := a.quantiles(pa.vals[pa.off[pid]:pa.off[pid+1]])
			if err != nil {
				return nil, err
			}
			part.Quantiles = q
		}
		r.parts = append(r.parts, part)
	}
	r.finish()
	return r, nil
}

func (a *Aggregation[V]) noisySum(pa *partials[V], pid int, alpha float64) (Estimate[V], error) {
	pl, src := &a.plan, a.p.NoiseSource
	lo, hi := float64(a.spec.Lower), float64(a.spec.Upper)
	var e Estimate[V]
	var err error
	if a.isInt {
		// Saturate at ±2⁶², so that neither the sum nor its noise and
		// interval can overflow (the int64 sum wraps; its float64 twin
		// tells).
		x, f := int64(pa.sum[pid]), pa.sumF[pid]
		switch {
		case f >= maxIntValue:
			x = maxIntValue
		case f <= -maxIntValue:
			x = -maxIntValue
		}
		x = min(max(x, -maxIntValue), maxIntValue)
		var n int64
		if n, err = pl.sum.addInt64(src, x); err != nil {
			return e, err
		}
		e.Value = V(n)
		e.Lower, e.Upper, err = pl.sum.ciInt64(n, alpha)
	} else {
		var n float64
		if n, err = pl.sum.addFloat64(src, float64(pa.sum[pid])); err != nil {
			return e, err
		}
		e.Value = V(n)
		e.Lower, e.Upper, err = pl.sum.ciFloat64(n, alpha)
	}
	// As dpagg does: a sum of non-negative values cannot be negative.
	if lo >= 0 {
		e.Lower, e.Upper = math.Max(0, e.Lower), math.Max(0, e.Upper)
	}
	if hi <= 0 {
		e.Lower, e.Upper = math.Min(0, e.Lower), math.Min(0, e.Upper)
	}
	return e, err
}

// noisyMean is dpagg.BoundedMean's estimator: noisy normalized sum over
// noisy count (at least 1), plus the midpoint, clamped to the bounds; its
// confidence interval is derived, as dpagg does, from those of numerator
// and denominator with the split of alpha that gives the tightest interval.
func (a *Aggregation[V]) noisyMean(norm float64, noisyCount int64, alpha float64) (Estimate[float64], error) {
	pl, src := &a.plan, a.p.NoiseSource
	lo, hi := float64(a.spec.Lower), float64(a.spec.Upper)
	num, err := pl.norm.addFloat64(src, norm)
	if err != nil {
		return Estimate[float64]{}, err
	}
	den := math.Max(1, float64(noisyCount))
	e := Estimate[float64]{Value: clampF(num/den+a.mid, lo, hi)}
	best := math.Inf(1)
	const steps = 100
	for i := 1; i < steps; i++ {
		alphaNum := float64(i) / steps * alpha
		alphaDen := (alpha - alphaNum) / (1 - alphaNum)
		nlo, nhi, err := pl.norm.ciFloat64(num, alphaNum)
		if err != nil {
			return e, err
		}
		dlo, dhi, err := pl.count.ciInt64(noisyCount, alphaDen)
		if err != nil {
			return e, err
		}
		dlo, dhi = math.Max(dlo, 1), math.Max(dhi, 1)
		var mlo, mhi float64
		if nlo >= 0 {
			mlo = nlo / dhi
		} else {
			mlo = nlo / dlo
		}
		if nhi >= 0 {
			mhi = nhi / dlo
		} else {
			mhi = nhi / dhi
		}
		mlo, mhi = clampF(mlo+a.mid, lo, hi), clampF(mhi+a.mid, lo, hi)
		if mhi-mlo < best {
			best, e.Lower, e.Upper = mhi-mlo, mlo, mhi
		}
	}
	return e, nil
}

// quantiles releases the quantiles of vals with dpagg.BoundedQuantiles (the
// quantile tree mechanism). With a test NoiseSource it returns the exact
// quantiles of vals instead, or Lower when vals is empty.
func (a *Aggregation[V]) quantiles(vals []float64) ([]float64, error) {
	ranks := a.spec.Ranks
	out := make([]float64, len(ranks))
	lo, hi := float64(a.spec.Lower), float64(a.spec.Upper)
	if a.p.NoiseSource != nil {
		s := slices.Clone(vals)
		slices.Sort(s)
		for i, r := range ranks {
			out[i] = exactQuantile(s, r, lo)
		}
		return out, nil
	}
	nz := noise.Laplace()
	if a.p.Noise == Gaussian {
		nz = noise.Gaussian()
	}
	q, err := dpagg.NewBoundedQuantiles(&dpagg.BoundedQuantilesOptions{
		Epsilon: a.plan.quantEps, Delta: a.plan.quantDel,
		MaxPartitionsContributed:     int64(a.p.MaxPartitions),
		MaxContributionsPerPartition: int64(a.p.MaxContributions),
		Lower:                        lo, Upper: hi, Noise: nz,
	})
	if err != nil {
		return nil, fmt.Errorf("dp: quantiles: %w", err)
	}
	for _, v := range vals {
		if err := q.Add(v); err != nil {
			return nil, fmt.Errorf("dp: quantiles: %w", err)
		}
	}
	for i, r := range ranks {
		if out[i], err = q.Result(r); err != nil {
			return nil, fmt.Errorf("dp: quantiles: %w", err)
		}
	}
	return out, nil
}

func exactQuantile(sorted []float64, r, empty float64) float64 {
	if len(sorted) == 0 {
		return empty
	}
	x := r * float64(len(sorted)-1)
	i := int(x)
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	f := x - float64(i)
	return sorted[i]*(1-f) + sorted[i+1]*f
}

func clampF(x, lo, hi float64) float64 { return math.Min(math.Max(x, lo), hi) }

func logRelease(l *slog.Logger, kind, label string, eps, delta float64, partitions int, private bool) {
	if l == nil {
		return
	}
	l.LogAttrs(context.Background(), slog.LevelInfo, EventRelease,
		slog.String("event", EventRelease),
		slog.String("kind", kind),
		slog.String("label", label),
		slog.Float64("epsilon", eps),
		slog.Float64("delta", delta),
		slog.Int("partitions", partitions),
		slog.Bool("private", private))
}

// Audit event kinds (slog message and "event" attribute).
const (
	EventSpend   = "dp.spend"
	EventRelease = "dp.release"
)

// Counter counts contributions per partition key: an [Aggregation] of
// [Count] alone, with an Add that takes no value. Like Aggregation it is
// not safe for concurrent use, and its zero value is only a target for
// UnmarshalBinary.
type Counter struct{ a *Aggregation[int64] }

// NewCounter validates p once and returns an empty counter.
func NewCounter(p Params) (*Counter, error) {
	a, err := NewAggregation(p, Spec[int64]{Metrics: Count})
	if err != nil {
		return nil, err
	}
	return &Counter{a}, nil
}

// Add records one contribution of person to partition key; see
// [Aggregation.Add] for what is accepted.
func (c *Counter) Add(person, key string) bool { return c.a != nil && c.a.Add(person, key, 0) }

// Release spends from budget once and returns the noisy counts; see
// [Aggregation.Release].
func (c *Counter) Release(ctx context.Context, budget *Budget) (*Result[int64], error) {
	if c.a == nil {
		return nil, errZero("Counter")
	}
	return c.a.Release(ctx, budget)
}

// Rejected returns how many records Add rejected (exact, not private).
func (c *Counter) Rejected() int64 {
	if c.a == nil {
		return 0
	}
	return c.a.Rejected()
}

// Merge adds the partial state of o; see [Aggregation.Merge].
func (c *Counter) Merge(o *Counter) error {
	if c.a == nil || o == nil || o.a == nil {
		return ErrIncompatible
	}
	return c.a.Merge(o.a)
}

// MarshalBinary encodes the partial state; see [Aggregation.MarshalBinary].
func (c *Counter) MarshalBinary() ([]byte, error) {
	if c.a == nil {
		return nil, errZero("Counter")
	}
	return c.a.MarshalBinary()
}

// UnmarshalBinary replaces c with decoded partial state; see
// [Aggregation.UnmarshalBinary].
func (c *Counter) UnmarshalBinary(data []byte) error {
	var a Aggregation[int64]
	if err := a.UnmarshalBinary(data); err != nil {
		return err
	}
	if a.spec.Metrics != Count {
		return stateErr("not a counter's state (metrics %v)", a.spec.Metrics)
	}
	c.a = &a
	return nil
}
