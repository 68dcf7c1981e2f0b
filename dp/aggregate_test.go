package dp_test

import (
	"bytes"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/dptest"
)

func bigBudget(t testing.TB) *dp.Budget {
	t.Helper()
	b, err := dp.NewBudget(1e9, 0.5, nil)
	require.NoError(t, err)
	return b
}

func testParams(l0, linf int, seed uint64) dp.Params {
	return dp.Params{
		Epsilon: 1, Delta: 1e-6, MaxPartitions: l0, MaxContributions: linf,
		Rand: rand.New(rand.NewPCG(seed, seed^0x5eed)), NoiseSource: dptest.Noise{},
	}
}

func TestAggregationValidation(t *testing.T) {
	ok := dp.Params{Epsilon: 1, Delta: 1e-6, MaxPartitions: 1, MaxContributions: 1}
	with := func(f func(*dp.Params)) dp.Params { p := ok; f(&p); return p }
	sum := dp.Spec[float64]{Metrics: dp.Sum, Lower: 0, Upper: 10}
	tests := []struct {
		name   string
		p      dp.Params
		s      dp.Spec[float64]
		param  string
		reason string
	}{
		{"zero epsilon", with(func(p *dp.Params) { p.Epsilon = 0 }), sum, "Epsilon", "ε must be positive"},
		{"negative epsilon", with(func(p *dp.Params) { p.Epsilon = -1 }), sum, "Epsilon", "ε must be positive"},
		{"NaN epsilon", with(func(p *dp.Params) { p.Epsilon = math.NaN() }), sum, "Epsilon", "not a number"},
		{"infinite epsilon", with(func(p *dp.Params) { p.Epsilon = math.Inf(1) }), sum, "Epsilon", "no privacy"},
		{"negative delta", with(func(p *dp.Params) { p.Delta = -1 }), sum, "Delta", "a probability"},
		{"delta one", with(func(p *dp.Params) { p.Delta = 1 }), sum, "Delta", "no privacy"},
		{"NaN delta", with(func(p *dp.Params) { p.Delta = math.NaN() }), sum, "Delta", "not a number"},
		{"private selection without delta", with(func(p *dp.Params) { p.Delta = 0 }), sum, "Delta", "selection spends δ"},
		{"gaussian without delta", with(func(p *dp.Params) { p.Delta = 0; p.Partitions = []string{"a"}; p.Noise = dp.Gaussian }), sum, "Delta", "Gaussian needs δ"},
		{"L0 zero", with(func(p *dp.Params) { p.MaxPartitions = 0 }), sum, "MaxPartitions", "at least 1"},
		{"L0 negative", with(func(p *dp.Params) { p.MaxPartitions = -3 }), sum, "MaxPartitions", "at least 1"},
		{"L0 huge", with(func(p *dp.Params) { p.MaxPartitions = dp.MaxL0 + 1 }), sum, "MaxPartitions", "memory bound"},
		{"Linf zero", with(func(p *dp.Params) { p.MaxContributions = 0 }), sum, "MaxContributions", "at least 1"},
		{"unknown noise", with(func(p *dp.Params) { p.Noise = 7 }), sum, "Noise", "two kinds"},
		{"bad alpha", with(func(p *dp.Params) { p.Alpha = 1.5 }), sum, "Alpha", "a probability"},
		{"negative min persons", with(func(p *dp.Params) { p.MinPersons = -1 }), sum, "MinPersons", "a count"},
		{"no metrics", ok, dp.Spec[float64]{}, "Metrics", "nothing to compute"},
		{"unknown metric", ok, dp.Spec[float64]{Metrics: 64}, "Metrics", "unknown bit"},
		{"lower above upper", ok, dp.Spec[float64]{Metrics: dp.Sum, Lower: 5, Upper: 1}, "Bounds", "lower > upper"},
		{"NaN bound", ok, dp.Spec[float64]{Metrics: dp.Sum, Lower: math.NaN(), Upper: 1}, "Bounds", "NaN"},
		{"infinite bound", ok, dp.Spec[float64]{Metrics: dp.Sum, Lower: 0, Upper: math.Inf(1)}, "Bounds", "∞ sensitivity"},
		{"zero bounds", ok, dp.Spec[float64]{Metrics: dp.Sum}, "Bounds", "sum of nothing"},
		{"mean equal bounds", ok, dp.Spec[float64]{Metrics: dp.Mean, Lower: 2, Upper: 2}, "Bounds", "mean needs a range"},
		{"quantiles no ranks", ok, dp.Spec[float64]{Metrics: dp.Quantiles, Lower: 0, Upper: 1}, "Ranks", "which quantiles"},
		{"quantiles bad rank", ok, dp.Spec[float64]{Metrics: dp.Quantiles, Lower: 0, Upper: 1, Ranks: []float64{1.5}}, "Ranks", "rank in [0,1]"},
		{"overflowing bound", ok, dp.Spec[float64]{Metrics: dp.Sum, Lower: 0, Upper: math.MaxFloat64}, "Bounds", "overflow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := dp.NewAggregation(tt.p, tt.s)
			require.ErrorIs(t, err, dp.ErrInvalidParams, tt.reason)
			var pe *dp.ParamError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.param, pe.Param, err.Error())
			assert.Nil(t, a)
		})
	}
	// int64 bounds whose sensitivity overflows.
	_, err := dp.NewAggregation(ok, dp.Spec[int64]{Metrics: dp.Sum, Lower: math.MinInt64, Upper: 0})
	require.ErrorIs(t, err, dp.ErrInvalidParams)
	_, err = dp.NewAggregation(with(func(p *dp.Params) { p.MaxContributions = 1000 }), dp.Spec[int64]{Metrics: dp.Sum, Lower: 0, Upper: math.MaxInt64 / 10})
	require.ErrorIs(t, err, dp.ErrInvalidParams)
	// Count alone needs no bounds.
	_, err = dp.NewAggregation(ok, dp.Spec[int64]{Metrics: dp.Count})
	require.NoError(t, err)
}

