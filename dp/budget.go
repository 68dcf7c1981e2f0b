package dp

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"math/big"
	"slices"
	"sync"
	"time"
)

// Budget is a privacy budget: a total (ε, δ) that releases spend from and
// that cannot be overspent.
//
// Composition is basic sequential composition: a sequence of releases with
// parameters (ε₁, δ₁), …, (εₙ, δₙ) over the same people is (Σεᵢ, Σδᵢ)
// differentially private, whatever the releases compute and whatever data
// they share. The budget keeps the two sums exactly (in rational arithmetic
// over the float64 values spent), so float64 rounding can never let the
// spent total exceed the given total, not even by one ulp. A consequence:
// ten spends of 0.1 do not fit in a budget of 1, because the float64 nearest
// 0.1 is slightly more than a tenth; spend binary fractions (0.125, 0.25) or
// leave headroom.
//
// By default a Budget lives in memory: a new one starts full. With a
// [SpendLog] ([BudgetOptions].Log) its spends are kept where they outlive
// the process and are shared: a Budget over a log starts from every spend
// the log holds, a spend is in the log before [Budget.Spend] (and so the
// release it pays for) returns, and Budgets in several processes over one
// log take turns, so that together they never spend more than the total.
//
// A nil or zero Budget has a total of zero and refuses every spend but an
// empty one. Budget is safe for concurrent use by multiple goroutines.
type Budget struct {
	spend sync.Mutex // serializes spends, held while the log is written

	mu                   sync.Mutex // guards what follows; never held during I/O
	eps, delta           float64
	totalEps, totalDelta big.Rat
	spentEps, spentDelta big.Rat
	ledger               []Spend // the spends seen: in the log, all of its first len(ledger)
	now                  func() time.Time
	logger               *slog.Logger
	log                  SpendLog
}

// BudgetOptions configures a [Budget]. A nil *BudgetOptions means the
// defaults.
type BudgetOptions struct {
	// Now stamps ledger entries. Nil means time.Now. The time is recorded,
	// never used to decide.
	Now func() time.Time

	// Logger, if not nil, receives a "dp.spend" audit event for every spend,
	// granted or refused (see the Audit section of the package doc).
	Logger *slog.Logger

	// Log, if not nil, keeps the budget's spends durably and shares them
	// with other Budgets over the same log (see [SpendLog]). Every Budget
	// over one log must have the same total. Nil keeps them in memory.
	Log SpendLog
}

// Spend is one entry of a budget's ledger.
type Spend struct {
	Label   string    // what the spend was for, as given by the spender
	Epsilon float64   // ε spent
	Delta   float64   // δ spent
	Time    time.Time // when, by the spending budget's clock
}

// SpendLog keeps the spends of one budget durably (in the host's database:
// see dp/sqlbudget), so that the budget survives restarts and is shared by
// the processes that spend from it. [MemorySpendLog] is the in-memory
// implementation, and dptest.RunSpendLog the conformance suite.
//
// A log is a list of spends numbered from 1. Load calls fn with every
// spend after the first n, in order; an error from fn stops it and is
// returned. Append records s as spend n+1 if the log holds exactly n
// spends, and otherwise records nothing and returns an error that
// errors.Is [ErrSpendConflict] (another Budget spent first: the Budget
// loads the newer spends, checks again and retries). Once Append returns
// nil the spend must be durable and visible to every later Load, from any
// process. Both methods must be safe for concurrent use; they may return
// ctx.Err() when ctx is done.
type SpendLog interface {
	Load(ctx context.Context, n int, fn func(Spend) error) error
	Append(ctx context.Context, n int, s Spend) error
}

// NewBudget returns a budget with total (epsilon, delta). Epsilon must be
// positive and finite; delta must be in [0, 1). Invalid values return a
// *[ParamError] (errors.Is [ErrInvalidParams]). With [BudgetOptions].Log,
// the spends already in the log are loaded by the first Spend or
// [Budget.Sync].
func NewBudget(epsilon, delta float64, opts *BudgetOptions) (*Budget, error) {
	if err := checkEpsilon("Epsilon", epsilon); err != nil {
		return nil, err
	}
	if err := checkDelta("Delta", delta); err != nil {
		return nil, err
	}
	b := &Budget{eps: epsilon, delta: delta}
	b.totalEps.SetFloat64(epsilon)
	b.totalDelta.SetFloat64(delta)
	if opts != nil {
		b.now, b.logger, b.log = opts.Now, opts.Logger, opts.Log
	}
	return b, nil
}

