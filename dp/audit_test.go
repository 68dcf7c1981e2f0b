package dp_test

import (
	"flag"
	"math"
	"strconv"
	"testing"

	"github.com/google/differential-privacy/go/v3/noise"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/dp"
)

var auditRuns = flag.Int("dp.audit", 0, "releases per dataset in the DP audit (default 3000, 1000 with -short)")

// The DP audit: release many times on two neighbouring datasets, D and D'
// = D plus one person with 50 records, and estimate
// the privacy loss from the output distributions. For each event
// E = {noisy count ≥ t} (and ≤ t), Clopper-Pearson bounds at confidence
// 1-1e-6 each give a statistically safe lower bound of ln(P[E|D']/P[E|D]); it
// must not exceed the claimed ε. The same audit of a mechanism with too
// little noise must detect the violation, showing that the test has power.

const (
	auditEps     = 1.0
	auditPersons = 20
	auditConf    = 1e-6
)

func auditN(t *testing.T) int {
	switch {
	case *auditRuns > 0:
		return *auditRuns
	case testing.Short():
		return 1000
	}
	return 3000
}

// auditRelease releases the count of partition "a" once, on D or D'.
func auditRelease(t *testing.T, withTarget bool, src dp.NoiseSource) int64 {
	c, err := dp.NewCounter(dp.Params{Epsilon: auditEps, MaxPartitions: 1, MaxContributions: 1,
		Partitions: []string{"a"}, NoiseSource: src})
	require.NoError(t, err)
	for i := 0; i < auditPersons; i++ {
		c.Add("p"+strconv.Itoa(i), "a")
	}
	if withTarget {
		for i := 0; i < 50; i++ { // bounded to one record: D' differs by 1 in "a"
			c.Add("target", "a")
		}
	}
	res, err := c.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	part, _ := res.Lookup("a")
	return part.Count.Value
}

// auditEpsilon returns the largest lower confidence bound of the privacy
// loss over the tail events, and the largest point estimate.
func auditEpsilon(t *testing.T, src dp.NoiseSource) (lower, point float64) {
	n := auditN(t)
	d, d2 := make([]int64, n), make([]int64, n)
	for i := range d {
		d[i] = auditRelease(t, false, src)
		d2[i] = auditRelease(t, true, src)
	}
	lower, point = math.Inf(-1), math.Inf(-1)
	for th := int64(auditPersons - 4); th <= auditPersons+5; th++ {
		for _, upper := range []bool{true, false} {
			in := func(x int64) bool {
				if upper {
					return x >= th
				}
				return x <= th
			}
			k, k2 := 0, 0
			for i := range d {
				if in(d[i]) {
					k++
				}
				if in(d2[i]) {
					k2++
				}
			}
			// Both directions of the ratio.
			for _, pq := range [][2]int{{k2, k}, {k, k2}} {
				num, den := pq[0], pq[1]
				lo := clopperPearsonLower(num, n, auditConf)
				hi := clopperPearsonUpper(den, n, auditConf)
				if lo > 0 && hi > 0 {
					lower = math.Max(lower, math.Log(lo/hi))
				}
				if num > 0 && den > 0 {
					point = math.Max(point, math.Log(float64(num)/float64(den)))
				}
			}
		}
	}
	return lower, point
}

func TestDPAudit(t *testing.T) {
	lower, point := auditEpsilon(t, nil)
	t.Logf("audit (%d releases per dataset): ε lower bound %.3f, point estimate %.3f, claimed %.1f", auditN(t), lower, point, auditEps)
	assert.LessOrEqual(t, lower, auditEps, "estimated privacy loss exceeds the claimed ε")
	assert.Greater(t, point, 0.5*auditEps, "the audit's events should come near ε (else it has no power)")

	// A broken mechanism (noise for 4ε while claiming ε) is caught.
	broken, _ := auditEpsilon(t, underNoised{})
	t.Logf("audit of a mechanism with noise for 4ε: ε lower bound %.3f", broken)
	assert.Greater(t, broken, auditEps, "the audit must detect too little noise")
}

// underNoised adds Google's Laplace noise calibrated to 4ε instead of ε.
type underNoised struct{}

func (underNoised) AddNoiseInt64(x int64, m dp.Mechanism) int64 {
	y, err := noise.Laplace().AddNoiseInt64(x, m.L0, int64(m.LInf), 4*m.Epsilon, 0)
	if err != nil {
		panic(err)
	}
	return y
}
func (underNoised) AddNoiseFloat64(x float64, m dp.Mechanism) float64 { return x }
func (underNoised) KeepPartition(int64, dp.Mechanism) bool            { return true }

