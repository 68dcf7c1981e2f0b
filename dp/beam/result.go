package dpbeam

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tact-go/tact/dp"
)

// Result is the release of an [Aggregate] job: what dp.Result holds for
// the same aggregation in process (partitions of dp.Partition, sorted by
// key, with the same estimates and intervals), with the same methods.
// Package dp's Result has no exported constructor nor decoder, so the
// release of a Beam job is this type. It is immutable and safe for
// concurrent use by multiple goroutines.
type Result[V dp.Value] struct {
	parts   []dp.Partition[V]
	index   map[string]int
	metrics dp.Metric
	ranks   []float64
	eps     float64
	delta   float64
	alpha   float64
	private bool
	public  bool
	label   string
}

func (r *Result[V]) finish() {
	slices.SortFunc(r.parts, func(a, b dp.Partition[V]) int { return strings.Compare(a.Key, b.Key) })
	r.index = make(map[string]int, len(r.parts))
	for i, p := range r.parts {
		r.index[p.Key] = i
	}
}

// Len returns the number of released partitions.
func (r *Result[V]) Len() int { return len(r.parts) }

// Partitions returns a copy of the released partitions, sorted by key.
func (r *Result[V]) Partitions() []dp.Partition[V] {
	out := make([]dp.Partition[V], len(r.parts))
	for i, p := range r.parts {
		p.Quantiles = slices.Clone(p.Quantiles)
		out[i] = p
	}
	return out
}

// Lookup returns the partition with key, and whether it was released.
func (r *Result[V]) Lookup(key string) (dp.Partition[V], bool) {
	i, ok := r.index[key]
	if !ok {
		return dp.Partition[V]{Key: key}, false
	}
	p := r.parts[i]
	p.Quantiles = slices.Clone(p.Quantiles)
	return p, true
}

// Metrics returns what was computed per partition.
func (r *Result[V]) Metrics() dp.Metric { return r.metrics }

// Ranks returns the quantile ranks, if Quantiles was computed.
func (r *Result[V]) Ranks() []float64 { return slices.Clone(r.ranks) }

// Epsilon returns the ε the release spent.
func (r *Result[V]) Epsilon() float64 { return r.eps }

// Delta returns the δ the release spent.
func (r *Result[V]) Delta() float64 { return r.delta }

// Alpha returns the confidence intervals' α.
func (r *Result[V]) Alpha() float64 { return r.alpha }

// Label returns the release's label, as recorded in the budget's ledger.
func (r *Result[V]) Label() string { return r.label }

// Private reports whether the result is differentially private: false when
// it was built in pbeam's no-noise test mode (dptest.Noise{}).
func (r *Result[V]) Private() bool { return r.private }

