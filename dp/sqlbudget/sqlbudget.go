// Package sqlbudget keeps the spends of a differential privacy budget
// ([dp.Budget]) in a SQL database through database/sql, on SQLite or
// PostgreSQL, so that the budget survives restarts and is shared by every
// process that spends from it: a [Log] is a [dp.SpendLog].
//
//	if err := sqlbudget.Migrate(ctx, db, sqlstore.SQLite); err != nil { ... }
//	log, err := sqlbudget.New(ctx, db, sqlstore.SQLite, "weekly-stats", 1, 1e-5)
//	...
//	budget, err := log.Budget(nil) // a *dp.Budget of (1, 1e-5) over the log
//	res, err := trending.Release(ctx, budget)
//
// A log is named: one database holds the logs of several budgets. Its
// total (ε, δ) is recorded when the log is first opened, and a later [New]
// with another total is refused ([ErrTotal]), so that no process can spend
// from a larger budget than the others agreed to. Spends are rows of
// tact_budget_spends, numbered from 1 per budget, with ε and δ as IEEE 754
// doubles (exact) and the label and time: an auditor can read them with
// SQL.
//
// Like consent/sqlstore, whose [sqlstore.Dialect], schema table and
// errors it shares, it takes the host's *sql.DB, never opens one, and
// never changes the schema but in [Migrate]. A Log is safe for concurrent
// use; each Append is one statement that inserts the spend only if the log
// still holds exactly the spends the Budget counted, so concurrent
// Budgets, in one process or many, take turns.
package sqlbudget

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/tact-go/tact/consent/sqlstore"
	"github.com/tact-go/tact/dp"
)

// Component is the name of the budget schema in tact_schema.
const Component = "budget"

var migrations = []sqlstore.Migration{{Version: 1, Statements: []string{
	`CREATE TABLE tact_budgets (
		budget TEXT PRIMARY KEY,
		epsilon {{float64}} NOT NULL,
		delta {{float64}} NOT NULL)`,
	`CREATE TABLE tact_budget_spends (
		budget TEXT NOT NULL,
		n {{int64}} NOT NULL,
		label TEXT NOT NULL,
		epsilon {{float64}} NOT NULL,
		delta {{float64}} NOT NULL,
		at_sec {{int64}} NOT NULL,
		at_nsec INTEGER NOT NULL,
		PRIMARY KEY (budget, n))`,
}}}

// Migrate creates or upgrades the budget schema in db, in one transaction
// (see [sqlstore.Apply]).
func Migrate(ctx context.Context, db *sql.DB, d sqlstore.Dialect) error {
	return sqlstore.Apply(ctx, db, d, Component, migrations)
}

// Errors.
var (
	// ErrTotal is returned (wrapped in a [*TotalError]) by [New] for a
	// total other than the one the log was opened with first.
	ErrTotal = errors.New("sqlbudget: the budget's total differs from the one on record")
	// ErrName is returned by [New] for an empty budget name.
	ErrName = errors.New("sqlbudget: empty budget name")
)

// TotalError says that a budget is on record with another total. It
// unwraps to [ErrTotal].
type TotalError struct {
	Budget                 string
	Epsilon, Delta         float64 // the total asked for
	HaveEpsilon, HaveDelta float64 // the total on record
}

func (e *TotalError) Error() string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	return "sqlbudget: budget " + strconv.Quote(e.Budget) + " is on record with total ε=" + f(e.HaveEpsilon) + " δ=" + f(e.HaveDelta) +
		", not ε=" + f(e.Epsilon) + " δ=" + f(e.Delta)
}

// Unwrap returns [ErrTotal].
func (e *TotalError) Unwrap() error { return ErrTotal }

// Log is the spend log of one named budget in a SQL database. Make one with
// [New].
type Log struct {
	db             *sql.DB
	name           string
	epsilon, delta float64
	closed         atomic.Bool
	load, append_  *sql.Stmt
}

var _ dp.SpendLog = (*Log)(nil)

