package dp_test

import (
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/dp"
)

// Statistical tests of each mechanism through the whole pipeline: public
// partitions without data receive pure noise, whose mean must be ~0 and
// whose variance must match the scale the budget share calibrates, and
// whose confidence intervals must cover the true value 0 at 1-α.
func TestNoiseStatistics(t *testing.T) {
	const n = 4000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	tests := []struct {
		name   string
		noise  dp.NoiseKind
		metric dp.Metric
		l0     int
		linf   int
		upper  float64
	}{
		{"Laplace count", dp.Laplace, dp.Count, 2, 3, 0},
		{"Gaussian count", dp.Gaussian, dp.Count, 4, 1, 0},
		{"Laplace sum", dp.Laplace, dp.Sum, 1, 2, 2.5},
		{"Gaussian sum", dp.Gaussian, dp.Sum, 3, 1, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := dp.Params{Epsilon: 0.8, Delta: 1e-5, MaxPartitions: tt.l0, MaxContributions: tt.linf,
				Noise: tt.noise, Partitions: keys, Alpha: 0.1}
			a, err := dp.NewAggregation(p, dp.Spec[float64]{Metrics: tt.metric, Lower: 0, Upper: tt.upper})
			require.NoError(t, err)
			res, err := a.Release(ctx, bigBudget(t))
			require.NoError(t, err)
			require.True(t, res.Private())

			// The expected scale, from first principles for Laplace.
			m := dp.Mechanism{Kind: tt.noise, Epsilon: 0.8, Delta: 1e-5, L0: int64(tt.l0), LInf: float64(tt.linf)}
			if tt.metric == dp.Sum {
				m.LInf *= tt.upper
			}
			if tt.noise == dp.Laplace {
				m.Delta = 0
				require.InDelta(t, math.Sqrt2*float64(tt.l0)*m.LInf/0.8, m.StdDev(), 1e-9)
			}
			want := m.StdDev()

			var sum, sumSq float64
			covered := 0
			for _, part := range res.Partitions() {
				e := part.Count
				x := float64(e.Value)
				lo, hi := e.Lower, e.Upper
				if tt.metric == dp.Sum {
					x, lo, hi = part.Sum.Value, part.Sum.Lower, part.Sum.Upper
				}
				sum += x
				sumSq += x * x
				if lo <= 0 && 0 <= hi {
					covered++
				}
			}
			mean := sum / n
			sd := math.Sqrt(sumSq/n - mean*mean)
			assert.InDelta(t, 0, mean, 5*want/math.Sqrt(n), "mean")
			// Relative standard error of the sample sd is about
			// sqrt((kurtosis-1)/(4n)): ≤ 1.8% here; allow 10%.
			assert.InEpsilon(t, want, sd, 0.10, "standard deviation")
			// Intervals clipped at 0 (counts, non-negative sums) cover 0
			// more often, never less than 1-α minus sampling slack.
			assert.GreaterOrEqual(t, float64(covered)/n, 0.9-5*math.Sqrt(0.09/n), "coverage")
		})
	}
}

// Private partition selection releases big partitions and (almost) never a
// partition of a single person.
func TestPrivateSelection(t *testing.T) {
	for _, l0 := range []int{1, 5} { // magic selection, Gaussian thresholding
		p := dp.Params{Epsilon: 1, Delta: 1e-5, MaxPartitions: l0, MaxContributions: 1}
		c, err := dp.NewCounter(p)
		require.NoError(t, err)
		for i := 0; i < 2000; i++ {
			c.Add("p"+strconv.Itoa(i), "big")
		}
		for i := 0; i < 300; i++ {
			c.Add("solo"+strconv.Itoa(i), "solo"+strconv.Itoa(i))
		}
		res, err := c.Release(ctx, bigBudget(t))
		require.NoError(t, err)
		big, ok := res.Lookup("big")
		require.True(t, ok, "l0 %d", l0)
		assert.InDelta(t, 2000, big.Count.Value, 200)
		assert.LessOrEqual(t, res.Len(), 2, "l0 %d: single-person partitions are dropped", l0)
	}
}
