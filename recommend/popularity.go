package recommend

import (
	"cmp"
	"math"
	"slices"
)

// Popularity ranks items by how many persons chose them, globally and per
// segment (a country, a storefront). It is built from plain counts, such as
// the result of a differentially private top-k or count, and uses no
// person's data at request time. It is immutable and safe for simultaneous
// use by multiple goroutines.
type Popularity struct {
	cat      *Catalog
	global   popList
	segments map[string]*popList
	unknown  int
}

type popList struct {
	count []float32 // per catalog item, 0 when absent
	order []int32   // items with a positive count, most popular first
	max   float64
}

// NewPopularity builds the model for cat from global counts and, optionally,
// per-segment counts. Repeated items are summed; negative sums (noise)
// are clamped to 0 and sums beyond the float32 range to its largest value; items not in cat are ignored ([Popularity.Unknown]
// counts them). A NaN or infinite count is a [*CountError]; an empty
// segment name is an [ErrInvalidConfig]. Nothing is kept on error.
func NewPopularity(cat *Catalog, global []ItemCount, segments map[string][]ItemCount) (*Popularity, error) {
	if cat == nil {
		return nil, ErrNilModel
	}
	p := &Popularity{cat: cat}
	if err := p.fill(&p.global, global); err != nil {
		return nil, err
	}
	if len(segments) > 0 {
		p.segments = make(map[string]*popList, len(segments))
		for name, counts := range segments {
			if name == "" {
				return nil, configError("segments", "empty segment name")
			}
			l := new(popList)
			if err := p.fill(l, counts); err != nil {
				return nil, err
			}
			p.segments[name] = l
		}
	}
	return p, nil
}

func (p *Popularity) fill(l *popList, counts []ItemCount) error {
	// Sum in float64, then clamp into [0, MaxFloat32]: a huge (noisy) count
	// or sum must not become +Inf in float32, where it would turn every
	// relative popularity into NaN or 0.
	sum := make([]float64, p.cat.Len())
	for _, c := range counts {
		if math.IsNaN(c.Count) || math.IsInf(c.Count, 0) {
			return &CountError{Item: c.Item, Value: c.Count}
		}
		i, ok := p.cat.lookup(c.Item)
		if !ok {
			p.unknown++
			continue
		}
		sum[i] += c.Count
	}
	l.count = make([]float32, len(sum))
	for i, v := range sum {
		if v > 0 {
			l.count[i] = float32(min(v, math.MaxFloat32))
			l.order = append(l.order, int32(i))
			l.max = max(l.max, float64(l.count[i]))
		}
	}
	slices.SortFunc(l.order, func(a, b int32) int {
		if l.count[a] != l.count[b] {
			return cmp.Compare(l.count[b], l.count[a])
		}
		return cmp.Compare(a, b)
	})
	return nil
}

// Catalog returns the catalog the model was built for.
func (p *Popularity) Catalog() *Catalog { return p.cat }

// Unknown returns the number of counts for items not in the catalog.
func (p *Popularity) Unknown() int { return p.unknown }

// Segments returns the segment names, sorted.
func (p *Popularity) Segments() []string {
	out := make([]string, 0, len(p.segments))
	for s := range p.segments {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func (p *Popularity) list(segment string) *popList {
	if l, ok := p.segments[segment]; ok && segment != "" {
		return l
	}
	return &p.global
}

// Top returns up to k of the most popular items in segment (the global
// ranking when segment is "" or unknown), skipping those for which exclude
// (if non-nil) returns true. Scores are counts. k <= 0 returns nil.
func (p *Popularity) Top(k int, segment string, exclude func(id string) bool) []Scored {
	if k <= 0 {
		return nil
	}
	l := p.list(segment)
	var out []Scored
	for _, i := range l.order {
		id := p.cat.items[i].ID
		if exclude != nil && exclude(id) {
			continue
		}
		out = append(out, Scored{Item: id, Score: float64(l.count[i])})
		if len(out) == k {
			break
		}
	}
	return out
}
