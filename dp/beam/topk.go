package dpbeam

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"reflect"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/google/differential-privacy/privacy-on-beam/v3/pbeam"
	"github.com/tact-go/tact/dp"
)

// Event is one person-level event of a trending job ([TopK]): Person
// interacted with Item in Segment, as dp.TopK.Add takes it.
type Event struct {
	Person  string
	Segment string
	Item    string
}

// TopKJob is a trending job added to a [Pipeline] by [TopK]. Its Result is
// available once the pipeline has run.
type TopKJob struct {
	file   string
	label  string
	output beam.PCollection
	logger *slog.Logger
	res    *dp.Trending
}

// Result returns the job's release, a *dp.Trending as package dp's
// TopK.Release returns it, or [ErrNotRun] before the pipeline ran
// successfully.
func (j *TopKJob) Result() (*dp.Trending, error) {
	if j.res == nil {
		return nil, ErrNotRun
	}
	return j.res, nil
}

// Output returns the release as a PCollection of one string, its JSON
// document (dp.Trending's encoding).
func (j *TopKJob) Output() beam.PCollection { return j.output }

// Path returns where the pipeline writes the release's JSON document.
func (j *TopKJob) Path() string { return j.file }

func (j *TopKJob) path() string { return j.file }

func (j *TopKJob) load(data []byte) error {
	t := new(dp.Trending)
	if err := json.Unmarshal(data, t); err != nil { // dp's decoder checks the release
		return err
	}
	j.res = t
	n := 0
	for _, items := range t.All() {
		n += len(items)
	}
	logRelease(j.logger, "topk", j.label, t.Epsilon(), t.Delta(), n, t.Private())
	return nil
}

// TopK adds to p the trending job that dp.NewTopK(k, params) makes, over
// events, a PCollection of [Event]: the same validation and spend (ε and
// δ of params, from p's budget now), and the same release, a
// *dp.Trending: each person counts once per (segment, item) and in at most
// MaxPartitions of them, sampled uniformly (pbeam.DistinctPrivacyID does
// this bounding), and a pair is released when its noisy count of persons
// clears Google's threshold, with dp's split of δ between noise and
// threshold and MinPersons as pbeam's pre-threshold. Params.Partitions is
// an allow-list of items, as in dp. An event with an empty item is
// rejected: dp's decoder refuses a release that names one.
func TopK(p *Pipeline, events beam.PCollection, k int, params dp.Params) (*TopKJob, error) {
	if p.ran {
		return nil, dp.ErrReleased
	}
	if err := checkInput(events, reflect.TypeOf(Event{})); err != nil {
		return nil, p.refuse(err)
	}
	mode, err := testMode(params.NoiseSource)
	if err != nil {
		return nil, p.refuse(err)
	}
	check := params
	check.ExpectedPersons, check.Logger = forValidation(params.ExpectedPersons), nil
	if _, err := dp.NewTopK(k, check); err != nil {
		return nil, p.refuse(err)
	}
	pre := int64(max(1, params.MinPersons))
	th, err := newThresholding(params.Noise, params.Epsilon, params.Delta, int64(params.MaxPartitions), pre)
	if err != nil {
		return nil, p.refuse(err)
	}
	label := params.Label
	if label == "" {
		label = "dp trending"
	}
	file, err := p.add(label, params.Epsilon, params.Delta)
	if err != nil {
		return nil, err
	}

	s := p.s.Scope("dpbeam.TopK")
	var allow []string
	if params.Partitions != nil {
		allow = dedupe(params.Partitions)
	}
	kv := beam.ParDo(s, &trendPrepFn{Allow: allow}, events)
	ps, err := pbeam.NewPrivacySpec(pbeam.PrivacySpecParams{AggregationEpsilon: params.Epsilon,
		AggregationDelta: th.m.Delta, PartitionSelectionDelta: th.thresholdDelta,
		PreThreshold: preThreshold(pre), TestMode: mode})
	if err != nil {
		return nil, p.refuse(err)
	}
	counts := pbeam.DistinctPrivacyID(s, pbeam.MakePrivate(s, kv, ps), pbeam.DistinctPrivacyIDParams{
		NoiseKind: pbeamNoise(params.Noise), AggregationEpsilon: params.Epsilon, AggregationDelta: th.m.Delta,
		PartitionSelectionDelta: th.thresholdDelta, MaxPartitionsContributed: int64(params.MaxPartitions)})
	alpha := params.Alpha
	if alpha == 0 {
		alpha = 0.05
	}
	meta := trendMeta{Label: label, K: k, Epsilon: params.Epsilon, Delta: params.Delta, Alpha: alpha,
		Threshold: th.Threshold, Private: mode == pbeam.TestModeDisabled, M: th.m}
	cells := beam.Flatten(s, beam.Create(s, cell{Kind: cellHeader}), beam.ParDo(s, trendCell, counts))
	j := &TopKJob{file: file, label: label, logger: params.Logger}
	j.output = beam.ParDo(s, &assembleTrendFn{Meta: meta, Path: file}, beam.GroupByKey(s, beam.AddFixedKey(s, cells)))
	p.jobs = append(p.jobs, j)
	return j, nil
}

