package recommend

import (
	"fmt"
	"iter"
	"math"

	"github.com/tact-go/tact/recommend/internal/linalg"
)

// CooccurrenceRelease is what a differentially private co-occurrence
// release gives a model to train on: noisy item and pair counts over the
// persons' bounded (and, for a weighted release, weighted) item sets, the
// noisy number of persons, and how noisy the counts are. *dp.Cooccurrences
// implements it; recommend declares it so that it imports neither package
// dp nor Google's library (nor glog), and a serving host that uses
// recommend links neither.
//
// ItemCounts and PairCounts yield each released count once (pairs as two
// distinct items, in any order); counts may be fractional or negative
// (noise). CountNoise returns the standard deviation of the noise of an
// item count and of a pair count, in the units of the counts (0 for exact
// counts). SumsOfWeights reports whether the counts are sums of weights
// rather than numbers of persons.
type CooccurrenceRelease interface {
	ItemCounts() iter.Seq2[string, float64]
	PairCounts() iter.Seq2[[2]string, float64]
	PersonCount() float64
	CountNoise() (item, pair float64)
	SumsOfWeights() bool
}

// ReleaseOptions say how [CountsFromRelease] reads a release. The zero value
// is the defaults, which work on small data sets (see examples/evaluate).
type ReleaseOptions struct {
	// ItemPrior is added to every item count, in standard deviations of the
	// pair noise: it damps the similarity of items whose noisy count is
	// small, which noise would otherwise make look close to everything. 0
	// means none; negative, NaN or infinite is an error.
	ItemPrior float64
	// Denoise replaces the pair counts by their denoising: the pairs among
	// the release's candidate items form a symmetric matrix whose signal
	// is close to low-rank (tastes are few) while the noise spreads over
	// every dimension: the eigenvalues of the noise alone fill
	// [-2σ√K, 2σ√K] (K items, σ the pair noise), and a direction of the
	// signal stands out of them only if it is strong enough. Denoise keeps
	// the directions that do (eigenvalues above 2σ√K), at most Rank
	// ([DefaultDenoiseRank] if Rank is 0), and a share of the rest
	// (Residual). How many stand out grows with ε and the data, so no
	// rank needs tuning; exact counts (no noise) are kept as they are. It
	// needs every pair among the items the pairs name (a release with
	// public pairs, dp.CooccurrenceParams.PairItems).
	Denoise bool
	// Rank, if positive, replaces the pair counts by their best rank-Rank
	// approximation (the Rank largest positive eigenvalues, noise or not)
	// and a share of the rest (Residual), or with Denoise caps how many
	// directions it keeps. It needs what Denoise needs. 0 means no
	// denoising unless Denoise.
	Rank int
	// Residual is the share of what the denoising (Denoise or Rank) drops
	// that it keeps: the pair counts become their approximation plus
	// Residual times the rest (the released counts less the
	// approximation), between the approximation alone (no residual) and
	// the counts as released (1). What the approximation leaves out is
	// mostly noise, but holds weaker signal too, and keeping some of it
	// ranks better (see DefaultResidual). 0 means [DefaultResidual];
	// negative means none (the approximation alone); above 1, NaN or
	// infinite is an error.
	Residual float64
}

// DefaultResidual is the share of the rest that the denoising keeps when
// [ReleaseOptions].Residual is 0. It was chosen on the validation splits
// of examples/evaluate (MovieLens ml-latest-small and Online Retail,
// training data only; evaluate -residuals), over its DP models at ε from
// 0.5 to 8 that denoise, each trained on the same 6 releases with shares
// 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7 and 1. With the settings its tuning had
// chosen without a residual (18 models), 0.3 has the largest geometric
// mean of the ratio of nDCG@10 to no residual's (1.047; 0.2: 1.038, 0.4:
// 1.046) and scores below no residual in 2 of the 18, by at most 0.3%;
// with the settings tuned again with it (24 models), 0.3 comes first
// again (1.027; 0.2: 1.022, 0.4: 1.026), below no residual in 1. Larger
// shares bring back more noise: 1, the counts as released, scores 0.77
// of no residual's nDCG in the worst setting.
const DefaultResidual = 0.3

// DefaultDenoiseRank is how many directions [ReleaseOptions].Denoise keeps
// at most when Rank is 0. It bounds the work, which grows as K² times the
// number kept (K the number of items); on MovieLens (examples/evaluate)
// at ε = 8, pairs among 100 items keep 7 or 8.
const DefaultDenoiseRank = 64

