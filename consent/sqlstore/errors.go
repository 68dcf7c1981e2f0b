package sqlstore

import (
	"context"
	"errors"
	"strconv"

	"github.com/tact-go/tact/consent"
)

// Sentinel errors.
var (
	// ErrNilDB is returned for a nil *sql.DB.
	ErrNilDB = errors.New("sqlstore: nil database")
	// ErrDialect is returned for a Dialect that is neither SQLite nor
	// Postgres.
	ErrDialect = errors.New("sqlstore: unknown dialect")
	// ErrSchema is returned (wrapped in a [*SchemaError]) when the schema in
	// the database is not the one this code needs: run Migrate, or upgrade
	// the code.
	ErrSchema = errors.New("sqlstore: wrong schema version")
	// ErrDatabase is returned (wrapped in a [*DBError]) for an error of the
	// database or its driver: a closed *sql.DB, a lost connection, a
	// constraint the store did not expect.
	ErrDatabase = errors.New("sqlstore: database error")
	// ErrClosed is returned by the methods of a Store after Close.
	ErrClosed = errors.New("sqlstore: store closed")
)

// SchemaError says that a component's schema is at a version other than
// the one the code needs. It unwraps to [ErrSchema].
type SchemaError struct {
	Component  string // "consent", "profiles", "budget"
	Have, Want int    // the version in the database (0: none), and the one needed
}

func (e *SchemaError) Error() string {
	s := "sqlstore: " + e.Component + " schema is at version " + strconv.Itoa(e.Have) + ", this code needs version " + strconv.Itoa(e.Want)
	if e.Have < e.Want {
		return s + " (run Migrate)"
	}
	return s + " (the database was migrated by newer code)"
}

// Unwrap returns [ErrSchema].
func (e *SchemaError) Unwrap() error { return ErrSchema }

// DBError is an error of the database or its driver during an operation
// of a store. It unwraps to [ErrDatabase] and to the driver's error.
type DBError struct {
	Op  string // what the store was doing: "append", "scan", ...
	Err error
}

func (e *DBError) Error() string { return "sqlstore: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns [ErrDatabase] and the driver's error.
func (e *DBError) Unwrap() []error { return []error{ErrDatabase, e.Err} }

// dbErr wraps err, an error of database/sql, in a *DBError; when ctx is
// done (the likely cause), it returns ctx's error instead.
func dbErr(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, consent.ErrTampered) || errors.Is(err, consent.ErrMalformedRecord) {
		return err // the context's, or a corrupt row's, already typed
	}
	return &DBError{Op: op, Err: err}
}
