package dbtest_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
	"github.com/tact-go/tact/consent/sqlstore"
	"github.com/tact-go/tact/consent/sqlstore/sqltest"
)

var (
	ctx = context.Background()
	now = consenttest.Now()
)

// open returns a migrated database and a Store on it.
func open(t testing.TB, d sqlstore.Dialect) (sqltest.DB, *sql.DB, *sqlstore.Store) {
	t.Helper()
	x := sqltest.New(t, d)
	db := x.Open(t)
	require.NoError(t, sqlstore.Migrate(ctx, db, d))
	s, err := sqlstore.New(ctx, db, d)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return x, db, s
}

func TestConformance(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, d sqlstore.Dialect) {
		consenttest.Run(t, func(t *testing.T) consent.Store {
			_, _, s := open(t, d)
			return s
		})
	})
}

func TestMigrate(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, d sqlstore.Dialect) {
		db := sqltest.New(t, d).Open(t)
		_, err := sqlstore.New(ctx, db, d)
		var se *sqlstore.SchemaError
		require.ErrorAs(t, err, &se, "a database never migrated")
		assert.Equal(t, 0, se.Have)
		require.ErrorIs(t, err, sqlstore.ErrSchema)

		require.NoError(t, sqlstore.Migrate(ctx, db, d))
		require.NoError(t, sqlstore.Migrate(ctx, db, d), "migrating again is a no-op")
		_, err = sqlstore.New(ctx, db, d)
		require.NoError(t, err)

		// A database at version 1 (before overrides_gpc) upgrades in
		// place, keeping its records.
		g, err := consent.NewGate(consenttest.RetailPolicy(), newStore(t, db, d), consent.GateConfig{})
		require.NoError(t, err)
		_, err = g.Record(ctx, consent.Event{Action: consent.Grant, Subject: "s", Purpose: consent.PurposeSharing,
			At: consenttest.Now(), Channel: consent.ChannelWeb})
		require.NoError(t, err)
		for _, q := range []string{`ALTER TABLE tact_consent_records DROP COLUMN overrides_gpc`,
			`UPDATE tact_schema SET version = 1 WHERE component = 'consent'`} {
			_, err = db.ExecContext(ctx, q)
			require.NoError(t, err)
		}
		_, err = sqlstore.New(ctx, db, d)
		require.ErrorAs(t, err, &se, "a version-1 database must be migrated first")
		assert.Equal(t, 1, se.Have)
		require.NoError(t, sqlstore.Migrate(ctx, db, d))
		g, err = consent.NewGate(consenttest.RetailPolicy(), newStore(t, db, d), consent.GateConfig{})
		require.NoError(t, err)
		rec, err := g.Record(ctx, consent.Event{Action: consent.Grant, Subject: "s", Purpose: consent.PurposeSharing,
			At: consenttest.Now().Add(time.Minute), Channel: consent.ChannelWeb, OverridesGPC: true})
		require.NoError(t, err)
		dec, err := g.Decide(ctx, "s", consent.PurposeSharing, consenttest.Now().Add(2*time.Minute), consent.Signals{GPC: true})
		require.NoError(t, err)
		assert.True(t, dec.Allowed && dec.Record == rec, "the upgraded store keeps the confirmation: %s", dec.Explain())
		cp, err := g.Verify(ctx)
		require.NoError(t, err)
		assert.Equal(t, uint64(3), cp.Seq, "the two grants and the denial of advertising the signal recorded")

		// A database migrated by newer code.
		_, err = db.ExecContext(ctx, d.Rebind(`UPDATE tact_schema SET version = 99 WHERE component = ?`), sqlstore.Component)
		require.NoError(t, err)
		_, err = sqlstore.New(ctx, db, d)
		require.ErrorIs(t, err, sqlstore.ErrSchema)
		require.ErrorIs(t, sqlstore.Migrate(ctx, db, d), sqlstore.ErrSchema)

		// Concurrent migrations of a fresh database: one creates, the
		// others find it done.
		db2 := sqltest.New(t, d)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = sqlstore.Migrate(ctx, db2.Open(t), d)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
	})
}

