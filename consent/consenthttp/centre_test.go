package consenthttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenthttp"
	"github.com/tact-go/tact/consent/consenttest"
)

var ctx = context.Background()

// fixture is a Centre mounted at /privacy/ over a fresh Gate, whose
// sessions are the X-Session header.
type fixture struct {
	t       *testing.T
	gate    *consent.Gate
	mux     *http.ServeMux
	now     time.Time
	erased  []string        // subjects the host's Erase hook was called for
	erasure consent.Erasure // what the last erasure did
}

func newFixture(t *testing.T, opts consenthttp.Options) *fixture {
	t.Helper()
	g, err := consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{Rand: consenttest.Rand(1)})
	require.NoError(t, err)
	f := &fixture{t: t, gate: g, mux: http.NewServeMux(), now: consenttest.Now()}
	opts.Now = func() time.Time { f.now = f.now.Add(time.Second); return f.now }
	if opts.Export == nil {
		opts.Export = func(_ context.Context, subject string) (any, error) {
			return map[string]string{"orders": "orders of " + subject}, nil
		}
	}
	opts.Erase = func(w http.ResponseWriter, _ *http.Request, subject string, e consent.Erasure) error {
		f.erased = append(f.erased, subject)
		f.erasure = e
		http.SetCookie(w, &http.Cookie{Name: "session", MaxAge: -1})
		return nil
	}
	c, err := consenthttp.NewCentre(g, func(r *http.Request) (string, error) {
		if s := r.Header.Get("X-Session"); s != "" {
			return s, nil
		}
		return "", errors.New("no session")
	}, opts)
	require.NoError(t, err)
	f.mux.Handle("/privacy/", http.StripPrefix("/privacy", c))
	return f
}

type reply struct {
	status int
	header http.Header
	body   string
}

// do sends a request as who ("" for nobody); contentType "" sends no body
// type; extra is header name, value pairs.
func (f *fixture) do(who, method, path, contentType, body string, extra ...string) reply {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if who != "" {
		r.Header.Set("X-Session", who)
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		r.Header.Set(extra[i], extra[i+1])
	}
	w := httptest.NewRecorder()
	f.mux.ServeHTTP(w, r)
	b, _ := io.ReadAll(w.Result().Body)
	return reply{w.Code, w.Result().Header, string(b)}
}

const formType = "application/x-www-form-urlencoded"

func (f *fixture) form(who string, v url.Values, extra ...string) reply {
	return f.do(who, "POST", "/privacy/", formType, v.Encode(), extra...)
}

func (f *fixture) state(who string, extra ...string) consenthttp.State {
	f.t.Helper()
	rep := f.do(who, "GET", "/privacy/", "", "", extra...)
	require.Equal(f.t, http.StatusOK, rep.status, rep.body)
	var st consenthttp.State
	require.NoError(f.t, json.Unmarshal([]byte(rep.body), &st))
	return st
}

func on(st consenthttp.State, p consent.Purpose) consenthttp.PurposeState {
	for _, ps := range st.Purposes {
		if ps.Purpose == p {
			return ps
		}
	}
	return consenthttp.PurposeState{}
}

func errCode(t *testing.T, rep reply) string {
	t.Helper()
	var e struct{ Error, Message string }
	require.NoError(t, json.Unmarshal([]byte(rep.body), &e), rep.body)
	return e.Error
}

