package dp_test

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/dptest"
)

func sampleState(t testing.TB, linf int) []byte {
	p := dp.Params{Epsilon: 1, Delta: 1e-6, MaxPartitions: 3, MaxContributions: linf,
		Rand: rand.New(rand.NewPCG(1, 2)), Label: "state"}
	a, err := dp.NewAggregation(p, dp.Spec[float64]{Metrics: dp.Sum | dp.Mean, Lower: -1, Upper: 5})
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200; i++ {
		a.Add("p"+strconv.Itoa(r.IntN(20)), "k"+strconv.Itoa(r.IntN(6)), r.Float64()*7-1)
	}
	data, err := a.MarshalBinary()
	require.NoError(t, err)
	return data
}

func TestStateRoundTrip(t *testing.T) {
	for _, linf := range []int{1, 4} {
		data := sampleState(t, linf)
		var a dp.Aggregation[float64]
		require.NoError(t, a.UnmarshalBinary(data))
		again, err := a.MarshalBinary()
		require.NoError(t, err)
		var b dp.Aggregation[float64]
		require.NoError(t, b.UnmarshalBinary(again))
		assert.Equal(t, len(data), len(again))
		assert.Equal(t, a.Dropped(), b.Dropped())
	}
	// Wrong value type or kind.
	var ai dp.Aggregation[int64]
	require.ErrorIs(t, ai.UnmarshalBinary(sampleState(t, 1)), dp.ErrInvalidState)
	var c dp.Counter
	require.ErrorIs(t, c.UnmarshalBinary(sampleState(t, 1)), dp.ErrInvalidState)
}

func TestStateCorruptionIsDetected(t *testing.T) {
	data := sampleState(t, 2)
	var good dp.Aggregation[float64]
	require.NoError(t, good.UnmarshalBinary(data))
	for i := range data {
		bad := append([]byte(nil), data...)
		bad[i] ^= 1 << (i % 8)
		var a dp.Aggregation[float64]
		err := a.UnmarshalBinary(bad)
		require.ErrorIs(t, err, dp.ErrInvalidState, "flipped byte %d", i)
	}
	for n := 0; n < len(data); n++ {
		err := good.UnmarshalBinary(data[:n])
		require.ErrorIs(t, err, dp.ErrInvalidState, "truncated to %d", n)
	}
	// good is unchanged by the failed decodes.
	again, err := good.MarshalBinary()
	require.NoError(t, err)
	assert.Equal(t, len(data), len(again))
}

