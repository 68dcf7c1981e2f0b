package dp

import (
	"context"
	"log/slog"
	"math"
	"math/big"
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
// A nil or zero Budget has a total of zero and refuses every spend but an
// empty one. Budget is safe for concurrent use by multiple goroutines.
type Budget struct {
	mu                   sync.Mutex
	eps, delta           float64
	totalEps, totalDelta big.Rat
	spentEps, spentDelta big.Rat
	ledger               []Spend
	now                  func() time.Time
	logger               *slog.Logger
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
}

// Spend is one entry of a budget's ledger.
type Spend struct {
	Label   string    // what the spend was for, as given by the spender
	Epsilon float64   // ε spent
	Delta   float64   // δ spent
	Time    time.Time // when, by the budget's clock
}

// NewBudget returns a budget with total (epsilon, delta). Epsilon must be
// positive and finite; delta must be in [0, 1). Invalid values return a
// *[ParamError] (errors.Is [ErrInvalidParams]).
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
		b.now, b.logger = opts.Now, opts.Logger
	}
	return b, nil
}

// Spend takes (epsilon, delta) from the budget and records it in the ledger
// under label. If the spend does not fit, it returns a *[BudgetError]
// (errors.Is [ErrBudgetExhausted]) and spends nothing. Negative, NaN or
// infinite values return a *[ParamError].
func (b *Budget) Spend(label string, epsilon, delta float64) error {
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
	var e, d big.Rat
	e.SetFloat64(epsilon)
	d.SetFloat64(delta)

	b.mu.Lock()
	e.Add(&e, &b.spentEps)
	d.Add(&d, &b.spentDelta)
	ok := e.Cmp(&b.totalEps) <= 0 && d.Cmp(&b.totalDelta) <= 0
	if ok {
		b.spentEps.Set(&e)
		b.spentDelta.Set(&d)
		b.ledger = append(b.ledger, Spend{Label: label, Epsilon: epsilon, Delta: delta, Time: t})
	}
	remEps, remDelta := b.remainingLocked()
	b.mu.Unlock()

	if b.logger != nil {
		b.logger.LogAttrs(context.Background(), slog.LevelInfo, EventSpend,
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

// Total returns the budget's total (ε, δ).
func (b *Budget) Total() (epsilon, delta float64) {
	if b == nil {
		return 0, 0
	}
	return b.eps, b.delta
}

// Spent returns what has been spent so far, rounded up to float64.
func (b *Budget) Spent() (epsilon, delta float64) {
	if b == nil {
		return 0, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return ratUp(&b.spentEps), ratUp(&b.spentDelta)
}

// Remaining returns what is left, rounded down to float64, so that spending
// exactly the returned values always succeeds (barring concurrent spends).
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

// Ledger returns a copy of the granted spends, oldest first.
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
