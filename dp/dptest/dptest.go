// Package dptest helps unit-test code that uses package dp.
//
// Real releases are random, so tests of code that consumes them cannot
// assert exact values. A [Noise] replaces the secure noise of one
// aggregation (through dp.Params.NoiseSource or
// dp.CooccurrenceParams.NoiseSource) with a deterministic one. Results built
// with it are exact functions of the bounded data and are marked as not
// differentially private: their Private method reports false and their
// String says "NOT PRIVATE", so they cannot be mistaken for real releases.
// Never use it in production.
//
//	p := dp.Params{Epsilon: 1, Delta: 1e-6, MaxPartitions: 1, MaxContributions: 1,
//		NoiseSource: dptest.Noise{}}
package dptest

import "github.com/tact-go/tact/dp"

// Noise is a deterministic dp.NoiseSource. The zero value adds no noise and
// releases every partition that at least one person contributed to, so
// released values equal the exact aggregates of the bounded data.
//
// Noise is a value with no state and is safe for concurrent use.
type Noise struct {
	// StdDevs shifts every released value by this many standard deviations
	// of the noise the real release would have added (see
	// dp.Mechanism.StdDev): a deterministic stand-in for a typical error,
	// e.g. 1 or -2, to test that consumers cope with noisy values.
	StdDevs float64

	// MinPersons is the number of distinct persons a privately selected
	// partition needs to be released (zero means 1), a deterministic
	// stand-in for the selection threshold.
	MinPersons int64
}

var _ dp.NoiseSource = Noise{}

// AddNoiseInt64 returns x shifted by StdDevs standard deviations, rounded.
func (n Noise) AddNoiseInt64(x int64, m dp.Mechanism) int64 {
	if n.StdDevs == 0 {
		return x
	}
	return x + int64(roundHalfAway(n.StdDevs*m.StdDev()))
}

// AddNoiseFloat64 returns x shifted by StdDevs standard deviations.
func (n Noise) AddNoiseFloat64(x float64, m dp.Mechanism) float64 {
	if n.StdDevs == 0 {
		return x
	}
	return x + n.StdDevs*m.StdDev()
}

// KeepPartition reports whether persons reaches MinPersons (at least 1).
func (n Noise) KeepPartition(persons int64, _ dp.Mechanism) bool {
	return persons >= max(1, n.MinPersons)
}

func roundHalfAway(x float64) float64 {
	if x < 0 {
		return -roundHalfAway(-x)
	}
	return float64(int64(x + 0.5))
}
