package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/examples/internal/demo"
	"github.com/tact-go/tact/recommend"
)

// Limits of the demo.
const (
	cookieName = "tact_visitor"
	// maxBody is the largest request body accepted, in bytes.
	maxBody = 16 << 10
	// visitGap is how long a visitor must have been away for their next
	// request to start a new visit (and a new warm-up).
	visitGap = 30 * time.Minute
	// cookieMaxAge is how long the browser keeps the visitor id.
	cookieMaxAge = 30 * 24 * time.Hour
	// defaultMaxVisitors bounds the visitors held in memory; past it, the
	// least recently seen visitor is erased.
	defaultMaxVisitors = 10000
	// maxOrders and maxFeedback bound what one visitor can add.
	maxOrders   = 200
	maxFeedback = 200
)

// config configures a server. Shop is required; zero fields take the
// defaults in their docs.
type config struct {
	Shop *demo.Shop
	// Trust derives the tier of each request; nil means demoTrust.
	Trust recommend.TrustPolicy
	// WarmUp of each visit; 0 means recommend.DefaultWarmUp, negative: off.
	WarmUp time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the recommender's audit events; nil logs nothing.
	Logger *slog.Logger
	// MaxVisitors bounds the visitors kept; 0 means defaultMaxVisitors.
	MaxVisitors int
	// Visitors keeps the visitors across restarts; nil keeps them in
	// memory only.
	Visitors visitorStore
}

// visitorStore keeps the storefront's visitors (the relationship each
// cookie id has with the shop) across restarts. The server holds them all
// in memory too and writes every change through.
type visitorStore interface {
	loadVisitors(ctx context.Context) ([]visitorRow, error)
	saveVisitor(ctx context.Context, v visitorRow) error
	deleteVisitor(ctx context.Context, id string) error
}

// server is the storefront: an http.Handler over a demo shop. It is safe
// for concurrent use; all its state is in memory.
type server struct {
	shop        *demo.Shop
	rec         *recommend.Recommender
	trust       recommend.TrustPolicy
	now         func() time.Time
	warmUp      time.Duration
	maxVisitors int
	mux         *http.ServeMux
	pages       map[string]*template.Template
	cat         catalogInfo
	gpcPurpose  consent.Purpose // a purpose GPC opts out of, "" for none

	mu       sync.Mutex
	visitors map[string]*visitor
	store    visitorStore // nil: memory only
	log      *slog.Logger
}

// visitor is what the storefront knows about one browser, keyed by the
// random id in its cookie.
type visitor struct {
	id string
	// op serializes the visitor's state changes, so that an erasure
	// never races with a purchase or a preference being saved.
	op sync.Mutex

	// Guarded by server.mu.
	firstSeen  time.Time
	visitStart time.Time
	lastSeen   time.Time
	visits     int
	orders     int
	gone       bool // erased or evicted: the id is no longer served
}

//go:embed templates/*.html
var templateFS embed.FS

var pageNames = []string{"home", "item", "preferences", "data", "erased", "error"}

