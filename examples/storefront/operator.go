package main

// The operator's trust page: the differentially private trust report of
// the shop's own audit trail (dp/trust), with its charts inline, and the
// continuous audit's verdict. It is served only when the storefront is
// started with an operator token, and only to requests that carry it.

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/sqlbudget"
	"github.com/tact-go/tact/dp/trust"
	"github.com/tact-go/tact/examples/internal/demo"
	"github.com/tact-go/tact/examples/internal/trustview"
)

// Defaults and limits of the operator page.
const (
	// minTokenLen is the shortest operator token accepted, in bytes.
	minTokenLen = 16
	// defaultReportEpsilon is the ε one report spends, and
	// defaultOperatorBudget the ε all of them may spend together: eight
	// reports. Binary fractions, so that the budget's exact sums come out
	// even (see dp.Budget).
	defaultReportEpsilon  = 0.5
	defaultOperatorBudget = 4
	// releaseEvery is the least time between two releases.
	releaseEvery = 24 * time.Hour
	// defaultTrailEvents bounds the audit events held for the page.
	defaultTrailEvents = 50000
	// reportDays is the report's window: this many days up to the end of
	// the day of its release, in daily buckets.
	reportDays = 14
	// operatorBudgetName is the operator's budget in tact_budgets, beside
	// the shop's (budgetName).
	operatorBudgetName = "storefront-operator"
	// reportReleaseName is the last report in storefront_releases.
	reportReleaseName = "operator-trust-report"
	// personKey is the attribute the trail adds to "recommend.serve"
	// events: the person the report bounds contributions by.
	personKey = "person"
	// operatorCookie holds an operator's session after a login with the
	// form, for sessionLifetime.
	operatorCookie  = "tact_operator"
	sessionLifetime = 8 * time.Hour
)

// operatorConfig turns the operator page on. Token, Trail and Budget are
// required; zero fields take the defaults in their docs.
type operatorConfig struct {
	// Token is the secret a request must carry: as "Authorization: Bearer
	// <token>", or in the login form, which sets a session cookie.
	Token string
	// Trail holds the audit events the shop logs (its handler must be in
	// the Logger of the shop and of the server).
	Trail *auditTrail
	// Budget is the operator's declared privacy budget, which every
	// report spends from: separate from the shop's, over the same people.
	Budget *dp.Budget
	// Epsilon is what one report spends; 0 means defaultReportEpsilon.
	// Reports spend no δ (Laplace noise).
	Epsilon float64
	// Releases keeps the last report across restarts (the database); nil
	// keeps it in memory.
	Releases demo.Releases
	// MinPersons is the report's suppression threshold; 0 means
	// trust.DefaultMinPersons.
	MinPersons int
	// Noise replaces the secure noise, for tests: such reports say they
	// are NOT PRIVATE. Nil means secure noise.
	Noise dp.NoiseSource
}

// errOperatorToken is returned for a token too short to be a secret.
var errOperatorToken = fmt.Errorf("storefront: the operator token must be at least %d characters (for instance: openssl rand -hex 16)", minTokenLen)

// operator serves the trust page. It is safe for concurrent use.
type operator struct {
	s        *server
	token    [sha256.Size]byte // the token's hash, compared in constant time
	key      []byte            // signs session cookies
	trail    *auditTrail
	budget   *dp.Budget
	eps      float64
	releases demo.Releases
	min      int
	noise    dp.NoiseSource
	page     *template.Template

	mu   sync.Mutex // serializes releases; guards last
	last *savedReport
}

// savedReport is a released report and when it was released, as it is
// kept in the database.
type savedReport struct {
	At     time.Time     `json:"at"`
	Report *trust.Report `json:"report"`
	// Events counts the audit events the report read, and EventsFrom is
	// the time of the first: the trail starts empty at each start and
	// keeps the last ones only.
	Events     int       `json:"events"`
	EventsFrom time.Time `json:"events_from"`
}

