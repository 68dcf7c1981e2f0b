package main

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx", for -db postgres://...
	_ "modernc.org/sqlite"             // "sqlite", for -db file.db

	"github.com/tact-go/tact/consent/sqlstore"
	"github.com/tact-go/tact/dp/sqlbudget"
	"github.com/tact-go/tact/examples/internal/demo"
	"github.com/tact-go/tact/recommend/sqlprofiles"
)

// database is where the storefront keeps what must outlive a restart: the
// consent ledger (consent/sqlstore), the visitors' profiles
// (recommend/sqlprofiles), the privacy budget's spends (dp/sqlbudget), the
// DP releases the budget paid for, and the visitors themselves.
type database struct {
	db *sql.DB
	d  sqlstore.Dialect
}

// storefrontMigrations are the storefront's own tables.
var storefrontMigrations = []sqlstore.Migration{{Version: 1, Statements: []string{
	`CREATE TABLE storefront_visitors (
		id TEXT PRIMARY KEY,
		first_seen {{int64}} NOT NULL,
		visit_start {{int64}} NOT NULL,
		last_seen {{int64}} NOT NULL,
		visits INTEGER NOT NULL,
		orders INTEGER NOT NULL)`,
	`CREATE TABLE storefront_releases (
		name TEXT PRIMARY KEY,
		data TEXT NOT NULL)`,
}}}

// budgetName is the storefront's budget in tact_budgets.
const budgetName = "storefront"

// openDatabase opens dsn, a PostgreSQL URL (postgres://...) or a SQLite
// file, and brings every schema up to date.
func openDatabase(ctx context.Context, dsn string) (*database, error) {
	// SQLite: WAL (pages are read while a visitor's choice is written), a
	// busy timeout (writers wait for each other) and immediate
	// transactions (a writer takes the lock when it begins).
	x := &database{d: sqlstore.SQLite}
	driver, source := "sqlite", "file:"+dsn+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		x.d, driver, source = sqlstore.Postgres, "pgx", dsn
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		return nil, err
	}
	x.db = db
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	for _, migrate := range []func(context.Context, *sql.DB, sqlstore.Dialect) error{
		sqlstore.Migrate, sqlprofiles.Migrate, sqlbudget.Migrate,
		func(ctx context.Context, db *sql.DB, d sqlstore.Dialect) error {
			return sqlstore.Apply(ctx, db, d, "storefront", storefrontMigrations)
		},
	} {
		if err := migrate(ctx, db, x.d); err != nil {
			db.Close()
			return nil, err
		}
	}
	return x, nil
}

// shopOptions returns the stores of demo.Options over the database.
func (x *database) shopOptions(ctx context.Context, o demo.Options) (demo.Options, error) {
	consents, err := sqlstore.New(ctx, x.db, x.d)
	if err != nil {
		return o, err
	}
	profiles, err := sqlprofiles.New(ctx, x.db, x.d)
	if err != nil {
		return o, err
	}
	log, err := sqlbudget.New(ctx, x.db, x.d, budgetName, demo.TrendingEpsilon+demo.CoocEpsilon, 2*demo.Delta)
	if err != nil {
		return o, err
	}
	o.Consents, o.Profiles, o.SpendLog, o.Releases = consents, profiles, log, x
	return o, nil
}

func (x *database) Close() error { return x.db.Close() }

// Load implements demo.Releases.
func (x *database) Load(ctx context.Context, name string) ([]byte, bool, error) {
	var data string
	err := x.db.QueryRowContext(ctx, x.d.Rebind(`SELECT data FROM storefront_releases WHERE name = ?`), name).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	return []byte(data), err == nil, err
}

// Save implements demo.Releases.
func (x *database) Save(ctx context.Context, name string, data []byte) error {
	_, err := x.db.ExecContext(ctx, x.d.Rebind(`INSERT INTO storefront_releases (name, data) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET data = excluded.data`), name, string(data))
	return err
}

// visitorRow is a visitor as the database keeps it.
type visitorRow struct {
	id                              string
	firstSeen, visitStart, lastSeen time.Time
	visits, orders                  int
}

// loadVisitors implements visitorStore.
func (x *database) loadVisitors(ctx context.Context) ([]visitorRow, error) {
	rows, err := x.db.QueryContext(ctx, `SELECT id, first_seen, visit_start, last_seen, visits, orders FROM storefront_visitors`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []visitorRow
	for rows.Next() {
		var v visitorRow
		var first, start, last int64
		if err := rows.Scan(&v.id, &first, &start, &last, &v.visits, &v.orders); err != nil {
			return nil, err
		}
		v.firstSeen, v.visitStart, v.lastSeen = time.Unix(0, first), time.Unix(0, start), time.Unix(0, last)
		out = append(out, v)
	}
	return out, rows.Err()
}

// saveVisitor implements visitorStore.
func (x *database) saveVisitor(ctx context.Context, v visitorRow) error {
	_, err := x.db.ExecContext(ctx, x.d.Rebind(`INSERT INTO storefront_visitors (id, first_seen, visit_start, last_seen, visits, orders)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET first_seen = excluded.first_seen, visit_start = excluded.visit_start,
		last_seen = excluded.last_seen, visits = excluded.visits, orders = excluded.orders`),
		v.id, v.firstSeen.UnixNano(), v.visitStart.UnixNano(), v.lastSeen.UnixNano(), v.visits, v.orders)
	return err
}

// deleteVisitor implements visitorStore.
func (x *database) deleteVisitor(ctx context.Context, id string) error {
	_, err := x.db.ExecContext(ctx, x.d.Rebind(`DELETE FROM storefront_visitors WHERE id = ?`), id)
	return err
}