// New returns the log of the budget called name, with total (epsilon,
// delta): it records the total if the budget is new, and returns a
// [*TotalError] if it is on record with another. The budget schema must be
// at the current version ([Migrate]; otherwise a [*sqlstore.SchemaError]).
// Invalid totals are refused as [dp.NewBudget] refuses them.
func New(ctx context.Context, db *sql.DB, d sqlstore.Dialect, name string, epsilon, delta float64) (*Log, error) {
	if name == "" {
		return nil, ErrName
	}
	if _, err := dp.NewBudget(epsilon, delta, nil); err != nil {
		return nil, err
	}
	if err := sqlstore.CheckVersion(ctx, db, d, Component, len(migrations)); err != nil {
		return nil, err
	}
	_, err := db.ExecContext(ctx, d.Rebind(`INSERT INTO tact_budgets (budget, epsilon, delta) VALUES (?, ?, ?) ON CONFLICT (budget) DO NOTHING`),
		name, epsilon, delta)
	if err != nil {
		return nil, wrap(ctx, "open", err)
	}
	var e, dl float64
	if err := db.QueryRowContext(ctx, d.Rebind(`SELECT epsilon, delta FROM tact_budgets WHERE budget = ?`), name).Scan(&e, &dl); err != nil {
		return nil, wrap(ctx, "open", err)
	}
	if e != epsilon || dl != delta {
		return nil, &TotalError{Budget: name, Epsilon: epsilon, Delta: delta, HaveEpsilon: e, HaveDelta: dl}
	}
	l := &Log{db: db, name: name, epsilon: epsilon, delta: delta}
	if l.load, err = db.PrepareContext(ctx, d.Rebind(`SELECT label, epsilon, delta, at_sec, at_nsec FROM tact_budget_spends
		WHERE budget = ? AND n > ? ORDER BY n`)); err != nil {
		return nil, wrap(ctx, "prepare", err)
	}
	// The spend goes in as number n+1 only if the log holds exactly n
	// spends; otherwise, or when another Append took n+1 first, no row.
	if l.append_, err = db.PrepareContext(ctx, d.Rebind(`INSERT INTO tact_budget_spends (budget, n, label, epsilon, delta, at_sec, at_nsec)
		SELECT ?, ?, ?, ?, ?, ?, ? WHERE (SELECT coalesce(max(n), 0) FROM tact_budget_spends WHERE budget = ?) = ?
		ON CONFLICT (budget, n) DO NOTHING`)); err != nil {
		l.load.Close()
		return nil, wrap(ctx, "prepare", err)
	}
	return l, nil
}

// Budget returns a new [dp.Budget] with the log's total that keeps its
// spends in the log. opts may set Now and Logger; its Log is replaced.
func (l *Log) Budget(opts *dp.BudgetOptions) (*dp.Budget, error) {
	var o dp.BudgetOptions
	if opts != nil {
		o = *opts
	}
	o.Log = l
	return dp.NewBudget(l.epsilon, l.delta, &o)
}

// Close releases the log's prepared statements; it does not close the
// *sql.DB. Methods called after Close return [sqlstore.ErrClosed].
func (l *Log) Close() error {
	l.closed.Store(true)
	return errors.Join(l.load.Close(), l.append_.Close())
}

// Load implements [dp.SpendLog.Load]. It reads the spends first, and calls
// fn with no query open.
func (l *Log) Load(ctx context.Context, n int, fn func(dp.Spend) error) error {
	if l.closed.Load() {
		return sqlstore.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rows, err := l.load.QueryContext(ctx, l.name, int64(n))
	if err != nil {
		return wrap(ctx, "load", err)
	}
	var spends []dp.Spend
	for rows.Next() {
		var s dp.Spend
		var sec int64
		var nsec int
		if err := rows.Scan(&s.Label, &s.Epsilon, &s.Delta, &sec, &nsec); err != nil {
			rows.Close()
			return wrap(ctx, "load", err)
		}
		s.Time = time.Unix(sec, int64(nsec)).UTC()
		spends = append(spends, s)
	}
	if err := rows.Close(); err != nil {
		return wrap(ctx, "load", err)
	}
	if err := rows.Err(); err != nil {
		return wrap(ctx, "load", err)
	}
	for _, s := range spends {
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}

// Append implements [dp.SpendLog.Append] in one statement.
func (l *Log) Append(ctx context.Context, n int, s dp.Spend) error {
	if l.closed.Load() {
		return sqlstore.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if math.IsNaN(s.Epsilon) || math.IsNaN(s.Delta) || math.IsInf(s.Epsilon, 0) || math.IsInf(s.Delta, 0) {
		return &dp.ParamError{Param: "Spend", Value: "NaN or Inf", Reason: "a spend must be finite"}
	}
	res, err := l.append_.ExecContext(ctx, l.name, int64(n)+1, s.Label, s.Epsilon, s.Delta, s.Time.Unix(), s.Time.Nanosecond(),
		l.name, int64(n))
	if err != nil {
		return wrap(ctx, "append", err)
	}
	rows, err := res.RowsAffected()
	if err != nil {
		return wrap(ctx, "append", err)
	}
	if rows != 1 {
		return dp.ErrSpendConflict
	}
	return nil
}

func wrap(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return &sqlstore.DBError{Op: op, Err: err}
}
