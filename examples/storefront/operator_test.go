package main

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/dptest"
	"github.com/tact-go/tact/dp/trust"
)

const testToken = "test-operator-token-0123456789"

// operatorFixture is a storefront with the operator page on: a report
// spends eps from a budget of total, with test noise unless real.
type operatorFixture struct {
	*fixture
	trail  *auditTrail
	budget *dp.Budget
}

func newOperatorFixture(t testing.TB, eps, total float64, mod ...func(*operatorConfig)) *operatorFixture {
	t.Helper()
	clk := newClock()
	trail := newAuditTrail(0, clk.Now)
	budget, err := dp.NewBudget(total, 0, nil)
	require.NoError(t, err)
	oc := &operatorConfig{Token: testToken, Trail: trail, Budget: budget, Epsilon: eps, Noise: dptest.Noise{}}
	for _, m := range mod {
		m(oc)
	}
	f := newFixture(t, func(c *config) {
		c.Operator = oc
		c.Logger = slog.New(trail.handler())
		c.Now = clk.Now
	})
	f.clock = clk
	return &operatorFixture{fixture: f, trail: trail, budget: budget}
}

// operatorBrowser is a browser that sends the token as a bearer token.
func (f *operatorFixture) operator() *browser {
	b := f.browser()
	b.header.Set("Authorization", "Bearer "+testToken)
	return b
}

func (f *operatorFixture) spent() float64 {
	e, _ := f.budget.Spent()
	return e
}

// Without a token, the operator's routes do not exist: a shopper gets the
// shop's own "no such page", whatever the method or credentials.
func TestOperatorPageIsOffWithoutAToken(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	b.header.Set("Authorization", "Bearer "+testToken)
	for _, r := range []struct{ method, path string }{
		{"GET", "/operator/trust"}, {"POST", "/operator/trust/release"}, {"POST", "/operator/login"}, {"GET", "/operator/"},
	} {
		p := b.do(r.method, r.path, strings.NewReader("token="+testToken), nil)
		want(t, p, http.StatusNotFound, "There is no page at this address.")
		wantNot(t, p, "Trust report", "Operator")
	}
}

func TestOperatorNeedsTheToken(t *testing.T) {
	f := newOperatorFixture(t, 0.5, 4)
	shopper := f.browser()
	shopper.grant("personalize.declared") // a shopper with a visitor id

	for _, tc := range []struct {
		name   string
		header http.Header
		status int
		texts  []string
	}{
		{"nothing", nil, http.StatusUnauthorized, []string{"Operator sign-in", `name="token"`}},
		{"a wrong bearer token", http.Header{"Authorization": {"Bearer " + testToken + "x"}}, http.StatusForbidden, []string{"wrong operator token"}},
		{"the token as Basic", http.Header{"Authorization": {"Basic " + testToken}}, http.StatusForbidden, nil},
		{"a prefix of the token", http.Header{"Authorization": {"Bearer " + testToken[:16]}}, http.StatusForbidden, nil},
		{"a forged session", http.Header{"Cookie": {operatorCookie + "=99999999999.00"}}, http.StatusUnauthorized, []string{"Operator sign-in"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []struct{ method, path string }{{"GET", "/operator/trust"}, {"POST", "/operator/trust/release"}} {
				p := shopper.do(r.method, r.path, nil, tc.header)
				want(t, p, tc.status, tc.texts...)
				wantNot(t, p, "Privacy budget", "Continuous audit")
				if tc.status == http.StatusUnauthorized {
					assert.Equal(t, `Bearer realm="storefront operator"`, p.header.Get("WWW-Authenticate"))
				}
			}
		})
	}
	assert.Zero(t, f.spent(), "no request without the token released anything")

	// Property: only the token itself is accepted: no other string, of
	// whatever length, however close to it.
	require.True(t, f.srv.op.checkToken(testToken))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		var tok string
		switch i % 3 {
		case 0: // random
			b := make([]byte, r.IntN(2*len(testToken)))
			for j := range b {
				b[j] = byte(r.IntN(256))
			}
			tok = string(b)
		case 1: // one byte changed
			b := []byte(testToken)
			b[r.IntN(len(b))] ^= byte(1 + r.IntN(255))
			tok = string(b)
		default: // cut or extended
			tok = testToken[:r.IntN(len(testToken))] + strings.Repeat("x", r.IntN(3))
		}
		if tok != testToken && f.srv.op.checkToken(tok) {
			t.Fatalf("token %q accepted", tok)
		}
	}
	wantNot(t, shopper.get("/"), "/operator")

	// The right bearer token.
	want(t, f.operator().get("/operator/trust"), http.StatusOK, "Trust report", "Continuous audit", "Privacy budget", "No report has been released yet.")

	// The login form: a wrong token is refused, the right one sets a
	// session cookie that only the operator's pages get, and it expires.
	b := f.browser()
	want(t, b.post("/operator/login", url.Values{"token": {"guess-guess-guess-guess"}}), http.StatusForbidden, "That is not the operator token.")
	p := b.do("POST", "/operator/login", strings.NewReader(url.Values{"token": {testToken}}.Encode()), nil)
	require.Equal(t, http.StatusSeeOther, p.status)
	setCookie := p.header.Get("Set-Cookie")
	for _, attr := range []string{operatorCookie + "=", "Path=/operator/", "HttpOnly", "SameSite=Strict"} {
		assert.Contains(t, setCookie, attr)
	}
	assert.NotContains(t, setCookie, testToken, "the cookie is not the token")
	want(t, b.get("/operator/trust"), http.StatusOK, "Trust report", "Sign out")
	f.clock.Advance(sessionLifetime + time.Minute)
	want(t, b.get("/operator/trust"), http.StatusUnauthorized, "Operator sign-in")
}

