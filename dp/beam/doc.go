// Package dpbeam (import path github.com/tact-go/tact/dp/beam) runs
// package dp's releases on Apache Beam, with Privacy on Beam (pbeam): the
// same jobs, with the same parameter types and the same meaning, on a
// distributed engine (Dataflow, Flink, Spark; locally the prism runner),
// for data that outgrows one machine. A job moves from dp to Beam by
// changing how its records arrive, not what its parameters mean, and its
// release feeds package recommend as before.
//
//	p, err := dpbeam.NewPipeline("gs://bucket/releases", 2, 2e-6, nil) // the budget, declared up front
//	orders := beam.ParDo(p.Scope(), parseOrder, textio.Read(p.Scope(), "gs://bucket/orders-*.jsonl"))
//	top, err := dpbeam.TopK(p, beam.ParDo(p.Scope(), toEvent, orders), 10, dp.Params{
//		Epsilon: 1, Delta: 1e-6, MaxPartitions: 16, MaxContributions: 1, Noise: dp.Gaussian,
//	}) // spends (1, 1e-6) from p's budget now, as dp.TopK's Release would
//	cooc, err := dpbeam.Cooccurrence(p, beam.ParDo(p.Scope(), toItem, orders), dp.CooccurrenceParams{
//		Epsilon: 1, Delta: 1e-6, Noise: dp.Gaussian, MaxItems: 50, MaxPairs: 4950,
//		Items: catalog, PairItems: 100, Weighted: true,
//	})
//	err = p.Run(ctx, hostBudget) // spends (2, 2e-6) from the host's dp.Budget, then runs
//	trending, err := top.Result()  // a *dp.Trending
//	release, err := cooc.Result()  // a *dp.Cooccurrences: recommend.CountsFromRelease(release, …)
//
// The jobs are [Aggregate] (grouped count, sum, mean and quantiles, as
// dp.NewAggregation; a count is Aggregate[int64] with Spec{Metrics:
// dp.Count}), [TopK] (trending items per segment, as dp.NewTopK) and
// [Cooccurrence] (item and pair counts for training, as
// dp.NewCooccurrence). Each takes a PCollection of [Record], [Event] or
// [ItemEvent], the arguments of the dp accumulator's Add, and dp's
// parameters. Each is validated by dp's own constructor (a *dp.ParamError
// for what dp refuses) and spends exactly what the dp release spends.
// Each writes its release as one JSON document under the pipeline's
// directory, in dp's encoding for *dp.Trending and *dp.Cooccurrences,
// and returns it, decoded, from Result once the pipeline has run.
//
// # What stays the same
//
// Contribution bounding: a person keeps a uniformly random subset of
// MaxPartitions partitions (MaxItems items) and, in each, of
// MaxContributions records, each value clamped to [Lower, Upper]; one
// bounding for all the metrics of a release. The split of ε and δ among a
// release's components, the noise of every value (kind, share, sensitivity),
// partition selection (Google's, once per release), thresholds,
// confidence intervals, the mean's estimator, candidate items and
// weighting of a co-occurrence release, the audit events ("dp.spend" from
// the pipeline's budget, "dp.release" to the Logger of each job's
// parameters). The equivalence tests check this: with dptest.Noise{} in dp
// and pbeam's no-noise mode on Beam, the releases are equal on data where
// bounding is deterministic; with noise, the Beam values lie within the
// stated intervals as often as they state, and are not less noisy.
//
// # What differs, and why
//
//   - Where the work happens. This package bounds contributions in Beam
//     (each person's records grouped on one worker: memory grows with one
//     person's distinct partitions times MaxContributions) and hands the
//     bounded records to pbeam, whose own bounding then keeps everything,
//     and on which the guarantee rests. Natively pbeam bounds per
//     aggregation (Count and SumPerKey of one release keep different random
//     partitions of a person), and bounds a person's total in a partition
//     for sums (SumPerKey clamps the total to [MinValue, MaxValue]) where
//     dp clamps each record and keeps MaxContributions of them; the bridge
//     gives pbeam totals already within ±MaxContributions·max(|Lower|,
//     |Upper|), the sensitivity dp calibrates to.
//   - Partition selection runs once (pbeam.SelectPartitions), and every
//     metric is computed over the selected partitions as public ones;
//     pbeam's aggregations would each select, and spend, on their own.
//     MinPersons is pbeam's pre-threshold. With L0 > 3 pbeam uses Google's
//     PreAggSelectPartition where dp uses its own equivalent thresholding.
//   - Noise is the same, but pbeam clamps negative counts and the sums of
//     non-negative bounds to 0 by default: the bridge asks for negative
//     outputs and gives sums symmetric bounds, so that, as in dp, noisy
//     values are unbiased and never clamped.
//   - Thresholds: pbeam uses Google's, dp computes its own without the
//     rounding Google's Gaussian threshold suffers when δ/L0 nears the
//     float64 resolution (about 1e-16), where it becomes infinite. A job
//     whose Google threshold would be infinite or lower than dp's is
//     refused with a *dp.ParamError (a larger Delta fixes it); the
//     released Threshold is Google's, equal to dp's for usual δ.
//   - Weighted co-occurrence counts ([dp.CooccurrenceParams].Weighted)
//     bound each person's vector of contributions by a norm, which pbeam's
//     L0·L∞ bounding cannot express (calibrated to L0·L∞ the noise would be
//     MaxItems times larger with Laplace noise, √MaxItems with Gaussian).
//     They are summed in Beam and noised with Google's secure noise, the
//     mechanism dp uses; for them the guarantee rests on this package's
//     normalization (tested as a property), not on pbeam's bounding.
//   - int64 sums: dp saturates them at ±2⁶² before noise; pbeam does not
//     harden sums against overflow, so keep a partition's true sum well
//     inside int64.
//   - The release of an [Aggregate] is a [Result], with dp.Result's
//     methods and dp.Partition values: dp.Result has no constructor nor
//     decoder outside package dp.
//   - Randomness and test sources: bounding draws from a random source
//     seeded by the operating system on each worker (Params.Rand is not
//     used, and bounding is not reproducible); Params.NoiseSource may only
//     be nil or dptest.Noise{}, which selects pbeam's no-noise test mode
//     (results then report Private() == false). In that mode pbeam's
//     quantiles are approximate (within pbeamtest.QuantilesTolerance) and
//     its selection keeps partitions below MinPersons, which dp with
//     dptest drops.
//   - Events with an empty item are rejected by TopK and Cooccurrence:
//     dp accepts them in Add, but its decoders refuse a release that names
//     an empty item.
//   - Rejected and dropped records are counted in Beam metrics (namespace
//     "dpbeam", "rejected" and "dropped"), not returned; ExpectedPersons is
//     not used.
//
// What pbeam offers that dp does not, and this package does not use:
// aggregations over any Go type of partition key, DistinctPerKey (distinct
// values per partition), public partitions given as a PCollection of
// millions, and a test mode without contribution bounding. What dp offers
// that pbeam does not: mergeable partial state, the [dp.Budget]
// accountant with a durable spend log (used here for the host's budget),
// confidence intervals, exact thresholds for tiny δ, int64 saturation,
// weighted co-occurrence (reproduced here) and audit events.
//
// # Budget
//
// A [Pipeline] declares its total (ε, δ) when it is made: a dp.Budget of
// its own. Each job spends from it when it is added, before anything runs;
// a job that does not fit is refused (a *dp.BudgetError, errors.Is
// dp.ErrBudgetExhausted) and adds nothing, and so is a job with invalid
// parameters; a pipeline with a refused job does not run. [Pipeline.Run]
// then spends what the jobs spent from the host's budget (a dp.Budget,
// typically over dp/sqlbudget), in one spend, before executing: a budget
// that cannot pay refuses the pipeline, and nothing runs. A pipeline runs
// once.
//
// # Runners, flags and glog
//
// Run uses the prism runner in this process unless [Options].Runner says
// otherwise. Releases go to the pipeline's directory, through Beam's
// filesystems: a local directory for prism, a bucket (with its filesystem
// package imported) for distributed runners. The module links Beam, which
// registers its flags on flag.CommandLine, and pbeam, which links glog
// (package dp takes glog's flags off flag.CommandLine): a main package
// calls flag.Parse and beam.Init first.
//
// # Cost
//
// Beam is not fast on one machine: on a 2-core machine with prism, the
// jobs process 14,000 to 35,000 records per second of 1M records, where
// package dp processes 1.9 to 2.9 million in the same benchmark run (see
// bench_test.go), with 50 to 110 times the allocations. The module needs
// Go 1.26 (Beam v2.78.0 does; the core module needs 1.25); its cold build
// takes about seven minutes, a test binary is about 290 MB and the
// example program 345 MB (220 MB stripped). Move to Beam when the records
// do not fit, or do not arrive, in one process.
//
// # Concurrency
//
// A [Pipeline] and its jobs are built and run from one goroutine. Results
// are immutable and safe for concurrent use.
//
// # Errors
//
// Invalid parameters return dp's *dp.ParamError (errors.Is
// dp.ErrInvalidParams), including parameters that dp accepts but Beam
// cannot honour (a NoiseSource other than dptest.Noise{}, a δ too small
// for Google's thresholds); refused spends a *dp.BudgetError (errors.Is
// dp.ErrBudgetExhausted); an input PCollection of the wrong element type
// [ErrInput]; adding a job to, or running, a pipeline that has run
// dp.ErrReleased; a Result before a successful Run [ErrNotRun]. Run wraps
// the first refused job's error, and returns the runner's error wrapped;
// a release document that cannot be decoded is an error wrapping
// dp.ErrInvalidRelease. Records are never an error: invalid ones are
// rejected as dp's Add rejects them.
package dpbeam