func TestGPC(t *testing.T) {
	for v, want := range map[string]bool{"1": true, "": false, "0": false, "true": false, "1, 1": false, "yes": false} {
		r := httptest.NewRequest("GET", "/", nil)
		if v != "" {
			r.Header.Set("Sec-GPC", v)
		}
		assert.Equal(t, want, consenthttp.GPC(r), "Sec-GPC: %q", v)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Sec-GPC", "1")
	r.Header.Set("CF-IPCountry", "br")
	sr := consenthttp.SignalReader{Age: func(*http.Request) int { return 15 }, Regime: consenthttp.RegimeByCountry("CF-IPCountry", "")}
	assert.Equal(t, consent.Signals{GPC: true, Age: 15, Regime: consent.LGPD}, sr.Read(r))
	assert.Equal(t, consent.Signals{GPC: true}, consenthttp.SignalReader{}.Read(r))

	for _, tt := range []struct {
		country, sub string
		want         consent.Regime
	}{
		{"DE", "", consent.GDPR}, {"gb", "", consent.GDPR}, {"NO", "", consent.GDPR}, {"BR", "SP", consent.LGPD},
		{"US", "CA", consent.CPRA}, {"US", "US-CA", consent.CPRA}, {"US", "NY", consent.RegimeDefault},
		{"US", "", consent.RegimeDefault}, {"", "", consent.RegimeDefault}, {"XX", "", consent.RegimeDefault},
		{"CH", "", consent.RegimeDefault},
	} {
		assert.Equal(t, tt.want, consenthttp.RegimeForPlace(tt.country, tt.sub), "%s %s", tt.country, tt.sub)
	}
	r.Header.Set("CF-IPCountry", "US")
	r.Header.Set("CF-Region-Code", "CA")
	assert.Equal(t, consent.CPRA, consenthttp.RegimeByCountry("CF-IPCountry", "CF-Region-Code")(r))
}

func TestGPCSupport(t *testing.T) {
	h := consenthttp.GPCSupport(time.Date(2026, 3, 9, 23, 0, 0, 0, time.FixedZone("x", -3*3600)))
	for _, m := range []string{"GET", "HEAD", "POST", "DELETE"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(m, "/.well-known/gpc.json", nil))
		switch m {
		case "GET":
			assert.Equal(t, http.StatusOK, w.Code)
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
			var v map[string]any
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v))
			assert.Equal(t, map[string]any{"gpc": true, "lastUpdate": "2026-03-10"}, v, "a JSON object with gpc true and the UTC date")
		case "HEAD":
			assert.Equal(t, http.StatusOK, w.Code)
			assert.Empty(t, w.Body.String())
		default:
			assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
			assert.Equal(t, "GET, HEAD", w.Header().Get("Allow"))
		}
	}
}

func TestState(t *testing.T) {
	f := newFixture(t, consenthttp.Options{})
	st := f.state("ana")
	pol := consenttest.RetailPolicy()
	require.Len(t, st.Purposes, len(pol.Purposes))
	assert.Equal(t, pol.Controller, st.Controller)
	assert.False(t, st.GPC)
	h := on(st, consent.PurposePersonalizeHistory)
	assert.Equal(t, consenthttp.KindConsent, h.Kind)
	assert.False(t, h.On)
	assert.Equal(t, consent.ReasonNoConsent, h.Reason)
	assert.NotEmpty(t, h.Benefit)
	assert.Equal(t, consenthttp.KindObjection, on(st, consent.PurposeAnalyticsAggregate).Kind)
	assert.True(t, on(st, consent.PurposeAnalyticsAggregate).On)
	assert.Equal(t, consenthttp.KindFixed, on(st, consent.PurposeServiceCheckout).Kind)

	st = f.state("ana", "Sec-GPC", "1")
	assert.True(t, st.GPC)
	assert.True(t, on(st, consent.PurposeSharingPartners).GPCCovers)
	assert.Equal(t, consent.ReasonGPC, on(st, consent.PurposeSharingPartners).Reason)
	assert.False(t, on(st, consent.PurposeMarketingEmail).GPCCovers, "GPC does not object to marketing unless the policy says so")

	rep := f.do("ana", "GET", "/privacy/", "", "")
	assert.Equal(t, "no-store", rep.header.Get("Cache-Control"))
}