func TestBadInput(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, d sqlstore.Dialect) {
		_, err := sqlstore.New(ctx, nil, d)
		require.ErrorIs(t, err, sqlstore.ErrNilDB)
		_, err = sqlstore.New(ctx, sqltest.New(t, d).Open(t), 0)
		require.ErrorIs(t, err, sqlstore.ErrDialect)

		_, db, s := open(t, d)
		g, err := consent.NewGate(consenttest.RetailPolicy(), s, consent.GateConfig{})
		require.NoError(t, err)
		record(t, g, consent.Grant, "ana", consent.PurposeMarketing, now)

		// A cancelled context.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err = g.Record(cctx, ev(consent.Withdraw, "ana", consent.PurposeMarketing, now.Add(time.Minute)))
		require.ErrorIs(t, err, context.Canceled)
		_, err = g.Decide(cctx, "ana", consent.PurposeMarketingEmail, now, consent.Signals{})
		require.ErrorIs(t, err, context.Canceled)

		// Corrupted rows: a withdrawal turned into a grant in the ledger,
		// and the subject's standing (what decisions read) damaged.
		w := record(t, g, consent.Withdraw, "ana", consent.PurposeMarketing, now.Add(time.Minute))
		_, err = db.ExecContext(ctx, d.Rebind(`UPDATE tact_consent_records SET action = ? WHERE seq = ?`), int(consent.Grant), int64(w.Seq))
		require.NoError(t, err)
		var standing []byte
		require.NoError(t, db.QueryRowContext(ctx, d.Rebind(`SELECT standing FROM tact_consent_subjects WHERE subject = ?`), "ana").Scan(&standing))
		for _, damage := range []func([]byte) []byte{
			func(b []byte) []byte { b[len(b)-1] ^= 1; return b }, // a salt byte: a hash no longer matches
			func(b []byte) []byte { return b[:len(b)-5] },        // truncated
			func(b []byte) []byte { b[0] = 9; return b },         // another version
			func(b []byte) []byte { return append(b, 0) },        // trailing data
		} {
			_, err = db.ExecContext(ctx, d.Rebind(`UPDATE tact_consent_subjects SET standing = ? WHERE subject = ?`), damage(bytes.Clone(standing)), "ana")
			require.NoError(t, err)
			_, err = g.Decide(ctx, "ana", consent.PurposeMarketingEmail, now.Add(time.Hour), consent.Signals{})
			require.ErrorIs(t, err, consent.ErrTampered, "a decision on a corrupted row is an error, never an allow")
		}
		_, err = g.Verify(ctx)
		require.ErrorIs(t, err, consent.ErrTampered)
		// Put them back: nothing was lost.
		_, err = db.ExecContext(ctx, d.Rebind(`UPDATE tact_consent_records SET action = ? WHERE seq = ?`), int(consent.Withdraw), int64(w.Seq))
		require.NoError(t, err)
		_, err = db.ExecContext(ctx, d.Rebind(`UPDATE tact_consent_subjects SET standing = ? WHERE subject = ?`), standing, "ana")
		require.NoError(t, err)
		dec, err := g.Decide(ctx, "ana", consent.PurposeMarketingEmail, now.Add(time.Hour), consent.Signals{})
		require.NoError(t, err)
		assert.Equal(t, consent.ReasonWithdrawn, dec.Reason)
		_, err = g.Verify(ctx)
		require.NoError(t, err)

		// A closed store, and a closed *sql.DB.
		s2, err := sqlstore.New(ctx, db, d)
		require.NoError(t, err)
		require.NoError(t, s2.Close())
		_, _, err = s2.Latest(ctx, "ana", consent.PurposeMarketing)
		require.ErrorIs(t, err, sqlstore.ErrClosed)
		require.NoError(t, db.Close())
		_, err = g.Record(ctx, ev(consent.Grant, "ana", consent.PurposeMarketing, now.Add(2*time.Minute)))
		require.ErrorIs(t, err, sqlstore.ErrDatabase)
		var de *sqlstore.DBError
		require.ErrorAs(t, err, &de)
		_, err = g.Decide(ctx, "ana", consent.PurposeMarketingEmail, now, consent.Signals{})
		require.ErrorIs(t, err, sqlstore.ErrDatabase)
	})
}

