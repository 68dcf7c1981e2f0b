package dpbeam

import (
	"math"
	"math/big"
	"slices"
	"strconv"

	"github.com/google/differential-privacy/go/v3/noise"
	"github.com/google/differential-privacy/privacy-on-beam/v3/pbeam"
	"github.com/tact-go/tact/dp"
)

// mech is one noisy value's mechanism, as package dp describes it
// (dp.Mechanism), with the integer sensitivity of int64 values (0 for
// mechanisms that only noise float64 values). It is a field of DoFns, so
// it encodes to JSON.
type mech struct {
	dp.Mechanism
	LInfInt int64 `json:"linf_int"`
}

// newMech is dp's: Laplace noise takes no δ.
func newMech(kind dp.NoiseKind, eps, delta float64, l0 int64, linf float64, linfInt int64) mech {
	if kind == dp.Laplace {
		delta = 0
	}
	return mech{dp.Mechanism{Kind: kind, Epsilon: eps, Delta: delta, L0: l0, LInf: linf}, linfInt}
}

func lib(kind dp.NoiseKind) noise.Noise {
	if kind == dp.Gaussian {
		return noise.Gaussian()
	}
	return noise.Laplace()
}

// pbeamNoise is pbeam's name for kind.
func pbeamNoise(kind dp.NoiseKind) pbeam.NoiseKind {
	if kind == dp.Gaussian {
		return pbeam.GaussianNoise{}
	}
	return pbeam.LaplaceNoise{}
}

// ciInt64 is the confidence interval Google's library states for a noisy
// int64 value: the one package dp releases with it.
func (m mech) ciInt64(noisy int64, alpha float64) (lo, hi float64, err error) {
	ci, err := lib(m.Kind).ComputeConfidenceIntervalInt64(noisy, m.L0, m.LInfInt, m.Epsilon, m.Delta, alpha)
	return ci.LowerBound, ci.UpperBound, err
}

// ciFloat64 is ciInt64 for float64 values.
func (m mech) ciFloat64(noisy, alpha float64) (lo, hi float64, err error) {
	ci, err := lib(m.Kind).ComputeConfidenceIntervalFloat64(noisy, m.L0, m.LInf, m.Epsilon, m.Delta, alpha)
	return ci.LowerBound, ci.UpperBound, err
}

// addFloat64 adds Google's secure noise for m to x.
func (m mech) addFloat64(x float64) (float64, error) {
	return lib(m.Kind).AddNoiseFloat64(x, m.L0, m.LInf, m.Epsilon, m.Delta)
}

// splitDown is dp's: x split into shares proportional to weights, each
// rounded so that the exact sum of the shares never exceeds x.
func splitDown(x float64, weights ...float64) []float64 {
	var total float64
	for _, w := range weights {
		total += w
	}
	shares := make([]float64, len(weights))
	var want big.Rat
	want.SetFloat64(x)
	for {
		var sum, s big.Rat
		for i, w := range weights {
			shares[i] = x * (w / total)
			sum.Add(&sum, s.SetFloat64(shares[i]))
		}
		if sum.Cmp(&want) <= 0 {
			return shares
		}
		x = math.Nextafter(x, 0)
	}
}

// thresholding is Google's thresholding of a noisy count of persons, as
// pbeam.DistinctPrivacyID applies it and dp's TopK and Cooccurrence
// describe it: the count, with noise m, is released when it reaches
// Threshold; counts of fewer than Pre persons are dropped first.
type thresholding struct {
	m              mech
	thresholdDelta float64
	pre            int64
	Threshold      int64 // ceil(Google's threshold) + Pre - 1, as dp reports it
}

