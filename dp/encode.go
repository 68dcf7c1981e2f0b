package dp

import (
	"encoding/binary"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"slices"
)

// Partial state encoding: a compact binary format of our own,
//
//	magic "tdp" version(1) kind(1) | header | keys | persons | crc32c
//
// with varints for counts and ids and fixed 8 bytes for floats, values and
// pseudonyms. The CRC catches truncation and corruption; the decoder also
// validates every field (bounds enforced, ids in range, no duplicates), so
// tampered input returns an error wrapping ErrInvalidState and never panics
// or breaks the contribution bounds.

const (
	stateMagic   = "tdp"
	stateVersion = 2 // 2: pseudonyms from the hardened hashMix

	kindAggregation = 'A'
	kindTopK        = 'T'
	kindCooc        = 'C'
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

type writer struct{ buf []byte }

func (w *writer) u(x uint64)   { w.buf = binary.AppendUvarint(w.buf, x) }
func (w *writer) i(x int64)    { w.buf = binary.AppendVarint(w.buf, x) }
func (w *writer) u64(x uint64) { w.buf = binary.LittleEndian.AppendUint64(w.buf, x) }
func (w *writer) f(x float64)  { w.u64(math.Float64bits(x)) }
func (w *writer) b(x byte)     { w.buf = append(w.buf, x) }
func (w *writer) s(x string)   { w.u(uint64(len(x))); w.buf = append(w.buf, x...) }
func (w *writer) strs(x []string) {
	w.u(uint64(len(x)))
	for _, s := range x {
		w.s(s)
	}
}
func (w *writer) floats(x []float64) {
	w.u(uint64(len(x)))
	for _, v := range x {
		w.f(v)
	}
}

func (w *writer) start(kind byte) { w.buf = append(append(w.buf, stateMagic...), stateVersion, kind) }
func (w *writer) finish() []byte {
	return binary.LittleEndian.AppendUint32(w.buf, crc32.Checksum(w.buf, crcTable))
}

type reader struct {
	buf []byte
	err error
}

func newReader(data []byte, kind byte) *reader {
	r := &reader{}
	if len(data) < len(stateMagic)+2+4 {
		r.err = stateErr("too short (%d bytes)", len(data))
		return r
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	switch {
	case string(body[:3]) != stateMagic:
		r.err = stateErr("not tact dp state")
	case body[3] != stateVersion:
		r.err = stateErr("unsupported version %d", body[3])
	case body[4] != kind:
		r.err = stateErr("state of kind %q, want %q", body[4], kind)
	case crc32.Checksum(body, crcTable) != sum:
		r.err = stateErr("checksum mismatch (truncated or corrupted)")
	}
	r.buf = body[5:]
	return r
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = stateErr(format, args...)
	}
}

func (r *reader) u() uint64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Uvarint(r.buf)
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.buf = r.buf[n:]
	return x
}

func (r *reader) i() int64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Varint(r.buf)
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.buf = r.buf[n:]
	return x
}

// n reads a count of items of at least minSize bytes each, checked against
// what is left, so a forged count cannot make the decoder allocate much.
func (r *reader) n(minSize int) int {
	x := r.u()
	if x > uint64(len(r.buf)/max(minSize, 1)) {
		r.fail("count %d exceeds the data", x)
		return 0
	}
	return int(x)
}

func (r *reader) u64() uint64 {
	if r.err != nil {
		return 0
	}
	if len(r.buf) < 8 {
		r.fail("truncated")
		return 0
	}
	x := binary.LittleEndian.Uint64(r.buf)
	r.buf = r.buf[8:]
	return x
}

func (r *reader) f() float64 { return math.Float64frombits(r.u64()) }

func (r *reader) b() byte {
	if r.err != nil {
		return 0
	}
	if len(r.buf) < 1 {
		r.fail("truncated")
		return 0
	}
	x := r.buf[0]
	r.buf = r.buf[1:]
	return x
}

func (r *reader) s() string {
	n := r.n(1)
	if r.err != nil {
		return ""
	}
	s := string(r.buf[:n])
	r.buf = r.buf[n:]
	return s
}

func (r *reader) strs() []string {
	n := r.n(1)
	out := make([]string, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		out = append(out, r.s())
	}
	return out
}

func (r *reader) floats() []float64 {
	n := r.n(8)
	out := make([]float64, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		out = append(out, r.f())
	}
	return out
}

