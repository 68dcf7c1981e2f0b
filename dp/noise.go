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
	Kind    NoiseKind `json:"kind"`
	Epsilon float64   `json:"epsilon"`
	Delta   float64   `json:"delta"`
	L0      int64     `json:"l0"`
	LInf    float64   `json:"linf"`
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

// mech is a Mechanism with an integer sensitivity for int64 values; a
// linfInt of 0 marks a mechanism that only noises float64 values.
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

// Limits within which Google's secure noise, and the confidence intervals
// around it, terminate, are finite and are exact to their granularity (see
// "Limits" in the package doc). The noise scale of a value is L0·L∞/ε for
// Laplace, σ for Gaussian.
const (
	// minSensitivity is the least sensitivity (L0·L∞ for Laplace, L∞·√L0
	// for Gaussian). Above it the noise scale exceeds 1e-202, the
	// granularity of the noise (a power of two near scale/2⁴⁰ for
	// Laplace, σ/2⁵⁶ for Gaussian) is a normal float64, and Google's
	// search for σ terminates; below it, the granularity dominated the
	// result, or the search for σ, among subnormal numbers, never ended.
	minSensitivity = 1e-200
	// maxNoiseScale keeps float64 noise and intervals (at most about
	// 2²⁴·scale and 33·scale) below MaxFloat64.
	maxNoiseScale = 1e300
	// maxIntNoiseScale keeps int64 noise and intervals within ±2⁶¹, so
	// that added to a value within ±maxIntValue they cannot overflow; the
	// noise exceeds 2¹¹ times its scale with probability below e⁻²⁰⁰⁰.
	maxIntNoiseScale = 1 << 50
	// maxIntValue is where exact int64 sums saturate before noise.
	maxIntValue = 1 << 62
	// maxFloatBound is the largest magnitude of float64 bounds: sums of
	// up to 2⁶³ clamped values stay far below MaxFloat64.
	maxFloatBound = 1e250
)

// sensitivity returns the sensitivity m's noise is calibrated to: L1 =
// L0·L∞ for Laplace, L2 = L∞·√L0 for Gaussian.
func (m Mechanism) sensitivity() float64 {
	if m.Kind == Gaussian {
		return m.LInf * math.Sqrt(float64(m.L0))
	}
	return float64(m.L0) * m.LInf
}

// check returns a *ParamError if Google's noise would refuse m at release
// (its share of ε below 2⁻⁵⁰, Gaussian noise with no share of δ, a
// sensitivity of 0), or would hang or not give finite, representable
// results: a share of ε above MaxEpsilon, a sensitivity below
// minSensitivity, a noise scale above maxNoiseScale (maxIntNoiseScale for
// int64 values). The order matters: Google's σ is computed only for the
// ε and sensitivities where its search terminates.
func (m mech) check() error {
	if !(m.Epsilon >= minEpsilon) {
		return paramErr("Epsilon", m.Epsilon, "a share of Epsilon is below 2⁻⁵⁰, the least the secure noise accepts")
	}
	if !(m.Epsilon <= MaxEpsilon) {
		return paramErr("Epsilon", m.Epsilon, "a share of Epsilon is above MaxEpsilon (100)")
	}
	if m.Kind == Gaussian && !(m.Delta > 0) {
		return paramErr("Delta", m.Delta, "a share of Delta for Gaussian noise rounds to 0")
	}
	if !(m.sensitivity() >= minSensitivity) {
		return paramErr("Bounds", m.LInf, "the sensitivity is below 1e-200: the secure noise cannot be that fine")
	}
	s := float64(m.L0) * m.LInf / m.Epsilon // Laplace's scale
	if m.Kind == Gaussian {
		s = m.StdDev()
	}
	if m.linfInt > 0 && !(s <= maxIntNoiseScale) {
		return paramErr("Epsilon", m.Epsilon, "too small for the sensitivity of int64 values: the noise scale would exceed 2⁵⁰ and the noisy values could overflow int64")
	}
	if !(s <= maxNoiseScale) {
		return paramErr("Epsilon", m.Epsilon, "too small for the sensitivity: the noise scale would exceed 1e300 and the noisy values could overflow float64")
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
		// Google's selection derives a crossover count from ε/L0 and δ/L0
		// that, where rounding makes it 0 or overflows it (δ/L0 subnormal,
		// or (ε/L0)·(1-δ/L0) near the float64 resolution), fails for every
		// partition. Try one partition here rather than after the budget
		// has paid (with Google's code even under a test NoiseSource): if
		// one count succeeds, all do.
		probe := s.tmpl
		err = probe.IncrementBy(pre)
		if err == nil {
			_, err = probe.ShouldKeepPartition()
		}
		if err != nil {
			return nil, paramErr("Delta", delta, "Google's partition selection cannot be computed at this share of ε and δ: use a smaller Delta or a larger Epsilon")
		}
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
