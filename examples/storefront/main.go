// Command storefront serves a small web shop built on tact, where a shopper
// can see and control what the shop knows about them:
//
//	cd examples/storefront && go run .            # http://localhost:8080, state in storefront.db
//	go run . -addr :9000 -audit
//	go run . -db postgres://postgres@127.0.0.1:5432/shop
//	go run . -h                                   # every flag
//
// It runs on the synthetic shop of the quickstart (a smaller one by
// default, so that it starts in about a second). What must outlive a
// restart is kept in -db: a SQLite file (storefront.db by default), or a
// PostgreSQL database given by URL, or nowhere with -db memory. There it
// keeps the consent ledger (consent/sqlstore), the visitors' preferences,
// feedback and orders (recommend/sqlprofiles), the visitors' relationship
// with the shop, the privacy budget's spends (dp/sqlbudget) and the DP
// releases they paid for: a restart serves the same releases instead of
// spending the budget again, and checks that the ledger verifies before it
// serves. Its pages:
//
//   - Shop (/, /?category=…, /items/{id}): a product listing with
//     recommendations. Each item has a "Why am I seeing this?" disclosure
//     (the reasons, the data each used, the purpose relied on) and each list
//     says which data it used and which it held back, and why. A visitor the
//     shop knows nothing about gets only what is on the page and what is
//     popular (differentially private), the page first, and the first two
//     minutes of every visit hold back anything personal or promotional
//     (the warm-up guard). On a product page a visitor can "buy" the item
//     (nothing is charged), like it, or say "not interested".
//   - Preferences (/preferences): declared preferences (interests such as
//     "training for a marathon", sizes, a budget, tags to avoid), and the
//     preference centre: every purpose of the policy with what it is for,
//     what it gives and uses, its legal basis and where the visitor stands,
//     as one form of checkboxes saved at once, with a "Turn everything
//     off" button beside "Save my choices".
//   - Your data (/data): everything held about the visitor — the consent
//     receipt in words, declared preferences, feedback and orders — with a
//     JSON download and erasure after a confirmation.
//
// The consent choices are made through consenthttp's preference centre
// (consenthttp.Centre), mounted at /privacy/: the pages post their forms to
// it (POST /privacy/, POST /privacy/erase), and it serves the receipt as
// text (/privacy/receipt), the download (/privacy/export: the consent
// records and what the storefront holds) and the visitor's state as JSON
// (GET /privacy/). /.well-known/gpc.json says the site honours Global
// Privacy Control. The pages are in English or German, as the browser's
// Accept-Language asks (English otherwise): the shop's words, the
// policy's purposes, the reasons of consent decisions and the receipt.
// (The sentences of recommendation reasons come from the recommend
// package, in English.)
//
// Identity is a random 128-bit visitor id in a cookie (crypto/rand), set
// only when the visitor first does something (saves a preference, makes a
// consent choice, buys, gives feedback); nothing else identifies anyone,
// and the preference centre knows the visitor only by that cookie, never
// by anything a form says. A browser without an id leaves nothing in the
// consent ledger: its decisions are the policy's defaults under the
// request's signals. A request carrying Sec-GPC: 1 (Global Privacy
// Control) is honoured: it opts the visitor out of what the policy marks
// as selling or sharing (targeted advertising), the Gate records that, and
// every page says so. A visitor may still turn such a purpose on for this
// site: the preference centre tells them of the conflict and asks them to
// confirm, and once they did, it stays on with the signal.
//
// State changes are POST only. Cross-origin POSTs are refused with 403
// (http.CrossOriginProtection, by Sec-Fetch-Site or Origin), and the
// cookie is SameSite=Strict. Request bodies are limited to 16 KiB;
// malformed forms and unknown ids get a page saying what was wrong, with
// the status consenthttp.Status gives (4xx), and change nothing; a cookie
// naming no visitor the server holds is deleted. At most 10,000 visitors
// are held; past that the least recently seen one is erased.
//
// A visitor with an id counts as known to the shop (they chose to act),
// but each tier of the trust policy also needs consent: "recognized"
// (declared preferences and feedback are read) once the visitor allows one
// of those purposes, "established" (purchase history too) once they also
// allow history and meet the policy's thresholds. The library's default
// policy needs 2 orders, 3 visits and 30 days, which a demo session never
// reaches, so by default the storefront uses a demo policy: 1 order, 1
// visit and 1 minute since the visitor id was set (-trust default restores
// the library's). The warm-up is real too: personal recommendations start
// two minutes into a visit (-warmup 10s for a quicker demo).
//
// With -audit, the audit events of serving (consent changes, erasures,
// recommendations with the data they used) are logged as JSON lines on
// stderr; they never carry a visitor id.
//
// With -operator-token (or STOREFRONT_OPERATOR_TOKEN in the environment,
// which other users cannot read off the command line), the shop's
// operators get a page, /operator/trust, that shoppers never reach (a
// storefront started without a token has no such route: 404; a request
// without the token gets 401 and a sign-in form, one with a wrong one
// 403): the
// differentially private trust report of the shop's audit events and
// consent ledger (dp/trust) with its charts, and the continuous audit's
// verdict. Each report spends -operator-epsilon from a budget of its own
// (-operator-budget, kept in -db), only when an operator asks for a new
// one and at most once a day; the page shows the last one. See
// operator.go.
//
// With -device DIR (a directory holding tact.wasm, built by
// GOOS=js GOARCH=wasm go build -o DIR/tact.wasm ./recommend/ondevice/cmd/tactwasm
// from the repository's root, and the wasm_exec.js of the same Go
// release), a visitor can choose "keep my data on this device" at
// /device: from then their browser keeps their declared preferences,
// feedback and history in localStorage and ranks the shop itself, with
// reasons and the data used, while the server sends only the catalog and
// its differentially private models (the same bytes for everyone), the
// ranking settings and the consent Gate's decisions; the shop's own pages
// send such a browser to /device and take no preferences, feedback or
// orders from it. Consent choices are still made in the preference centre.
// See device.go.
//
// The tests (go test ./... in examples/storefront, a module of its own for
// the database and browser drivers) cover every page and form with
// net/http/httptest, a restart over SQLite and over PostgreSQL (when
// TACT_POSTGRES_URL names a server), and click through the whole story in
// headless Chromium when one is installed, writing screenshots of its
// pages to TACT_SCREENSHOT_DIR.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tact-go/tact/consent/sqlstore"
	"github.com/tact-go/tact/examples/internal/demo"
	"github.com/tact-go/tact/recommend"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "storefront:", err)
		os.Exit(1)
	}
}