// String summarizes the release in one line, saying plainly when it is not
// private.
func (r *Result[V]) String() string {
	var b strings.Builder
	b.WriteString(strconv.Quote(r.label) + ": " + r.metrics.String() + " for " + strconv.Itoa(len(r.parts)))
	if r.public {
		b.WriteString(" public partitions")
	} else {
		b.WriteString(" privately selected partitions")
	}
	b.WriteString(", ε=" + ftoa(r.eps) + " δ=" + ftoa(r.delta))
	if r.private {
		b.WriteString(", differentially private, on Beam")
	} else {
		b.WriteString(", NOT PRIVATE: built in pbeam's no-noise test mode")
	}
	return b.String()
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

type estimateJSON struct {
	Value json.Number `json:"value"`
	Lower float64     `json:"lower"`
	Upper float64     `json:"upper"`
}

type partitionJSON struct {
	Key       string        `json:"key"`
	Count     *estimateJSON `json:"count,omitempty"`
	Sum       *estimateJSON `json:"sum,omitempty"`
	Mean      *estimateJSON `json:"mean,omitempty"`
	Quantiles []float64     `json:"quantiles,omitempty"`
}

type resultJSON struct {
	Label      string          `json:"label"`
	Metrics    string          `json:"metrics"`
	Ranks      []float64       `json:"ranks,omitempty"`
	Epsilon    float64         `json:"epsilon"`
	Delta      float64         `json:"delta"`
	Alpha      float64         `json:"alpha"`
	Private    bool            `json:"private"`
	Public     bool            `json:"public"`
	Partitions []partitionJSON `json:"partitions"`
}

func estimateOf[T dp.Value](e dp.Estimate[T]) *estimateJSON {
	var n json.Number
	switch v := any(e.Value).(type) {
	case int64:
		n = json.Number(strconv.FormatInt(v, 10))
	case float64:
		n = json.Number(ftoa(v))
	}
	return &estimateJSON{Value: n, Lower: e.Lower, Upper: e.Upper}
}

// MarshalJSON encodes the release: its parameters and every partition,
// with only the metrics it computed.
func (r Result[V]) MarshalJSON() ([]byte, error) {
	j := resultJSON{Label: r.label, Metrics: r.metrics.String(), Ranks: r.ranks, Epsilon: r.eps, Delta: r.delta,
		Alpha: r.alpha, Private: r.private, Public: r.public, Partitions: make([]partitionJSON, 0, len(r.parts))}
	for _, p := range r.parts {
		pj := partitionJSON{Key: p.Key}
		if r.metrics&dp.Count != 0 {
			pj.Count = estimateOf(p.Count)
		}
		if r.metrics&dp.Sum != 0 {
			pj.Sum = estimateOf(p.Sum)
		}
		if r.metrics&dp.Mean != 0 {
			pj.Mean = estimateOf(p.Mean)
		}
		if r.metrics&dp.Quantiles != 0 {
			pj.Quantiles = p.Quantiles
		}
		for _, e := range []*estimateJSON{pj.Count, pj.Sum, pj.Mean} {
			if e != nil && (math.IsNaN(e.Lower) || math.IsInf(e.Lower, 0) || math.IsNaN(e.Upper) || math.IsInf(e.Upper, 0)) {
				return nil, releaseErr("partition " + strconv.Quote(p.Key) + ": an interval that is not finite")
			}
		}
		j.Partitions = append(j.Partitions, pj)
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes what MarshalJSON writes, checking it as package
// dp checks the releases it decodes: ε, δ and alpha in range, partitions
// sorted and distinct, exactly the metrics declared, each value and
// interval finite (counts and int64 sums whole numbers; a noisy count or
// sum may lie below an interval clamped at 0, as in dp), quantiles
// non-decreasing, one per rank. Unknown fields are an error; errors wrap
// dp.ErrInvalidRelease.
func (r *Result[V]) UnmarshalJSON(b []byte) error {
	var j resultJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return releaseErr(err.Error())
	}
	if dec.More() {
		return releaseErr("trailing data")
	}
	m, ok := parseMetrics(j.Metrics)
	switch {
	case !ok:
		return releaseErr("unknown metrics " + strconv.Quote(j.Metrics))
	case !(j.Epsilon > 0 && j.Epsilon <= dp.MaxEpsilon) || !(j.Delta >= 0 && j.Delta < 1):
		return releaseErr("ε or δ out of range")
	case !(j.Alpha > 0 && j.Alpha < 1):
		return releaseErr("alpha out of range")
	case (m&dp.Quantiles != 0) != (len(j.Ranks) > 0):
		return releaseErr("ranks without quantiles, or quantiles without ranks")
	}
	for _, rk := range j.Ranks {
		if !(rk >= 0 && rk <= 1) {
			return releaseErr("a rank outside [0, 1]")
		}
	}
	out := Result[V]{metrics: m, ranks: j.Ranks, eps: j.Epsilon, delta: j.Delta, alpha: j.Alpha,
		private: j.Private, public: j.Public, label: j.Label, parts: make([]dp.Partition[V], 0, len(j.Partitions))}
	for i, pj := range j.Partitions {
		if i > 0 && j.Partitions[i-1].Key >= pj.Key {
			return releaseErr("partitions not sorted by key, or repeated")
		}
		bad := func(why string) error { return releaseErr("partition " + strconv.Quote(pj.Key) + ": " + why) }
		if (m&dp.Count != 0) != (pj.Count != nil) || (m&dp.Sum != 0) != (pj.Sum != nil) ||
			(m&dp.Mean != 0) != (pj.Mean != nil) || (m&dp.Quantiles != 0) != (pj.Quantiles != nil) {
			return bad("metrics other than those declared")
		}
		p := dp.Partition[V]{Key: pj.Key}
		var err error
		if pj.Count != nil {
			if p.Count, err = decodeEstimate[int64](pj.Count); err != nil {
				return bad("count: " + err.Error())
			}
		}
		if pj.Sum != nil {
			if p.Sum, err = decodeEstimate[V](pj.Sum); err != nil {
				return bad("sum: " + err.Error())
			}
		}
		if pj.Mean != nil {
			if p.Mean, err = decodeEstimate[float64](pj.Mean); err != nil {
				return bad("mean: " + err.Error())
			}
		}
		if pj.Quantiles != nil {
			if len(pj.Quantiles) != len(j.Ranks) {
				return bad("not one quantile per rank")
			}
			for k, q := range pj.Quantiles {
				if math.IsNaN(q) || math.IsInf(q, 0) || k > 0 && q < pj.Quantiles[k-1] {
					return bad("quantiles not finite and non-decreasing")
				}
			}
			p.Quantiles = pj.Quantiles
		}
		out.parts = append(out.parts, p)
	}
	out.finish()
	*r = out
	return nil
}

func decodeEstimate[T dp.Value](e *estimateJSON) (dp.Estimate[T], error) {
	var out dp.Estimate[T]
	var x float64
	switch any(out.Value).(type) {
	case int64:
		n, err := e.Value.Int64()
		if err != nil {
			return out, releaseErr("not a whole number")
		}
		out.Value, x = T(n), float64(n)
	default:
		f, err := e.Value.Float64()
		if err != nil {
			return out, releaseErr("not a number")
		}
		out.Value, x = T(f), f
	}
	if math.IsNaN(x) || math.IsInf(x, 0) || !(e.Lower <= e.Upper) || math.IsInf(e.Lower, 0) || math.IsInf(e.Upper, 0) {
		return out, releaseErr("a value or an interval not finite, or an empty interval")
	}
	out.Lower, out.Upper = e.Lower, e.Upper
	return out, nil
}

func parseMetrics(s string) (dp.Metric, bool) {
	var m dp.Metric
	for _, part := range strings.Split(s, "+") {
		switch part {
		case "count":
			m |= dp.Count
		case "sum":
			m |= dp.Sum
		case "mean":
			m |= dp.Mean
		case "quantiles":
			m |= dp.Quantiles
		default:
			return 0, false
		}
	}
	return m, m.String() == s
}

// releaseError is an invalid release document: it unwraps to
// dp.ErrInvalidRelease, as package dp's decoders' errors do.
type releaseError struct{ why string }

func releaseErr(why string) error { return &releaseError{why} }

func (e *releaseError) Error() string { return "dpbeam: invalid release: " + e.why }
func (e *releaseError) Unwrap() error { return dp.ErrInvalidRelease }
