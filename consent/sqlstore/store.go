package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tact-go/tact/consent"
)

// Component is the name of the consent store's schema in tact_schema.
const Component = "consent"

// migrations is the consent store's schema, one step per version.
//
// tact_consent_records holds the ledger, one row per record (a tombstone in
// place of an erased record). tact_consent_subjects holds one row per
// subject with records: the Seq of its last record, and its standing, a
// copy of its latest record and the Seq of its latest refusal per purpose
// (see standing.go): a decision reads that one row. tact_consent_head
// holds the ledger's last Seq; every write updates or locks its one row
// first, which serializes writers and makes a lost race an update of zero
// rows.
var migrations = []Migration{{Version: 1, Statements: []string{
	`CREATE TABLE tact_consent_records (` + recordColumnsDDL + `,
		PRIMARY KEY (seq))`,
	`CREATE INDEX tact_consent_records_subject ON tact_consent_records (subject, seq)`,
	`CREATE TABLE tact_consent_subjects (
		subject TEXT PRIMARY KEY,
		last {{int64}} NOT NULL,
		standing {{blob}} NOT NULL)`,
	`CREATE TABLE tact_consent_head (id SMALLINT PRIMARY KEY, seq {{int64}} NOT NULL)`,
	`INSERT INTO tact_consent_head (id, seq) VALUES (1, 0)`,
}}, {Version: 2, Statements: []string{
	// A grant the person confirmed over Global Privacy Control
	// (consent.Event.OverridesGPC): 1, else 0.
	`ALTER TABLE tact_consent_records ADD COLUMN overrides_gpc SMALLINT NOT NULL DEFAULT 0`,
}}}

// recordColumnsDDL declares the columns of a record, in the order of
// recordColumns. Tombstones have an empty subject, channel and evidence and a
// zero salt; live records a zero sealed.
const recordColumnsDDL = `seq {{int64}} NOT NULL,
		erased SMALLINT NOT NULL,
		action SMALLINT NOT NULL,
		subject TEXT NOT NULL,
		purpose TEXT NOT NULL,
		at_sec {{int64}} NOT NULL,
		at_nsec INTEGER NOT NULL,
		channel TEXT NOT NULL,
		policy_version INTEGER NOT NULL,
		source SMALLINT NOT NULL,
		evidence TEXT NOT NULL,
		actor SMALLINT NOT NULL,
		back {{int64}} NOT NULL,
		prev {{blob}} NOT NULL,
		hash {{blob}} NOT NULL,
		salt {{blob}} NOT NULL,
		sealed {{blob}} NOT NULL`

// (Version 2 adds overrides_gpc SMALLINT.)
const recordColumns = `seq, erased, action, subject, purpose, at_sec, at_nsec, channel, policy_version, source, evidence, actor, back, prev, hash, salt, sealed, overrides_gpc`

const nRecordColumns = 18

// Migrate creates or upgrades the consent store's schema in db, in one
// transaction (see [Apply]). Call it once when the service deploys, or
// from a migration tool; [New] never changes the schema. The SQL it runs is
// in [Schema].
func Migrate(ctx context.Context, db *sql.DB, d Dialect) error {
	return Apply(ctx, db, d, Component, migrations)
}

// Schema returns the statements [Migrate] runs for d, from an empty
// database to the current version, for hosts that manage their schema with
// their own tools (they must also record the version: see [Apply]).
func Schema(d Dialect) []string {
	var out []string
	out = append(out, schemaTable)
	for _, m := range migrations {
		for _, s := range m.Statements {
			out = append(out, d.Types(s))
		}
	}
	return out
}

// Store is a [consent.Store] and [consent.StandingReader] over a SQL
// database: the ledger of several service instances, durable across
// restarts. Make one with [New]. A Store is safe for concurrent use by
// multiple goroutines, and several Stores (in one process or many) may
// share one database.
type Store struct {
	db     *sql.DB
	d      Dialect
	closed atomic.Bool
	stmts  stmts
}

var (
	_ consent.Store          = (*Store)(nil)
	_ consent.StandingReader = (*Store)(nil)
)

type stmts struct {
	last, scanAll, scanSubject, headCAS, headLock, standing, setStanding, insert,
	byseq, countSubject, redact, dropSubject *sql.Stmt
}

