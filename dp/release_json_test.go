package dp_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/dptest"
)

// A release stored as JSON and read back is the same release, so that a
// service can serve it after a restart instead of spending again.
func TestReleasesRoundTripJSON(t *testing.T) {
	budget, err := dp.NewBudget(4, 1e-4, nil)
	require.NoError(t, err)
	top, err := dp.NewTopK(3, dp.Params{Epsilon: 1, Delta: 1e-5, MaxPartitions: 2, MaxContributions: 1,
		NoiseSource: dptest.Noise{}})
	require.NoError(t, err)
	co, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-5, MaxItems: 3, MaxPairs: 3, NoiseSource: dptest.Noise{}})
	require.NoError(t, err)
	for i := range 40 {
		p := string(rune('a' + i%26))
		top.Add(p, "GB", "shoes")
		top.Add(p, "DE", []string{"socks", "gels"}[i%2])
		co.Add(p, "shoes")
		co.Add(p, []string{"socks", "gels"}[i%2])
	}
	tr, err := top.Release(ctx, budget)
	require.NoError(t, err)
	cr, err := co.Release(ctx, budget)
	require.NoError(t, err)

	b, err := json.Marshal(tr)
	require.NoError(t, err)
	var tr2 dp.Trending
	require.NoError(t, json.Unmarshal(b, &tr2))
	assert.Equal(t, tr.All(), tr2.All())
	assert.Equal(t, tr.Segments(), tr2.Segments())
	assert.Equal(t, tr.String(), tr2.String())
	assert.Equal(t, tr.Threshold(), tr2.Threshold())

	b, err = json.Marshal(cr)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"kind":"laplace"`)
	var cr2 dp.Cooccurrences
	require.NoError(t, json.Unmarshal(b, &cr2))
	assert.Equal(t, *cr, cr2)
}

func TestReleasesRefuseBadJSON(t *testing.T) {
	good := `{"label":"t","k":2,"epsilon":1,"delta":1e-5,"alpha":0.05,"threshold":5,"private":true,
		"segments":{"GB":[{"item":"a","count":9,"lower":7,"upper":11},{"item":"b","count":8,"lower":6,"upper":10}]}}`
	var tr dp.Trending
	require.NoError(t, json.Unmarshal([]byte(good), &tr))
	for name, bad := range map[string]string{
		"ε too large":        strings.Replace(good, `"epsilon":1`, `"epsilon":1e300`, 1),
		"negative δ":         strings.Replace(good, `"delta":1e-5`, `"delta":-1`, 1),
		"unknown field":      strings.Replace(good, `"label"`, `"lable"`, 1),
		"more than k":        strings.Replace(good, `"k":2`, `"k":1`, 1),
		"not sorted":         strings.Replace(good, `"count":8`, `"count":10`, 1),
		"count outside":      strings.Replace(good, `"upper":11`, `"upper":8`, 1),
		"repeated item":      strings.Replace(good, `"item":"b"`, `"item":"a"`, 1),
		"trailing data":      good + `{}`,
		"not JSON":           good[:20],
		"infinite bound":     strings.Replace(good, `"upper":11`, `"upper":1e999`, 1),
		"alpha out of (0,1)": strings.Replace(good, `"alpha":0.05`, `"alpha":1`, 1),
	} {
		require.ErrorIs(t, tr.UnmarshalJSON([]byte(bad)), dp.ErrInvalidRelease, name)
	}
	// A release written before person_noise existed still reads.
	goodCo := `{"items":[{"item":"a","count":3},{"item":"b","count":4}],"pairs":[{"a":"a","b":"b","count":2}],
		"persons":9,"item_threshold":0,"pair_threshold":0,"item_noise":{"kind":"laplace","epsilon":0.5,"delta":0,"l0":3,"linf":1},
		"pair_noise":{"kind":"gaussian","epsilon":0.5,"delta":1e-6,"l0":3,"linf":1},"weighted":false,"epsilon":1,"delta":1e-5,"private":true,"label":"c"}`
	var co dp.Cooccurrences
	require.NoError(t, json.Unmarshal([]byte(goodCo), &co))
	for name, bad := range map[string]string{
		"items unsorted": strings.Replace(goodCo, `"item":"b"`, `"item":"0"`, 1),
		"pair unordered": strings.Replace(goodCo, `"a":"a","b":"b"`, `"a":"b","b":"a"`, 1),
		"noise kind":     strings.Replace(goodCo, `"laplace"`, `"uniform"`, 1),
		"negative L0":    strings.Replace(goodCo, `"l0":3`, `"l0":-3`, 1),
		"person noise":   strings.Replace(goodCo, `"persons":9,`, `"persons":9,"person_noise":{"kind":"laplace","epsilon":-1,"delta":0,"l0":1,"linf":1},`, 1),
	} {
		require.ErrorIs(t, co.UnmarshalJSON([]byte(bad)), dp.ErrInvalidRelease, name)
	}
}

// The released number of persons is never negative, however few people
// there are and however the noise falls, so that every release reads back
// from its own JSON (a negative count used to be written, and refused).
func TestCooccurrencePersonsNeverNegative(t *testing.T) {
	for i := range 200 {
		co, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: 0.5, Delta: 1e-5, MaxItems: 2, MaxPairs: 1, PairItems: 2,
			Items: []string{"a", "b"}})
		require.NoError(t, err)
		if i%2 == 0 {
			co.Add("p", "a")
		}
		budget, err := dp.NewBudget(0.5, 1e-5, nil)
		require.NoError(t, err)
		cr, err := co.Release(ctx, budget)
		require.NoError(t, err)
		require.GreaterOrEqual(t, cr.Persons, int64(0), "release %d", i)
		b, err := json.Marshal(cr)
		require.NoError(t, err)
		var back dp.Cooccurrences
		require.NoError(t, json.Unmarshal(b, &back), "release %d reads back", i)
		require.Equal(t, cr.PersonNoise, back.PersonNoise)
		require.Equal(t, 0.05, back.PersonNoise.Epsilon) // 10% of ε
	}
}
