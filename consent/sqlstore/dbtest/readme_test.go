package dbtest_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
	"github.com/tact-go/tact/consent/sqlstore"
	"github.com/tact-go/tact/consent/sqlstore/sqltest"
	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/dptest"
	"github.com/tact-go/tact/dp/sqlbudget"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/recommendtest"
	"github.com/tact-go/tact/recommend/sqlprofiles"
)

// readmeSetup is the README's "Keep state in your database" code, run on
// a SQLite file in dir.
func readmeSetup(t *testing.T, dir string) (*consent.Gate, *recommend.Recommender, *dp.Budget) {
	ctx := context.Background()
	policy, model := consenttest.RetailPolicy(), recommendtest.Generate(recommendtest.Options{Seed: 1}).Model()
	must := func(err error) {
		t.Helper()
		require.NoError(t, err)
	}
	dsn := filepath.Join(dir, "shop.db")
	// sql:begin
	db, err := sql.Open("sqlite", "file:"+dsn+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	must(err) // or sql.Open("pgx", "postgres://…") and sqlstore.Postgres
	d := sqlstore.SQLite

	// Once per deploy: create or upgrade the schemas (versioned; never a side effect of New).
	must(sqlstore.Migrate(ctx, db, d))
	must(sqlprofiles.Migrate(ctx, db, d))
	must(sqlbudget.Migrate(ctx, db, d))

	consents, err := sqlstore.New(ctx, db, d) // the ledger: shared by every instance, kept across restarts
	must(err)
	gate, err := consent.NewGate(policy, consents, consent.GateConfig{})
	must(err)
	profiles, err := sqlprofiles.New(ctx, db, d) // preferences, feedback, history; export and erase
	must(err)
	rec, err := recommend.New(model, gate, profiles, recommend.Config{}) // one consent query per request
	must(err)
	spends, err := sqlbudget.New(ctx, db, d, "weekly-stats", 1, 1e-5) // the total is recorded, and checked
	must(err)
	budget, err := spends.Budget(nil) // a dp.Budget that starts from what was spent, and never overspends
	must(err)
	// sql:end
	t.Cleanup(func() { db.Close() })
	return gate, rec, budget
}

// The README's code runs, and a restart finds what the first run kept.
func TestReadmeSetupRuns(t *testing.T) {
	dir := t.TempDir()
	gate, rec, budget := readmeSetup(t, dir)
	ctx := context.Background()
	_, err := gate.Record(ctx, ev(consent.Grant, "ana", consent.PurposePersonalize, now))
	require.NoError(t, err)
	require.NoError(t, budget.Spend(ctx, "trending", 0.5, 0))
	_, err = rec.Recommend(ctx, recommend.Request{Subject: "ana", At: now.Add(time.Hour), K: 3})
	require.NoError(t, err)

	gate2, _, budget2 := readmeSetup(t, dir) // a restart
	d, err := gate2.Decide(ctx, "ana", consent.PurposePersonalizeHistory, now.Add(time.Hour), consent.Signals{})
	require.NoError(t, err)
	require.True(t, d.Allowed)
	require.NoError(t, budget2.Sync(ctx))
	e, _ := budget2.Spent()
	require.Equal(t, 0.5, e)
}

// readme:begin
func TestMyConsentStore(t *testing.T) {
	consenttest.Run(t, func(t *testing.T) consent.Store { return newConsentStore(t) })
}

func TestMyProfileStore(t *testing.T) {
	recommendtest.Run(t, func(t *testing.T) recommendtest.ProfileStore { return newProfileStore(t) })
}

func TestMySpendLog(t *testing.T) {
	dptest.RunSpendLog(t, func(t *testing.T) dp.SpendLog { return newSpendLog(t) }, nil)
}

// readme:end

// The stores under test in the README's example are tact's own, on a
// fresh SQLite database; a host puts its own there.
func newConsentStore(t *testing.T) consent.Store {
	db := migrated(t)
	s, err := sqlstore.New(context.Background(), db, sqlstore.SQLite)
	require.NoError(t, err)
	return s
}

func newProfileStore(t *testing.T) recommendtest.ProfileStore {
	db := migrated(t)
	s, err := sqlprofiles.New(context.Background(), db, sqlstore.SQLite)
	require.NoError(t, err)
	return s
}

func newSpendLog(t *testing.T) dp.SpendLog {
	db := migrated(t)
	l, err := sqlbudget.New(context.Background(), db, sqlstore.SQLite, "test", 1, 0)
	require.NoError(t, err)
	return l
}

func migrated(t *testing.T) *sql.DB {
	db := sqltest.New(t, sqlstore.SQLite).Open(t)
	ctx := context.Background()
	require.NoError(t, sqlstore.Migrate(ctx, db, sqlstore.SQLite))
	require.NoError(t, sqlprofiles.Migrate(ctx, db, sqlstore.SQLite))
	require.NoError(t, sqlbudget.Migrate(ctx, db, sqlstore.SQLite))
	return db
}

// TestReadmeShowsThisCode keeps the README's database section true to the
// code above: the two marked regions of this file appear in it verbatim.
func TestReadmeShowsThisCode(t *testing.T) {
	src, err := os.ReadFile("readme_test.go")
	require.NoError(t, err)
	readme, err := os.ReadFile("../../../README.md")
	require.NoError(t, err)
	for _, marks := range [][2]string{{"// sql:begin", "// sql:end"}, {"// readme:begin", "// readme:end"}} {
		text := string(src)
		i := strings.Index(text, marks[0])
		j := i + strings.Index(text[i:], marks[1])
		require.True(t, i >= 0 && j > i, "markers %v", marks)
		body := text[i+len(marks[0]) : j]
		body = body[strings.IndexByte(body, '\n')+1:]
		lines := strings.Split(strings.TrimRight(body, "\n\t "), "\n")
		indent := len(lines[0]) - len(strings.TrimLeft(lines[0], "\t")) // the region's indentation
		for k, l := range lines {
			lines[k] = strings.TrimPrefix(l, strings.Repeat("\t", indent))
		}
		if want := strings.Join(lines, "\n"); !strings.Contains(string(readme), want) {
			t.Errorf("the README does not show readme_test.go between %v; it should contain:\n%s", marks, want)
		}
	}
}
