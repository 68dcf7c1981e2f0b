package dp_test

import (
	"math/rand/v2"
	"slices"
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
	jobMu   sync.Mutex
	jobData = map[int][]record{}
)

// job returns the records of the performance job (jobRecords records from
// jobPersons persons); jobOf builds it for another number of persons, ten
// records each on average, every record from a uniformly random person.
func job() []record { return jobOf(jobPersons) }

func jobOf(persons int) []record {
	jobMu.Lock()
	defer jobMu.Unlock()
	if d, ok := jobData[persons]; ok {
		return d
	}
	r := rand.New(rand.NewPCG(4, 2))
	zipf := rand.NewZipf(r, 1.1, 1, jobPartitions-1)
	ids := make([]string, persons)
	for i := range ids {
		ids[i] = "person-" + strconv.Itoa(i)
	}
	keys := make([]string, jobPartitions)
	for i := range keys {
		keys[i] = "page-" + strconv.Itoa(i)
	}
	d := make([]record, jobRecords/jobPersons*persons)
	for i := range d {
		d[i] = record{ids[r.IntN(persons)], keys[zipf.Uint64()], r.Int64N(jobUpper + 1)}
	}
	jobData[persons] = d
	return d
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

// BenchmarkAggregatePersons is the job of BenchmarkAggregate (ten records
// per person, 1,000 Zipf keys, L0 = 3, L∞ = 1, count and sum with private
// selection) at 100,000 and 1,000,000 persons (1 M and 10 M records), tact
// beside firstSeenJob, a hand-written first-seen job on Google's dpagg;
// tact-no-hint is tact without the capacity hint ExpectedPersons.
// The 1 M-person job takes seconds: run it with -benchtime 1x. The records
// are generated before the timed sub-benchmarks.
func BenchmarkAggregatePersons(b *testing.B) {
	for _, persons := range []int{100_000, 1_000_000} {
		data := jobOf(persons)
		name := strconv.Itoa(persons/1000) + "k"
		if persons%1_000_000 == 0 {
			name = strconv.Itoa(persons/1_000_000) + "M"
		}
		b.Run(name+"/tact", func(b *testing.B) {
			runJob(b, data, func(int) (int, error) { return tactJob(data, persons) })
		})
		b.Run(name+"/tact-no-hint", func(b *testing.B) {
			runJob(b, data, func(int) (int, error) { return tactJob(data, 0) })
		})
		b.Run(name+"/first-seen", func(b *testing.B) {
			runJob(b, data, func(int) (int, error) { return firstSeenJob(data) })
		})
	}
}

// runJob runs job b.N times and reports records/s and partitions released.
func runJob(b *testing.B, data []record, job func(i int) (int, error)) {
	b.ReportAllocs()
	released := 0
	for i := 0; i < b.N; i++ {
		n, err := job(i)
		if err != nil {
			b.Fatal(err)
		}
		released += n
	}
	b.ReportMetric(float64(len(data))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(released)/float64(b.N), "partitions")
}

// tactJob is the job on tact, with the capacity hint ExpectedPersons =
// persons (0: none).
func tactJob(data []record, persons int) (int, error) {
	budget, _ := dp.NewBudget(jobEpsilon, jobDelta, nil)
	agg, err := dp.NewAggregation(dp.Params{
		Epsilon: jobEpsilon, Delta: jobDelta,
		MaxPartitions: jobL0, MaxContributions: jobLInf,
		ExpectedPersons: persons,
	}, dp.Spec[int64]{Metrics: dp.Count | dp.Sum, Lower: 0, Upper: jobUpper})
	if err != nil {
		return 0, err
	}
	for _, r := range data {
		agg.Add(r.person, r.key, r.value)
	}
	res, err := agg.Release(ctx, budget)
	if err != nil {
		return 0, err
	}
	return res.Len(), nil
}

// firstSeenJob is the job as a straightforward Go program writes it on
// Google's library, in one pass: each person keeps the first L0 partitions
// seen and the first L∞ records in each (a map from person to the kept
// partitions and their counts), and every kept record goes at once into
// the partition's dpagg.Count and dpagg.BoundedSumInt64, every kept
// (person, partition) pair into its dpagg.PreAggSelectPartition; the same
// budget split as tact (a third each), with confidence intervals.
// First-seen bounding is cheaper than tact's uniform sampling, and biased
// towards the partitions and records that come first.
func firstSeenJob(data []record) (int, error) {
	type kept struct {
		key string
		n   int
	}
	type partition struct {
		sel   *dpagg.PreAggSelectPartition
		count *dpagg.Count
		sum   *dpagg.BoundedSumInt64
	}
	third := jobEpsilon / 3
	persons := make(map[string][]kept)
	parts := make(map[string]*partition)
	for _, r := range data {
		ks := persons[r.person]
		i := slices.IndexFunc(ks, func(k kept) bool { return k.key == r.key })
		if i < 0 {
			if len(ks) == jobL0 {
				continue
			}
			ks = append(ks, kept{key: r.key})
			persons[r.person] = ks
			i = len(ks) - 1
		}
		if ks[i].n == jobLInf {
			continue
		}
		ks[i].n++
		p := parts[r.key]
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
			parts[r.key] = p
		}
		if ks[i].n == 1 {
			if err := p.sel.Increment(); err != nil {
				return 0, err
			}
		}
		if err := p.count.Increment(); err != nil {
			return 0, err
		}
		if err := p.sum.Add(r.value); err != nil {
			return 0, err
		}
	}
	released := 0
	for _, p := range parts {
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
		released++
	}
	return released, nil
}
