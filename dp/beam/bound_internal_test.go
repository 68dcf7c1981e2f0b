package dpbeam

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// iter returns a Beam iterator over xs.
func iter[T any](xs []T) func(*T) bool {
	i := 0
	return func(x *T) bool {
		if i == len(xs) {
			return false
		}
		*x = xs[i]
		i++
		return true
	}
}

// TestBoundProperties checks, over random persons, what contribution
// bounding promises: at most MaxPartitions partitions and MaxContributions
// records per partition, only records that were there, and every record
// kept when the person is within the bounds.
func TestBoundProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for trial := range 500 {
		l0, linf := 1+r.IntN(4), 1+r.IntN(4)
		f := &boundFn{MaxPartitions: l0, MaxContributions: linf}
		f.Setup()
		var in []slot
		for range r.IntN(40) {
			k := fmt.Sprint(r.IntN(8))
			in = append(in, slot{Key: k, Int: int64(r.IntN(5)), Float: float64(r.IntN(5))})
		}
		perKey := make(map[string][]slot)
		for _, s := range in {
			perKey[s.Key] = append(perKey[s.Key], s)
		}
		var out []bounded
		f.ProcessElement(context.Background(), "p", iter(in), func(person string, b bounded) {
			if person != "p" {
				t.Fatalf("emitted for %q", person)
			}
			out = append(out, b)
		})
		got := make(map[string][]slot)
		for _, b := range out {
			got[b.Key] = append(got[b.Key], slot{Key: b.Key, Int: b.Int, Float: b.Float})
		}
		if len(got) > l0 {
			t.Fatalf("trial %d: %d partitions kept, bound %d", trial, len(got), l0)
		}
		within := len(perKey) <= l0
		for k, kept := range got {
			if len(kept) > linf {
				t.Fatalf("trial %d: %d records kept in %s, bound %d", trial, len(kept), k, linf)
			}
			if !subMultiset(kept, perKey[k]) {
				t.Fatalf("trial %d: kept %v, not among %v", trial, kept, perKey[k])
			}
			within = within && len(perKey[k]) <= linf
		}
		if within && len(out) != len(in) {
			t.Fatalf("trial %d: a person within the bounds lost %d of %d records", trial, len(in)-len(out), len(in))
		}
	}
}

func subMultiset(a, b []slot) bool {
	b = slices.Clone(b)
	for _, x := range a {
		i := slices.Index(b, x)
		if i < 0 {
			return false
		}
		b = slices.Delete(b, i, i+1)
	}
	return true
}

// TestBoundUniform checks that the kept partitions and records are uniform:
// over n = 4000 persons with 4 partitions (L0 = 2), each partition is kept
// about n/2 times, and of 5 records (L∞ = 2) each about 2n/5 times.
// Binomial standard deviations are at most √(n/4) ≈ 32; a tolerance of
// 200 (6.3σ) fails a uniform sampler with probability below 10⁻⁸ over the
// 9 counts.
func TestBoundUniform(t *testing.T) {
	const n = 4000
	f := &boundFn{MaxPartitions: 2, MaxContributions: 2}
	f.Setup()
	parts := make(map[string]int)
	recs := make(map[int64]int)
	for range n {
		in := []slot{{Key: "a", Int: 0}, {Key: "a", Int: 1}, {Key: "a", Int: 2}, {Key: "a", Int: 3}, {Key: "a", Int: 4},
			{Key: "b"}, {Key: "c"}, {Key: "d"}}
		seen := make(map[string]bool)
		f.ProcessElement(context.Background(), "p", iter(in), func(_ string, b bounded) {
			if !seen[b.Key] {
				parts[b.Key]++
				seen[b.Key] = true
			}
			if b.Key == "a" {
				recs[b.Int]++
			}
		})
	}
	for _, k := range []string{"a", "b", "c", "d"} {
		if math.Abs(float64(parts[k])-n/2) > 200 {
			t.Errorf("partition %s kept %d times of %d, want about %d", k, parts[k], n, n/2)
		}
	}
	for v := range int64(5) {
		if want := float64(parts["a"]) * 2 / 5; math.Abs(float64(recs[v])-want) > 200 {
			t.Errorf("record %d kept %d times, want about %.0f", v, recs[v], want)
		}
	}
}

