package dbtest_test

import (
	"context"
	"database/sql"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/tact-go/tact/consent/sqlstore"
	"github.com/tact-go/tact/consent/sqlstore/sqltest"
	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/dptest"
	"github.com/tact-go/tact/dp/sqlbudget"
)

var ctx = context.Background()

func openLog(t testing.TB, db *sql.DB, d sqlstore.Dialect, name string) *sqlbudget.Log {
	t.Helper()
	l, err := sqlbudget.New(ctx, db, d, name, 1, 0)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

// The conformance suite, with the second handle on another *sql.DB over
// the same database: two processes.
func TestConformance(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, d sqlstore.Dialect) {
		var x sqltest.DB
		dptest.RunSpendLog(t, func(t *testing.T) dp.SpendLog {
			x = sqltest.New(t, d)
			db := x.Open(t)
			require.NoError(t, sqlbudget.Migrate(ctx, db, d))
			return openLog(t, db, d, "weekly")
		}, func(t *testing.T) dp.SpendLog {
			return openLog(t, x.Open(t), d, "weekly")
		})
	})
}

func TestTotalAndNames(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, d sqlstore.Dialect) {
		db := sqltest.New(t, d).Open(t)
		_, err := sqlbudget.New(ctx, db, d, "weekly", 1, 1e-5)
		require.ErrorIs(t, err, sqlstore.ErrSchema, "not migrated")
		require.NoError(t, sqlbudget.Migrate(ctx, db, d))

		l, err := sqlbudget.New(ctx, db, d, "weekly", 1, 1e-5)
		require.NoError(t, err)
		b, err := l.Budget(nil)
		require.NoError(t, err)
		require.NoError(t, b.Spend(ctx, "a", 0.75, 0))

		_, err = sqlbudget.New(ctx, db, d, "weekly", 2, 1e-5)
		var te *sqlbudget.TotalError
		require.ErrorAs(t, err, &te, "a larger total for the same budget")
		require.ErrorIs(t, err, sqlbudget.ErrTotal)
		assert.Equal(t, 1.0, te.HaveEpsilon)
		_, err = sqlbudget.New(ctx, db, d, "", 1, 1e-5)
		require.ErrorIs(t, err, sqlbudget.ErrName)
		_, err = sqlbudget.New(ctx, db, d, "x", -1, 0)
		require.ErrorIs(t, err, dp.ErrInvalidParams)

		// Another budget in the same database is independent.
		other, err := sqlbudget.New(ctx, db, d, "monthly", 1, 1e-5)
		require.NoError(t, err)
		ob, err := other.Budget(nil)
		require.NoError(t, err)
		require.NoError(t, ob.Spend(ctx, "b", 0.75, 0))

		// A restart: a new Budget over the log starts from what was spent.
		l2, err := sqlbudget.New(ctx, db, d, "weekly", 1, 1e-5)
		require.NoError(t, err)
		b2, err := l2.Budget(nil)
		require.NoError(t, err)
		require.ErrorIs(t, b2.Spend(ctx, "too much", 0.5, 0), dp.ErrBudgetExhausted)
		require.NoError(t, b2.Spend(ctx, "fits", 0.25, 0))
		e, _ := b2.Spent()
		assert.Equal(t, 1.0, e)
	})
}

func TestBadInput(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, d sqlstore.Dialect) {
		db := sqltest.New(t, d).Open(t)
		require.NoError(t, sqlbudget.Migrate(ctx, db, d))
		l := openLog(t, db, d, "weekly")
		b, err := l.Budget(nil)
		require.NoError(t, err)
		require.NoError(t, b.Spend(ctx, "a", 0.25, 0))

		cctx, cancel := context.WithCancel(ctx)
		cancel()
		require.ErrorIs(t, b.Spend(cctx, "b", 0.25, 0), context.Canceled)

		// A spend row damaged in the database: no Budget spends from it.
		_, err = db.ExecContext(ctx, d.Rebind(`UPDATE tact_budget_spends SET epsilon = ? WHERE budget = ? AND n = 1`), -0.25, "weekly")
		require.NoError(t, err)
		b2, err := l.Budget(nil)
		require.NoError(t, err)
		err = b2.Spend(ctx, "c", 0.25, 0)
		require.ErrorIs(t, err, dp.ErrInvalidLog)

		require.NoError(t, db.Close())
		b3, err := l.Budget(nil)
		require.NoError(t, err)
		require.ErrorIs(t, b3.Spend(ctx, "d", 0.25, 0), sqlstore.ErrDatabase)
		require.NoError(t, l.Close())
		require.ErrorIs(t, b3.Spend(ctx, "d", 0.25, 0), sqlstore.ErrClosed)
	})
}
