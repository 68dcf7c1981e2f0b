package dptest_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/dptest"
)

func TestNoise(t *testing.T) {
	m := dp.Mechanism{Kind: dp.Laplace, Epsilon: 0.5, L0: 2, LInf: 3}
	sd := math.Sqrt2 * 2 * 3 / 0.5
	assert.Equal(t, int64(10), dptest.Noise{}.AddNoiseInt64(10, m), "zero value: exact")
	assert.Equal(t, 2.5, dptest.Noise{}.AddNoiseFloat64(2.5, m))
	assert.Equal(t, int64(10+math.Round(sd)), dptest.Noise{StdDevs: 1}.AddNoiseInt64(10, m))
	assert.Equal(t, int64(10-math.Round(2*sd)), dptest.Noise{StdDevs: -2}.AddNoiseInt64(10, m))
	assert.InDelta(t, 2.5+0.5*sd, dptest.Noise{StdDevs: 0.5}.AddNoiseFloat64(2.5, m), 1e-12)
	assert.True(t, dptest.Noise{}.KeepPartition(1, m))
	assert.False(t, dptest.Noise{}.KeepPartition(0, m))
	assert.False(t, dptest.Noise{MinPersons: 5}.KeepPartition(4, m))
	assert.True(t, dptest.Noise{MinPersons: 5}.KeepPartition(5, m))
}

func TestMemorySpendLog(t *testing.T) {
	dptest.RunSpendLog(t, func(*testing.T) dp.SpendLog { return new(dp.MemorySpendLog) }, nil)
}
