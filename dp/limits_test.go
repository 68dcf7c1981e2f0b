package dp_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/dp"
)

// releaser is an accumulator fed with a few records, ready to release; it
// returns every number the release published and every interval, as
// [lower, upper], each keyed by what it is.
type releaser func(b *dp.Budget) (values map[string]float64, intervals map[string][2]float64, err error)

// limitCase builds one mechanism of the package at a given ε, with real
// (secure) noise, or returns the constructor's error.
type limitCase struct {
	name  string
	build func(eps float64) (releaser, error)
}

func aggregationCase[V dp.Value](name string, p dp.Params, s dp.Spec[V]) limitCase {
	return limitCase{name, func(eps float64) (releaser, error) {
		p := p
		p.Epsilon = eps
		a, err := dp.NewAggregation(p, s)
		if err != nil {
			return nil, err
		}
		for i := range 6 {
			a.Add("p"+strconv.Itoa(i), "a", s.Upper)
			a.Add("p"+strconv.Itoa(i), "b", s.Lower)
		}
		return func(b *dp.Budget) (map[string]float64, map[string][2]float64, error) {
			r, err := a.Release(ctx, b)
			if err != nil {
				return nil, nil, err
			}
			vals, ivs := map[string]float64{}, map[string][2]float64{}
			for _, pt := range r.Partitions() {
				k := pt.Key + "."
				vals[k+"count"], ivs[k+"count"] = float64(pt.Count.Value), [2]float64{pt.Count.Lower, pt.Count.Upper}
				vals[k+"sum"], ivs[k+"sum"] = float64(pt.Sum.Value), [2]float64{pt.Sum.Lower, pt.Sum.Upper}
				vals[k+"mean"], ivs[k+"mean"] = pt.Mean.Value, [2]float64{pt.Mean.Lower, pt.Mean.Upper}
				for i, q := range pt.Quantiles {
					vals[k+"q"+strconv.Itoa(i)] = q
				}
			}
			return vals, ivs, nil
		}, nil
	}}
}

func topKCase(name string, p dp.Params) limitCase {
	return limitCase{name, func(eps float64) (releaser, error) {
		p := p
		p.Epsilon = eps
		tk, err := dp.NewTopK(2, p)
		if err != nil {
			return nil, err
		}
		for i := range 6 {
			tk.Add("p"+strconv.Itoa(i), "s", "x")
		}
		return func(b *dp.Budget) (map[string]float64, map[string][2]float64, error) {
			r, err := tk.Release(ctx, b)
			if err != nil {
				return nil, nil, err
			}
			vals, ivs := map[string]float64{"threshold": float64(r.Threshold())}, map[string][2]float64{}
			for seg, items := range r.All() {
				for _, it := range items {
					vals[seg+"."+it.Item], ivs[seg+"."+it.Item] = float64(it.Count), [2]float64{it.Lower, it.Upper}
				}
			}
			return vals, ivs, nil
		}, nil
	}}
}

func coocCase(name string, p dp.CooccurrenceParams) limitCase {
	return limitCase{name, func(eps float64) (releaser, error) {
		p := p
		p.Epsilon = eps
		c, err := dp.NewCooccurrence(p)
		if err != nil {
			return nil, err
		}
		for i := range 6 {
			c.Add("p"+strconv.Itoa(i), "x")
			c.Add("p"+strconv.Itoa(i), "y")
		}
		return func(b *dp.Budget) (map[string]float64, map[string][2]float64, error) {
			r, err := c.Release(ctx, b)
			if err != nil {
				return nil, nil, err
			}
			vals := map[string]float64{"persons": float64(r.Persons),
				"item noise": r.ItemNoise.StdDev(), "pair noise": r.PairNoise.StdDev()}
			for _, it := range r.Items {
				vals["item "+it.Item] = it.Count
			}
			for _, pc := range r.Pairs {
				vals["pair "+pc.A+pc.B] = pc.Count
			}
			return vals, nil, nil
		}, nil
	}}
}

