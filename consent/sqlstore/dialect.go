package sqlstore

import (
	"strconv"
	"strings"
)

// Dialect is the SQL dialect of a database: the few places where SQLite and
// PostgreSQL differ (column types, placeholders). The zero value is not a
// dialect.
type Dialect uint8

// Dialects.
const (
	// SQLite is SQLite 3.35 or later (modernc.org/sqlite, mattn/go-sqlite3,
	// ncruces/go-sqlite3). Open the database in WAL mode with a busy timeout
	// (see the package documentation).
	SQLite Dialect = iota + 1
	// Postgres is PostgreSQL 12 or later (jackc/pgx's stdlib, lib/pq).
	Postgres
)

// String returns "sqlite" or "postgres".
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

func (d Dialect) valid() bool { return d == SQLite || d == Postgres }

// Rebind rewrites a statement written with ? placeholders for the dialect:
// $1, $2, ... for PostgreSQL, unchanged for SQLite. Statements must not
// hold a ? in a string literal.
func (d Dialect) Rebind(query string) string {
	if d != Postgres {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// Types replaces the type names in a DDL statement by the dialect's:
// {{int64}} (INTEGER in SQLite, BIGINT in PostgreSQL), {{float64}} (REAL,
// DOUBLE PRECISION: both IEEE 754 binary64, so values round-trip exactly),
// {{blob}} (BLOB, BYTEA) and {{id}}, a 64-bit key the database assigns in
// increasing order (INTEGER PRIMARY KEY, BIGINT GENERATED ALWAYS AS
// IDENTITY PRIMARY KEY).
func (d Dialect) Types(ddl string) string {
	if d == Postgres {
		return strings.NewReplacer("{{int64}}", "BIGINT", "{{float64}}", "DOUBLE PRECISION", "{{blob}}", "BYTEA",
			"{{id}}", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY").Replace(ddl)
	}
	return strings.NewReplacer("{{int64}}", "INTEGER", "{{float64}}", "REAL", "{{blob}}", "BLOB",
		"{{id}}", "INTEGER PRIMARY KEY").Replace(ddl)
}
