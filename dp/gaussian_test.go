package dp_test

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/google/differential-privacy/go/v3/noise"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/dptest"
)

// exactDelta is Balle and Wang's δ of the Gaussian mechanism whose
// sensitivity is mu times its noise's standard deviation, at eps (ICML
// 2018, Theorem 8), written out here independently of package dp.
func exactDelta(eps, mu float64) float64 {
	cdf := func(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }
	return cdf(mu/2-eps/mu) - math.Exp(eps)*cdf(-mu/2-eps/mu)
}

// jointMu is the sensitivity-to-noise ratio of the three counts of a
// release together: √Σ(sᵢ/σᵢ)², each σ the noise drawn.
func jointMu(ms ...dp.Mechanism) float64 {
	var mu2 float64
	for _, m := range ms {
		r := m.LInf * math.Sqrt(float64(m.L0)) / m.StdDev()
		mu2 += r * r
	}
	return math.Sqrt(mu2)
}

// Over many random releases with public pairs and Gaussian noise, the
// item and pair counts compose exactly to their shares of ε and all of δ
// (checked with Balle and Wang's formula, and against Google's σ for one
// mechanism), waste no more than Google's calibration accuracy, keep the
// ratio of their noises of the additive split and have less noise than it
// gave them; the number of persons keeps its Laplace noise.
func TestJointGaussianProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	catalog := []string{"a", "b", "c", "d"}
	logUniform := func(lo, hi float64) float64 {
		return math.Exp(math.Log(lo) + rng.Float64()*(math.Log(hi)-math.Log(lo)))
	}
	for i := 0; i < 300; i++ {
		eps, delta := logUniform(1e-3, 100), logUniform(1e-12, 0.5)
		split := [3]float64{logUniform(0.01, 1), logUniform(0.01, 1), logUniform(0.01, 1)}
		p := dp.CooccurrenceParams{Epsilon: eps, Delta: delta, MaxItems: 2 + rng.IntN(50), MaxPairs: 1 + rng.IntN(1000),
			Noise: dp.Gaussian, Items: catalog, PairItems: 3, Weighted: rng.IntN(2) == 0, Split: split,
			NoiseSource: dptest.Noise{}}
		what := strconv.Itoa(i) + ": ε " + strconv.FormatFloat(eps, 'g', 4, 64) + ", δ " + strconv.FormatFloat(delta, 'g', 4, 64)
		c, err := dp.NewCooccurrence(p)
		require.NoError(t, err, what)
		c.Add("ann", "a")
		res, err := c.Release(ctx, bigBudget(t))
		require.NoError(t, err, what)
		sum := split[0] + split[1] + split[2]
		assert.Equal(t, dp.Mechanism{Kind: dp.Laplace, Epsilon: res.PersonNoise.Epsilon, L0: 1, LInf: 1}, res.PersonNoise, what)
		assert.InDelta(t, eps*split[0]/sum, res.PersonNoise.Epsilon, 1e-12*eps, what)
		ms := []dp.Mechanism{res.ItemNoise, res.PairNoise}
		for j, m := range ms {
			require.Equal(t, dp.Gaussian, m.Kind, what)
			assert.InDelta(t, eps*split[j+1]/sum, m.Epsilon, 1e-12*eps, what)
		}
		shares := res.PersonNoise.Epsilon + ms[0].Epsilon + ms[1].Epsilon
		assert.LessOrEqual(t, shares, eps, what)

		gauss := ms[0].Epsilon + ms[1].Epsilon
		mu := jointMu(ms...)
		assert.LessOrEqual(t, exactDelta(gauss, mu), delta, "%s: items and pairs compose to more than δ", what)
		tight := 1 / noise.SigmaForGaussian(1, 1, gauss, delta) // at most the exact μ of (ε, δ)
		assert.GreaterOrEqual(t, mu, tight*(1-2e-3), "%s: noise wasted", what)
		assert.LessOrEqual(t, mu, tight*(1+2e-3), what)

		// The additive split gave items δ/4 and pairs 3δ/4: both noises
		// are now divided by the same factor, at least 1.
		items := res.ItemNoise.StdDev() / noise.SigmaForGaussian(res.ItemNoise.L0, 1, res.ItemNoise.Epsilon, delta/4)
		pairs := res.PairNoise.StdDev() / noise.SigmaForGaussian(res.PairNoise.L0, 1, res.PairNoise.Epsilon, 3*delta/4)
		assert.LessOrEqual(t, items, 1.0, what)
		assert.InDelta(t, items, pairs, 3e-3, what)
	}
}

// The gain the CooccurrenceParams doc quotes, at δ = 10⁻⁵ and the default
// split: 21% less noise at ε = 8, 24% at ε = 1.
func TestJointGaussianGain(t *testing.T) {
	for _, tc := range []struct{ eps, gain float64 }{{8, 0.21}, {1, 0.24}} {
		c, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: tc.eps, Delta: 1e-5, MaxItems: 4, MaxPairs: 6,
			Noise: dp.Gaussian, Items: []string{"a", "b"}, PairItems: 2, Weighted: true, NoiseSource: dptest.Noise{}})
		require.NoError(t, err)
		c.Add("ann", "a")
		res, err := c.Release(ctx, bigBudget(t))
		require.NoError(t, err)
		pairs := res.PairNoise.StdDev() / noise.SigmaForGaussian(1, 1, 0.6*tc.eps, 0.75e-5)
		items := res.ItemNoise.StdDev() / noise.SigmaForGaussian(1, 1, 0.3*tc.eps, 0.25e-5)
		assert.InDelta(t, 1-tc.gain, pairs, 0.005, "ε %g", tc.eps)
		assert.InDelta(t, 1-tc.gain, items, 0.005, "ε %g", tc.eps)
	}
}

// Where ε is so small that float64 cannot compute the exact composition
// reliably, the release keeps the additive split: items δ/4, pairs 3δ/4.
func TestJointGaussianFallback(t *testing.T) {
	const eps, delta = 1e-7, 1e-12
	c, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: eps, Delta: delta, MaxItems: 4, MaxPairs: 6,
		Noise: dp.Gaussian, Items: []string{"a", "b"}, PairItems: 2, Weighted: true, NoiseSource: dptest.Noise{}})
	require.NoError(t, err)
	c.Add("ann", "a")
	res, err := c.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	assert.InDelta(t, 0.25*delta, res.ItemNoise.Delta, 1e-25)
	assert.InDelta(t, 0.75*delta, res.PairNoise.Delta, 1e-25)
}
