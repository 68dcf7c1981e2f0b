package dp

import (
	"fmt"
	"math"

	"github.com/google/differential-privacy/go/v3/dpagg"
	"github.com/google/differential-privacy/go/v3/noise"
)

// NoiseSource draws the noise of a release in place of Google's secure
// noise. Results built with a NoiseSource are not private and say so
// (Private reports false). It exists for unit tests: package dptest has
// deterministic sources. Implementations must be safe to call from the
// goroutine that releases.
type NoiseSource interface {
	// AddNoiseInt64 returns x with noise for mechanism m added.
	AddNoiseInt64(x int64, m Mechanism) int64
	// AddNoiseFloat64 returns x with noise for mechanism m added.
	AddNoiseFloat64(x float64, m Mechanism) float64
	// KeepPartition decides whether a privately selected partition with the
	// given number of distinct persons is released.
	KeepPartition(persons int64, m Mechanism) bool
}

// Mechanism describes the noise added to one released value: its kind, its
// share of the privacy parameters and the sensitivity it is calibrated to
// (a person changes at most L0 released values, each by at most LInf).
type Mechanism struct {
	Kind    NoiseKind
	Epsilon float64
	Delta   float64
	L0      int64
	LInf    float64
}

// StdDev returns the standard deviation of the mechanism's noise: √2·L0·LInf/ε
// for Laplace, and for Gaussian the σ that Google's library calibrates to
// (ε, δ) and the L2 sensitivity LInf·√L0.
func (m Mechanism) StdDev() float64 {
	if m.Kind == Gaussian {
		return noise.SigmaForGaussian(m.L0, m.LInf, m.Epsilon, m.Delta)
	}
	return math.Sqrt2 * float64(m.L0) * m.LInf / m.Epsilon
}

// mech is a Mechanism with an integer sensitivity for int64 values.
type mech struct {
	Mechanism
	linfInt int64
}

func newMech(kind NoiseKind, eps, delta float64, l0 int64, linf float64, linfInt int64) mech {
	if kind == Laplace {
		delta = 0
	}
	return mech{Mechanism{Kind: kind, Epsilon: eps, Delta: delta, L0: l0, LInf: linf}, linfInt}
}

// check returns a *ParamError if Google's noise would refuse m at
// release: its share of ε below 2⁻⁵⁰, or Gaussian noise with no share of δ
// (a δ so small that its share rounds to 0).
func (m mech) check() error {
	if !(m.Epsilon >= minEpsilon) {
		return paramErr("Epsilon", m.Epsilon, "a share of Epsilon is below 2⁻⁵⁰, the least the secure noise accepts")
	}
	if m.Kind == Gaussian && !(m.Delta > 0) {
		return paramErr("Delta", m.Delta, "a share of Delta for Gaussian noise rounds to 0")
	}
	return nil
}

func (m mech) lib() noise.Noise {
	if m.Kind == Gaussian {
		return noise.Gaussian()
	}
	return noise.Laplace()
}

func (m mech) addInt64(src NoiseSource, x int64) (int64, error) {
	if src != nil {
		return src.AddNoiseInt64(x, m.Mechanism), nil
	}
	return m.lib().AddNoiseInt64(x, m.L0, m.linfInt, m.Epsilon, m.Delta)
}

func (m mech) addFloat64(src NoiseSource, x float64) (float64, error) {
	if src != nil {
		return src.AddNoiseFloat64(x, m.Mechanism), nil
	}
	return m.lib().AddNoiseFloat64(x, m.L0, m.LInf, m.Epsilon, m.Delta)
}

func (m mech) ciInt64(noisy int64, alpha float64) (lo, hi float64, err error) {
	ci, err := m.lib().ComputeConfidenceIntervalInt64(noisy, m.L0, m.linfInt, m.Epsilon, m.Delta, alpha)
	return ci.LowerBound, ci.UpperBound, err
}

func (m mech) ciFloat64(noisy float64, alpha float64) (lo, hi float64, err error) {
	ci, err := m.lib().ComputeConfidenceIntervalFloat64(noisy, m.L0, m.LInf, m.Epsilon, m.Delta, alpha)
	return ci.LowerBound, ci.UpperBound, err
}

// selector decides which privately selected partitions are released, as
// Google's partition selection (dpagg.PreAggSelectPartition) does: the
// optimal "magic" selection when a person touches at most 3 partitions,
// Gaussian thresholding of the noisy count of persons above that.
type selector struct {
	src  NoiseSource
	m    Mechanism
	pre  int64                       // pre-threshold (min persons)
	tmpl dpagg.PreAggSelectPartition // L0 ≤ 3; copied per partition: no constructor churn
	th   *thresholder                // L0 > 3
}

