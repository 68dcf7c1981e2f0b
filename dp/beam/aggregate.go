package dpbeam

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"reflect"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/google/differential-privacy/privacy-on-beam/v3/pbeam"
	"github.com/tact-go/tact/dp"
)

// AggregationJob is a grouped aggregation added to a [Pipeline] by
// [Aggregate]. Its Result is available once the pipeline has run.
type AggregationJob[V dp.Value] struct {
	file   string
	output beam.PCollection
	logger *slog.Logger
	res    *Result[V]
}

// Result returns the job's release, or [ErrNotRun] before the pipeline
// ran successfully.
func (j *AggregationJob[V]) Result() (*Result[V], error) {
	if j.res == nil {
		return nil, ErrNotRun
	}
	return j.res, nil
}

// Output returns the release as a PCollection of one string, its JSON
// document, for a pipeline that writes it somewhere else too.
func (j *AggregationJob[V]) Output() beam.PCollection { return j.output }

// Path returns where the pipeline writes the release's JSON document.
func (j *AggregationJob[V]) Path() string { return j.file }

func (j *AggregationJob[V]) path() string { return j.file }

func (j *AggregationJob[V]) load(data []byte) error {
	r := new(Result[V])
	if err := json.Unmarshal(data, r); err != nil {
		return err
	}
	j.res = r
	logRelease(j.logger, "aggregation", r.label, r.eps, r.delta, len(r.parts), r.private)
	return nil
}

// aggPlan is how an aggregation splits its (ε, δ): exactly as package dp
// does (see "Composition" in its doc), so that each noisy value has the
// noise it has in dp.
type aggPlan struct {
	selEps, selDel     float64
	count, sum, norm   mech
	quantEps, quantDel float64
}

func planAggregation[V dp.Value](p dp.Params, s dp.Spec[V]) aggPlan {
	m := s.Metrics
	private := p.Partitions == nil
	// One share each for: selection, the count (also the mean's
	// denominator), the sum, the mean's normalized sum, the quantiles.
	var weights []float64
	for _, on := range []bool{private, m&(dp.Count|dp.Mean) != 0, m&dp.Sum != 0, m&dp.Mean != 0, m&dp.Quantiles != 0} {
		w := 0.0
		if on {
			w = 1
		}
		weights = append(weights, w)
	}
	eps := splitDown(p.Epsilon, weights...)
	dw := make([]float64, len(weights))
	if p.Noise == dp.Gaussian {
		copy(dw, weights)
		if private {
			dw[0] = 0
			for _, w := range weights[1:] {
				dw[0] += w
			}
		}
	} else {
		dw[0] = weights[0]
	}
	del := make([]float64, len(dw))
	if slices.ContainsFunc(dw, func(w float64) bool { return w > 0 }) {
		del = splitDown(p.Delta, dw...)
	}
	l0, linf := int64(p.MaxPartitions), int64(p.MaxContributions)
	lo, hi := float64(s.Lower), float64(s.Upper)
	maxAbs := math.Max(math.Abs(lo), math.Abs(hi))
	sumLInf, sumLInfInt := maxAbs*float64(linf), int64(0)
	if _, isInt := any(s.Lower).(int64); isInt && m&dp.Sum != 0 {
		l, h := int64(s.Lower), int64(s.Upper)
		// pbeam takes the bounds as float64 and converts them back.
		sumLInf = float64(max(h, -l, l, -h) * linf)
		sumLInfInt = int64(sumLInf)
	}
	pl := aggPlan{
		selEps: eps[0], selDel: del[0],
		count:    newMech(p.Noise, eps[1], del[1], l0, float64(linf), linf),
		sum:      newMech(p.Noise, eps[2], del[2], l0, sumLInf, sumLInfInt),
		norm:     newMech(p.Noise, eps[3], del[3], l0, (hi-lo)/2*float64(linf), 0),
		quantEps: eps[4], quantDel: del[4],
	}
	if p.Noise == dp.Laplace {
		pl.quantDel = 0
	}
	return pl
}

