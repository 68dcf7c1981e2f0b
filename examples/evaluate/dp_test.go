package main

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/eval"
)

// The rows at one ε share a release when their settings release the same
// (pairs among as many items, the same split of ε), and otherwise each
// release spends a budget of its own, all of it.
func TestDPSourceReleases(t *testing.T) {
	cat, in, _ := tinyShop(t, 5, 30, 120)
	base := recommend.ItemItemConfig{Neighbors: 10}
	same := dpSettings{
		ItemItem: dpConfig{PairItems: 20, Neighbors: 10},
		EASE:     dpConfig{PairItems: 20, Lambda: 16},
		Best:     blendConfig{dpConfig: dpConfig{PairItems: 20, Lambda: 4}, PopForm: popItems, Beta: 0.5},
	}
	other := same
	other.EASE.PairItems = 10           // a second release
	other.Best.dpConfig.ItemShare = 0.8 // a third
	other.Best.Beta = 0                 // backfill
	for _, tc := range []struct {
		name     string
		s        dpSettings
		releases int
	}{
		{"shared", same, 1},
		{"three", other, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := dpSource(4, tc.s, cat, base, recommend.CountOptions{}, 1)
			require.Len(t, src.rows, 5)
			rankers, times, err := src.train(in)
			require.NoError(t, err)
			require.Len(t, rankers, 5)
			require.Len(t, times, 5)
			note := src.spent()
			assert.Equal(t, tc.releases, strings.Count(note, "leaving (0, 0)"), note)
			var gives []string // per release, the rows it gives
			for _, line := range strings.Split(note, "\n") {
				if head, _, ok := strings.Cut(line, ": spends"); ok {
					gives = append(gives, head)
				}
			}
			require.Len(t, gives, tc.releases)
			for _, r := range src.rows {
				n := 0
				for _, g := range gives {
					n += strings.Count(g, r.name)
				}
				assert.Equal(t, 1, n, "%s is given by one release:\n%s", r.name, note)
			}
			if tc.releases > 1 {
				assert.Contains(t, note, "release C per run")
				assert.Contains(t, note, "independent alternatives")
			} else {
				assert.Contains(t, note, "one release per run")
			}
			// Every ranker ranks, and never more than k.
			s := eval.Split{Train: in, Test: map[string][]string{"p000": {"i00"}}}
			for i, rank := range rankers {
				m := eval.Evaluate(s, 3, cat.Len(), rank)
				assert.Equal(t, 1, m.Users, src.rows[i].name)
			}
		})
	}
}

// dpModel builds EASE when the settings give a λ, item-item otherwise,
// and a shrink of 0σ means none, not recommend's noise-aware default.
func TestDPModel(t *testing.T) {
	cat, in, _ := tinyShop(t, 6, 30, 200)
	res, _, err := release(8, dpConfig{PairItems: 30}, catalogIDs(cat), in, recommend.CountOptions{})
	require.NoError(t, err)
	counts, err := dpCounts(res, dpConfig{})
	require.NoError(t, err)
	require.Positive(t, counts.Noise())
	base := recommend.ItemItemConfig{Neighbors: 10}

	e, err := dpModel(cat, counts, dpConfig{PairItems: 30, Lambda: 16}, base)
	require.NoError(t, err)
	cfg, ok := e.EASE()
	require.True(t, ok, "λ > 0: EASE")
	assert.Equal(t, 16.0, cfg.Lambda)
	assert.Equal(t, 30, cfg.Items)

	ii, err := dpModel(cat, counts, dpConfig{PairItems: 30}, base)
	require.NoError(t, err)
	_, ok = ii.EASE()
	require.False(t, ok, "no λ: item-item")
	none, err := recommend.NewItemItem(cat, counts, recommend.ItemItemConfig{Neighbors: 10, Shrink: -1})
	require.NoError(t, err)
	shrunk, err := recommend.NewItemItem(cat, counts, recommend.ItemItemConfig{Neighbors: 10})
	require.NoError(t, err)
	differs := false
	for it := range cat.All() {
		require.Equal(t, none.Neighbors(it.ID), ii.Neighbors(it.ID), it.ID)
		differs = differs || !assert.ObjectsAreEqual(shrunk.Neighbors(it.ID), ii.Neighbors(it.ID))
	}
	assert.True(t, differs, "recommend's default shrinks noisy counts: 0σ is not the default")

	three, err := dpModel(cat, counts, dpConfig{PairItems: 30, Shrink: 3}, base)
	require.NoError(t, err)
	assert.InDelta(t, 3*counts.Noise(), three.Config().Shrink, 1e-12, "shrink in units of the pair noise")
}

