// Package sqlstore keeps the consent ledger in a SQL database through
// database/sql, on SQLite or PostgreSQL: a [Store] is a [consent.Store]
// (and [consent.StandingReader]) for services that run several instances
// and restart.
//
// It takes the host's *sql.DB (the host picks and configures the driver)
// and never opens one, imports no driver, and never changes the schema as
// a side effect: [Migrate] creates or upgrades it, explicitly, and [New]
// only checks its version:
//
//	db, err := sql.Open("sqlite", "file:shop.db?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
//	...
//	if err := sqlstore.Migrate(ctx, db, sqlstore.SQLite); err != nil { ... } // at deploy time
//	store, err := sqlstore.New(ctx, db, sqlstore.SQLite)
//	...
//	gate, err := consent.NewGate(policy, store, consent.GateConfig{})
//
// For PostgreSQL, open db with github.com/jackc/pgx/v5/stdlib ("pgx") or
// github.com/lib/pq and pass [Postgres]. For SQLite (modernc.org/sqlite,
// as above; other drivers have the same settings under other names) use WAL
// mode, so that decisions never wait for writers; a busy timeout, so that
// writers wait for each other rather than fail; and immediate
// transactions, so that a writer takes the write lock when it begins.
//
// # Schema
//
// [Migrate] records the schema version in tact_schema (component
// "consent"); [Schema] returns its SQL for hosts that manage migrations
// with their own tools. The tables:
//
//   - tact_consent_records: the ledger, one row per record in sequence
//     order, with every field the hash covers (a tombstone in place of an
//     erased record, with an empty subject);
//   - tact_consent_subjects: one row per subject with records: the Seq of
//     its last record and its standing, a compact copy of its latest
//     record and latest refusal per purpose. A decision reads this one row,
//     by primary key, however many purposes it asks about;
//   - tact_consent_head: one row, the ledger's last Seq.
//
// Every record read, from either table, is checked against its hash
// ([consent.Record.Check]): a row edited in the database is an error
// unwrapping to [consent.ErrTampered], never a decision.
//
// # Concurrency and throughput
//
// A Store is safe for concurrent use, and any number of Stores, in one
// process or many, may share a database. Reads take no locks of their own:
// with WAL (SQLite) or MVCC (PostgreSQL), decisions proceed while others
// write, and see every append that committed before they started.
//
// Writes are serialized, and that is what limits their throughput. The
// ledger is one hash chain: each record's hash covers the one before, so
// records are appended one transaction at a time. Every write first updates
// (Append) or locks (Redact) the one row of tact_consent_head, so writers
// take turns in the database; a writer whose expected end of the ledger is
// no longer the end updates zero rows and returns a
// [*consent.ConflictError], and its Gate re-reads the subject, re-chains
// and tries again (never storing a record chained to a stale end, never
// reporting success for a record it did not store). What the design does
// about the ceiling: an append is one short transaction of a few
// statements; a Gate appends what belongs together in one transaction
// (an erasure's withdrawals, an import); reads never touch the head row;
// and consent changes are rare per person (a few per visit at most, against
// a decision on every request). Measured on a 2-core machine (PostgreSQL
// 15 on the same machine, fsync on; SQLite in WAL mode; BenchmarkRecord
// and BenchmarkAppendsEightWriters in consent/sqlstore/dbtest): one writer
// appends about 1,250 records/s to PostgreSQL and 12,000/s to SQLite; 8
// writers (8 Gates) together about 650/s to PostgreSQL, because a loser
// waits for the winner's commit before it can retry, and 8,000/s to
// SQLite. A service that needs more spreads its people
// over several ledgers: a Store per tenant or per shard, each its own
// chain, in its own schema or database.
//
// # Errors
//
// Errors of the database and its driver (a closed *sql.DB, a lost
// connection, a refused statement) are [*DBError]s, which unwrap to
// [ErrDatabase] and to the driver's error; when the context is done its
// error is returned as it is. A schema at the wrong version is a
// [*SchemaError] ([ErrSchema]); a nil *sql.DB [ErrNilDB]; an unknown
// [Dialect] [ErrDialect]; a Store used after Close [ErrClosed]. A
// transaction that fails is rolled back whole: nothing of it is stored, and
// the ledger still verifies.
package sqlstore