// Two service instances: two Gates on two *sql.DB over one database,
// recording concurrently for shared and own subjects. Every record a
// Record call returned is stored as returned, nothing else is, and the
// chain verifies from both.
func TestTwoInstances(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, d sqlstore.Dialect) {
		x := sqltest.New(t, d)
		gates := make([]*consent.Gate, 2)
		for i := range gates {
			db := x.Open(t)
			if i == 0 {
				require.NoError(t, sqlstore.Migrate(ctx, db, d))
			}
			s, err := sqlstore.New(ctx, db, d)
			require.NoError(t, err)
			gates[i], err = consent.NewGate(consenttest.RetailPolicy(), s, consent.GateConfig{})
			require.NoError(t, err)
		}
		const writers, each = 4, 25
		var mu sync.Mutex
		returned := map[uint64]consent.Record{}
		var clock atomic.Int64
		var wg sync.WaitGroup
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				g := gates[i%2]
				for j := range each {
					subject := fmt.Sprint("own-", i)
					if j%3 == 0 {
						subject = "shared"
					}
					a := []consent.Action{consent.Grant, consent.Withdraw}[j%2]
					at := now.Add(time.Duration(clock.Add(1)) * time.Millisecond)
					r, err := g.Record(ctx, ev(a, subject, consent.PurposeMarketing, at))
					if errors.Is(err, consent.ErrOutOfOrder) {
						continue // "shared" got a later event from another writer first
					}
					if err != nil {
						t.Errorf("Record: %v", err)
						return
					}
					mu.Lock()
					returned[r.Seq] = r
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		var stored []consent.Record
		s, err := sqlstore.New(ctx, x.Open(t), d)
		require.NoError(t, err)
		require.NoError(t, s.Scan(ctx, "", 0, func(r consent.Record) error { stored = append(stored, r); return nil }))
		assert.Len(t, stored, len(returned))
		assert.GreaterOrEqual(t, len(returned), writers*each*2/3)
		for _, r := range stored {
			assert.Equal(t, returned[r.Seq], r, "record %d", r.Seq)
		}
		for _, g := range gates {
			_, err := g.Verify(ctx)
			require.NoError(t, err)
		}
	})
}

// A withdrawal recorded on one instance is seen by every decision that
// starts on the other after it returned: 8 goroutines decide in a loop on
// the second instance, and none of the decisions that started after the
// withdrawal returned allows.
func TestWithdrawalSeenAcrossInstances(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, d sqlstore.Dialect) {
		x := sqltest.New(t, d)
		dbA, dbB := x.Open(t), x.Open(t)
		require.NoError(t, sqlstore.Migrate(ctx, dbA, d))
		sA, err := sqlstore.New(ctx, dbA, d)
		require.NoError(t, err)
		sB, err := sqlstore.New(ctx, dbB, d)
		require.NoError(t, err)
		a, err := consent.NewGate(consenttest.RetailPolicy(), sA, consent.GateConfig{})
		require.NoError(t, err)
		b, err := consent.NewGate(consenttest.RetailPolicy(), sB, consent.GateConfig{})
		require.NoError(t, err)
		record(t, a, consent.Grant, "ana", consent.PurposePersonalize, now)

		var withdrawn atomic.Bool // set once the withdrawal returned
		var after, allowedAfter, total atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					started := withdrawn.Load()
					dec, err := b.Decide(ctx, "ana", consent.PurposePersonalizeHistory, now.Add(time.Hour), consent.Signals{})
					if err != nil {
						t.Errorf("Decide: %v", err)
						return
					}
					total.Add(1)
					if started {
						after.Add(1)
						if dec.Allowed {
							allowedAfter.Add(1)
						}
					}
				}
			}()
		}
		time.Sleep(50 * time.Millisecond)
		record(t, a, consent.Withdraw, "ana", consent.PurposePersonalize, now.Add(time.Minute))
		withdrawn.Store(true)
		time.Sleep(50 * time.Millisecond)
		close(stop)
		wg.Wait()
		t.Logf("%d decisions, %d started after the withdrawal returned", total.Load(), after.Load())
		require.Positive(t, after.Load())
		assert.Zero(t, allowedAfter.Load(), "decisions that started after the withdrawal returned and allowed")
	})
}