// The DP settings written in the source are what -tune chose on the
// validation splits (it prints them "as Go"): every default ε has its own
// on both data sets, not defaultDPSettings, and each is one of the
// candidates the tuning tries, so that a rerun of -tune can choose it;
// so is the exact EASE configuration.
func TestTunedDPSettings(t *testing.T) {
	epsilons, err := parseEpsilons(defaultEpsilons)
	require.NoError(t, err)
	for _, ds := range []struct {
		name string
		set  settings
	}{{"MovieLens", movieLensSettings}, {"Online Retail", retailSettings}} {
		e := ds.set.ease
		assert.True(t, slices.Contains(tuneEASEItems, e.Items) && slices.Contains(tuneEASELambdas, e.Lambda) && slices.Contains(tuneEASENeighbors, e.Neighbors) &&
			(e.PopularityDamping == 0 || slices.Contains(tuneEASEDamping, e.PopularityDamping)), "%s EASE: %s", ds.name, easeString(e))
		for _, eps := range epsilons {
			s, ok := ds.set.dp[eps]
			if !assert.True(t, ok, "%s: no tuned DP settings at ε=%g", ds.name, eps) {
				continue
			}
			tried := func(c dpConfig) bool {
				for _, pairItems := range tunePairItems {
					if slices.Contains(dpCands(c.ItemShare, pairItems, ds.set.itemItem), c) {
						return true
					}
				}
				return false
			}
			assert.True(t, s.ItemItem.Lambda == 0 && s.ItemItem.ItemShare == 0 && tried(s.ItemItem), "%s ε=%g item-item: %s", ds.name, eps, s.ItemItem)
			assert.True(t, s.EASE.Lambda > 0 && s.EASE.ItemShare == 0 && tried(s.EASE), "%s ε=%g EASE: %s", ds.name, eps, s.EASE)
			assert.True(t, tried(s.Best.dpConfig) && slices.Contains(tuneItemShares, s.Best.ItemShare), "%s ε=%g best: %s", ds.name, eps, s.Best)
			assert.Contains(t, blendBetas, s.Best.Beta, "%s ε=%g best", ds.name, eps)
			assert.Contains(t, []int{popItems, popPairs}, s.Best.PopForm, "%s ε=%g best", ds.name, eps)
		}
	}
}

// goString writes settings as the Go literal they are read from.
func TestDPSettingsGoString(t *testing.T) {
	s := dpSettings{
		ItemItem: dpConfig{PairItems: 200, Rank: 10, ItemPrior: 30, Neighbors: 50},
		EASE:     dpConfig{PairItems: 50, Denoise: true, Lambda: 0.25},
		Best:     blendConfig{dpConfig{PairItems: 100, Shrink: 3, Neighbors: 20, ItemShare: 0.6}, popPairs, math.Inf(1)},
	}
	assert.Equal(t, "{ItemItem: dpConfig{PairItems: 200, Rank: 10, ItemPrior: 30, Neighbors: 50}, "+
		"EASE: dpConfig{PairItems: 50, Denoise: true, Lambda: 0.25}, "+
		"Best: blendConfig{dpConfig{PairItems: 100, Shrink: 3, Neighbors: 20, ItemShare: 0.6}, popPairs, math.Inf(1)}}", s.goString())
}