// demoTrust is the trust policy of a demo session: history is used from
// the first order, once the visitor id is a minute old. (A zero
// EstablishedTenure would mean the library's default of 30 days.)
var demoTrust = recommend.DefaultTrust{EstablishedOrders: 1, EstablishedVisits: 1, EstablishedTenure: time.Minute}

// options are the parsed flags.
type options struct {
	addr     string
	seed     uint64
	items    int
	shoppers int
	trust    string
	warmUp   time.Duration
	audit    bool
	db       string
	device   string // the on-device ranker's assets (device.go)
	// The operator page (operator.go).
	operatorToken   string
	operatorEpsilon float64
	operatorBudget  float64
	operatorEvents  int
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("storefront", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "localhost:8080", "address to listen on (host:port; port 0 picks a free one)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the synthetic shop (catalog, shoppers, consent states)")
	fs.IntVar(&o.items, "items", 300, "number of catalog items (at least 50)")
	fs.IntVar(&o.shoppers, "shoppers", 2000, "number of synthetic shoppers behind the trending lists (at least 1000)")
	fs.StringVar(&o.trust, "trust", "demo", `trust policy: "demo" uses purchase history from 1 order, 1 visit and 1 minute; "default" needs 2 orders, 3 visits and 30 days`)
	fs.DurationVar(&o.warmUp, "warmup", recommend.DefaultWarmUp, "warm-up of each visit: nothing personal or promotional is shown this long into a visit (negative: off)")
	fs.BoolVar(&o.audit, "audit", false, "log the audit events of serving (consent changes, recommendations) as JSON lines on stderr")
	fs.StringVar(&o.db, "db", "storefront.db", `where state is kept: a SQLite file, a PostgreSQL URL (postgres://user@host:5432/db), or "memory" for none`)
	fs.StringVar(&o.device, "device", "", `directory holding tact.wasm and wasm_exec.js: offers the "keep my data on this device" mode at /device (see device.go); empty: not offered`)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: storefront [flags]

Serves a demo shop built on tact: recommendations that explain themselves,
a preference centre and a "your data" page (export, erase). Consents and
their ledger, profiles, visitors, the privacy budget and the releases it paid
for are kept in -db (a SQLite file by default), so a restart keeps them.

Flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.operatorToken, "operator-token", "", "turn on the operator page /operator/trust for requests carrying this secret (default $STOREFRONT_OPERATOR_TOKEN; at least 16 characters)")
	fs.Float64Var(&o.operatorEpsilon, "operator-epsilon", defaultReportEpsilon, "privacy loss ε each trust report on the operator page spends")
	fs.Float64Var(&o.operatorBudget, "operator-budget", defaultOperatorBudget, "the ε all trust reports may spend together (kept in -db; fixed once recorded)")
	fs.IntVar(&o.operatorEvents, "operator-events", defaultTrailEvents, "audit events held in memory for the operator page")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.operatorToken == "" {
		o.operatorToken = os.Getenv("STOREFRONT_OPERATOR_TOKEN")
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q (see -h)", fs.Args())
	case o.items < 50:
		return o, fmt.Errorf("-items %d: need at least 50", o.items)
	case o.shoppers < 1000:
		return o, fmt.Errorf("-shoppers %d: need at least 1000, or no item is popular enough to clear the DP threshold", o.shoppers)
	case o.trust != "demo" && o.trust != "default":
		return o, fmt.Errorf(`-trust %q: want "demo" or "default"`, o.trust)
	case o.operatorToken != "" && len(o.operatorToken) < minTokenLen:
		return o, fmt.Errorf("-operator-token: %w", errOperatorToken)
	case !(o.operatorEpsilon > 0 && o.operatorEpsilon <= o.operatorBudget) || math.IsInf(o.operatorBudget, 0):
		return o, fmt.Errorf("-operator-epsilon %g, -operator-budget %g: want 0 < epsilon <= budget, finite", o.operatorEpsilon, o.operatorBudget)
	case o.operatorEvents < 1:
		return o, fmt.Errorf("-operator-events %d: want at least 1", o.operatorEvents)
	}
	return o, nil
}