// Aggregate adds to p the grouped aggregation that dp.NewAggregation(params,
// spec) makes, over records, a PCollection of [Record][V]: the same
// validation (a *dp.ParamError), the same spend (what the dp.Aggregation's
// Epsilon and Delta report, taken from p's budget now), the same bounding,
// split of the budget, noise, partition selection and confidence
// intervals; the differences are listed in the package doc. A count is
// Aggregate[int64] with Spec{Metrics: dp.Count}, as dp.NewCounter is.
//
// params.NoiseSource must be nil or dptest.Noise{} (pbeam's no-noise test
// mode); params.Rand and ExpectedPersons are not used (Beam workers draw
// their own randomness, from the operating system).
func Aggregate[V dp.Value](p *Pipeline, records beam.PCollection, params dp.Params, spec dp.Spec[V]) (*AggregationJob[V], error) {
	if p.ran {
		return nil, dp.ErrReleased
	}
	if err := checkInput(records, reflect.TypeOf(Record[V]{})); err != nil {
		return nil, p.refuse(err)
	}
	mode, err := testMode(params.NoiseSource)
	if err != nil {
		return nil, p.refuse(err)
	}
	check := params
	check.ExpectedPersons, check.Logger = forValidation(params.ExpectedPersons), nil
	agg, err := dp.NewAggregation(check, spec)
	if err != nil {
		return nil, p.refuse(err)
	}
	pl := planAggregation(params, spec)
	private := params.Partitions == nil
	if private {
		if err := checkSelection(pl.selEps, pl.selDel, int64(params.MaxPartitions)); err != nil {
			return nil, p.refuse(err)
		}
	}
	label := params.Label
	if label == "" {
		label = "dp release"
	}
	file, err := p.add(label, agg.Epsilon(), agg.Delta())
	if err != nil {
		return nil, err
	}

	s := p.s.Scope("dpbeam.Aggregate")
	m := spec.Metrics
	lo, hi := float64(spec.Lower), float64(spec.Upper)
	l0, linf := int64(params.MaxPartitions), int64(params.MaxContributions)
	values := m&(dp.Sum|dp.Mean|dp.Quantiles) != 0
	var public []string
	if !private {
		public = dedupe(params.Partitions)
	}
	keyed := beam.ParDo(s, &prepFn[V]{Lower: spec.Lower, Upper: spec.Upper, Values: values, Public: public}, records)
	b := beam.ParDo(s, &boundFn{MaxPartitions: params.MaxPartitions, MaxContributions: params.MaxContributions,
		Mid: lo + (hi-lo)/2}, beam.GroupByKey(s, keyed))

	makePrivate := func(eps, delta, selEps, selDel float64, pre int64) (pbeam.PrivatePCollection, error) {
		ps, err := pbeam.NewPrivacySpec(pbeam.PrivacySpecParams{AggregationEpsilon: eps, AggregationDelta: delta,
			PartitionSelectionEpsilon: selEps, PartitionSelectionDelta: selDel, PreThreshold: pre, TestMode: mode})
		if err != nil {
			return pbeam.PrivatePCollection{}, err
		}
		return pbeam.MakePrivate(s, b, ps), nil
	}
	var parts any = public
	if private {
		pre := int64(0)
		if params.MinPersons > 1 {
			pre = int64(params.MinPersons)
		}
		pc, err := makePrivate(0, 0, pl.selEps, pl.selDel, pre)
		if err != nil {
			return nil, p.refuse(err)
		}
		parts = pbeam.SelectPartitions(s, pbeam.ParDo(s, boundedKey, pc),
			pbeam.PartitionSelectionParams{Epsilon: pl.selEps, Delta: pl.selDel, MaxPartitionsContributed: l0})
	}
	cells := []beam.PCollection{beam.Create(s, cell{Kind: cellHeader})}
	nk := pbeamNoise(params.Noise)
	if m&(dp.Count|dp.Mean) != 0 {
		pc, err := makePrivate(pl.count.Epsilon, pl.count.Delta, 0, 0, 0)
		if err != nil {
			return nil, p.refuse(err)
		}
		c := pbeam.Count(s, pbeam.ParDo(s, boundedKey, pc), pbeam.CountParams{NoiseKind: nk,
			AggregationEpsilon: pl.count.Epsilon, AggregationDelta: pl.count.Delta, PublicPartitions: parts,
			MaxPartitionsContributed: l0, MaxValue: linf, AllowNegativeOutputs: true})
		cells = append(cells, beam.ParDo(s, countCell, c))
	}
	if m&dp.Sum != 0 {
		pc, err := makePrivate(pl.sum.Epsilon, pl.sum.Delta, 0, 0, 0)
		if err != nil {
			return nil, p.refuse(err)
		}
		view, toCell := any(boundedFloat), any(sumFloatCell)
		if pl.sum.LInfInt > 0 {
			view, toCell = boundedInt, sumIntCell
		}
		// The bounds of a person's total in a partition: symmetric, so that
		// pbeam clamps no noisy sum to 0 (dp does not), with the sensitivity
		// dp calibrates to; bounding has already kept every total within.
		sum := pbeam.SumPerKey(s, pbeam.ParDo(s, view, pc), pbeam.SumParams{NoiseKind: nk,
			AggregationEpsilon: pl.sum.Epsilon, AggregationDelta: pl.sum.Delta, PublicPartitions: parts,
			MaxPartitionsContributed: l0, MinValue: -pl.sum.LInf, MaxValue: pl.sum.LInf})
		cells = append(cells, beam.ParDo(s, toCell, sum))
	}
	if m&dp.Mean != 0 {
		pc, err := makePrivate(pl.norm.Epsilon, pl.norm.Delta, 0, 0, 0)
		if err != nil {
			return nil, p.refuse(err)
		}
		norm := pbeam.SumPerKey(s, pbeam.ParDo(s, boundedNorm, pc), pbeam.SumParams{NoiseKind: nk,
			AggregationEpsilon: pl.norm.Epsilon, AggregationDelta: pl.norm.Delta, PublicPartitions: parts,
			MaxPartitionsContributed: l0, MinValue: -pl.norm.LInf, MaxValue: pl.norm.LInf})
		cells = append(cells, beam.ParDo(s, normCell, norm))
	}
	if m&dp.Quantiles != 0 {
		pc, err := makePrivate(pl.quantEps, pl.quantDel, 0, 0, 0)
		if err != nil {
			return nil, p.refuse(err)
		}
		q := pbeam.QuantilesPerKey(s, pbeam.ParDo(s, boundedFloat, pc), pbeam.QuantilesParams{NoiseKind: nk,
			AggregationEpsilon: pl.quantEps, AggregationDelta: pl.quantDel, PublicPartitions: parts,
			MaxPartitionsContributed: l0, MaxContributionsPerPartition: linf, MinValue: lo, MaxValue: hi,
			Ranks: slices.Clone(spec.Ranks)})
		cells = append(cells, beam.ParDo(s, quantCell, q))
	}
	alpha := params.Alpha
	if alpha == 0 {
		alpha = 0.05
	}
	meta := aggMeta{Label: label, Metrics: m, Ranks: slices.Clone(spec.Ranks), Epsilon: agg.Epsilon(), Delta: agg.Delta(),
		Alpha: alpha, Private: mode == pbeam.TestModeDisabled, Public: !private, Lower: lo, Upper: hi,
		Count: pl.count, Sum: pl.sum, Norm: pl.norm}
	all := beam.GroupByKey(s, beam.AddFixedKey(s, beam.Flatten(s, cells...)))
	j := &AggregationJob[V]{file: file, logger: params.Logger}
	j.output = beam.ParDo(s, &assembleAggFn[V]{Meta: meta, Path: file}, all)
	p.jobs = append(p.jobs, j)
	return j, nil
}

