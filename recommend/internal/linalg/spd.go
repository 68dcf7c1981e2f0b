// Package linalg inverts the dense symmetric positive definite matrices of
// recommend's linear item model, in pure Go. It is not a general linear
// algebra library: it does what EASE needs, in float64.
//
// The method is the block sweep (Gauss-Jordan elimination without
// pivoting, which positive definite matrices do not need): for each block
// K of b pivots in turn, with R the other indices,
//
//	S = A[K,K],  T = A[R,K]·S⁻¹
//	A[R,R] -= T·A[K,R],  A[R,K] = T,  A[K,R] = Tᵀ,  A[K,K] = -S⁻¹
//
// after which the matrix holds -A⁻¹. Nearly all the work (n³/2
// multiply-adds, on the lower triangle) is the rank-b update of A[R,R],
// done on packed copies of the panels, in tiles that stay in cache, with
// 4×2 blocks of accumulators.
package linalg

import (
	"errors"
	"math"
	"sync"
)

// ErrNotPositiveDefinite is returned when a pivot is not positive: the
// matrix is singular, indefinite or not finite.
var ErrNotPositiveDefinite = errors.New("linalg: matrix is not positive definite")

const (
	panel = 128 // b, the pivots swept at a time
	tile  = 64  // rows of the update tiles
)

// InvertSPD replaces a, an n×n symmetric positive definite matrix in
// row-major order (both triangles), by its inverse (both triangles). It
// reads only the lower triangle. With workers > 1 it splits the work of
// each step over that many goroutines, and waits for them before it
// returns. It needs 2·n·128 extra float64s. On error, a is left in an
// unspecified state.
func InvertSPD(a []float64, n, workers int) error {
	if n < 0 || len(a) != n*n {
		return errors.New("linalg: matrix has the wrong size")
	}
	for _, v := range a {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return ErrNotPositiveDefinite
		}
	}
	workers = max(workers, 1)
	s := make([]float64, panel*panel)
	tp := make([]float64, n*panel) // T, packed: row r of R, then its b columns
	ap := make([]float64, n*panel) // A[R,K] before the step, packed likewise
	for k0 := 0; k0 < n; k0 += panel {
		k1 := min(k0+panel, n)
		b := k1 - k0
		// S⁻¹, from the lower triangle of A[K,K].
		for i := 0; i < b; i++ {
			for j := 0; j <= i; j++ {
				v := a[(k0+i)*n+k0+j]
				s[i*b+j], s[j*b+i] = v, v
			}
		}
		if err := sweepSmall(s[:b*b], b); err != nil {
			return err
		}
		// Pack A[R,K] (the lower triangle holds A[i][K] as a row segment
		// for i >= k1, and as a column of A[K][i] for i < k0), and
		// T = A[R,K]·S⁻¹.
		m := n - b
		parallel(0, m, workers, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				i := row(r, k0, b)
				ar := ap[r*b : r*b+b]
				if i >= k1 {
					copy(ar, a[i*n+k0:i*n+k1])
				} else {
					for k := range b {
						ar[k] = a[(k0+k)*n+i]
					}
				}
				tr := tp[r*b : r*b+b]
				for k := range b {
					tr[k] = dot(ar, s[k*b:k*b+b]) // S⁻¹ is symmetric: row k is column k
				}
			}
		})
		// A[R,R] -= T·A[K,R] on the lower triangle, tile by tile.
		tiles := (m + tile - 1) / tile
		parallelTriangle(0, tiles, workers, func(lo, hi int) {
			for ti := lo; ti < hi; ti++ {
				for tj := 0; tj <= ti; tj++ {
					update(a, n, tp, ap, b, k0, m, ti*tile, tj*tile)
				}
			}
		})
		// A[R,K] = T (lower triangle: rows below K hold it as a row
		// segment, rows above K as a column of the rows of K), and
		// A[K,K] = -S⁻¹.
		for r := 0; r < m; r++ {
			i := row(r, k0, b)
			tr := tp[r*b : r*b+b]
			if i >= k1 {
				copy(a[i*n+k0:i*n+k1], tr)
			} else {
				for k := range b {
					a[(k0+k)*n+i] = tr[k]
				}
			}
		}
		for i := 0; i < b; i++ {
			for j := 0; j <= i; j++ {
				a[(k0+i)*n+k0+j] = -s[i*b+j]
			}
		}
	}
	// The matrix holds -A⁻¹ in its lower triangle: negate, and mirror.
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			v := -a[i*n+j]
			a[i*n+j], a[j*n+i] = v, v
		}
	}
	return nil
}

