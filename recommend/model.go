package recommend

import (
	"cmp"
	"slices"
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
	// global popularity relative to the most popular item, and flags.
	meta []itemMeta
}

type itemMeta struct {
	pop   float32 // global count / max count, in [0, 1]; 0 without popularity
	flags uint8
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
	m := &Model{cat: cat, pop: pop, ii: ii, byCategory: cat.byCategory, byTag: cat.byTag, byToken: cat.byToken}
	m.meta = make([]itemMeta, cat.Len())
	for i, f := range cat.flags {
		m.meta[i].flags = f
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