// Spend takes (epsilon, delta) from the budget and records it in the ledger
// under label: in its log, if it has one, before Spend returns. If the
// spend does not fit, it returns a *[BudgetError] (errors.Is
// [ErrBudgetExhausted]) and spends nothing. Negative, NaN or infinite
// values return a *[ParamError]. With a log, Spend first loads the spends
// other Budgets made since this one last looked, and decides on the sum of
// all of them; the log's errors, and ctx's, are returned as they are, and
// then the spend may or may not be in the log (it counts as spent once a
// later Spend or Sync finds it there), but the caller must treat it as
// refused: nothing is released.
func (b *Budget) Spend(ctx context.Context, label string, epsilon, delta float64) error {
	if math.IsNaN(epsilon) || math.IsInf(epsilon, 0) || epsilon < 0 {
		return paramErr("Epsilon", epsilon, "a spend must be finite and not negative")
	}
	if math.IsNaN(delta) || math.IsInf(delta, 0) || delta < 0 {
		return paramErr("Delta", delta, "a spend must be finite and not negative")
	}
	if b == nil {
		if epsilon == 0 && delta == 0 {
			return nil
		}
		return &BudgetError{Label: label, Epsilon: epsilon, Delta: delta}
	}
	var t time.Time
	if b.now != nil {
		t = b.now()
	} else {
		t = time.Now()
	}
	s := Spend{Label: label, Epsilon: epsilon, Delta: delta, Time: t}
	b.spend.Lock()
	ok, err := b.spendLocked(ctx, s)
	b.spend.Unlock()
	if err != nil {
		return err
	}
	b.mu.Lock()
	remEps, remDelta := b.remainingLocked()
	b.mu.Unlock()

	if b.logger != nil {
		b.logger.LogAttrs(ctx, slog.LevelInfo, EventSpend,
			slog.String("event", EventSpend),
			slog.String("label", label),
			slog.Float64("epsilon", epsilon),
			slog.Float64("delta", delta),
			slog.Bool("granted", ok),
			slog.Float64("remaining_epsilon", remEps),
			slog.Float64("remaining_delta", remDelta))
	}
	if !ok {
		return &BudgetError{Label: label, Epsilon: epsilon, Delta: delta,
			RemainingEpsilon: remEps, RemainingDelta: remDelta}
	}
	return nil
}

// maxSpendTries bounds the tries of a Spend whose log keeps reporting that
// another Budget spent first; each lost try means another spend was
// recorded, so the log makes progress.
const maxSpendTries = 100

// spendLocked records s if it fits, and reports whether it did. b.spend
// must be held.
func (b *Budget) spendLocked(ctx context.Context, s Spend) (bool, error) {
	for try := 1; ; try++ {
		if err := b.syncLocked(ctx); err != nil {
			return false, err
		}
		b.mu.Lock()
		fits := b.fitsLocked(s)
		n := len(b.ledger)
		b.mu.Unlock()
		if !fits {
			return false, nil
		}
		if b.log != nil {
			err := b.log.Append(ctx, n, s)
			if errors.Is(err, ErrSpendConflict) && try < maxSpendTries {
				continue
			}
			if err != nil {
				return false, err
			}
		}
		b.mu.Lock()
		b.addLocked(s)
		b.mu.Unlock()
		return true, nil
	}
}

// Sync loads the spends other Budgets recorded in the log since this one
// last looked, so that [Budget.Spent], [Budget.Remaining] and
// [Budget.Ledger] count them. Without a log it does nothing. Errors are
// the log's and ctx's.
func (b *Budget) Sync(ctx context.Context) error {
	if b == nil {
		return nil
	}
	b.spend.Lock()
	defer b.spend.Unlock()
	return b.syncLocked(ctx)
}

// syncLocked loads the log's newer spends. b.spend must be held.
func (b *Budget) syncLocked(ctx context.Context) error {
	if b.log == nil {
		return nil
	}
	b.mu.Lock()
	n := len(b.ledger)
	b.mu.Unlock()
	var newer []Spend
	err := b.log.Load(ctx, n, func(s Spend) error {
		newer = append(newer, s)
		return nil
	})
	if err != nil {
		return err
	}
	for _, s := range newer {
		if math.IsNaN(s.Epsilon) || math.IsInf(s.Epsilon, 0) || s.Epsilon < 0 ||
			math.IsNaN(s.Delta) || math.IsInf(s.Delta, 0) || s.Delta < 0 {
			return &LogError{N: n + 1, Reason: "a spend that is not finite and non-negative"}
		}
		n++
	}
	b.mu.Lock()
	for _, s := range newer {
		b.addLocked(s)
	}
	b.mu.Unlock()
	return nil
}

