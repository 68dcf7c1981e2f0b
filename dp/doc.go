// Package dp releases statistics across people with differential privacy:
// counts, sums, means and quantiles per partition, what is trending, and the
// item co-occurrences a recommender learns from, each released once and
// paid for from a privacy budget that cannot be overspent.
//
// A differentially private release adds random noise calibrated so that
// the output is almost equally likely whether or not any one person's data
// is in the input: nobody can learn much about a person from it, whatever
// else they know. Package dp wraps Google's differential privacy library
// (its secure Laplace and Gaussian noise, confidence intervals and
// partition selection) and adds what a service needs around it: per-person
// contribution bounding across partitions, a budget accountant, fast
// accumulation with typed errors, mergeable partial state and test
// fixtures.
//
//	budget, _ := dp.NewBudget(1, 1e-6, nil) // for the week's statistics
//	visits, _ := dp.NewCounter(dp.Params{
//		Epsilon: 0.5, Delta: 1e-7, MaxPartitions: 3, MaxContributions: 1,
//	})
//	for _, v := range events {
//		visits.Add(v.PersonID, v.Page) // cheap; never an error
//	}
//	res, err := visits.Release(ctx, budget) // spends (0.5, 1e-7) once
//	for _, p := range res.Partitions() {
//		fmt.Println(p.Key, p.Count.Value, p.Count.Lower, p.Count.Upper)
//	}
//
// The accumulators are [Counter] and [Aggregation] (count, sum, mean and
// quantiles per partition, over int64 or float64 values), [TopK] (trending
// items per segment) and [Cooccurrence] (item and item-pair counts). Each
// is fed with Add, then released once with Release(ctx, budget), which returns an
// immutable result.
//
// # The parameters in plain words
//
// Epsilon (ε) is how much a release may reveal about any one person: the
// probability of any output changes by a factor of at most e^ε when one
// person's data is added or removed. Smaller ε, more privacy, more noise.
//
// Delta (δ) is the small probability that the ε promise does not hold. It
// pays for selecting partitions from the data (a partition with one person
// must almost never appear) and for Gaussian noise. Keep it far below one
// over the number of people: 1e-6 for up to about a million.
//
// MaxPartitions (L0) is how many partitions one person may contribute to,
// and MaxContributions (L∞) how many records to each. tact enforces both
// per person, keeping a uniformly random subset of a person's partitions
// and records (not the first ones seen, which would favour popular
// partitions), and calibrates the noise to exactly these bounds: noise
// grows linearly with L0·L∞ for Laplace, with √L0·L∞ for Gaussian. Pick
// them near what a typical person has: too small loses data, too large adds
// noise for everyone.
//
// Lower and Upper (Spec) clamp each value before sums, means and
// quantiles: one record can then move a sum by at most max(|Lower|,
// |Upper|). Choose them from domain knowledge, never from the data.
//
// Partitions (public partitions) is a list of keys known without looking
// at the data; each is released, even with no data. Without it, partitions
// are selected privately with Google's partition selection, which spends
// δ and drops partitions with too few people.
//
// For item co-occurrences on few people, where thresholds would drop every
// pair, [CooccurrenceParams].PairItems makes the pairs among the most
// counted catalog items public partitions (noise on each, no threshold),
// and [CooccurrenceParams].Weighted scales each person's contribution to
// norm 1, so that a person with many items counts less in each pair
// (McSherry and Mironov's per-person weighting) and the noise no longer
// grows with the bounds. Weighted also lets items carry weights (a rating,
// a quantity, a time decay: [Cooccurrence.AddWeighted], fed for example by
// recommend.PersonWeights): the counts then estimate the persons' item Gram
// matrices (Σ x_a² per item, Σ x_a·x_b per pair), each person's items and
// pairs scaled to norm 1, so the noise is the same whatever the weights. Weights never
// choose which items or pairs a person keeps.
//
// Alpha sets the confidence intervals: each released [Estimate] holds the
// true value of the bounded data with probability at least 1-Alpha (0.05 by
// default). The intervals spend no budget.
//
// # Choosing ε
//
// ε is a policy decision, not a tuning knob. Common practice: a total of ε
// ≤ 1 per person per reporting period (a week, a month) is strong privacy;
// up to a few is used for large, low-sensitivity statistics; above 10 the
// guarantee is weak. Decide the total for a period, create one [Budget] with
// it, and give each release a share: a release's noise scale is
// sensitivity/ε, so halving ε doubles the noise. Results on many people
// tolerate small ε; results on few people cannot be made both private and
// accurate. One release may spend at most [MaxEpsilon] (100); a budget may
// hold more, for several releases.
//
// # Composition
//
// A [Budget] uses basic sequential composition: releases with (ε₁, δ₁), …,
// (εₙ, δₙ) on the same people are together (Σεᵢ, Σδᵢ)-differentially
// private. Spends are summed exactly in rational arithmetic, so rounding
// never lets the total exceed the budget. Within one release, the
// components (partition selection, count, sum, the mean's normalized sum,
// quantiles) split the release's ε evenly and compose the same way; δ goes
// to partition selection with Laplace noise, and with Gaussian noise half
// to selection (if any) and the rest evenly to the noisy components. The
// partitions of one component are covered by the L0 bound (a person
// changes at most L0 of them). [TopK] and [Cooccurrence] document their
// own splits; a [Cooccurrence] with public pairs and Gaussian noise
// composes its item and pair counts exactly instead, as Gaussian noises
// allow (Gaussian differential privacy), and gives both about a fifth
// less noise than adding their shares would. A release never spends more
// than its Params say and may spend less δ: with Laplace noise and public
// partitions it spends none.
//
// # A budget that outlives the process
//
// A Budget in memory starts full whenever the process starts, so a service
// that restarts would spend its total again: the guarantee would silently
// break. With a [SpendLog] ([BudgetOptions].Log) the spends are kept in the
// host's database (dp/sqlbudget on SQLite or PostgreSQL; [MemorySpendLog]
// in memory): a new Budget over the log starts from what was spent, a
// spend is in the log before the release it pays for is returned, and
// Budgets in several processes over one log never spend more than the
// total together (each Append names the number of spends it follows, and
// the log refuses it if another Budget spent first; the Budget then loads
// the newer spends and decides again). Release takes a context because it
// may reach that database.
//
// # Limits
//
// A release returns finite values and intervals, and returns promptly, for
// every combination of parameters a constructor accepts. Outside the
// following ranges Google's secure noise hangs, fails or overflows, so the
// constructors refuse them, before anything is spent:
//
//   - ε at least 2⁻⁵⁰ and at most [MaxEpsilon] (100), and each component's
//     share of it at least 2⁻⁵⁰. Above 100 no privacy is left (e¹⁰⁰ ≈
//     2.7·10⁴³), and the noise breaks: Gaussian noise hangs once e^ε
//     overflows float64 (ε > 709.78), Laplace noise releases a sum of +Inf
//     at ε = 1e300.
//   - δ in [0, 1), and positive wherever it is spent. Private selection
//     with L0 ≤ 3 also refuses a δ for which Google's selection cannot be
//     computed (δ/L0 below the float64 normal range, or δ very near 1).
//   - Alpha 0 (for 0.05) or in [1e-12, 1): below, Gaussian intervals are
//     infinite.
//   - float64 bounds within ±1e250, so that sums stay finite; int64 sums
//     saturate at ±2⁶² before noise, so that noise cannot wrap them.
//   - the sensitivity of each noisy value (L0·L∞·max(|Lower|, |Upper|)
//     for a sum, L0·L∞·(Upper-Lower)/2 for a mean's normalized sum, L0·L∞
//     for a count; √L0 in place of L0 with Gaussian noise) at least 1e-200,
//     where the noise's granularity is still a normal float64;
//   - the noise scale of each value (sensitivity/ε for Laplace, σ for
//     Gaussian) at most 1e300 for float64 values and 2⁵⁰ for int64 values
//     (counts, int64 sums), so that noise and intervals fit the type.
//
// # Sharding
//
// Accumulation can be spread over goroutines or machines. Create the
// aggregation once (the origin), send its empty state (MarshalBinary) to
// each shard, decode it there (UnmarshalBinary), add, send the state back,
// decode and Merge it into the origin, and release once. Shards must come
// from one origin: they share the parameters and the secret that
// pseudonymizes person ids and draws the sampling priorities. Split records
// by person id where you can; a person found in several shards is detected
// by pseudonym and merged exactly, with the same uniform samples and bounds
// as a single aggregation. Merge each shard once. The encoded state is
// personal data (each person's kept records under a keyed pseudonym, and
// the key): protect it like the raw events.
//
// # Testing
//
// Package dptest provides a deterministic [NoiseSource] for unit tests of
// code that consumes releases. Results built with it report Private() ==
// false and say "NOT PRIVATE" when printed. The randomness of contribution
// bounding is reproducible with a seeded Params.Rand.
//
// # Audit
//
// Given a *slog.Logger ([BudgetOptions].Logger, [Params].Logger), the
// package emits at slog.LevelInfo:
//
//   - "dp.spend" for each spend, granted or not, with attributes event,
//     label, epsilon, delta, granted, remaining_epsilon, remaining_delta;
//   - "dp.release" for each release, with attributes event, kind
//     ("aggregation", "topk", "cooccurrence"), label, epsilon, delta,
//     partitions (how many were released) and private.
//
// Events never contain person ids, pseudonyms or partition keys.
//
// # Performance
//
// Add bounds records in batches, so that the memory latency of looking a
// person up overlaps between records: throughput falls little as the
// number of persons outgrows the processor's caches. Give
// [Params].ExpectedPersons when the number of persons is known roughly,
// and the person table is sized once instead of doubling as persons
// arrive.
//
// # glog
//
// Google's library logs with github.com/golang/glog, whose initialization
// registers nine flags on [flag.CommandLine]: -v, -vmodule,
// -log_backtrace_at, -logtostderr, -alsologtostderr, -stderrthreshold,
// -log_dir, -log_link and -logbuflevel. A host that defines its own -v
// would panic with "flag redefined: v", and every host's -h would list
// them. Package dp's initialization, which Go runs after glog's and before
// that of any package importing dp (the host's main package among them),
// takes them off: it replaces flag.CommandLine with a copy holding every
// other flag registered so far, with the same values, usage, defaults and
// set state, and the same name, error handling, output and Usage; flags
// defined later go to the copy as usual. [GlogFlags] returns glog's flags,
// for a host that logs with glog itself and wants them back.
//
// Out of dp's reach, since they happen before its initialization: a
// package that registers one of those names and is initialized before
// glog still makes glog panic (Go initializes packages in import path
// order where dependencies allow, so this is a package that does not
// import dp and whose path sorts before github.com/golang/glog); a package
// that kept the old flag.CommandLine keeps glog's flags there. Define such
// flags in main, or in a package that imports dp.
//
// What remains of glog: it is linked; its initialization reads the host
// and user names and starts a goroutine that flushes glog's log files
// every 30 seconds (there are none on tact's paths); its settings keep
// their defaults. Google's library logs through it only warnings about
// parameters tact never passes (equal bounds, an unknown noise kind, an
// overflowing sensitivity), which glog would write to log files in
// os.TempDir, and a fatal error if the operating system's random source
// fails, which glog writes to stderr and to such files before it exits the
// process. On tact's paths nothing of glog writes to stderr or to a file.
//
// # Concurrency
//
// [Budget] and the results ([Result], [Trending], [Cooccurrences] once
// returned) are safe for concurrent use. The accumulators ([Counter],
// [Aggregation], [TopK], [Cooccurrence]) are not: use one per goroutine and
// merge them, or guard them with a mutex; and do not share one
// Params.Rand between accumulators used by different goroutines. Nothing
// in the package starts a goroutine, does I/O or reads the clock on a
// decision path (a [Budget] stamps its ledger with the time, and never
// decides by it); a Budget's only I/O is through the [SpendLog] it is
// given, one spend at a time, never while holding the lock that guards
// Spent, Remaining and Ledger.
//
// # Errors
//
// Constructors validate everything once and return a *[ParamError]
// (errors.Is [ErrInvalidParams]) naming the bad parameter: ε ≤ 0, NaN,
// infinite or above [MaxEpsilon], δ outside [0, 1), L0 or L∞ below 1,
// Lower > Upper, a share of ε or δ too small for the secure noise, a
// selection threshold that would not be finite, noise that the result's
// type cannot hold (see Limits), and so on. Add never returns an error: it
// reports with a bool whether a record was accepted, rejects records
// without a person id or with a NaN value (counted by Rejected) and clamps
// out-of-range values.
// Release returns a *[BudgetError] (errors.Is [ErrBudgetExhausted]) when
// the budget cannot pay, spending nothing and leaving the accumulator
// usable, and [ErrReleased] the second time; with a [SpendLog], the log's
// and the context's errors, also leaving the accumulator usable (the spend
// may have reached the log: it then counts, and nothing was released), and
// a *[LogError] ([ErrInvalidLog]) for a log holding an impossible spend. Release checks everything
// that can fail before the budget pays, and with parameters the
// constructor accepted, nothing fails or hangs once it has paid. Merge
// returns [ErrIncompatible] for states of different origins,
// UnmarshalBinary an error wrapping [ErrInvalidState] for truncated,
// corrupted or forged state; neither changes the receiver on failure. The
// zero value of an accumulator is only a target for UnmarshalBinary: its
// Release and MarshalBinary return a *[ParamError], its Merge
// [ErrIncompatible].
package dp
