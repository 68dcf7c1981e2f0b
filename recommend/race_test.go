//go:build race

package recommend_test

// raceEnabled reports whether the race detector is on: its
// instrumentation changes escape analysis and so allocation counts.
const raceEnabled = true
