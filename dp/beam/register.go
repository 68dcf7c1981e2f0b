package dpbeam

import (
	"context"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

// Every DoFn, function and element type of the package is registered, so
// that workers (in this process with prism, or remote) find them by name
// without reflection over the binary's symbols.
func init() {
	for _, t := range []reflect.Type{
		reflect.TypeOf(Record[int64]{}), reflect.TypeOf(Record[float64]{}),
		reflect.TypeOf(Event{}), reflect.TypeOf(ItemEvent{}),
		reflect.TypeOf(slot{}), reflect.TypeOf(bounded{}), reflect.TypeOf(cell{}),
		reflect.TypeOf(itemW{}), reflect.TypeOf(basket{}), reflect.TypeOf(candidates{}),
	} {
		beam.RegisterType(t)
	}

	register.DoFn3x0[context.Context, Record[int64], func(string, slot)](&prepFn[int64]{})
	register.DoFn3x0[context.Context, Record[float64], func(string, slot)](&prepFn[float64]{})
	register.Emitter2[string, slot]()
	register.DoFn4x0[context.Context, string, func(*slot) bool, func(string, bounded)](&boundFn{})
	register.Iter1[slot]()
	register.Emitter2[string, bounded]()
	register.Function1x1[bounded, string](boundedKey)
	register.Function1x2[bounded, string, int64](boundedInt)
	register.Function1x2[bounded, string, float64](boundedFloat)
	register.Function1x2[bounded, string, float64](boundedNorm)

	register.Function2x1[string, int64, cell](countCell)
	register.Function2x1[string, int64, cell](sumIntCell)
	register.Function2x1[string, float64, cell](sumFloatCell)
	register.Function2x1[string, float64, cell](normCell)
	register.Function2x1[string, []float64, cell](quantCell)
	register.Function2x1[string, int64, cell](itemCountCell)
	register.Function2x1[string, float64, cell](itemSumCell)
	register.Function2x1[string, int64, cell](pairCountCell)
	register.Function2x1[string, float64, cell](pairSumCell)
	register.Function2x1[string, int64, cell](personsCell)
	register.Function2x1[string, int64, cell](trendCell)
	register.Iter1[cell]()
	register.Emitter1[string]()
	register.DoFn4x1[context.Context, int, func(*cell) bool, func(string), error](&assembleAggFn[int64]{})
	register.DoFn4x1[context.Context, int, func(*cell) bool, func(string), error](&assembleAggFn[float64]{})
	register.DoFn4x1[context.Context, int, func(*cell) bool, func(string), error](&assembleTrendFn{})
	register.DoFn4x1[context.Context, int, func(*cell) bool, func(string), error](&assembleCoocFn{})

	register.DoFn3x0[context.Context, Event, func(string, string)](&trendPrepFn{})
	register.Emitter2[string, string]()

	register.DoFn3x0[context.Context, ItemEvent, func(string, itemW)](&coocPrepFn{})
	register.Emitter2[string, itemW]()
	register.Iter1[itemW]()
	register.DoFn3x0[string, func(*itemW) bool, func(string, basket)](&basketFn{})
	register.Emitter2[string, basket]()
	register.Function2x2[string, basket, string, string](basketPerson)
	register.Function3x0[string, basket, func(string, string)](basketItems)
	register.Function1x2[string, string, float64](zeroOf)
	register.DoFn3x0[string, basket, func(string, float64)](&itemWeightsFn{})
	register.Emitter2[string, float64]()
	register.DoFn2x1[int, func(*cell) bool, candidates](&candidatesFn{})
	register.Function2x0[candidates, func(string)](candidatePairs)
	register.DoFn4x0[string, basket, candidates, func(string, string)](&publicPairsFn{})
	register.DoFn4x0[string, basket, candidates, func(string, float64)](&publicPairWeightsFn{})
	register.DoFn3x0[string, basket, func(string, string)](&pairsFn{})
	register.Combiner3[float64, float64, float64](&noisySumFn{})
}
