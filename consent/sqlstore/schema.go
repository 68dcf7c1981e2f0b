package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
)

// A Migration is one step of a component's schema: the statements that
// take it from Version-1 to Version. Statements may use the type names
// {{int64}}, {{float64}}, {{blob}} and {{id}} (see [Dialect.Types]).
type Migration struct {
	Version    int
	Statements []string
}

// schemaTable records, per component, the version of its schema.
const schemaTable = `CREATE TABLE IF NOT EXISTS tact_schema (
	component TEXT PRIMARY KEY,
	version INTEGER NOT NULL
)`

// Apply brings component's schema up to the last of ms, in one transaction:
// it creates the table tact_schema (component, version) if there is none,
// runs the statements of every migration newer than the version recorded
// for component, and records the new version. Applying again is a no-op.
// The migrations must be numbered 1, 2, 3, ... in order. A database whose
// recorded version is newer than the last of ms is an [*SchemaError] (this
// code is older than the database): Apply changes nothing. Concurrent
// Applies are serialized by the database. It is the function behind
// [Migrate] and the other tact SQL stores' Migrate functions.
func Apply(ctx context.Context, db *sql.DB, d Dialect, component string, ms []Migration) error {
	if db == nil {
		return ErrNilDB
	}
	if !d.valid() {
		return ErrDialect
	}
	for i, m := range ms {
		if m.Version != i+1 {
			return errors.New("sqlstore: migrations of " + strconv.Quote(component) + " are not numbered 1, 2, 3, ...")
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return dbErr(ctx, "migrate", err)
	}
	defer tx.Rollback()
	if d == Postgres {
		// Serialize concurrent migrations (CREATE TABLE IF NOT EXISTS alone
		// races in PostgreSQL).
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7421930001)`); err != nil {
			return dbErr(ctx, "migrate", err)
		}
	}
	if _, err := tx.ExecContext(ctx, schemaTable); err != nil {
		return dbErr(ctx, "migrate", err)
	}
	v, err := version(ctx, tx, d, component)
	if err != nil {
		return err
	}
	if v > len(ms) {
		return &SchemaError{Component: component, Have: v, Want: len(ms)}
	}
	for _, m := range ms[v:] {
		for _, stmt := range m.Statements {
			if _, err := tx.ExecContext(ctx, d.Types(stmt)); err != nil {
				return dbErr(ctx, "migrate "+component+" to version "+strconv.Itoa(m.Version), err)
			}
		}
	}
	if v < len(ms) {
		q := `INSERT INTO tact_schema (component, version) VALUES (?, ?)
			ON CONFLICT (component) DO UPDATE SET version = excluded.version`
		if _, err := tx.ExecContext(ctx, d.Rebind(q), component, len(ms)); err != nil {
			return dbErr(ctx, "migrate", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return dbErr(ctx, "migrate", err)
	}
	return nil
}

// CheckVersion returns nil if component's schema in db is at version want,
// and a [*SchemaError] otherwise (a database that was never migrated is at
// version 0).
func CheckVersion(ctx context.Context, db *sql.DB, d Dialect, component string, want int) error {
	if db == nil {
		return ErrNilDB
	}
	if !d.valid() {
		return ErrDialect
	}
	v, err := version(ctx, db, d, component)
	if err != nil {
		return err
	}
	if v != want {
		return &SchemaError{Component: component, Have: v, Want: want}
	}
	return nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// version returns the schema version of component, 0 if none is recorded
// or there is no tact_schema table.
func version(ctx context.Context, q queryer, d Dialect, component string) (int, error) {
	exists := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'tact_schema'`
	if d == Postgres {
		exists = `SELECT count(*) FROM information_schema.tables WHERE table_name = 'tact_schema' AND table_schema = current_schema()`
	}
	var n int
	if err := q.QueryRowContext(ctx, exists).Scan(&n); err != nil {
		return 0, dbErr(ctx, "schema version", err)
	}
	if n == 0 {
		return 0, nil
	}
	var v int
	err := q.QueryRowContext(ctx, d.Rebind(`SELECT version FROM tact_schema WHERE component = ?`), component).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, dbErr(ctx, "schema version", err)
	}
	return v, nil
}
