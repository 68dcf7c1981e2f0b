package recommend_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/recommend"
)

// A release's signal-to-noise ratio is the mean square of its pair counts
// over the noise variance, less 1, at least 0; exact counts have +Inf; the
// models keep the ratio of their counts.
func TestSignalToNoise(t *testing.T) {
	cat, err := recommend.NewCatalog(items("a", "b", "c", "d"))
	require.NoError(t, err)
	release := func(sigma float64, pairs ...float64) fakeRelease {
		f := fakeRelease{items: map[string]float64{"a": 40, "b": 30, "c": 20, "d": 10}, pairs: map[[2]string]float64{}, persons: 50, sigma: sigma}
		ids := []string{"a", "b", "c", "d"}
		k := 0
		for x := range ids {
			for y := x + 1; y < len(ids) && k < len(pairs); y++ {
				f.pairs[[2]string{ids[x], ids[y]}] = pairs[k]
				k++
			}
		}
		return f
	}
	var exact recommend.CountsBuilder
	require.NoError(t, exact.AddItem("a", 3))
	require.NoError(t, exact.AddItem("b", 2))
	require.NoError(t, exact.AddPair("a", "b", 2))
	tests := []struct {
		name   string
		counts func() (*recommend.Counts, error)
		want   float64
	}{
		{"exact", func() (*recommend.Counts, error) { return exact.Build(), nil }, math.Inf(1)},
		// (16 + 0 + 4 + 36) / 4 = 14 over σ² = 4, less 1.
		{"signal", func() (*recommend.Counts, error) {
			return recommend.CountsFromRelease(release(2, 4, 0, -2, 6), recommend.ReleaseOptions{})
		}, 2.5},
		{"noise alone", func() (*recommend.Counts, error) {
			return recommend.CountsFromRelease(release(10, 1, -1, 3), recommend.ReleaseOptions{})
		}, 0},
		{"no pairs", func() (*recommend.Counts, error) {
			return recommend.CountsFromRelease(release(1), recommend.ReleaseOptions{})
		}, 0},
		// Every pair among a, b, c, d, denoised: the ratio is the release's.
		{"denoised", func() (*recommend.Counts, error) {
			return recommend.CountsFromRelease(release(2, 4, 0, -2, 6, 2, 2), recommend.ReleaseOptions{Rank: 1})
		}, (16+0+4+36+4+4)/6.0/4 - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.counts()
			require.NoError(t, err)
			assert.InDelta(t, tt.want, c.SignalToNoise(), 1e-12)
			if math.IsInf(tt.want, 1) {
				assert.True(t, math.IsInf(c.SignalToNoise(), 1))
			}
			ii, err := recommend.NewItemItem(cat, c, recommend.ItemItemConfig{})
			require.NoError(t, err)
			ease, err := recommend.TrainEASE(cat, c, recommend.EASEConfig{})
			require.NoError(t, err)
			for _, m := range []*recommend.ItemItem{ii, ease} {
				assert.Equal(t, c.SignalToNoise(), m.SignalToNoise())
			}
		})
	}
}

// A model trained on a release whose pairs are noise hands the weight of
// history to popularity: an established person is served the popular
// items they have not bought, as popular, not the neighbour the noise
// made. The same pairs, released with little noise, are served as
// history says.
func TestWeakReleaseServesPopularity(t *testing.T) {
	cat, err := recommend.NewCatalog(items("h", "z", "p1", "p2", "p3"))
	require.NoError(t, err)
	ids := []string{"h", "z", "p1", "p2", "p3"}
	rel := func(sigma float64) fakeRelease {
		f := fakeRelease{items: map[string]float64{"h": 50, "z": 5, "p1": 100, "p2": 90, "p3": 80}, pairs: map[[2]string]float64{}, persons: 200, sigma: sigma}
		for x := range ids {
			for y := x + 1; y < len(ids); y++ {
				f.pairs[[2]string{ids[x], ids[y]}] = 0
			}
		}
		f.pairs[[2]string{"h", "z"}] = 5 // mean square 2.5 over 10 pairs
		return f
	}
	for _, tt := range []struct {
		name   string
		sigma  float64
		want   []string
		source recommend.Source
	}{
		{"strong", 0.05, []string{"z"}, recommend.SourceHistory},
		{"noise", 5, []string{"p1", "p2", "p3"}, recommend.SourcePopularity},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := recommend.CountsFromRelease(rel(tt.sigma), recommend.ReleaseOptions{})
			require.NoError(t, err)
			for name, train := range map[string]func() (*recommend.ItemItem, error){
				"item-item": func() (*recommend.ItemItem, error) { return recommend.NewItemItem(cat, c, recommend.ItemItemConfig{}) },
				"EASE":      func() (*recommend.ItemItem, error) { return recommend.TrainEASE(cat, c, recommend.EASEConfig{}) },
			} {
				t.Run(name, func(t *testing.T) {
					ii, err := train()
					require.NoError(t, err)
					r, req := thinShop(t, c, cat, ii, "h")
					resp, err := r.Recommend(ctx, req)
					require.NoError(t, err)
					got := titles(resp)
					require.GreaterOrEqual(t, len(got), len(tt.want), "%v", got)
					assert.Equal(t, tt.want, got[:len(tt.want)])
					require.NotEmpty(t, resp.Items[0].Reasons)
					assert.Equal(t, tt.source, resp.Items[0].Reasons[0].Source)
				})
			}
		})
	}
}

// Over random releases whose pairs are noise alone (signal-to-noise 0),
// an established person with any history is served exactly the popular
// items they have not bought, in the order of popularity, whatever
// neighbours the noise made.
func TestNoiseAloneServesPopularityProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 5))
	for run := range 200 {
		n := 5 + r.IntN(36)
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("i%02d", i)
		}
		cat, err := recommend.NewCatalog(items(ids...))
		require.NoError(t, err)
		f := fakeRelease{items: map[string]float64{}, pairs: map[[2]string]float64{}, persons: 500, sigma: 10}
		for i, c := range r.Perm(n) {
			f.items[ids[i]] = float64(10 + 7*c) // distinct: no ties in popularity
		}
		for x := range ids {
			for y := x + 1; y < n; y++ {
				f.pairs[[2]string{ids[x], ids[y]}] = 5 * r.NormFloat64() // mean square 25 < σ² = 100
			}
		}
		c, err := recommend.CountsFromRelease(f, recommend.ReleaseOptions{})
		require.NoError(t, err)
		require.Zero(t, c.SignalToNoise())
		history := make([]string, 1+r.IntN(min(5, n-1)))
		for i, j := range r.Perm(n)[:len(history)] {
			history[i] = ids[j]
		}
		ii, err := recommend.NewItemItem(cat, c, recommend.ItemItemConfig{})
		require.NoError(t, err)
		if run%2 == 1 {
			ii, err = recommend.TrainEASE(cat, c, recommend.EASEConfig{})
			require.NoError(t, err)
		}
		rec, req := thinShop(t, c, cat, ii, history...)
		resp, err := rec.Recommend(ctx, req)
		require.NoError(t, err)
		pop := rec.Model().Popularity()
		var want []string
		for _, s := range pop.Top(req.K, "", func(id string) bool { return slices.Contains(history, id) }) {
			want = append(want, s.Item)
		}
		require.Equal(t, want, titles(resp), "run %d: %d items, history %v", run, n, history)
	}
}