// CountsFromRelease returns the counts a co-occurrence release estimates,
// ready for [NewItemItem] or [TrainEASE]: the noisy number of persons,
// every released item count (plus the item prior), every released pair
// count (or its low-rank denoising), negative and fractional values
// included (the models clamp them). The counts remember the noise of the
// release ([Counts.Noise]), from which the models take their noise-aware
// defaults (shrinkage, regularization), and are weighted when the release
// is. Everything here is post-processing of the release: it costs no
// privacy.
//
// Errors wrap [ErrInvalidConfig] for bad options or a Rank or Denoise
// without every pair among the candidates, [ErrNilModel] for a nil
// release, and are [*CountError]s for values no release has (NaN,
// infinite, empty ids).
func CountsFromRelease(r CooccurrenceRelease, o ReleaseOptions) (*Counts, error) {
	if r == nil {
		return nil, ErrNilModel
	}
	if !(o.ItemPrior >= 0) || math.IsInf(o.ItemPrior, 0) {
		return nil, configError("ItemPrior", "must be finite and non-negative")
	}
	if o.Rank < 0 {
		return nil, configError("Rank", "must not be negative")
	}
	if !(o.Residual <= 1) || math.IsInf(o.Residual, 0) {
		return nil, configError("Residual", "must be at most 1 and finite")
	}
	_, sigma := r.CountNoise()
	if !(sigma >= 0) || math.IsInf(sigma, 0) {
		return nil, &CountError{Item: "pair noise", Value: sigma}
	}
	prior := o.ItemPrior * sigma
	var b CountsBuilder
	b.SetWeighted(r.SumsOfWeights())
	if err := b.SetPersons(r.PersonCount()); err != nil {
		return nil, err
	}
	for item, n := range r.ItemCounts() {
		if err := b.AddItem(item, n+prior); err != nil {
			return nil, err
		}
	}
	// The released pairs as they pass, for the signal-to-noise ratio.
	var squares, released float64
	pairs := func(yield func([2]string, float64) bool) {
		for p, n := range r.PairCounts() {
			squares += n * n
			released++
			if !yield(p, n) {
				return
			}
		}
	}
	// With exact counts nothing is noise: Denoise keeps them (unless Rank).
	if o.Rank > 0 || (o.Denoise && sigma > 0) {
		if err := addDenoised(&b, pairs, o, sigma); err != nil {
			return nil, err
		}
	} else {
		for p, n := range pairs {
			if err := b.AddPair(p[0], p[1], n); err != nil {
				return nil, err
			}
		}
	}
	c := b.Build()
	c.noise = sigma
	if sigma > 0 && released > 0 {
		c.snr = max(squares/released/(sigma*sigma)-1, 0)
	}
	return c, nil
}

// Noise returns the standard deviation of the noise of a pair count: 0
// for exact counts, that of the release for [CountsFromRelease].
func (c *Counts) Noise() float64 { return c.noise }

// SignalToNoise returns how far the pair counts stand out of their noise:
// for counts from a release ([CountsFromRelease]) with noise, the mean
// square of the released pair counts (before any denoising) over the
// noise variance, less the noise's own share of 1, and at least 0. It
// thus estimates the ratio of the power (mean square) of the pairs'
// signal to that of the noise: 0 when the released pairs are noise alone
// (or there are none), 1 when signal and noise are as strong. It is +Inf
// for exact counts ([Counts.Noise] 0, which is also what a
// [CountsBuilder] makes). Models trained on the counts keep it
// ([ItemItem.SignalToNoise]), and the [Recommender] serving them moves
// blend weight from history to popularity when it is small (see
// [Weights]).
func (c *Counts) SignalToNoise() float64 {
	if c.noise == 0 {
		return math.Inf(1)
	}
	return c.snr
}

// addDenoised adds the approximation of the pair counts from their
// o.Rank largest positive eigenvalues (o.Rank 0: DefaultDenoiseRank), with
// o.Denoise only those above the edge 2σ√K of the noise (K the number of
// items the pairs name), plus a share of the rest (o.Residual, or
// DefaultResidual if 0; none if negative), to b. The pairs must be every
// pair among those items, once.
func addDenoised(b *CountsBuilder, pairs iter.Seq2[[2]string, float64], o ReleaseOptions, sigma float64) error {
	field := "Rank"
	if o.Denoise {
		field = "Denoise"
	}
	index := make(map[string]int)
	var ids []string
	type pv struct {
		x, y int
		n    float64
	}
	var all []pv
	for p, n := range pairs {
		var k [2]int
		for i, id := range p {
			j, ok := index[id]
			if !ok {
				j = len(ids)
				index[id] = j
				ids = append(ids, id)
			}
			k[i] = j
		}
		all = append(all, pv{k[0], k[1], n})
	}
	n := len(ids)
	if n < 2 {
		return nil
	}
	if len(all) != n*(n-1)/2 {
		return configError(field, fmt.Sprintf("denoising needs every pair among the candidates (a release with public pairs): %d pairs among %d items", len(all), n))
	}
	a := make([]float64, n*n)
	seen := make([]bool, n*n)
	for _, p := range all {
		if p.x == p.y || seen[p.x*n+p.y] {
			return configError(field, "denoising needs every pair among the candidates once")
		}
		if math.IsNaN(p.n) || math.IsInf(p.n, 0) {
			return &CountError{Item: ids[p.x], Other: ids[p.y], Value: p.n}
		}
		seen[p.x*n+p.y], seen[p.y*n+p.x] = true, true
		a[p.x*n+p.y], a[p.y*n+p.x] = p.n, p.n
	}
	r, edge := o.Rank, 0.0
	if r == 0 {
		r = DefaultDenoiseRank
	}
	if o.Denoise {
		edge = 2 * sigma * math.Sqrt(float64(n))
	}
	out := linalg.LowRank(a, n, r, edge)
	keep := o.Residual
	switch {
	case keep == 0:
		keep = DefaultResidual
	case keep < 0:
		keep = 0
	}
	for x := 0; x < n; x++ {
		for y := x + 1; y < n; y++ {
			i := x*n + y
			if err := b.AddPair(ids[x], ids[y], out[i]+keep*(a[i]-out[i])); err != nil {
				return err
			}
		}
	}
	return nil
}
