package recommend

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strconv"
)

// ErrMalformedModel is returned by [UnmarshalModel] for data that is not a
// model encoding [Model.MarshalBinary] wrote (wrapped in a [*ModelError]).
var ErrMalformedModel = errors.New("recommend: malformed model encoding")

// ModelError is the error [UnmarshalModel] returns: what is wrong and
// where. It unwraps to [ErrMalformedModel], or to the error of the
// constructor that refused a decoded part ([ErrEmptyID],
// [ErrDuplicateItem], [ErrInvalidCount], ...).
type ModelError struct {
	Offset int    // byte offset in the data where decoding stopped
	Why    string // what was expected there
	Err    error  // ErrMalformedModel, or a constructor's error
}

// Error implements error.
func (e *ModelError) Error() string {
	return ErrMalformedModel.Error() + " at byte " + strconv.Itoa(e.Offset) + ": " + e.Why + errSuffix(e.Err)
}

func errSuffix(err error) string {
	if err == nil || err == ErrMalformedModel {
		return ""
	}
	return ": " + err.Error()
}

// Unwrap returns the error the decoding failed with.
func (e *ModelError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrMalformedModel]: every ModelError is one,
// whatever it wraps.
func (e *ModelError) Is(target error) bool { return target == ErrMalformedModel }

// modelMagic starts every encoding, followed by the format version:
// version 1 had no [EASEConfig].PopularityDamping; version 2 has it but no
// [ItemItem.SignalToNoise] (it decodes as +Inf, that of exact counts);
// version 3, the one written, has both. All three decode.
const (
	modelMagic   = "tact.model"
	modelVersion = 3
)

// MarshalBinary encodes the model's non-personal parts (the catalog, the
// popularity counts and the item-item neighbour lists, with their
// configuration) in a compact binary format that [UnmarshalModel]
// decodes into a Model that ranks exactly as m does. It is what a service
// ships to a device that ranks on its own ([recommend/ondevice]): nothing
// in it belongs to one person, as long as the counts it was built from
// are aggregates (differentially private ones, for a model trained on
// people's histories). It implements [encoding.BinaryMarshaler] and never
// fails.
//
// The format: the magic "tact.model" and a version byte (3), then the
// catalog (per item: id, title, category, tags, price, sizes, flags), then
// optionally the popularity (global and per-segment counts, as positive
// float32s), then optionally the item-item model (configuration, scale,
// signal-to-noise ratio, per item its neighbours with float32
// similarities, and the items by count); integers are unsigned varints,
// strings are length-prefixed, floats little-endian IEEE 754.
func (m *Model) MarshalBinary() ([]byte, error) { return m.marshal(modelVersion), nil }

// marshal encodes m in format version v (1, 2 or 3).
func (m *Model) marshal(v byte) []byte {
	var w encoder
	w.b = append(w.b, modelMagic...)
	w.b = append(w.b, v)
	c := m.cat
	w.uint(len(c.items))
	for i := range c.items {
		it := &c.items[i]
		w.str(it.ID)
		w.str(it.Title)
		w.str(it.Category)
		w.strs(it.Tags)
		w.f64(it.Price)
		w.strs(it.Sizes)
		w.b = append(w.b, c.flags[i])
	}
	if p := m.pop; p == nil {
		w.b = append(w.b, 0)
	} else {
		w.b = append(w.b, 1)
		w.uint(p.unknown)
		w.popList(&p.global)
		segs := p.Segments()
		w.uint(len(segs))
		for _, s := range segs {
			w.str(s)
			w.popList(p.segments[s])
		}
	}
	if ii := m.ii; ii == nil {
		w.b = append(w.b, 0)
	} else {
		w.b = append(w.b, 1)
		w.itemItemConfig(ii.cfg)
		if e := ii.ease; e == nil {
			w.b = append(w.b, 0)
		} else {
			w.b = append(w.b, 1)
			w.uint(e.Items)
			w.f64(e.Lambda)
			w.uint(e.Neighbors)
			w.itemItemConfig(e.Tail)
			w.uint(e.Workers)
			if v >= 2 {
				w.f64(e.PopularityDamping)
			}
		}
		w.f64(ii.scale)
		if v >= 3 {
			w.f64(ii.snr)
		}
		w.uint(ii.unknown)
		for i := range c.items {
			lo, hi := ii.start[i], ii.start[i+1]
			w.uint(int(hi - lo))
			for k := lo; k < hi; k++ {
				w.uint(int(ii.nbr[k]))
				w.f32(ii.sim[k])
			}
		}
		w.uint(len(ii.byCount))
		for _, i := range ii.byCount {
			w.uint(int(i))
		}
	}
	return w.b
}

