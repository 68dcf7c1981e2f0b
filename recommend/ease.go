package recommend

import (
	"cmp"
	"math"
	"slices"

	"github.com/tact-go/tact/recommend/internal/linalg"
)

// EASEConfig configures [TrainEASE]. The zero value means the defaults in
// each field's doc.
type EASEConfig struct {
	// Items is the number of items the dense model covers, N: those with
	// the largest counts among the items in a pair. It needs N² float64s
	// while it trains (20,000 items: 3.2 GB) and time in N³ (see the
	// package documentation); items beyond the N get the item-item model
	// of Tail. 0 means [DefaultEASEItems]; at most [MaxEASEItems].
	Items int
	// Lambda is the L2 regularization λ added to the diagonal of the Gram
	// matrix, in units of the mean item count of the N items (so that one
	// value suits data sets of any size). With noisy counts
	// ([CountsFromRelease]) λ also grows with the noise, enough to keep the
	// matrix positive definite. 0 means [DefaultEASELambda].
	Lambda float64
	// Neighbors is the number of weights kept per item, the largest in
	// magnitude, positive and negative: the model's sparse rows. 0 means
	// [DefaultEASENeighbors].
	Neighbors int
	// PopularityDamping, β, divides each weight B[i][j] by c_j^β, where
	// c_j is the count of item j (at least 1): the weights that speak for
	// an item shrink the more people already have it, which counters
	// EASE's lean towards the most popular items. 0, the default, keeps
	// EASE's weights; it must be in [0, 1].
	PopularityDamping float64
	// Tail configures the item-item model of the items beyond the N. Its
	// zero value is cosine similarity with the defaults of
	// [ItemItemConfig].
	Tail ItemItemConfig
	// Workers is how many goroutines the inversion may use; 0 or 1 means
	// none but the caller's.
	Workers int
}

// Defaults and limits of [EASEConfig]. The defaults were chosen together,
// one set for both data sets of examples/evaluate (MovieLens
// ml-latest-small, 610 persons and 9,742 movies; Online Retail, 4,372
// customers and 4,070 products), as what [Recommender] serves over the
// model on their validation splits (carved out of the training data),
// with counts taken with the zero [CountOptions]: N ∈ {1000, 2000, 3000},
// λ ∈ {12, 24}, neighbours ∈ {100, 300}. N = 3000, λ = 12 and 300
// neighbours serve nDCG@10 0.2129 on MovieLens and 0.0963 on Online
// Retail, 2.5% and 1.7% below the best plain model tuned per data set
// (0.2184, EASE with [CountOptions].DampActivity, and 0.0980); no other
// setting of the grid has a smaller largest gap. The previous defaults,
// N = 1000, λ = 12 and 100 neighbours, serve 0.2053 and 0.0938. These
// figures are with the serving bounds of the time (500 seeds sharing
// 30,000 visits); with [MaxSeeds] 1,000 sharing 60,000 the defaults serve
// 0.2118 and 0.0961 on validation (3.0% and 1.9% below), and over N ∈
// {2000, 3000}, λ ∈ {3, 6, 12} and {100, 300} neighbours no setting has
// a smaller largest gap. A larger catalog may want a larger N.
const (
	DefaultEASEItems     = 3000
	MaxEASEItems         = 30000
	DefaultEASELambda    = 12
	DefaultEASENeighbors = 300
)