func TestChoices(t *testing.T) {
	var last consenthttp.Result
	f := newFixture(t, consenthttp.Options{Redirect: func(_ *http.Request, res consenthttp.Result) string {
		last = res
		return "/prefs?done=" + res.Done
	}})

	// One form: two on, one shown and left off.
	rep := f.form("ana", url.Values{"shown": {"personalize.history", "marketing.email", "personalize.declared"}, "on": {"personalize.history", "marketing.email"}})
	require.Equal(t, http.StatusSeeOther, rep.status, rep.body)
	assert.Equal(t, "/prefs?done=saved", rep.header.Get("Location"))
	require.Len(t, last.Records, 2, "the redirect is told what was recorded")
	assert.Equal(t, consent.PurposePersonalizeHistory, last.Records[0].Purpose)
	st := f.state("ana")
	assert.True(t, on(st, consent.PurposePersonalizeHistory).On)
	assert.True(t, on(st, consent.PurposeMarketingEmail).On)
	assert.False(t, on(st, consent.PurposePersonalizeDeclared).On)
	assert.False(t, on(st, consent.PurposePersonalizeHistory).Since.IsZero())
	acc, err := f.gate.Access(ctx, "ana", f.now)
	require.NoError(t, err)
	require.Len(t, acc.Records, 2, "a purpose already as asked records nothing")
	assert.Equal(t, "preference centre", acc.Records[0].Evidence)

	// JSON: turn one off (a withdrawal of the grant), object to analytics (a denial).
	rep = f.do("ana", "POST", "/privacy/", "application/json", `{"set": {"marketing.email": false, "analytics.aggregate": false}}`)
	require.Equal(t, http.StatusOK, rep.status, rep.body)
	var st2 consenthttp.State
	require.NoError(t, json.Unmarshal([]byte(rep.body), &st2), "a JSON request gets the new state")
	assert.False(t, on(st2, consent.PurposeMarketingEmail).On)
	assert.Equal(t, consent.ReasonWithdrawn, on(st2, consent.PurposeMarketingEmail).Reason)
	assert.Equal(t, consent.ReasonObjected, on(st2, consent.PurposeAnalyticsAggregate).Reason)

	// Everything off, in one request.
	rep = f.form("ana", url.Values{"all": {"off"}})
	require.Equal(t, http.StatusSeeOther, rep.status, rep.body)
	for _, p := range f.state("ana").Purposes {
		if p.Kind != consenthttp.KindFixed {
			assert.False(t, p.On, "%s is off after all=off", p.Purpose)
		} else {
			assert.True(t, p.On, "%s is not the person's to turn off", p.Purpose)
		}
	}
	_, err = f.gate.Verify(ctx)
	require.NoError(t, err)
}

