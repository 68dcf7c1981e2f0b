package main

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tact-go/tact/dp/dptest"
	"github.com/tact-go/tact/examples/internal/demo"
)

// The shop is built once per test binary (it takes a moment under the
// race detector) and shared: every test's visitors have fresh random ids,
// so they do not see each other.
var (
	shopOnce sync.Once
	shop     *demo.Shop
	shopErr  error
)

func testShop(t testing.TB) *demo.Shop {
	t.Helper()
	shopOnce.Do(func() {
		shop, shopErr = demo.New(context.Background(), demo.Options{Seed: 1, Items: 300, Shoppers: 2000, Noise: dptest.Noise{StdDevs: 1, MinPersons: 50}})
	})
	if shopErr != nil {
		t.Fatal(shopErr)
	}
	return shop
}

// clock is a settable clock for the server.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is a server under test behind a real HTTP listener.
type fixture struct {
	t     testing.TB
	srv   *server
	clock *clock
	ts    *httptest.Server
}

func newFixture(t testing.TB, mod ...func(*config)) *fixture {
	t.Helper()
	f := &fixture{t: t, clock: newClock()}
	cfg := config{Shop: testShop(t), Now: f.clock.Now}
	for _, m := range mod {
		m(&cfg)
	}
	var err error
	if f.srv, err = newServer(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	f.ts = httptest.NewServer(f.srv)
	t.Cleanup(f.ts.Close)
	return f
}

// browser is a client with its own cookie jar that does not follow
// redirects by itself, so that tests see every status.
type browser struct {
	f      *fixture
	c      *http.Client
	header http.Header // sent with every request
}

func (f *fixture) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return &browser{f: f, header: http.Header{}, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is a response read in full.
type page struct {
	status int
	header http.Header
	body   string
}

// has reports whether the page contains s, as text (html/template escapes
// quotes and apostrophes) or as markup.
func (p page) has(s string) bool {
	return strings.Contains(p.body, s) || strings.Contains(p.body, html.EscapeString(s))
}

var recItem = regexp.MustCompile(`data-item="([^"]+)"`)

// recommended returns the ids of the recommended items on the page.
func (p page) recommended() []string {
	var ids []string
	for _, m := range recItem.FindAllStringSubmatch(p.body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func (b *browser) do(method, path string, body io.Reader, header http.Header) page {
	b.f.t.Helper()
	p, err := b.try(method, path, body, header)
	if err != nil {
		b.f.t.Fatal(err)
	}
	return p
}

// try is do for other goroutines than the test's: it returns errors.
func (b *browser) try(method, path string, body io.Reader, header http.Header) (page, error) {
	req, err := http.NewRequest(method, b.f.ts.URL+path, body)
	if err != nil {
		return page{}, err
	}
	for k, v := range b.header {
		req.Header[k] = v
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		return page{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return page{}, err
	}
	return page{status: resp.StatusCode, header: resp.Header, body: string(data)}, nil
}

func (b *browser) get(path string) page {
	b.f.t.Helper()
	return b.do(http.MethodGet, path, nil, nil)
}

// post sends a form; a 303 is followed with a GET, as a browser would.
func (b *browser) post(path string, form url.Values) page {
	b.f.t.Helper()
	p := b.do(http.MethodPost, path, strings.NewReader(form.Encode()), nil)
	if p.status == http.StatusSeeOther {
		return b.get(p.header.Get("Location"))
	}
	return p
}

// cookie returns the visitor id in the jar, "" for none.
func (b *browser) cookie() string {
	u, _ := url.Parse(b.f.ts.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == cookieName {
			return c.Value
		}
	}
	return ""
}

// grant turns purpose p on in the preference centre's form, leaving the
// others as they are.
func (b *browser) grant(p string) page {
	b.f.t.Helper()
	return b.post("/privacy/", url.Values{"shown": {p}, "on": {p}})
}

// withdraw turns purpose p off in the preference centre's form.
func (b *browser) withdraw(p string) page {
	b.f.t.Helper()
	return b.post("/privacy/", url.Values{"shown": {p}})
}

func want(t testing.TB, p page, status int, texts ...string) {
	t.Helper()
	if p.status != status {
		t.Errorf("status %d, want %d; body:\n%s", p.status, status, excerpt(p.body))
	}
	for _, s := range texts {
		if !p.has(s) {
			t.Errorf("page lacks %q:\n%s", s, excerpt(p.body))
		}
	}
}

func wantNot(t testing.TB, p page, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if p.has(s) {
			t.Errorf("page has %q, want not:\n%s", s, excerpt(p.body))
		}
	}
}

var (
	tagRe   = regexp.MustCompile(`(?s)<style.*?</style>|<[^>]*>`)
	spaceRe = regexp.MustCompile(`\s+`)
)

// text returns what a person reads on the page: its text without markup,
// attributes or the style sheet.
func (p page) text() string {
	return spaceRe.ReplaceAllString(html.UnescapeString(tagRe.ReplaceAllString(p.body, " ")), " ")
}

// excerpt is the <main> of a page, for failure messages.
func excerpt(body string) string {
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:]
	}
	if len(body) > 4000 {
		body = body[:4000] + "…"
	}
	return body
}
