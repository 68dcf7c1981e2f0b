package dp

import (
	"slices"
	"strconv"
	"strings"
)

// Estimate is a released noisy value with its confidence interval: the
// true value (of the bounded data) lies in [Lower, Upper] with probability
// at least 1-α, α being the result's Alpha. The interval is derived from
// the noisy value and the noise parameters alone; it spends no budget.
type Estimate[T Value] struct {
	Value        T
	Lower, Upper float64
}

// Partition is the released data of one partition key. Only the metrics
// the aggregation computed are set. Noisy counts and sums are unbiased
// estimates of the bounded true values and may be negative or fractional
// where the true value cannot be; do not clip them before further
// arithmetic.
type Partition[V Value] struct {
	Key       string
	Count     Estimate[int64]
	Sum       Estimate[V]
	Mean      Estimate[float64]
	Quantiles []float64 // one per Spec.Ranks, in order; non-decreasing
}

// Result is an immutable release: the partitions, sorted by key, and what
// was spent. It is safe for concurrent use by multiple goroutines.
type Result[V Value] struct {
	parts   []Partition[V]
	index   map[string]int
	metrics Metric
	ranks   []float64
	eps     float64
	delta   float64
	alpha   float64
	private bool
	public  bool
	label   string
}

func (r *Result[V]) finish() {
	slices.SortFunc(r.parts, func(a, b Partition[V]) int { return strings.Compare(a.Key, b.Key) })
	r.index = make(map[string]int, len(r.parts))
	for i, p := range r.parts {
		r.index[p.Key] = i
	}
}

// Len returns the number of released partitions.
func (r *Result[V]) Len() int { return len(r.parts) }

// Partitions returns a copy of the released partitions, sorted by key.
// With private partition selection, partitions with too few people are
// absent: absence says nothing reliable about a key.
func (r *Result[V]) Partitions() []Partition[V] {
	out := make([]Partition[V], len(r.parts))
	for i, p := range r.parts {
		p.Quantiles = slices.Clone(p.Quantiles)
		out[i] = p
	}
	return out
}

// Lookup returns the partition with key, and whether it was released.
func (r *Result[V]) Lookup(key string) (Partition[V], bool) {
	i, ok := r.index[key]
	if !ok {
		return Partition[V]{Key: key}, false
	}
	p := r.parts[i]
	p.Quantiles = slices.Clone(p.Quantiles)
	return p, true
}

// Metrics returns what was computed per partition.
func (r *Result[V]) Metrics() Metric { return r.metrics }

// Ranks returns the quantile ranks, if Quantiles was computed.
func (r *Result[V]) Ranks() []float64 { return slices.Clone(r.ranks) }

// Epsilon returns the ε the release spent.
func (r *Result[V]) Epsilon() float64 { return r.eps }

// Delta returns the δ the release spent.
func (r *Result[V]) Delta() float64 { return r.delta }

// Alpha returns the confidence intervals' α (each holds with probability
// at least 1-α).
func (r *Result[V]) Alpha() float64 { return r.alpha }

// Label returns the release's label, as recorded in the budget's ledger.
func (r *Result[V]) Label() string { return r.label }

// Private reports whether the result is differentially private: false when
// it was built with a test NoiseSource (package dptest).
func (r *Result[V]) Private() bool { return r.private }

// String summarizes the release in one line, saying plainly when it is not
// private.
func (r *Result[V]) String() string {
	return summary(r.label, r.metrics.String(), len(r.parts), r.public, r.eps, r.delta, r.private)
}

func summary(label, what string, n int, public bool, eps, delta float64, private bool) string {
	var b strings.Builder
	b.WriteString(strconv.Quote(label))
	b.WriteString(": ")
	b.WriteString(what)
	b.WriteString(" for ")
	b.WriteString(strconv.Itoa(n))
	if public {
		b.WriteString(" public partitions")
	} else {
		b.WriteString(" privately selected partitions")
	}
	b.WriteString(", ε=" + ftoa(eps) + " δ=" + ftoa(delta))
	if private {
		b.WriteString(", differentially private")
	} else {
		b.WriteString(", NOT PRIVATE: built with a test noise source")
	}
	return b.String()
}
