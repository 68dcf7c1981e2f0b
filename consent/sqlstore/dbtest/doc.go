// Package dbtest holds the tests of package sqlstore against real
// databases: SQLite through modernc.org/sqlite and PostgreSQL through
// github.com/jackc/pgx/v5. It is a module of its own so that the database
// drivers never become requirements of the core module. See package
// sqltest for how the tests find a PostgreSQL server.
package dbtest
