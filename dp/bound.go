package dp

import (
	"math"
	"math/bits"
	"math/rand/v2"
)

// bounder enforces per-person contribution bounds as records arrive.
//
// For each person it keeps at most l0 partitions, chosen by bottom-k
// sampling: every (person, partition) pair gets a pseudo-random priority from
// a keyed hash, and the l0 distinct partitions with the smallest priorities
// are kept. That is a uniform random sample without replacement of the
// person's distinct partitions, computed in one pass with O(l0) memory per
// person, and independent of arrival order and of how many records each
// partition has (first-seen sampling would favour popular partitions). A
// partition that leaves the sample can never come back, so a kept partition
// has seen every one of its records.
//
// Within a kept partition it keeps at most linf values by classic reservoir
// sampling (Algorithm R), a uniform sample of the person's records there.
//
// Memory: slots grow per person in power-of-two blocks up to l0 (an arena
// with free lists), so a person costs O(min(distinct partitions, l0)).
type bounder[V Value] struct {
	l0, linf int
	values   bool // keep values (sum, mean, quantiles)
	salt     uint64
	rng      *rand.Rand

	index  map[uint64]int32 // pseudonym → person
	people []person

	slots []slot  // arena of per-person blocks
	first []V     // first value of each slot (values only)
	more  []int32 // index of a slot's extra block in extra, or -1 (values and linf > 1)
	extra []V     // arena of blocks of linf-1 values

	freeSlots [][]int32 // free blocks per size class
	freeExtra []int32

	partHash []uint64 // per partition id

	dropped int64 // records dropped by bounding (exact; never released)
}

type person struct {
	id   uint64 // keyed pseudonym of the person id
	off  int32  // start of the person's block in slots
	used uint16
	cls  uint8 // block capacity class
}

type slot struct {
	pid int32 // partition id
	n   int32 // records seen (saturating); capped at linf when values are not kept
}

func newBounder[V Value](l0, linf int, values bool, salt uint64, rng *rand.Rand) *bounder[V] {
	return &bounder[V]{
		l0: l0, linf: linf, values: values, salt: salt, rng: rng,
		index:     make(map[uint64]int32),
		freeSlots: make([][]int32, classOf(l0)+1),
	}
}

// classOf returns the smallest class whose capacity holds n slots.
func classOf(n int) int {
	if n <= 1 {
		return 0
	}
	return bits.Len(uint(n - 1))
}

func (b *bounder[V]) capOf(cls uint8) int { return min(1<<cls, b.l0) }

// addPartition registers a new partition id with its key hash.
func (b *bounder[V]) addPartition(h uint64) int32 {
	b.partHash = append(b.partHash, h)
	return int32(len(b.partHash) - 1)
}

func (b *bounder[V]) allocSlots(cls uint8) int32 {
	if f := b.freeSlots[cls]; len(f) > 0 {
		off := f[len(f)-1]
		b.freeSlots[cls] = f[:len(f)-1]
		return off
	}
	n := b.capOf(cls)
	off := int32(len(b.slots))
	b.slots = append(b.slots, make([]slot, n)...)
	if b.values {
		b.first = append(b.first, make([]V, n)...)
		if b.linf > 1 {
			b.more = append(b.more, make([]int32, n)...)
		}
	}
	return off
}

func (b *bounder[V]) allocExtra() int32 {
	if n := len(b.freeExtra); n > 0 {
		off := b.freeExtra[n-1]
		b.freeExtra = b.freeExtra[:n-1]
		return off
	}
	off := int32(len(b.extra))
	b.extra = append(b.extra, make([]V, b.linf-1)...)
	return off
}

// person returns the index of the person with pseudonym id, creating it.
func (b *bounder[V]) person(id uint64) int32 {
	pi, ok := b.index[id]
	if !ok {
		pi = int32(len(b.people))
		b.index[id] = pi
		b.people = append(b.people, person{id: id, off: b.allocSlots(0)})
	}
	return pi
}

// add records one contribution of person id to partition pid.
func (b *bounder[V]) add(id uint64, pid int32, v V) {
	pi := b.person(id)
	p := &b.people[pi]
	off := p.off
	used := int32(p.used)
	for k := off; k < off+used; k++ {
		if b.slots[k].pid == pid {
			b.observe(k, v)
			return
		}
	}
	if int(used) < b.l0 {
		if int(used) == b.capOf(p.cls) {
			b.grow(p)
			off = p.off
		}
		p.used++
		b.set(off+used, pid, v)
		return
	}
	// Full: keep pid only if its priority beats the largest kept one.
	prio := priority(id, b.partHash[pid])
	worst, worstPrio := int32(-1), prio
	for k := off; k < off+used; k++ {
		if q := priority(id, b.partHash[b.slots[k].pid]); q > worstPrio {
			worst, worstPrio = k, q
		}
	}
	if worst < 0 {
		b.dropped++
		return
	}
	b.dropped += int64(b.kept(worst))
	b.clear(worst)
	b.set(worst, pid, v)
}

// set fills slot k with the first record of partition pid.
func (b *bounder[V]) set(k, pid int32, v V) {
	b.slots[k] = slot{pid: pid, n: 1}
	if b.values {
		b.first[k] = v
		if b.linf > 1 {
			b.more[k] = -1
		}
	}
}

// clear releases the extra block of slot k.
func (b *bounder[V]) clear(k int32) {
	if b.values && b.linf > 1 && b.more[k] >= 0 {
		b.freeExtra = append(b.freeExtra, b.more[k])
		b.more[k] = -1
	}
}

// kept returns how many records slot k holds.
func (b *bounder[V]) kept(k int32) int { return min(int(b.slots[k].n), b.linf) }