// Partition selection: partitions that only the target contributes to
// must appear, any of them, with probability at most δ (their probability
// on D, without the target, is 0). The target touches more partitions than
// L0, so this checks the bounding and the selection's calibration to L0
// together, for each way partitions are selected: magic selection (L0 ≤
// 3), Gaussian thresholding (L0 > 3), and the thresholded counts of TopK
// and Cooccurrence.
func TestDPAuditSelection(t *testing.T) {
	const delta = 0.02
	n := auditN(t) * 2 / 3 // each event has probability near δ: fewer runs have power
	counter := func(l0 int, noise dp.NoiseKind) func() int {
		return func() int {
			c, err := dp.NewCounter(dp.Params{Epsilon: auditEps, Delta: delta, MaxPartitions: l0, MaxContributions: 1, Noise: noise})
			require.NoError(t, err)
			for j := 0; j < 2*l0; j++ {
				c.Add("target", "solo"+strconv.Itoa(j))
			}
			res, err := c.Release(ctx, bigBudget(t))
			require.NoError(t, err)
			return res.Len()
		}
	}
	for _, tc := range []struct {
		name    string
		release func() int // how many of the target's partitions were released
	}{
		{"magic selection, L0 = 1", counter(1, dp.Laplace)},
		{"magic selection, L0 = 3", counter(3, dp.Laplace)},
		{"Gaussian thresholding, L0 = 5", counter(5, dp.Gaussian)},
		{"TopK, L0 = 4", func() int {
			tk, err := dp.NewTopK(10, dp.Params{Epsilon: auditEps, Delta: delta, MaxPartitions: 4})
			require.NoError(t, err)
			for j := 0; j < 8; j++ {
				tk.Add("target", "s", "item"+strconv.Itoa(j))
			}
			tr, err := tk.Release(ctx, bigBudget(t))
			require.NoError(t, err)
			return len(tr.Top("s"))
		}},
		{"Cooccurrence, L0 = 6 pairs", func() int {
			c, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: auditEps, Delta: delta, MaxItems: 4, MaxPairs: 6,
				MinPersons: 1})
			require.NoError(t, err)
			for j := 0; j < 8; j++ {
				c.Add("target", "item"+strconv.Itoa(j))
			}
			res, err := c.Release(ctx, bigBudget(t))
			require.NoError(t, err)
			return len(res.Items) + len(res.Pairs)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			shown := 0
			for i := 0; i < n; i++ {
				if tc.release() > 0 {
					shown++
				}
			}
			lo := clopperPearsonLower(shown, n, auditConf)
			t.Logf("%d of %d releases showed a partition of the single person (δ = %v)", shown, n, delta)
			assert.LessOrEqual(t, lo, delta, "a single person's partitions are released more often than δ")
		})
	}
}

// clopperPearsonLower returns the lower end of the one-sided Clopper-Pearson
// interval of a binomial proportion (k successes out of n) at confidence
// 1-conf: the smallest p with P[X ≥ k | p] ≥ conf.
func clopperPearsonLower(k, n int, conf float64) float64 {
	if k == 0 {
		return 0
	}
	return bisect(func(p float64) bool { return binomTail(k, n, p) >= conf })
}

// clopperPearsonUpper: the largest p with P[X ≤ k | p] ≥ conf.
func clopperPearsonUpper(k, n int, conf float64) float64 {
	if k == n {
		return 1
	}
	return 1 - bisect(func(q float64) bool { return binomTail(n-k, n, q) >= conf })
}

// bisect returns the smallest p in [0, 1] where ok turns true (ok is
// monotone).
func bisect(ok func(float64) bool) float64 {
	lo, hi := 0.0, 1.0
	for i := 0; i < 60; i++ {
		mid := (lo + hi) / 2
		if ok(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// binomTail returns P[X ≥ k] for X ~ Binomial(n, p).
func binomTail(k, n int, p float64) float64 {
	if p <= 0 {
		return 0
	}
	if p >= 1 {
		return 1
	}
	lgN, _ := math.Lgamma(float64(n + 1))
	a, _ := math.Lgamma(float64(k + 1))
	b, _ := math.Lgamma(float64(n - k + 1))
	logTerm := lgN - a - b + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p)
	logRatio := math.Log(p) - math.Log1p(-p)
	s := 0.0
	for i := k; i <= n; i++ {
		s += math.Exp(logTerm)
		logTerm += math.Log(float64(n-i)/float64(i+1)) + logRatio
		if logTerm < -800 && float64(i) > float64(n)*p {
			break // the rest of the tail is negligible
		}
	}
	return s
}

// With a small δ and many partitions per person, the per-partition δ of
// thresholding falls below float64's resolution near 1. The thresholds
// must then rise, not overflow: a person alone in their partitions or
// pairs is never released.
func TestSmallDeltaSelectsNoSinglePerson(t *testing.T) {
	const delta = 1e-12
	c, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: 1, Delta: delta, MaxItems: 200, MaxPairs: 10_000,
		Noise: dp.Gaussian, MinPersons: 1})
	require.NoError(t, err)
	tk, err := dp.NewTopK(10, dp.Params{Epsilon: 1, Delta: delta, MaxPartitions: dp.MaxL0, Noise: dp.Gaussian})
	require.NoError(t, err)
	counter, err := dp.NewCounter(dp.Params{Epsilon: 1, Delta: delta, MaxPartitions: dp.MaxL0, MaxContributions: 1})
	require.NoError(t, err)
	for p := 0; p < 3; p++ {
		person := "p" + strconv.Itoa(p)
		for i := 0; i < 60; i++ {
			item := "item" + strconv.Itoa(p*1000+i)
			c.Add(person, item)
			tk.Add(person, "all", item)
			counter.Add(person, item)
		}
	}
	res, err := c.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	assert.Zero(t, len(res.Pairs), "pair threshold %d", res.PairThreshold)
	assert.Zero(t, len(res.Items), "item threshold %d", res.ItemThreshold)
	assert.Positive(t, res.PairThreshold)
	tr, err := tk.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	assert.Zero(t, len(tr.Top("all")), "threshold %d", tr.Threshold())
	assert.Positive(t, tr.Threshold())
	cr, err := counter.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	assert.Zero(t, cr.Len())
}
