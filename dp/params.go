package dp

import (
	"log/slog"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Value is the type of the values an [Aggregation] sums, averages or ranks.
type Value interface{ int64 | float64 }

// NoiseKind selects the noise distribution of a release.
type NoiseKind uint8

// Noise kinds. Both are Google's secure implementations, robust to the
// floating-point attacks that naive samplers suffer.
const (
	// Laplace noise gives pure ε-DP to the noisy values (δ is then spent only
	// by private partition selection). Best when a person touches few
	// partitions.
	Laplace NoiseKind = iota
	// Gaussian noise needs δ > 0 and scales with the square root of the
	// number of partitions a person touches, so it wins when that number is
	// large (roughly above 3).
	Gaussian
)

func (k NoiseKind) String() string {
	switch k {
	case Laplace:
		return "Laplace"
	case Gaussian:
		return "Gaussian"
	}
	return "NoiseKind(" + itoa(int64(k)) + ")"
}

// Metric selects what an [Aggregation] releases per partition. Combine with |.
type Metric uint8

// Metrics.
const (
	Count     Metric = 1 << iota // number of contributions
	Sum                          // sum of the clamped values
	Mean                         // mean of the clamped values
	Quantiles                    // quantiles of the clamped values at Spec.Ranks
)

func (m Metric) String() string {
	var parts []string
	for _, x := range []struct {
		m Metric
		s string
	}{{Count, "count"}, {Sum, "sum"}, {Mean, "mean"}, {Quantiles, "quantiles"}} {
		if m&x.m != 0 {
			parts = append(parts, x.s)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "+")
}

// Limits on the contribution bounds, to keep memory per person small.
const (
	MaxL0   = 1<<16 - 1 // largest MaxPartitions
	MaxLInf = 1 << 20   // largest MaxContributions
)

// MaxEpsilon is the largest ε one release may spend ([Params].Epsilon,
// [CooccurrenceParams].Epsilon). A release at ε = 100 may already change
// the probability of an output by a factor of e¹⁰⁰ ≈ 2.7·10⁴³: no privacy
// is left long before. Beyond it Google's secure noise breaks down: its
// Gaussian calibration computes e^ε, which overflows float64 above ε ≈
// 709.78, and then hangs; its Laplace noise rounds the value to a
// granularity near sensitivity/(2⁴⁰·ε), which at ε = 1e300 makes the
// released sum +Inf. A [Budget] may hold more than MaxEpsilon, to be spent
// by several releases.
const MaxEpsilon = 100.0

// minAlpha is the smallest Params.Alpha. The intervals of a mean split α in
// up to 100 parts, and Go's math.Erfcinv, behind Gaussian intervals,
// rounds 1-x to 1 and returns ±Inf for x below 2⁻⁵³.
const minAlpha = 1e-12

// Params are the privacy parameters and settings of one release. Epsilon,
// MaxPartitions and MaxContributions are required: the zero Params is
// invalid, and constructors say which field is wrong with a *[ParamError].
// The other fields have the defaults their docs give.
type Params struct {
	// Epsilon is the privacy loss the release may cause, spent from the
	// budget at release. Smaller is more private and more noisy. Required:
	// at least 2⁻⁵⁰ and at most [MaxEpsilon] (100). See "Choosing ε" and
	// "Limits" in the package doc.
	Epsilon float64

	// Delta is the probability with which the ε guarantee may fail. It is
	// needed by private partition selection and by Gaussian noise, and
	// spent only by them: with Laplace noise and public partitions nothing
	// of it is spent. Must be in [0, 1); choose it well below 1/(number of
	// people), e.g. 1e-6 for a million people.
	Delta float64

	// MaxPartitions (L0) is how many different partitions one person may
	// contribute to. When a person has more, tact keeps a uniformly random
	// subset of that size and drops the rest. Noise grows with it. Required,
	// at least 1.
	MaxPartitions int

	// MaxContributions (L∞) is how many records one person may contribute to
	// one partition. Surplus records are dropped, keeping a uniformly random
	// subset. Noise grows with it. Required, at least 1.
	MaxContributions int

	// Noise is the noise distribution; the zero value is Laplace.
	Noise NoiseKind

	// Partitions, if not nil, are the public partition keys: known in
	// advance, independently of the data (a catalog, a list of regions).
	// Every one of them is released, with noise, even when no one
	// contributed; records for other keys are ignored. If nil, partitions
	// are selected privately from the data, which needs Delta > 0 and drops
	// partitions with too few people.
	Partitions []string

	// MinPersons is a pre-threshold for private selection: partitions with
	// fewer distinct persons are never released, and the selection
	// threshold rises accordingly (Google's pre-thresholding, which keeps
	// the guarantee). Zero means 1, no pre-threshold.
	MinPersons int

	// Alpha sets the confidence intervals of the result: each holds the
	// true (bounded) value with probability at least 1-Alpha. Zero means
	// 0.05; otherwise it must be in [1e-12, 1), below which the intervals
	// would not be finite. Computing intervals spends no budget.
	Alpha float64

	// Label names the release in the budget's ledger and in audit events.
	// Empty means "dp release".
	Label string

	// Rand is the randomness of contribution bounding (which partitions and
	// records of a person are kept, and the secret salt of the keyed hash
	// behind both). Nil means a fresh random source: leave it nil in
	// production. Inject a seeded source in tests for reproducible
	// bounding. A seed that others know voids the guarantee against them:
	// with it and everyone else's data, one can see how a person's records
	// shift which records of later persons are sampled; and a seed reused
	// for every release keeps the same partitions of each person every
	// time. The accumulator draws from Rand as records arrive: do not share
	// one between accumulators used by different goroutines. The noise
	// always comes from Google's secure sampler unless NoiseSource is set.
	Rand *rand.Rand

	// NoiseSource replaces the secure noise; nil means Google's secure
	// noise. Any other source makes results that are not private and
	// marked as such (Result.Private reports false). For unit tests: see
	// package dptest.
	NoiseSource NoiseSource

	// Logger, if not nil, receives a "dp.release" audit event per release.
	Logger *slog.Logger

	// ExpectedPersons is a capacity hint: about how many distinct persons
	// will contribute. The accumulator then sizes its person table for
	// them at construction (128 to 256 bytes per person), instead of
	// starting small and doubling, rehashing every person, as they arrive.
	// It changes only speed and memory: with more or fewer persons than
	// the hint, the same records are kept and releases have the same
	// distribution. Zero means no hint; it must be between 0 and 2³⁰. It
	// is not part of the encoded state (MarshalBinary), nor compared by
	// Merge.
	ExpectedPersons int
}

// maxExpectedPersons is the largest ExpectedPersons: the person table is
// indexed by int32 and kept at most half full.
const maxExpectedPersons = 1 << 30

func checkExpectedPersons(n int) error {
	if n < 0 || n > maxExpectedPersons {
		return paramErr("ExpectedPersons", n, "must be between 0 and 2^30")
	}
	return nil
}

func (p *Params) label(def string) string {
	if p.Label != "" {
		return p.Label
	}
	return def
}

func (p *Params) alpha() float64 {
	if p.Alpha == 0 {
		return 0.05
	}
	return p.Alpha
}

func (p *Params) minPersons() int64 {
	if p.MinPersons < 1 {
		return 1
	}
	return int64(p.MinPersons)
}

// validate checks the fields shared by every release.
func (p *Params) validate() error {
	if err := checkReleaseEpsilon(p.Epsilon); err != nil {
		return err
	}
	if err := checkDelta("Delta", p.Delta); err != nil {
		return err
	}
	if p.MaxPartitions < 1 || p.MaxPartitions > MaxL0 {
		return paramErr("MaxPartitions", p.MaxPartitions, "must be between 1 and "+itoa(MaxL0))
	}
	if p.MaxContributions < 1 || p.MaxContributions > MaxLInf {
		return paramErr("MaxContributions", p.MaxContributions, "must be between 1 and "+itoa(MaxLInf))
	}
	if p.Noise != Laplace && p.Noise != Gaussian {
		return paramErr("Noise", p.Noise, "must be Laplace or Gaussian")
	}
	if p.Noise == Gaussian && p.Delta == 0 {
		return paramErr("Delta", p.Delta, "Gaussian noise needs delta > 0")
	}
	if p.Partitions == nil && p.Delta == 0 {
		return paramErr("Delta", p.Delta, "private partition selection needs delta > 0 (or give public Partitions)")
	}
	if p.MinPersons < 0 {
		return paramErr("MinPersons", p.MinPersons, "must not be negative")
	}
	if a := p.Alpha; a != 0 && !(a >= minAlpha && a < 1) {
		return paramErr("Alpha", a, "must be in [1e-12, 1), or 0 for 0.05")
	}
	return checkExpectedPersons(p.ExpectedPersons)
}

func checkEpsilon(name string, e float64) error {
	if math.IsNaN(e) || math.IsInf(e, 0) || e <= 0 {
		return paramErr(name, e, "must be positive and finite")
	}
	if e < minEpsilon {
		return paramErr(name, e, "must be at least 2⁻⁵⁰ for the secure noise")
	}
	return nil
}

// checkReleaseEpsilon checks the ε of one release: as checkEpsilon, and at
// most MaxEpsilon.
func checkReleaseEpsilon(e float64) error {
	if err := checkEpsilon("Epsilon", e); err != nil {
		return err
	}
	if e > MaxEpsilon {
		return paramErr("Epsilon", e, "must be at most MaxEpsilon (100): beyond it no privacy is left and the secure noise fails")
	}
	return nil
}

func checkDelta(name string, d float64) error {
	if math.IsNaN(d) || !(d >= 0 && d < 1) {
		return paramErr(name, d, "must be in [0, 1)")
	}
	return nil
}

// minEpsilon is the least ε that Google's secure noise accepts.
const minEpsilon = 1.0 / (1 << 50)

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

// dedupe returns keys without duplicates, in first-seen order.
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
