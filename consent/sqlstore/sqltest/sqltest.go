// Package sqltest gives tests of tact's SQL stores (and of a host's code
// over them) a fresh database per test, on SQLite and on PostgreSQL.
//
// It opens databases by driver name and imports no driver: the test binary
// does, with
//
//	import (
//		_ "github.com/jackc/pgx/v5/stdlib" // "pgx"
//		_ "modernc.org/sqlite"             // "sqlite"
//	)
//
// PostgreSQL tests need a server: set TACT_POSTGRES_URL to a URL whose user
// may create databases (postgres://postgres@127.0.0.1:5432/postgres). Without
// it they are skipped, unless TACT_REQUIRE_POSTGRES is set (CI sets it),
// when they fail: a test suite that needs a database must not pass without
// one.
package sqltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tact-go/tact/consent/sqlstore"
)

// Driver names of the drivers the tests use.
const (
	SQLiteDriver   = "sqlite" // modernc.org/sqlite
	PostgresDriver = "pgx"    // github.com/jackc/pgx/v5/stdlib
)

// Environment variables.
const (
	// EnvPostgres names the server PostgreSQL tests use.
	EnvPostgres = "TACT_POSTGRES_URL"
	// EnvRequirePostgres makes PostgreSQL tests fail, not skip, without a
	// server.
	EnvRequirePostgres = "TACT_REQUIRE_POSTGRES"
)

// DB is a fresh, empty database that lives as long as the test that made
// it.
type DB struct {
	Dialect sqlstore.Dialect
	Driver  string // driver name for sql.Open
	DSN     string // data source name for sql.Open
}

// SQLiteDSN returns the data source name tact recommends for SQLite with
// modernc.org/sqlite: WAL journal (readers do not wait for writers), a busy
// timeout (writers wait for each other instead of failing) and immediate
// transactions (a writer takes the write lock when it begins).
func SQLiteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// New returns a fresh database of dialect d for t: SQLite in a file in
// t.TempDir(), PostgreSQL a new database on the server [EnvPostgres] names,
// dropped when t ends.
func New(t testing.TB, d sqlstore.Dialect) DB {
	t.Helper()
	switch d {
	case sqlstore.SQLite:
		x := DB{Dialect: d, Driver: SQLiteDriver, DSN: SQLiteDSN(filepath.Join(t.TempDir(), "tact.db"))}
		// Create the file in WAL mode now: switching a database to WAL
		// needs it to itself, which several first connections at once
		// would not give it.
		db, err := sql.Open(x.Driver, x.DSN)
		if err == nil {
			err = db.Ping()
			db.Close()
		}
		if err != nil {
			t.Fatalf("sqltest: creating a SQLite database: %v", err)
		}
		return x
	case sqlstore.Postgres:
		return newPostgres(t)
	}
	t.Fatalf("sqltest: unknown dialect %v", d)
	return DB{}
}

func newPostgres(t testing.TB) DB {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		if os.Getenv(EnvRequirePostgres) != "" {
			t.Fatalf("sqltest: %s is set but %s is not: PostgreSQL tests cannot run", EnvRequirePostgres, EnvPostgres)
		}
		t.Skipf("sqltest: no PostgreSQL server (set %s to run these tests)", EnvPostgres)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("sqltest: %s: %v", EnvPostgres, err)
	}
	admin, err := sql.Open(PostgresDriver, base)
	if err != nil {
		t.Fatalf("sqltest: %v", err)
	}
	name := "tact_test_" + strings.ToLower(rand.Text()[:12])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("sqltest: creating a database on %s: %v", u.Redacted(), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("sqltest: dropping %s: %v", name, err)
		}
		admin.Close()
	})
	u.Path = "/" + name
	return DB{Dialect: sqlstore.Postgres, Driver: PostgresDriver, DSN: u.String()}
}

// Open returns a new *sql.DB on x, closed when t ends. Two calls give two
// pools of connections to one database, as two service instances have.
func (x DB) Open(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open(x.Driver, x.DSN)
	if err != nil {
		t.Fatalf("sqltest: open %s: %v", x.Dialect, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Run runs f as one subtest per dialect, "sqlite" and "postgres".
func Run(t *testing.T, f func(t *testing.T, d sqlstore.Dialect)) {
	t.Helper()
	for _, d := range []sqlstore.Dialect{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(d.String(), func(t *testing.T) { f(t, d) })
	}
}