func TestAddBadInput(t *testing.T) {
	p := testParams(2, 2, 1)
	p.Partitions = []string{"a", "b"}
	a, err := dp.NewAggregation(p, dp.Spec[float64]{Metrics: dp.Count | dp.Sum, Lower: 0, Upper: 10})
	require.NoError(t, err)
	assert.True(t, a.Add("alice", "a", 3))
	assert.False(t, a.Add("", "a", 3), "empty person id")
	assert.False(t, a.Add("bob", "a", math.NaN()), "NaN value")
	assert.False(t, a.Add("bob", "zzz", 1), "key outside public partitions")
	assert.True(t, a.Add("bob", "b", math.Inf(1)), "+Inf is clamped")
	assert.True(t, a.Add("carol", "b", -5), "clamped to lower")
	assert.EqualValues(t, 2, a.Rejected())

	res, err := a.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	assert.False(t, a.Add("dave", "a", 1), "after release")
	pa, ok := res.Lookup("a")
	require.True(t, ok)
	assert.EqualValues(t, 1, pa.Count.Value, "rejected records lost nothing accepted")
	assert.EqualValues(t, 3, pa.Sum.Value)
	pb, _ := res.Lookup("b")
	assert.EqualValues(t, 2, pb.Count.Value)
	assert.EqualValues(t, 10, pb.Sum.Value, "+Inf clamped to 10, -5 to 0")

	_, err = a.Release(ctx, bigBudget(t))
	require.ErrorIs(t, err, dp.ErrReleased)
}

func TestReleaseBudgetRefusalKeepsState(t *testing.T) {
	p := testParams(1, 1, 2)
	c, err := dp.NewCounter(p)
	require.NoError(t, err)
	c.Add("alice", "a")
	small, err := dp.NewBudget(0.5, 1e-6, nil)
	require.NoError(t, err)
	_, err = c.Release(ctx, small)
	require.ErrorIs(t, err, dp.ErrBudgetExhausted)
	se, _ := small.Spent()
	assert.Zero(t, se)
	// Still unreleased: a bigger budget works.
	res, err := c.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	assert.Equal(t, 1, res.Len())
}