// New returns a Store over db, which holds the consent schema at the
// current version ([Migrate]); otherwise it returns a [*SchemaError]. It
// prepares its statements on db; [Store.Close] releases them (closing db
// does too). db's driver and connection settings are the host's: see the
// package documentation for SQLite's.
func New(ctx context.Context, db *sql.DB, d Dialect) (*Store, error) {
	if err := CheckVersion(ctx, db, d, Component, len(migrations)); err != nil {
		return nil, err
	}
	s := &Store{db: db, d: d}
	prep := func(dst **sql.Stmt, q string) error {
		if *dst != nil {
			return nil
		}
		st, err := db.PrepareContext(ctx, d.Rebind(q))
		if err != nil {
			return dbErr(ctx, "prepare", err)
		}
		*dst = st
		return nil
	}
	cols := recordColumns
	placeholders := strings.TrimSuffix(strings.Repeat("?, ", nRecordColumns), ", ")
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		{&s.stmts.last, `SELECT ` + cols + ` FROM tact_consent_records ORDER BY seq DESC LIMIT 1`},
		{&s.stmts.scanAll, `SELECT ` + cols + ` FROM tact_consent_records WHERE seq > ? ORDER BY seq LIMIT ?`},
		{&s.stmts.scanSubject, `SELECT ` + cols + ` FROM tact_consent_records WHERE subject = ? AND seq > ? ORDER BY seq LIMIT ?`},
		{&s.stmts.headCAS, `UPDATE tact_consent_head SET seq = ? WHERE id = 1 AND seq = ?`},
		{&s.stmts.headLock, `UPDATE tact_consent_head SET seq = seq WHERE id = 1`},
		{&s.stmts.standing, `SELECT last, standing FROM tact_consent_subjects WHERE subject = ?`},
		{&s.stmts.setStanding, `INSERT INTO tact_consent_subjects (subject, last, standing) VALUES (?, ?, ?)
			ON CONFLICT (subject) DO UPDATE SET last = excluded.last, standing = excluded.standing`},
		{&s.stmts.insert, `INSERT INTO tact_consent_records (` + cols + `) VALUES (` + placeholders + `)`},
		{&s.stmts.byseq, `SELECT ` + cols + ` FROM tact_consent_records WHERE seq = ?`},
		{&s.stmts.countSubject, `SELECT count(*) FROM tact_consent_records WHERE subject = ?`},
		{&s.stmts.redact, `UPDATE tact_consent_records SET erased = 1, subject = '', purpose = ?, at_sec = ?, at_nsec = ?,
			channel = '', policy_version = ?, source = ?, evidence = '', actor = 0, salt = ?, sealed = ?, overrides_gpc = 0 WHERE seq = ?`},
		{&s.stmts.dropSubject, `DELETE FROM tact_consent_subjects WHERE subject = ?`},
	} {
		if err := prep(p.dst, p.q); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Close releases the Store's prepared statements. It does not close the
// *sql.DB, which is the host's. Methods called after Close return
// [ErrClosed].
func (s *Store) Close() error {
	s.closed.Store(true)
	var errs []error
	for _, st := range []*sql.Stmt{s.stmts.last, s.stmts.scanAll, s.stmts.scanSubject, s.stmts.headCAS, s.stmts.headLock,
		s.stmts.standing, s.stmts.setStanding, s.stmts.insert, s.stmts.byseq, s.stmts.countSubject, s.stmts.redact, s.stmts.dropSubject} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// begin checks the store and ctx, and starts a transaction.
func (s *Store) begin(ctx context.Context, op string) (*sql.Tx, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	return tx, dbErr(ctx, op, err)
}

// conflict returns the *consent.ConflictError a writer that lost a race
// gets: the ledger's last record, read after the transaction ended.
func (s *Store) conflict(ctx context.Context) error {
	last, err := s.last(ctx)
	if err != nil {
		return err
	}
	return &consent.ConflictError{Last: last}
}

func (s *Store) last(ctx context.Context) (consent.Record, error) {
	rows, err := s.stmts.last.QueryContext(ctx)
	if err != nil {
		return consent.Record{}, dbErr(ctx, "last record", err)
	}
	var r consent.Record
	err = eachRecord(rows, func(rec *consent.Record) error { r = *rec; return nil })
	return r, dbErr(ctx, "last record", err)
}

// Append implements [consent.Store.Append] in one transaction. Writers
// take turns: each first updates the one row of tact_consent_head from the
// Seq it expects, which another writer's committed append makes fail.
func (s *Store) Append(ctx context.Context, recs []consent.Record) error {
	if len(recs) == 0 {
		return ctx.Err()
	}
	tx, err := s.begin(ctx, "append")
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for i := range recs {
		if recs[i].Seq != recs[0].Seq+uint64(i) || recs[i].Seq == 0 {
			tx.Rollback()
			return s.conflict(ctx)
		}
	}
	res, err := tx.StmtContext(ctx, s.stmts.headCAS).ExecContext(ctx, int64(recs[len(recs)-1].Seq), int64(recs[0].Seq-1))
	if err != nil {
		return dbErr(ctx, "append", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		if err != nil {
			return dbErr(ctx, "append", err)
		}
		tx.Rollback()
		return s.conflict(ctx)
	}
	// Each subject's standing, read once and updated record by record.
	getStanding := tx.StmtContext(ctx, s.stmts.standing)
	standings := map[string][]entry{}
	var order []string
	for i := range recs {
		r := &recs[i]
		if r.Erased || r.Subject == "" {
			continue
		}
		es, ok := standings[r.Subject]
		if !ok {
			var err error
			if es, err = s.readStanding(ctx, getStanding, r.Subject); err != nil {
				return err
			}
			order = append(order, r.Subject)
		}
		var want uint64
		if len(es) > 0 {
			want = es[0].rec.Seq // the empty key comes first
		}
		if r.Back != want {
			tx.Rollback()
			return s.conflict(ctx)
		}
		standings[r.Subject] = apply(es, r)
	}
	insert := tx.StmtContext(ctx, s.stmts.insert)
	var args [nRecordColumns]any
	for i := range recs {
		if _, err := insert.ExecContext(ctx, recordArgs(&recs[i], args[:])...); err != nil {
			return dbErr(ctx, "append", err)
		}
	}
	set := tx.StmtContext(ctx, s.stmts.setStanding)
	var buf []byte
	for _, subject := range order {
		es := standings[subject]
		buf = encodeStanding(buf[:0], es)
		if _, err := set.ExecContext(ctx, subject, int64(es[0].rec.Seq), buf); err != nil {
			return dbErr(ctx, "append", err)
		}
	}
	return dbErr(ctx, "append", tx.Commit())
}

// readStanding returns the decoded standing of subject, nil if it has no
// row, with the empty key first.
func (s *Store) readStanding(ctx context.Context, st *sql.Stmt, subject string) ([]entry, error) {
	var last int64
	var b []byte
	switch err := st.QueryRowContext(ctx, subject).Scan(&last, &b); {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, dbErr(ctx, "append", err)
	}
	es, err := decodeAll(b, subject)
	if err != nil {
		return nil, err
	}
	for i := range es {
		if es[i].key == "" {
			es[0], es[i] = es[i], es[0]
			if uint64(last) != es[0].rec.Seq {
				return nil, &corruptError{seq: uint64(last), why: "a subject's last record differs from its standing"}
			}
			return es, nil
		}
	}
	return nil, &corruptError{why: "a subject's standing has no last record"}
}

// recordArgs fills args (nRecordColumns long) with r's columns, in the
// order of recordColumns, and returns it.
func recordArgs(r *consent.Record, args []any) []any {
	erased := 0
	if r.Erased {
		erased = 1
	}
	args[0], args[1], args[2] = int64(r.Seq), erased, int(r.Action)
	args[3], args[4] = r.Subject, string(r.Purpose)
	args[5], args[6] = r.At.Unix(), r.At.Nanosecond()
	args[7], args[8], args[9] = string(r.Channel), r.PolicyVersion, int(r.Source)
	args[10], args[11], args[12] = r.Evidence, int(r.Actor), int64(r.Back)
	args[13], args[14], args[15], args[16] = r.Prev[:], r.Hash[:], r.Salt[:], r.Sealed[:]
	args[17] = 0
	if r.OverridesGPC {
		args[17] = 1
	}
	return args[:nRecordColumns]
}

// Latest implements [consent.Store.Latest].
func (s *Store) Latest(ctx context.Context, subject string, purpose consent.Purpose) (consent.Record, bool, error) {
	var out [1]consent.Standing
	ps := [1]consent.Purpose{purpose}
	if err := s.Standings(ctx, subject, ps[:], out[:]); err != nil {
		return consent.Record{}, false, err
	}
	return out[0].Record, out[0].Record.Seq != 0, nil
}

// Standings implements [consent.StandingReader] with one query of one row,
// by primary key, however many purposes it is asked about. It returns
// [consent.ErrEmptySubject] for an empty subject, a [*consent.KeyError]
// for a malformed purpose, and an error unwrapping to
// [consent.ErrTampered] for a row whose hashes do not match its contents
// (edited in the database).
func (s *Store) Standings(ctx context.Context, subject string, purposes []consent.Purpose, out []consent.Standing) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if subject == "" {
		return consent.ErrEmptySubject
	}
	for _, p := range purposes {
		if p != "" {
			if err := p.Validate(); err != nil {
				return err
			}
		}
	}
	clear(out[:len(purposes)])
	rows, err := s.stmts.standing.QueryContext(ctx, subject)
	if err != nil {
		return dbErr(ctx, "standings", err)
	}
	defer rows.Close()
	if !rows.Next() {
		return dbErr(ctx, "standings", rows.Err())
	}
	var last int64
	var b sql.RawBytes
	if err := rows.Scan(&last, &b); err != nil {
		return dbErr(ctx, "standings", err)
	}
	if err := lookup(b, subject, purposes, out); err != nil {
		return err
	}
	return dbErr(ctx, "standings", rows.Close())
}

// scanBatch is how many records Scan reads per query. Scan holds no
// connection while fn runs.
const scanBatch = 256

// Scan implements [consent.Store.Scan]. It reads the records in batches,
// with no query open while fn runs, and checks each ([consent.Record.Check]):
// a row edited in the database is an error unwrapping to
// [consent.ErrTampered] or [consent.ErrMalformedRecord].
func (s *Store) Scan(ctx context.Context, subject string, after uint64, fn func(consent.Record) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	buf := make([]consent.Record, 0, scanBatch)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var rows *sql.Rows
		var err error
		if subject == "" {
			rows, err = s.stmts.scanAll.QueryContext(ctx, int64(after), scanBatch)
		} else {
			rows, err = s.stmts.scanSubject.QueryContext(ctx, subject, int64(after), scanBatch)
		}
		if err != nil {
			return dbErr(ctx, "scan", err)
		}
		buf = buf[:0]
		err = eachRecord(rows, func(r *consent.Record) error {
			buf = append(buf, *r)
			return nil
		})
		if err != nil {
			return dbErr(ctx, "scan", err)
		}
		for _, r := range buf {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(buf) < scanBatch {
			return nil
		}
		after = buf[len(buf)-1].Seq
	}
}

// Redact implements [consent.Store.Redact] in one transaction, which
// takes its turn with appends (it locks tact_consent_head first).
func (s *Store) Redact(ctx context.Context, tombstones []consent.Record) error {
	tx, err := s.begin(ctx, "redact")
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.StmtContext(ctx, s.stmts.headLock).ExecContext(ctx); err != nil {
		return dbErr(ctx, "redact", err)
	}
	byseq := tx.StmtContext(ctx, s.stmts.byseq)
	touched := map[string]int{}
	stored := map[uint64]consent.Record{}
	var live []*consent.Record
	for i := range tombstones {
		t := &tombstones[i]
		if t.Seq == 0 || t.Seq > 1<<63-1 {
			return consent.ErrNoRecord
		}
		cur, seen := stored[t.Seq]
		if !seen {
			rows, err := byseq.QueryContext(ctx, int64(t.Seq))
			if err != nil {
				return dbErr(ctx, "redact", err)
			}
			found := false
			if err := eachRecord(rows, func(r *consent.Record) error { cur, found = *r, true; return nil }); err != nil {
				return dbErr(ctx, "redact", err)
			}
			if !found {
				return consent.ErrNoRecord
			}
			stored[t.Seq] = cur
		}
		if !t.Erased || t.Prev != cur.Prev || t.Hash != cur.Hash || t.Back != cur.Back || t.Action != cur.Action {
			return errNotTombstone
		}
		if !seen && !cur.Erased {
			touched[cur.Subject]++
			live = append(live, t)
		}
	}
	count := tx.StmtContext(ctx, s.stmts.countSubject)
	for subject, n := range touched {
		var all int
		if err := count.QueryRowContext(ctx, subject).Scan(&all); err != nil {
			return dbErr(ctx, "redact", err)
		}
		if all != n {
			tx.Rollback()
			return s.conflict(ctx)
		}
	}
	redact, drop := tx.StmtContext(ctx, s.stmts.redact), tx.StmtContext(ctx, s.stmts.dropSubject)
	for _, t := range live {
		_, err := redact.ExecContext(ctx, string(t.Purpose), t.At.Unix(), t.At.Nanosecond(), t.PolicyVersion, int(t.Source),
			t.Salt[:], t.Sealed[:], int64(t.Seq))
		if err != nil {
			return dbErr(ctx, "redact", err)
		}
	}
	for subject := range touched {
		if _, err := drop.ExecContext(ctx, subject); err != nil {
			return dbErr(ctx, "redact", err)
		}
	}
	return dbErr(ctx, "redact", tx.Commit())
}

// errNotTombstone is Redact's error for a tombstone that is not one of the
// stored record: it unwraps to consent.ErrMalformedRecord.
var errNotTombstone = &tombstoneError{}

type tombstoneError struct{}

func (*tombstoneError) Error() string {
	return "sqlstore: malformed ledger record: not a tombstone of the stored record"
}
func (*tombstoneError) Unwrap() error { return consent.ErrMalformedRecord }

// recordScan holds the scan destinations of one row of record columns,
// reused from row to row.
type recordScan struct {
	seq, atSec, back                       int64
	erased, action, atNsec, pv, src, actor int
	overridesGPC                           int
	subject, purpose, channel, evidence    sql.RawBytes
	prev, hash, salt, sealed               sql.RawBytes
}

func (rs *recordScan) dest() []any {
	return []any{&rs.seq, &rs.erased, &rs.action, &rs.subject, &rs.purpose, &rs.atSec, &rs.atNsec, &rs.channel,
		&rs.pv, &rs.src, &rs.evidence, &rs.actor, &rs.back, &rs.prev, &rs.hash, &rs.salt, &rs.sealed, &rs.overridesGPC}
}

// record returns the scanned row as a checked record. subject and purpose,
// when not empty, are the values the query asked for: the record reuses
// those strings instead of allocating its own.
func (rs *recordScan) record(subject string, purpose consent.Purpose) (consent.Record, error) {
	var r consent.Record
	r.Seq, r.Erased, r.Action = uint64(rs.seq), rs.erased != 0, consent.Action(rs.action)
	switch {
	case len(rs.subject) == 0:
	case string(rs.subject) == subject:
		r.Subject = subject
	default:
		r.Subject = string(rs.subject)
	}
	switch {
	case len(rs.purpose) == 0:
	case string(rs.purpose) == string(purpose):
		r.Purpose = purpose
	default:
		r.Purpose = consent.Purpose(rs.purpose)
	}
	if !(r.Erased && r.Action == consent.Grant) {
		r.At = time.Unix(rs.atSec, int64(rs.atNsec)).UTC()
	}
	r.Channel = consent.Channel(internChannel(rs.channel))
	r.PolicyVersion, r.Source, r.Actor = rs.pv, consent.Source(rs.src), consent.Actor(rs.actor)
	r.OverridesGPC = rs.overridesGPC != 0
	if len(rs.evidence) > 0 {
		r.Evidence = string(rs.evidence)
	}
	r.Back = uint64(rs.back)
	if len(rs.prev) != len(r.Prev) || len(rs.hash) != len(r.Hash) || len(rs.salt) != len(r.Salt) || len(rs.sealed) != len(r.Sealed) {
		return r, &corruptError{seq: r.Seq, why: "a hash, salt or seal of the wrong length"}
	}
	copy(r.Prev[:], rs.prev)
	copy(r.Hash[:], rs.hash)
	copy(r.Salt[:], rs.salt)
	copy(r.Sealed[:], rs.sealed)
	if err := r.Check(); err != nil {
		return r, &corruptError{seq: r.Seq, why: err.Error(), err: err}
	}
	return r, nil
}

// internChannel returns the usual channels without allocating.
func internChannel(b []byte) string {
	for _, c := range [...]consent.Channel{consent.ChannelWeb, consent.ChannelApp, consent.ChannelStore, consent.ChannelCallCentre,
		consent.ChannelEmail, consent.ChannelPost, consent.ChannelAPI} {
		if string(b) == string(c) {
			return string(c)
		}
	}
	return string(b)
}

// eachRecord scans every row of rows (record columns) and calls fn with
// each checked record; it closes rows.
func eachRecord(rows *sql.Rows, fn func(*consent.Record) error) error {
	defer rows.Close()
	var rs recordScan
	dest := rs.dest()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		r, err := rs.record("", "")
		if err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// corruptError is a row that does not hold a well-formed record whose hash
// covers it: edited or damaged in the database. It unwraps to
// consent.ErrTampered, and to the record's own error when there is one.
type corruptError struct {
	seq uint64
	why string
	err error
}

func (e *corruptError) Error() string {
	return "sqlstore: ledger row " + itoa(e.seq) + " is corrupt: " + strings.TrimPrefix(e.why, "consent: ")
}

func (e *corruptError) Unwrap() []error {
	if e.err != nil {
		return []error{consent.ErrTampered, e.err}
	}
	return []error{consent.ErrTampered}
}

func itoa(u uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			return string(b[i:])
		}
	}
}
