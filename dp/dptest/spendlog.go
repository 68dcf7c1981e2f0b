package dptest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tact-go/tact/dp"
)

// RunSpendLog runs the conformance suite for [dp.SpendLog]
// implementations, in the shape of consenttest.Run: newLog is called once
// per subtest with the subtest's t and must return an empty log;
// newLog2, if not nil, must return a second handle on the same log as the
// last newLog call (another *sql.DB on the same database, say), so that
// the suite can check that two processes share it. It checks numbering and
// conflicts, that Load sees every spend a returned Append made, and that
// Budgets over the log, spending concurrently from two handles, never
// spend more than their total.
func RunSpendLog(t *testing.T, newLog func(t *testing.T) dp.SpendLog, newLog2 func(t *testing.T) dp.SpendLog) {
	t.Helper()
	second := func(t *testing.T, first dp.SpendLog) dp.SpendLog {
		if newLog2 == nil {
			return first
		}
		return newLog2(t)
	}
	ctx := context.Background()
	at := time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC)
	load := func(t *testing.T, l dp.SpendLog, n int) []dp.Spend {
		t.Helper()
		var out []dp.Spend
		if err := l.Load(ctx, n, func(s dp.Spend) error { out = append(out, s); return nil }); err != nil {
			t.Fatalf("Load(%d): %v", n, err)
		}
		return out
	}
	t.Run("AppendAndLoad", func(t *testing.T) {
		l := newLog(t)
		if got := load(t, l, 0); len(got) != 0 {
			t.Fatalf("a new log holds %v", got)
		}
		want := []dp.Spend{
			{Label: "trending", Epsilon: 0.5, Delta: 1e-6, Time: at},
			{Label: "baskets — ε½", Epsilon: 0.125, Delta: 0, Time: at.Add(time.Hour)},
			{Label: "", Epsilon: 5e-324, Delta: 0.25, Time: at.Add(2 * time.Hour)},
		}
		for i, s := range want {
			if err := l.Append(ctx, i, s); err != nil {
				t.Fatalf("Append(%d): %v", i, err)
			}
		}
		got := load(t, l, 0)
		if len(got) != len(want) {
			t.Fatalf("Load(0) = %d spends; want %d", len(got), len(want))
		}
		for i := range want {
			if got[i].Label != want[i].Label || got[i].Epsilon != want[i].Epsilon || got[i].Delta != want[i].Delta || !got[i].Time.Equal(want[i].Time) {
				t.Errorf("spend %d = %+v; want %+v (exact floats, times to the nanosecond)", i+1, got[i], want[i])
			}
		}
		if tail := load(t, l, 2); len(tail) != 1 || tail[0].Label != "" {
			t.Errorf("Load(2) = %+v; want the third spend only", tail)
		}
		if tail := load(t, second(t, l), 3); len(tail) != 0 {
			t.Errorf("Load(3) = %+v; want nothing", tail)
		}
	})
	t.Run("AppendConflicts", func(t *testing.T) {
		l := newLog(t)
		s := dp.Spend{Label: "x", Epsilon: 1, Time: at}
		for _, n := range []int{1, 5} {
			if err := l.Append(ctx, n, s); !errors.Is(err, dp.ErrSpendConflict) {
				t.Errorf("Append(%d) on an empty log = %v; want ErrSpendConflict", n, err)
			}
		}
		if err := l.Append(ctx, 0, s); err != nil {
			t.Fatal(err)
		}
		if err := second(t, l).Append(ctx, 0, s); !errors.Is(err, dp.ErrSpendConflict) {
			t.Errorf("a second Append(0) = %v; want ErrSpendConflict", err)
		}
		if got := load(t, l, 0); len(got) != 1 {
			t.Errorf("after conflicts the log holds %d spends; want 1", len(got))
		}
	})
	t.Run("LoadStopsOnError", func(t *testing.T) {
		l := newLog(t)
		for i := range 3 {
			if err := l.Append(ctx, i, dp.Spend{Label: fmt.Sprint(i), Time: at}); err != nil {
				t.Fatal(err)
			}
		}
		stop := errors.New("stop")
		calls := 0
		err := l.Load(ctx, 0, func(dp.Spend) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Errorf("Load with fn failing = %v after %d calls; want fn's error after 1", err, calls)
		}
	})
	t.Run("CancelledContext", func(t *testing.T) {
		l := newLog(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := l.Append(cctx, 0, dp.Spend{Epsilon: 1, Time: at}); err == nil {
			t.Errorf("Append with a cancelled context = nil; want an error")
		}
		if got := load(t, l, 0); len(got) != 0 {
			t.Errorf("an Append with a cancelled context stored %v", got)
		}
	})
	t.Run("BudgetsNeverOverspend", func(t *testing.T) {
		// 16 spenders on two handles, each spending 1/64 of ε = 1 until
		// refused: exactly 64 spends fit, whatever the interleaving.
		logs := []dp.SpendLog{newLog(t)}
		logs = append(logs, second(t, logs[0]))
		const spenders, unit = 16, 1.0 / 64
		var granted atomic.Int64
		var wg sync.WaitGroup
		for i := range spenders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b, err := dp.NewBudget(1, 0, &dp.BudgetOptions{Log: logs[i%2]})
				if err != nil {
					t.Error(err)
					return
				}
				for {
					err := b.Spend(ctx, fmt.Sprint("spender ", i), unit, 0)
					if errors.Is(err, dp.ErrBudgetExhausted) {
						return
					}
					if err != nil {
						t.Errorf("Spend: %v", err)
						return
					}
					granted.Add(1)
				}
			}()
		}
		wg.Wait()
		if got := granted.Load(); got != 64 {
			t.Errorf("16 Budgets over one log granted %d spends of 1/64 from ε = 1; want exactly 64 (%d overspent)", got, got-64)
		}
		if n := len(load(t, logs[0], 0)); n != 64 {
			t.Errorf("the log holds %d spends; want 64", n)
		}
		// A new Budget over the log starts from what was spent.
		b, err := dp.NewBudget(1, 0, &dp.BudgetOptions{Log: second(t, logs[0])})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Spend(ctx, "after a restart", unit, 0); !errors.Is(err, dp.ErrBudgetExhausted) {
			t.Errorf("a new Budget over a spent log: Spend = %v; want ErrBudgetExhausted", err)
		}
		if e, _ := b.Spent(); e != 1 {
			t.Errorf("a new Budget over the log: Spent ε = %v; want 1", e)
		}
	})
}
