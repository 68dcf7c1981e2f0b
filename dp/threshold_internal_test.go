package dp

import (
	"math"
	"testing"

	"github.com/google/differential-privacy/go/v3/noise"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Where Google's Threshold is precise, ours is the same integer threshold
// (±1 for the union bound Google's Laplace uses below δ = 1.1e-10).
func TestThresholdMatchesGoogle(t *testing.T) {
	for _, kind := range []NoiseKind{Laplace, Gaussian} {
		for _, l0 := range []int64{1, 3, 10, 100} {
			for _, delta := range []float64{0.02, 1e-5, 1e-8, 1e-11} {
				for _, eps := range []float64{0.1, 1, 3} {
					noiseDelta := 0.0
					if kind == Gaussian {
						noiseDelta = delta
					}
					m := newMech(kind, eps, noiseDelta, l0, 1, 1)
					got, ok := threshold(m.Mechanism, delta)
					require.True(t, ok)
					want, err := m.lib().Threshold(l0, 1, eps, noiseDelta, delta)
					require.NoError(t, err)
					assert.InDelta(t, math.Ceil(want), float64(got), 1, "%v l0=%d δ=%g ε=%g", kind, l0, delta, eps)
				}
			}
		}
	}
}

// For small δ/L0 the threshold keeps rising as δ falls, stays finite, and
// a single person's count clears it in any of its L0 partitions with
// probability at most δ. Google's Threshold loses precision there and, once
// 1-(1-δ)^(1/L0) rounds to 0, returns +Inf, which int64 turns into the
// smallest int64: every partition was released.
func TestThresholdSmallDelta(t *testing.T) {
	for _, kind := range []NoiseKind{Laplace, Gaussian} {
		for _, l0 := range []int64{1, 10, 1000, 100_000, 10_000_000} {
			prev := int64(math.MinInt64)
			for e := -3; e >= -300; e -= 3 {
				delta := math.Pow(10, float64(e))
				noiseDelta := 0.0
				if kind == Gaussian {
					noiseDelta = 1e-6
				}
				m := newMech(kind, 1, noiseDelta, l0, 1, 1).Mechanism
				got, ok := threshold(m, delta)
				require.True(t, ok, "%v l0=%d δ=%g", kind, l0, delta)
				require.GreaterOrEqual(t, got, prev, "%v l0=%d δ=%g: a smaller δ needs a higher threshold", kind, l0, delta)
				prev = got
				// The probability that a count of 1 clears the threshold.
				x := float64(got) - 1
				var tail float64
				if kind == Gaussian {
					tail = math.Erfc(x/m.StdDev()/math.Sqrt2) / 2
				} else {
					tail = math.Exp(-x*m.Epsilon/float64(l0)) / 2
				}
				// Over the person's L0 independent partitions: at most δ.
				leak := -math.Expm1(float64(l0) * math.Log1p(-tail))
				assert.LessOrEqual(t, leak, delta*(1+1e-9), "%v l0=%d δ=%g", kind, l0, delta)
			}
		}
	}
	// The failure this guards against, in Google's own function.
	bad, err := noise.Gaussian().Threshold(10_000, 1, 0.6, 1e-12/3, 1e-12/3)
	require.NoError(t, err)
	require.True(t, math.IsInf(bad, 1))
}