// limitCases are the mechanisms of the package: aggregations of every
// metric over int64 and float64 with both noises, public partitions and
// both private selections (L0 ≤ 3: Google's optimal selection; L0 > 3:
// Gaussian thresholding), TopK, and co-occurrences thresholded, with a
// catalog, with public pairs and weighted.
func limitCases() []limitCase {
	var cases []limitCase
	all := dp.Count | dp.Sum | dp.Mean | dp.Quantiles
	ranks := []float64{0.5}
	for _, kind := range []dp.NoiseKind{dp.Laplace, dp.Gaussian} {
		for _, sel := range []struct {
			name  string
			l0    int
			parts []string
		}{{"public", 1, []string{"a", "b"}}, {"selected L0=1", 1, nil}, {"selected L0=4", 4, nil}} {
			p := dp.Params{Delta: 1e-6, MaxPartitions: sel.l0, MaxContributions: 1, Noise: kind, Partitions: sel.parts}
			name := fmt.Sprintf("%v %s", kind, sel.name)
			cases = append(cases,
				aggregationCase(name+" count", p, dp.Spec[int64]{Metrics: dp.Count}),
				aggregationCase(name+" float sum", p, dp.Spec[float64]{Metrics: dp.Sum, Lower: 0, Upper: 10}),
				aggregationCase(name+" float all", p, dp.Spec[float64]{Metrics: all, Lower: -1, Upper: 10, Ranks: ranks}),
				aggregationCase(name+" int all", p, dp.Spec[int64]{Metrics: all, Lower: -1, Upper: 10, Ranks: ranks}))
		}
		for _, l0 := range []int{1, 4} {
			cases = append(cases, topKCase(fmt.Sprintf("%v TopK L0=%d", kind, l0),
				dp.Params{Delta: 1e-6, MaxPartitions: l0, Noise: kind}))
		}
		cp := dp.CooccurrenceParams{Delta: 1e-6, MaxItems: 3, MaxPairs: 3, Noise: kind}
		catalog := cp
		catalog.Items = []string{"x", "y", "z"}
		public := catalog
		public.PairItems = 3
		weighted := public
		weighted.Weighted = true
		cases = append(cases,
			coocCase(fmt.Sprintf("%v co-occurrence thresholded", kind), cp),
			coocCase(fmt.Sprintf("%v co-occurrence catalog", kind), catalog),
			coocCase(fmt.Sprintf("%v co-occurrence public pairs", kind), public),
			coocCase(fmt.Sprintf("%v co-occurrence weighted", kind), weighted))
	}
	return cases
}

// requireFinite fails unless every released value and interval is finite
// and every interval is ordered.
func requireFinite(t *testing.T, vals map[string]float64, ivs map[string][2]float64) {
	t.Helper()
	require.NotEmpty(t, vals, "the release published nothing")
	for k, v := range vals {
		require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "%s = %v", k, v)
	}
	for k, iv := range ivs {
		require.False(t, math.IsNaN(iv[0]) || math.IsInf(iv[0], 0) || math.IsNaN(iv[1]) || math.IsInf(iv[1], 0),
			"%s interval %v", k, iv)
		require.LessOrEqual(t, iv[0], iv[1], "%s interval %v", k, iv)
	}
}

// A huge ε either is refused by the constructor with a *ParamError naming
// Epsilon, or releases finite values and intervals (and returns: a hang
// shows as the test binary's timeout). ε = 1e300 used to release +Inf;
// Gaussian noise at ε ≈ 1000 (or Laplace counts with selection by Gaussian
// thresholding at ε = 2000) used to hang in Release after charging the
// budget.
func TestLargeEpsilon(t *testing.T) {
	for _, tc := range limitCases() {
		for _, eps := range []float64{1e300, 2000, 1000, dp.MaxEpsilon, math.Nextafter(dp.MaxEpsilon, math.Inf(1))} {
			t.Run(fmt.Sprintf("%s/ε=%v", tc.name, eps), func(t *testing.T) {
				rel, err := tc.build(eps)
				if eps > dp.MaxEpsilon {
					require.ErrorIs(t, err, dp.ErrInvalidParams)
					var pe *dp.ParamError
					require.ErrorAs(t, err, &pe)
					assert.Equal(t, "Epsilon", pe.Param, err.Error())
					return
				}
				require.NoError(t, err)
				b, err := dp.NewBudget(dp.MaxEpsilon, 0.5, nil)
				require.NoError(t, err)
				vals, ivs, err := rel(b)
				require.NoError(t, err)
				requireFinite(t, vals, ivs)
			})
		}
	}
}