// row maps packed index r of R to its row of the matrix, R being every
// index but the b from k0.
func row(r, k0, b int) int {
	if r < k0 {
		return r
	}
	return r + b
}

// update subtracts from the lower triangle of a, over the tile of packed
// rows [i0, i0+tile) × [j0, j0+tile) of R, the products of the packed rows
// of T and of A[R,K]: a[i][j] -= tp[ri]·ap[rj] for rj <= ri.
func update(a []float64, n int, tp, ap []float64, b, k0, m, i0, j0 int) {
	i1, j1 := min(i0+tile, m), min(j0+tile, m)
	ri := i0
	for ; ri+4 <= i1; ri += 4 {
		jmax := min(j1, ri+4) // the lower triangle: rj <= ri+3
		rj := j0
		for ; rj+2 <= jmax; rj += 2 {
			c := kernel4x2(tp[ri*b:(ri+4)*b], ap[rj*b:(rj+2)*b], b)
			for x := range 4 {
				for y := range 2 {
					if rj+y <= ri+x {
						a[row(ri+x, k0, b)*n+row(rj+y, k0, b)] -= c[x*2+y]
					}
				}
			}
		}
		for ; rj < jmax; rj++ {
			for x := range 4 {
				if rj <= ri+x {
					a[row(ri+x, k0, b)*n+row(rj, k0, b)] -= dot(tp[(ri+x)*b:(ri+x+1)*b], ap[rj*b:rj*b+b])
				}
			}
		}
	}
	for ; ri < i1; ri++ {
		for rj := j0; rj < min(j1, ri+1); rj++ {
			a[row(ri, k0, b)*n+row(rj, k0, b)] -= dot(tp[ri*b:ri*b+b], ap[rj*b:rj*b+b])
		}
	}
}

// kernel4x2 returns the 8 dot products of 4 rows of t with 2 rows of p,
// each row b long, in row-major order.
func kernel4x2(t, p []float64, b int) [8]float64 {
	t0, t1, t2, t3 := t[0:b], t[b:2*b], t[2*b:3*b], t[3*b:4*b]
	p0, p1 := p[0:b], p[b:2*b]
	var c00, c01, c10, c11, c20, c21, c30, c31 float64
	for k := range b {
		x0, x1 := p0[k], p1[k]
		y := t0[k]
		c00 += y * x0
		c01 += y * x1
		y = t1[k]
		c10 += y * x0
		c11 += y * x1
		y = t2[k]
		c20 += y * x0
		c21 += y * x1
		y = t3[k]
		c30 += y * x0
		c31 += y * x1
	}
	return [8]float64{c00, c01, c10, c11, c20, c21, c30, c31}
}

// sweepSmall replaces s, a b×b symmetric positive definite matrix (both
// triangles), by its inverse, with the scalar sweep.
func sweepSmall(s []float64, b int) error {
	for k := 0; k < b; k++ {
		d := s[k*b+k]
		if !(d > 0) || math.IsInf(d, 0) {
			return ErrNotPositiveDefinite
		}
		rk := s[k*b : k*b+b]
		for i := 0; i < b; i++ {
			if i == k {
				continue
			}
			f := s[i*b+k] / d
			if f == 0 {
				continue
			}
			ri := s[i*b : i*b+b]
			for j := 0; j < b; j++ {
				if j != k {
					ri[j] -= f * rk[j]
				}
			}
		}
		for i := 0; i < b; i++ {
			if i != k {
				s[i*b+k] /= d
				s[k*b+i] = s[i*b+k]
			}
		}
		s[k*b+k] = -1 / d
	}
	for i := range s {
		s[i] = -s[i]
	}
	return nil
}

// dot returns x·y over len(x) (y at least as long).
func dot(x, y []float64) float64 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// parallel calls f over [lo, hi) split into about equal parts, one per
// worker, and waits for them.
func parallel(lo, hi, workers int, f func(lo, hi int)) {
	n := hi - lo
	if workers <= 1 || n < 64 {
		if n > 0 {
			f(lo, hi)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		a, b := lo+n*w/workers, lo+n*(w+1)/workers
		if a == b {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(a, b)
		}()
	}
	wg.Wait()
}

// parallelTriangle is parallel for rows whose work grows with the row
// index: the rows are dealt to the workers one at a time, in turn, so that
// every worker gets a like share.
func parallelTriangle(lo, hi, workers int, f func(lo, hi int)) {
	if workers <= 1 || hi-lo < 2 {
		if hi > lo {
			f(lo, hi)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := lo + w; r < hi; r += workers {
				f(r, r+1)
			}
		}()
	}
	wg.Wait()
}