var spentRe = regexp.MustCompile(`id="budget-left">([^<]*)<`)

func TestOperatorReleasesOnlyWhenAsked(t *testing.T) {
	f := newOperatorFixture(t, 0.5, 4)
	shopper := f.browser()
	shopper.get("/")
	op := f.operator()
	for range 3 {
		p := op.get("/operator/trust")
		want(t, p, http.StatusOK, "No report has been released yet.", "Release a new report (spends ε = 0.5 of the 4 left)")
	}
	assert.Zero(t, f.spent(), "loading the page spends nothing")

	p := op.post("/operator/trust/release", nil)
	want(t, p, http.StatusOK, "A new report is released.", "It spent ε = 0.5", "NOT PRIVATE", `id="chart-consent-by-purpose"`)
	assert.Equal(t, 0.5, f.spent())
	released := regexp.MustCompile(`Released ([^,]*),`).FindStringSubmatch(p.body)
	require.NotNil(t, released)

	// Cached: later loads show the same report and spend nothing.
	f.clock.Advance(time.Hour)
	shopper.get("/")
	for range 3 {
		p = op.get("/operator/trust")
		want(t, p, http.StatusOK, released[0], "at most once a day")
		assert.Equal(t, "3.5", spentRe.FindStringSubmatch(p.body)[1])
	}
	assert.Equal(t, 0.5, f.spent())

	// Too soon for another.
	p = op.post("/operator/trust/release", nil)
	want(t, p, http.StatusTooManyRequests, "A report was released less than a day ago", released[0])
	assert.Equal(t, "82800", p.header.Get("Retry-After"))
	assert.Equal(t, 0.5, f.spent())

	// A day later, a new one.
	f.clock.Advance(23 * time.Hour)
	p = op.post("/operator/trust/release", nil)
	want(t, p, http.StatusOK, "A new report is released.")
	wantNot(t, p, released[0])
	assert.Equal(t, 1.0, f.spent())
}