// forValidation is the ExpectedPersons of the dp accumulator a job builds
// only to validate its parameters: n itself when dp refuses it, so that
// dp says what is wrong, and otherwise 0, so that no table is allocated.
func forValidation(n int) int {
	if n < 0 || n > 1<<30 {
		return n
	}
	return 0
}

// checkInput reports whether col holds elements of type want.
func checkInput(col beam.PCollection, want reflect.Type) error {
	if !col.IsValid() {
		return &inputError{want: want}
	}
	if got := col.Type().Type(); got != want {
		return &inputError{want: want, got: got}
	}
	return nil
}

// inputError is an [ErrInput].
type inputError struct{ want, got reflect.Type }

func (e *inputError) Error() string {
	got := "an invalid PCollection"
	if e.got != nil {
		got = "a PCollection of " + e.got.String()
	}
	return "dpbeam: wrong input type: want a PCollection of " + e.want.String() + ", got " + got
}

func (e *inputError) Unwrap() error { return ErrInput }

// dedupe returns keys without duplicates, in first-seen order (dp's).
func dedupe(keys []string) []string {
	seen := make(map[string]struct{}, len(keys))
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if _, ok := seen[k]; !ok {
			seen[k] = struct{}{}
			out = append(out, k)
		}
	}
	return out
}

