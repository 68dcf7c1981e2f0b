//go:build race

package minimize_test

// raceEnabled reports whether the race detector is on: it instruments
// unsafe pointer conversions (checkptr), which changes escape analysis and
// so allocation counts.
const raceEnabled = true