// Parameters whose noise cannot be represented are refused by the
// constructor: each of these used to be accepted, and Release then charged
// the budget and failed (tiny Mean bounds, tiny Alpha), or released values
// that were wrong beyond the noise: a granularity coarser than the bounds,
// or int64 noise that overflowed.
func TestUnrepresentableNoiseRefusedUpFront(t *testing.T) {
	pub := []string{"a"}
	tests := []struct {
		name   string
		p      dp.Params
		int    bool
		spec   dp.Spec[float64]
		param  string
		reason string
	}{
		{"subnormal mean bounds", dp.Params{Epsilon: 1, MaxPartitions: 1, MaxContributions: 1, Partitions: pub},
			false, dp.Spec[float64]{Metrics: dp.Mean, Lower: 0, Upper: 5e-324}, "Bounds",
			"the sensitivity (Upper-Lower)/2 rounds to 0: Release charged the budget, then Google's noise refused it"},
		{"tiny sum bounds", dp.Params{Epsilon: 1, MaxPartitions: 1, MaxContributions: 1, Partitions: pub},
			false, dp.Spec[float64]{Metrics: dp.Sum, Lower: 0, Upper: 1e-310}, "Bounds",
			"noise finer than the smallest normal float64: the granularity dominated the result"},
		{"huge float bounds", dp.Params{Epsilon: 100, MaxPartitions: 1, MaxContributions: 1, Partitions: pub},
			false, dp.Spec[float64]{Metrics: dp.Sum, Lower: 0, Upper: 1e302}, "Bounds",
			"a sum of a few hundred such values overflows to +Inf"},
		{"Gaussian sum of tiny bounds", dp.Params{Epsilon: 1, Delta: 1e-6, MaxPartitions: 1, MaxContributions: 1, Partitions: pub, Noise: dp.Gaussian},
			false, dp.Spec[float64]{Metrics: dp.Sum, Lower: 0, Upper: 1e-310}, "Bounds",
			"Google's search for σ among subnormal numbers never ended: Release hung after charging the budget"},
		{"subnormal selection δ", dp.Params{Epsilon: 1, Delta: 1e-320, MaxPartitions: 1, MaxContributions: 1},
			false, dp.Spec[float64]{Metrics: dp.Count}, "Delta",
			"Google's selection overflowed its crossover count: Release charged the budget, then failed"},
		{"selection δ near 1", dp.Params{Epsilon: 0.5, Delta: math.Nextafter(1, 0), MaxPartitions: 1, MaxContributions: 1},
			false, dp.Spec[float64]{Metrics: dp.Count}, "Delta",
			"Google's selection rounded its crossover count to 0: Release charged the budget, then failed"},
		{"tiny alpha", dp.Params{Epsilon: 1, MaxPartitions: 1, MaxContributions: 1, Partitions: pub, Alpha: 5e-324},
			false, dp.Spec[float64]{Metrics: dp.Mean, Lower: 0, Upper: 1}, "Alpha",
			"the mean's share of α rounds to 0: Release charged the budget, then Google's interval refused it"},
		{"int64 noise beyond 2^50", dp.Params{Epsilon: math.Ldexp(1, -45), MaxPartitions: 1, MaxContributions: 1, Partitions: pub},
			true, dp.Spec[float64]{Metrics: dp.Sum, Lower: 0, Upper: 1 << 20}, "Epsilon",
			"the noise of an int64 sum would overflow int64"},
		{"int64 count noise beyond 2^50", dp.Params{Epsilon: math.Ldexp(1, -45), MaxPartitions: 100, MaxContributions: 1000, Partitions: pub},
			true, dp.Spec[float64]{Metrics: dp.Count}, "Epsilon",
			"the noise of a count would overflow int64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.int {
				_, err = dp.NewAggregation(tt.p, dp.Spec[int64]{Metrics: tt.spec.Metrics,
					Lower: int64(tt.spec.Lower), Upper: int64(tt.spec.Upper), Ranks: tt.spec.Ranks})
			} else {
				_, err = dp.NewAggregation(tt.p, tt.spec)
			}
			require.ErrorIs(t, err, dp.ErrInvalidParams, tt.reason)
			var pe *dp.ParamError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.param, pe.Param, err.Error())
		})
	}
	for _, tt := range []struct {
		name string
		p    dp.CooccurrenceParams
	}{
		{"ε above MaxEpsilon", dp.CooccurrenceParams{Epsilon: 1e300, Delta: 1e-6, MaxItems: 2, MaxPairs: 1}},
		{"pair count noise beyond 2^50", dp.CooccurrenceParams{Epsilon: math.Ldexp(1, -40), Delta: 1e-6,
			MaxItems: 1000, MaxPairs: 1 << 20, Items: []string{"x", "y"}, PairItems: 2}},
	} {
		_, err := dp.NewCooccurrence(tt.p)
		require.ErrorIs(t, err, dp.ErrInvalidParams, tt.name)
	}
}