// cell is one noisy value of one partition on its way to the release
// document (or, with Kind cellHeader, the element that makes the document
// exist when no partition is released).
type cell struct {
	Key   string
	Kind  uint8
	Int   int64
	Float float64
	Qs    []float64
}

// Kinds of cells.
const (
	cellHeader uint8 = iota
	cellCount
	cellSum
	cellNorm
	cellQuantiles
	cellPersons // co-occurrence
	cellItem
	cellPair
	cellTrend
)

func countCell(k string, n int64) cell      { return cell{Key: k, Kind: cellCount, Int: n} }
func sumIntCell(k string, n int64) cell     { return cell{Key: k, Kind: cellSum, Int: n} }
func sumFloatCell(k string, x float64) cell { return cell{Key: k, Kind: cellSum, Float: x} }
func normCell(k string, x float64) cell     { return cell{Key: k, Kind: cellNorm, Float: x} }
func quantCell(k string, qs []float64) cell { return cell{Key: k, Kind: cellQuantiles, Qs: qs} }
func itemCountCell(k string, n int64) cell  { return cell{Key: k, Kind: cellItem, Float: float64(n)} }
func itemSumCell(k string, x float64) cell  { return cell{Key: k, Kind: cellItem, Float: x} }
func pairCountCell(k string, n int64) cell  { return cell{Key: k, Kind: cellPair, Float: float64(n)} }
func pairSumCell(k string, x float64) cell  { return cell{Key: k, Kind: cellPair, Float: x} }
func personsCell(_ string, n int64) cell    { return cell{Kind: cellPersons, Int: n} }
func trendCell(k string, n int64) cell      { return cell{Key: k, Kind: cellTrend, Int: n} }

// aggMeta is what the assembly of an aggregation's release needs.
type aggMeta struct {
	Label                 string
	Metrics               dp.Metric
	Ranks                 []float64
	Epsilon, Delta, Alpha float64
	Private, Public       bool
	Lower, Upper          float64
	Count, Sum, Norm      mech
}

// assembleAggFn builds the release of an aggregation from its noisy
// values, with dp's estimators and confidence intervals, writes it to
// Path and emits it.
type assembleAggFn[V dp.Value] struct {
	Meta aggMeta `json:"meta"`
	Path string  `json:"path"`
}

func (f *assembleAggFn[V]) ProcessElement(ctx context.Context, _ int, cells func(*cell) bool, emit func(string)) error {
	byKey := make(map[string]*aggCells)
	var c cell
	for cells(&c) {
		if c.Kind == cellHeader {
			continue
		}
		a := byKey[c.Key]
		if a == nil {
			a = new(aggCells)
			byKey[c.Key] = a
		}
		switch c.Kind {
		case cellCount:
			a.count = c.Int
		case cellSum:
			a.sumInt, a.sumFloat = c.Int, c.Float
		case cellNorm:
			a.norm = c.Float
		case cellQuantiles:
			a.qs = c.Qs
		}
	}
	r, err := f.result(byKey)
	if err != nil {
		return err
	}
	doc, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := writeFile(ctx, f.Path, doc); err != nil {
		return err
	}
	emit(string(doc))
	return nil
}

type aggCells struct {
	count, sumInt  int64
	sumFloat, norm float64
	qs             []float64
}

