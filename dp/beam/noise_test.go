package dpbeam_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/google/differential-privacy/go/v3/noise"
	"github.com/tact-go/tact/dp"
	dpbeam "github.com/tact-go/tact/dp/beam"
	"github.com/tact-go/tact/dp/dptest"
)

// The tests here run the Beam jobs with real noise and check the noise
// against what package dp states for the same release, over n = 1000
// values (partitions, items or pairs) whose true value is known:
//
//   - coverage: the true value lies outside the released confidence
//     interval (α = 0.05) for at most 2·n·α = 100 of them. If the noise is
//     what the interval assumes, the misses are at most Binomial(n, α),
//     mean at most 50, and by Chernoff's bound P(X ≥ 2μ) ≤ (e/4)^μ ≤
//     4·10⁻⁹. Noise larger than stated fails it.
//   - variance: the mean squared error is at least half the variance dp
//     states (its σ, measured with dptest.Noise{StdDevs}). For squared
//     noise Y, P(ΣY ≤ n(E[Y] - t)) ≤ exp(-n t²/(2 E[Y²])), and E[Y²] =
//     E[X⁴] ≤ 6σ⁴ (Laplace; 3σ⁴ Gaussian): with t = σ²/2, at most
//     exp(-1000/48) ≤ 10⁻⁹. Noise smaller than stated, which would release
//     more than the guarantee allows, fails it.
//
// With 16 such checks in the file (and the selection checks, bounded
// below), the probability that a correct implementation fails any of them
// is below 10⁻⁷.

const nStat = 1000

// checkNoise applies both checks to noisy values with their intervals,
// true values and the σ dp states.
func checkNoise(t *testing.T, what string, noisy, lo, hi, truth []float64, sigma float64) {
	t.Helper()
	if len(noisy) != nStat || len(truth) != nStat || len(lo) != nStat || len(hi) != nStat {
		t.Fatalf("%s: %d values, want %d", what, len(noisy), nStat)
	}
	misses, sq, exact := 0, 0.0, 0
	for i := range noisy {
		if truth[i] < lo[i] || truth[i] > hi[i] {
			misses++
		}
		d := noisy[i] - truth[i]
		sq += d * d
		if d == 0 {
			exact++
		}
	}
	if misses > 2*nStat*5/100 {
		t.Errorf("%s: the true value is outside the 95%% interval for %d of %d values: the noise exceeds what the intervals state", what, misses, nStat)
	}
	if v := sq / nStat; v < sigma*sigma/2 {
		t.Errorf("%s: mean squared error %.4g, below half the variance dp states (σ = %.4g): less noise than the guarantee needs", what, v, sigma)
	}
	if exact == nStat {
		t.Errorf("%s: no noise at all", what)
	}
}

// sigmaDP returns the standard deviation dp states for the count and the
// sum of a release of params and spec: the shift of one partition's values
// under dptest.Noise{StdDevs: 1000}, over 1000.
func sigmaDP(t *testing.T, params dp.Params, spec dp.Spec[float64]) (count, sum float64) {
	t.Helper()
	params.NoiseSource = dptest.Noise{StdDevs: 1000}
	params.Partitions = []string{"k"}
	exact := releaseDP(t, params, spec, []dpbeam.Record[float64]{{Person: "a", Key: "k", Value: spec.Upper}})
	a, err := dp.NewAggregation(params, spec)
	if err != nil {
		t.Fatal(err)
	}
	a.Add("a", "k", spec.Upper)
	shifted, err := a.Release(context.Background(), budget(t))
	if err != nil {
		t.Fatal(err)
	}
	e, s := exact.Partitions()[0], shifted.Partitions()[0]
	return float64(s.Count.Value-e.Count.Value) / 1000, (s.Sum.Value - e.Sum.Value) / 1000
}

