package dp_test

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/dp"
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
	_, err = twin.Release(bigBudget(t))
	require.NoError(t, err)
	require.ErrorIs(t, a.Merge(twin), dp.ErrReleased)
	_, err = twin.MarshalBinary()
	require.ErrorIs(t, err, dp.ErrReleased)
}

func FuzzUnmarshalAggregation(f *testing.F) {
	f.Add(sampleState(f, 1))
	f.Add(sampleState(f, 3))
	empty, _ := dp.NewCounter(dp.Params{Epsilon: 1, MaxPartitions: 1, MaxContributions: 1, Partitions: []string{"a", ""}})
	e, _ := empty.MarshalBinary()
	f.Add(e)
	f.Add([]byte("tdp"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var a dp.Aggregation[float64]
		err := a.UnmarshalBinary(data)
		if err != nil {
			if !errors.Is(err, dp.ErrInvalidState) {
				t.Fatalf("error %v does not wrap ErrInvalidState", err)
			}
			return
		}
		again, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var b dp.Aggregation[float64]
		if err := b.UnmarshalBinary(again); err != nil {
			t.Fatalf("re-encoded state does not decode: %v", err)
		}
	})
}
