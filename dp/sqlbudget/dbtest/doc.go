// Package dbtest holds the tests of package sqlbudget against real
// databases: SQLite through modernc.org/sqlite and PostgreSQL through
// github.com/jackc/pgx/v5. It is a module of its own so that the database
// drivers never become requirements of the core module.
package dbtest