func TestOperatorRefusesWhenTheBudgetIsSpent(t *testing.T) {
	f := newOperatorFixture(t, 0.5, 0.75)
	f.browser().get("/")
	op := f.operator()
	want(t, op.post("/operator/trust/release", nil), http.StatusOK, "A new report is released.")
	f.clock.Advance(25 * time.Hour)
	p := op.get("/operator/trust")
	want(t, p, http.StatusOK, "The budget is spent", "It spent ε = 0.5")
	wantNot(t, p, `id="release"`)
	p = op.post("/operator/trust/release", nil)
	want(t, p, http.StatusConflict, "cannot pay for another report", "nothing was spent", "It spent ε = 0.5")
	assert.Equal(t, 0.5, f.spent())
}

// The trail gives each response event a person: the same pseudonym for
// every page a visitor sees, a fresh one for each page of a browser
// without an id; never the visitor id. The report counts people.
func TestOperatorReportCountsPeople(t *testing.T) {
	// ε is at its largest (dp takes at most 100 per table), so that
	// groups of two are shown.
	f := newOperatorFixture(t, 490, 1024, func(c *operatorConfig) { c.MinPersons = 1 })
	var ids []string
	for range 3 {
		b := f.browser()
		b.grant("personalize.declared")
		b.get("/")
		b.get("/")
		ids = append(ids, b.cookie())
	}
	for range 4 {
		f.browser().get("/")
	}
	events, err := trust.ReadEvents(bytes.NewReader(f.trail.snapshot()))
	require.NoError(t, err)
	persons := map[string]int{}
	for _, e := range events {
		if e.Kind != "recommend.serve" {
			continue
		}
		p, ok := e.Attr(personKey)
		require.True(t, ok, "line %d has no person", e.Line)
		persons[p]++
	}
	assert.Len(t, persons, 7, "3 visitors and 4 guest pages")
	for _, id := range ids {
		assert.Equal(t, 2, persons[f.trail.pseudonym(id)], "a visitor's pages share a person")
		assert.NotContains(t, string(f.trail.snapshot()), id, "the trail never holds a visitor id")
	}

	want(t, f.operator().post("/operator/trust/release", nil), http.StatusOK, "A new report is released.")
	served := 0.0
	f.srv.op.mu.Lock()
	last := f.srv.op.last
	f.srv.op.mu.Unlock()
	require.NotNil(t, last)
	rep := last.Report
	for _, r := range rep.Serve {
		require.True(t, r.Served.Released)
		served += r.Served.Value
	}
	assert.Equal(t, 7.0, served, "people served, each once a day:\n%s", rep)
}

// The continuous audit runs on every load and names what it finds: here
// a release logged beyond the declared budget.
func TestOperatorShowsAuditViolations(t *testing.T) {
	f := newOperatorFixture(t, 0.5, 4)
	f.browser().get("/")
	op := f.operator()
	want(t, op.get("/operator/trust"), http.StatusOK, `data-ok="true"`, "OK:")
	slog.New(f.trail.handler()).Info("dp.release", "label", "rogue", "epsilon", 100.0, "delta", 0.0, "private", true)
	p := op.get("/operator/trust")
	want(t, p, http.StatusOK, `data-ok="false"`, "FAILED:", `beyond the declared ε=7`)
}

func TestAuditTrailKeepsTheLast(t *testing.T) {
	tr := newAuditTrail(3, nil)
	for _, s := range []string{"a\n", "b\n", "c\n", "d\n", "e\n"} {
		_, _ = tr.Write([]byte(s))
	}
	assert.Equal(t, "c\nd\ne\n", string(tr.snapshot()))
	assert.Equal(t, 2, tr.view(nil).Dropped)
}