// observe adds a further record to slot k: reservoir sampling of linf.
func (b *bounder[V]) observe(k int32, v V) {
	s := &b.slots[k]
	if !b.values {
		if int(s.n) < b.linf {
			s.n++
		} else {
			b.dropped++
		}
		return
	}
	if s.n < math.MaxInt32 {
		s.n++
	}
	n := int(s.n)
	if n <= b.linf {
		b.setVal(k, n-1, v)
		return
	}
	b.dropped++
	if j := b.rng.IntN(n); j < b.linf {
		b.setVal(k, j, v)
	}
}

func (b *bounder[V]) setVal(k int32, j int, v V) {
	if j == 0 {
		b.first[k] = v
		return
	}
	if b.more[k] < 0 {
		b.more[k] = b.allocExtra()
	}
	b.extra[int(b.more[k])+j-1] = v
}

func (b *bounder[V]) val(k int32, j int) V {
	if j == 0 {
		return b.first[k]
	}
	return b.extra[int(b.more[k])+j-1]
}

// grow moves person p to a block of the next size class.
func (b *bounder[V]) grow(p *person) {
	cls := p.cls + 1
	off := b.allocSlots(cls)
	n := int32(p.used)
	copy(b.slots[off:off+n], b.slots[p.off:p.off+n])
	if b.values {
		copy(b.first[off:off+n], b.first[p.off:p.off+n])
		if b.linf > 1 {
			copy(b.more[off:off+n], b.more[p.off:p.off+n])
		}
	}
	b.freeSlots[p.cls] = append(b.freeSlots[p.cls], p.off)
	p.off, p.cls = off, cls
}

// insert adds a whole slot (partition pid with n records seen and the kept
// values vals) to person pi, applying the bottom-k rule. It is used by merge
// and decode; pid must not already be among the person's slots.
func (b *bounder[V]) insert(pi, pid int32, n int32, vals []V) {
	p := &b.people[pi]
	used := int32(p.used)
	var k int32
	if int(used) < b.l0 {
		if int(used) == b.capOf(p.cls) {
			b.grow(p)
		}
		p.used++
		k = p.off + used
	} else {
		prio := priority(p.id, b.partHash[pid])
		worst, worstPrio := int32(-1), prio
		for j := p.off; j < p.off+used; j++ {
			if q := priority(p.id, b.partHash[b.slots[j].pid]); q > worstPrio {
				worst, worstPrio = j, q
			}
		}
		if worst < 0 {
			b.dropped += int64(min(int(n), b.linf))
			return
		}
		b.dropped += int64(b.kept(worst))
		b.clear(worst)
		k = worst
	}
	b.slots[k] = slot{pid: pid, n: n}
	if b.values {
		if b.linf > 1 {
			b.more[k] = -1
		}
		for j, v := range vals {
			b.setVal(k, j, v)
		}
	}
}

// find returns the slot of partition pid for person pi, or -1.
func (b *bounder[V]) find(pi, pid int32) int32 {
	p := &b.people[pi]
	for k := p.off; k < p.off+int32(p.used); k++ {
		if b.slots[k].pid == pid {
			return k
		}
	}
	return -1
}

// mergeSlot merges a sample of n2 records with values v2 into slot k, as if
// all records had been seen by one reservoir.
func (b *bounder[V]) mergeSlot(k int32, n2 int32, v2 []V) {
	n1 := b.slots[k].n
	total := int64(n1) + int64(n2)
	if total > math.MaxInt32 {
		total = math.MaxInt32
	}
	if !b.values {
		newN := min(total, int64(b.linf))
		b.slots[k].n = int32(newN)
		b.dropped += int64(n1) + int64(n2) - newN
		return
	}
	a := make([]V, b.kept(k))
	for j := range a {
		a[j] = b.val(k, j)
	}
	c := append([]V(nil), v2...)
	take := int(min(total, int64(b.linf)))
	out := make([]V, 0, take)
	ra, rc := int64(n1), int64(n2)
	for len(out) < take {
		if b.rng.Int64N(ra+rc) < ra {
			i := b.rng.IntN(len(a))
			out = append(out, a[i])
			a[i] = a[len(a)-1]
			a = a[:len(a)-1]
			ra--
		} else {
			i := b.rng.IntN(len(c))
			out = append(out, c[i])
			c[i] = c[len(c)-1]
			c = c[:len(c)-1]
			rc--
		}
	}
	b.dropped += int64(b.kept(k)) + int64(len(v2)) - int64(take)
	b.slots[k].n = int32(total)
	for j, v := range out {
		b.setVal(k, j, v)
	}
}

// mergeFrom adds the state of o (same salt, same bounds) to b. pidMap maps
// o's partition ids to b's. It reports how many persons were in both.
func (b *bounder[V]) mergeFrom(o *bounder[V], pidMap []int32) (overlap int) {
	var vals []V
	for i := range o.people {
		op := &o.people[i]
		pi, existed := b.index[op.id]
		if !existed {
			pi = b.person(op.id)
		} else {
			overlap++
		}
		for k := op.off; k < op.off+int32(op.used); k++ {
			vals = vals[:0]
			if o.values {
				for j := 0; j < o.kept(k); j++ {
					vals = append(vals, o.val(k, j))
				}
			}
			pid := pidMap[o.slots[k].pid]
			if existed {
				if dk := b.find(pi, pid); dk >= 0 {
					b.mergeSlot(dk, o.slots[k].n, vals)
					continue
				}
			}
			b.insert(pi, pid, o.slots[k].n, vals)
		}
	}
	b.dropped += o.dropped
	return overlap
}