// fitsLocked reports whether s fits in what is left. b.mu must be held.
func (b *Budget) fitsLocked(s Spend) bool {
	var e, d big.Rat
	e.SetFloat64(s.Epsilon)
	d.SetFloat64(s.Delta)
	e.Add(&e, &b.spentEps)
	d.Add(&d, &b.spentDelta)
	return e.Cmp(&b.totalEps) <= 0 && d.Cmp(&b.totalDelta) <= 0
}

// addLocked counts s as spent. b.mu must be held.
func (b *Budget) addLocked(s Spend) {
	var e, d big.Rat
	b.spentEps.Add(&b.spentEps, e.SetFloat64(s.Epsilon))
	b.spentDelta.Add(&b.spentDelta, d.SetFloat64(s.Delta))
	b.ledger = append(b.ledger, s)
}

// Total returns the budget's total (ε, δ).
func (b *Budget) Total() (epsilon, delta float64) {
	if b == nil {
		return 0, 0
	}
	return b.eps, b.delta
}

// Spent returns what has been spent so far, rounded up to float64: with a
// log, as of the last Spend or Sync.
func (b *Budget) Spent() (epsilon, delta float64) {
	if b == nil {
		return 0, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return ratUp(&b.spentEps), ratUp(&b.spentDelta)
}

// Remaining returns what is left, rounded down to float64, so that spending
// exactly the returned values always succeeds (barring concurrent spends,
// here or through the log). With a log, it is as of the last Spend or
// Sync, and other Budgets may have spent since.
func (b *Budget) Remaining() (epsilon, delta float64) {
	if b == nil {
		return 0, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.remainingLocked()
}

func (b *Budget) remainingLocked() (float64, float64) {
	var e, d big.Rat
	e.Sub(&b.totalEps, &b.spentEps)
	d.Sub(&b.totalDelta, &b.spentDelta)
	return ratDown(&e), ratDown(&d)
}

// Ledger returns a copy of the granted spends, oldest first: with a log,
// every spend in it as of the last Spend or Sync.
func (b *Budget) Ledger() []Spend {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Spend, len(b.ledger))
	copy(out, b.ledger)
	return out
}

// ratDown returns the largest float64 not above r.
func ratDown(r *big.Rat) float64 {
	f, _ := r.Float64()
	var back big.Rat
	if back.SetFloat64(f) == nil {
		return f
	}
	if back.Cmp(r) > 0 {
		f = math.Nextafter(f, math.Inf(-1))
	}
	return f
}

// ratUp returns the smallest float64 not below r.
func ratUp(r *big.Rat) float64 {
	f, _ := r.Float64()
	var back big.Rat
	if back.SetFloat64(f) == nil {
		return f
	}
	if back.Cmp(r) < 0 {
		f = math.Nextafter(f, math.Inf(1))
	}
	return f
}

// splitDown splits x into shares proportional to weights, each share rounded
// so that the exact sum of the shares never exceeds x.
func splitDown(x float64, weights ...float64) []float64 {
	var total float64
	for _, w := range weights {
		total += w
	}
	shares := make([]float64, len(weights))
	var want big.Rat
	want.SetFloat64(x)
	for {
		var sum, s big.Rat
		for i, w := range weights {
			shares[i] = x * (w / total)
			sum.Add(&sum, s.SetFloat64(shares[i]))
		}
		if sum.Cmp(&want) <= 0 {
			return shares
		}
		x = math.Nextafter(x, 0)
	}
}

// MemorySpendLog is a [SpendLog] in memory: for tests, and for several
// Budgets in one process that share one total. The zero value is an empty
// log ready to use. It is safe for concurrent use by multiple goroutines.
type MemorySpendLog struct {
	mu     sync.Mutex
	spends []Spend
}

var _ SpendLog = (*MemorySpendLog)(nil)

// Load implements [SpendLog.Load]. It holds no lock while fn runs.
func (l *MemorySpendLog) Load(ctx context.Context, n int, fn func(Spend) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	var newer []Spend
	if n >= 0 && n < len(l.spends) {
		newer = slices.Clone(l.spends[n:])
	}
	l.mu.Unlock()
	for _, s := range newer {
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}

// Append implements [SpendLog.Append].
func (l *MemorySpendLog) Append(ctx context.Context, n int, s Spend) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n != len(l.spends) {
		return ErrSpendConflict
	}
	l.spends = append(l.spends, s)
	return nil
}

// Len returns the number of spends in the log.
func (l *MemorySpendLog) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.spends)
}