// Exact aggregates under the test noise source, including public partitions
// without data, means and quantiles.
func TestAggregationExactWithTestNoise(t *testing.T) {
	p := testParams(10, 10, 3)
	p.Partitions = []string{"x", "y", "empty"}
	a, err := dp.NewAggregation(p, dp.Spec[float64]{
		Metrics: dp.Count | dp.Sum | dp.Mean | dp.Quantiles, Lower: 0, Upper: 100,
		Ranks: []float64{0, 0.5, 1}})
	require.NoError(t, err)
	for i, v := range []float64{10, 20, 30, 40} {
		a.Add("p"+strconv.Itoa(i), "x", v)
	}
	a.Add("p0", "y", 7)
	res, err := a.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	assert.False(t, res.Private())
	assert.Contains(t, res.String(), "NOT PRIVATE")
	require.Equal(t, 3, res.Len())
	parts := res.Partitions()
	assert.Equal(t, []string{"empty", "x", "y"}, []string{parts[0].Key, parts[1].Key, parts[2].Key})
	x := parts[1]
	assert.EqualValues(t, 4, x.Count.Value)
	assert.EqualValues(t, 100, x.Sum.Value)
	assert.InDelta(t, 25, x.Mean.Value, 1e-9)
	assert.Equal(t, []float64{10, 25, 40}, x.Quantiles)
	assert.LessOrEqual(t, x.Count.Lower, 4.0)
	assert.GreaterOrEqual(t, x.Count.Upper, 4.0)
	assert.LessOrEqual(t, x.Mean.Lower, 25.0)
	assert.GreaterOrEqual(t, x.Mean.Upper, 25.0)
	assert.EqualValues(t, 0, parts[0].Count.Value, "public partitions are released even when empty")

	// Results are immutable: mutating a copy changes nothing.
	parts[1].Quantiles[0] = -1
	again, _ := res.Lookup("x")
	assert.Equal(t, 10.0, again.Quantiles[0])
}

func TestPrivateSelectionWithTestNoise(t *testing.T) {
	p := testParams(1, 1, 4)
	p.NoiseSource = dptest.Noise{MinPersons: 3}
	c, err := dp.NewCounter(p)
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		c.Add("p"+strconv.Itoa(i), "popular")
	}
	c.Add("loner", "rare")
	res, err := c.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	_, ok := res.Lookup("popular")
	assert.True(t, ok)
	_, ok = res.Lookup("rare")
	assert.False(t, ok, "a partition with too few people is not released")
}

// Property: whatever the data, each person contributes at most L0
// partitions and at most L∞ records to each; when the bounds do not bind,
// nothing is dropped.
func TestBoundingProperty(t *testing.T) {
	for seed := uint64(0); seed < 200; seed++ {
		r := rand.New(rand.NewPCG(seed, 99))
		l0, linf := 1+r.IntN(5), 1+r.IntN(4)
		nPersons, nKeys := 1+r.IntN(20), 1+r.IntN(12)
		a, err := dp.NewAggregation(testParams(l0, linf, seed), dp.Spec[int64]{Metrics: dp.Count | dp.Sum, Lower: 0, Upper: 1})
		require.NoError(t, err)
		type pk struct{ p, k int }
		records := map[pk]int{}
		for i := r.IntN(300); i > 0; i-- {
			k := pk{r.IntN(nPersons), r.IntN(nKeys)}
			records[k]++
			a.Add("p"+strconv.Itoa(k.p), "k"+strconv.Itoa(k.k), 1)
		}
		// Exact bound: Σ over persons of Σ over their kept partitions of min(n, L∞).
		perPerson := map[int][]int{}
		for k, n := range records {
			perPerson[k.p] = append(perPerson[k.p], n)
		}
		maxTotal, minTotal, binding := 0, 0, false
		for _, ns := range perPerson {
			slices.Sort(ns)
			if len(ns) > l0 {
				binding = true
			}
			for i, n := range ns {
				if n > linf {
					binding = true
				}
				if i < l0 {
					minTotal += min(n, linf)
				}
				if i >= len(ns)-l0 {
					maxTotal += min(n, linf)
				}
			}
		}
		res, err := a.Release(ctx, bigBudget(t))
		require.NoError(t, err)
		total := int64(0)
		for _, part := range res.Partitions() {
			total += part.Count.Value
			assert.Equal(t, part.Count.Value, part.Sum.Value, "all values are 1")
			persons := 0
			for k := range records {
				if "k"+strconv.Itoa(k.k) == part.Key {
					persons++
				}
			}
			assert.LessOrEqual(t, part.Count.Value, int64(persons*linf), "L∞ per person per partition")
		}
		assert.LessOrEqual(t, total, int64(maxTotal), "seed %d", seed)
		if !binding {
			assert.Equal(t, int64(maxTotal), total, "nothing dropped when bounds do not bind (seed %d)", seed)
		}
		assert.GreaterOrEqual(t, total, int64(minTotal), "each person keeps min(distinct, L0) partitions (seed %d)", seed)
	}
}