// run parses the flags, builds the shop and serves until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	start := time.Now()
	// The audit log is switched on once the shop is built, so that it shows
	// what serving does rather than the thousands of seeded consent events.
	audit := &switchHandler{}
	var sinks []slog.Handler
	if o.audit {
		sinks = append(sinks, slog.NewJSONHandler(stderr, nil))
	}
	var trail *auditTrail // the operator page's copy of the audit events
	if o.operatorToken != "" {
		trail = newAuditTrail(o.operatorEvents, nil)
		sinks = append(sinks, trail.handler())
	}
	if len(sinks) > 0 {
		audit.next = slog.NewMultiHandler(sinks...)
	}
	logger := slog.New(audit)
	opts := demo.Options{Seed: o.seed, Items: o.items, Shoppers: o.shoppers, Logger: logger}
	var db *database
	if o.db != "memory" {
		if db, err = openDatabase(ctx, o.db); err != nil {
			return fmt.Errorf("-db: %w", err)
		}
		defer db.Close()
		if opts, err = db.shopOptions(ctx, opts); err != nil {
			return err
		}
	}
	shop, err := demo.New(ctx, opts)
	if err != nil {
		return err
	}
	cfg := config{Shop: shop, WarmUp: o.warmUp, Logger: logger, Trust: demoTrust}
	if o.device != "" {
		cfg.Device = os.DirFS(o.device)
	}
	if db != nil {
		cfg.Visitors = db
		// A restart must find the ledger whole.
		if _, err := shop.Gate.Verify(ctx); err != nil {
			return fmt.Errorf("-db %s: %w", o.db, err)
		}
	}
	if o.trust == "default" {
		cfg.Trust = recommend.DefaultTrust{}
	}
	if trail != nil {
		if cfg.Operator, err = o.operatorConfig(ctx, db, trail, logger); err != nil {
			return err
		}
	}
	srv, err := newServer(ctx, cfg)
	if err != nil {
		return err
	}
	audit.on.Store(true)

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	fmt.Fprintf(stdout, "tact storefront: %s, %d items, %d shoppers (seed %d), built in %s\n",
		shop.Policy.Controller, shop.World.Catalog.Len(), len(shop.World.Shoppers), o.seed, time.Since(start).Round(time.Millisecond))
	where := "memory (nothing is kept)"
	if db != nil {
		where = o.db
		if db.d == sqlstore.Postgres {
			where = "PostgreSQL"
		}
	}
	fmt.Fprintf(stdout, "state in %s\n", where)
	fmt.Fprintf(stdout, "serving on http://%s/ (Ctrl-C to stop)\n", ln.Addr())
	if trail != nil {
		fmt.Fprintf(stdout, "operator page on http://%s/operator/trust (sign in with the operator token)\n", ln.Addr())
	}

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