// Integer sums saturate below the int64 range, so that the noise added to a
// saturated sum, and its interval, cannot wrap around: a sum of 1100
// values of 2⁵³ (above 2⁶³) used to saturate at MaxInt64 and then wrap
// to negative values and intervals with Upper < Lower.
func TestIntSumSaturatesWithoutWrapping(t *testing.T) {
	p := dp.Params{Epsilon: dp.MaxEpsilon, MaxPartitions: 1, MaxContributions: 1, Partitions: []string{"a", "b"}}
	for _, kind := range []dp.NoiseKind{dp.Laplace, dp.Gaussian} {
		p.Noise = kind
		if kind == dp.Gaussian {
			p.Delta = 1e-6
		}
		a, err := dp.NewAggregation(p, dp.Spec[int64]{Metrics: dp.Sum, Lower: -1 << 53, Upper: 1 << 53})
		require.NoError(t, err)
		for i := range 1100 {
			a.Add("a"+strconv.Itoa(i), "a", 1<<53)
			a.Add("b"+strconv.Itoa(i), "b", -1<<53)
		}
		r, err := a.Release(ctx, bigBudget(t))
		require.NoError(t, err)
		pa, _ := r.Lookup("a")
		pb, _ := r.Lookup("b")
		const near = 1 << 61
		assert.Greater(t, pa.Sum.Value, int64(near), "%v: saturated high, not wrapped: %+v", kind, pa.Sum)
		assert.Greater(t, pa.Sum.Lower, float64(near), "%v: %+v", kind, pa.Sum)
		assert.Greater(t, pa.Sum.Upper, float64(near), "%v: %+v", kind, pa.Sum)
		assert.Less(t, pb.Sum.Value, int64(-near), "%v: saturated low, not wrapped: %+v", kind, pb.Sum)
		assert.Less(t, pb.Sum.Lower, float64(-near), "%v: %+v", kind, pb.Sum)
		assert.Less(t, pb.Sum.Upper, float64(-near), "%v: %+v", kind, pb.Sum)
	}
}