// preThreshold is pbeam's name for MinPersons: 0 for none.
func preThreshold(pre int64) int64 {
	if pre <= 1 {
		return 0
	}
	return pre
}

// trendPrepFn keys events by person as dp.TopK.Add accepts them.
type trendPrepFn struct {
	Allow    []string `json:"allow"`
	allow    map[string]struct{}
	rejected beam.Counter
}

func (f *trendPrepFn) Setup() {
	f.rejected = beam.NewCounter("dpbeam", "rejected")
	if f.Allow != nil {
		f.allow = make(map[string]struct{}, len(f.Allow))
		for _, it := range f.Allow {
			f.allow[it] = struct{}{}
		}
	}
}

func (f *trendPrepFn) ProcessElement(ctx context.Context, e Event, emit func(string, string)) {
	if e.Person == "" || e.Item == "" {
		f.rejected.Inc(ctx, 1)
		return
	}
	if f.allow != nil {
		if _, ok := f.allow[e.Item]; !ok {
			return
		}
	}
	emit(e.Person, joinKey(e.Segment, e.Item))
}

// trendMeta is what the assembly of a trending release needs.
type trendMeta struct {
	Label                 string
	K                     int
	Epsilon, Delta, Alpha float64
	Threshold             int64
	Private               bool
	M                     mech
}

// trendingJSON is dp.Trending's encoding.
type trendingJSON struct {
	Label     string                 `json:"label"`
	K         int                    `json:"k"`
	Epsilon   float64                `json:"epsilon"`
	Delta     float64                `json:"delta"`
	Alpha     float64                `json:"alpha"`
	Threshold int64                  `json:"threshold"`
	Private   bool                   `json:"private"`
	Segments  map[string][]dp.Ranked `json:"segments"`
}

// assembleTrendFn ranks the released counts per segment as dp.TopK does,
// writes the release to Path and emits it.
type assembleTrendFn struct {
	Meta trendMeta `json:"meta"`
	Path string    `json:"path"`
}

func (f *assembleTrendFn) ProcessElement(ctx context.Context, _ int, cells func(*cell) bool, emit func(string)) error {
	mt := &f.Meta
	out := trendingJSON{Label: mt.Label, K: mt.K, Epsilon: mt.Epsilon, Delta: mt.Delta, Alpha: mt.Alpha,
		Threshold: mt.Threshold, Private: mt.Private, Segments: make(map[string][]dp.Ranked)}
	var c cell
	for cells(&c) {
		if c.Kind != cellTrend {
			continue
		}
		seg, item, ok := splitKey(c.Key)
		if !ok {
			continue // not a key of ours: cannot happen
		}
		lo, hi, err := mt.M.ciInt64(c.Int, mt.Alpha)
		if err != nil {
			return err
		}
		out.Segments[seg] = append(out.Segments[seg], dp.Ranked{Item: item, Count: c.Int, Lower: math.Max(0, lo), Upper: math.Max(0, hi)})
	}
	for seg, items := range out.Segments {
		slices.SortFunc(items, func(a, b dp.Ranked) int {
			return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Item, b.Item))
		})
		out.Segments[seg] = items[:min(len(items), mt.K)]
	}
	doc, err := json.Marshal(out)
	if err != nil {
		return err
	}
	if err := writeFile(ctx, f.Path, doc); err != nil {
		return err
	}
	emit(string(doc))
	return nil
}