func newOperator(ctx context.Context, s *server, cfg operatorConfig) (*operator, error) {
	switch {
	case len(cfg.Token) < minTokenLen:
		return nil, errOperatorToken
	case cfg.Trail == nil || cfg.Budget == nil:
		return nil, errors.New("storefront: the operator page needs an audit trail and a budget")
	case cfg.Epsilon < 0 || math.IsNaN(cfg.Epsilon) || math.IsInf(cfg.Epsilon, 0):
		return nil, fmt.Errorf("storefront: operator ε %v: must be positive", cfg.Epsilon)
	}
	o := &operator{s: s, token: sha256.Sum256([]byte(cfg.Token)), trail: cfg.Trail, budget: cfg.Budget,
		eps: cfg.Epsilon, releases: cfg.Releases, min: cfg.MinPersons, noise: cfg.Noise}
	m := hmac.New(sha256.New, []byte(cfg.Token))
	m.Write([]byte("storefront operator session key"))
	o.key = m.Sum(nil)
	if o.eps == 0 {
		o.eps = defaultReportEpsilon
	}
	var err error
	if o.page, err = template.ParseFS(templateFS, "templates/operator.html"); err != nil {
		return nil, err
	}
	if err := o.budget.Sync(ctx); err != nil {
		return nil, err
	}
	if o.releases != nil {
		data, ok, err := o.releases.Load(ctx, reportReleaseName)
		if err != nil {
			return nil, err
		}
		if ok {
			var saved savedReport
			if err := json.Unmarshal(data, &saved); err != nil || saved.Report == nil {
				return nil, fmt.Errorf("storefront: the operator's last report in the database: %w", cmp.Or(err, errors.New("empty")))
			}
			o.last = &saved
		}
	}
	return o, nil
}

// routes adds the operator's routes to m.
func (o *operator) routes(m *http.ServeMux) {
	m.HandleFunc("/operator/trust", o.auth(o.show, http.MethodGet, http.MethodHead))
	m.HandleFunc("/operator/trust/release", o.auth(o.release, http.MethodPost))
	m.HandleFunc("/operator/login", o.login)
	m.HandleFunc("/operator/logout", o.logout)
}

// tag puts the person of each request (a pseudonym of its visitor id) in
// its context, where the audit trail finds it. Without an operator (o is
// nil) it returns next.
func (o *operator) tag(next http.Handler) http.Handler {
	if o == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(cookieName); err == nil && validID(c.Value) {
			r = r.WithContext(context.WithValue(r.Context(), personContextKey{}, o.trail.pseudonym(c.Value)))
		}
		next.ServeHTTP(w, r)
	})
}

// authorized reports whether r carries the operator token, as a bearer
// token or a session cookie, and whether it carries anything at all.
func (o *operator) authorized(r *http.Request, now time.Time) (ok, presented bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, bearer := strings.CutPrefix(h, "Bearer ")
		return bearer && o.checkToken(tok), true
	}
	if c, err := r.Cookie(operatorCookie); err == nil {
		return o.validSession(c.Value, now), true
	}
	return false, false
}

// checkToken compares tok with the token in constant time (both hashed,
// so that not even the length leaks).
func (o *operator) checkToken(tok string) bool {
	h := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(h[:], o.token[:]) == 1
}

// session returns a session cookie's value that expires at exp:
// "<unix seconds>.<HMAC of them under a key derived from the token>".
func (o *operator) session(exp time.Time) string {
	s := strconv.FormatInt(exp.Unix(), 10)
	m := hmac.New(sha256.New, o.key)
	m.Write([]byte(s))
	return s + "." + hex.EncodeToString(m.Sum(nil))
}

func (o *operator) validSession(v string, now time.Time) bool {
	s, _, ok := strings.Cut(v, ".")
	exp, err := strconv.ParseInt(s, 10, 64)
	if !ok || err != nil || now.Unix() >= exp {
		return false
	}
	return hmac.Equal([]byte(v), []byte(o.session(time.Unix(exp, 0))))
}