func TestAggregateNoise(t *testing.T) {
	for _, params := range []dp.Params{
		{Epsilon: 1, MaxPartitions: 1, MaxContributions: 2},
		{Epsilon: 1, Delta: 1e-6, MaxPartitions: 1, MaxContributions: 2, Noise: dp.Gaussian},
	} {
		t.Run(params.Noise.String(), func(t *testing.T) {
			spec := dp.Spec[float64]{Metrics: dp.Count | dp.Sum | dp.Mean, Lower: 0, Upper: 10}
			// Partition k: three persons, one record each, values k mod 7
			// and two more; bounding keeps everything.
			var recs []dpbeam.Record[float64]
			keys := make([]string, nStat)
			truth := make(map[string][3]float64) // count, sum, mean
			for k := range nStat {
				keys[k] = fmt.Sprintf("k%04d", k)
				var sum float64
				for i := range 3 {
					v := float64((k+3*i)%7) * 1.5
					sum += v
					recs = append(recs, dpbeam.Record[float64]{Person: fmt.Sprintf("%s-%d", keys[k], i), Key: keys[k], Value: v})
				}
				truth[keys[k]] = [3]float64{3, sum, sum / 3}
			}
			params.Partitions = keys
			sigCount, sigSum := sigmaDP(t, params, spec)

			p := newPipeline(t)
			j, err := dpbeam.Aggregate(p, beam.CreateList(p.Scope(), recs), params, spec)
			if err != nil {
				t.Fatal(err)
			}
			run(t, p)
			res, err := j.Result()
			if err != nil {
				t.Fatal(err)
			}
			if !res.Private() {
				t.Fatal("a release with real noise says it is not private")
			}
			var vals [3][4][]float64 // metric → noisy, lower, upper, true
			for _, pt := range res.Partitions() {
				tr := truth[pt.Key]
				for m, e := range []dp.Estimate[float64]{{Value: float64(pt.Count.Value), Lower: pt.Count.Lower, Upper: pt.Count.Upper}, pt.Sum, pt.Mean} {
					for x, v := range []float64{e.Value, e.Lower, e.Upper, tr[m]} {
						vals[m][x] = append(vals[m][x], v)
					}
				}
			}
			checkNoise(t, "count", vals[0][0], vals[0][1], vals[0][2], vals[0][3], sigCount)
			checkNoise(t, "sum", vals[1][0], vals[1][1], vals[1][2], vals[1][3], sigSum)
			// The mean's noise has no single σ: its interval is checked, and
			// its error is at least that of a mean with an exact count.
			checkNoise(t, "mean", vals[2][0], vals[2][1], vals[2][2], vals[2][3], 0)
		})
	}
}

// TestAggregateSelection checks private partition selection with real
// noise: 200 partitions of 100 persons each are kept, 200 of one person
// each are not. With ε = 2 (ε/2 for selection), δ = 10⁻¹⁰ and L0 = 1,
// Google's selection (ε = 1 of the 2, δ = 10⁻¹⁰, L0 = 1) keeps a
// one-person partition with probability δ (2·10⁻⁸ for all 200), and
// keeps one of n persons with a probability that grows by a factor e per
// person until about n = 23 and then approaches 1 as fast: it drops a
// 100-person partition with probability below e⁻⁷⁰.
func TestAggregateSelection(t *testing.T) {
	var recs []dpbeam.Record[int64]
	for k := range 400 {
		n := 100
		if k%2 == 1 {
			n = 1
		}
		for i := range n {
			recs = append(recs, dpbeam.Record[int64]{Person: fmt.Sprintf("k%03d-%d", k, i), Key: fmt.Sprintf("k%03d", k)})
		}
	}
	p := newPipeline(t)
	j, err := dpbeam.Aggregate(p, beam.CreateList(p.Scope(), recs),
		dp.Params{Epsilon: 2, Delta: 1e-10, MaxPartitions: 1, MaxContributions: 1}, dp.Spec[int64]{Metrics: dp.Count})
	if err != nil {
		t.Fatal(err)
	}
	run(t, p)
	res, _ := j.Result()
	big := 0
	for _, pt := range res.Partitions() {
		var k int
		fmt.Sscanf(pt.Key, "k%d", &k)
		if k%2 == 1 {
			t.Errorf("partition %s of one person released", pt.Key)
		}
		big++
	}
	if big != 200 {
		t.Errorf("%d of 200 partitions of 100 persons released", big)
	}
}