// UnmarshalModel decodes a model [Model.MarshalBinary] encoded. Data that
// is truncated, of another format or version, or out of range (an index
// beyond the catalog, a NaN similarity, trailing bytes) is a [*ModelError]
// wrapping [ErrMalformedModel]; it never panics, and allocates in
// proportion to len(data).
func UnmarshalModel(data []byte) (*Model, error) {
	d := decoder{b: data}
	if len(data) <= len(modelMagic) || string(data[:len(modelMagic)]) != modelMagic || data[len(modelMagic)] < 1 || data[len(modelMagic)] > modelVersion {
		return nil, d.fail("the magic \"tact.model\" and version 1, 2 or 3")
	}
	version := data[len(modelMagic)]
	d.off = len(modelMagic) + 1
	n := d.count("number of items", 14)
	items := make([]Item, 0, n)
	for range n {
		var it Item
		it.ID = d.str("item id")
		it.Title = d.str("item title")
		it.Category = d.str("item category")
		it.Tags = d.strs("item tags")
		it.Price = d.f64("item price")
		it.Sizes = d.strs("item sizes")
		f := d.byte("item flags")
		if f&^(flagSensitive|flagPromotional|flagReplenishable) != 0 {
			return nil, d.fail("item flags")
		}
		it.Sensitive, it.Promotional, it.Replenishable = f&flagSensitive != 0, f&flagPromotional != 0, f&flagReplenishable != 0
		if d.err != nil {
			return nil, d.err
		}
		items = append(items, it)
	}
	cat, err := NewCatalog(items)
	if err != nil {
		return nil, d.wrap("catalog", err)
	}
	var pop *Popularity
	if d.present("popularity") {
		unknown := d.count("unknown popularity items", 0)
		global := d.popCounts(cat)
		segs := make(map[string][]ItemCount)
		for range d.count("number of segments", 2) {
			name := d.str("segment name")
			segs[name] = d.popCounts(cat)
		}
		if d.err != nil {
			return nil, d.err
		}
		if pop, err = NewPopularity(cat, global, segs); err != nil {
			return nil, d.wrap("popularity", err)
		}
		pop.unknown = unknown
	}
	var ii *ItemItem
	if d.present("item-item model") {
		ii = &ItemItem{cat: cat, cfg: d.itemItemConfig(), snr: math.Inf(1)}
		if d.present("EASE configuration") {
			e := &EASEConfig{Items: d.count("EASE items", 0), Lambda: d.f64("EASE lambda"), Neighbors: d.count("EASE neighbours", 0)}
			e.Tail = d.itemItemConfig()
			e.Workers = d.count("EASE workers", 0)
			if version >= 2 {
				e.PopularityDamping = d.f64("EASE popularity damping")
				if !(e.PopularityDamping >= 0 && e.PopularityDamping <= 1) {
					return nil, d.fail("a popularity damping in [0, 1]")
				}
			}
			ii.ease = e
		}
		ii.scale = d.f64("scale")
		if !(ii.scale > 0) || math.IsInf(ii.scale, 0) {
			return nil, d.fail("a positive, finite scale")
		}
		if version >= 3 {
			ii.snr = d.f64("signal-to-noise ratio")
			if !(ii.snr >= 0) {
				return nil, d.fail("a non-negative signal-to-noise ratio")
			}
		}
		ii.unknown = d.count("unknown item-item items", 0)
		ii.start = make([]int32, n+1)
		for i := range n {
			k := d.count("number of neighbours", 5)
			for range k {
				b := d.index("neighbour", n)
				s := d.f32("similarity")
				if d.err == nil && (s == 0 || math.IsNaN(float64(s)) || math.IsInf(float64(s), 0)) {
					return nil, d.fail("a non-zero, finite similarity")
				}
				ii.nbr = append(ii.nbr, b)
				ii.sim = append(ii.sim, s)
			}
			if d.err != nil {
				return nil, d.err
			}
			ii.start[i+1] = int32(len(ii.nbr))
		}
		ii.byCount = make([]int32, 0, d.count("number of counted items", 1))
		for range cap(ii.byCount) {
			ii.byCount = append(ii.byCount, d.index("counted item", n))
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	if d.off != len(data) {
		return nil, d.fail("the end of the data")
	}
	return NewModel(cat, pop, ii)
}

type encoder struct{ b []byte }

func (w *encoder) uint(v int)    { w.b = binary.AppendUvarint(w.b, uint64(v)) }
func (w *encoder) f64(v float64) { w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(v)) }
func (w *encoder) f32(v float32) { w.b = binary.LittleEndian.AppendUint32(w.b, math.Float32bits(v)) }
func (w *encoder) str(s string)  { w.uint(len(s)); w.b = append(w.b, s...) }
func (w *encoder) strs(s []string) {
	w.uint(len(s))
	for _, x := range s {
		w.str(x)
	}
}

func (w *encoder) popList(l *popList) {
	w.uint(len(l.order))
	for _, i := range l.order {
		w.uint(int(i))
		w.f32(l.count[i])
	}
}

func (w *encoder) itemItemConfig(c ItemItemConfig) {
	w.b = append(w.b, byte(c.Similarity))
	w.uint(c.Neighbors)
	w.f64(c.MinCount)
	w.f64(c.Shrink)
}

// decoder reads what encoder wrote; the first error sticks, and every
// read after it returns a zero value.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(why string) error {
	if d.err == nil {
		d.err = &ModelError{Offset: d.off, Why: why, Err: ErrMalformedModel}
	}
	return d.err
}

