package dpbeam

import (
	"cmp"
	"context"
	crand "crypto/rand"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/tact-go/tact/dp"
)

// Record is one person-level record of a grouped aggregation ([Aggregate]):
// Person contributed Value to the partition Key. It is what
// dp.Aggregation.Add takes, as a PCollection element.
type Record[V dp.Value] struct {
	Person string
	Key    string
	Value  V
}

// newRand returns a random source seeded from the operating system, for
// the sampling of contribution bounding: nobody can predict it, so nobody
// can see how one person's records shift which records of others are kept.
func newRand() *rand.Rand {
	var seed [32]byte
	_, _ = crand.Read(seed[:]) // never fails on supported platforms (Go 1.24+ crashes instead)
	return rand.New(rand.NewChaCha8(seed))
}

// slot is one record of a person in a partition, on its way to bounding.
type slot struct {
	Key   string
	Int   int64
	Float float64
}

// prepFn checks and clamps records as dp.Aggregation.Add does, keyed by
// person: an empty person or a NaN value is rejected, a key outside the
// public partitions ignored, a value clamped to [Lower, Upper].
type prepFn[V dp.Value] struct {
	Lower    V        `json:"lower"`
	Upper    V        `json:"upper"`
	Values   bool     `json:"values"` // clamp values (Sum, Mean, Quantiles)
	Public   []string `json:"public"` // nil: every key
	public   map[string]struct{}
	rejected beam.Counter
}

func (f *prepFn[V]) Setup() {
	f.rejected = beam.NewCounter("dpbeam", "rejected")
	if f.Public != nil {
		f.public = make(map[string]struct{}, len(f.Public))
		for _, k := range f.Public {
			f.public[k] = struct{}{}
		}
	}
}

func (f *prepFn[V]) ProcessElement(ctx context.Context, r Record[V], emit func(string, slot)) {
	v := r.Value
	if r.Person == "" || math.IsNaN(float64(v)) {
		f.rejected.Inc(ctx, 1)
		return
	}
	if f.public != nil {
		if _, ok := f.public[r.Key]; !ok {
			return
		}
	}
	if f.Values {
		v = min(max(v, f.Lower), f.Upper)
	}
	emit(r.Person, slot{Key: r.Key, Int: int64(v), Float: float64(v)})
}

// bounded is one record kept by contribution bounding, with the value in
// the forms the aggregations read: Int for int64 sums, Float for float64
// sums and quantiles, Norm (Float less the midpoint of the bounds) for
// the mean's normalized sum.
type bounded struct {
	Key   string
	Int   int64
	Float float64
	Norm  float64
}

// boundFn bounds one person's records as package dp does: it keeps a
// uniformly random subset of MaxPartitions of the person's partitions and,
// in each, a uniformly random subset of MaxContributions records. One
// person's records are grouped on one worker; memory is proportional to
// the person's distinct partitions times MaxContributions.
type boundFn struct {
	MaxPartitions    int     `json:"max_partitions"`
	MaxContributions int     `json:"max_contributions"`
	Mid              float64 `json:"mid"`
	rng              *rand.Rand
	dropped          beam.Counter
}

func (f *boundFn) Setup() {
	f.rng = newRand()
	f.dropped = beam.NewCounter("dpbeam", "dropped")
}

// reservoir keeps the n records of one partition with the smallest random
// priorities seen so far: a uniform sample without replacement.
type reservoir struct {
	prio  uint64 // of the partition, for the choice of partitions
	slots []prioSlot
}

type prioSlot struct {
	prio uint64
	s    slot
}

func (f *boundFn) ProcessElement(ctx context.Context, person string, records func(*slot) bool, emit func(string, bounded)) {
	parts := make(map[string]*reservoir)
	var s slot
	var n int64
	for records(&s) {
		n++
		r := parts[s.Key]
		if r == nil {
			r = &reservoir{prio: f.rng.Uint64()}
			parts[s.Key] = r
		}
		r.slots = append(r.slots, prioSlot{f.rng.Uint64(), s})
		if len(r.slots) >= 2*f.MaxContributions+16 {
			r.trim(f.MaxContributions)
		}
	}
	keep := make([]*reservoir, 0, len(parts))
	for _, r := range parts {
		keep = append(keep, r)
	}
	if len(keep) > f.MaxPartitions {
		slices.SortFunc(keep, func(a, b *reservoir) int { return cmp.Compare(a.prio, b.prio) })
		keep = keep[:f.MaxPartitions]
	}
	for _, r := range keep {
		r.trim(f.MaxContributions)
		for _, ps := range r.slots {
			emit(person, bounded{Key: ps.s.Key, Int: ps.s.Int, Float: ps.s.Float, Norm: ps.s.Float - f.Mid})
			n--
		}
	}
	if n > 0 {
		f.dropped.Inc(ctx, n)
	}
}

func (r *reservoir) trim(n int) {
	if len(r.slots) <= n {
		return
	}
	slices.SortFunc(r.slots, func(a, b prioSlot) int { return cmp.Compare(a.prio, b.prio) })
	r.slots = slices.Delete(r.slots, n, len(r.slots))
}

// The functions that give pbeam the view of a bounded record each
// aggregation reads.
func boundedKey(b bounded) string              { return b.Key }
func boundedInt(b bounded) (string, int64)     { return b.Key, b.Int }
func boundedFloat(b bounded) (string, float64) { return b.Key, b.Float }
func boundedNorm(b bounded) (string, float64)  { return b.Key, b.Norm }
