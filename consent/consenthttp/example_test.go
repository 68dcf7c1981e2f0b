package consenthttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenthttp"
	"github.com/tact-go/tact/consent/consenttest"
)

// A host mounts a preference centre for its signed-in shoppers and the GPC
// support resource.
func Example() {
	gate, err := consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{})
	if err != nil {
		panic(err)
	}
	// The host's sessions say who is signed in; here, a header set by a
	// test. Never a form field or a query.
	signedIn := func(r *http.Request) (string, error) {
		if id := r.Header.Get("X-Test-Session"); id != "" {
			return id, nil
		}
		return "", errors.New("no session")
	}
	centre, err := consenthttp.NewCentre(gate, signedIn, consenthttp.Options{
		Now:      func() time.Time { return consenttest.Now() },
		Evidence: func(*http.Request) string { return "preference centre; notice v2" },
		Redirect: func(r *http.Request, res consenthttp.Result) string { return "/privacy/?done=" + res.Done },
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/privacy/", http.StripPrefix("/privacy", centre))
	mux.Handle("GET /.well-known/gpc.json", consenthttp.GPCSupport(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)))

	do := func(method, path, body string, header ...string) *http.Response {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("X-Test-Session", "shopper-42")
		if body != "" {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for i := 0; i < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w.Result()
	}

	// One form: news by email on, and the form also showed recommendations
	// from declared preferences, left off.
	form := url.Values{"shown": {"marketing.email", "personalize.declared"}, "on": {"marketing.email"}}
	resp := do("POST", "/privacy/", form.Encode())
	fmt.Println(resp.StatusCode, resp.Header.Get("Location"))

	// The same shopper, whose browser sends GPC, turns on sharing: refused
	// until they confirm after being told of the conflict.
	form = url.Values{"shown": {"sharing.partners"}, "on": {"sharing.partners"}}
	resp = do("POST", "/privacy/", form.Encode(), "Sec-GPC", "1")
	b, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, strings.Contains(string(b), `"gpc_conflict"`))
	form.Set("confirm_gpc", "sharing.partners")
	resp = do("POST", "/privacy/", form.Encode(), "Sec-GPC", "1")
	fmt.Println(resp.StatusCode)

	d, _ := gate.Decide(context.Background(), "shopper-42", consent.PurposeSharingPartners, consenttest.Now(), consent.Signals{GPC: true})
	fmt.Println(d.Allowed, d.Record.OverridesGPC)

	// A form posted from another site is refused before it is read.
	resp = do("POST", "/privacy/", "all=off", "Sec-Fetch-Site", "cross-site")
	fmt.Println(resp.StatusCode)

	resp = do("GET", "/.well-known/gpc.json", "")
	b, _ = io.ReadAll(resp.Body)
	fmt.Print(string(b))
	// Output:
	// 303 /privacy/?done=saved
	// 409 true
	// 303
	// true true
	// 403
	// {"gpc":true,"lastUpdate":"2026-12-01"}
}
