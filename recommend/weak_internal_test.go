package recommend

import (
	"math"
	"testing"
)

// History and feedback keep s²/(s² + weakSignal²) of their weight at a
// signal-to-noise ratio s: all of it for exact counts, half at weakSignal,
// none for pairs that are noise alone.
func TestModelShare(t *testing.T) {
	m := codecEASE(t)
	for _, tc := range []struct{ snr, want float64 }{
		{math.Inf(1), 1}, {0, 0}, {weakSignal, 0.5}, {2 * weakSignal, 0.8}, {weakSignal / 2, 0.2},
	} {
		m.ii.snr = tc.snr
		got, err := NewModel(m.cat, nil, m.ii)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got.modelShare-tc.want) > 1e-12 {
			t.Errorf("signal-to-noise %g: share %g, want %g", tc.snr, got.modelShare, tc.want)
		}
	}
}
