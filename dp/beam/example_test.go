package dpbeam_test

import (
	"context"
	"fmt"
	"os"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/tact-go/tact/dp"
	dpbeam "github.com/tact-go/tact/dp/beam"
	"github.com/tact-go/tact/dp/dptest"
)

// A grouped sum and mean on Beam, with dp's parameters. dptest.Noise{}
// selects pbeam's no-noise test mode, so that the output is exact (and
// marked not private); leave NoiseSource nil in production.
func ExampleAggregate() {
	dir, _ := os.MkdirTemp("", "dpbeam-example-")
	defer os.RemoveAll(dir)
	p, err := dpbeam.NewPipeline(dir, 1, 1e-6, nil)
	if err != nil {
		panic(err)
	}
	orders := beam.CreateList(p.Scope(), []dpbeam.Record[float64]{
		{Person: "ann", Key: "DE", Value: 30}, {Person: "ann", Key: "DE", Value: 50},
		{Person: "bob", Key: "DE", Value: 500}, // clamped to 100
		{Person: "cid", Key: "FR", Value: 20},
	})
	job, err := dpbeam.Aggregate(p, orders, dp.Params{
		Epsilon: 1, MaxPartitions: 1, MaxContributions: 2,
		Partitions: []string{"DE", "FR", "NL"}, NoiseSource: dptest.Noise{},
	}, dp.Spec[float64]{Metrics: dp.Sum | dp.Mean, Lower: 0, Upper: 100})
	if err != nil {
		panic(err)
	}
	if err := p.Run(context.Background(), nil); err != nil {
		panic(err)
	}
	res, _ := job.Result()
	for _, pt := range res.Partitions() {
		fmt.Printf("%s: sum %.0f, mean %.1f\n", pt.Key, pt.Sum.Value, pt.Mean.Value)
	}
	fmt.Println(res)
	// Output:
	// DE: sum 180, mean 60.0
	// FR: sum 20, mean 20.0
	// NL: sum 0, mean 50.0
	// "dp release": sum+mean for 3 public partitions, ε=1 δ=0, NOT PRIVATE: built in pbeam's no-noise test mode
}

// A pipeline declares its budget up front: a job that would take it over
// is refused before anything runs.
func ExampleNewPipeline_budget() {
	dir, _ := os.MkdirTemp("", "dpbeam-example-")
	defer os.RemoveAll(dir)
	p, _ := dpbeam.NewPipeline(dir, 1, 1e-6, nil)
	events := beam.CreateList(p.Scope(), []dpbeam.Event{{Person: "ann", Segment: "DE", Item: "tea"}})
	params := dp.Params{Epsilon: 0.75, Delta: 1e-7, MaxPartitions: 1, MaxContributions: 1}
	_, err := dpbeam.TopK(p, events, 10, params)
	fmt.Println(err)
	_, err = dpbeam.TopK(p, events, 10, params)
	fmt.Println(err)
	fmt.Println(p.Run(context.Background(), nil))
	// Output:
	// <nil>
	// dp: privacy budget exhausted: "dp trending" asked ε=0.75 δ=1e-07, remaining ε=0.25 δ=9e-07
	// dpbeam: pipeline refused: dp: privacy budget exhausted: "dp trending" asked ε=0.75 δ=1e-07, remaining ε=0.25 δ=9e-07
}