func newServer(ctx context.Context, cfg config) (*server, error) {
	if cfg.Shop == nil {
		return nil, errors.New("storefront: no shop")
	}
	s := &server{
		shop:        cfg.Shop,
		now:         cfg.Now,
		warmUp:      cfg.WarmUp,
		maxVisitors: cfg.MaxVisitors,
		visitors:    make(map[string]*visitor),
		store:       cfg.Visitors,
		log:         cfg.Logger,
		pages:       make(map[string]*template.Template),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.warmUp == 0 {
		s.warmUp = recommend.DefaultWarmUp
	}
	if s.maxVisitors <= 0 {
		s.maxVisitors = defaultMaxVisitors
	}
	s.trust = cfg.Trust
	if s.trust == nil {
		s.trust = demoTrust
	}
	var err error
	s.rec, err = recommend.New(cfg.Shop.Model, cfg.Shop.Gate, cfg.Shop.Profiles, recommend.Config{
		Trust: s.trust, WarmUp: s.warmUp, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	s.cat = newCatalogInfo(cfg.Shop)
	if s.store != nil {
		rows, err := s.store.loadVisitors(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			s.visitors[r.id] = &visitor{id: r.id, firstSeen: r.firstSeen, visitStart: r.visitStart, lastSeen: r.lastSeen,
				visits: r.visits, orders: r.orders}
		}
	}
	for _, spec := range cfg.Shop.Policy.Purposes {
		if s.gpcPurpose == "" && s.gpcCovers(spec.Purpose) && spec.Basis.NeedsConsent() {
			s.gpcPurpose = spec.Purpose
		}
	}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		s.pages[name] = t
	}

	m := http.NewServeMux()
	m.Handle("/{$}", s.handle(s.home, http.MethodGet))
	m.Handle("/items/{id}", s.handle(s.item, http.MethodGet))
	m.Handle("/items/{id}/buy", s.handle(s.buy, http.MethodPost))
	m.Handle("/items/{id}/feedback", s.handle(s.feedback, http.MethodPost))
	m.Handle("/preferences", s.handle(s.preferences, http.MethodGet, http.MethodPost))
	m.Handle("/consent", s.handle(s.consent, http.MethodPost))
	m.Handle("/data", s.handle(s.yourData, http.MethodGet))
	m.Handle("/data/export", s.handle(s.export, http.MethodGet))
	m.Handle("/data/erase", s.handle(s.erase, http.MethodPost))
	m.Handle("/", s.handle(func(*visit) error {
		return notFound("No such page", "There is no page at this address.")
	}))
	s.mux = m
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	s.mux.ServeHTTP(w, r)
}

// visit is one request as the handlers see it.
type visit struct {
	w   http.ResponseWriter
	r   *http.Request
	v   *visitor // nil: this browser has no visitor id
	now time.Time
	gpc bool // the request carries Sec-GPC: 1
}

func (x *visit) ctx() context.Context { return x.r.Context() }

func (x *visit) signals() consent.Signals { return consent.Signals{GPC: x.gpc} }

// pageError is an error shown to the visitor as a page with a status.
type pageError struct {
	Status int
	Title  string
	Msg    string
}

func (e *pageError) Error() string { return e.Title + ": " + e.Msg }

func badRequest(title, format string, args ...any) error {
	return &pageError{http.StatusBadRequest, title, fmt.Sprintf(format, args...)}
}

func notFound(title, format string, args ...any) error {
	return &pageError{http.StatusNotFound, title, fmt.Sprintf(format, args...)}
}

func conflict(title, format string, args ...any) error {
	return &pageError{http.StatusConflict, title, fmt.Sprintf(format, args...)}
}

// handle adapts a handler: it checks the method (no methods: any),
// refuses cross-site POSTs, limits and parses the body, finds the visitor
// and renders errors.
func (s *server) handle(h func(*visit) error, methods ...string) http.Handler {
	allow := strings.Join(methods, ", ")
	if slices.Contains(methods, http.MethodGet) {
		methods = append(methods, http.MethodHead)
		allow += ", " + http.MethodHead
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := &visit{w: w, r: r, now: s.now(), gpc: r.Header.Get("Sec-GPC") == "1"}
		x.v = s.current(r, x.now)
		err := s.honourGPC(x)
		switch {
		case err != nil:
		case len(methods) > 0 && !slices.Contains(methods, r.Method):
			w.Header().Set("Allow", allow)
			err = &pageError{http.StatusMethodNotAllowed, "Method not allowed",
				"This address accepts " + allow + " only; changes are made with the page's buttons (POST)."}
		case r.Method == http.MethodPost && crossSite(r):
			err = &pageError{http.StatusForbidden, "Request refused",
				"This form was sent from another site. The storefront only accepts forms sent from its own pages."}
		case r.Method == http.MethodPost:
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
			if perr := r.ParseForm(); perr != nil {
				var mb *http.MaxBytesError
				if errors.As(perr, &mb) {
					err = &pageError{http.StatusRequestEntityTooLarge, "Form too large",
						fmt.Sprintf("The form was larger than %d KiB. Nothing was changed.", maxBody>>10)}
				} else {
					err = badRequest("Unreadable form", "The form could not be read (%v). Nothing was changed.", perr)
				}
			}
		}
		if err == nil {
			err = h(x)
		}
		if err != nil {
			s.fail(x, err)
		}
	})
}

// honourGPC records a Global Privacy Control signal of a visitor with an
// id: the Gate records it, once, as an opt-out of every purpose it covers
// when it first decides a covered purpose with the signal, so that the
// opt-out holds even on requests without it.
func (s *server) honourGPC(x *visit) error {
	if !x.gpc || x.v == nil || s.gpcPurpose == "" {
		return nil
	}
	_, err := s.shop.Gate.Decide(x.ctx(), x.v.id, s.gpcPurpose, x.now, x.signals())
	return err
}

// crossSite reports whether a POST comes from another site. Browsers
// say where a request comes from in Sec-Fetch-Site, which pages cannot
// forge; only when it is absent (older browsers) is Origin compared with
// the host. Requests with neither (curl, tests) are not refused: they
// carry no browser's cookies unless their sender has them. This is the
// algorithm of Go 1.25's http.CrossOriginProtection, which go 1.24 lacks.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return false
	case "":
	default:
		return true
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		return err != nil || u.Host != r.Host
	}
	return false
}