// auth checks the method and the token before h: a request without one
// gets the login form (401), one with a wrong one 403.
func (o *operator) auth(h func(w http.ResponseWriter, r *http.Request, now time.Time), methods ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		now := o.s.now()
		if !slices.Contains(methods, r.Method) {
			w.Header().Set("Allow", strings.Join(methods, ", "))
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		switch ok, presented := o.authorized(r, now); {
		case ok:
			h(w, r, now)
		case presented && r.Header.Get("Authorization") != "":
			http.Error(w, "forbidden: wrong operator token", http.StatusForbidden)
		default:
			if presented { // an expired or forged session
				o.setSession(w, r, "", -1)
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="storefront operator"`)
			o.render(w, r, http.StatusUnauthorized, "login", loginPage{Controller: o.s.shop.Policy.Controller})
		}
	}
}

type loginPage struct {
	Controller string
	Error      string
}

// login checks the token of the login form and sets a session cookie.
func (o *operator) login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil || !o.checkToken(r.PostForm.Get("token")) {
		o.render(w, r, http.StatusForbidden, "login", loginPage{Controller: o.s.shop.Policy.Controller,
			Error: "That is not the operator token."})
		return
	}
	now := o.s.now()
	o.setSession(w, r, o.session(now.Add(sessionLifetime)), int(sessionLifetime/time.Second))
	http.Redirect(w, r, "/operator/trust", http.StatusSeeOther)
}

// logout ends the session.
func (o *operator) logout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	o.setSession(w, r, "", -1)
	http.Redirect(w, r, "/operator/trust", http.StatusSeeOther)
}

func (o *operator) setSession(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: operatorCookie, Value: value, Path: "/operator/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

// errTooSoon says when the next report may be released.
type errTooSoon struct{ next time.Time }

func (e *errTooSoon) Error() string {
	return "A report was released less than a day ago; the next one can be released from " + e.next.UTC().Format("2006-01-02 15:04 UTC") + "."
}

// releaseReport releases a new report from the trail and the ledger,
// spending o.eps from the budget, unless the last one is too recent.
func (o *operator) releaseReport(ctx context.Context, now time.Time) (*savedReport, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.last != nil && now.Before(o.last.At.Add(releaseEvery)) {
		return nil, &errTooSoon{o.last.At.Add(releaseEvery)}
	}
	in, err := o.input(ctx)
	if err != nil {
		return nil, err
	}
	to := trust.Day.Start(now).AddDate(0, 0, 1)
	rep, err := trust.Release(ctx, o.budget, in, trust.Config{
		Epsilon: o.eps, Policy: o.s.shop.Policy, Period: trust.Day, From: to.AddDate(0, 0, -reportDays), To: to,
		MinPersons: o.min, PersonKey: personKey, Logger: o.s.log, NoiseSource: o.noise,
	})
	if err != nil {
		return nil, err
	}
	saved := &savedReport{At: now, Report: rep, Events: len(in.Events)}
	if len(in.Events) > 0 {
		saved.EventsFrom = in.Events[0].Time
	}
	o.last = saved
	if o.releases != nil {
		// The report is paid for: a failure to keep it loses it at the
		// next restart, not now.
		data, err := json.Marshal(saved)
		if err == nil {
			err = o.releases.Save(ctx, reportReleaseName, data)
		}
		if err != nil && o.s.log != nil {
			o.s.log.LogAttrs(ctx, slog.LevelWarn, "storefront: keeping the operator's report", slog.String("error", err.Error()))
		}
	}
	return saved, nil
}

// input reads the trail's events and the whole consent ledger.
func (o *operator) input(ctx context.Context) (trust.Input, error) {
	events, err := trust.ReadEvents(bytes.NewReader(o.trail.snapshot()))
	if err != nil {
		return trust.Input{}, err
	}
	var ledger []consent.Record
	err = o.s.shop.Consents.Scan(ctx, "", 0, func(r consent.Record) error {
		ledger = append(ledger, r)
		return nil
	})
	return trust.Input{Events: events, Ledger: ledger}, err
}

// audit runs the continuous audit over the trail and the ledger: the
// releases may spend the shop's budget and the operator's together.
func (o *operator) audit(ctx context.Context, in trust.Input) (trustview.Audit, error) {
	se, sd := o.s.shop.Budget.Total()
	oe, od := o.budget.Total()
	eps, delta := se+oe, sd+od
	sum, err := trust.Check(ctx, in, trust.CheckConfig{
		Policies: []trust.InForce{{Policy: o.s.shop.Policy}}, Regime: demo.Regime,
		PersonKey: personKey, Pseudonym: o.trail.pseudonym, Epsilon: eps, Delta: delta,
	})
	if errors.Is(err, trust.ErrNoData) {
		return trustview.Audit{OK: true, Checked: []string{"nothing yet: no audit event and no ledger record"}}, nil
	}
	return trustview.AuditOf(sum, err, eps, delta)
}

// release is POST /operator/trust/release.
func (o *operator) release(w http.ResponseWriter, r *http.Request, now time.Time) {
	_, err := o.releaseReport(r.Context(), now)
	var soon *errTooSoon
	switch {
	case err == nil:
		http.Redirect(w, r, "/operator/trust?done=released", http.StatusSeeOther)
	case errors.As(err, &soon):
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(soon.next.Sub(now).Seconds()))))
		o.showStatus(w, r, now, http.StatusTooManyRequests, err.Error())
	case errors.Is(err, dp.ErrBudgetExhausted):
		o.showStatus(w, r, now, http.StatusConflict, "The operator's privacy budget cannot pay for another report: nothing was released and nothing was spent.")
	default:
		o.showStatus(w, r, now, http.StatusInternalServerError, "The report could not be released, and nothing was spent: "+err.Error())
	}
}

// show is GET /operator/trust.
func (o *operator) show(w http.ResponseWriter, r *http.Request, now time.Time) {
	o.showStatus(w, r, now, http.StatusOK, "")
}

func (o *operator) showStatus(w http.ResponseWriter, r *http.Request, now time.Time, status int, problem string) {
	ctx := r.Context()
	p := operatorPage{Controller: o.s.shop.Policy.Controller, Error: problem}
	if status == http.StatusOK && r.URL.Query().Get("done") == "released" {
		p.Flash = "A new report is released."
	}
	// The budget's state, as other processes over the database left it.
	if err := o.budget.Sync(ctx); err != nil {
		p.Error = cmp.Or(p.Error, "The budget could not be read: "+err.Error())
	}
	p.Budget = o.budgetView(now)
	in, err := o.input(ctx)
	if err != nil {
		p.Error = cmp.Or(p.Error, "The audit trail or the ledger could not be read: "+err.Error())
	} else if p.Audit, err = o.audit(ctx, in); err != nil {
		p.Audit = trustview.Audit{Checked: []string{"the audit could not run: " + err.Error()}}
	}
	p.Trail = o.trail.view(in.Events)
	o.mu.Lock()
	last := o.last
	o.mu.Unlock()
	if last != nil {
		rv, err := reportViewOf(last)
		if err != nil {
			p.Error = cmp.Or(p.Error, "The report's charts could not be drawn: "+err.Error())
		}
		p.Report = rv
	}
	o.render(w, r, status, "operator", p)
}

// render executes one of the operator templates into a buffer first.
func (o *operator) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := o.page.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "the operator page could not be drawn: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// operatorPage is what the operator page shows.
type operatorPage struct {
	Controller   string
	Flash, Error string
	Audit        trustview.Audit
	Budget       budgetView
	Report       *reportView // nil: none released yet
	Trail        trailView
}

type budgetView struct {
	Total, Spent, Left, PerReport string
	CanRelease                    bool   // a release now would be allowed
	Why                           string // why not
	Exhausted                     bool   // why not: the budget is spent (otherwise: too soon)
	ShopEpsilon                   string // the shop's own budget, for the sum
}

func (o *operator) budgetView(now time.Time) budgetView {
	te, _ := o.budget.Total()
	se, _ := o.budget.Spent()
	re, _ := o.budget.Remaining()
	shop, _ := o.s.shop.Budget.Total()
	b := budgetView{Total: num(te), Spent: num(se), Left: num(re), PerReport: num(o.eps), ShopEpsilon: num(shop), CanRelease: true}
	o.mu.Lock()
	last := o.last
	o.mu.Unlock()
	switch {
	case re < o.eps:
		b.CanRelease, b.Exhausted, b.Why = false, true, "The budget is spent: what is left (ε="+num(re)+") cannot pay for another report (ε="+num(o.eps)+"). No more reports can be released from it."
	case last != nil && now.Before(last.At.Add(releaseEvery)):
		b.CanRelease, b.Why = false, (&errTooSoon{last.At.Add(releaseEvery)}).Error()
	}
	return b
}

// num formats an ε for people: at most four decimals, no exponent.
func num(x float64) string { return strconv.FormatFloat(math.Round(x*1e4)/1e4, 'f', -1, 64) }

type reportView struct {
	At, Range    string
	Events       int
	EventsFrom   string
	Epsilon      string
	Meaning      string
	Private      bool
	Charts       []chartView
	Text         string
	Notes        []string
	Period       string
	MinPersons   int
	Confidence   string
	MaxPartition int
}

type chartView struct {
	Name, About string
	SVG         template.HTML
	Empty       bool // every count of the chart was hidden
}

func reportViewOf(s *savedReport) (*reportView, error) {
	rep := s.Report
	v := &reportView{At: s.At.UTC().Format("2006-01-02 15:04 UTC"), Epsilon: num(rep.Epsilon), Meaning: rep.Meaning(),
		Private: rep.Private, Text: rep.String(), Notes: rep.Notes, Period: rep.Period.String(), MinPersons: rep.MinPersons,
		Confidence: num(100 * (1 - rep.Alpha)), MaxPartition: rep.MaxPartitions,
		Events: s.Events, EventsFrom: s.EventsFrom.UTC().Format("2006-01-02 15:04 UTC")}
	if n := len(rep.Buckets); n > 0 {
		v.Range = rep.From.Format(time.DateOnly) + " to " + rep.To.AddDate(0, 0, -1).Format(time.DateOnly) + " (" + strconv.Itoa(n) + " " + v.Period + "s, UTC)"
	}
	var errs []error
	for _, c := range trustview.Charts(rep) {
		svg, err := c.Chart.SVG()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.Name, err))
			continue
		}
		// The chart package escapes every text it draws.
		v.Charts = append(v.Charts, chartView{Name: c.Name, About: c.About, SVG: template.HTML(svg), Empty: c.Shown == 0})
	}
	return v, errors.Join(errs...)
}

// personContextKey is the context key of a request's person pseudonym.
type personContextKey struct{}

// auditTrail keeps the last audit events the storefront logs, as the JSON
// lines slog.NewJSONHandler writes, for the operator page: at most max,
// the oldest dropped first. Its handler adds a "person" attribute to each
// "recommend.serve" event: a keyed pseudonym of the request's visitor id
// (HMAC-SHA256 under a key made at start, kept only in memory, like the
// events), or a fresh random one for a browser without an id, which so
// counts once per page. Nothing else is added: the trail holds no visitor
// id. Each event is stamped with the server's clock, which dates the
// consent records too. It is safe for concurrent use.
type auditTrail struct {
	key []byte
	max int
	now func() time.Time

	mu      sync.Mutex
	lines   [][]byte // a ring: the oldest at start
	start   int
	dropped int
}

// newAuditTrail returns a trail of at most max events (0: the default)
// stamped by now (nil: time.Now).
func newAuditTrail(max int, now func() time.Time) *auditTrail {
	if max <= 0 {
		max = defaultTrailEvents
	}
	if now == nil {
		now = time.Now
	}
	return &auditTrail{key: []byte(rand.Text()), max: max, now: now}
}

// Write appends one line (slog's JSON handler writes one record per call).
func (t *auditTrail) Write(p []byte) (int, error) {
	line := bytes.Clone(p)
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) < t.max {
		t.lines = append(t.lines, line)
	} else {
		t.lines[t.start] = line
		t.start = (t.start + 1) % t.max
		t.dropped++
	}
	return len(p), nil
}

// snapshot returns the events held, oldest first, as JSON lines.
func (t *auditTrail) snapshot() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b bytes.Buffer
	for i := range t.lines {
		b.Write(t.lines[(t.start+i)%len(t.lines)])
	}
	return b.Bytes()
}

// pseudonym returns the person a visitor id is logged as.
func (t *auditTrail) pseudonym(id string) string {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(id))
	return "p-" + hex.EncodeToString(m.Sum(nil)[:10])
}

// handler returns the slog.Handler that writes to the trail.
func (t *auditTrail) handler() slog.Handler {
	return trailHandler{slog.NewJSONHandler(t, nil), t}
}

type trailView struct {
	Events, Dropped int
	From, To        string
}

func (t *auditTrail) view(events []trust.Event) trailView {
	t.mu.Lock()
	v := trailView{Events: len(events), Dropped: t.dropped}
	t.mu.Unlock()
	if n := len(events); n > 0 {
		v.From, v.To = events[0].Time.Format("2006-01-02 15:04 UTC"), events[n-1].Time.Format("2006-01-02 15:04 UTC")
	}
	return v
}

// trailHandler stamps events and adds the person to response events.
type trailHandler struct {
	slog.Handler
	t *auditTrail
}

func (h trailHandler) Handle(ctx context.Context, r slog.Record) error {
	r = r.Clone()
	r.Time = h.t.now()
	if r.Message == "recommend.serve" {
		p, ok := ctx.Value(personContextKey{}).(string)
		if !ok {
			p = "g-" + rand.Text()
		}
		r.AddAttrs(slog.String(personKey, p))
	}
	return h.Handler.Handle(ctx, r)
}

func (h trailHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return trailHandler{h.Handler.WithAttrs(as), h.t}
}

func (h trailHandler) WithGroup(name string) slog.Handler {
	return trailHandler{h.Handler.WithGroup(name), h.t}
}

// operatorConfig builds the operator page's configuration from the flags:
// its budget is kept in db beside the shop's, if there is a db.
func (o options) operatorConfig(ctx context.Context, db *database, trail *auditTrail, logger *slog.Logger) (*operatorConfig, error) {
	cfg := &operatorConfig{Token: o.operatorToken, Trail: trail, Epsilon: o.operatorEpsilon}
	bo := &dp.BudgetOptions{Logger: logger}
	var err error
	if db == nil {
		cfg.Budget, err = dp.NewBudget(o.operatorBudget, 0, bo)
		return cfg, err
	}
	log, err := sqlbudget.New(ctx, db.db, db.d, operatorBudgetName, o.operatorBudget, 0)
	if err != nil {
		return nil, fmt.Errorf("-operator-budget: %w", err)
	}
	cfg.Releases = db
	cfg.Budget, err = log.Budget(bo)
	return cfg, err
}