func newSelector(src NoiseSource, eps, delta float64, l0, pre int64) (*selector, error) {
	s := &selector{src: src, pre: pre, m: Mechanism{Kind: Laplace, Epsilon: eps, Delta: delta, L0: l0, LInf: 1}}
	if !(eps >= minEpsilon) {
		return nil, paramErr("Epsilon", eps, "the share of Epsilon for partition selection is below 2⁻⁵⁰")
	}
	if !(delta/float64(l0) > 0) {
		return nil, paramErr("Delta", delta, "the share of Delta for partition selection rounds to 0")
	}
	if l0 <= 3 {
		t, err := dpagg.NewPreAggSelectPartition(&dpagg.PreAggSelectPartitionOptions{
			Epsilon: eps, Delta: delta, MaxPartitionsContributed: l0, PreThreshold: pre})
		if err != nil {
			return nil, fmt.Errorf("dp: partition selection: %w", err)
		}
		s.tmpl = *t
		return s, nil
	}
	// What PreAggSelectPartition.ShouldKeepPartition does for L0 > 3 (a
	// Gaussian count of persons with δ/2, released above the threshold for
	// δ/2, less the pre-threshold), without building a dpagg.Count (and
	// drawing a throwaway sample) per partition, and with a threshold that
	// stays right for small δ.
	s.m.Kind = Gaussian
	th, err := newThresholder(nil, Gaussian, eps, delta, l0, pre)
	if err != nil {
		return nil, err
	}
	s.th = th
	return s, nil
}

func (s *selector) keep(persons int64) (bool, error) {
	if persons < s.pre {
		return false, nil
	}
	if s.src != nil {
		return s.src.KeepPartition(persons, s.m), nil
	}
	if s.th != nil {
		_, keep, err := s.th.release(persons)
		return keep, err
	}
	c := s.tmpl
	if err := c.IncrementBy(persons); err != nil {
		return false, err
	}
	return c.ShouldKeepPartition()
}

// thresholder releases noisy counts of persons only above a threshold
// (Google's thresholding, as in dpagg.Count.PreThresholdedResult): the noise
// and the selection share one draw, so the whole budget goes to the count.
// With Gaussian noise, δ goes half to the noise, half to the threshold.
type thresholder struct {
	src      NoiseSource
	m        mech
	pre      int64
	minNoisy int64
}

func newThresholder(src NoiseSource, kind NoiseKind, eps, delta float64, l0, pre int64) (*thresholder, error) {
	noiseDelta, thresholdDelta := 0.0, delta
	if kind == Gaussian {
		noiseDelta, thresholdDelta = delta/2, delta/2
	}
	m := newMech(kind, eps, noiseDelta, l0, 1, 1)
	if err := m.check(); err != nil {
		return nil, err
	}
	t, ok := threshold(m.Mechanism, thresholdDelta)
	if !ok {
		return nil, paramErr("Delta", delta, "too small for a finite selection threshold at this ε and bound")
	}
	// t + pre - 1, saturating (pre is at most MaxInt64, t below 2⁵³).
	minNoisy := t + (pre - 1)
	if minNoisy < t {
		minNoisy = math.MaxInt64
	}
	return &thresholder{src: src, m: m, pre: pre, minNoisy: minNoisy}, nil
}

// threshold returns the count at or above which a noisy count is released.
func (t *thresholder) threshold() int64 { return t.minNoisy }

func (t *thresholder) release(persons int64) (noisy int64, keep bool, err error) {
	if persons < t.pre {
		return 0, false, nil
	}
	if t.src != nil {
		if !t.src.KeepPartition(persons, t.m.Mechanism) {
			return 0, false, nil
		}
		return t.src.AddNoiseInt64(persons, t.m.Mechanism), true, nil
	}
	noisy, err = t.m.addInt64(nil, persons)
	return noisy, err == nil && noisy >= t.minNoisy, err
}

// threshold returns the smallest integer k such that a noisy count of
// persons with noise m (a person in at most m.L0 partitions, each count
// moved by at most m.LInf) reaches k with probability at most
// thresholdDelta, over all of a person's partitions, when the true count is
// m.LInf: the threshold of Google's noise.Laplace().Threshold and
// noise.Gaussian().Threshold. They are computed here because Google's lose
// their precision when thresholdDelta/L0 nears the float64 resolution
// around 1 (1.1e-16): 1-(1-δ)^(1/L0) is then rounded, by up to 100%, and
// at the end to 0, where the threshold becomes +Inf, which converts to the
// smallest int64 and would release every partition. It reports false if
// the threshold is not below 2⁵³.
func threshold(m Mechanism, thresholdDelta float64) (int64, bool) {
	// The per-partition δ, 1-(1-δ)^(1/L0), without cancellation.
	pd := -math.Expm1(math.Log1p(-thresholdDelta) / float64(m.L0))
	var t float64
	switch {
	case !(pd > 0):
		return 0, false
	case m.Kind == Gaussian:
		t = m.LInf + m.StdDev()*upperNormalQuantile(pd)
	case pd <= 0.5:
		t = m.LInf - float64(m.L0)*m.LInf/m.Epsilon*math.Log(2*pd)
	default:
		t = m.LInf + float64(m.L0)*m.LInf/m.Epsilon*math.Log(2*(1-pd))
	}
	if !(t < 1<<53) {
		return 0, false
	}
	return int64(math.Ceil(t)), true
}

// upperNormalQuantile returns z such that a standard normal variable
// exceeds z with probability at most p (and only just): bisection on the
// upper tail Q(z) = erfc(z/√2)/2, which math.Erfc computes to full
// relative precision far into the tail, where Φ⁻¹(1-p) cannot.
func upperNormalQuantile(p float64) float64 {
	q := func(z float64) float64 { return math.Erfc(z/math.Sqrt2) / 2 }
	lo, hi := -40.0, 40.0 // Q(-40) = 1, Q(40) = 0
	for {
		mid := lo + (hi-lo)/2
		if mid == lo || mid == hi {
			return hi
		}
		if q(mid) <= p {
			hi = mid
		} else {
			lo = mid
		}
	}
}
