package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenthttp"
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

// gpcStatement is the day the shop stated its support of Global Privacy
// Control, served in /.well-known/gpc.json.
var gpcStatement = time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)

// anonymousWeights is the blend of a visitor the shop knows nothing
// personal about: the page in view leads, popularity breaks ties. (The
// library's default, 0.6 and 0.4, lets the most popular items of the whole
// shop outrank the items related to the page: see newServer.)
var anonymousWeights = recommend.Weights{Context: 0.8, Popularity: 0.2}

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
	// Operator turns on the operator's trust page (operator.go); nil: off.
	Operator *operatorConfig
	// Device holds tact.wasm and wasm_exec.js for the "keep my data on
	// this device" mode (device.go); nil: the mode is not offered.
	Device fs.FS
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
// for concurrent use.
type server struct {
	shop *demo.Shop
	// rec serves visitors with an id; guest serves browsers without one,
	// deciding consent from the policy and the request's signals alone
	// (consent.Gate.Guest), so that a page view of a browser the shop does
	// not know writes nothing to the consent ledger.
	rec, guest  *recommend.Recommender
	trust       recommend.TrustPolicy
	now         func() time.Time
	warmUp      time.Duration
	maxVisitors int
	handler     http.Handler
	pages       map[string]*template.Template
	cat         catalogInfo
	texts       *consent.Catalog
	signals     consenthttp.SignalReader
	centre      *consenthttp.Centre
	centreOpts  consenthttp.Options
	privacyMux  http.Handler // centre, under /privacy

	mu       sync.Mutex
	visitors map[string]*visitor
	store    visitorStore // nil: memory only
	log      *slog.Logger
	op       *operator // nil: no operator page
}

// visitor is what the storefront knows about one browser, keyed by the
// random id in its cookie.
type visitor struct {
	id string
	// op serializes the visitor's state changes, so that an erasure
	// never races with a purchase or a consent choice.
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

var pageNames = []string{"home", "item", "preferences", "data", "error"}

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
	if s.texts, err = newTexts(); err != nil {
		return nil, err
	}
	// A shopper on a product page is shown what goes with it first. With
	// the library's default blend for the anonymous tier (context 0.6,
	// popularity 0.4), the shop's most bought items, which the DP
	// co-occurrence counts make weak neighbours of nearly every item, score
	// 0.4 for popularity alone plus a little context, and outrank items of
	// the same kind that are not in the trending list (at most 0.6 × 0.7).
	rcfg := recommend.Config{Trust: s.trust, WarmUp: s.warmUp, Logger: cfg.Logger,
		Weights: map[recommend.Tier]recommend.Weights{recommend.Anonymous: anonymousWeights}}
	if s.rec, err = recommend.New(cfg.Shop.Model, cfg.Shop.Gate, cfg.Shop.Profiles, rcfg); err != nil {
		return nil, err
	}
	if s.guest, err = recommend.New(cfg.Shop.Model, cfg.Shop.Gate.Guest(), nil, rcfg); err != nil {
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
	for _, name := range pageNames {
		t, err := template.New(name).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		s.pages[name] = t
	}
	if err := s.newCentre(); err != nil {
		return nil, err
	}

	m := http.NewServeMux()
	m.Handle("/{$}", s.handle(s.home, http.MethodGet))
	m.Handle("/items/{id}", s.handle(s.item, http.MethodGet))
	m.Handle("/items/{id}/buy", s.handle(s.buy, http.MethodPost))
	m.Handle("/items/{id}/feedback", s.handle(s.feedback, http.MethodPost))
	m.Handle("/preferences", s.handle(s.preferences, http.MethodGet, http.MethodPost))
	m.Handle("/data", s.handle(s.yourData, http.MethodGet))
	// The preference centre's routes (consenthttp.Centre), each with the
	// methods it answers, so that anything else gets the shop's own page.
	m.Handle("/privacy/{$}", s.handle(s.privacy, http.MethodGet, http.MethodPost))
	m.Handle("/privacy/receipt", s.handle(s.privacy, http.MethodGet))
	m.Handle("/privacy/export", s.handle(s.privacy, http.MethodGet))
	m.Handle("/privacy/erase", s.handle(s.privacy, http.MethodPost))
	m.Handle("/.well-known/gpc.json", consenthttp.GPCSupport(gpcStatement))
	if cfg.Device != nil {
		s.routeDevice(m, cfg.Device)
	}
	if cfg.Operator != nil {
		if s.op, err = newOperator(ctx, s, *cfg.Operator); err != nil {
			return nil, err
		}
		s.op.routes(m)
	}
	m.Handle("/", s.handle(func(x *visit) error {
		return notFound(x.T("err.nopage.title"), x.T("err.nopage"))
	}))
	// Cross-origin POSTs are refused before anything is read, as the
	// Centre does for its own routes.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(s.newVisit(w, r), consenthttp.ErrCrossOrigin)
	}))
	s.handler = s.op.tag(cop.Handler(deviceGuard(m)))
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Accept-Language, Cookie, Sec-GPC")
	s.handler.ServeHTTP(w, r)
}

