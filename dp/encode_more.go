package dp

import (
	"math"
	"math/rand/v2"
	"slices"
)

// MarshalBinary encodes the TopK's partial state for transport, like
// [Aggregation.MarshalBinary] (the same caveats apply: it holds personal
// data under keyed pseudonyms; a released TopK returns [ErrReleased]).
func (t *TopK) MarshalBinary() ([]byte, error) {
	if t.released {
		return nil, ErrReleased
	}
	if t.b == nil {
		return nil, errZero("TopK")
	}
	w := &writer{}
	w.start(kindTopK)
	w.u(uint64(t.k))
	p := &t.p
	w.f(p.Epsilon)
	w.f(p.Delta)
	w.u(uint64(p.MaxPartitions))
	w.b(byte(p.Noise))
	w.u(uint64(p.MinPersons))
	w.f(p.Alpha)
	w.s(p.Label)
	if p.Partitions != nil {
		w.b(1)
		w.strs(p.Partitions)
	} else {
		w.b(0)
	}
	w.u(uint64(len(t.keys)))
	for _, k := range t.keys {
		w.s(k.seg)
		w.s(k.item)
	}
	w.i(t.rejected)
	encodeBounder(w, t.b)
	return w.finish(), nil
}

// UnmarshalBinary replaces t with decoded partial state, like
// [Aggregation.UnmarshalBinary].
func (t *TopK) UnmarshalBinary(data []byte) error {
	r := newReader(data, kindTopK)
	k := int(min(r.u(), math.MaxInt32))
	var p Params
	p.Epsilon = r.f()
	p.Delta = r.f()
	p.MaxPartitions = int(min(r.u(), MaxL0+1))
	p.MaxContributions = 1
	p.Noise = NoiseKind(r.b())
	p.MinPersons = int(min(r.u(), math.MaxInt32))
	p.Alpha = r.f()
	p.Label = r.s()
	if r.b() == 1 {
		p.Partitions = r.strs()
	}
	n := r.n(2)
	keys := make([]segItem, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		keys = append(keys, segItem{r.s(), r.s()})
	}
	rejected := r.i()
	salt := r.u64()
	if r.err != nil {
		return r.err
	}
	if rejected < 0 {
		return stateErr("negative rejected count")
	}
	p.Rand = rand.New(rand.NewPCG(rand.Uint64(), salt))
	nt, err := NewTopK(k, p)
	if err != nil {
		return stateErr("parameters: %v", err)
	}
	nt.salt = salt
	nt.b = newBounder[int64](p.MaxPartitions, 1, false, salt, p.Rand, 0)
	for _, key := range keys {
		if _, dup := nt.index[key]; dup {
			return stateErr("duplicate partition keys")
		}
		if nt.allow != nil {
			if _, ok := nt.allow[key.item]; !ok {
				return stateErr("item outside the allow-list")
			}
		}
		nt.partition(key)
	}
	nt.rejected = rejected
	decodeBounder(r, nt.b, true, 0, 0)
	if err := r.end(); err != nil {
		return err
	}
	*t = *nt
	return nil
}

// Merge adds the partial state of o to t, leaving o unchanged, like
// [Aggregation.Merge]: both must come from one origin.
func (t *TopK) Merge(o *TopK) error {
	if o == nil || t.b == nil || o.b == nil || t.b == o.b {
		return ErrIncompatible // a zero value, or a copy of t
	}
	if t.released || o.released {
		return ErrReleased
	}
	if t.salt != o.salt || t.k != o.k || !sameParams(&t.p, &o.p) {
		return ErrIncompatible
	}
	pidMap, _ := partitionMap(o.keys, t.index, t.partition, false) // never fails when not fixed
	t.b.mergeFrom(o.b, pidMap)
	t.rejected += o.rejected
	return nil
}

// Flags of an encoded Cooccurrence.
const (
	coocCatalog  = 1 << 0 // Items is set: the keys are the catalog
	coocWeighted = 1 << 1 // Weighted
	// coocWeights: each kept item holds its weight, as with Weighted since
	// AddWeighted. Weighted state without it is of an older encoding (which
	// held no weights), and older decoders reject it as an unknown flag.
	coocWeights = 1 << 2
)

