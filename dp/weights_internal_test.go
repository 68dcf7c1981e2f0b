package dp

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exactNormExcess returns the norm of ys computed exactly (L2 squared for
// gaussian, L1 otherwise; 2¹¹ bits hold every sum of these squares),
// minus 1.
func exactNormExcess(ys []float64, gaussian bool) float64 {
	sum := new(big.Float).SetPrec(1 << 11)
	for _, y := range ys {
		t := new(big.Float).SetPrec(1 << 11).SetFloat64(y)
		if gaussian {
			t.Mul(t, t)
		}
		sum.Add(sum, t)
	}
	excess, _ := sum.Sub(sum, big.NewFloat(1)).Float64()
	return excess
}

// Property: normalize scales any non-negative contributions, from the
// smallest to the largest floats, to norm 1 (L2 for Gaussian noise, L1
// for Laplace) in exact arithmetic up to two units in the last place of 1
// (as equal contributions always were), keeping their proportions, never
// producing NaN or infinities.
func TestNormalize(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 41))
	const ulps2 = 0x1p-51
	worst := 0.0
	for i := 0; i < 2000; i++ {
		n := 1 + r.IntN(500)
		if i%50 == 0 {
			n = 1 + r.IntN(20000)
		}
		ys := make([]float64, n)
		spread := []float64{0.1, 3, 30, 300}[r.IntN(4)] // e-folds
		for j := range ys {
			ys[j] = math.Exp(spread * (r.Float64() - 0.5))
		}
		if n > 1 && r.IntN(5) == 0 {
			ys[r.IntN(n)] = 0 // an underflowed product
		}
		orig := append([]float64(nil), ys...)
		for _, noise := range []NoiseKind{Laplace, Gaussian} {
			c := &Cooccurrence{p: CooccurrenceParams{Noise: noise}}
			copy(ys, orig)
			c.normalize(ys)
			top, at := 0.0, 0
			for j, y := range orig {
				if y > top {
					top, at = y, j
				}
			}
			for j, y := range ys {
				require.False(t, math.IsNaN(y) || math.IsInf(y, 0) || y < 0, "%v", y)
				if want := orig[j] / top * ys[at]; want > 1e-300 {
					require.InEpsilon(t, want, y, 1e-14, "proportions kept")
				}
			}
			excess := exactNormExcess(ys, noise == Gaussian)
			worst = max(worst, excess)
			require.LessOrEqual(t, excess, ulps2, "n %d spread %v %v", n, spread, noise)
			require.Greater(t, excess, -1e-12, "n %d spread %v %v: norm 1, not less", n, spread, noise)
		}
	}
	t.Logf("worst excess over 1: %.3g units in the last place", worst/0x1p-52)
}

// Equal contributions get exactly, bit for bit, the weight every person
// had before weights: 1/√n (1/n), rounded down until n of them have norm
// at most 1 in floating point.
func TestNormalizeEqual(t *testing.T) {
	old := func(n int, gaussian bool) float64 {
		if n <= 1 {
			return 1
		}
		f := float64(n)
		if gaussian {
			w := 1 / math.Sqrt(f)
			for w*w*f > 1 {
				w = math.Nextafter(w, 0)
			}
			return w
		}
		w := 1 / f
		for w*f > 1 {
			w = math.Nextafter(w, 0)
		}
		return w
	}
	for _, noise := range []NoiseKind{Laplace, Gaussian} {
		c := &Cooccurrence{p: CooccurrenceParams{Noise: noise}}
		for n := 1; n <= 3000; n++ {
			ys := make([]float64, n)
			for j := range ys {
				ys[j] = 1
			}
			c.normalize(ys)
			want := old(n, noise == Gaussian)
			for _, y := range ys {
				if y != want {
					assert.Equal(t, want, y, "n %d %v", n, noise)
					break
				}
			}
		}
	}
}

// All underflowed: nothing to count, and no NaN.
func TestNormalizeZeros(t *testing.T) {
	c := &Cooccurrence{p: CooccurrenceParams{Noise: Gaussian}}
	ys := []float64{0, 0}
	c.normalize(ys)
	assert.Equal(t, []float64{0, 0}, ys)
}