func TestChoicesRefused(t *testing.T) {
	f := newFixture(t, consenthttp.Options{})
	big := url.Values{"shown": {strings.Repeat("x", 70<<10)}}.Encode()
	for _, tt := range []struct {
		name, who, contentType, body string
		extra                        []string
		status                       int
		code                         string
		is                           error
	}{
		{"nobody signed in", "", formType, "on=marketing.email", nil, 401, "unauthenticated", consenthttp.ErrUnauthenticated},
		{"unknown purpose", "ana", formType, "on=no.such", nil, 400, "bad_request", consent.ErrUnknownPurpose},
		{"malformed purpose", "ana", formType, "on=Bad..Key", nil, 400, "bad_request", consent.ErrUnknownPurpose},
		{"unknown confirm", "ana", formType, "confirm_gpc=no.such", nil, 400, "bad_request", consent.ErrUnknownPurpose},
		{"a subject field", "ana", formType, "subject=bob&on=marketing.email", nil, 400, "bad_request", consenthttp.ErrBadRequest},
		{"all=on", "ana", formType, "all=on", nil, 400, "bad_request", consenthttp.ErrBadRequest},
		{"a JSON subject", "ana", "application/json", `{"subject": "bob", "set": {"marketing.email": true}}`, nil, 400, "bad_request", consenthttp.ErrBadRequest},
		{"two JSON values", "ana", "application/json", `{"set": {}} {"set": {}}`, nil, 400, "bad_request", consenthttp.ErrBadRequest},
		{"truncated JSON", "ana", "application/json", `{"set": {"marketing.email": tr`, nil, 400, "bad_request", consenthttp.ErrBadRequest},
		{"wrong JSON type", "ana", "application/json", `{"set": ["marketing.email"]}`, nil, 400, "bad_request", consenthttp.ErrBadRequest},
		{"plain text", "ana", "text/plain", "on=marketing.email", nil, 415, "unsupported_media_type", consenthttp.ErrUnsupportedMediaType},
		{"no content type", "ana", "", "on=marketing.email", nil, 415, "unsupported_media_type", consenthttp.ErrUnsupportedMediaType},
		{"too large", "ana", formType, big, nil, 413, "too_large", nil},
		{"a contract purpose", "ana", formType, "shown=service.checkout", nil, 409, "not_optional", consenthttp.ErrNotOptional},
		{"GPC not confirmed", "ana", formType, "on=advertising.targeted", []string{"Sec-GPC", "1"}, 409, "gpc_conflict", consenthttp.ErrGPCConflict},
		{"cross-site", "ana", formType, "on=marketing.email", []string{"Sec-Fetch-Site", "cross-site"}, 403, "cross_origin", consenthttp.ErrCrossOrigin},
		{"another origin", "ana", formType, "on=marketing.email", []string{"Origin", "https://evil.example"}, 403, "cross_origin", consenthttp.ErrCrossOrigin},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before, err := f.gate.Checkpoint(ctx)
			require.NoError(t, err)
			rep := f.do(tt.who, "POST", "/privacy/", tt.contentType, tt.body, tt.extra...)
			assert.Equal(t, tt.status, rep.status, rep.body)
			assert.Equal(t, tt.code, errCode(t, rep))
			after, err := f.gate.Checkpoint(ctx)
			require.NoError(t, err)
			if tt.name != "GPC not confirmed" { // the signal itself is recorded
				assert.Equal(t, before, after, "nothing recorded")
			}
			if tt.is != nil {
				// The same error, through Apply or the mapping, is errors.Is-able.
				assert.Equal(t, tt.status, consenthttp.Status(fmt.Errorf("wrapped: %w", tt.is)))
			}
		})
	}
	// A GPC conflict names the purposes and records no grant.
	rep := f.form("ana", url.Values{"on": {"advertising.targeted", "marketing.email"}}, "Sec-GPC", "1")
	require.Equal(t, http.StatusConflict, rep.status)
	assert.Contains(t, rep.body, `"advertising.targeted"`)
	assert.False(t, on(f.state("ana"), consent.PurposeMarketingEmail).On, "all or nothing: the unconflicted purpose waits too")
	// An objection is lifted as easily as it was made.
	f.form("ana", url.Values{"shown": {"analytics.aggregate"}})
	assert.False(t, on(f.state("ana"), consent.PurposeAnalyticsAggregate).On)
	rep = f.form("ana", url.Values{"on": {"analytics.aggregate"}})
	assert.Equal(t, http.StatusOK, rep.status, rep.body)
	assert.True(t, on(f.state("ana"), consent.PurposeAnalyticsAggregate).On)
	// Methods and paths.
	assert.Equal(t, http.StatusMethodNotAllowed, f.do("ana", "DELETE", "/privacy/", "", "").status)
	assert.Equal(t, http.StatusNotFound, f.do("ana", "GET", "/privacy/nothing", "", "").status)
	// A trusted origin may post.
	f2 := newFixture(t, consenthttp.Options{TrustedOrigins: []string{"https://app.example"}})
	assert.Equal(t, http.StatusOK, f2.do("ana", "POST", "/privacy/", "application/json", `{"set": {}}`, "Origin", "https://app.example", "Sec-Fetch-Site", "cross-site").status)
	_, err := consenthttp.NewCentre(f.gate, nil, consenthttp.Options{})
	assert.ErrorIs(t, err, consenthttp.ErrConfig)
	_, err = consenthttp.NewCentre(f.gate, func(*http.Request) (string, error) { return "x", nil }, consenthttp.Options{TrustedOrigins: []string{"not an origin"}})
	assert.ErrorIs(t, err, consenthttp.ErrConfig)
}

// TestGPCConfirmation: the review's case. A shopper whose browser sends
// GPC turns on a purpose it covers: told of the conflict, they confirm,
// and it stays on, with the signal and without.
func TestGPCConfirmation(t *testing.T) {
	f := newFixture(t, consenthttp.Options{})
	gpc := []string{"Sec-GPC", "1"}
	rep := f.form("ana", url.Values{"on": {"sharing.partners"}}, gpc...)
	require.Equal(t, http.StatusConflict, rep.status)
	rep = f.form("ana", url.Values{"on": {"sharing.partners"}, "confirm_gpc": {"sharing.partners"}}, gpc...)
	require.Equal(t, http.StatusOK, rep.status, rep.body)
	for _, extra := range [][]string{gpc, nil, gpc} {
		p := on(f.state("ana", extra...), consent.PurposeSharingPartners)
		assert.True(t, p.On && p.OverridesGPC, "%v: %+v", extra, p)
	}
	// A confirmation without the signal is not recorded as one.
	rep = f.form("bob", url.Values{"on": {"sharing.partners"}, "confirm_gpc": {"sharing.partners"}})
	require.Equal(t, http.StatusOK, rep.status, rep.body)
	assert.False(t, on(f.state("bob"), consent.PurposeSharingPartners).OverridesGPC)
	assert.False(t, on(f.state("bob", gpc...), consent.PurposeSharingPartners).On, "and so the signal prevails")
}

