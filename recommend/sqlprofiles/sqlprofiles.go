// Package sqlprofiles keeps the profiles package recommend reads (declared
// preferences, feedback, history) in a SQL database through database/sql,
// on SQLite or PostgreSQL, with export and erasure of one person.
//
// Like consent/sqlstore, whose [sqlstore.Dialect] it shares, it takes the
// host's *sql.DB and never opens one; [Migrate] creates or upgrades its
// schema (component "profiles" in tact_schema), and [New] only checks it:
//
//	if err := sqlprofiles.Migrate(ctx, db, sqlstore.SQLite); err != nil { ... }
//	profiles, err := sqlprofiles.New(ctx, db, sqlstore.SQLite)
//	...
//	rec, err := recommend.New(model, gate, profiles, recommend.Config{})
//
// A [Store] is safe for concurrent use by multiple goroutines, and several
// (in one process or many) may share one database. Each method is one
// statement or one transaction. Errors of the database are
// [*sqlstore.DBError]s ([sqlstore.ErrDatabase]); a schema at the wrong
// version is a [*sqlstore.SchemaError]; a done context's error is
// returned as it is; an empty person or item id is [recommend.ErrEmptyID]
// and nothing is written.
package sqlprofiles

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"sync/atomic"
	"time"

	"github.com/tact-go/tact/consent/sqlstore"
	"github.com/tact-go/tact/recommend"
)

// Component is the name of the profile schema in tact_schema.
const Component = "profiles"

var migrations = []sqlstore.Migration{{Version: 1, Statements: []string{
	`CREATE TABLE tact_profile_preferences (
		person TEXT PRIMARY KEY,
		doc TEXT NOT NULL)`,
	`CREATE TABLE tact_profile_feedback (
		id {{id}},
		person TEXT NOT NULL,
		item TEXT NOT NULL,
		kind SMALLINT NOT NULL,
		at_sec {{int64}} NOT NULL,
		at_nsec INTEGER NOT NULL)`,
	`CREATE INDEX tact_profile_feedback_person ON tact_profile_feedback (person, id)`,
	`CREATE TABLE tact_profile_history (
		id {{id}},
		person TEXT NOT NULL,
		item TEXT NOT NULL,
		kind SMALLINT NOT NULL,
		at_sec {{int64}} NOT NULL,
		at_nsec INTEGER NOT NULL)`,
	`CREATE INDEX tact_profile_history_person ON tact_profile_history (person, id)`,
}}}

// Migrate creates or upgrades the profile schema in db, in one transaction
// (see [sqlstore.Apply]).
func Migrate(ctx context.Context, db *sql.DB, d sqlstore.Dialect) error {
	return sqlstore.Apply(ctx, db, d, Component, migrations)
}

// Store holds profiles in a SQL database. Make one with [New].
type Store struct {
	db     *sql.DB
	d      sqlstore.Dialect
	closed atomic.Bool
	q      queries
}

type queries struct {
	prefs, setPrefs, feedback, history, addFeedback, addEvent,
	erasePrefs, eraseFeedback, eraseHistory *sql.Stmt
}

var _ recommend.Profiles = (*Store)(nil)

// New returns a Store over db, whose profile schema must be at the current
// version ([Migrate]); otherwise it returns a [*sqlstore.SchemaError].
func New(ctx context.Context, db *sql.DB, d sqlstore.Dialect) (*Store, error) {
	if err := sqlstore.CheckVersion(ctx, db, d, Component, len(migrations)); err != nil {
		return nil, err
	}
	s := &Store{db: db, d: d}
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		{&s.q.prefs, `SELECT doc FROM tact_profile_preferences WHERE person = ?`},
		{&s.q.setPrefs, `INSERT INTO tact_profile_preferences (person, doc) VALUES (?, ?)
			ON CONFLICT (person) DO UPDATE SET doc = excluded.doc`},
		{&s.q.feedback, `SELECT item, kind, at_sec, at_nsec FROM tact_profile_feedback WHERE person = ? ORDER BY id`},
		{&s.q.history, `SELECT item, kind, at_sec, at_nsec FROM tact_profile_history WHERE person = ? ORDER BY id`},
		{&s.q.addFeedback, `INSERT INTO tact_profile_feedback (person, item, kind, at_sec, at_nsec) VALUES (?, ?, ?, ?, ?)`},
		{&s.q.addEvent, `INSERT INTO tact_profile_history (person, item, kind, at_sec, at_nsec) VALUES (?, ?, ?, ?, ?)`},
		{&s.q.erasePrefs, `DELETE FROM tact_profile_preferences WHERE person = ?`},
		{&s.q.eraseFeedback, `DELETE FROM tact_profile_feedback WHERE person = ?`},
		{&s.q.eraseHistory, `DELETE FROM tact_profile_history WHERE person = ?`},
	} {
		st, err := db.PrepareContext(ctx, d.Rebind(p.q))
		if err != nil {
			s.Close()
			return nil, wrap(ctx, "prepare", err)
		}
		*p.dst = st
	}
	return s, nil
}

