package linalg

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// randomSPD returns BᵀB + λI for a random m×n matrix B: symmetric
// positive definite, and ill-conditioned when m < n and λ is small.
func randomSPD(r *rand.Rand, n, m int, lambda float64) []float64 {
	b := make([]float64, m*n)
	for i := range b {
		if r.IntN(4) == 0 {
			b[i] = r.Float64()
		}
	}
	a := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			var s float64
			for k := 0; k < m; k++ {
				s += b[k*n+i] * b[k*n+j]
			}
			a[i*n+j], a[j*n+i] = s, s
		}
		a[i*n+i] += lambda
	}
	return a
}

// residual returns max |A·X - I|.
func residual(a, x []float64, n int) float64 {
	var worst float64
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for k := 0; k < n; k++ {
				s += a[i*n+k] * x[k*n+j]
			}
			if i == j {
				s--
			}
			worst = max(worst, math.Abs(s))
		}
	}
	return worst
}

func TestInvertSPD(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ n, m int }{{1, 3}, {2, 1}, {5, 20}, {97, 40}, {200, 300}, {301, 100}} {
		t.Run(strconv.Itoa(tc.n), func(t *testing.T) {
			a := randomSPD(r, tc.n, tc.m, 1)
			var want []float64
			for _, workers := range []int{1, 2, 3} {
				x := slices.Clone(a)
				if err := InvertSPD(x, tc.n, workers); err != nil {
					t.Fatal(err)
				}
				if res := residual(a, x, tc.n); res > 1e-9 {
					t.Errorf("workers %d: max |A·A⁻¹ - I| = %g", workers, res)
				}
				for i := 0; i < tc.n; i++ {
					for j := 0; j < i; j++ {
						if x[i*tc.n+j] != x[j*tc.n+i] {
							t.Fatalf("the inverse is not symmetric at (%d, %d)", i, j)
						}
					}
				}
				if want == nil {
					want = x
				} else if !slices.Equal(want, x) {
					t.Errorf("workers %d gives a different inverse than 1 worker", workers)
				}
			}
		})
	}
}

func TestInvertSPDRejects(t *testing.T) {
	for name, a := range map[string][]float64{
		"indefinite":          {1, 2, 2, 1},
		"singular":            {1, 1, 1, 1},
		"negative":            {-1},
		"NaN":                 {math.NaN()},
		"infinite":            {math.Inf(1), 0, 0, 1},
		"not positive, later": {4, 2, 0, 2, 1, 0, 0, 0, 1},
	} {
		n := int(math.Sqrt(float64(len(a))))
		if err := InvertSPD(a, n, 1); !errors.Is(err, ErrNotPositiveDefinite) {
			t.Errorf("%s: %v; want ErrNotPositiveDefinite", name, err)
		}
	}
	if err := InvertSPD(make([]float64, 5), 2, 1); err == nil {
		t.Error("a matrix of the wrong size was accepted")
	}
	if err := InvertSPD(nil, 0, 1); err != nil {
		t.Errorf("the empty matrix: %v", err)
	}
}

func BenchmarkInvertSPD(b *testing.B) {
	for _, n := range []int{500, 1000, 2000} {
		for _, workers := range []int{1, 2} {
			b.Run(strconv.Itoa(n)+"/workers="+strconv.Itoa(workers), func(b *testing.B) {
				a := randomSPD(rand.New(rand.NewPCG(1, 2)), n, 50, 10)
				x := make([]float64, len(a))
				b.ReportAllocs()
				for b.Loop() {
					copy(x, a)
					if err := InvertSPD(x, n, workers); err != nil {
						b.Fatal(err)
					}
				}
				flops := float64(n) * float64(n) * float64(n) * 2 / 3 // multiply-adds
				b.ReportMetric(flops/b.Elapsed().Seconds()*float64(b.N)/1e9, "Gmuladd/s")
			})
		}
	}
}
