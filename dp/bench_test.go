package dp_test

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/google/differential-privacy/go/v3/dpagg"
	"github.com/google/differential-privacy/go/v3/noise"

	"github.com/tact-go/tact/dp"
)

// The performance job of issue 4: 1,000,000 records from 100,000 persons
// over 1,000 partition keys with Zipf skew; L0 = 3, L∞ = 1; count and sum
// per partition with private partition selection; total ε = 1, δ = 1e-5.

const (
	jobRecords    = 1_000_000
	jobPersons    = 100_000
	jobPartitions = 1_000
	jobL0         = 3
	jobLInf       = 1
	jobEpsilon    = 1.0
	jobDelta      = 1e-5
	jobUpper      = 100
)

type record struct {
	person, key string
	value       int64
}

var (
	jobOnce sync.Once
	jobData []record
)

func job() []record {
	jobOnce.Do(func() {
		r := rand.New(rand.NewPCG(4, 2))
		zipf := rand.NewZipf(r, 1.1, 1, jobPartitions-1)
		persons := make([]string, jobPersons)
		for i := range persons {
			persons[i] = "person-" + strconv.Itoa(i)
		}
		keys := make([]string, jobPartitions)
		for i := range keys {
			keys[i] = "page-" + strconv.Itoa(i)
		}
		jobData = make([]record, jobRecords)
		for i := range jobData {
			jobData[i] = record{persons[r.IntN(jobPersons)], keys[zipf.Uint64()], r.Int64N(jobUpper + 1)}
		}
	})
	return jobData
}

func BenchmarkAggregate(b *testing.B) {
	data := job()
	b.Run("tact", func(b *testing.B) {
		b.ReportAllocs()
		released := 0
		for i := 0; i < b.N; i++ {
			budget, _ := dp.NewBudget(jobEpsilon, jobDelta, nil)
			agg, err := dp.NewAggregation(dp.Params{
				Epsilon: jobEpsilon, Delta: jobDelta,
				MaxPartitions: jobL0, MaxContributions: jobLInf,
			}, dp.Spec[int64]{Metrics: dp.Count | dp.Sum, Lower: 0, Upper: jobUpper})
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range data {
				agg.Add(r.person, r.key, r.value)
			}
			res, err := agg.Release(ctx, budget)
			if err != nil {
				b.Fatal(err)
			}
			released += res.Len()
		}
		b.ReportMetric(float64(len(data))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		b.ReportMetric(float64(released)/float64(b.N), "partitions")
	})
	b.Run("google-baseline", func(b *testing.B) {
		b.ReportAllocs()
		released := 0
		for i := 0; i < b.N; i++ {
			n, err := baselineJob(data, rand.New(rand.NewPCG(uint64(i), 7)))
			if err != nil {
				b.Fatal(err)
			}
			released += n
		}
		b.ReportMetric(float64(len(data))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		b.ReportMetric(float64(released)/float64(b.N), "partitions")
	})
}

type baselineOut struct {
	count, sum int64
	countCI    noise.ConfidenceInterval
	sumCI      noise.ConfidenceInterval
}

// baselineJob is the job written the obvious way directly on Google's
// library: records grouped per person and partition in Go maps, reservoir
// sampling of L0 partitions per person and L∞ records per partition, then a
// dpagg.Count, a dpagg.BoundedSumInt64 and a dpagg.PreAggSelectPartition per
// partition, with the same budget split as tact (a third each).
func baselineJob(data []record, rng *rand.Rand) (int, error) {
	byPerson := make(map[string]map[string][]int64)
	for _, r := range data {
		m := byPerson[r.person]
		if m == nil {
			m = make(map[string][]int64)
			byPerson[r.person] = m
		}
		m[r.key] = append(m[r.key], r.value)
	}
	type partition struct {
		sel   *dpagg.PreAggSelectPartition
		count *dpagg.Count
		sum   *dpagg.BoundedSumInt64
	}
	third := jobEpsilon / 3
	parts := make(map[string]*partition)
	for _, m := range byPerson {
		// Reservoir sample of L0 partitions.
		var kept [jobL0]string
		seen := 0
		for k := range m {
			if seen < jobL0 {
				kept[seen] = k
			} else if j := rng.IntN(seen + 1); j < jobL0 {
				kept[j] = k
			}
			seen++
		}
		for _, k := range kept[:min(seen, jobL0)] {
			vals := m[k]
			// Reservoir sample of L∞ records.
			var keep [jobLInf]int64
			for i, v := range vals {
				if i < jobLInf {
					keep[i] = v
				} else if j := rng.IntN(i + 1); j < jobLInf {
					keep[j] = v
				}
			}
			p := parts[k]
			if p == nil {
				p = &partition{}
				var err error
				if p.sel, err = dpagg.NewPreAggSelectPartition(&dpagg.PreAggSelectPartitionOptions{
					Epsilon: third, Delta: jobDelta, MaxPartitionsContributed: jobL0}); err != nil {
					return 0, err
				}
				if p.count, err = dpagg.NewCount(&dpagg.CountOptions{
					Epsilon: third, MaxPartitionsContributed: jobL0, Noise: noise.Laplace()}); err != nil {
					return 0, err
				}
				if p.sum, err = dpagg.NewBoundedSumInt64(&dpagg.BoundedSumInt64Options{
					Epsilon: third, MaxPartitionsContributed: jobL0, Lower: 0, Upper: jobUpper,
					Noise: noise.Laplace()}); err != nil {
					return 0, err
				}
				parts[k] = p
			}
			if err := p.sel.Increment(); err != nil {
				return 0, err
			}
			for _, v := range keep[:min(len(vals), jobLInf)] {
				if err := p.count.Increment(); err != nil {
					return 0, err
				}
				if err := p.sum.Add(v); err != nil {
					return 0, err
				}
			}
		}
	}
	out := make(map[string]baselineOut)
	for k, p := range parts {
		keep, err := p.sel.ShouldKeepPartition()
		if err != nil {
			return 0, err
		}
		if !keep {
			continue
		}
		var o baselineOut
		if o.count, err = p.count.Result(); err != nil {
			return 0, err
		}
		if o.countCI, err = p.count.ComputeConfidenceInterval(0.05); err != nil {
			return 0, err
		}
		if o.sum, err = p.sum.Result(); err != nil {
			return 0, err
		}
		if o.sumCI, err = p.sum.ComputeConfidenceInterval(0.05); err != nil {
			return 0, err
		}
		out[k] = o
	}
	return len(out), nil
}
