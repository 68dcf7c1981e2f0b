package dpbeam_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/tact-go/tact/dp"
	dpbeam "github.com/tact-go/tact/dp/beam"
)

// The benchmarks run each job on the same synthetic data twice: in process
// with package dp (the baseline) and on Beam with the prism runner in this
// process. The Beam records are generated inside the pipeline (16 shards),
// so that the figure is the job's, not that of shipping a million
// elements in the pipeline's definition. Each reports records/s; the Beam
// figure includes starting prism and building the pipeline (about a
// second). Both include generating the records; BenchmarkGenerate
// measures that alone, the ceiling of the dp figures.
//
//	go test -run '^$' -bench . -benchtime 1x ./   (in dp/beam)

const benchShards = 16

// gen is the synthetic data: record i of shard s is a function of (seed,
// s, i). Persons are n/10, partitions (items) 1000 with skewed popularity,
// values in [0, 100).
type gen struct {
	N, Shard int
}

func (g gen) each(f func(person, key string, v float64)) {
	per := g.N / benchShards
	r := rand.New(rand.NewPCG(uint64(g.Shard), 42))
	persons := max(1, g.N/10)
	for range per {
		p := r.IntN(persons)
		k := int(1000 * r.Float64() * r.Float64())
		f(fmt.Sprintf("p%07d", p), fmt.Sprintf("k%03d", k), 100*r.Float64())
	}
}

func shards(n int) []gen {
	out := make([]gen, benchShards)
	for s := range out {
		out[s] = gen{N: n, Shard: s}
	}
	return out
}

func genRecords(g gen, emit func(dpbeam.Record[float64])) {
	g.each(func(p, k string, v float64) { emit(dpbeam.Record[float64]{Person: p, Key: k, Value: v}) })
}

func genEvents(g gen, emit func(dpbeam.Event)) {
	g.each(func(p, k string, v float64) { emit(dpbeam.Event{Person: p, Segment: fmt.Sprint(int(v) % 5), Item: k}) })
}

func genItems(g gen, emit func(dpbeam.ItemEvent)) {
	g.each(func(p, k string, v float64) { emit(dpbeam.ItemEvent{Person: p, Item: k, Weight: 1 + v/10}) })
}

func init() {
	beam.RegisterType(reflect.TypeOf(gen{}))
	register.Function2x0[gen, func(dpbeam.Record[float64])](genRecords)
	register.Function2x0[gen, func(dpbeam.Event)](genEvents)
	register.Function2x0[gen, func(dpbeam.ItemEvent)](genItems)
	register.Emitter1[dpbeam.Record[float64]]()
	register.Emitter1[dpbeam.Event]()
	register.Emitter1[dpbeam.ItemEvent]()
}

var (
	benchAgg  = dp.Params{Epsilon: 1, Delta: 1e-6, MaxPartitions: 3, MaxContributions: 2}
	benchSpec = dp.Spec[float64]{Metrics: dp.Count | dp.Sum | dp.Mean, Lower: 0, Upper: 100}
	benchTopK = dp.Params{Epsilon: 1, Delta: 1e-6, MaxPartitions: 8, MaxContributions: 1, Noise: dp.Gaussian}
)

func benchCooc() dp.CooccurrenceParams {
	items := make([]string, 1000)
	for i := range items {
		items[i] = fmt.Sprintf("k%03d", i)
	}
	return dp.CooccurrenceParams{Epsilon: 1, Delta: 1e-6, Noise: dp.Gaussian, MaxItems: 50, MaxPairs: 4950,
		Items: items, PairItems: 100, Weighted: true}
}

var benchSizes = []int{10_000, 1_000_000}

// runBeam builds a pipeline with add and runs it on prism, b.N times.
func runBeam(b *testing.B, n int, genFn any, add func(p *dpbeam.Pipeline, col beam.PCollection) error) {
	b.ReportAllocs()
	for b.Loop() {
		p, err := dpbeam.NewPipeline(b.TempDir(), 10, 1e-3, nil)
		if err != nil {
			b.Fatal(err)
		}
		col := beam.ParDo(p.Scope(), genFn, beam.CreateList(p.Scope(), shards(n)))
		if err := add(p, col); err != nil {
			b.Fatal(err)
		}
		if err := p.Run(context.Background(), nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// runDP feeds n generated records to add and calls release, b.N times.
func runDP(b *testing.B, n int, add func(person, key string, v float64), release func() error, reset func()) {
	b.ReportAllocs()
	for b.Loop() {
		reset()
		for _, g := range shards(n) {
			g.each(add)
		}
		if err := release(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func newBudget() *dp.Budget {
	bud, _ := dp.NewBudget(1000, 0.5, nil)
	return bud
}

func BenchmarkAggregate(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("records=%d/dp", n), func(b *testing.B) {
			var a *dp.Aggregation[float64]
			runDP(b, n, func(p, k string, v float64) { a.Add(p, k, v) },
				func() error { _, err := a.Release(context.Background(), newBudget()); return err },
				func() { a, _ = dp.NewAggregation(benchAgg, benchSpec) })
		})
		b.Run(fmt.Sprintf("records=%d/beam", n), func(b *testing.B) {
			runBeam(b, n, genRecords, func(p *dpbeam.Pipeline, col beam.PCollection) error {
				_, err := dpbeam.Aggregate(p, col, benchAgg, benchSpec)
				return err
			})
		})
	}
}

func BenchmarkTopK(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("records=%d/dp", n), func(b *testing.B) {
			var t *dp.TopK
			runDP(b, n, func(p, k string, v float64) { t.Add(p, fmt.Sprint(int(v)%5), k) },
				func() error { _, err := t.Release(context.Background(), newBudget()); return err },
				func() { t, _ = dp.NewTopK(10, benchTopK) })
		})
		b.Run(fmt.Sprintf("records=%d/beam", n), func(b *testing.B) {
			runBeam(b, n, genEvents, func(p *dpbeam.Pipeline, col beam.PCollection) error {
				_, err := dpbeam.TopK(p, col, 10, benchTopK)
				return err
			})
		})
	}
}

func BenchmarkCooccurrence(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("records=%d/dp", n), func(b *testing.B) {
			var c *dp.Cooccurrence
			runDP(b, n, func(p, k string, v float64) { c.AddWeighted(p, k, 1+v/10) },
				func() error { _, err := c.Release(context.Background(), newBudget()); return err },
				func() { c, _ = dp.NewCooccurrence(benchCooc()) })
		})
		b.Run(fmt.Sprintf("records=%d/beam", n), func(b *testing.B) {
			runBeam(b, n, genItems, func(p *dpbeam.Pipeline, col beam.PCollection) error {
				_, err := dpbeam.Cooccurrence(p, col, benchCooc())
				return err
			})
		})
	}
}

// BenchmarkGenerate generates the records of the benchmarks above and
// does nothing with them: the cost that every figure above includes.
func BenchmarkGenerate(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			var sink int
			runDP(b, n, func(p, k string, v float64) { sink += len(p) + len(k) },
				func() error { return nil }, func() {})
			if sink == 0 {
				b.Fatal("nothing generated")
			}
		})
	}
}
