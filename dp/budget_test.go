package dp_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/dp"
)

func TestNewBudgetValidation(t *testing.T) {
	tests := []struct {
		name       string
		eps, delta float64
		param      string
		reason     string
	}{
		{"zero epsilon", 0, 0, "Epsilon", "ε must be positive"},
		{"negative epsilon", -1, 0, "Epsilon", "ε must be positive"},
		{"NaN epsilon", math.NaN(), 0, "Epsilon", "NaN is not a number"},
		{"infinite epsilon", math.Inf(1), 0, "Epsilon", "∞ gives no privacy"},
		{"negative delta", 1, -1e-9, "Delta", "δ is a probability"},
		{"delta one", 1, 1, "Delta", "δ = 1 gives no privacy"},
		{"NaN delta", 1, math.NaN(), "Delta", "NaN is not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := dp.NewBudget(tt.eps, tt.delta, nil)
			require.ErrorIs(t, err, dp.ErrInvalidParams, tt.reason)
			var pe *dp.ParamError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.param, pe.Param)
			assert.Nil(t, b)
			assert.True(t, strings.HasPrefix(err.Error(), "dp: "), err.Error())
		})
	}
}

func TestBudgetSpendAndExhaust(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b, err := dp.NewBudget(1, 1e-5, &dp.BudgetOptions{Now: func() time.Time { return now }})
	require.NoError(t, err)

	require.NoError(t, b.Spend(ctx, "a", 0.5, 0))
	require.NoError(t, b.Spend(ctx, "b", 0.25, 1e-6))
	err = b.Spend(ctx, "c", 0.5, 0)
	require.ErrorIs(t, err, dp.ErrBudgetExhausted)
	var be *dp.BudgetError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, "c", be.Label)
	assert.Equal(t, 0.25, be.RemainingEpsilon)

	// δ alone can exhaust too.
	require.ErrorIs(t, b.Spend(ctx, "d", 0, 1e-5), dp.ErrBudgetExhausted)

	eps, delta := b.Spent()
	assert.Equal(t, 0.75, eps)
	assert.Equal(t, 1e-6, delta)
	led := b.Ledger()
	require.Len(t, led, 2, "refused spends are not in the ledger")
	assert.Equal(t, dp.Spend{Label: "b", Epsilon: 0.25, Delta: 1e-6, Time: now}, led[1])

	// The rest can be spent exactly.
	re, rd := b.Remaining()
	require.NoError(t, b.Spend(ctx, "rest", re, rd))
	require.ErrorIs(t, b.Spend(ctx, "more", math.SmallestNonzeroFloat64, 0), dp.ErrBudgetExhausted)
}

func TestBudgetSpendRejectsBadValues(t *testing.T) {
	b, err := dp.NewBudget(1, 0.1, nil)
	require.NoError(t, err)
	for _, v := range [][2]float64{{-0.1, 0}, {0, -0.1}, {math.NaN(), 0}, {0, math.NaN()}, {math.Inf(1), 0}, {0, math.Inf(1)}} {
		require.ErrorIs(t, b.Spend(ctx, "bad", v[0], v[1]), dp.ErrInvalidParams, "%v", v)
	}
	eps, delta := b.Spent()
	assert.Zero(t, eps)
	assert.Zero(t, delta, "bad spends spend nothing")
}

// Float64 rounding must never let the spent sum exceed the total.
func TestBudgetExactArithmetic(t *testing.T) {
	b, err := dp.NewBudget(1, 0, nil)
	require.NoError(t, err)
	// 0.1 as a float64 is slightly more than a tenth: ten of them exceed 1,
	// although float64 addition of ten 0.1 gives 0.9999999999999999.
	for i := 0; i < 9; i++ {
		require.NoError(t, b.Spend(ctx, "tenth", 0.1, 0))
	}
	require.ErrorIs(t, b.Spend(ctx, "tenth", 0.1, 0), dp.ErrBudgetExhausted)

	// Binary fractions add up exactly.
	b2, err := dp.NewBudget(1, 0, nil)
	require.NoError(t, err)
	for i := 0; i < 8; i++ {
		require.NoError(t, b2.Spend(ctx, "eighth", 0.125, 0))
	}
	re, _ := b2.Remaining()
	assert.Zero(t, re)

	// Tiny spends that float64 addition would absorb are still counted.
	b3, err := dp.NewBudget(1, 0, nil)
	require.NoError(t, err)
	require.NoError(t, b3.Spend(ctx, "big", 1, 0))
	require.ErrorIs(t, b3.Spend(ctx, "tiny", 1e-300, 0), dp.ErrBudgetExhausted)
}

func TestBudgetNilAndZero(t *testing.T) {
	var nilB *dp.Budget
	require.ErrorIs(t, nilB.Spend(ctx, "x", 0.1, 0), dp.ErrBudgetExhausted)
	require.NoError(t, nilB.Spend(ctx, "nothing", 0, 0))
	var zero dp.Budget
	require.ErrorIs(t, zero.Spend(ctx, "x", 0.1, 0), dp.ErrBudgetExhausted)
	require.NoError(t, zero.Spend(ctx, "nothing", 0, 0))
	e, d := zero.Total()
	assert.Zero(t, e+d)
}

// Concurrent spends never exceed the budget (run with -race).
func TestBudgetConcurrentSpends(t *testing.T) {
	b, err := dp.NewBudget(1, 1e-5, nil)
	require.NoError(t, err)
	const goroutines, each = 8, 100
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted := 0
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				err := b.Spend(ctx, "race", 1.0/256, 1e-5/512)
				if err == nil {
					mu.Lock()
					granted++
					mu.Unlock()
				} else if !errors.Is(err, dp.ErrBudgetExhausted) {
					t.Error(err)
				}
				b.Remaining()
				b.Ledger()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 256, granted, "exactly the spends that fit are granted")
	eps, _ := b.Spent()
	assert.LessOrEqual(t, eps, 1.0)
	assert.Len(t, b.Ledger(), 256)
}