// A transaction that fails midway (a trigger refuses one record of a
// batch) stores nothing of the batch, and the ledger still verifies.
func TestFailedTransactionLeavesALedgerThatVerifies(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, d sqlstore.Dialect) {
		_, db, s := open(t, d)
		g, err := consent.NewGate(consenttest.RetailPolicy(), s, consent.GateConfig{})
		require.NoError(t, err)
		for i := range 3 {
			record(t, g, consent.Grant, "ana", []consent.Purpose{consent.PurposeMarketing, consent.PurposeSharing, consent.PurposePersonalize}[i], now)
		}
		// Seq 5 will fail: Erase appends three withdrawals (4, 5, 6).
		switch d {
		case sqlstore.SQLite:
			_, err = db.ExecContext(ctx, `CREATE TRIGGER boom BEFORE INSERT ON tact_consent_records WHEN NEW.seq = 5
				BEGIN SELECT RAISE(ABORT, 'boom'); END`)
		case sqlstore.Postgres:
			_, err = db.ExecContext(ctx, `CREATE FUNCTION boom() RETURNS trigger AS $$
				BEGIN IF NEW.seq = 5 THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`)
			require.NoError(t, err)
			_, err = db.ExecContext(ctx, `CREATE TRIGGER boom BEFORE INSERT ON tact_consent_records FOR EACH ROW EXECUTE FUNCTION boom()`)
		}
		require.NoError(t, err)
		_, err = g.Erase(ctx, "ana", now.Add(time.Hour))
		require.ErrorIs(t, err, sqlstore.ErrDatabase)
		cp, err := g.Verify(ctx)
		require.NoError(t, err)
		assert.Equal(t, uint64(3), cp.Seq, "nothing of the failed batch was stored")
		dec, err := g.Decide(ctx, "ana", consent.PurposeMarketingEmail, now.Add(time.Hour), consent.Signals{})
		require.NoError(t, err)
		assert.True(t, dec.Allowed, "and nothing was withdrawn")

		_, err = db.ExecContext(ctx, `DROP TRIGGER boom`+map[sqlstore.Dialect]string{sqlstore.Postgres: " ON tact_consent_records"}[d])
		require.NoError(t, err)
		e, err := g.Erase(ctx, "ana", now.Add(time.Hour))
		require.NoError(t, err)
		assert.Equal(t, 6, e.Records)
		_, err = g.Verify(ctx)
		require.NoError(t, err)
	})
}

// A store restarted over the same database keeps everything, and the
// ledger verifies against a checkpoint taken before the restart.
func TestRestart(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, d sqlstore.Dialect) {
		x, _, s := open(t, d)
		g, err := consent.NewGate(consenttest.RetailPolicy(), s, consent.GateConfig{})
		require.NoError(t, err)
		record(t, g, consent.Grant, "ana", consent.PurposePersonalize, now)
		record(t, g, consent.Deny, "ben", consent.PurposeMarketing, now)
		_, err = g.Erase(ctx, "ben", now.Add(time.Minute))
		require.NoError(t, err)
		cp, err := g.Checkpoint(ctx)
		require.NoError(t, err)
		require.NoError(t, s.Close())

		s2, err := sqlstore.New(ctx, x.Open(t), d)
		require.NoError(t, err)
		g2, err := consent.NewGate(consenttest.RetailPolicy(), s2, consent.GateConfig{})
		require.NoError(t, err)
		got, err := g2.Verify(ctx, cp)
		require.NoError(t, err)
		assert.Equal(t, cp, got)
		dec, err := g2.Decide(ctx, "ana", consent.PurposePersonalizeHistory, now.Add(time.Hour), consent.Signals{})
		require.NoError(t, err)
		assert.True(t, dec.Allowed)
		r := record(t, g2, consent.Grant, "cy", consent.PurposeMarketing, now.Add(time.Hour))
		assert.Equal(t, cp.Seq+1, r.Seq)
	})
}

func ev(a consent.Action, subject string, p consent.Purpose, at time.Time) consent.Event {
	return consent.Event{Action: a, Subject: subject, Purpose: p, At: at, Channel: consent.ChannelWeb}
}

func record(t testing.TB, g *consent.Gate, a consent.Action, subject string, p consent.Purpose, at time.Time) consent.Record {
	t.Helper()
	r, err := g.Record(ctx, ev(a, subject, p, at))
	require.NoError(t, err)
	return r
}

func newStore(t *testing.T, db *sql.DB, d sqlstore.Dialect) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.New(ctx, db, d)
	require.NoError(t, err)
	return s
}