// A restart over the same database keeps the operator's budget and last
// report: it is shown again, and the day between releases still holds.
func TestOperatorReportSurvivesARestart(t *testing.T) {
	ctx := context.Background()
	db, err := openDatabase(ctx, filepath.Join(t.TempDir(), "storefront.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	clk := newClock()
	start := func() *operatorFixture {
		trail := newAuditTrail(0, clk.Now)
		oc, err := options{operatorToken: testToken, operatorEpsilon: 0.5, operatorBudget: 4}.operatorConfig(ctx, db, trail, nil)
		require.NoError(t, err)
		oc.Noise = dptest.Noise{}
		f := newFixture(t, func(c *config) { c.Operator, c.Logger, c.Now = oc, slog.New(trail.handler()), clk.Now })
		f.clock = clk
		return &operatorFixture{fixture: f, trail: trail, budget: oc.Budget}
	}
	f := start()
	f.browser().get("/")
	p := f.operator().post("/operator/trust/release", nil)
	want(t, p, http.StatusOK, "A new report is released.")
	released := regexp.MustCompile(`Released ([^,]*),`).FindString(p.body)

	f = start()
	p = f.operator().get("/operator/trust")
	want(t, p, http.StatusOK, released, `id="chart-consent-by-purpose"`, "A report was released less than a day ago")
	assert.Equal(t, "3.5", spentRe.FindStringSubmatch(p.body)[1])
	want(t, f.operator().post("/operator/trust/release", nil), http.StatusTooManyRequests)

	_, err = options{operatorToken: testToken, operatorEpsilon: 0.5, operatorBudget: 8}.operatorConfig(ctx, db, newAuditTrail(0, nil), nil)
	assert.Error(t, err, "the budget's total is fixed once recorded")
}

func TestOperatorFlags(t *testing.T) {
	var stderr bytes.Buffer
	_, err := parseFlags([]string{"-operator-token", "short"}, &stderr)
	assert.ErrorIs(t, err, errOperatorToken)
	_, err = parseFlags([]string{"-operator-token", testToken, "-operator-epsilon", "2", "-operator-budget", "1"}, &stderr)
	assert.ErrorContains(t, err, "want 0 < epsilon <= budget")
	t.Setenv("STOREFRONT_OPERATOR_TOKEN", testToken)
	o, err := parseFlags(nil, &stderr)
	require.NoError(t, err)
	assert.Equal(t, testToken, o.operatorToken)
}

// run with an operator token serves the page (to the token only) from the
// events it logs, which -audit's log on stderr keeps without a person.
func TestRunWithAnOperatorToken(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	t.Setenv("STOREFRONT_OPERATOR_TOKEN", testToken)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-items", "100", "-shoppers", "1000", "-audit",
			"-db", filepath.Join(t.TempDir(), "s.db")}, &stdout, &stderr)
	}()
	serving := regexp.MustCompile(`operator page on (http://127\.0\.0\.1:\d+/)operator/trust`)
	var base string
	for base == "" {
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v\n%s%s", err, stdout.String(), stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if m := serving.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
	}
	assert.NotContains(t, stdout.String()+stderr.String(), testToken, "the token is never printed")
	get := func(method, path, token string) (int, string) {
		req, err := http.NewRequest(method, base+path, nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	status, _ := get("GET", "", "")
	require.Equal(t, http.StatusOK, status)
	status, _ = get("GET", "operator/trust", "")
	assert.Equal(t, http.StatusUnauthorized, status)
	status, _ = get("POST", "operator/trust/release", testToken)
	assert.Equal(t, http.StatusOK, status, "released, and redirected to the page")
	status, body := get("GET", "operator/trust", testToken)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `id="chart-consent-by-purpose"`)
	assert.Contains(t, body, `data-ok="true"`, "the shop's own trail passes the audit")
	assert.NotContains(t, body, "NOT PRIVATE")
	cancel()
	require.NoError(t, <-done)
	log := stderr.String()
	assert.Contains(t, log, `"msg":"recommend.serve"`)
	assert.Contains(t, log, `"label":"trust report: consent changes by purpose"`, "the report's releases are audited")
	assert.NotContains(t, log, `"person"`, "-audit's log carries no person")
}

// BenchmarkOperatorPage measures a load of the operator page (the audit
// runs each time) over the trail of 1000 visitors' pages.
func BenchmarkOperatorPage(b *testing.B) {
	f := newOperatorFixture(b, 0.5, 4)
	for range 100 {
		v := f.browser()
		v.grant("personalize.declared")
		for range 9 {
			v.get("/")
		}
	}
	op := f.operator()
	want(b, op.post("/operator/trust/release", nil), http.StatusOK)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		op.get("/operator/trust")
	}
}