// visit is one request as the handlers see it.
type visit struct {
	tr
	w   http.ResponseWriter
	r   *http.Request
	v   *visitor // nil: this browser has no visitor id
	now time.Time
	sig consent.Signals // the request's privacy signals (Global Privacy Control)
	// minted is set when this request issued the visitor's id.
	minted bool
}

func (x *visit) ctx() context.Context { return x.r.Context() }

// newVisit reads what every handler needs of a request, without looking
// up the visitor.
func (s *server) newVisit(w http.ResponseWriter, r *http.Request) *visit {
	return &visit{w: w, r: r, now: s.now(), sig: s.signals.Read(r), tr: s.tr(r)}
}

// tr returns the texts for the language the request asks for.
func (s *server) tr(r *http.Request) tr {
	return tr{Lang: s.texts.Match(r.Header.Get("Accept-Language")), cat: s.texts}
}

// pageError is an error shown to the visitor as a page with a status.
type pageError struct {
	Status int
	Title  string
	Msg    string
}

func (e *pageError) Error() string { return e.Title + ": " + e.Msg }

func badRequest(title, msg string) error { return &pageError{http.StatusBadRequest, title, msg} }

func notFound(title, msg string) error { return &pageError{http.StatusNotFound, title, msg} }

func conflict(title, msg string) error { return &pageError{http.StatusConflict, title, msg} }

// handle adapts a handler: it checks the method (no methods: any), finds
// the visitor, records a Global Privacy Control signal, and renders
// errors. Cross-origin POSTs never get here (see newServer).
func (s *server) handle(h func(*visit) error, methods ...string) http.Handler {
	allow := strings.Join(methods, ", ")
	if slices.Contains(methods, http.MethodGet) {
		methods = append(methods, http.MethodHead)
		allow += ", " + http.MethodHead
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := s.newVisit(w, r)
		w.Header().Set("Content-Language", x.Lang)
		x.v = s.current(r, x.now)
		if x.v == nil && hasCookie(r) {
			// An id this server does not hold (erased, evicted or forged):
			// the browser forgets it.
			expireCookie(w)
		}
		err := s.honourGPC(x)
		switch {
		case err != nil:
		case len(methods) > 0 && !slices.Contains(methods, r.Method):
			w.Header().Set("Allow", allow)
			err = &pageError{http.StatusMethodNotAllowed, x.T("err.method.title"), x.T("err.method", "methods", allow)}
		default:
			err = h(x)
		}
		if err != nil {
			s.fail(x, err)
		}
	})
}

// parseForm reads the body of a POST as a form, at most maxBody bytes.
func (x *visit) parseForm() error {
	x.r.Body = http.MaxBytesReader(x.w, x.r.Body, maxBody)
	if err := x.r.ParseForm(); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return mb
		}
		return badRequest(x.T("err.form.title"), x.T("err.form"))
	}
	return nil
}

// honourGPC records the Global Privacy Control signal of a visitor with an
// id: the Gate records it, once, as an opt-out of every purpose it covers
// when it first decides any purpose with the signal, so that the opt-out
// holds on requests without it, and on pages that decide nothing.
func (s *server) honourGPC(x *visit) error {
	if !x.sig.GPC || x.v == nil {
		return nil
	}
	_, err := s.shop.Gate.Decide(x.ctx(), x.v.id, s.shop.Policy.Purposes[0].Purpose, x.now, x.sig)
	return err
}

// fail renders err as an error page: a pageError as it says, any other
// error with the status consenthttp.Status gives it and a message that
// says what went wrong and that nothing was changed.
func (s *server) fail(x *visit, err error) {
	var pe *pageError
	if !errors.As(err, &pe) {
		pe = s.describe(x, err)
	}
	if pe.Status == http.StatusUnauthorized {
		x.w.Header().Set("WWW-Authenticate", `Cookie realm="storefront"`)
	}
	data := errorPage{chrome: s.chrome(x, "error", pe.Title, ""), Msg: pe.Msg, Status: pe.Status}
	if rerr := s.render(x, pe.Status, "error", data); rerr != nil {
		http.Error(x.w, pe.Title+": "+pe.Msg, pe.Status)
	}
}