func (d *decoder) wrap(why string, err error) error {
	return &ModelError{Offset: d.off, Why: why, Err: err}
}

func (d *decoder) take(n int, why string) []byte {
	if d.err != nil || n > len(d.b)-d.off {
		d.fail(why)
		return nil
	}
	b := d.b[d.off : d.off+n]
	d.off += n
	return b
}

func (d *decoder) uint(why string) uint64 {
	if d.err != nil {
		return 0
	}
	v, k := binary.Uvarint(d.b[d.off:])
	if k <= 0 {
		d.fail(why)
		return 0
	}
	d.off += k
	return v
}

// count reads a count of things each at least min bytes long, refusing
// one the rest of the data cannot hold.
func (d *decoder) count(why string, min int) int {
	v := d.uint(why)
	if d.err == nil && (v > math.MaxInt32 || min > 0 && v > uint64((len(d.b)-d.off)/min)) {
		d.fail(why)
		return 0
	}
	return int(v)
}

func (d *decoder) index(why string, n int) int32 {
	v := d.uint(why)
	if d.err == nil && v >= uint64(n) {
		d.fail(why + " within the catalog")
		return 0
	}
	return int32(v)
}

func (d *decoder) byte(why string) byte {
	if b := d.take(1, why); b != nil {
		return b[0]
	}
	return 0
}

func (d *decoder) present(why string) bool {
	switch d.byte(why) {
	case 0:
		return false
	case 1:
		return d.err == nil
	}
	d.fail(why + " present (1) or not (0)")
	return false
}

func (d *decoder) str(why string) string { return string(d.take(d.count(why, 1), why)) }

func (d *decoder) strs(why string) []string {
	n := d.count(why, 1)
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for range n {
		out = append(out, d.str(why))
	}
	return out
}

func (d *decoder) f64(why string) float64 {
	if b := d.take(8, why); b != nil {
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	}
	return 0
}

func (d *decoder) f32(why string) float32 {
	if b := d.take(4, why); b != nil {
		return math.Float32frombits(binary.LittleEndian.Uint32(b))
	}
	return 0
}

func (d *decoder) popCounts(cat *Catalog) []ItemCount {
	n := d.count("number of popularity counts", 5)
	out := make([]ItemCount, 0, n)
	for range n {
		i := d.index("popular item", cat.Len())
		v := d.f32("popularity count")
		if d.err != nil {
			return nil
		}
		if !(v > 0) || math.IsInf(float64(v), 0) {
			d.fail("a positive, finite popularity count")
			return nil
		}
		out = append(out, ItemCount{Item: cat.items[i].ID, Count: float64(v)})
	}
	return slices.Clip(out)
}

func (d *decoder) itemItemConfig() ItemItemConfig {
	c := ItemItemConfig{Similarity: Similarity(d.byte("similarity")), Neighbors: d.count("neighbours", 0),
		MinCount: d.f64("minimum count"), Shrink: d.f64("shrink")}
	if d.err == nil && (c.Similarity > Lift || c.Neighbors > 1000 ||
		math.IsNaN(c.MinCount) || math.IsInf(c.MinCount, 0) || math.IsNaN(c.Shrink) || math.IsInf(c.Shrink, 0)) {
		d.fail("an item-item configuration in range")
	}
	return c
}