func (r *reader) end() error {
	if r.err == nil && len(r.buf) != 0 {
		r.fail("%d trailing bytes", len(r.buf))
	}
	return r.err
}

func valueBits[V Value](v V) uint64 {
	if x, ok := any(v).(int64); ok {
		return uint64(x)
	}
	return math.Float64bits(float64(v))
}

func valueFrom[V Value](isInt bool, u uint64) V {
	if isInt {
		return V(int64(u))
	}
	return V(math.Float64frombits(u))
}

// encodeBounder writes the per-person state.
func encodeBounder[V Value](w *writer, b *bounder[V]) {
	b.flush()
	w.u64(b.salt)
	w.i(b.dropped)
	w.u(uint64(b.npeople))
	var vals []V
	for i := range b.people {
		p := &b.people[i]
		if p.id == 0 {
			continue
		}
		w.u64(p.id)
		w.u(uint64(p.used))
		for j := 0; j < int(p.used); j++ {
			s := b.at(p, j)
			w.u(uint64(s.pid))
			w.u(uint64(s.n))
			if b.values || b.weights {
				vals = b.vals(vals[:0], p.id, j, s)
				for _, v := range vals {
					w.u64(valueBits(v))
				}
			}
		}
	}
}

// decodeBounder reads per-person state into b (fresh, with its partitions
// registered), checking every bound. lo and hi bound the values (the
// weights, with weights).
func decodeBounder[V Value](r *reader, b *bounder[V], isInt bool, lo, hi V) {
	b.dropped = r.i()
	if b.dropped < 0 {
		r.fail("negative dropped count")
	}
	nPeople := r.n(9)
	seen := make(map[int32]bool)
	var vals []V
	for i := 0; i < nPeople && r.err == nil; i++ {
		id := r.u64()
		if _, dup := b.lookup(id); dup || id == 0 {
			r.fail("person listed twice or null")
			return
		}
		used := r.u()
		if used > uint64(b.l0) {
			r.fail("person has %d partitions, bound is %d", used, b.l0)
			return
		}
		pi := b.person(id)
		clear(seen)
		for j := uint64(0); j < used && r.err == nil; j++ {
			pid, n := r.u(), r.u()
			switch {
			case pid >= uint64(len(b.partHash)):
				r.fail("partition id %d out of range", pid)
			case seen[int32(pid)]:
				r.fail("partition listed twice for one person")
			case n < 1 || n > math.MaxInt32 || (!b.values && n > uint64(b.linf)):
				r.fail("bad record count %d", n)
			}
			if r.err != nil {
				return
			}
			seen[int32(pid)] = true
			vals = vals[:0]
			if b.values || b.weights {
				for k := 0; k < min(int(n), b.linf); k++ {
					v := valueFrom[V](isInt, r.u64())
					if math.IsNaN(float64(v)) || v < lo || v > hi {
						r.fail("value out of bounds")
						return
					}
					vals = append(vals, v)
				}
			}
			b.insert(pi, int32(pid), int32(n), vals)
		}
	}
}

// MarshalBinary encodes the aggregation's partial state (parameters,
// partitions and each person's bounded contributions) for transport to
// another process, where UnmarshalBinary and Merge take it up.
//
// The encoding holds personal data: each person's kept records, under a
// keyed pseudonym whose key travels with it. Protect it like the raw
// events. It does not hold the Logger, Rand or NoiseSource. Encoding a
// released aggregation returns [ErrReleased].
func (a *Aggregation[V]) MarshalBinary() ([]byte, error) {
	if a.released {
		return nil, ErrReleased
	}
	if a.b == nil {
		return nil, errZero("Aggregation")
	}
	w := &writer{}
	w.start(kindAggregation)
	if a.isInt {
		w.b(0)
	} else {
		w.b(1)
	}
	p := &a.p
	w.f(p.Epsilon)
	w.f(p.Delta)
	w.u(uint64(p.MaxPartitions))
	w.u(uint64(p.MaxContributions))
	w.b(byte(p.Noise))
	w.u(uint64(p.MinPersons))
	w.f(p.Alpha)
	w.s(p.Label)
	w.b(byte(a.spec.Metrics))
	w.u64(valueBits(a.spec.Lower))
	w.u64(valueBits(a.spec.Upper))
	w.floats(a.spec.Ranks)
	if p.Partitions != nil {
		w.b(1)
	} else {
		w.b(0)
	}
	w.strs(a.keys)
	w.i(a.rejected)
	encodeBounder(w, a.b)
	return w.finish(), nil
}