func TestTopKNoise(t *testing.T) {
	// 1000 items in one segment, item i chosen by 40 + i%13 persons, each
	// person one item: every count clears the threshold (about 13 at ε =
	// 1, δ = 10⁻⁵) but by chance with Laplace noise of scale 1.
	var evs []dpbeam.Event
	truth := make(map[string]float64)
	for i := range nStat {
		item := fmt.Sprintf("i%04d", i)
		n := 40 + i%13
		truth[item] = float64(n)
		for k := range n {
			evs = append(evs, dpbeam.Event{Person: fmt.Sprintf("%s-%d", item, k), Segment: "all", Item: item})
		}
	}
	params := dp.Params{Epsilon: 1, Delta: 1e-5, MaxPartitions: 1, MaxContributions: 1}
	p := newPipeline(t)
	j, err := dpbeam.TopK(p, beam.CreateList(p.Scope(), evs), nStat, params)
	if err != nil {
		t.Fatal(err)
	}
	run(t, p)
	tr, err := j.Result()
	if err != nil {
		t.Fatal(err)
	}
	var noisy, lo, hi, want []float64
	for _, r := range tr.Top("all") {
		noisy, lo, hi, want = append(noisy, float64(r.Count)), append(lo, r.Lower), append(hi, r.Upper), append(want, truth[r.Item])
	}
	checkNoise(t, "trending count", noisy, lo, hi, want, math.Sqrt2/params.Epsilon)
}

func TestCooccurrenceNoise(t *testing.T) {
	for _, params := range []dp.CooccurrenceParams{
		{Epsilon: 4, MaxItems: 2, MaxPairs: 1, PairItems: 46},
		{Epsilon: 4, Delta: 1e-6, MaxItems: 2, MaxPairs: 1, PairItems: 46, Weighted: true, Noise: dp.Gaussian},
	} {
		t.Run(fmt.Sprintf("weighted=%v", params.Weighted), func(t *testing.T) {
			// A catalog of 46 items, all candidates: 1035 pairs. Pair
			// {a, b} is held by 1 + (a+b)%5 persons with only those two
			// items, with weights 1 and 2 when Weighted.
			params.Items = catalog(46)
			var evs []dpbeam.ItemEvent
			truth := make(map[[2]string]float64)
			for b := 1; b < 46; b++ {
				for a := range b {
					ia, ib := params.Items[a], params.Items[b]
					n := 1 + (a+b)%5
					// Each person has one pair, whose contribution, scaled
					// to norm 1, is 1 whatever the weights.
					truth[[2]string{ia, ib}] = float64(n)
					for k := range n {
						person := fmt.Sprintf("%s-%s-%d", ia, ib, k)
						evs = append(evs, dpbeam.ItemEvent{Person: person, Item: ia, Weight: map[bool]float64{true: 1}[params.Weighted]},
							dpbeam.ItemEvent{Person: person, Item: ib, Weight: map[bool]float64{true: 2}[params.Weighted]})
					}
				}
			}
			p := newPipeline(t)
			j, err := dpbeam.Cooccurrence(p, beam.CreateList(p.Scope(), evs), params)
			if err != nil {
				t.Fatal(err)
			}
			run(t, p)
			res, err := j.Result()
			if err != nil {
				t.Fatal(err)
			}
			m := res.PairNoise
			var noisy, lo, hi, want []float64
			for _, pc := range res.Pairs[:nStat] {
				ci, err := intervalOf(m, pc.Count, params.Weighted)
				if err != nil {
					t.Fatal(err)
				}
				noisy, lo, hi = append(noisy, pc.Count), append(lo, ci.LowerBound), append(hi, ci.UpperBound)
				want = append(want, truth[[2]string{pc.A, pc.B}])
			}
			// dp's own statement of the pair noise, for the same parameters.
			c, err := dp.NewCooccurrence(params)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := c.Release(context.Background(), budget(t))
			if err != nil {
				t.Fatal(err)
			}
			if ref.PairNoise != m {
				t.Fatalf("pair noise: Beam %+v, dp %+v", m, ref.PairNoise)
			}
			checkNoise(t, "pair count", noisy, lo, hi, want, ref.PairNoise.StdDev())
		})
	}
}

// intervalOf is the 95% confidence interval Google's library states for a
// count released with m.
func intervalOf(m dp.Mechanism, x float64, float bool) (noise.ConfidenceInterval, error) {
	n := noise.Laplace()
	if m.Kind == dp.Gaussian {
		n = noise.Gaussian()
	}
	if float {
		return n.ComputeConfidenceIntervalFloat64(x, m.L0, m.LInf, m.Epsilon, m.Delta, 0.05)
	}
	return n.ComputeConfidenceIntervalInt64(int64(x), m.L0, int64(m.LInf), m.Epsilon, m.Delta, 0.05)
}
