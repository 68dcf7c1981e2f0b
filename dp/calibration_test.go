package dp_test

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/dp"
)

// recorder is a NoiseSource that adds no noise, keeps every partition and
// records the mechanism of every call: what each released value's noise
// is calibrated to.
type recorder struct {
	mu    sync.Mutex
	calls map[string][]dp.Mechanism // "int", "float", "keep" → distinct mechanisms
}

func (r *recorder) note(kind string, m dp.Mechanism) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = make(map[string][]dp.Mechanism)
	}
	if !slices.Contains(r.calls[kind], m) {
		r.calls[kind] = append(r.calls[kind], m)
	}
}

func (r *recorder) AddNoiseInt64(x int64, m dp.Mechanism) int64 { r.note("int", m); return x }
func (r *recorder) AddNoiseFloat64(x float64, m dp.Mechanism) float64 {
	r.note("float", m)
	return x
}
func (r *recorder) KeepPartition(_ int64, m dp.Mechanism) bool { r.note("keep", m); return true }

// assertMechs checks the recorded mechanisms of one kind of call against
// the expected ones (in any order), ε and δ to a relative 1e-12.
func assertMechs(t *testing.T, what string, got, want []dp.Mechanism) {
	t.Helper()
	require.Len(t, got, len(want), "%s: %v", what, got)
	for _, w := range want {
		found := false
		for _, g := range got {
			if g.Kind == w.Kind && g.L0 == w.L0 && g.LInf == w.LInf &&
				math.Abs(g.Epsilon-w.Epsilon) <= 1e-12*w.Epsilon && math.Abs(g.Delta-w.Delta) <= 1e-12*w.Delta {
				found = true
			}
		}
		assert.True(t, found, "%s: want %+v among %+v", what, w, got)
	}
}

// The calibration of every Aggregation mechanism, from first principles:
// the components a release computes (partition selection, count, sum, the
// mean's normalized sum, quantiles) share ε evenly; δ goes to selection
// with Laplace noise, half to selection and the rest evenly to the noisy
// components with Gaussian noise; each noise is calibrated to L0 and to
// the most one person's L∞ records move its value: L∞ for counts,
// L∞·max(|Lower|, |Upper|) for sums, L∞·(Upper-Lower)/2 for the
// normalized sum.
func TestAggregationCalibration(t *testing.T) {
	const eps, delta, linf, lower, upper = 1.5, 1e-5, 2, -2.0, 5.0
	metricSets := []dp.Metric{dp.Count, dp.Sum, dp.Count | dp.Sum, dp.Mean, dp.Count | dp.Mean,
		dp.Sum | dp.Mean | dp.Quantiles, dp.Count | dp.Sum | dp.Mean | dp.Quantiles}
	for _, kind := range []dp.NoiseKind{dp.Laplace, dp.Gaussian} {
		for _, public := range []bool{true, false} {
			for _, l0 := range []int{3, 5} {
				for _, metrics := range metricSets {
					name := fmt.Sprintf("%v/public=%v/L0=%d/%v", kind, public, l0, metrics)
					t.Run(name, func(t *testing.T) {
						rec := &recorder{}
						p := dp.Params{Epsilon: eps, Delta: delta, MaxPartitions: l0, MaxContributions: linf,
							Noise: kind, NoiseSource: rec}
						if public {
							p.Partitions = []string{"a", "b"}
						}
						a, err := dp.NewAggregation(p, dp.Spec[float64]{Metrics: metrics, Lower: lower, Upper: upper, Ranks: []float64{0.5}})
						require.NoError(t, err)
						a.Add("ann", "a", 1)
						budget, err := dp.NewBudget(eps, delta, nil)
						require.NoError(t, err)
						res, err := a.Release(ctx, budget)
						require.NoError(t, err)

						count := metrics&(dp.Count|dp.Mean) != 0
						noisy := 0 // noisy components
						for _, on := range []bool{count, metrics&dp.Sum != 0, metrics&dp.Mean != 0, metrics&dp.Quantiles != 0} {
							if on {
								noisy++
							}
						}
						parts := noisy
						if !public {
							parts++
						}
						share := eps / float64(parts)
						var selDelta, noiseDelta float64
						switch {
						case kind == dp.Laplace && !public:
							selDelta = delta
						case kind == dp.Gaussian && !public:
							selDelta, noiseDelta = delta/2, delta/2/float64(noisy)
						case kind == dp.Gaussian:
							noiseDelta = delta / float64(noisy)
						}
						wantSpent := delta
						if kind == dp.Laplace && public {
							wantSpent = 0
						}
						assert.Equal(t, eps, res.Epsilon())
						assert.Equal(t, wantSpent, res.Delta())
						spentEps, spentDelta := budget.Spent()
						assert.Equal(t, eps, spentEps)
						assert.Equal(t, wantSpent, spentDelta)

						mech := func(linf float64) dp.Mechanism {
							return dp.Mechanism{Kind: kind, Epsilon: share, Delta: noiseDelta, L0: int64(l0), LInf: linf}
						}
						var ints, floats []dp.Mechanism
						if count {
							ints = append(ints, mech(linf))
						}
						if metrics&dp.Sum != 0 {
							floats = append(floats, mech(linf*max(math.Abs(lower), math.Abs(upper))))
						}
						if metrics&dp.Mean != 0 {
							floats = append(floats, mech(linf*(upper-lower)/2))
						}
						assertMechs(t, "counts", rec.calls["int"], ints)
						assertMechs(t, "sums", rec.calls["float"], floats)
						var keeps []dp.Mechanism
						if !public {
							selKind := dp.Laplace // magic selection
							if l0 > 3 {
								selKind = dp.Gaussian // Gaussian thresholding
							}
							keeps = append(keeps, dp.Mechanism{Kind: selKind, Epsilon: share, Delta: selDelta, L0: int64(l0), LInf: 1})
						}
						assertMechs(t, "selection", rec.calls["keep"], keeps)
					})
				}
			}
		}
	}
}