// TrainEASE builds the linear item model EASE (Steck, "Embarrassingly
// Shallow Autoencoders for Sparse Data", WWW 2019) from counts c, exact
// ([CountCooccurrence]) or noisy ([CountsFromRelease]): over the N items
// with the largest counts among those that are in a pair of c (a release
// names pairs among its most counted items only), with G their Gram matrix
// (item counts on the diagonal, pair counts off it),
//
//	P = (G + λI)⁻¹,  B = I − P·diag(1/diag P)
//
// and a person with items x is scored x·B: the weight B[i][j] says how
// much having item i speaks for item j, given all the other items (with
// cfg.PopularityDamping β, divided by item j's count to the power β). Its
// only cross-person input is G, the statistic a differentially private
// co-occurrence release estimates, so it trains from a release as from
// exact counts. The result is an [ItemItem] whose neighbours are, for each
// of the N items, the Neighbors weights of its row of B largest in
// magnitude (negative ones too: an item can speak against another),
// and for the other items those of the item-item model of cfg.Tail, their
// similarities scaled to the weights' typical size: it serves, explains
// ("because you bought …") and blends like any item-item model.
//
// Errors wrap [ErrNilModel] or [ErrInvalidConfig], or are
// [ErrNotPositiveDefinite] when G + λI is not (noisy counts with too small
// a λ).
func TrainEASE(cat *Catalog, c *Counts, cfg EASEConfig) (*ItemItem, error) {
	if cat == nil || c == nil {
		return nil, ErrNilModel
	}
	if cfg.Items == 0 {
		cfg.Items = DefaultEASEItems
	}
	if cfg.Lambda == 0 {
		cfg.Lambda = DefaultEASELambda
	}
	if cfg.Neighbors == 0 {
		cfg.Neighbors = DefaultEASENeighbors
	}
	switch {
	case cfg.Items < 1 || cfg.Items > MaxEASEItems:
		return nil, configError("Items", "must be in [1, 30000]")
	case !(cfg.Lambda > 0) || math.IsInf(cfg.Lambda, 0):
		return nil, configError("Lambda", "must be positive and finite")
	case cfg.Neighbors < 1 || cfg.Neighbors > 1000:
		return nil, configError("Neighbors", "must be in [1, 1000]")
	case !(cfg.PopularityDamping >= 0 && cfg.PopularityDamping <= 1):
		return nil, configError("PopularityDamping", "must be in [0, 1]")
	}
	tail, err := NewItemItem(cat, c, cfg.Tail)
	if err != nil {
		return nil, err
	}

	// The N catalog items with the largest positive counts among those
	// in a pair: an item in no pair has no weight to learn, and a release
	// names pairs among its most counted items only.
	type cand struct {
		ci    int32 // index in c
		cat   int32 // index in the catalog
		count float64
	}
	paired := make([]bool, len(c.ids))
	for a := range c.ids {
		for q := c.rowStart[a]; q < c.rowStart[a+1]; q++ {
			paired[a], paired[c.pb[q]] = true, true
		}
	}
	var cands []cand
	for i, id := range c.ids {
		if j, ok := cat.lookup(id); ok && c.items[i] > 0 && paired[i] {
			cands = append(cands, cand{int32(i), j, c.items[i]})
		}
	}
	slices.SortFunc(cands, func(x, y cand) int {
		if x.count != y.count {
			return cmp.Compare(y.count, x.count)
		}
		return cmp.Compare(x.cat, y.cat)
	})
	cands = cands[:min(len(cands), cfg.Items)]
	n := len(cands)
	m := &ItemItem{cat: cat, cfg: cfg.Tail, unknown: tail.unknown, byCount: tail.byCount, snr: tail.snr}
	if n < 2 {
		m.cfg = tail.cfg
		return tail, nil
	}
	pos := make(map[int32]int, n) // index in c -> index in G
	var mean float64
	for k, x := range cands {
		pos[x.ci] = k
		mean += x.count
	}
	mean /= float64(n)

	// G + λI, dense.
	g := make([]float64, n*n)
	for k, x := range cands {
		g[k*n+k] = x.count
	}
	for _, x := range cands {
		a := x.ci
		ka := pos[a]
		for q := c.rowStart[a]; q < c.rowStart[a+1]; q++ {
			if kb, ok := pos[c.pb[q]]; ok {
				v := float64(c.pn[q])
				g[ka*n+kb], g[kb*n+ka] = v, v
			}
		}
	}
	lambda := cfg.Lambda * mean
	if c.noise > 0 {
		// The noise matrix's largest eigenvalue is about 2σ√n (a Wigner
		// matrix): a λ beyond it keeps G + λI positive definite.
		lambda += 3 * c.noise * math.Sqrt(float64(n))
	}
	for k := range n {
		g[k*n+k] += lambda
	}
	if err := linalg.InvertSPD(g, n, cfg.Workers); err != nil {
		return nil, ErrNotPositiveDefinite
	}

	// Rows of B: B[i][j] = -P[i][j] / P[j][j], the Neighbors largest in
	// magnitude, signed: a negative weight says that having item i speaks
	// against item j, and leaving it out makes the model a different one.
	type nb struct {
		w float32
		b int32
	}
	rows := make([][]nb, cat.Len())
	row := make([]nb, 0, n)
	damp := make([]float64, n) // 1 / c_j^β
	for j, x := range cands {
		damp[j] = math.Pow(max(x.count, 1), -cfg.PopularityDamping)
	}
	var tops []float64
	for i := range n {
		row = row[:0]
		pi := g[i*n : i*n+n]
		for j := range n {
			if j == i {
				continue
			}
			if w := float32(-pi[j] / g[j*n+j] * damp[j]); w != 0 {
				row = append(row, nb{w, cands[j].cat})
			}
		}
		slices.SortFunc(row, func(x, y nb) int {
			if ax, ay := math.Abs(float64(x.w)), math.Abs(float64(y.w)); ax != ay {
				return cmp.Compare(ay, ax)
			}
			return cmp.Compare(x.b, y.b)
		})
		row = row[:min(len(row), cfg.Neighbors)]
		rows[cands[i].cat] = slices.Clone(row)
		top := float32(0)
		for _, x := range row {
			top = max(top, x.w)
		}
		if top > 0 {
			tops = append(tops, float64(top))
		}
	}
	m.scale = 1
	if len(tops) > 0 {
		slices.Sort(tops)
		if med := tops[len(tops)/2]; med > 0 {
			m.scale = med
		}
	}
	// The tail: the item-item rows of the other items, scaled so that
	// their typical nearest neighbour weighs what EASE's does.
	f := float32(m.scale / tail.scale)
	inN := make([]bool, cat.Len())
	for _, x := range cands {
		inN[x.cat] = true
	}
	for i := range cat.Len() {
		if inN[i] {
			continue
		}
		for k := tail.start[i]; k < tail.start[i+1]; k++ {
			rows[i] = append(rows[i], nb{tail.sim[k] * f, tail.nbr[k]})
		}
	}
	m.start = make([]int32, cat.Len()+1)
	total := 0
	for i, r := range rows {
		total += len(r)
		m.start[i+1] = int32(total)
	}
	m.nbr = make([]int32, 0, total)
	m.sim = make([]float32, 0, total)
	for _, r := range rows {
		for _, x := range r {
			m.nbr = append(m.nbr, x.b)
			m.sim = append(m.sim, x.w)
		}
	}
	m.ease = &cfg
	return m, nil
}
