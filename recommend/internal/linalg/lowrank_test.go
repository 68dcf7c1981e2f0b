package linalg

import (
	"math"
	"math/rand/v2"
	"testing"
)

// spiked returns the signal Σ θ_i q_i q_iᵀ over random orthonormal q_i and
// the signal plus symmetric noise of standard deviation sigma off the
// diagonal.
func spiked(rng *rand.Rand, n int, thetas []float64, sigma float64) (signal, noisy []float64) {
	q := make([]float64, len(thetas)*n)
	for i := range q {
		q[i] = rng.NormFloat64()
	}
	orthonormalize(q, n)
	signal = make([]float64, n*n)
	for i, th := range thetas {
		qi := q[i*n : (i+1)*n]
		for x := 0; x < n; x++ {
			for y := 0; y < n; y++ {
				signal[x*n+y] += th * qi[x] * qi[y]
			}
		}
	}
	noisy = make([]float64, n*n)
	copy(noisy, signal)
	for x := 0; x < n; x++ {
		for y := x + 1; y < n; y++ {
			e := sigma * rng.NormFloat64()
			noisy[x*n+y] += e
			noisy[y*n+x] += e
		}
	}
	return signal, noisy
}

// offDiagonalError returns the root mean square of a - b off the diagonal.
func offDiagonalError(a, b []float64, n int) float64 {
	var s float64
	for x := 0; x < n; x++ {
		for y := 0; y < n; y++ {
			if x != y {
				d := a[x*n+y] - b[x*n+y]
				s += d * d
			}
		}
	}
	return math.Sqrt(s / float64(n*(n-1)))
}

// Above the noise's edge LowRank keeps every direction that stands out
// (more than it starts looking for), drops a direction too weak to stand
// out, and keeps at most r when r is positive.
func TestLowRankAboveTheNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n, sigma = 200, 1.0
	edge := 2 * sigma * math.Sqrt(n)
	var strong []float64
	for i := range 2*startWidth + 3 {
		strong = append(strong, 400-15*float64(i)) // 400 down to 115, all ≫ edge
	}
	signal, noisy := spiked(rng, n, append(strong, 0.5*edge), sigma) // the last one is invisible
	strongSignal, _ := spiked(rand.New(rand.NewPCG(5, 6)), n, strong, sigma)
	raw := offDiagonalError(noisy, signal, n)

	// Keeping k directions keeps the noise along them: a root mean square
	// of about σ√(2k/n) per entry.
	floor := func(k int) float64 { return sigma * math.Sqrt(2*float64(k)/n) }
	all := LowRank(noisy, n, n, edge)
	if e := offDiagonalError(all, strongSignal, n); e > 1.2*floor(len(strong)) {
		t.Errorf("all above the edge: error %.4f against the strong directions, floor %.4f (noise %.4f)", e, floor(len(strong)), raw)
	}
	// Keeping noise too (a fixed rank far beyond the signal's) is worse.
	if e, e0 := offDiagonalError(all, signal, n), offDiagonalError(LowRank(noisy, n, n/2, 0), signal, n); !(e < 0.75*e0) {
		t.Errorf("error above the edge %.4f, with rank %d %.4f", e, n/2, e0)
	}
	// At most 5: the 5 strongest. (Less precisely: the imputed diagonal
	// lacks the other directions' share, which perturbs the five.)
	top5, _ := spiked(rand.New(rand.NewPCG(5, 6)), n, strong[:5], sigma)
	capped := LowRank(noisy, n, 5, edge)
	if e := offDiagonalError(capped, top5, n); e > 0.4*raw {
		t.Errorf("at most 5: error %.4f against the 5 strongest, noise %.4f", e, raw)
	}
	if e := offDiagonalError(capped, strongSignal, n); e < raw {
		t.Errorf("at most 5 kept more: error %.4f against all strong directions", e)
	}
}

// Noise alone, below the edge everywhere, denoises to nothing; odd sizes
// and degenerate inputs give finite, symmetric results.
func TestLowRankEdgeCases(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const n = 60
	_, noise := spiked(rng, n, nil, 1)
	out := LowRank(noise, n, n, 2*math.Sqrt(1.1*n))
	for i, v := range out {
		if v != 0 {
			t.Fatalf("noise alone: entry %d is %g", i, v)
		}
	}
	if len(LowRank(nil, 0, 1, 0)) != 0 || len(LowRank(make([]float64, 4), 2, 0, 1)) != 4 {
		t.Error("empty matrix or rank 0")
	}
	for trial := range 200 {
		n := 1 + rng.IntN(40)
		var th []float64
		for range rng.IntN(min(n, 12) + 1) {
			th = append(th, rng.Float64()*50)
		}
		_, a := spiked(rng, n, th, rng.Float64()*3)
		out := LowRank(a, n, rng.IntN(n+2), rng.Float64()*20*float64(rng.IntN(2)))
		for x := 0; x < n; x++ {
			for y := 0; y < n; y++ {
				v := out[x*n+y]
				if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v-out[y*n+x]) > 1e-9*(1+math.Abs(v)) {
					t.Fatalf("trial %d (n %d): entry %d,%d is %g, its mirror %g", trial, n, x, y, v, out[y*n+x])
				}
			}
		}
	}
}
