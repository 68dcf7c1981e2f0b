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
// With weights instead, a kept partition holds one weight, the largest of
// its records' values (a weighted Cooccurrence's item weight): like the
// sample, it depends neither on arrival order nor on batching or merging.
//
// Layout: persons live in an open-addressing hash table keyed by pseudonym,
// each entry holding its first inline slots (a 64-byte entry for int64 and
// float64), so one cache miss finds a person and its partitions. Further
// slots grow per person in power-of-two blocks of an arena with free lists.
// A person costs O(min(distinct partitions, l0)); values beyond the first
// of a slot (linf > 1) live in blocks of linf-1 in another arena. The
// table starts at the size a capacity hint asks for, so that it need not
// grow while records arrive.
//
// Records are bounded in batches: add queues a record, and flush bounds
// the queued records in the order they arrived, drawing the same
// randomness as one at a time, so batches change nothing but speed. A
// flush first loads every queued person id, then the table entries their
// pseudonyms land on: independent loads, whose cache misses the processor
// overlaps, where one record at a time waits for two misses in a row when
// the table outgrows the caches. Everything that reads the state flushes
// first (mergeFrom, personsPerPartition, encodeBounder, and the owners'
// Release and Dropped).
type bounder[V Value] struct {
	l0, linf int
	values   bool // keep values (sum, mean, quantiles)
	weights  bool // keep each slot's largest value instead (weighted Cooccurrence)
	salt     uint64
	rng      *rand.Rand

	people  []person[V] // hash table, load ≤ 1/2; id 0 = empty
	npeople int

	slots     []slot[V] // arena for slots beyond the inline ones
	freeSlots [][]int32 // free arena blocks per size class

	more      map[slotKey]int32 // extra block of a slot (values, linf > 1)
	extra     []V               // arena of blocks of linf-1 values
	freeExtra []int32

	partHash []uint64 // per partition id

	dropped int64 // records dropped by bounding (exact; never released)

	queue []queued[V] // records added, not yet bounded; flushed at batch
	ids   []uint64    // their pseudonyms, during a flush
	sink  uint64      // keeps a flush's loads from being optimized away
}

// batch is how many records are queued before they are bounded.
const batch = 64

// queued is a record waiting in the queue. It holds the caller's person
// id (a string, immutable) until the flush.
type queued[V Value] struct {
	person string
	pid    int32
	v      V
}

const inline = 3

type person[V Value] struct {
	id   uint64 // keyed pseudonym of the person id; 0 = empty entry
	off  int32  // start of the person's arena block, for slots ≥ inline
	used uint16 // slots in use
	cls  uint8  // arena block capacity class
	in   [inline]slot[V]
}

type slot[V Value] struct {
	pid int32 // partition id
	n   int32 // records seen (saturating); capped at linf when values are not kept
	v   V     // first kept value, or the weight
}

type slotKey struct {
	id uint64
	j  int
}

