package dp_test

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/dp"
)

// ExpectedPersons outside [0, 2^30] is refused by every constructor with a
// *ParamError naming it.
func TestExpectedPersonsValidation(t *testing.T) {
	for _, n := range []int{-1, 1<<30 + 1} {
		p := testParams(2, 1, 1)
		p.ExpectedPersons = n
		_, errAgg := dp.NewAggregation(p, dp.Spec[int64]{Metrics: dp.Count})
		_, errCount := dp.NewCounter(p)
		_, errTopK := dp.NewTopK(3, p)
		_, errCooc := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6,
			MaxItems: 3, MaxPairs: 3, ExpectedPersons: n})
		for name, err := range map[string]error{"Aggregation": errAgg, "Counter": errCount,
			"TopK": errTopK, "Cooccurrence": errCooc} {
			require.ErrorIs(t, err, dp.ErrInvalidParams, "%s, ExpectedPersons=%d", name, n)
			var pe *dp.ParamError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "ExpectedPersons", pe.Param, name)
		}
	}
	p := testParams(2, 1, 1)
	p.ExpectedPersons = 100
	_, err := dp.NewCounter(p)
	require.NoError(t, err)
}

// The capacity hint changes nothing but speed: with any hint, smaller or
// larger than the number of persons, the same records are kept and the
// same results released (exact, with the test noise), for random data.
func TestExpectedPersonsKeepsTheSameRecords(t *testing.T) {
	for c := range 20 {
		r := rand.New(rand.NewPCG(uint64(c), 3))
		persons := 1 + r.IntN(500)
		type rec struct {
			person, key string
			v           int64
		}
		data := make([]rec, r.IntN(3000))
		for i := range data {
			data[i] = rec{"p" + strconv.Itoa(r.IntN(persons)), "k" + strconv.Itoa(r.IntN(20)), r.Int64N(50)}
		}
		run := func(hint int) ([]dp.Partition[int64], int64, []dp.Ranked) {
			p := testParams(3, 2, uint64(c))
			p.ExpectedPersons = hint
			a, err := dp.NewAggregation(p, dp.Spec[int64]{Metrics: dp.Count | dp.Sum, Lower: 0, Upper: 50})
			require.NoError(t, err)
			p = testParams(3, 1, uint64(c))
			p.ExpectedPersons = hint
			tk, err := dp.NewTopK(5, p)
			require.NoError(t, err)
			for _, x := range data {
				a.Add(x.person, x.key, x.v)
				tk.Add(x.person, "", x.key)
			}
			res, err := a.Release(ctx, bigBudget(t))
			require.NoError(t, err)
			tr, err := tk.Release(ctx, bigBudget(t))
			require.NoError(t, err)
			return res.Partitions(), a.Dropped(), tr.Top("")
		}
		wantParts, wantDropped, wantTop := run(0)
		for _, hint := range []int{1, persons / 2, persons, 10 * persons} {
			parts, dropped, top := run(hint)
			assert.Equal(t, wantParts, parts, "case %d, hint %d", c, hint)
			assert.Equal(t, wantDropped, dropped, "case %d, hint %d", c, hint)
			assert.Equal(t, wantTop, top, "case %d, hint %d", c, hint)
		}
	}
}

// With the hint, new persons up to the hint cost no allocation: the person
// table does not grow. Without it, it does.
func TestExpectedPersonsNoGrowthAllocs(t *testing.T) {
	const n = 4000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "person-" + strconv.Itoa(i)
	}
	allocs := func(hint int) float64 {
		p := testParams(3, 1, 1)
		p.Partitions = []string{"a", "b"}
		p.ExpectedPersons = hint
		a, err := dp.NewAggregation(p, dp.Spec[int64]{Metrics: dp.Count | dp.Sum, Lower: 0, Upper: 10})
		require.NoError(t, err)
		next := 0
		return testing.AllocsPerRun(1, func() { // run twice: n/2 new persons each
			for range n / 2 {
				a.Add(ids[next], "a", 1)
				next++
			}
		})
	}
	assert.Zero(t, allocs(n), "with the hint")
	assert.NotZero(t, allocs(0), "without it the table grows")
}