// UnmarshalBinary replaces a with the partial state encoded by
// MarshalBinary, validating it fully. Malformed, truncated or tampered data
// returns an error wrapping [ErrInvalidState] and leaves a unchanged. The
// decoded aggregation draws fresh bounding randomness and has no Logger or
// NoiseSource: merge it into one that does, or release it as is.
func (a *Aggregation[V]) UnmarshalBinary(data []byte) error {
	r := newReader(data, kindAggregation)
	var zero V
	_, isInt := any(zero).(int64)
	if t := r.b(); r.err == nil && (t == 0) != isInt {
		return stateErr("value type mismatch")
	}
	var p Params
	p.Epsilon = r.f()
	p.Delta = r.f()
	p.MaxPartitions = int(min(r.u(), MaxL0+1))
	p.MaxContributions = int(min(r.u(), MaxLInf+1))
	p.Noise = NoiseKind(r.b())
	p.MinPersons = int(min(r.u(), math.MaxInt32))
	p.Alpha = r.f()
	p.Label = r.s()
	var s Spec[V]
	s.Metrics = Metric(r.b())
	s.Lower = valueFrom[V](isInt, r.u64())
	s.Upper = valueFrom[V](isInt, r.u64())
	s.Ranks = r.floats()
	public := r.b() == 1
	keys := r.strs()
	rejected := r.i()
	salt := r.u64()
	if r.err != nil {
		return r.err
	}
	if public {
		p.Partitions = keys
	}
	if len(dedupe(keys)) != len(keys) {
		return stateErr("duplicate partition keys")
	}
	if rejected < 0 {
		return stateErr("negative rejected count")
	}
	p.Rand = rand.New(rand.NewPCG(rand.Uint64(), salt))
	na, err := NewAggregation(p, s)
	if err != nil {
		return stateErr("parameters: %v", err)
	}
	na.p.Rand, na.salt = p.Rand, salt
	na.b = newBounder[V](p.MaxPartitions, p.MaxContributions, na.values, salt, p.Rand, 0)
	na.keys, na.keyIndex = nil, make(map[string]int32, len(keys))
	for _, k := range keys {
		na.newPartition(k)
	}
	na.rejected = rejected
	decodeBounder(r, na.b, isInt, s.Lower, s.Upper)
	if err := r.end(); err != nil {
		return err
	}
	*a = *na
	return nil
}

// Merge adds the partial state of o to a, leaving o unchanged. Both must
// come from the same origin: o is a (or a copy of a) encoded with
// MarshalBinary and decoded elsewhere, so that they share parameters and the
// keyed pseudonyms; otherwise Merge returns [ErrIncompatible].
//
// Shards are best split by person id, so that each person's records are in
// one shard. A person found in both is detected by pseudonym and merged
// exactly: the union keeps the same uniform samples a single aggregation
// would have kept, so the bounds still hold. Merge each shard once: one
// merged twice counts its records twice (within the bounds). Merging a
// released aggregation, or into one, returns [ErrReleased]; merging nil, a
// zero value or a value copy of a (which shares a's tables) returns
// [ErrIncompatible]. Releasing both a and o spends budget twice on the
// shared data.
func (a *Aggregation[V]) Merge(o *Aggregation[V]) error {
	if o == nil || a.b == nil || o.b == nil || a.b == o.b {
		return ErrIncompatible // a zero value, or a copy of a
	}
	if a.released || o.released {
		return ErrReleased
	}
	if a.salt != o.salt || !sameParams(&a.p, &o.p) ||
		a.spec.Metrics != o.spec.Metrics || a.spec.Lower != o.spec.Lower ||
		a.spec.Upper != o.spec.Upper || !slices.Equal(a.spec.Ranks, o.spec.Ranks) {
		return ErrIncompatible
	}
	pidMap, err := partitionMap(o.keys, a.keyIndex, a.newPartition, a.p.Partitions != nil)
	if err != nil {
		return err
	}
	a.b.mergeFrom(o.b, pidMap)
	a.rejected += o.rejected
	return nil
}

func sameParams(p, q *Params) bool {
	return p.Epsilon == q.Epsilon && p.Delta == q.Delta &&
		p.MaxPartitions == q.MaxPartitions && p.MaxContributions == q.MaxContributions &&
		p.Noise == q.Noise && p.MinPersons == q.MinPersons && p.Alpha == q.Alpha &&
		(p.Partitions == nil) == (q.Partitions == nil) && slices.Equal(p.Partitions, q.Partitions)
}
