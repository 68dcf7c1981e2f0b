package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

var (
	fuzzOnce sync.Once
	fuzzSrv  *server
	fuzzErr  error
)

// FuzzRequests sends arbitrary forms, ids, cookies and headers to every
// route, the preference centre's too: the server answers each with a
// status below 500, and a refusal always says why, on a page.
func FuzzRequests(f *testing.F) {
	f.Add(uint8(0), uint8(0), "", "", "", false)
	f.Add(uint8(5), uint8(1), "", "interest=marathon&budget=80&avoid=coffee", "", false)
	f.Add(uint8(5), uint8(1), "", "budget=NaN&size-shoe=99&interest=x", "", true)
	f.Add(uint8(6), uint8(1), "", "shown=personalize.history&on=personalize.history", "", false)
	f.Add(uint8(6), uint8(1), "", "shown=advertising.targeted&on=advertising.targeted", "v-AAAAAAAAAAAAAAAAAAAAAAAAAA", true)
	f.Add(uint8(6), uint8(1), "", "shown=advertising.targeted&on=advertising.targeted&confirm_gpc=advertising.targeted", "", true)
	f.Add(uint8(6), uint8(1), "", "all=off&subject=v-AAAAAAAAAAAAAAAAAAAAAAAAAA", "", false)
	f.Add(uint8(6), uint8(0), "", "", "", true)
	f.Add(uint8(11), uint8(0), "", "", "", false)
	f.Add(uint8(12), uint8(0), "", "", "", false)
	f.Add(uint8(3), uint8(1), "item-000001", "", "", false)
	f.Add(uint8(4), uint8(1), "item-000001", "kind=liked", "garbage", false)
	f.Add(uint8(9), uint8(1), "", "confirm=erase", "", false)
	f.Add(uint8(9), uint8(1), "", "confirm=yes", "", false)
	f.Add(uint8(2), uint8(0), "../../etc/passwd", "", "", false)
	f.Add(uint8(1), uint8(0), "bikes%00", "", "", false)
	f.Add(uint8(5), uint8(1), "", "%zz", "", false)
	f.Fuzz(func(t *testing.T, route, method uint8, id, body, cookie string, gpc bool) {
		fuzzOnce.Do(func() {
			fuzzSrv, fuzzErr = newServer(context.Background(), config{Shop: testShop(t), MaxVisitors: 100})
		})
		if fuzzErr != nil {
			t.Fatal(fuzzErr)
		}
		paths := []string{"/", "/?category=" + url.QueryEscape(id), "/items/" + url.PathEscape(id),
			"/items/" + url.PathEscape(id) + "/buy", "/items/" + url.PathEscape(id) + "/feedback",
			"/preferences", "/privacy/", "/data", "/privacy/export", "/privacy/erase", "/" + url.PathEscape(id),
			"/privacy/receipt", "/privacy/" + url.PathEscape(id)}
		methods := []string{http.MethodGet, http.MethodPost, http.MethodHead, http.MethodPut}
		u, err := url.Parse(paths[int(route)%len(paths)])
		if err != nil {
			return
		}
		r := httptest.NewRequest(methods[int(method)%len(methods)], "/", strings.NewReader(body))
		r.URL, r.RequestURI = u, u.RequestURI()
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookie != "" {
			r.Header.Set("Cookie", cookieName+"="+cookie)
		}
		if gpc {
			r.Header.Set("Sec-GPC", "1")
		}
		w := httptest.NewRecorder()
		fuzzSrv.ServeHTTP(w, r)
		switch {
		case w.Code >= 500:
			t.Fatalf("%s %s (%q): %d\n%s", r.Method, u, body, w.Code, w.Body)
		case w.Code >= 400 && r.Method != http.MethodHead && !strings.Contains(w.Body.String(), `role="alert"`):
			t.Fatalf("%s %s: %d without a message\n%s", r.Method, u, w.Code, w.Body)
		}
	})
}