// describe says what went wrong, for an error of the storefront's stores,
// of the consent package or of the preference centre.
func (s *server) describe(x *visit, err error) *pageError {
	status := consenthttp.Status(err)
	pe := &pageError{Status: status}
	var ce *consenthttp.ChoiceError
	switch {
	case status == http.StatusUnauthorized:
		pe.Title, pe.Msg = x.T("err.nobody.title"), x.T("err.nobody")
	case status == http.StatusForbidden:
		pe.Title, pe.Msg = x.T("err.cross.title"), x.T("err.cross")
	case status == http.StatusRequestEntityTooLarge:
		pe.Title, pe.Msg = x.T("err.large.title"), x.T("err.large", "kib", itoa(maxBody>>10))
	case status == http.StatusUnsupportedMediaType:
		pe.Title, pe.Msg = x.T("err.form.title"), x.T("err.media")
	case errors.As(err, &ce):
		label, _ := s.texts.Purpose(x.Lang, s.shop.Policy, ce.Purpose)
		pe.Title, pe.Msg = x.T("err.fixed.title"), x.T("err.fixed", "purpose", label)
	case errors.Is(err, consent.ErrOutOfOrder):
		pe.Title, pe.Msg = x.T("err.order.title"), x.T("err.order")
	case errors.Is(err, consent.ErrUnknownPurpose), errors.Is(err, consent.ErrMalformedKey):
		pe.Title, pe.Msg = x.T("err.purpose.title"), x.T("err.purpose")
	case status == http.StatusBadRequest:
		pe.Title, pe.Msg = x.T("err.form.title"), x.T("err.form")
	case status == http.StatusServiceUnavailable:
		pe.Title, pe.Msg = x.T("err.busy.title"), x.T("err.busy")
	default:
		log.Printf("storefront: %s %s: %v", x.r.Method, x.r.URL.Path, err)
		pe.Status, pe.Title, pe.Msg = http.StatusInternalServerError, x.T("err.internal.title"), x.T("err.internal")
	}
	return pe
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

func hasCookie(r *http.Request) bool {
	_, err := r.Cookie(cookieName)
	return err == nil
}

// expireCookie tells the browser to forget its visitor id.
func expireCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// lookup returns the visitor the request's cookie names, nil when there is
// none or it is not one this server holds. It is the only way the
// storefront, and its preference centre, learn who a request comes from.
func (s *server) lookup(r *http.Request) *visitor {
	c, err := r.Cookie(cookieName)
	if err != nil || !validID(c.Value) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.visitors[c.Value]
}

// current returns the visitor of the request's cookie (see lookup) and
// counts the visit.
func (s *server) current(r *http.Request, now time.Time) *visitor {
	v := s.lookup(r)
	if v == nil {
		return nil
	}
	s.mu.Lock()
	if v.gone {
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
// cookie) when the browser has none, and records its Global Privacy
// Control signal.
func (s *server) ensure(x *visit) *visitor {
	if x.v != nil {
		return x.v
	}
	v := s.mint(x)
	_ = s.honourGPC(x) // a failure here only delays the record to the next request
	return v
}

// mint issues a new visitor id to the request's browser, in a cookie. Ids
// are always minted here, never taken from the browser. When the visitors
// held reach their bound, the least recently seen is erased.
func (s *server) mint(x *visit) *visitor {
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
	x.v, x.minted = v, true
	return v
}

// lock takes the visitor's op lock for a state change; it fails when the
// visitor was erased meanwhile.
func (s *server) lock(x *visit, v *visitor) error {
	v.op.Lock()
	s.mu.Lock()
	gone := v.gone
	s.mu.Unlock()
	if gone {
		v.op.Unlock()
		return conflict(x.T("err.erased.title"), x.T("err.erased"))
	}
	return nil
}

// eraseData erases everything held about v: consent records (the Gate
// keeps tombstones that prove withdrawals), the profile and the visitor.
// v.op must be held.
func (s *server) eraseData(ctx context.Context, v *visitor, now time.Time) error {
	_, err := s.shop.Gate.Erase(ctx, v.id, now)
	return errors.Join(err, s.eraseOwn(ctx, v))
}

// eraseOwn erases what the storefront itself holds about v (the profile
// and the visitor) and stops serving its id. v.op must be held.
func (s *server) eraseOwn(ctx context.Context, v *visitor) error {
	err := errors.Join(s.shop.Profiles.Erase(ctx, v.id), s.forget(ctx, v.id))
	s.mu.Lock()
	if s.visitors[v.id] == v {
		delete(s.visitors, v.id)
	}
	v.gone = true
	s.mu.Unlock()
	return err
}

// relationship returns what the shop knows of its relationship with v, and
// when v's current visit started.
func (s *server) relationship(v *visitor) (recommend.Relationship, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return recommend.Relationship{Known: true, FirstSeen: v.firstSeen, Visits: v.visits, Orders: v.orders}, v.visitStart
}

// visitorCount returns the number of visitors held.
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