// Property: over random parameters across (and beyond) the accepted
// ranges, including NaN and infinities, a constructor either refuses with a
// *ParamError or the release succeeds with finite values and intervals.
func TestAcceptedParamsReleaseFinite(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	logUniform := func(lo, hi float64) float64 { return math.Exp2(lo + rng.Float64()*(hi-lo)) }
	pick := func(xs ...float64) float64 { return xs[rng.IntN(len(xs))] }
	special := func(x float64) float64 {
		if rng.IntN(20) == 0 {
			return pick(math.NaN(), math.Inf(1), math.Inf(-1), 0, -x)
		}
		return x
	}
	accepted := 0
	const cases = 3000
	for i := range cases {
		p := dp.Params{
			Epsilon:          special(logUniform(-52, 8)),
			Delta:            special(pick(0, logUniform(-1074, -1), 0.5, math.Nextafter(1, 0))),
			MaxPartitions:    int(pick(1, 2, 3, 4, 50, dp.MaxL0)),
			MaxContributions: int(pick(1, 3, 1000, dp.MaxLInf)),
			Noise:            dp.NoiseKind(rng.IntN(2)),
			Alpha:            special(pick(0, 0.05, logUniform(-1074, -1))),
			MinPersons:       int(pick(0, 1, 3)),
		}
		if rng.IntN(2) == 0 {
			p.Partitions = []string{"a", "b"}
		}
		hi := special(logUniform(-1074, 1023))
		lo := pick(0, -hi, hi/2, -logUniform(-1074, 1023))
		metrics := dp.Metric(1 + rng.IntN(15))
		ranks := []float64{0, 0.5, 1}
		var rel releaser
		var err error
		var what string
		switch rng.IntN(4) {
		case 0:
			what = "float aggregation"
			rel, err = aggregationCase("", p, dp.Spec[float64]{Metrics: metrics, Lower: lo, Upper: hi, Ranks: ranks}).build(p.Epsilon)
		case 1:
			what = "int aggregation"
			il, ih := clampToInt(lo), clampToInt(hi)
			rel, err = aggregationCase("", p, dp.Spec[int64]{Metrics: metrics, Lower: il, Upper: ih, Ranks: ranks}).build(p.Epsilon)
		case 2:
			what = "TopK"
			rel, err = topKCase("", p).build(p.Epsilon)
		default:
			what = "co-occurrence"
			cp := dp.CooccurrenceParams{Delta: p.Delta, MaxItems: max(2, p.MaxPartitions), MaxPairs: p.MaxContributions,
				Noise: p.Noise, MinPersons: p.MinPersons}
			if rng.IntN(2) == 0 {
				cp.Items = []string{"x", "y", "z"}
				cp.PairItems = rng.IntN(4)
				cp.Weighted = cp.PairItems > 0 && rng.IntN(2) == 0
			}
			rel, err = coocCase("", cp).build(p.Epsilon)
		}
		desc := fmt.Sprintf("case %d %s %+v bounds [%v, %v] metrics %v", i, what, p, lo, hi, metrics)
		if err != nil {
			var pe *dp.ParamError
			require.ErrorAs(t, err, &pe, desc)
			continue
		}
		accepted++
		b, berr := dp.NewBudget(1e9, math.Nextafter(1, 0), nil)
		require.NoError(t, berr)
		vals, ivs, err := rel(b)
		require.NoError(t, err, desc)
		for k, v := range vals {
			require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "%s: %s = %v", desc, k, v)
		}
		for k, iv := range ivs {
			require.False(t, math.IsNaN(iv[0]) || math.IsInf(iv[0], 0) || math.IsNaN(iv[1]) || math.IsInf(iv[1], 0),
				"%s: %s interval %v", desc, k, iv)
			require.LessOrEqual(t, iv[0], iv[1], "%s: %s interval %v", desc, k, iv)
		}
	}
	assert.Greater(t, accepted, cases/10, "the generator should produce accepted parameters too")
}

func clampToInt(x float64) int64 {
	switch {
	case math.IsNaN(x):
		return 0
	case x >= math.MaxInt64:
		return math.MaxInt64
	case x <= math.MinInt64:
		return math.MinInt64
	}
	return int64(x)
}

// A release that fails charges nothing: for every mechanism, a budget that
// cannot pay and a second release leave the budget as it was, and the
// refusal leaves the accumulator releasable (zero accumulators: see
// TestZeroAndCopiedAccumulators). With TestUnrepresentableNoiseRefusedUpFront
// and TestAcceptedParamsReleaseFinite it covers the order of every Release:
// all that can fail is checked before the budget pays.
func TestFailedReleaseChargesNothing(t *testing.T) {
	for _, tc := range limitCases() {
		t.Run(tc.name, func(t *testing.T) {
			rel, err := tc.build(1)
			require.NoError(t, err)
			small, err := dp.NewBudget(0.5, 0.5, nil)
			require.NoError(t, err)
			_, _, err = rel(small)
			require.ErrorIs(t, err, dp.ErrBudgetExhausted)
			assert.Empty(t, small.Ledger())
			e, d := small.Spent()
			assert.Zero(t, e)
			assert.Zero(t, d)

			b, err := dp.NewBudget(2, 0.5, nil)
			require.NoError(t, err)
			_, _, err = rel(b)
			require.NoError(t, err, "still unreleased after the refusal")
			e1, d1 := b.Spent()
			_, _, err = rel(b)
			require.ErrorIs(t, err, dp.ErrReleased)
			e2, d2 := b.Spent()
			assert.Equal(t, e1, e2)
			assert.Equal(t, d1, d2)
			assert.Len(t, b.Ledger(), 1)
		})
	}
}