// A forged state with a valid checksum must still not break the bounds.
func TestForgedStateIsRejected(t *testing.T) {
	data := sampleState(t, 1)
	body := append([]byte(nil), data[:len(data)-4]...)
	// Header: magic(3) version kind type ε(8) δ(8), then L0 as a varint.
	const l0At = 3 + 1 + 1 + 1 + 8 + 8
	require.Equal(t, byte(3), body[l0At])
	body[l0At] = 2 // claim L0 = 2 for persons that hold 3 partitions
	forged := binary.LittleEndian.AppendUint32(body, crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
	var a dp.Aggregation[float64]
	err := a.UnmarshalBinary(forged)
	require.ErrorIs(t, err, dp.ErrInvalidState)
	assert.Contains(t, err.Error(), "bound is 2")
}

func TestMergeIncompatible(t *testing.T) {
	p := testParams(2, 1, 1)
	a, err := dp.NewCounter(p)
	require.NoError(t, err)
	other, err := dp.NewCounter(testParams(2, 1, 2)) // another origin: another salt
	require.NoError(t, err)
	require.ErrorIs(t, a.Merge(other), dp.ErrIncompatible)
	require.ErrorIs(t, a.Merge(a), dp.ErrIncompatible)

	q := testParams(2, 1, 1)
	q.Epsilon = 2 // same salt, other parameters
	b, err := dp.NewCounter(q)
	require.NoError(t, err)
	require.ErrorIs(t, a.Merge(b), dp.ErrIncompatible)

	twin, err := dp.NewCounter(testParams(2, 1, 1))
	require.NoError(t, err)
	require.NoError(t, a.Merge(twin))
	_, err = twin.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	require.ErrorIs(t, a.Merge(twin), dp.ErrReleased)
	_, err = twin.MarshalBinary()
	require.ErrorIs(t, err, dp.ErrReleased)
}

// state is what every accumulator's partial state implements.
type state interface {
	UnmarshalBinary([]byte) error
	MarshalBinary() ([]byte, error)
}

// decoders are the partial states a fuzz input is tried on.
var decoders = map[string]func() state{
	"aggregation float64": func() state {
		return new(dp.Aggregation[float64])
	},
	"aggregation int64": func() state {
		return new(dp.Aggregation[int64])
	},
	"counter": func() state {
		return new(dp.Counter)
	},
	"topk": func() state {
		return new(dp.TopK)
	},
	"cooccurrence": func() state {
		return new(dp.Cooccurrence)
	},
}

// Decoding arbitrary bytes never panics, fails only with ErrInvalidState,
// and what decodes re-encodes and decodes again. Each input is also tried
// with its checksum made valid, so that the fuzzer reaches the validation
// of every field (a forger can compute a CRC too), not only the checksum.
func FuzzUnmarshalState(f *testing.F) {
	f.Add(sampleState(f, 1))
	f.Add(sampleState(f, 3))
	empty, _ := dp.NewCounter(dp.Params{Epsilon: 1, MaxPartitions: 1, MaxContributions: 1, Partitions: []string{"a", ""}})
	e, _ := empty.MarshalBinary()
	f.Add(e)
	f.Add(topKState(f))
	f.Add(coocState(f))
	f.Add(weightedCoocState(f))
	f.Add([]byte("tdp"))
	f.Fuzz(func(t *testing.T, data []byte) {
		inputs := [][]byte{data}
		if len(data) >= 4 {
			body := slices.Clip(data[:len(data)-4])
			inputs = append(inputs, binary.LittleEndian.AppendUint32(body, crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli))))
		}
		for _, data := range inputs {
			checkDecode(t, data)
		}
	})
}

// checkDecode decodes data with every decoder: an error must wrap
// ErrInvalidState; a success must re-encode into state that decodes.
func checkDecode(t *testing.T, data []byte) {
	t.Helper()
	for name, mk := range decoders {
		a := mk()
		if err := a.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, dp.ErrInvalidState) {
				t.Fatalf("%s: error %v does not wrap ErrInvalidState", name, err)
			}
			continue
		}
		again, err := a.MarshalBinary()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := mk().UnmarshalBinary(again); err != nil {
			t.Fatalf("%s: re-encoded state does not decode: %v", name, err)
		}
	}
}

func topKState(t testing.TB) []byte {
	tk, err := dp.NewTopK(2, dp.Params{Epsilon: 1, Delta: 1e-6, MaxPartitions: 2, Rand: rand.New(rand.NewPCG(1, 1))})
	require.NoError(t, err)
	for i := 0; i < 30; i++ {
		tk.Add("p"+strconv.Itoa(i%7), "s"+strconv.Itoa(i%2), "i"+strconv.Itoa(i%5))
	}
	data, err := tk.MarshalBinary()
	require.NoError(t, err)
	return data
}

func coocState(t testing.TB) []byte {
	c, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: 3, MaxPairs: 2, Rand: rand.New(rand.NewPCG(1, 1))})
	require.NoError(t, err)
	for i := 0; i < 30; i++ {
		c.Add("p"+strconv.Itoa(i%7), "i"+strconv.Itoa(i%5))
	}
	data, err := c.MarshalBinary()
	require.NoError(t, err)
	return data
}

// weightedCoocState is the state of a weighted public-pairs Cooccurrence,
// its items of several weights.
func weightedCoocState(t testing.TB) []byte {
	c, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: 3, MaxPairs: 2,
		Items: []string{"i0", "i1", "i2", "i3"}, PairItems: 3, Weighted: true, Rand: rand.New(rand.NewPCG(1, 1))})
	require.NoError(t, err)
	for i := 0; i < 30; i++ {
		c.AddWeighted("p"+strconv.Itoa(i%7), "i"+strconv.Itoa(i%5), 0.5+float64(i%4))
	}
	data, err := c.MarshalBinary()
	require.NoError(t, err)
	return data
}