// Close releases the Store's prepared statements; it does not close the
// *sql.DB. Methods called after Close return [sqlstore.ErrClosed].
func (s *Store) Close() error {
	s.closed.Store(true)
	var errs []error
	for _, st := range []*sql.Stmt{s.q.prefs, s.q.setPrefs, s.q.feedback, s.q.history,
		s.q.addFeedback, s.q.addEvent, s.q.erasePrefs, s.q.eraseFeedback, s.q.eraseHistory} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

func (s *Store) ready(ctx context.Context) error {
	if s.closed.Load() {
		return sqlstore.ErrClosed
	}
	return ctx.Err()
}

// SetPreferences replaces the declared preferences of person.
func (s *Store) SetPreferences(ctx context.Context, person string, p recommend.Preferences) error {
	if err := checkPerson(person); err != nil {
		return err
	}
	if err := s.ready(ctx); err != nil {
		return err
	}
	doc, err := json.Marshal(prefsDoc(p))
	if err != nil {
		return err
	}
	_, err = s.q.setPrefs.ExecContext(ctx, person, string(doc))
	return wrap(ctx, "set preferences", err)
}

// AddFeedback appends feedback of person, all or none.
func (s *Store) AddFeedback(ctx context.Context, person string, f ...recommend.Feedback) error {
	if err := checkPerson(person); err != nil {
		return err
	}
	for i, x := range f {
		if x.Item == "" {
			return &recommend.ItemError{Index: i, ID: x.Item, Err: recommend.ErrEmptyID}
		}
	}
	return s.appendRows(ctx, "add feedback", person, s.q.addFeedback, len(f), func(i int) (string, uint8, time.Time) {
		return f[i].Item, uint8(f[i].Kind), f[i].At
	})
}

// AddEvents appends history events of person, all or none.
func (s *Store) AddEvents(ctx context.Context, person string, e ...recommend.Event) error {
	if err := checkPerson(person); err != nil {
		return err
	}
	for i, x := range e {
		if x.Item == "" {
			return &recommend.ItemError{Index: i, ID: x.Item, Err: recommend.ErrEmptyID}
		}
	}
	return s.appendRows(ctx, "add events", person, s.q.addEvent, len(e), func(i int) (string, uint8, time.Time) {
		return e[i].Item, uint8(e[i].Kind), e[i].At
	})
}

// appendRows inserts n rows for person in one transaction.
func (s *Store) appendRows(ctx context.Context, op, person string, insert *sql.Stmt, n int, row func(int) (string, uint8, time.Time)) error {
	if n == 0 {
		return s.ready(ctx)
	}
	if err := s.ready(ctx); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrap(ctx, op, err)
	}
	defer tx.Rollback()
	ins := tx.StmtContext(ctx, insert)
	for i := range n {
		item, kind, at := row(i)
		if _, err := ins.ExecContext(ctx, person, item, int(kind), at.Unix(), at.Nanosecond()); err != nil {
			return wrap(ctx, op, err)
		}
	}
	return wrap(ctx, op, tx.Commit())
}

// Preferences implements [recommend.PreferenceStore].
func (s *Store) Preferences(ctx context.Context, person string) (recommend.Preferences, error) {
	if err := s.ready(ctx); err != nil {
		return recommend.Preferences{}, err
	}
	return s.preferences(ctx, s.q.prefs, person)
}

func (s *Store) preferences(ctx context.Context, st *sql.Stmt, person string) (recommend.Preferences, error) {
	var doc string
	switch err := st.QueryRowContext(ctx, person).Scan(&doc); {
	case errors.Is(err, sql.ErrNoRows):
		return recommend.Preferences{}, nil
	case err != nil:
		return recommend.Preferences{}, wrap(ctx, "preferences", err)
	}
	var d preferences
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return recommend.Preferences{}, &CorruptError{Person: person, Err: err}
	}
	return d.toPreferences(), nil
}

// Feedback implements [recommend.FeedbackStore]: the person's feedback in
// the order it was added.
func (s *Store) Feedback(ctx context.Context, person string) ([]recommend.Feedback, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	var out []recommend.Feedback
	err := s.rows(ctx, s.q.feedback, person, func(item string, kind uint8, at time.Time) {
		out = append(out, recommend.Feedback{Item: item, Kind: recommend.FeedbackKind(kind), At: at})
	})
	return out, wrap(ctx, "feedback", err)
}

// History implements [recommend.HistoryStore]: the person's events in the
// order they were added.
func (s *Store) History(ctx context.Context, person string) ([]recommend.Event, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	var out []recommend.Event
	err := s.rows(ctx, s.q.history, person, func(item string, kind uint8, at time.Time) {
		out = append(out, recommend.Event{Item: item, Kind: recommend.EventKind(kind), At: at})
	})
	return out, wrap(ctx, "history", err)
}

