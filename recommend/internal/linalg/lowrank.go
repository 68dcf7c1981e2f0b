package linalg

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
)

// Low-rank denoising of released pair counts.
//
// The pair counts among K candidate items form a symmetric K×K matrix. With
// weighted persons it is, before noise, Σ_p w_p x_p x_pᵀ over persons p
// (x_p the indicator of p's candidate items): positive semi-definite and,
// since tastes are few, close to low-rank. The noise is independent on
// every entry and spreads over all K dimensions: with standard deviation σ
// its eigenvalues fill [-2σ√K, 2σ√K] (Wigner's semicircle), and a
// direction of the signal shows as an eigenvalue beyond that edge only if
// it is strong enough to stand out of the noise. Keeping the largest
// eigenvalues above the edge (or the r largest positive ones) keeps most of
// the signal and drops most of the noise. The diagonal was not released
// (item counts carry other weights), so it is imputed: started at the
// largest entry of each row (a lower bound of the true diagonal) and
// replaced by the approximation's own diagonal a few times.

const (
	imputeRounds   = 5
	subspaceRounds = 50
	// startWidth is how many eigenvectors the search for the eigenvalues
	// above an edge starts with (it doubles while all are above), and how
	// many more than it keeps it iterates on.
	startWidth = 8
)

// LowRank returns the approximation of the symmetric n×n matrix a
// (row-major; the diagonal is ignored and imputed) from its r largest
// eigenvalues above edge (and above 0): for denoising the pair counts of
// a differentially private release, edge is 2σ√n, the edge of the noise's
// spectrum, or 0 to keep the r largest positive eigenvalues, noise or not.
// r must be positive. The eigenvalues are found by subspace iteration,
// which converges to those largest in magnitude: the edge must be at least
// that of the noise, whose spectrum is symmetric, so that every eigenvalue
// above it comes before the noise's. Its work grows as n² times the number
// of vectors it iterates on: a few more than it keeps (about twice as many
// above an edge).
func LowRank(a []float64, n, r int, edge float64) []float64 {
	if n == 0 || r <= 0 {
		return make([]float64, n*n)
	}
	r = min(r, n)
	// A few more vectors than kept: the iteration converges faster. Above
	// an edge, start with fewer and widen while every eigenvalue found is
	// kept: the next ones may be above the edge too.
	most := min(r+startWidth, n)
	width := most
	if edge > 0 {
		width = min(startWidth, most)
	}
	m := make([]float64, len(a))
	copy(m, a)
	for x := 0; x < n; x++ {
		d := 0.0
		for y := 0; y < n; y++ {
			if y != x {
				d = max(d, m[x*n+y])
			}
		}
		m[x*n+x] = d
	}
	out := make([]float64, n*n)
	q := startVectors(n, width)
	for round := 0; round < imputeRounds; round++ {
		vals := topEigen(m, n, q)
		for width < most && keptAll(vals, edge) {
			width = min(2*width, most)
			q = append(q, startVectors(n, width)[len(q):]...)
			orthonormalize(q, n)
			vals = topEigen(m, n, q)
		}
		clear(out)
		order := make([]int, len(vals))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(vals[j], vals[i]) })
		order = order[:min(r, len(order))]
		for _, i := range order {
			v := vals[i]
			if !(v > edge) || !(v > 0) {
				break
			}
			qi := q[i*n : (i+1)*n]
			for x := 0; x < n; x++ {
				vx := v * qi[x]
				row := out[x*n : (x+1)*n]
				for y := 0; y < n; y++ {
					row[y] += vx * qi[y]
				}
			}
		}
		for x := 0; x < n; x++ {
			m[x*n+x] = out[x*n+x]
		}
	}
	return out
}

// keptAll reports whether every eigenvalue of vals is above edge and 0.
func keptAll(vals []float64, edge float64) bool {
	for _, v := range vals {
		if !(v > edge) || !(v > 0) {
			return false
		}
	}
	return true
}

// startVectors returns r fixed pseudo-random vectors of length n, one
// after the other: the denoising is deterministic.
func startVectors(n, r int) []float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	q := make([]float64, r*n)
	for i := range q {
		q[i] = rng.NormFloat64()
	}
	orthonormalize(q, n)
	return q
}

// topEigen refines the r orthonormal vectors q (r·n values) towards the
// eigenvectors of the largest-magnitude eigenvalues of the symmetric
// matrix m by subspace iteration, and returns their Rayleigh quotients.
func topEigen(m []float64, n int, q []float64) []float64 {
	r := len(q) / n
	z := make([]float64, len(q))
	for it := 0; it < subspaceRounds; it++ {
		mulVectors(z, m, q, n)
		copy(q, z)
		orthonormalize(q, n)
	}
	mulVectors(z, m, q, n)
	vals := make([]float64, r)
	for i := range vals {
		vals[i] = dot(q[i*n:(i+1)*n], z[i*n:(i+1)*n])
	}
	return vals
}

// mulVectors sets each vector of dst to m times the vector of q.
func mulVectors(dst, m, q []float64, n int) {
	for i := 0; i < len(q)/n; i++ {
		qi, di := q[i*n:(i+1)*n], dst[i*n:(i+1)*n]
		for x := 0; x < n; x++ {
			di[x] = dot(m[x*n:(x+1)*n], qi)
		}
	}
}

// orthonormalize applies modified Gram-Schmidt to the vectors of q; a
// vector that is (numerically) in the span of the previous ones becomes 0.
func orthonormalize(q []float64, n int) {
	for i := 0; i < len(q)/n; i++ {
		qi := q[i*n : (i+1)*n]
		for j := 0; j < i; j++ {
			qj := q[j*n : (j+1)*n]
			d := dot(qi, qj)
			for k := range qi {
				qi[k] -= d * qj[k]
			}
		}
		norm := math.Sqrt(dot(qi, qi))
		if !(norm > 1e-300) || math.IsInf(norm, 0) {
			clear(qi)
			continue
		}
		for k := range qi {
			qi[k] /= norm
		}
	}
}
