package recommend

import (
	"hash/maphash"
	"slices"
	"strings"
)

// capShown blocks the items shown at least the frequency cap's number of
// times ([Request].Shown), when the guard is on.
func (q *request) capShown() {
	if q.r.cap <= 0 {
		return
	}
	for id, n := range q.req.Shown {
		if n < q.r.cap {
			continue
		}
		if i, ok := q.m.cat.lookup(id); ok {
			q.s.block(i, blockCap)
		}
	}
}

// admit applies the guards that remove candidate cd whatever its score,
// counting each removal in the response's [Filtered]: blocked before scoring
// (in view, already bought, not interested, shown too often), sensitive but
// not led to by what the person declared (then only the declared score is
// kept), and those of leftOut. ws are the blend weights.
func (q *request) admit(cd *cand, ws [nSrc]float64) bool {
	f := &q.resp.Filtered
	switch cd.blocked {
	case 0:
	case blockBought:
		f.AlreadyBought++
		return false
	case blockNotInterested:
		f.NotInterested++
		return false
	default: // in view
		return false
	}
	if q.m.meta[cd.item].flags&flagSensitive != 0 {
		if cd.x[srcDeclared] == 0 || ws[srcDeclared] == 0 {
			f.Sensitive++
			return false
		}
		// Only what the person declared may lead to a sensitive item.
		cd.x = [nSrc]float32{srcDeclared: cd.x[srcDeclared]}
	}
	if n := q.leftOut(cd.item); n != nil {
		(*n)++
		return false
	}
	return true
}

// leftOut returns the [Filtered] counter of the guard that removes item i
// whatever its score (a promotion during the warm-up, a category the person
// is not interested in, the declared avoid tags, budget and sizes), nil
// when none does.
func (q *request) leftOut(i int32) *int {
	f := &q.resp.Filtered
	switch it := &q.m.cat.items[i]; {
	case q.warm && q.m.meta[i].flags&flagPromotional != 0:
		return &f.WarmUp
	case len(q.cats) > 0 && slices.Contains(q.cats, it.Category):
		return &f.NotInterested
	case q.constrained && !q.allowedByDeclared(it):
		return &f.Declared
	}
	return nil
}

// allowedByDeclared checks avoid tags, budget and sizes.
func (q *request) allowedByDeclared(it *Item) bool {
	p := &q.prefs
	if p.MaxPrice > 0 && it.Price > p.MaxPrice {
		return false
	}
	for _, t := range it.Tags {
		if slices.Contains(p.Avoid, t) {
			return false
		}
	}
	if len(p.Sizes) == 0 || len(it.Sizes) == 0 {
		return true
	}
	for _, sz := range it.Sizes {
		dim := sizeDim(sz)
		declaredDim, match := false, false
		for _, d := range p.Sizes {
			if sizeDim(d) == dim {
				declaredDim = true
				if slices.Contains(it.Sizes, d) {
					match = true
					break
				}
			}
		}
		if declaredDim && !match {
			return false
		}
	}
	return true
}

func sizeDim(s string) string {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		return s[:i]
	}
	return ""
}

// boughtSet holds the purchases of one request's history by the hash of
// their item id, so that leaving out what was bought reads the whole
// history, however long, at the cost of one hash per purchase, and checks
// a candidate with one probe rather than looking every event up in the
// catalog. It is part of the scratch space of a request.
type boughtSet struct {
	m  *Model
	ev []Event // the history; nil outside a request
	// ents is an open-addressing table, a power of two long and at most
	// half full: each entry is the upper half of the id's hash and the
	// event's index + 1; 0 is empty.
	ents []uint64
	n    int // entries in use
	// filter has the bit of the top 16 bits of each id's hash set, so
	// that most items not bought are told apart without touching the
	// table or the hashes (itemMeta.idh).
	filter [1 << 16 / 64]uint64
}

// reset makes b an empty set for the history ev (of model m).
func (b *boughtSet) reset(m *Model, ev []Event) {
	b.m, b.ev, b.n = m, ev, 0
	size := 8
	for size < 2*len(ev) {
		size <<= 1
	}
	if cap(b.ents) < size {
		b.ents = make([]uint64, size)
	}
	b.ents = b.ents[:size] // all zero: see forget
}

// forget empties b and drops its references to the request's data.
func (b *boughtSet) forget() {
	clear(b.ents)
	clear(b.filter[:])
	b.m, b.ev, b.n = nil, nil, 0
}

// add records the purchase b.ev[k].
func (b *boughtSet) add(k int) {
	id := b.ev[k].Item
	h := maphash.String(b.m.seed, id)
	mask := uint64(len(b.ents) - 1)
	for p := h & mask; ; p = (p + 1) & mask {
		e := b.ents[p]
		if e == 0 {
			b.ents[p] = h>>32<<32 | uint64(k+1)
			b.n++
			b.filter[h>>54] |= 1 << (h >> 48 & 63)
			return
		}
		if e>>32 == h>>32 && b.ev[uint32(e)-1].Item == id { // bought again
			return
		}
	}
}

// has reports whether item i was bought and is not replenishable.
func (b *boughtSet) has(i int32) bool {
	if b.n == 0 {
		return false
	}
	if mt := b.m.meta[i]; mt.flags&flagReplenishable != 0 || b.filter[mt.idh>>6]&(1<<(mt.idh&63)) == 0 {
		return false
	}
	h := b.m.idHash[i]
	mask := uint64(len(b.ents) - 1)
	for p := h & mask; ; p = (p + 1) & mask {
		e := b.ents[p]
		if e == 0 {
			return false
		}
		if e>>32 == h>>32 && b.ev[uint32(e)-1].Item == b.m.cat.items[i].ID {
			return true
		}
	}
}
