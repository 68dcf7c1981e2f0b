package gdp

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/differential-privacy/go/v3/noise"
	"github.com/stretchr/testify/assert"
)

// Mu agrees with Google's calibration of one Gaussian mechanism (σ for
// sensitivity 1 is 1/μ, found by Google to a relative 1e-3, from above),
// and Delta(ε, Mu(ε, δ)) is δ, from below.
func TestMuAgreesWithGoogle(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 500; i++ {
		eps := math.Exp(math.Log(1e-3) + rng.Float64()*math.Log(1e5))
		delta := math.Exp(math.Log(1e-15) + rng.Float64()*math.Log(1e15*0.9))
		mu := Mu(eps, delta)
		sigma := noise.SigmaForGaussian(1, 1, eps, delta)
		assert.InDelta(t, 1, mu*sigma, 1.5e-3, "ε %g δ %g", eps, delta)
		assert.GreaterOrEqual(t, mu*sigma, 1.0, "ε %g δ %g: Google's σ is an upper bound", eps, delta)
		assert.LessOrEqual(t, Delta(eps, mu), delta)
		assert.InDelta(t, delta, Delta(eps, mu), 1e-6*delta)
	}
}

// Scale declines where float64 cannot divide the noise reliably, and
// otherwise gives every part a larger δ (less noise) that composes.
func TestScale(t *testing.T) {
	_, ok := Scale(1e-7, 1e-12, []Part{{0.3e-7, 0.25e-12, 1, 1}, {0.6e-7, 0.75e-12, 1, 1}})
	assert.False(t, ok, "ill-conditioned")
	dels, ok := Scale(0.9, 1e-5, []Part{{0.3, 0.25e-5, 4, 1}, {0.6, 0.75e-5, 6, 1}})
	assert.True(t, ok)
	assert.Greater(t, dels[0], 0.25e-5)
	assert.Greater(t, dels[1], 0.75e-5)
	s0 := noise.SigmaForGaussian(1, 1, 0.3, dels[0])
	s1 := noise.SigmaForGaussian(1, 1, 0.6, dels[1])
	assert.LessOrEqual(t, Delta(0.9, math.Hypot(1/s0, 1/s1)), 1e-5)
}