func (f *assembleAggFn[V]) result(byKey map[string]*aggCells) (*Result[V], error) {
	mt := &f.Meta
	r := &Result[V]{metrics: mt.Metrics, ranks: mt.Ranks, eps: mt.Epsilon, delta: mt.Delta, alpha: mt.Alpha,
		private: mt.Private, public: mt.Public, label: mt.Label}
	m, alpha := mt.Metrics, mt.Alpha
	for key, a := range byKey {
		part := dp.Partition[V]{Key: key}
		if m&dp.Count != 0 {
			lo, hi, err := mt.Count.ciInt64(a.count, alpha)
			if err != nil {
				return nil, err
			}
			part.Count = dp.Estimate[int64]{Value: a.count, Lower: math.Max(0, lo), Upper: math.Max(0, hi)}
		}
		if m&dp.Sum != 0 {
			var e dp.Estimate[V]
			var err error
			if mt.Sum.LInfInt > 0 {
				e.Value = V(a.sumInt)
				e.Lower, e.Upper, err = mt.Sum.ciInt64(a.sumInt, alpha)
			} else {
				e.Value = V(a.sumFloat)
				e.Lower, e.Upper, err = mt.Sum.ciFloat64(a.sumFloat, alpha)
			}
			if err != nil {
				return nil, err
			}
			if mt.Lower >= 0 {
				e.Lower, e.Upper = math.Max(0, e.Lower), math.Max(0, e.Upper)
			}
			if mt.Upper <= 0 {
				e.Lower, e.Upper = math.Min(0, e.Lower), math.Min(0, e.Upper)
			}
			part.Sum = e
		}
		if m&dp.Mean != 0 {
			e, err := f.mean(a.norm, a.count)
			if err != nil {
				return nil, err
			}
			part.Mean = e
		}
		if m&dp.Quantiles != 0 {
			part.Quantiles = a.qs
			if len(part.Quantiles) != len(mt.Ranks) {
				part.Quantiles = make([]float64, len(mt.Ranks)) // a public partition pbeam left out
				for i := range part.Quantiles {
					part.Quantiles[i] = mt.Lower
				}
			}
		}
		r.parts = append(r.parts, part)
	}
	r.finish()
	return r, nil
}

// mean is dp's estimator of the mean: the noisy normalized sum over the
// noisy count (at least 1), plus the midpoint, clamped to the bounds, with
// the confidence interval derived from those of numerator and denominator
// with the split of alpha that gives the tightest interval.
func (f *assembleAggFn[V]) mean(num float64, noisyCount int64) (dp.Estimate[float64], error) {
	mt := &f.Meta
	lo, hi, alpha := mt.Lower, mt.Upper, mt.Alpha
	mid := lo + (hi-lo)/2
	den := math.Max(1, float64(noisyCount))
	e := dp.Estimate[float64]{Value: clamp(num/den+mid, lo, hi)}
	best := math.Inf(1)
	const steps = 100
	for i := 1; i < steps; i++ {
		alphaNum := float64(i) / steps * alpha
		alphaDen := (alpha - alphaNum) / (1 - alphaNum)
		nlo, nhi, err := mt.Norm.ciFloat64(num, alphaNum)
		if err != nil {
			return e, err
		}
		dlo, dhi, err := mt.Count.ciInt64(noisyCount, alphaDen)
		if err != nil {
			return e, err
		}
		dlo, dhi = math.Max(dlo, 1), math.Max(dhi, 1)
		var mlo, mhi float64
		if nlo >= 0 {
			mlo = nlo / dhi
		} else {
			mlo = nlo / dlo
		}
		if nhi >= 0 {
			mhi = nhi / dlo
		} else {
			mhi = nhi / dhi
		}
		mlo, mhi = clamp(mlo+mid, lo, hi), clamp(mhi+mid, lo, hi)
		if mhi-mlo < best {
			best, e.Lower, e.Upper = mhi-mlo, mlo, mhi
		}
	}
	return e, nil
}

func clamp(x, lo, hi float64) float64 { return math.Min(math.Max(x, lo), hi) }