// newThresholding is dp's newThresholder: with Gaussian noise δ goes half
// to the noise and half to the threshold. It refuses (a *dp.ParamError)
// parameters for which Google's threshold, which pbeam uses, is not finite
// or lower than the exact one that package dp computes: where the per-
// partition δ nears the float64 resolution, Google's Gaussian threshold
// rounds it (to +Inf, which as an int64 would release everything), and a
// threshold that came out too low would release partitions the guarantee
// requires dropping.
func newThresholding(kind dp.NoiseKind, eps, delta float64, l0, pre int64) (thresholding, error) {
	noiseDelta, thresholdDelta := 0.0, delta
	if kind == dp.Gaussian {
		noiseDelta, thresholdDelta = delta/2, delta/2
	}
	m := newMech(kind, eps, noiseDelta, l0, 1, 1)
	g, err := lib(kind).Threshold(l0, 1, eps, noiseDelta, thresholdDelta)
	exact, ok := exactThreshold(m.Mechanism, thresholdDelta)
	if err != nil || !ok || math.IsNaN(g) || !(math.Ceil(g) < 1<<53) || int64(math.Ceil(g)) < exact {
		return thresholding{}, &dp.ParamError{Param: "Delta", Value: strconv.FormatFloat(delta, 'g', -1, 64),
			Reason: "too small for Google's thresholding at this ε and bound, which pbeam uses (package dp computes it exactly; on Beam use a larger Delta)"}
	}
	t := int64(math.Ceil(g))
	minNoisy := t + (pre - 1)
	if minNoisy < t {
		minNoisy = math.MaxInt64
	}
	return thresholding{m: m, thresholdDelta: thresholdDelta, pre: pre, Threshold: minNoisy}, nil
}

// exactThreshold is dp's threshold: the smallest integer that a noisy
// count of persons with noise m reaches with probability at most
// thresholdDelta over all of a person's partitions, when the true count is
// m.LInf, computed without cancellation. It reports false if it is not
// below 2⁵³.
func exactThreshold(m dp.Mechanism, thresholdDelta float64) (int64, bool) {
	pd := -math.Expm1(math.Log1p(-thresholdDelta) / float64(m.L0))
	var t float64
	switch {
	case !(pd > 0):
		return 0, false
	case m.Kind == dp.Gaussian:
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
// exceeds z with probability at most p (and only just).
func upperNormalQuantile(p float64) float64 {
	q := func(z float64) float64 { return math.Erfc(z/math.Sqrt2) / 2 }
	lo, hi := -40.0, 40.0
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

// checkSelection refuses what pbeam.SelectPartitions would get wrong:
// with L0 > 3, Google's partition selection thresholds a Gaussian count of
// persons with δ/2 for the noise and δ/2 for the threshold, computed with
// the rounding newThresholding guards against. (With L0 ≤ 3 it is the
// computation package dp itself probes at construction.)
func checkSelection(eps, delta float64, l0 int64) error {
	if l0 <= 3 {
		return nil
	}
	_, err := newThresholding(dp.Gaussian, eps, delta, l0, 1)
	return err
}

// normalize is dp's: it scales one person's contributions ys
// (non-negative) in place to norm 1, L2 for Gaussian noise and L1 for
// Laplace, rounded down where floating point would exceed it, with a
// compensated sum.
func normalize(ys []float64, gaussian bool) {
	top := slices.Max(ys)
	if top == 0 {
		return
	}
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

// noisySumFn sums the contributions to each key and adds Google's secure
// noise for M once, in ExtractOutput: the weighted counts of a
// co-occurrence release, whose bound is a norm over each person's vector
// of contributions, which pbeam's L0·L∞ bounding cannot express. With
// Test it adds none.
type noisySumFn struct {
	M    mech `json:"m"`
	Test bool `json:"test"`
}

func (f *noisySumFn) CreateAccumulator() float64             { return 0 }
func (f *noisySumFn) AddInput(a, x float64) float64          { return a + x }
func (f *noisySumFn) MergeAccumulators(a, b float64) float64 { return a + b }
func (f *noisySumFn) ExtractOutput(a float64) (float64, error) {
	if f.Test {
		return a, nil
	}
	return f.M.addFloat64(a)
}