func TestReceiptExportErase(t *testing.T) {
	f := newFixture(t, consenthttp.Options{})
	f.form("ana", url.Values{"on": {"personalize.history"}})

	rep := f.do("ana", "GET", "/privacy/receipt", "", "")
	require.Equal(t, http.StatusOK, rep.status)
	assert.True(t, strings.HasPrefix(rep.header.Get("Content-Type"), "text/plain"))
	assert.Contains(t, rep.body, "Recommendations from what you bought and browsed")
	rep = f.do("ana", "GET", "/privacy/receipt", "", "", "Accept", "application/json")
	require.Equal(t, http.StatusOK, rep.status)
	assert.True(t, json.Valid([]byte(rep.body)))

	rep = f.do("ana", "GET", "/privacy/export", "", "")
	require.Equal(t, http.StatusOK, rep.status)
	assert.Contains(t, rep.header.Get("Content-Disposition"), "attachment")
	var ex struct {
		Consent consent.Access
		Data    map[string]string
	}
	require.NoError(t, json.Unmarshal([]byte(rep.body), &ex))
	assert.Len(t, ex.Consent.Records, 1)
	assert.Equal(t, "orders of ana", ex.Data["orders"])

	// Erasure needs its confirmation.
	rep = f.do("ana", "POST", "/privacy/erase", formType, "")
	assert.Equal(t, http.StatusBadRequest, rep.status)
	assert.Empty(t, f.erased)
	rep = f.do("ana", "POST", "/privacy/erase", "application/json", `{"confirm": "erase"}`)
	require.Equal(t, http.StatusOK, rep.status, rep.body)
	assert.Equal(t, []string{"ana"}, f.erased)
	assert.Equal(t, []consent.Purpose{consent.PurposePersonalizeHistory}, f.erasure.Withdrawn, "the hook is told what was withdrawn")
	assert.Contains(t, rep.header.Get("Set-Cookie"), "session=", "and may forget the person in the response")
	a, err := f.gate.Access(ctx, "ana", f.now)
	require.NoError(t, err)
	assert.Empty(t, a.Records)
	_, err = f.gate.Verify(ctx)
	require.NoError(t, err)
}

