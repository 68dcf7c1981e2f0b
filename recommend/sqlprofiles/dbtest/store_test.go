package dbtest_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/tact-go/tact/consent/sqlstore"
	"github.com/tact-go/tact/consent/sqlstore/sqltest"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/recommendtest"
	"github.com/tact-go/tact/recommend/sqlprofiles"
)

var ctx = context.Background()

func open(t testing.TB, d sqlstore.Dialect) (*sql.DB, *sqlprofiles.Store) {
	t.Helper()
	db := sqltest.New(t, d).Open(t)
	require.NoError(t, sqlprofiles.Migrate(ctx, db, d))
	s, err := sqlprofiles.New(ctx, db, d)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return db, s
}

func TestConformance(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, d sqlstore.Dialect) {
		recommendtest.Run(t, func(t *testing.T) recommendtest.ProfileStore {
			_, s := open(t, d)
			return s
		})
	})
}

func TestBadInput(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, d sqlstore.Dialect) {
		db := sqltest.New(t, d).Open(t)
		_, err := sqlprofiles.New(ctx, db, d)
		require.ErrorIs(t, err, sqlstore.ErrSchema, "not migrated")
		require.NoError(t, sqlprofiles.Migrate(ctx, db, d))
		s, err := sqlprofiles.New(ctx, db, d)
		require.NoError(t, err)
		at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
		require.NoError(t, s.AddEvents(ctx, "ana", recommend.Event{Item: "shoes", At: at}))
		require.NoError(t, s.SetPreferences(ctx, "ana", recommend.Preferences{MaxPrice: 80}))

		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err = s.History(cctx, "ana")
		require.ErrorIs(t, err, context.Canceled)
		require.ErrorIs(t, s.AddEvents(cctx, "ana", recommend.Event{Item: "socks", At: at}), context.Canceled)

		// A preferences document damaged in the database.
		_, err = db.ExecContext(ctx, d.Rebind(`UPDATE tact_profile_preferences SET doc = ? WHERE person = ?`), `{"interests": [`, "ana")
		require.NoError(t, err)
		_, err = s.Preferences(ctx, "ana")
		require.ErrorIs(t, err, sqlprofiles.ErrCorrupt)
		h, err := s.History(ctx, "ana")
		require.NoError(t, err, "the rest of the profile is untouched")
		assert.Len(t, h, 1)

		// An erasure that fails midway erases nothing.
		switch d {
		case sqlstore.SQLite:
			_, err = db.ExecContext(ctx, `CREATE TRIGGER boom BEFORE DELETE ON tact_profile_history BEGIN SELECT RAISE(ABORT, 'boom'); END`)
		case sqlstore.Postgres:
			_, err = db.ExecContext(ctx, `CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$ LANGUAGE plpgsql`)
			require.NoError(t, err)
			_, err = db.ExecContext(ctx, `CREATE TRIGGER boom BEFORE DELETE ON tact_profile_history FOR EACH ROW EXECUTE FUNCTION boom()`)
		}
		require.NoError(t, err)
		require.ErrorIs(t, s.Erase(ctx, "ana"), sqlstore.ErrDatabase)
		var n int
		require.NoError(t, db.QueryRowContext(ctx, d.Rebind(`SELECT count(*) FROM tact_profile_preferences WHERE person = ?`), "ana").Scan(&n))
		assert.Equal(t, 1, n, "the preferences deleted first are back: one transaction")

		require.NoError(t, s.Close())
		_, err = s.History(ctx, "ana")
		require.ErrorIs(t, err, sqlstore.ErrClosed)
		s2, err := sqlprofiles.New(ctx, db, d)
		require.NoError(t, err)
		require.NoError(t, db.Close())
		_, err = s2.History(ctx, "ana")
		require.ErrorIs(t, err, sqlstore.ErrDatabase)
	})
}