// fail renders err as an error page.
func (s *server) fail(x *visit, err error) {
	var pe *pageError
	if !errors.As(err, &pe) {
		log.Printf("storefront: %s %s: %v", x.r.Method, x.r.URL.Path, err)
		pe = &pageError{http.StatusInternalServerError, "Something went wrong", "The storefront could not complete this request."}
	}
	data := errorPage{chrome: s.chrome(x, "error", pe.Title, ""), Msg: pe.Msg, Status: pe.Status}
	if rerr := s.render(x, pe.Status, "error", data); rerr != nil {
		http.Error(x.w, pe.Title+": "+pe.Msg, pe.Status)
	}
}

// render executes a page into a buffer first, so that a template error
// never leaves half a page.
func (s *server) render(x *visit, status int, name string, data any) error {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		return err
	}
	x.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	x.w.WriteHeader(status)
	if x.r.Method != http.MethodHead {
		_, _ = x.w.Write(buf.Bytes())
	}
	return nil
}

// redirect sends the browser to path after a successful POST.
func (x *visit) redirect(path string) error {
	http.Redirect(x.w, x.r, path, http.StatusSeeOther)
	return nil
}

// validID reports whether s has the shape of a visitor id: "v-" and the
// 26 base32 characters of crypto/rand.Text.
func validID(s string) bool {
	if len(s) != 28 || !strings.HasPrefix(s, "v-") {
		return false
	}
	for _, c := range s[2:] {
		if !('A' <= c && c <= 'Z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

// current returns the visitor of the request's cookie, nil when there is
// none or it is not one this server issued, and counts the visit.
func (s *server) current(r *http.Request, now time.Time) *visitor {
	c, err := r.Cookie(cookieName)
	if err != nil || !validID(c.Value) {
		return nil
	}
	s.mu.Lock()
	v := s.visitors[c.Value]
	if v == nil {
		s.mu.Unlock()
		return nil
	}
	if now.Sub(v.lastSeen) > visitGap {
		v.visits++
		v.visitStart = now
	}
	if now.After(v.lastSeen) {
		v.lastSeen = now
	}
	row := v.row()
	s.mu.Unlock()
	s.persist(r.Context(), row)
	return v
}

// row returns what the database keeps of v. server.mu must be held.
func (v *visitor) row() visitorRow {
	return visitorRow{id: v.id, firstSeen: v.firstSeen, visitStart: v.visitStart, lastSeen: v.lastSeen, visits: v.visits, orders: v.orders}
}

// persist writes a visitor's row through to the store, if there is one. A
// failure is logged and otherwise ignored: the visitor's state in memory
// is right, and the next change writes it again.
func (s *server) persist(ctx context.Context, row visitorRow) {
	if s.store == nil {
		return
	}
	if err := s.store.saveVisitor(ctx, row); err != nil && s.log != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "storefront: saving a visitor", slog.String("error", err.Error()))
	}
}

// forget deletes a visitor's row from the store, if there is one.
func (s *server) forget(ctx context.Context, id string) error {
	if s.store == nil {
		return nil
	}
	return s.store.deleteVisitor(ctx, id)
}

// ensure returns the request's visitor, issuing a new visitor id (and its
// cookie) when the browser has none. Ids are always minted here, never
// taken from the browser.
func (s *server) ensure(x *visit) *visitor {
	if x.v != nil {
		return x.v
	}
	v := &visitor{id: "v-" + rand.Text(), firstSeen: x.now, visitStart: x.now, lastSeen: x.now, visits: 1}
	var evicted *visitor
	s.mu.Lock()
	if len(s.visitors) >= s.maxVisitors {
		for _, o := range s.visitors {
			if evicted == nil || o.lastSeen.Before(evicted.lastSeen) {
				evicted = o
			}
		}
		delete(s.visitors, evicted.id)
		evicted.gone = true
	}
	s.visitors[v.id] = v
	row := v.row()
	s.mu.Unlock()
	s.persist(x.ctx(), row)
	if evicted != nil {
		evicted.op.Lock()
		_ = s.eraseData(x.ctx(), evicted, x.now)
		evicted.op.Unlock()
	}
	http.SetCookie(x.w, &http.Cookie{
		Name: cookieName, Value: v.id, Path: "/", MaxAge: int(cookieMaxAge / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: x.r.TLS != nil,
	})
	x.v = v
	_ = s.honourGPC(x) // a failure here only delays the record to the next request
	return v
}

// lock takes the visitor's op lock for a state change; it fails when the
// visitor was erased meanwhile.
func (s *server) lock(v *visitor) error {
	v.op.Lock()
	s.mu.Lock()
	gone := v.gone
	s.mu.Unlock()
	if gone {
		v.op.Unlock()
		return conflict("Visitor id erased", "Your data was erased while this request was on its way; nothing was changed.")
	}
	return nil
}

// eraseData erases everything held about v: consent records (the Gate
// keeps tombstones that prove withdrawals) and the profile. v.op must be
// held.
func (s *server) eraseData(ctx context.Context, v *visitor, now time.Time) error {
	_, err := s.shop.Gate.Erase(ctx, v.id, now)
	return errors.Join(err, s.shop.Profiles.Erase(ctx, v.id), s.forget(ctx, v.id))
}

// relationship returns what the shop knows of its relationship with v, and
// when v's current visit started.
func (s *server) relationship(v *visitor) (recommend.Relationship, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return recommend.Relationship{Known: true, FirstSeen: v.firstSeen, Visits: v.visits, Orders: v.orders}, v.visitStart
}

// visitors returns the number of visitors held.
func (s *server) visitorCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.visitors)
}