func TestTopKAndCooccurrenceStates(t *testing.T) {
	for name, data := range map[string][]byte{"topk": topKState(t), "cooccurrence": coocState(t)} {
		a := decoders[name]()
		require.NoError(t, a.UnmarshalBinary(data), name)
		for i := range data {
			bad := append([]byte(nil), data...)
			bad[i] ^= 0x10
			require.ErrorIs(t, decoders[name]().UnmarshalBinary(bad), dp.ErrInvalidState, "%s: flipped byte %d", name, i)
		}
		require.ErrorIs(t, decoders[name]().UnmarshalBinary(data[:len(data)-1]), dp.ErrInvalidState)
	}
	weighted := weightedCoocState(t)
	require.NoError(t, new(dp.Cooccurrence).UnmarshalBinary(weighted))
	for i := range weighted {
		bad := append([]byte(nil), weighted...)
		bad[i] ^= 0x10
		require.ErrorIs(t, new(dp.Cooccurrence).UnmarshalBinary(bad), dp.ErrInvalidState, "weighted: flipped byte %d", i)
	}
	// Each kind refuses the others' state.
	require.ErrorIs(t, new(dp.TopK).UnmarshalBinary(coocState(t)), dp.ErrInvalidState)
	require.ErrorIs(t, new(dp.Cooccurrence).UnmarshalBinary(topKState(t)), dp.ErrInvalidState)
}

// Sharded TopK and Cooccurrence merge to what a single one computes.
func TestTopKAndCooccurrenceMerge(t *testing.T) {
	seed := func() *rand.Rand { return rand.New(rand.NewPCG(7, 7)) }
	tp := dp.Params{Epsilon: 1, Delta: 1e-6, MaxPartitions: 2, NoiseSource: dptest.Noise{}}
	cp := dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: 3, MaxPairs: 2, NoiseSource: dptest.Noise{}}

	tp.Rand = seed()
	single, err := dp.NewTopK(3, tp)
	require.NoError(t, err)
	tp.Rand = seed()
	origin, err := dp.NewTopK(3, tp)
	require.NoError(t, err)
	cp.Rand = seed()
	csingle, err := dp.NewCooccurrence(cp)
	require.NoError(t, err)
	cp.Rand = seed()
	corigin, err := dp.NewCooccurrence(cp)
	require.NoError(t, err)

	tEmpty, err := origin.MarshalBinary()
	require.NoError(t, err)
	cEmpty, err := corigin.MarshalBinary()
	require.NoError(t, err)
	tShards := make([]dp.TopK, 2)
	cShards := make([]dp.Cooccurrence, 2)
	for i := range tShards {
		require.NoError(t, tShards[i].UnmarshalBinary(tEmpty))
		require.NoError(t, cShards[i].UnmarshalBinary(cEmpty))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 500; i++ {
		person, seg, item := r.IntN(40), "s"+strconv.Itoa(r.IntN(2)), "i"+strconv.Itoa(r.IntN(6))
		id := "p" + strconv.Itoa(person)
		single.Add(id, seg, item)
		csingle.Add(id, item)
		tShards[r.IntN(2)].Add(id, seg, item) // split by record, not by person
		cShards[r.IntN(2)].Add(id, item)
	}
	for i := range tShards {
		td, err := tShards[i].MarshalBinary()
		require.NoError(t, err)
		var ts dp.TopK
		require.NoError(t, ts.UnmarshalBinary(td))
		require.NoError(t, origin.Merge(&ts))
		cd, err := cShards[i].MarshalBinary()
		require.NoError(t, err)
		var cs dp.Cooccurrence
		require.NoError(t, cs.UnmarshalBinary(cd))
		require.NoError(t, corigin.Merge(&cs))
	}
	want, err := single.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	got, err := origin.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	// Bottom-k choices depend only on the shared salt: identical counts.
	assert.Equal(t, want.All(), got.All())

	cwant, err := csingle.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	cgot, err := corigin.Release(ctx, bigBudget(t))
	require.NoError(t, err)
	assert.Equal(t, cwant.Items, cgot.Items)
	assert.Equal(t, cwant.Persons, cgot.Persons)
	var wantPairs, gotPairs float64
	for _, p := range cwant.Pairs {
		wantPairs += p.Count
	}
	for _, p := range cgot.Pairs {
		gotPairs += p.Count
	}
	// Pair sampling draws fresh randomness, so compare totals: each person
	// contributes min(MaxPairs, pairs of their kept items) either way.
	assert.Equal(t, wantPairs, gotPairs)

	other, err := dp.NewTopK(3, dp.Params{Epsilon: 1, Delta: 1e-6, MaxPartitions: 2})
	require.NoError(t, err)
	require.ErrorIs(t, origin.Merge(other), dp.ErrReleased)
	fresh, err := dp.NewTopK(3, dp.Params{Epsilon: 1, Delta: 1e-6, MaxPartitions: 2})
	require.NoError(t, err)
	require.ErrorIs(t, fresh.Merge(other), dp.ErrIncompatible)
}

