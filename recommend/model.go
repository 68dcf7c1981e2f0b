package recommend

import (
	"cmp"
	"hash/maphash"
	"math"
	"slices"
	"sync/atomic"
)

// Model bundles what serving needs from training: the catalog, the
// popularity model and the item-item model. A [Recommender] serves from one
// Model and can swap to another atomically ([Recommender.SetModel]). A Model
// is immutable and safe for simultaneous use by multiple goroutines.
type Model struct {
	cat *Catalog
	pop *Popularity // may be nil
	ii  *ItemItem   // may be nil
	// Catalog postings re-ordered by global popularity, so that category,
	// tag and search candidates start with the most chosen items.
	byCategory map[string][]int32
	byTag      map[string][]int32
	byToken    map[string][]int32
	// meta keeps what serving reads per candidate in one 8-byte entry:
	// global popularity relative to the most popular item, flags and 16
	// bits of the id's hash.
	meta []itemMeta
	// idHash[i] is the hash of item i's id with seed, so that a request
	// checks its candidates against a whole history without looking up
	// every event in the catalog (see boughtSet).
	seed   maphash.Seed
	idHash []uint64
	// phrases[k][i] is the sentence of kind k explaining a recommendation
	// by item i ("Because you bought …"), built on first use (see
	// Model.phrase).
	phrases [numPhrases][]atomic.Pointer[string]
	// modelShare is the share of their blend weight that the sources
	// reading the item-item model alone (feedback and history) keep, the
	// rest going to popularity: 1 but for a model trained on noisy counts
	// (see weakSignal).
	modelShare float64
}

// weakSignal is the signal-to-noise ratio of the pair counts
// ([ItemItem.SignalToNoise]) at which history and feedback keep half of
// their blend weight and give popularity the other half; at a ratio s
// they keep s²/(s² + weakSignal²). [Weights] says how it was chosen.
const weakSignal = 0.2

type itemMeta struct {
	pop   float32 // global count / max count, in [0, 1]; 0 without popularity
	flags uint8
	idh   uint16 // the top 16 bits of idHash: the bought filter's bit
}

// NewModel bundles a catalog with its models. pop and ii may be nil (the
// sources that need them then contribute nothing); when given they must be
// built for cat, else [ErrCatalogMismatch]. A nil catalog is [ErrNilModel].
func NewModel(cat *Catalog, pop *Popularity, ii *ItemItem) (*Model, error) {
	if cat == nil {
		return nil, ErrNilModel
	}
	if (pop != nil && pop.cat != cat) || (ii != nil && ii.cat != cat) {
		return nil, ErrCatalogMismatch
	}
	m := &Model{cat: cat, pop: pop, ii: ii, byCategory: cat.byCategory, byTag: cat.byTag, byToken: cat.byToken, modelShare: 1}
	if ii != nil && !math.IsInf(ii.snr, 1) {
		s2 := ii.snr * ii.snr
		m.modelShare = s2 / (s2 + weakSignal*weakSignal)
	}
	m.meta = make([]itemMeta, cat.Len())
	for i, f := range cat.flags {
		m.meta[i].flags = f
	}
	m.seed = maphash.MakeSeed()
	m.idHash = make([]uint64, cat.Len())
	for i := range cat.items {
		m.idHash[i] = maphash.String(m.seed, cat.items[i].ID)
		m.meta[i].idh = uint16(m.idHash[i] >> 48)
	}
	for k := range m.phrases {
		m.phrases[k] = make([]atomic.Pointer[string], cat.Len())
	}
	if pop != nil {
		g := &pop.global
		if g.max > 0 {
			for i, v := range g.count {
				m.meta[i].pop = float32(float64(v) / g.max)
			}
		}
		order := func(src map[string][]int32) map[string][]int32 {
			dst := make(map[string][]int32, len(src))
			for k, l := range src {
				l = slices.Clone(l)
				slices.SortStableFunc(l, func(a, b int32) int { return cmp.Compare(g.count[b], g.count[a]) })
				dst[k] = l
			}
			return dst
		}
		m.byCategory, m.byTag, m.byToken = order(cat.byCategory), order(cat.byTag), order(cat.byToken)
	}
	return m, nil
}

// Catalog returns the model's catalog.
func (m *Model) Catalog() *Catalog { return m.cat }

// Popularity returns the popularity model, nil if none.
func (m *Model) Popularity() *Popularity { return m.pop }

// ItemItem returns the item-item model, nil if none.
func (m *Model) ItemItem() *ItemItem { return m.ii }

func (m *Model) pop01(i int32) float64 { return float64(m.meta[i].pop) }