// switchHandler is a slog.Handler that passes records to next once on is
// set, and drops them before.
type switchHandler struct {
	on   atomic.Bool
	next slog.Handler // nil: drop everything
}

func (h *switchHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next != nil && h.on.Load() && h.next.Enabled(ctx, l)
}

func (h *switchHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.next == nil || !h.on.Load() {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *switchHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if h.next == nil {
		return h
	}
	return &derivedHandler{parent: h, next: h.next.WithAttrs(as)}
}

func (h *switchHandler) WithGroup(name string) slog.Handler {
	if h.next == nil {
		return h
	}
	return &derivedHandler{parent: h, next: h.next.WithGroup(name)}
}

// derivedHandler is a switchHandler's WithAttrs or WithGroup: it follows
// its parent's switch.
type derivedHandler struct {
	parent *switchHandler
	next   slog.Handler
}

func (h *derivedHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.parent.on.Load() && h.next.Enabled(ctx, l)
}

func (h *derivedHandler) Handle(ctx context.Context, r slog.Record) error {
	if !h.parent.on.Load() {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *derivedHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &derivedHandler{parent: h.parent, next: h.next.WithAttrs(as)}
}

func (h *derivedHandler) WithGroup(name string) slog.Handler {
	return &derivedHandler{parent: h.parent, next: h.next.WithGroup(name)}
}
