package dp_test

import (
	"bytes"
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

	require.NoError(t, b.Spend("a", 0.5, 0))
	require.NoError(t, b.Spend("b", 0.25, 1e-6))
	err = b.Spend("c", 0.5, 0)
	require.ErrorIs(t, err, dp.ErrBudgetExhausted)
	var be *dp.BudgetError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, "c", be.Label)
	assert.Equal(t, 0.25, be.RemainingEpsilon)

	// δ alone can exhaust too.
	require.ErrorIs(t, b.Spend("d", 0, 1e-5), dp.ErrBudgetExhausted)

	eps, delta := b.Spent()
	assert.Equal(t, 0.75, eps)
	assert.Equal(t, 1e-6, delta)
	led := b.Ledger()
	require.Len(t, led, 2, "refused spends are not in the ledger")
	assert.Equal(t, dp.Spend{Label: "b", Epsilon: 0.25, Delta: 1e-6, Time: now}, led[1])

	// The rest can be spent exactly.
	re, rd := b.Remaining()
	require.NoError(t, b.Spend("rest", re, rd))
	require.ErrorIs(t, b.Spend("more", math.SmallestNonzeroFloat64, 0), dp.ErrBudgetExhausted)
}

func TestBudgetSpendRejectsBadValues(t *testing.T) {
	b, err := dp.NewBudget(1, 0.1, nil)
	require.NoError(t, err)
	for _, v := range [][2]float64{{-0.1, 0}, {0, -0.1}, {math.NaN(), 0}, {0, math.NaN()}, {math.Inf(1), 0}, {0, math.Inf(1)}} {
		require.ErrorIs(t, b.Spend("bad", v[0], v[1]), dp.ErrInvalidParams, "%v", v)
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
		require.NoError(t, b.Spend("tenth", 0.1, 0))
	}
	require.ErrorIs(t, b.Spend("tenth", 0.1, 0), dp.ErrBudgetExhausted)

	// Binary fractions add up exactly.
	b2, err := dp.NewBudget(1, 0, nil)
	require.NoError(t, err)
	for i := 0; i < 8; i++ {
		require.NoError(t, b2.Spend("eighth", 0.125, 0))
	}
	re, _ := b2.Remaining()
	assert.Zero(t, re)

	// Tiny spends that float64 addition would absorb are still counted.
	b3, err := dp.NewBudget(1, 0, nil)
	require.NoError(t, err)
	require.NoError(t, b3.Spend("big", 1, 0))
	require.ErrorIs(t, b3.Spend("tiny", 1e-300, 0), dp.ErrBudgetExhausted)
}

func TestBudgetNilAndZero(t *testing.T) {
	var nilB *dp.Budget
	require.ErrorIs(t, nilB.Spend("x", 0.1, 0), dp.ErrBudgetExhausted)
	require.NoError(t, nilB.Spend("nothing", 0, 0))
	var zero dp.Budget
	require.ErrorIs(t, zero.Spend("x", 0.1, 0), dp.ErrBudgetExhausted)
	require.NoError(t, zero.Spend("nothing", 0, 0))
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
				err := b.Spend("race", 1.0/256, 1e-5/512)
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
	require.NoError(t, b.Spend("weekly report", 0.75, 0))
	require.Error(t, b.Spend("second", 0.5, 0))
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
