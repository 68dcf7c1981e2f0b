// Package dptrain trains recommend's item-item model on differentially
// private co-occurrence counts. It is the glue between package dp, which
// releases the counts, and package recommend, which takes them as plain
// data and never imports dp (nor Google's library and its glog flags):
//
//	budget, _ := dp.NewBudget(1, 1e-5, nil)
//	counts, res, err := dptrain.Counts(ctx, budget, dp.CooccurrenceParams{
//		Epsilon: 1, Delta: 1e-5, Noise: dp.Gaussian, MaxItems: 500, MaxPairs: 4950,
//		Items: catalogIDs, PairItems: 100, Weighted: true,
//	}, recommend.PersonItems(log, recommend.CountOptions{}), dptrain.Options{ItemPrior: 30})
//	cfg := recommend.ItemItemConfig{Shrink: 3 * res.PairNoise.StdDev()}
//	model, err := recommend.NewItemItem(cat, counts, cfg)
//
// The release is person-level differentially private with the (ε, δ) of
// the params, spent once from the budget; everything after it (the
// conversion, the item prior, the model) is post-processing and costs no
// privacy. Serving then applies the model to one person's own items.
//
// # Concurrency
//
// Counts and FromRelease keep no state; each call is independent.
//
// # Errors
//
// Both return an error wrapping [ErrInvalidOptions] for bad [Options],
// before anything is spent. Counts returns the error of
// dp.NewCooccurrence (a *dp.ParamError) or of the release (a
// *dp.BudgetError when the budget cannot pay, nothing spent).
// FromRelease returns [ErrNoRelease] for a nil release and recommend's
// typed errors for counts it rejects (never for a valid release).
package dptrain

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"

	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/recommend"
)

// Errors of the package.
var (
	// ErrNoRelease is returned by [FromRelease] for a nil release.
	ErrNoRelease = errors.New("dptrain: no release")
	// ErrInvalidOptions is returned for an item prior that is negative,
	// NaN or infinite.
	ErrInvalidOptions = errors.New("dptrain: invalid options")
)

func (o Options) check() error {
	if !(o.ItemPrior >= 0) || math.IsInf(o.ItemPrior, 0) {
		return fmt.Errorf("%w: item prior %v must be finite and non-negative", ErrInvalidOptions, o.ItemPrior)
	}
	if o.Rank < 0 {
		return fmt.Errorf("%w: rank %d must not be negative", ErrInvalidOptions, o.Rank)
	}
	return nil
}

// Options tune the conversion of a release. The zero value converts the
// counts as released.
type Options struct {
	// ItemPrior is added to every released item count, in standard
	// deviations of the pair noise (so that one setting fits every ε). A
	// similarity divides a pair count by item counts; with noise, items
	// whose counts came out small would get huge similarities from noisy
	// pairs. The prior damps them, leaving popular items nearly unchanged.
	// Must be finite and non-negative.
	ItemPrior float64

	// Rank, if positive, denoises the pair counts of a public-pairs release
	// (dp.CooccurrenceParams.PairItems: every pair among the candidates is
	// released): the counts form a symmetric matrix over the candidates,
	// nearly low-rank before noise (tastes are few) while the noise is
	// spread over every dimension, and they are replaced by its best
	// approximation of that rank from its largest positive eigenvalues.
	// Most of the noise goes, most of the signal stays. The work is about
	// 250·Rank·K² for K candidates. Must not be negative.
	Rank int
}

// Counts feeds histories (each person once, with their distinct items,
// such as [recommend.PersonItems] yields) to a [dp.Cooccurrence] built
// with p, releases it once from budget and converts the release with
// [FromRelease]. It returns the counts for [recommend.NewItemItem] and the
// release itself, which says what was spent and how noisy the counts are.
func Counts(ctx context.Context, budget *dp.Budget, p dp.CooccurrenceParams, histories iter.Seq2[string, []string], o Options) (*recommend.Counts, *dp.Cooccurrences, error) {
	if err := o.check(); err != nil {
		return nil, nil, err
	}
	c, err := dp.NewCooccurrence(p)
	if err != nil {
		return nil, nil, err
	}
	for person, items := range histories {
		for _, it := range items {
			c.Add(person, it)
		}
	}
	res, err := c.Release(ctx, budget)
	if err != nil {
		return nil, nil, err
	}
	counts, err := FromRelease(res, o)
	if err != nil {
		return nil, nil, err
	}
	return counts, res, nil
}

// FromRelease converts a co-occurrence release to recommend's plain
// counts: the noisy number of persons, every released item count (plus
// the item prior) and every released pair count, as released (or
// denoised, with Rank): negative and fractional values included
// (recommend.NewItemItem clamps them).
// With a weighted release the counts are sums of weights rather than
// numbers of persons; cosine and Jaccard similarities are meaningful on
// them, lift is not (it compares them with the number of persons).
func FromRelease(res *dp.Cooccurrences, o Options) (*recommend.Counts, error) {
	if res == nil {
		return nil, ErrNoRelease
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	prior := o.ItemPrior * res.PairNoise.StdDev()
	var b recommend.CountsBuilder
	if err := b.SetPersons(float64(res.Persons)); err != nil {
		return nil, err
	}
	for _, ic := range res.Items {
		if err := b.AddItem(ic.Item, ic.Value+prior); err != nil {
			return nil, err
		}
	}
	if o.Rank > 0 {
		if err := addDenoised(&b, res.Pairs, o.Rank); err != nil {
			return nil, err
		}
		return b.Build(), nil
	}
	for _, pc := range res.Pairs {
		if err := b.AddPair(pc.A, pc.B, pc.Value); err != nil {
			return nil, err
		}
	}
	return b.Build(), nil
}

// addDenoised adds the rank-r approximation of the pair counts to b. The
// pairs must be every pair among the items they name.
func addDenoised(b *recommend.CountsBuilder, pairs []dp.PairCount, r int) error {
	index := make(map[string]int)
	var ids []string
	for _, pc := range pairs {
		for _, id := range [2]string{pc.A, pc.B} {
			if _, ok := index[id]; !ok {
				index[id] = len(ids)
				ids = append(ids, id)
			}
		}
	}
	n := len(ids)
	if n < 2 {
		return nil
	}
	if len(pairs) != n*(n-1)/2 {
		return fmt.Errorf("%w: rank needs every pair among the candidates (a PairItems release): %d pairs among %d items", ErrInvalidOptions, len(pairs), n)
	}
	a := make([]float64, n*n)
	seen := make([]bool, n*n)
	for _, pc := range pairs {
		x, y := index[pc.A], index[pc.B]
		if x == y || seen[x*n+y] {
			return fmt.Errorf("%w: rank needs every pair among the candidates once", ErrInvalidOptions)
		}
		seen[x*n+y], seen[y*n+x] = true, true
		a[x*n+y], a[y*n+x] = pc.Value, pc.Value
	}
	out := denoise(a, n, r)
	for x := 0; x < n; x++ {
		for y := x + 1; y < n; y++ {
			if err := b.AddPair(ids[x], ids[y], out[x*n+y]); err != nil {
				return err
			}
		}
	}
	return nil
}
