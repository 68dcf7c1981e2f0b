package dpbeam_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/google/differential-privacy/privacy-on-beam/v3/pbeam/pbeamtest"
	"github.com/tact-go/tact/dp"
	dpbeam "github.com/tact-go/tact/dp/beam"
	"github.com/tact-go/tact/dp/dptest"
)

func TestMain(m *testing.M) { ptest.Main(m) }

// The equivalence tests run each job twice on the same synthetic data: in
// process with dp and dptest.Noise{}, and on Beam (prism) with pbeam's
// no-noise test mode, and require the same release. The data are chosen so
// that contribution bounding keeps every record (no person exceeds
// MaxPartitions, MaxContributions, MaxItems or MaxPairs), which makes the
// bounded data, and so the releases, deterministic; values outside the
// bounds and invalid records are included, because clamping and rejection
// are deterministic too. Exact integers must be equal; float64 sums are
// compared to 1e-9 relative (the summation order differs), and quantiles
// to pbeamtest.QuantilesTolerance (pbeam's quantile tree is approximate
// even without noise) on data whose quantiles are not interpolated.

func newPipeline(t *testing.T) *dpbeam.Pipeline {
	t.Helper()
	p, err := dpbeam.NewPipeline(t.TempDir(), 100, 0.5, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func run(t *testing.T, p *dpbeam.Pipeline) {
	t.Helper()
	if err := p.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

func budget(t *testing.T) *dp.Budget {
	t.Helper()
	b, err := dp.NewBudget(100, 0.5, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// records returns records where person i contributes to at most l0
// partitions, at most linf records to each, with values from [-2·hi, 2·hi]
// (some clamped), plus records that dp rejects or ignores.
func records[V dp.Value](seed uint64, persons, keys, l0, linf int, hi float64) []dpbeam.Record[V] {
	r := rand.New(rand.NewPCG(seed, 1))
	var out []dpbeam.Record[V]
	for i := range persons {
		person := fmt.Sprintf("p%03d", i)
		ks := r.Perm(keys)[:1+r.IntN(l0)]
		for _, k := range ks {
			for range 1 + r.IntN(linf) {
				v := (r.Float64()*4 - 2) * hi
				if _, isInt := any(V(0)).(int64); isInt {
					v = math.Round(v)
				}
				out = append(out, dpbeam.Record[V]{Person: person, Key: fmt.Sprintf("k%02d", k), Value: V(v)})
			}
		}
	}
	out = append(out, dpbeam.Record[V]{Person: "", Key: "k00", Value: 1})
	if _, isInt := any(V(0)).(int64); !isInt {
		out = append(out, dpbeam.Record[V]{Person: "p000", Key: "k00", Value: V(math.NaN())})
	}
	return out
}

func releaseDP[V dp.Value](t *testing.T, params dp.Params, spec dp.Spec[V], recs []dpbeam.Record[V]) *dp.Result[V] {
	t.Helper()
	params.NoiseSource = dptest.Noise{}
	a, err := dp.NewAggregation(params, spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		a.Add(r.Person, r.Key, r.Value)
	}
	res, err := a.Release(context.Background(), budget(t))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func releaseBeam[V dp.Value](t *testing.T, params dp.Params, spec dp.Spec[V], recs []dpbeam.Record[V]) *dpbeam.Result[V] {
	t.Helper()
	params.NoiseSource = dptest.Noise{}
	p := newPipeline(t)
	j, err := dpbeam.Aggregate(p, beam.CreateList(p.Scope(), recs), params, spec)
	if err != nil {
		t.Fatal(err)
	}
	run(t, p)
	res, err := j.Result()
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func near(a, b, rel float64) bool {
	return a == b || math.Abs(a-b) <= rel*math.Max(math.Abs(a), math.Abs(b))
}

func sameEstimate[T dp.Value](t *testing.T, what string, got, want dp.Estimate[T], rel float64) {
	t.Helper()
	if !near(float64(got.Value), float64(want.Value), rel) || !near(got.Lower, want.Lower, rel) || !near(got.Upper, want.Upper, rel) {
		t.Errorf("%s: Beam %+v, dp %+v", what, got, want)
	}
}

func compareResults[V dp.Value](t *testing.T, got *dpbeam.Result[V], want *dp.Result[V], quantTol float64) {
	t.Helper()
	if got.Len() != want.Len() || got.Len() == 0 {
		t.Fatalf("Beam released %d partitions, dp %d", got.Len(), want.Len())
	}
	if got.Epsilon() != want.Epsilon() || got.Delta() != want.Delta() || got.Alpha() != want.Alpha() ||
		got.Metrics() != want.Metrics() || got.Label() != want.Label() || got.Private() || want.Private() {
		t.Errorf("Beam %v, dp %v", got, want)
	}
	rel := 0.0
	if _, isInt := any(V(0)).(int64); !isInt {
		rel = 1e-9
	}
	for i, w := range want.Partitions() {
		g := got.Partitions()[i]
		if g.Key != w.Key {
			t.Fatalf("partition %d: Beam %q, dp %q", i, g.Key, w.Key)
		}
		m := want.Metrics()
		if m&dp.Count != 0 {
			sameEstimate(t, w.Key+" count", g.Count, w.Count, 0)
		}
		if m&dp.Sum != 0 {
			sameEstimate(t, w.Key+" sum", g.Sum, w.Sum, rel)
		}
		if m&dp.Mean != 0 {
			sameEstimate(t, w.Key+" mean", g.Mean, w.Mean, 1e-9)
		}
		for k := range w.Quantiles {
			if math.Abs(g.Quantiles[k]-w.Quantiles[k]) > quantTol {
				t.Errorf("%s quantile %v: Beam %v, dp %v", w.Key, want.Ranks()[k], g.Quantiles[k], w.Quantiles[k])
			}
		}
	}
}

func TestAggregateEquivalence(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reason string
		params dp.Params
		spec   dp.Spec[float64]
	}{{
		name:   "count sum mean, private partitions, Laplace",
		reason: "one selection shared by the metrics, the mean from the shared count",
		params: dp.Params{Epsilon: 1, Delta: 1e-5, MaxPartitions: 3, MaxContributions: 2},
		spec:   dp.Spec[float64]{Metrics: dp.Count | dp.Sum | dp.Mean, Lower: -1, Upper: 4},
	}, {
		name:   "sum and mean, public partitions, Gaussian",
		reason: "public partitions, including keys with no data and keys outside them; δ split over components",
		params: dp.Params{Epsilon: 2, Delta: 1e-6, MaxPartitions: 3, MaxContributions: 2, Noise: dp.Gaussian,
			Partitions: []string{"k01", "k03", "k05", "k99", "k03"}, Label: "public", Alpha: 0.1},
		spec: dp.Spec[float64]{Metrics: dp.Sum | dp.Mean, Lower: 0.5, Upper: 3},
	}, {
		name:   "count alone, L0 above 3",
		reason: "Google's Gaussian-thresholded selection for L0 > 3",
		params: dp.Params{Epsilon: 1, Delta: 1e-5, MaxPartitions: 5, MaxContributions: 3},
		spec:   dp.Spec[float64]{Metrics: dp.Count},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			recs := records[float64](1, 120, 12, tc.params.MaxPartitions, tc.params.MaxContributions, tc.spec.Upper)
			compareResults(t, releaseBeam(t, tc.params, tc.spec, recs), releaseDP(t, tc.params, tc.spec, recs), 0)
		})
	}
}

func TestAggregateEquivalenceInt64(t *testing.T) {
	params := dp.Params{Epsilon: 1, Delta: 1e-5, MaxPartitions: 2, MaxContributions: 3}
	spec := dp.Spec[int64]{Metrics: dp.Count | dp.Sum, Lower: -2, Upper: 7}
	recs := records[int64](2, 80, 6, params.MaxPartitions, params.MaxContributions, 7)
	compareResults(t, releaseBeam(t, params, spec, recs), releaseDP(t, params, spec, recs), 0)
}

// TestAggregateEquivalenceQuantiles uses partitions of two values, each on
// half the records, and ranks that fall inside either half: the quantiles
// are the values themselves, not interpolations (dp interpolates, pbeam's
// tree does not), and pbeam's are within its stated tolerance of them.
func TestAggregateEquivalenceQuantiles(t *testing.T) {
	params := dp.Params{Epsilon: 1, Delta: 1e-5, MaxPartitions: 2, MaxContributions: 1}
	spec := dp.Spec[float64]{Metrics: dp.Quantiles | dp.Count, Lower: 0, Upper: 10, Ranks: []float64{0.2, 0.8}}
	var recs []dpbeam.Record[float64]
	for k := range 4 {
		for i := range 20 {
			v := float64(k + 1)
			if i%2 == 1 {
				v += 4.5
			}
			recs = append(recs, dpbeam.Record[float64]{Person: fmt.Sprintf("p%d-%02d", k, i), Key: fmt.Sprintf("k%d", k), Value: v})
		}
	}
	want := releaseDP(t, params, spec, recs)
	for i, p := range want.Partitions() {
		if v := float64(i + 1); !slices.Equal(p.Quantiles, []float64{v, v + 4.5}) {
			t.Fatalf("test data: %s quantiles %v are interpolated", p.Key, p.Quantiles)
		}
	}
	compareResults(t, releaseBeam(t, params, spec, recs), want, pbeamtest.QuantilesTolerance(0, 10))
}

// events returns events where each person has at most l0 distinct
// (segment, item) pairs, some repeated, plus events dp rejects.
func events(seed uint64, persons, segments, items, l0 int) []dpbeam.Event {
	r := rand.New(rand.NewPCG(seed, 2))
	var out []dpbeam.Event
	for i := range persons {
		for range 1 + r.IntN(l0) {
			// Zipf-like popularity, so that rankings and ties are exercised.
			e := dpbeam.Event{Person: fmt.Sprintf("p%03d", i), Segment: fmt.Sprintf("s%d", r.IntN(segments)),
				Item: fmt.Sprintf("i%02d", int(float64(items)*r.Float64()*r.Float64()))}
			out = append(out, e, e) // a repeat counts once
		}
	}
	return append(out, dpbeam.Event{Person: "", Segment: "s0", Item: "i00"})
}

func TestTopKEquivalence(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reason string
		k      int
		params dp.Params
	}{{
		name: "Laplace", reason: "δ all to the threshold",
		k: 3, params: dp.Params{Epsilon: 1, Delta: 1e-5, MaxPartitions: 1, MaxContributions: 1},
	}, {
		name: "Gaussian, allow-list, pre-threshold", reason: "δ halved between noise and threshold; items outside the allow-list ignored; MinPersons",
		k: 5, params: dp.Params{Epsilon: 2, Delta: 1e-6, MaxPartitions: 1, MaxContributions: 1, Noise: dp.Gaussian,
			Partitions: []string{"i00", "i01", "i02", "i03", "i05", "i08"}, MinPersons: 3, Label: "trend", Alpha: 0.1},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			evs := events(3, 300, 3, 12, tc.params.MaxPartitions)
			params := tc.params
			params.NoiseSource = dptest.Noise{}
			top, err := dp.NewTopK(tc.k, params)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range evs {
				top.Add(e.Person, e.Segment, e.Item)
			}
			want, err := top.Release(context.Background(), budget(t))
			if err != nil {
				t.Fatal(err)
			}

			p := newPipeline(t)
			j, err := dpbeam.TopK(p, beam.CreateList(p.Scope(), evs), tc.k, params)
			if err != nil {
				t.Fatal(err)
			}
			run(t, p)
			got, err := j.Result()
			if err != nil {
				t.Fatal(err)
			}
			if len(want.Segments()) == 0 || !slices.Equal(got.Segments(), want.Segments()) {
				t.Fatalf("segments: Beam %v, dp %v", got.Segments(), want.Segments())
			}
			for _, seg := range want.Segments() {
				if !slices.Equal(got.Top(seg), want.Top(seg)) {
					t.Errorf("segment %s: Beam %v, dp %v", seg, got.Top(seg), want.Top(seg))
				}
			}
			if got.Threshold() != want.Threshold() || got.Epsilon() != want.Epsilon() || got.Delta() != want.Delta() ||
				got.Private() || got.String() != want.String() {
				t.Errorf("Beam %v (threshold %d), dp %v (threshold %d)", got, got.Threshold(), want, want.Threshold())
			}
		})
	}
}

// histories returns item events where each person has at most maxItems
// distinct items (so at most maxItems·(maxItems-1)/2 pairs), some
// repeated with different weights, from a catalog of items items, plus
// events dp rejects or ignores.
func histories(seed uint64, persons, items, maxItems int, weighted bool) []dpbeam.ItemEvent {
	r := rand.New(rand.NewPCG(seed, 3))
	var out []dpbeam.ItemEvent
	for i := range persons {
		person := fmt.Sprintf("p%03d", i)
		for _, it := range r.Perm(items)[:2+r.IntN(maxItems-1)] {
			it = int(float64(it) * r.Float64()) // popular items are the small ones
			e := dpbeam.ItemEvent{Person: person, Item: fmt.Sprintf("i%02d", it)}
			if weighted {
				e.Weight = 0.5 + 4*r.Float64()
			}
			out = append(out, e)
			if r.IntN(3) == 0 {
				e.Weight /= 2 // the largest weight counts
				out = append(out, e)
			}
		}
	}
	out = append(out, dpbeam.ItemEvent{Person: "", Item: "i00"}, dpbeam.ItemEvent{Person: "p000", Item: "not in catalog"})
	if weighted {
		out = append(out, dpbeam.ItemEvent{Person: "p001", Item: "i01", Weight: -1}, dpbeam.ItemEvent{Person: "p001", Item: "i01", Weight: math.Inf(1)})
	}
	return out
}

func catalog(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("i%02d", i)
	}
	return out
}

func TestCooccurrenceEquivalence(t *testing.T) {
	for _, tc := range []struct {
		name     string
		reason   string
		params   dp.CooccurrenceParams
		weighted bool
	}{{
		name:   "catalog, public pairs, Laplace",
		reason: "pbeam counts with public partitions; candidates chosen from the released item counts",
		params: dp.CooccurrenceParams{Epsilon: 2, MaxItems: 4, MaxPairs: 6, Items: catalog(20), PairItems: 8},
	}, {
		name:   "weighted, public pairs, Gaussian",
		reason: "norm-1 contributions, noised in Beam with Google's noise; the largest weight of a repeated item counts",
		params: dp.CooccurrenceParams{Epsilon: 2, Delta: 1e-6, MaxItems: 5, MaxPairs: 10, Items: catalog(20), PairItems: 10,
			Weighted: true, Noise: dp.Gaussian, Split: [3]float64{0.01, 0.3, 0.69}, Label: "weighted"},
		weighted: true,
	}, {
		name:   "no catalog, thresholded items and pairs, Gaussian",
		reason: "pbeam DistinctPrivacyID thresholding, for items and for pairs",
		params: dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-5, MaxItems: 4, MaxPairs: 6, Noise: dp.Gaussian},
	}, {
		name:   "catalog, thresholded pairs, pre-threshold",
		reason: "public items, pairs by thresholding with MinPersons",
		params: dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-5, MaxItems: 3, MaxPairs: 3, Items: catalog(20), MinPersons: 2},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			evs := histories(4, 200, 20, tc.params.MaxItems, tc.weighted)
			params := tc.params
			params.NoiseSource = dptest.Noise{}
			c, err := dp.NewCooccurrence(params)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range evs {
				if e.Weight == 0 {
					c.Add(e.Person, e.Item)
				} else {
					c.AddWeighted(e.Person, e.Item, e.Weight)
				}
			}
			want, err := c.Release(context.Background(), budget(t))
			if err != nil {
				t.Fatal(err)
			}

			p := newPipeline(t)
			j, err := dpbeam.Cooccurrence(p, beam.CreateList(p.Scope(), evs), params)
			if err != nil {
				t.Fatal(err)
			}
			run(t, p)
			got, err := j.Result()
			if err != nil {
				t.Fatal(err)
			}
			compareCooccurrences(t, got, want)
		})
	}
}

func compareCooccurrences(t *testing.T, got, want *dp.Cooccurrences) {
	t.Helper()
	if len(want.Pairs) == 0 || len(got.Items) != len(want.Items) || len(got.Pairs) != len(want.Pairs) {
		t.Fatalf("Beam %v, dp %v", got, want)
	}
	for i, w := range want.Items {
		if g := got.Items[i]; g.Item != w.Item || !near(g.Count, w.Count, 1e-9) {
			t.Errorf("item %d: Beam %+v, dp %+v", i, g, w)
		}
	}
	for i, w := range want.Pairs {
		if g := got.Pairs[i]; g.A != w.A || g.B != w.B || !near(g.Count, w.Count, 1e-9) {
			t.Errorf("pair %d: Beam %+v, dp %+v", i, g, w)
		}
	}
	g, w := *got, *want
	g.Items, g.Pairs, w.Items, w.Pairs = nil, nil, nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("Beam %+v\ndp   %+v", g, w)
	}
}