// Add does not allocate once a person and a partition are known.
func TestAddDoesNotAllocate(t *testing.T) {
	a, err := dp.NewAggregation(testParams(3, 2, 1), dp.Spec[int64]{Metrics: dp.Count | dp.Sum, Lower: 0, Upper: 10})
	require.NoError(t, err)
	persons := make([]string, 100)
	for i := range persons {
		persons[i] = "p" + strconv.Itoa(i)
		for _, k := range []string{"a", "b", "c", "d"} {
			a.Add(persons[i], k, 1)
			a.Add(persons[i], k, 1)
		}
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		a.Add(persons[i%100], "c", int64(i%10))
		i++
	})
	assert.Zero(t, allocs)

	// Nor do TopK.Add and Cooccurrence.Add.
	tk, err := dp.NewTopK(3, testParams(3, 1, 2))
	require.NoError(t, err)
	co, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: 3, MaxPairs: 3})
	require.NoError(t, err)
	for _, p := range persons {
		for _, k := range []string{"a", "b", "c", "d"} {
			tk.Add(p, "seg", k)
			co.Add(p, k)
		}
	}
	allocs = testing.AllocsPerRun(1000, func() {
		tk.Add(persons[i%100], "seg", "c")
		co.Add(persons[i%100], "d")
		i++
	})
	assert.Zero(t, allocs)
}

func TestReleaseAuditEvent(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	p := testParams(1, 1, 9)
	p.Logger, p.Label = logger, "visits"
	c, err := dp.NewCounter(p)
	require.NoError(t, err)
	c.Add("alice@example.com", "/home")
	c.Add("bob@example.com", "/secret-page")
	_, err = c.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	out := buf.String()
	assert.Contains(t, out, `"msg":"dp.release"`)
	assert.Contains(t, out, `"event":"dp.release"`)
	assert.Contains(t, out, `"label":"visits"`)
	assert.Contains(t, out, `"partitions":2`)
	assert.Contains(t, out, `"private":false`)
	for _, secret := range []string{"alice", "bob", "/home", "/secret-page"} {
		assert.NotContains(t, out, secret, "audit events carry no person ids or keys")
	}
}

// Shares of ε or δ that Google's noise would refuse are refused by the
// constructor, not by Release after the budget has paid.
func TestTinySharesRefusedUpFront(t *testing.T) {
	countSum := dp.Spec[float64]{Metrics: dp.Count | dp.Sum, Lower: 0, Upper: 1}
	for _, tc := range []struct {
		name  string
		p     dp.Params
		param string
	}{
		{"ε share below 2⁻⁵⁰", dp.Params{Epsilon: math.Ldexp(1, -49), Delta: 1e-6, MaxPartitions: 1, MaxContributions: 1}, "Epsilon"},
		{"Gaussian δ share rounds to 0", dp.Params{Epsilon: 1, Delta: 5e-324, MaxPartitions: 1, MaxContributions: 1,
			Noise: dp.Gaussian, Partitions: []string{"a"}}, "Delta"},
		{"selection δ per partition rounds to 0", dp.Params{Epsilon: 1, Delta: 5e-324, MaxPartitions: 2, MaxContributions: 1}, "Delta"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := dp.NewAggregation(tc.p, countSum)
			var pe *dp.ParamError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tc.param, pe.Param, err.Error())
			assert.Nil(t, a)
		})
	}
	_, err := dp.NewTopK(1, dp.Params{Epsilon: 1, Delta: 5e-324, MaxPartitions: 2, Noise: dp.Gaussian})
	require.ErrorIs(t, err, dp.ErrInvalidParams)
	_, err = dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: math.Ldexp(1, -48), Delta: 1e-6, MaxItems: 2, MaxPairs: 1})
	require.ErrorIs(t, err, dp.ErrInvalidParams, "the persons' tenth of ε is below 2⁻⁵⁰")
}