// MarshalBinary encodes the Cooccurrence's partial state for transport,
// like [Aggregation.MarshalBinary].
func (c *Cooccurrence) MarshalBinary() ([]byte, error) {
	if c.released {
		return nil, ErrReleased
	}
	if c.b == nil {
		return nil, errZero("Cooccurrence")
	}
	w := &writer{}
	w.start(kindCooc)
	p := &c.p
	w.f(p.Epsilon)
	w.f(p.Delta)
	w.u(uint64(p.MaxItems))
	w.u(uint64(p.MaxPairs))
	w.b(byte(p.Noise))
	w.u(uint64(p.MinPersons))
	w.s(p.Label)
	var flags byte
	if p.Items != nil {
		flags |= coocCatalog
	}
	if p.Weighted {
		flags |= coocWeighted | coocWeights
	}
	w.b(flags)
	w.u(uint64(p.PairItems))
	for _, x := range p.Split {
		w.f(x)
	}
	w.strs(c.keys)
	w.i(c.rejected)
	encodeBounder(w, c.b)
	return w.finish(), nil
}

// UnmarshalBinary replaces c with decoded partial state, like
// [Aggregation.UnmarshalBinary].
func (c *Cooccurrence) UnmarshalBinary(data []byte) error {
	r := newReader(data, kindCooc)
	var p CooccurrenceParams
	p.Epsilon = r.f()
	p.Delta = r.f()
	p.MaxItems = int(min(r.u(), MaxL0+1))
	p.MaxPairs = int(min(r.u(), math.MaxInt32))
	p.Noise = NoiseKind(r.b())
	p.MinPersons = int(min(r.u(), math.MaxInt32))
	p.Label = r.s()
	flags := r.b()
	p.PairItems = int(min(r.u(), MaxPairItems+1))
	for i := range p.Split {
		p.Split[i] = r.f()
	}
	keys := r.strs()
	rejected := r.i()
	salt := r.u64()
	if r.err != nil {
		return r.err
	}
	if flags&^(coocCatalog|coocWeighted|coocWeights) != 0 {
		return stateErr("unknown flags %#x", flags)
	}
	if (flags&coocWeighted != 0) != (flags&coocWeights != 0) {
		return stateErr("weighted state without item weights (an older encoding) or weights without Weighted")
	}
	if flags&coocCatalog != 0 {
		p.Items = keys
	}
	p.Weighted = flags&coocWeighted != 0
	if len(dedupe(keys)) != len(keys) {
		return stateErr("duplicate items")
	}
	if rejected < 0 {
		return stateErr("negative rejected count")
	}
	p.Rand = rand.New(rand.NewPCG(rand.Uint64(), salt))
	nc, err := NewCooccurrence(p)
	if err != nil {
		return stateErr("parameters: %v", err)
	}
	nc.salt = salt
	nc.b = newBounder[float64](p.MaxItems, 1, false, salt, p.Rand, 0)
	nc.b.weights = p.Weighted
	nc.keys, nc.index = nil, make(map[string]int32, len(keys))
	for _, it := range keys {
		nc.item(it)
	}
	nc.rejected = rejected
	decodeBounder(r, nc.b, false, math.SmallestNonzeroFloat64, math.MaxFloat64) // weights: positive and finite
	if err := r.end(); err != nil {
		return err
	}
	*c = *nc
	return nil
}

// Merge adds the partial state of o to c, leaving o unchanged, like
// [Aggregation.Merge]: both must come from one origin.
func (c *Cooccurrence) Merge(o *Cooccurrence) error {
	if o == nil || c.b == nil || o.b == nil || c.b == o.b {
		return ErrIncompatible // a zero value, or a copy of c
	}
	if c.released || o.released {
		return ErrReleased
	}
	p, q := &c.p, &o.p
	if c.salt != o.salt || p.Epsilon != q.Epsilon || p.Delta != q.Delta ||
		p.MaxItems != q.MaxItems || p.MaxPairs != q.MaxPairs || p.Noise != q.Noise ||
		p.MinPersons != q.MinPersons || (p.Items == nil) != (q.Items == nil) || !slices.Equal(p.Items, q.Items) ||
		p.PairItems != q.PairItems || p.Weighted != q.Weighted || p.Split != q.Split {
		return ErrIncompatible
	}
	pidMap, err := partitionMap(o.keys, c.index, c.item, p.Items != nil)
	if err != nil {
		return err
	}
	c.b.mergeFrom(o.b, pidMap)
	c.rejected += o.rejected
	return nil
}