// TestWeightedContributionsBounded checks over random baskets that each
// person's weighted item and pair contributions have norm at most 1 (L2
// for Gaussian noise, L1 for Laplace), the bound the noise of a weighted
// release is calibrated to, and that at most Pairs distinct pairs are
// counted.
func TestWeightedContributionsBounded(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	items := make([]string, 30)
	for i := range items {
		items[i] = fmt.Sprintf("i%02d", i)
	}
	for trial := range 1000 {
		gaussian := trial%2 == 0
		m := 1 + r.IntN(12)
		b := basket{Items: slices.Clone(items[:m]), X: make([]float64, m)}
		r.Shuffle(m, func(i, j int) { b.Items[i], b.Items[j] = b.Items[j], b.Items[i] })
		top := 0.0
		for i := range b.X {
			b.X[i] = math.Exp(r.NormFloat64() * 5) // weights over many orders of magnitude
			top = max(top, b.X[i])
		}
		for i := range b.X {
			b.X[i] /= top
		}
		norm := func(ys []float64) float64 {
			s := 0.0
			for _, y := range ys {
				if y < 0 {
					t.Fatalf("trial %d: negative contribution %v", trial, y)
				}
				if gaussian {
					s += y * y
				} else {
					s += y
				}
			}
			return s
		}
		var ys []float64
		(&itemWeightsFn{Gaussian: gaussian}).ProcessElement("p", b, func(_ string, y float64) { ys = append(ys, y) })
		if n := norm(ys); n > 1+1e-12 {
			t.Fatalf("trial %d: item contributions of norm %v > 1", trial, n)
		}
		pf := &publicPairsFn{Pairs: 1 + r.IntN(20), Gaussian: gaussian, Weighted: true}
		pf.Setup()
		cands := candidates{Items: slices.Clone(items[:20])}
		ys = ys[:0]
		keys := make(map[string]bool)
		pf.each(b, cands, func(k string, y float64) {
			if keys[k] {
				t.Fatalf("trial %d: pair %s counted twice", trial, k)
			}
			keys[k] = true
			ys = append(ys, y)
		})
		if len(ys) > pf.Pairs {
			t.Fatalf("trial %d: %d pairs counted, bound %d", trial, len(ys), pf.Pairs)
		}
		if n := norm(ys); n > 1+1e-12 {
			t.Fatalf("trial %d: pair contributions of norm %v > 1", trial, n)
		}
	}
}

func TestPairSampler(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	var ps pairSampler
	for _, tc := range []struct{ m, limit int }{{0, 3}, {1, 3}, {2, 1}, {5, 10}, {5, 3}, {40, 7}, {400, 100}} {
		seen := make(map[[2]int]bool)
		ps.each(tc.m, tc.limit, r, func(x, y int) {
			if !(0 <= x && x < y && y < tc.m) || seen[[2]int{x, y}] {
				t.Fatalf("m=%d limit=%d: pair (%d, %d) invalid or repeated", tc.m, tc.limit, x, y)
			}
			seen[[2]int{x, y}] = true
		})
		if want := min(tc.m*(tc.m-1)/2, tc.limit); len(seen) != want {
			t.Errorf("m=%d limit=%d: %d pairs, want %d", tc.m, tc.limit, len(seen), want)
		}
	}
}

func TestKeysRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 10))
	alphabet := []string{"", "a", ":", "1", "0", "12:", "é", "\x00"}
	word := func() string {
		var s string
		for range r.IntN(5) {
			s += alphabet[r.IntN(len(alphabet))]
		}
		return s
	}
	for range 2000 {
		a, b := word(), word()
		ga, gb, ok := splitKey(joinKey(a, b))
		if !ok || ga != a || gb != b {
			t.Fatalf("joinKey(%q, %q) decodes to %q, %q, %v", a, b, ga, gb, ok)
		}
	}
	for _, bad := range []string{"", ":", "x:ab", "5:ab", "-1:ab", "01:ab", "1"} {
		if _, _, ok := splitKey(bad); ok {
			t.Errorf("splitKey(%q) accepted", bad)
		}
	}
}
