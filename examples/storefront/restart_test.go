package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/sqlstore"
	"github.com/tact-go/tact/consent/sqlstore/sqltest"
	"github.com/tact-go/tact/dp/dptest"
	"github.com/tact-go/tact/examples/internal/demo"
)

// A restart over the same database keeps everything: the visitor's
// consents and the ledger (which verifies), their preferences and orders,
// the visitor id, and the privacy budget's spends, which the restarted shop
// does not spend again: it serves the releases it kept.
func TestRestartKeepsEverything(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(d.String(), func(t *testing.T) {
			dsn := filepath.Join(t.TempDir(), "storefront.db")
			if d == sqlstore.Postgres {
				dsn = sqltest.New(t, d).DSN
			}
			ctx := context.Background()
			clk := newClock()
			start := func() (*fixture, *database) {
				db, err := openDatabase(ctx, dsn)
				require.NoError(t, err)
				t.Cleanup(func() { db.Close() })
				opts, err := db.shopOptions(ctx, demo.Options{Seed: 1, Items: 100, Shoppers: 1000, Noise: dptest.Noise{StdDevs: 1, MinPersons: 50}})
				require.NoError(t, err)
				shop, err := demo.New(ctx, opts)
				require.NoError(t, err)
				f := &fixture{t: t, clock: clk}
				f.srv, err = newServer(ctx, config{Shop: shop, Now: clk.Now, Visitors: db})
				require.NoError(t, err)
				f.ts = httptest.NewServer(f.srv)
				t.Cleanup(f.ts.Close)
				return f, db
			}
			spends := func(db *database) int {
				var n int
				require.NoError(t, db.db.QueryRowContext(ctx, `SELECT count(*) FROM tact_budget_spends`).Scan(&n))
				return n
			}

			f1, db1 := start()
			assert.Equal(t, 2, spends(db1), "trending and co-occurrence, once")
			b := f1.browser()
			b.grant(string(consent.PurposePersonalize))
			want(t, b.post("/preferences", url.Values{"interest": {"marathon"}, "size-shoe": {"42"}}), http.StatusOK, "Saved.")
			item := f1.srv.shop.World.Items[3]
			b.post("/items/"+item.ID+"/buy", nil)
			id := b.cookie()
			require.NotEmpty(t, id)
			before, err := json.Marshal(f1.srv.shop.Trending)
			require.NoError(t, err)
			cp, err := f1.srv.shop.Gate.Checkpoint(ctx)
			require.NoError(t, err)
			f1.ts.Close()
			require.NoError(t, db1.Close())

			// The restart.
			f2, db2 := start()
			assert.Equal(t, 2, spends(db2), "a restart spends nothing again")
			after, err := json.Marshal(f2.srv.shop.Trending)
			require.NoError(t, err)
			assert.JSONEq(t, string(before), string(after), "the kept release is served")
			got, err := f2.srv.shop.Gate.Verify(ctx, cp)
			require.NoError(t, err, "the ledger verifies against the checkpoint taken before the restart")
			assert.Equal(t, cp, got, "and nothing was appended by the restart")

			b2 := f2.browser()
			u, _ := url.Parse(f2.ts.URL)
			b2.c.Jar.SetCookies(u, []*http.Cookie{{Name: cookieName, Value: id, Path: "/"}})
			p := b2.get("/data")
			want(t, p, http.StatusOK, "Training for a marathon", item.Title)
			d2, err := f2.srv.shop.Gate.Decide(ctx, id, consent.PurposePersonalizeHistory, clk.Now(), consent.Signals{})
			require.NoError(t, err)
			assert.True(t, d2.Allowed, "the grant made before the restart holds")
			rel, _ := f2.srv.relationship(f2.srv.visitors[id])
			assert.Equal(t, 1, rel.Orders, "the visitor's orders are kept")

			// Erasure after the restart erases what the first run stored.
			want(t, b2.post("/privacy/erase", url.Values{"confirm": {"erase"}}), http.StatusOK, "Your data is erased")
			prof, err := f2.srv.shop.Profiles.Export(ctx, id)
			require.NoError(t, err)
			assert.Empty(t, prof.History)
			var visitors int
			require.NoError(t, db2.db.QueryRowContext(ctx, `SELECT count(*) FROM storefront_visitors`).Scan(&visitors))
			assert.Zero(t, visitors)
			_, err = f2.srv.shop.Gate.Verify(ctx)
			require.NoError(t, err)
		})
	}
}