// randomness returns r, or if nil a fresh source seeded from the runtime's
// unpredictable generator.
func randomness(r *rand.Rand) *rand.Rand {
	if r == nil {
		return rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return r
}

// newBounder returns an empty bounder whose table holds persons (a
// capacity hint; 0 for none) without growing.
func newBounder[V Value](l0, linf int, values bool, salt uint64, rng *rand.Rand, persons int) *bounder[V] {
	b := &bounder[V]{
		l0: l0, linf: linf, values: values, salt: salt, rng: rng,
		people: make([]person[V], tableSize(persons)),
		queue:  make([]queued[V], 0, batch),
		ids:    make([]uint64, batch),
	}
	if l0 > inline {
		b.freeSlots = make([][]int32, classOf(l0-inline)+1)
	}
	if values && linf > 1 {
		b.more = make(map[slotKey]int32)
	}
	return b
}

// tableSize returns the size of a table that holds n persons at load at
// most 1/2 (see person): a power of two, at least 64.
func tableSize(n int) int {
	if n <= 32 {
		return 64
	}
	return 1 << bits.Len(uint(2*n-1))
}

// classOf returns the smallest class whose capacity holds n slots.
func classOf(n int) int {
	if n <= 1 {
		return 0
	}
	return bits.Len(uint(n - 1))
}

// capOf returns the arena capacity of class cls.
func (b *bounder[V]) capOf(cls uint8) int { return min(1<<cls, b.l0-inline) }

// addPartition registers a new partition id with its key hash.
func (b *bounder[V]) addPartition(h uint64) int32 {
	b.partHash = append(b.partHash, h)
	return int32(len(b.partHash) - 1)
}

// pseudonym returns the table key of a person id: its keyed hash, never 0.
func (b *bounder[V]) pseudonym(id string) uint64 {
	h := hashString(b.salt, id)
	if h == 0 {
		h = 1
	}
	return h
}

// lookup returns the table index of pseudonym id, and whether it is there.
func (b *bounder[V]) lookup(id uint64) (int32, bool) {
	mask := uint64(len(b.people) - 1)
	for i := id & mask; ; i = (i + 1) & mask {
		switch b.people[i].id {
		case id:
			return int32(i), true
		case 0:
			return int32(i), false
		}
	}
}

// person returns the table index of pseudonym id, creating the person.
// Indexes stay valid until the next call.
func (b *bounder[V]) person(id uint64) int32 {
	i, ok := b.lookup(id)
	if ok {
		return i
	}
	if 2*(b.npeople+1) > len(b.people) {
		b.rehash()
		i, _ = b.lookup(id)
	}
	b.npeople++
	b.people[i] = person[V]{id: id, off: -1}
	return i
}

func (b *bounder[V]) rehash() {
	old := b.people
	b.people = make([]person[V], 2*len(old))
	for i := range old {
		if old[i].id != 0 {
			j, _ := b.lookup(old[i].id)
			b.people[j] = old[i]
		}
	}
}

// at returns slot j of person p.
func (b *bounder[V]) at(p *person[V], j int) *slot[V] {
	if j < inline {
		return &p.in[j]
	}
	return &b.slots[int(p.off)+j-inline]
}

// add records one contribution of person (a non-empty id) to partition
// pid: it queues the record, and bounds the queue when it is full.
func (b *bounder[V]) add(person string, pid int32, v V) {
	b.queue = append(b.queue, queued[V]{person, pid, v})
	if len(b.queue) == batch {
		b.flush()
	}
}

// flush bounds the queued records, in the order they were added.
func (b *bounder[V]) flush() {
	q := b.queue
	if len(q) == 0 {
		return
	}
	ids := b.ids[:len(q)]
	// Three passes of independent loads, each overlapping its cache
	// misses: the person ids, then their keyed hashes, then the table
	// entries they land on and the entries after them (a 64-byte entry is
	// a cache line, and linear probing often goes on to the next one).
	var sink uint64
	for i := range q {
		sink += uint64(q[i].person[0])
	}
	for i := range q {
		ids[i] = b.pseudonym(q[i].person)
	}
	mask := uint64(len(b.people) - 1)
	for _, id := range ids {
		sink += b.people[id&mask].id + b.people[(id+1)&mask].id
	}
	b.sink = sink
	for i := range q {
		b.bound(ids[i], q[i].pid, q[i].v)
	}
	clear(q) // let go of the person ids
	b.queue = q[:0]
}

// bound applies the bounds to one contribution of person id (pseudonym) to
// partition pid.
func (b *bounder[V]) bound(id uint64, pid int32, v V) {
	p := &b.people[b.person(id)]
	used := int(p.used)
	for j := 0; j < used; j++ {
		if s := b.at(p, j); s.pid == pid {
			b.observe(p, j, s, v)
			return
		}
	}
	if used < b.l0 {
		b.open(p)
		*b.at(p, used) = slot[V]{pid: pid, n: 1, v: v}
		return
	}
	// Full: keep pid only if its priority beats the largest kept one.
	j := b.worst(p, priority(id, b.partHash[pid]))
	if j < 0 {
		b.dropped++
		return
	}
	b.evict(p, j)
	*b.at(p, j) = slot[V]{pid: pid, n: 1, v: v}
}

// open makes room for one more slot of p (p.used < l0) and counts it used.
func (b *bounder[V]) open(p *person[V]) {
	if used := int(p.used); used >= inline {
		if p.off < 0 {
			p.off, p.cls = b.allocSlots(0), 0
		} else if used-inline == b.capOf(p.cls) {
			b.grow(p)
		}
	}
	p.used++
}

// worst returns the slot of p whose priority is the largest and above prio,
// or -1 if prio is above them all.
func (b *bounder[V]) worst(p *person[V], prio uint64) int {
	worst, worstPrio := -1, prio
	for j := 0; j < int(p.used); j++ {
		if q := priority(p.id, b.partHash[b.at(p, j).pid]); q > worstPrio {
			worst, worstPrio = j, q
		}
	}
	return worst
}

// evict empties slot j of p, counting its records as dropped.
func (b *bounder[V]) evict(p *person[V], j int) {
	b.dropped += int64(b.kept(b.at(p, j)))
	if b.more != nil {
		k := slotKey{p.id, j}
		if e, ok := b.more[k]; ok {
			b.freeExtra = append(b.freeExtra, e)
			delete(b.more, k)
		}
	}
}

func (b *bounder[V]) allocSlots(cls uint8) int32 {
	if f := b.freeSlots[cls]; len(f) > 0 {
		off := f[len(f)-1]
		b.freeSlots[cls] = f[:len(f)-1]
		return off
	}
	off := int32(len(b.slots))
	b.slots = append(b.slots, make([]slot[V], b.capOf(cls))...)
	return off
}

// grow moves the arena slots of p to a block of the next size class.
func (b *bounder[V]) grow(p *person[V]) {
	cls := p.cls + 1
	off := b.allocSlots(cls)
	n := int32(p.used) - inline
	copy(b.slots[off:off+n], b.slots[p.off:p.off+n])
	b.freeSlots[p.cls] = append(b.freeSlots[p.cls], p.off)
	p.off, p.cls = off, cls
}

// kept returns how many records slot s holds.
func (b *bounder[V]) kept(s *slot[V]) int { return min(int(s.n), b.linf) }

// observe adds a further record to slot j (s) of p: reservoir sampling.
func (b *bounder[V]) observe(p *person[V], j int, s *slot[V], v V) {
	if !b.values {
		if b.weights {
			s.v = max(s.v, v)
		}
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
		b.setVal(p.id, j, s, n-1, v)
		return
	}
	b.dropped++
	if i := b.rng.IntN(n); i < b.linf {
		b.setVal(p.id, j, s, i, v)
	}
}

// setVal sets value i of slot j (s) of person id.
func (b *bounder[V]) setVal(id uint64, j int, s *slot[V], i int, v V) {
	if i == 0 {
		s.v = v
		return
	}
	k := slotKey{id, j}
	e, ok := b.more[k]
	if !ok {
		if n := len(b.freeExtra); n > 0 {
			e = b.freeExtra[n-1]
			b.freeExtra = b.freeExtra[:n-1]
		} else {
			e = int32(len(b.extra))
			b.extra = append(b.extra, make([]V, b.linf-1)...)
		}
		b.more[k] = e
	}
	b.extra[int(e)+i-1] = v
}

// vals appends the kept values of slot j (s) of person id to dst: its
// weight, with weights.
func (b *bounder[V]) vals(dst []V, id uint64, j int, s *slot[V]) []V {
	if b.weights {
		return append(dst, s.v)
	}
	k := b.kept(s)
	if k == 0 || !b.values {
		return dst
	}
	dst = append(dst, s.v)
	if k > 1 {
		e := int(b.more[slotKey{id, j}])
		dst = append(dst, b.extra[e:e+k-1]...)
	}
	return dst
}

// insert adds a whole slot (partition pid with n records seen and the kept
// values vals, or its weight) to person pi, applying the bottom-k rule. It
// is used by merge and decode; pid must not already be among the person's
// slots.
func (b *bounder[V]) insert(pi, pid int32, n int32, vals []V) {
	p := &b.people[pi]
	j := int(p.used)
	if j < b.l0 {
		b.open(p)
	} else if j = b.worst(p, priority(p.id, b.partHash[pid])); j >= 0 {
		b.evict(p, j)
	} else {
		b.dropped += int64(min(int(n), b.linf))
		return
	}
	s := b.at(p, j)
	*s = slot[V]{pid: pid, n: n}
	for i, v := range vals {
		b.setVal(p.id, j, s, i, v)
	}
}

// find returns the slot index of partition pid for person p, or -1.
func (b *bounder[V]) find(p *person[V], pid int32) int {
	for j := 0; j < int(p.used); j++ {
		if b.at(p, j).pid == pid {
			return j
		}
	}
	return -1
}

// mergeSlot merges a sample of n2 records with values v2 (or the weight
// v2[0]) into slot j of p, as if all records had been seen by one
// reservoir.
func (b *bounder[V]) mergeSlot(p *person[V], j int, n2 int32, v2 []V) {
	s := b.at(p, j)
	n1 := s.n
	total := min(int64(n1)+int64(n2), math.MaxInt32)
	if !b.values {
		if b.weights {
			s.v = max(s.v, v2[0])
		}
		newN := min(total, int64(b.linf))
		s.n = int32(newN)
		b.dropped += int64(n1) + int64(n2) - newN
		return
	}
	a := b.vals(nil, p.id, j, s)
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
	b.dropped += int64(b.kept(s)) + int64(len(v2)) - int64(take)
	s.n = int32(total)
	for i, v := range out {
		b.setVal(p.id, j, s, i, v)
	}
}

// partitionMap maps a shard's partitions (its keys, in its order) to the
// receiver's, adding the keys the receiver lacks with add. When the
// receiver's partitions are fixed (public), a key it lacks makes the shards
// incompatible.
func partitionMap[K comparable](keys []K, index map[K]int32, add func(K) int32, fixed bool) ([]int32, error) {
	pidMap := make([]int32, len(keys))
	for i, k := range keys {
		pid, ok := index[k]
		if !ok {
			if fixed {
				return nil, ErrIncompatible
			}
			pid = add(k)
		}
		pidMap[i] = pid
	}
	return pidMap, nil
}

// mergeFrom adds the state of o (same salt, same bounds) to b. pidMap maps
// o's partition ids to b's. A person in both (same pseudonym) is merged
// slot by slot, as if one bounder had seen all their records.
func (b *bounder[V]) mergeFrom(o *bounder[V], pidMap []int32) {
	b.flush()
	o.flush()
	var vals []V
	for i := range o.people {
		op := &o.people[i]
		if op.id == 0 {
			continue
		}
		pi, existed := b.lookup(op.id)
		if !existed {
			pi = b.person(op.id)
		}
		for j := 0; j < int(op.used); j++ {
			s := o.at(op, j)
			vals = o.vals(vals[:0], op.id, j, s)
			pid := pidMap[s.pid]
			p := &b.people[pi]
			if existed {
				if dj := b.find(p, pid); dj >= 0 {
					b.mergeSlot(p, dj, s.n, vals)
					continue
				}
			}
			b.insert(pi, pid, s.n, vals)
		}
	}
	b.dropped += o.dropped
}

// personsPerPartition returns the number of distinct persons per partition.
func (b *bounder[V]) personsPerPartition() []int64 {
	b.flush()
	out := make([]int64, len(b.partHash))
	for i := range b.people {
		p := &b.people[i]
		for j := 0; j < int(p.used); j++ {
			out[b.at(p, j).pid]++
		}
	}
	return out
}