// TestNoRequestTouchesAnotherPerson: signed in as ana, every request that
// names bob wherever a request can (query, form, JSON, path, headers,
// cookies) reads, exports, changes and erases only ana, or is refused.
// Checked over many random requests: bob's records never change, and his
// id never appears in a response.
func TestNoRequestTouchesAnotherPerson(t *testing.T) {
	f := newFixture(t, consenthttp.Options{Redirect: func(*http.Request, consenthttp.Result) string { return "/done" }})
	const bob = "bob-7f3a9c"
	rep := f.form(bob, url.Values{"on": {"personalize.history", "marketing.email"}})
	require.Equal(t, http.StatusSeeOther, rep.status)
	snapshot := func() string {
		a, err := f.gate.Access(ctx, bob, consenttest.Now())
		require.NoError(t, err)
		b, err := json.Marshal(a.Records)
		require.NoError(t, err)
		return string(b)
	}
	bobs := snapshot()

	paths := []string{"/privacy/", "/privacy/receipt", "/privacy/export", "/privacy/erase",
		"/privacy/" + bob, "/privacy/receipt/" + bob, "/privacy/export/" + bob, "/privacy/erase/" + bob,
		"/privacy/?subject=" + bob, "/privacy/export?subject=" + bob + "&id=" + bob, "/privacy/receipt?user=" + bob,
		"/privacy/erase?subject=" + bob, "/privacy/./export?subject=" + bob, "/privacy//" + bob}
	bodies := []struct{ contentType, body string }{
		{"", ""},
		{formType, "subject=" + bob},
		{formType, "on=marketing.email&subject=" + bob},
		{formType, "all=off"},
		{formType, "confirm=erase"},
		{formType, "confirm=erase&subject=" + bob},
		{formType, "shown=personalize.history"},
		{"application/json", `{"subject":"` + bob + `","all_off":true}`},
		{"application/json", `{"all_off":true}`},
		{"application/json", `{"confirm":"erase"}`},
		{"application/json", `{"confirm":"erase","subject":"` + bob + `"}`},
		{"application/json", `{"set":{"personalize.history":false}}`},
	}
	headers := [][]string{nil, {"X-Subject", bob}, {"Cookie", "session=" + bob}, {"X-Forwarded-User", bob}, {"Sec-GPC", "1"}}
	rng := rand.New(rand.NewPCG(1, 2))
	n := 600
	if testing.Short() {
		n = 150
	}
	statuses := map[int]int{}
	for i := 0; i < n; i++ {
		method := []string{"GET", "POST", "PUT", "DELETE"}[rng.IntN(4)]
		path := paths[rng.IntN(len(paths))]
		if rng.IntN(2) == 0 { // half the requests go to a route that exists
			path, method = paths[rng.IntN(4)], []string{"GET", "POST"}[rng.IntN(2)]
		}
		b := bodies[rng.IntN(len(bodies))]
		h := headers[rng.IntN(len(headers))]
		if method == "GET" {
			b = bodies[0]
		}
		rep := f.do("ana", method, path, b.contentType, b.body, h...)
		statuses[rep.status]++
		switch rep.status {
		case http.StatusMovedPermanently, http.StatusTemporaryRedirect:
			// The mux cleaning the path (./, //) echoes the request's own
			// address, and reads nothing.
			require.NotContains(t, rep.body, "orders of")
		default:
			require.NotContains(t, rep.body, bob, "%s %s %q: bob's id in the response", method, path, b.body)
		}
		if rep.status == http.StatusSeeOther {
			require.Equal(t, "/done", rep.header.Get("Location"))
		}
		require.Equal(t, bobs, snapshot(), "%s %s %q %v: bob's records changed", method, path, b.body, h)
		if rep.status >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, path, b.body, rep.status, rep.body)
		}
		// Ana may have been erased: give her a record again now and then.
		if i%50 == 0 {
			f.form("ana", url.Values{"on": {"personalize.declared"}})
		}
	}
	assert.Equal(t, []string(nil), filter(f.erased, bob), "the host's erase hook was never called for bob")
	assert.NotZero(t, statuses[http.StatusOK])
	assert.NotZero(t, statuses[http.StatusSeeOther])
	assert.NotZero(t, statuses[http.StatusBadRequest])
	t.Logf("statuses: %v", statuses)
	// And bob still sees his own.
	assert.True(t, on(f.state(bob), consent.PurposePersonalizeHistory).On)
}

func filter(xs []string, x string) []string {
	var out []string
	for _, v := range xs {
		if v == x {
			out = append(out, v)
		}
	}
	return out
}

func TestStatus(t *testing.T) {
	for err, want := range map[error]int{
		nil:                                 http.StatusOK,
		consenthttp.ErrUnauthenticated:      401,
		&consenthttp.RequestError{Why: ""}:  400,
		consent.ErrUnknownPurpose:           400,
		consent.ErrMalformedKey:             400,
		consent.ErrInvalidEvent:             400,
		consent.ErrInvalidSignals:           400,
		consenthttp.ErrCrossOrigin:          403,
		&http.MaxBytesError{Limit: 1}:       413,
		consenthttp.ErrUnsupportedMediaType: 415,
		&consenthttp.GPCConflictError{}:     409,
		&consenthttp.ChoiceError{}:          409,
		consent.ErrOutOfOrder:               409,
		consent.ErrConflict:                 503,
		context.DeadlineExceeded:            503,
		consent.ErrTampered:                 500,
		errors.New("disk on fire"):          500,
	} {
		assert.Equal(t, want, consenthttp.Status(err), "%v", err)
	}
	// A server error's details stay on the server.
	w := httptest.NewRecorder()
	consenthttp.WriteError(w, fmt.Errorf("dial tcp 10.0.0.7:5432: %w", errors.New("refused")))
	assert.Equal(t, 500, w.Code)
	assert.NotContains(t, w.Body.String(), "10.0.0.7")
}

