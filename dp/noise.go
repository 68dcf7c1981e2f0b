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

// selector decides which privately selected partitions are released, with
// Google's partition selection (dpagg.PreAggSelectPartition): the optimal
// "magic" selection when a person touches at most 3 partitions, Gaussian
// thresholding of the noisy count of persons above that.
type selector struct {
	src      NoiseSource
	m        Mechanism
	pre      int64                       // pre-threshold (min persons)
	tmpl     dpagg.PreAggSelectPartition // copied per partition: no constructor churn
	count    mech                        // L0 > 3: Gaussian count of persons
	minNoisy int64                       // L0 > 3: release when noisy count ≥ minNoisy
}

func newSelector(src NoiseSource, eps, delta float64, l0, pre int64) (*selector, error) {
	s := &selector{src: src, pre: pre, m: Mechanism{Kind: Laplace, Epsilon: eps, Delta: delta, L0: l0, LInf: 1}}
	if l0 <= 3 {
		t, err := dpagg.NewPreAggSelectPartition(&dpagg.PreAggSelectPartitionOptions{
			Epsilon: eps, Delta: delta, MaxPartitionsContributed: l0, PreThreshold: pre})
		if err != nil {
			return nil, fmt.Errorf("dp: partition selection: %w", err)
		}
		s.tmpl = *t
		return s, nil
	}
	// What PreAggSelectPartition.ShouldKeepPartition does for L0 > 3, without
	// building a dpagg.Count (and drawing a throwaway sample) per partition.
	s.m.Kind = Gaussian
	s.count = newMech(Gaussian, eps, delta/2, l0, 1, 1)
	t, err := noise.Gaussian().Threshold(l0, 1, eps, delta/2, delta/2)
	if err != nil {
		return nil, fmt.Errorf("dp: partition selection: %w", err)
	}
	s.minNoisy = int64(math.Ceil(t))
	return s, nil
}

func (s *selector) keep(persons int64) (bool, error) {
	if persons < s.pre {
		return false, nil
	}
	if s.src != nil {
		return s.src.KeepPartition(persons, s.m), nil
	}
	if s.m.L0 <= 3 {
		c := s.tmpl
		if err := c.IncrementBy(persons); err != nil {
			return false, err
		}
		return c.ShouldKeepPartition()
	}
	noisy, err := s.count.addInt64(nil, persons-(s.pre-1))
	return noisy >= s.minNoisy, err
}

// thresholder releases noisy counts of persons only above a threshold
// (Google's thresholding, as in dpagg.Count.PreThresholdedResult): the noise
// and the selection share one draw, so the whole budget goes to the count.
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
	t, err := m.lib().Threshold(l0, 1, eps, noiseDelta, thresholdDelta)
	if err != nil {
		return nil, fmt.Errorf("dp: threshold: %w", err)
	}
	return &thresholder{src: src, m: m, pre: pre, minNoisy: int64(math.Ceil(t)) + pre - 1}, nil
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