func (s *Store) rows(ctx context.Context, st *sql.Stmt, person string, fn func(string, uint8, time.Time)) error {
	rows, err := st.QueryContext(ctx, person)
	if err != nil {
		return err
	}
	defer rows.Close()
	var item string
	var kind int
	var sec int64
	var nsec int
	for rows.Next() {
		if err := rows.Scan(&item, &kind, &sec, &nsec); err != nil {
			return err
		}
		fn(item, uint8(kind), time.Unix(sec, int64(nsec)).UTC())
	}
	return rows.Err()
}

// Export returns everything held about person (a data access request),
// read in one transaction so that it is consistent; the zero Profile for
// an unknown person.
func (s *Store) Export(ctx context.Context, person string) (recommend.Profile, error) {
	var p recommend.Profile
	if err := s.ready(ctx); err != nil {
		return p, err
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: s.d == sqlstore.Postgres})
	if err != nil {
		return p, wrap(ctx, "export", err)
	}
	defer tx.Rollback()
	if p.Preferences, err = s.preferences(ctx, tx.StmtContext(ctx, s.q.prefs), person); err != nil {
		return recommend.Profile{}, err
	}
	err = s.rows(ctx, tx.StmtContext(ctx, s.q.feedback), person, func(item string, kind uint8, at time.Time) {
		p.Feedback = append(p.Feedback, recommend.Feedback{Item: item, Kind: recommend.FeedbackKind(kind), At: at})
	})
	if err != nil {
		return recommend.Profile{}, wrap(ctx, "export", err)
	}
	err = s.rows(ctx, tx.StmtContext(ctx, s.q.history), person, func(item string, kind uint8, at time.Time) {
		p.History = append(p.History, recommend.Event{Item: item, Kind: recommend.EventKind(kind), At: at})
	})
	if err != nil {
		return recommend.Profile{}, wrap(ctx, "export", err)
	}
	return p, wrap(ctx, "export", tx.Commit())
}

// Erase deletes everything held about person (a right-to-erasure request),
// in one transaction. Erasing an unknown person is not an error.
func (s *Store) Erase(ctx context.Context, person string) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrap(ctx, "erase", err)
	}
	defer tx.Rollback()
	for _, st := range []*sql.Stmt{s.q.erasePrefs, s.q.eraseFeedback, s.q.eraseHistory} {
		if _, err := tx.StmtContext(ctx, st).ExecContext(ctx, person); err != nil {
			return wrap(ctx, "erase", err)
		}
	}
	return wrap(ctx, "erase", tx.Commit())
}

func checkPerson(person string) error {
	if person == "" {
		return &recommend.ItemError{Index: -1, ID: person, Err: recommend.ErrEmptyID}
	}
	return nil
}

// preferences is the JSON document of a person's preferences: the
// preferences' fields, with nil and empty slices kept apart.
type preferences struct {
	Interests []interest `json:"interests"`
	Avoid     []string   `json:"avoid"`
	MaxPrice  float64    `json:"max_price"`
	Sizes     []string   `json:"sizes"`
}

type interest struct {
	Text string   `json:"text"`
	Tags []string `json:"tags"`
}

func prefsDoc(p recommend.Preferences) preferences {
	d := preferences{Avoid: p.Avoid, MaxPrice: p.MaxPrice, Sizes: p.Sizes}
	if p.Interests != nil {
		d.Interests = make([]interest, len(p.Interests))
		for i, x := range p.Interests {
			d.Interests[i] = interest{Text: x.Text, Tags: x.Tags}
		}
	}
	return d
}

func (d preferences) toPreferences() recommend.Preferences {
	p := recommend.Preferences{Avoid: d.Avoid, MaxPrice: d.MaxPrice, Sizes: d.Sizes}
	if d.Interests != nil {
		p.Interests = make([]recommend.Interest, len(d.Interests))
		for i, x := range d.Interests {
			p.Interests[i] = recommend.Interest{Text: x.Text, Tags: x.Tags}
		}
	}
	return p
}

// CorruptError is a stored preferences document that does not decode
// (edited or damaged in the database). Nothing is returned for it, and the
// rest of the person's profile is untouched.
type CorruptError struct {
	Person string
	Err    error
}

func (e *CorruptError) Error() string {
	return "sqlprofiles: the stored preferences of a person do not decode: " + e.Err.Error()
}

// Unwrap returns [ErrCorrupt] and the decoding error.
func (e *CorruptError) Unwrap() []error { return []error{ErrCorrupt, e.Err} }

// ErrCorrupt is returned (wrapped in a [*CorruptError]) for stored data
// that does not decode.
var ErrCorrupt = errors.New("sqlprofiles: corrupt profile data")

// wrap turns a database/sql error into a *sqlstore.DBError, or ctx's error
// when ctx is done.
func wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	var ce *CorruptError
	if errors.As(err, &ce) {
		return err
	}
	return &sqlstore.DBError{Op: op, Err: err}
}