// TestLanguage: texts come in the language the request asks for, from the
// catalog, and never as raw keys.
func TestLanguage(t *testing.T) {
	cat := consent.NewCatalog()
	require.NoError(t, cat.Set("de", "purpose.sharing.partners", "Weitergabe an unsere Fitnessstudio-Partner"))
	f := newFixture(t, consenthttp.Options{Catalog: cat})
	f.form("ana", url.Values{"on": {"personalize.history"}})

	st := f.state("ana", "Accept-Language", "de-DE,de;q=0.9,en;q=0.5")
	assert.Equal(t, "de", st.Lang)
	h := on(st, consent.PurposePersonalizeHistory)
	assert.Equal(t, "Sie haben eingewilligt", h.Why)
	assert.Equal(t, "was Sie gekauft haben und was Sie sich angesehen haben", h.Uses)
	assert.Equal(t, "Ihre Einwilligung", h.BasisText)
	assert.Equal(t, "Weitergabe an unsere Fitnessstudio-Partner", on(st, consent.PurposeSharingPartners).Label)
	st = f.state("ana")
	assert.Equal(t, "en", st.Lang)
	assert.Equal(t, "you gave your consent", on(st, consent.PurposePersonalizeHistory).Why)
	for _, p := range st.Purposes {
		assert.NotContains(t, p.Why+p.Uses+p.BasisText, "user.", "%s: no raw keys", p.Purpose)
		assert.NotEmpty(t, p.Why)
	}

	rep := f.do("ana", "GET", "/privacy/receipt", "", "", "Accept-Language", "de")
	assert.Equal(t, "de", rep.header.Get("Content-Language"))
	assert.Contains(t, rep.body, "Ihre Datenschutz-Einstellungen")

	// The GPC conflict is disclosed in the person's language.
	rep = f.form("ana", url.Values{"on": {"sharing.partners"}}, "Sec-GPC", "1", "Accept-Language", "de")
	require.Equal(t, http.StatusConflict, rep.status)
	var body struct {
		Disclosures []string
		Confirm     string
	}
	require.NoError(t, json.Unmarshal([]byte(rep.body), &body))
	require.Len(t, body.Disclosures, 1)
	assert.Contains(t, body.Disclosures[0], "„Weitergabe an unsere Fitnessstudio-Partner“")
	assert.Equal(t, "Ja, für diese Website einschalten", body.Confirm)
}

// TestGuestState: the preference centre of a browser nobody is signed in
// from is that of a person with nothing on record, and writes nothing,
// even with GPC.
func TestGuestState(t *testing.T) {
	cat := consent.NewCatalog()
	require.NoError(t, cat.Set("de", "policy.withdraw", "In den Einstellungen."))
	f := newFixture(t, consenthttp.Options{Catalog: cat})
	c, err := consenthttp.NewCentre(f.gate, func(*http.Request) (string, error) { return "", errors.New("nobody") }, consenthttp.Options{Catalog: cat})
	require.NoError(t, err)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Sec-GPC", "1")
	r.Header.Set("Accept-Language", "de")
	_, err = c.State(r)
	assert.ErrorIs(t, err, consenthttp.ErrUnauthenticated)
	st, err := c.GuestState(r)
	require.NoError(t, err)
	assert.Equal(t, "In den Einstellungen.", st.Withdraw, "the policy's texts in the catalog's language")
	assert.Equal(t, consent.ReasonGPC, on(st, consent.PurposeSharingPartners).Reason)
	assert.Equal(t, consent.ReasonNoConsent, on(st, consent.PurposeMarketingEmail).Reason)
	assert.True(t, on(st, consent.PurposeServiceCheckout).On)
	cp, err := f.gate.Checkpoint(ctx)
	require.NoError(t, err)
	assert.Zero(t, cp.Seq, "nothing written")
	texts, confirm := c.Disclosures(r, []consent.Purpose{consent.PurposeSharingPartners})
	require.Len(t, texts, 1)
	assert.Contains(t, texts[0], "Global Privacy Control")
	assert.Equal(t, "Ja, für diese Website einschalten", confirm)
}