func TestBudgetAuditEvents(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	b, err := dp.NewBudget(1, 0, &dp.BudgetOptions{Logger: logger})
	require.NoError(t, err)
	require.NoError(t, b.Spend(ctx, "weekly report", 0.75, 0))
	require.Error(t, b.Spend(ctx, "second", 0.5, 0))
	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2)
	assert.Contains(t, lines[0], `"msg":"dp.spend"`)
	assert.Contains(t, lines[0], `"event":"dp.spend"`)
	assert.Contains(t, lines[0], `"label":"weekly report"`)
	assert.Contains(t, lines[0], `"granted":true`)
	assert.Contains(t, lines[1], `"granted":false`)
	assert.Contains(t, lines[1], `"remaining_epsilon":0.25`)
}

// flakyLog is a SpendLog whose Append fails or loses races on demand.
type flakyLog struct {
	dp.MemorySpendLog
	fail      error // returned by the next Append, then cleared
	conflicts int   // how many Appends another Budget wins first
}

func (l *flakyLog) Append(ctx context.Context, n int, s dp.Spend) error {
	if err := l.fail; err != nil {
		l.fail = nil
		return err
	}
	if l.conflicts > 0 {
		l.conflicts--
		// Another Budget spends first.
		if err := l.MemorySpendLog.Append(ctx, l.MemorySpendLog.Len(), dp.Spend{Label: "rival", Epsilon: 0.0625}); err != nil {
			return err
		}
	}
	return l.MemorySpendLog.Append(ctx, n, s)
}

func TestBudgetWithALog(t *testing.T) {
	log := new(dp.MemorySpendLog)
	b, err := dp.NewBudget(1, 1e-6, &dp.BudgetOptions{Log: log})
	require.NoError(t, err)
	require.NoError(t, b.Spend(ctx, "a", 0.5, 0))
	assert.Equal(t, 1, log.Len(), "the spend is in the log when Spend returns")

	// A restart: a new Budget over the log starts from what was spent.
	b2, err := dp.NewBudget(1, 1e-6, &dp.BudgetOptions{Log: log})
	require.NoError(t, err)
	require.NoError(t, b2.Sync(ctx))
	e, _ := b2.Remaining()
	assert.Equal(t, 0.5, e)
	require.ErrorIs(t, b2.Spend(ctx, "too much", 0.75, 0), dp.ErrBudgetExhausted)
	require.NoError(t, b2.Spend(ctx, "b", 0.25, 0))
	// The first Budget learns of it on its next spend, and refuses.
	require.ErrorIs(t, b.Spend(ctx, "c", 0.5, 0), dp.ErrBudgetExhausted)
	assert.Len(t, b.Ledger(), 2)
	assert.Equal(t, 2, log.Len())
}

func TestBudgetLosesRacesThenDecides(t *testing.T) {
	l := &flakyLog{conflicts: 3}
	b, err := dp.NewBudget(1, 0, &dp.BudgetOptions{Log: l})
	require.NoError(t, err)
	require.NoError(t, b.Spend(ctx, "mine", 0.5, 0))
	assert.Equal(t, 4, l.Len(), "three rival spends, then mine")
	spent, _ := b.Spent()
	assert.Equal(t, 0.6875, spent, "the rivals' spends count")
	// Rivals take what this spend needed: refused, not overspent.
	l.conflicts = 6
	require.ErrorIs(t, b.Spend(ctx, "more", 0.25, 0), dp.ErrBudgetExhausted)
	spent, _ = b.Spent()
	assert.LessOrEqual(t, spent, 1.0)
}

func TestBudgetLogErrors(t *testing.T) {
	boom := errors.New("database down")
	l := &flakyLog{fail: boom}
	b, err := dp.NewBudget(1, 0, &dp.BudgetOptions{Log: l})
	require.NoError(t, err)
	require.ErrorIs(t, b.Spend(ctx, "a", 0.5, 0), boom)
	spent, _ := b.Spent()
	assert.Zero(t, spent, "a spend the log refused is not counted")

	// A release whose spend the log refuses releases nothing, and can be
	// tried again.
	c, err := dp.NewCounter(dp.Params{Epsilon: 0.5, Delta: 1e-6, MaxPartitions: 1, MaxContributions: 1})
	require.NoError(t, err)
	c.Add("p", "k")
	l2 := &flakyLog{fail: boom}
	b2, err := dp.NewBudget(1, 1e-5, &dp.BudgetOptions{Log: l2})
	require.NoError(t, err)
	_, err = c.Release(ctx, b2)
	require.ErrorIs(t, err, boom)
	_, err = c.Release(ctx, b2)
	require.NoError(t, err)
	assert.Equal(t, 1, l2.Len())

	// A log holding a spend no Budget could make.
	bad := new(dp.MemorySpendLog)
	require.NoError(t, bad.Append(ctx, 0, dp.Spend{Label: "forged", Epsilon: math.NaN()}))
	b3, err := dp.NewBudget(1, 0, &dp.BudgetOptions{Log: bad})
	require.NoError(t, err)
	err = b3.Spend(ctx, "x", 0.1, 0)
	require.ErrorIs(t, err, dp.ErrInvalidLog)
	var le *dp.LogError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, 1, le.N)

	// A cancelled context.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	b4, err := dp.NewBudget(1, 0, &dp.BudgetOptions{Log: new(dp.MemorySpendLog)})
	require.NoError(t, err)
	require.ErrorIs(t, b4.Spend(cctx, "x", 0.1, 0), context.Canceled)
}