// TopK: one thresholded count of distinct persons per (segment, item),
// with the whole (ε, δ): a person changes L0 counts by 1; Gaussian noise
// takes half of δ, the threshold the rest.
func TestTopKCalibration(t *testing.T) {
	for _, kind := range []dp.NoiseKind{dp.Laplace, dp.Gaussian} {
		rec := &recorder{}
		tk, err := dp.NewTopK(2, dp.Params{Epsilon: 0.7, Delta: 1e-6, MaxPartitions: 4, Noise: kind, NoiseSource: rec})
		require.NoError(t, err)
		tk.Add("ann", "s", "x")
		_, err = tk.Release(ctx, bigBudget(t))
		require.NoError(t, err)
		noiseDelta := 0.0
		if kind == dp.Gaussian {
			noiseDelta = 0.5e-6
		}
		want := []dp.Mechanism{{Kind: kind, Epsilon: 0.7, Delta: noiseDelta, L0: 4, LInf: 1}}
		assertMechs(t, kind.String()+" keep", rec.calls["keep"], want)
		assertMechs(t, kind.String()+" count", rec.calls["int"], want)
	}
}

// Cooccurrence in each of its modes: ε 10% to the number of persons
// (Laplace, sensitivity 1), 30% to items, 60% to pairs; items calibrated to
// MaxItems, pairs to min(MaxPairs, MaxItems·(MaxItems-1)/2), both to 1 when
// Weighted; δ as CooccurrenceParams.Epsilon documents.
func TestCooccurrenceCalibration(t *testing.T) {
	const eps, delta, maxItems, maxPairs = 2.0, 1e-6, 4, 5
	catalog := []string{"a", "b", "c", "d", "e"}
	for _, kind := range []dp.NoiseKind{dp.Laplace, dp.Gaussian} {
		for _, mode := range []string{"thresholds", "catalog", "public pairs", "weighted"} {
			t.Run(kind.String()+"/"+mode, func(t *testing.T) {
				rec := &recorder{}
				p := dp.CooccurrenceParams{Epsilon: eps, Delta: delta, MaxItems: maxItems, MaxPairs: maxPairs,
					Noise: kind, MinPersons: 1, NoiseSource: rec}
				if mode != "thresholds" {
					p.Items = catalog
				}
				if mode == "public pairs" || mode == "weighted" {
					p.PairItems = 3
				}
				p.Weighted = mode == "weighted"
				c, err := dp.NewCooccurrence(p)
				require.NoError(t, err)
				for _, it := range catalog {
					c.Add("ann", it)
				}
				res, err := c.Release(ctx, bigBudget(t))
				require.NoError(t, err)

				gaussian := kind == dp.Gaussian
				var itemDelta, pairDelta float64 // δ given to each
				itemThreshold := mode == "thresholds"
				pairThreshold := mode == "thresholds" || mode == "catalog"
				switch {
				case mode == "thresholds":
					itemDelta, pairDelta = delta/3, 2*delta/3
				case gaussian:
					itemDelta, pairDelta = delta/4, 3*delta/4
				case mode == "catalog":
					pairDelta = delta
				}
				noiseDelta := func(d float64, thresholded bool) float64 {
					switch {
					case !gaussian:
						return 0
					case thresholded:
						return d / 2
					}
					return d
				}
				itemL0, pairL0 := int64(maxItems), int64(min(maxPairs, maxItems*(maxItems-1)/2))
				if p.Weighted {
					itemL0, pairL0 = 1, 1
				}
				items := dp.Mechanism{Kind: kind, Epsilon: 0.3 * eps, Delta: noiseDelta(itemDelta, itemThreshold), L0: itemL0, LInf: 1}
				pairs := dp.Mechanism{Kind: kind, Epsilon: 0.6 * eps, Delta: noiseDelta(pairDelta, pairThreshold), L0: pairL0, LInf: 1}
				persons := dp.Mechanism{Kind: dp.Laplace, Epsilon: 0.1 * eps, L0: 1, LInf: 1}
				if gaussian && p.PairItems > 0 {
					// Both noises divided by one factor, as far as exact
					// composition to (0.9ε, δ) allows: TestJointGaussianProperty.
					assert.Greater(t, res.ItemNoise.Delta, items.Delta)
					assert.Greater(t, res.PairNoise.Delta, pairs.Delta)
					assert.LessOrEqual(t, exactDelta(0.9*eps, jointMu(res.ItemNoise, res.PairNoise)), delta)
					items.Delta, pairs.Delta = res.ItemNoise.Delta, res.PairNoise.Delta
				}
				assertMechs(t, "persons", []dp.Mechanism{res.PersonNoise}, []dp.Mechanism{persons})
				assertMechs(t, "items", []dp.Mechanism{res.ItemNoise}, []dp.Mechanism{items})
				assertMechs(t, "pairs", []dp.Mechanism{res.PairNoise}, []dp.Mechanism{pairs})

				var ints, floats, keeps []dp.Mechanism
				ints = append(ints, persons)
				switch {
				case p.Weighted:
					floats = append(floats, items, pairs)
				case mode == "public pairs":
					ints = append(ints, items, pairs)
				case mode == "catalog":
					ints = append(ints, items, pairs)
					keeps = append(keeps, pairs)
				default:
					ints = append(ints, items, pairs)
					keeps = append(keeps, items, pairs)
				}
				assertMechs(t, "int noise", rec.calls["int"], ints)
				assertMechs(t, "float noise", rec.calls["float"], floats)
				assertMechs(t, "selection", rec.calls["keep"], keeps)

				wantSpent := delta
				if !gaussian && p.PairItems > 0 {
					wantSpent = 0
				}
				assert.Equal(t, eps, res.Epsilon)
				assert.Equal(t, wantSpent, res.Delta)
				assert.InDelta(t, wantSpent, itemDelta+pairDelta, 1e-18, "the table gives all of δ")
			})
		}
	}
}

// The recorder sees every released value: spot-check that it was called
// for each partition, so the tests above do not pass on silence.
func TestRecorderSeesEveryValue(t *testing.T) {
	rec := &recorder{}
	c, err := dp.NewCounter(dp.Params{Epsilon: 1, Delta: 1e-6, MaxPartitions: 1, MaxContributions: 1, NoiseSource: rec})
	require.NoError(t, err)
	for i := 0; i < 5; i++ {
		c.Add("p"+strconv.Itoa(i), "k"+strconv.Itoa(i))
	}
	res, err := c.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	assert.Equal(t, 5, res.Len())
	require.Len(t, rec.calls["int"], 1)
	require.Len(t, rec.calls["keep"], 1)
}
