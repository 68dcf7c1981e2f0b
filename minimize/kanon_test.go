package minimize_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/minimize"
)

func TestCheckKStructs(t *testing.T) {
	type Geo struct{ Region *string }
	type Row struct {
		Geo
		Age   int
		Month time.Time
		Diag  string
	}
	n1, s1 := "N1", "SW1"
	m5 := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	rows := []*Row{
		{Geo{&n1}, 30, m5, "flu"}, {Geo{&n1}, 30, m5, "flu"}, {Geo{&n1}, 30, m5, "cold"},
		{Geo{&s1}, 30, m5, "flu"}, {Geo{&s1}, 30, m5, "flu"},
		{Geo{nil}, 40, m5, "x"},
	}
	res, err := minimize.CheckK(rows, minimize.KAnonymity{QuasiIdentifiers: []string{"Region", "Age", "Month"}, K: 3, Sensitive: "Diag"})
	require.NoError(t, err)
	assert.Equal(t, 1, res.K)
	assert.Equal(t, 1, res.L, "the SW1 class discloses its diagnosis")
	assert.Equal(t, 3, res.Classes)
	require.Len(t, res.Small, 2)
	assert.Equal(t, minimize.Class{Values: []string{"<nil>", "40", "2025-05-01T00:00:00Z"}, Size: 1, Distinct: 1}, res.Small[0], "smallest first; nil pointers are a value")
	assert.Equal(t, minimize.Class{Values: []string{"SW1", "30", "2025-05-01T00:00:00Z"}, Size: 2, Distinct: 1}, res.Small[1])
	assert.Equal(t, rows, res.Records, "no suppression asked: all records")
	assert.Zero(t, res.Suppressed)

	res, err = minimize.CheckK(rows, minimize.KAnonymity{QuasiIdentifiers: []string{"Geo.Region", "Age"}, K: 3, Suppress: true})
	require.NoError(t, err)
	assert.Equal(t, 3, res.Suppressed)
	assert.Equal(t, rows[:3], res.Records, "input order")
	assert.Zero(t, res.L, "no sensitive field, no l")

	for _, cfg := range []minimize.KAnonymity{
		{QuasiIdentifiers: []string{"Age"}, K: 0},
		{K: 2},
		{QuasiIdentifiers: []string{"Nope"}, K: 2},
		{QuasiIdentifiers: []string{"Geo"}, K: 2},
		{QuasiIdentifiers: []string{"Age.X"}, K: 2},
		{QuasiIdentifiers: []string{"Age"}, K: 2, Sensitive: "Nope"},
	} {
		_, err := minimize.CheckK(rows, cfg)
		assert.ErrorIs(t, err, minimize.ErrInvalidK, "%+v", cfg)
	}
	_, err = minimize.CheckK([]*Row{nil}, minimize.KAnonymity{QuasiIdentifiers: []string{"Age"}, K: 1})
	assert.ErrorIs(t, err, minimize.ErrNilRecord)
	_, err = minimize.CheckK([]int{1}, minimize.KAnonymity{QuasiIdentifiers: []string{"Age"}, K: 1})
	assert.ErrorIs(t, err, minimize.ErrInvalidK)
}

func TestCheckKMaps(t *testing.T) {
	recs := []map[string]any{
		{"age": 30, "zip": "SW1"}, {"age": 30, "zip": "SW1"},
		{"age": 30}, // missing zip is its own value
		{"age": "30", "zip": "SW1"},
	}
	res, err := minimize.CheckK(recs, minimize.KAnonymity{QuasiIdentifiers: []string{"age", "zip"}, K: 2})
	require.NoError(t, err)
	assert.Equal(t, 2, res.Classes, `the int 30 and the string "30" format alike: both are the same to a reader`)
	require.Len(t, res.Small, 1)
	assert.Equal(t, []string{"30", "<missing>"}, res.Small[0].Values)
	_, err = minimize.CheckK([]map[string]any{nil}, minimize.KAnonymity{QuasiIdentifiers: []string{"age"}, K: 1})
	assert.ErrorIs(t, err, minimize.ErrNilRecord)
	res, err = minimize.CheckK([]map[string]any{}, minimize.KAnonymity{QuasiIdentifiers: []string{"age"}, K: 1})
	require.NoError(t, err)
	assert.Zero(t, res.K, "an empty batch")
}

// A record whose separator-free concatenation would collide with another's
// must still form its own class.
func TestCheckKNoKeyCollisions(t *testing.T) {
	recs := []map[string]any{{"a": "ab", "b": "c"}, {"a": "a", "b": "bc"}}
	res, err := minimize.CheckK(recs, minimize.KAnonymity{QuasiIdentifiers: []string{"a", "b"}, K: 1})
	require.NoError(t, err)
	assert.Equal(t, 2, res.Classes)
}

// A value that reads like the marker of a nil or missing value is not in
// the same class as one: that would overstate k.
func TestCheckKMarkersDoNotCollide(t *testing.T) {
	recs := []map[string]any{
		{"zip": "<missing>"},
		{"zip": "<nil>"},
		{},
		{"zip": nil},
	}
	res, err := minimize.CheckK(recs, minimize.KAnonymity{QuasiIdentifiers: []string{"zip"}, K: 2})
	require.NoError(t, err)
	assert.Equal(t, 1, res.K, "four distinct situations, each alone")
	assert.Equal(t, 4, res.Classes)
}

func TestZeroBatchErrorDoesNotPanic(t *testing.T) {
	var e minimize.BatchError
	assert.NotPanics(t, func() { _ = e.Error() })
	assert.Contains(t, e.Error(), "minimize:")
}
