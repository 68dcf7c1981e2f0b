//go:build !race

package minimize_test

const raceEnabled = false