// The zero value of each accumulator (declared for UnmarshalBinary, whose
// error was then ignored) and a value copy of one fail with typed errors,
// never a panic, and spend nothing.
func TestZeroAndCopiedAccumulators(t *testing.T) {
	budget := bigBudget(t)
	p := dp.Params{Epsilon: 1, Delta: 1e-6, MaxPartitions: 2, MaxContributions: 1}
	zeroErr := func(err error) {
		t.Helper()
		var pe *dp.ParamError
		require.ErrorAs(t, err, &pe)
		assert.Contains(t, err.Error(), "zero dp.")
	}

	var za dp.Aggregation[float64]
	assert.False(t, za.Add("ann", "k", 1))
	assert.Zero(t, za.Dropped())
	assert.Zero(t, za.Rejected())
	_, err := za.Release(ctx, budget)
	zeroErr(err)
	_, err = za.MarshalBinary()
	zeroErr(err)
	a, err := dp.NewAggregation(p, dp.Spec[float64]{Metrics: dp.Sum, Lower: 0, Upper: 1})
	require.NoError(t, err)
	require.ErrorIs(t, a.Merge(&za), dp.ErrIncompatible)
	require.ErrorIs(t, za.Merge(a), dp.ErrIncompatible)
	require.ErrorIs(t, a.Merge(nil), dp.ErrIncompatible)
	a.Add("ann", "k", 1)
	copied := *a // shares a's tables: merging it would count a twice
	require.ErrorIs(t, a.Merge(&copied), dp.ErrIncompatible)

	var zc dp.Counter
	assert.False(t, zc.Add("ann", "k"))
	assert.Zero(t, zc.Rejected())
	_, err = zc.Release(ctx, budget)
	zeroErr(err)
	_, err = zc.MarshalBinary()
	zeroErr(err)
	c, err := dp.NewCounter(p)
	require.NoError(t, err)
	require.ErrorIs(t, c.Merge(&zc), dp.ErrIncompatible)
	require.ErrorIs(t, zc.Merge(c), dp.ErrIncompatible)
	require.ErrorIs(t, c.Merge(nil), dp.ErrIncompatible)

	var zt dp.TopK
	assert.False(t, zt.Add("ann", "s", "i"))
	_, err = zt.Release(ctx, budget)
	zeroErr(err)
	_, err = zt.MarshalBinary()
	zeroErr(err)
	tk, err := dp.NewTopK(1, p)
	require.NoError(t, err)
	require.ErrorIs(t, tk.Merge(&zt), dp.ErrIncompatible)
	require.ErrorIs(t, zt.Merge(tk), dp.ErrIncompatible)
	tcopy := *tk
	require.ErrorIs(t, tk.Merge(&tcopy), dp.ErrIncompatible)

	var zo dp.Cooccurrence
	assert.False(t, zo.Add("ann", "i"))
	_, err = zo.Release(ctx, budget)
	zeroErr(err)
	_, err = zo.MarshalBinary()
	zeroErr(err)
	co, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, MaxItems: 2, MaxPairs: 1})
	require.NoError(t, err)
	require.ErrorIs(t, co.Merge(&zo), dp.ErrIncompatible)
	require.ErrorIs(t, zo.Merge(co), dp.ErrIncompatible)
	ocopy := *co
	require.ErrorIs(t, co.Merge(&ocopy), dp.ErrIncompatible)

	assert.Empty(t, budget.Ledger(), "nothing was spent")
}
