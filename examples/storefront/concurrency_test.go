package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
)

// TestConcurrentVisitors runs many visitors at once, and several requests
// of one visitor at once, including an erasure racing with purchases.
// Under -race it checks the server's locking; always, that no request
// fails with a 5xx and that what is kept stays consistent.
func TestConcurrentVisitors(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	check := func(who string, p page, err error, ok ...int) {
		switch {
		case err != nil:
			errs <- fmt.Errorf("%s: %v", who, err)
		case p.status >= 500:
			errs <- fmt.Errorf("%s: status %d", who, p.status)
		case len(ok) > 0 && !slices.Contains(ok, p.status):
			errs <- fmt.Errorf("%s: status %d, want one of %v", who, p.status, ok)
		}
	}
	form := func(v url.Values) *strings.Reader { return strings.NewReader(v.Encode()) }

	// Independent visitors, each going through a whole session.
	browsers := make([]*browser, 6)
	for i := range browsers {
		b := f.browser()
		browsers[i] = b
		wg.Add(1)
		go func() {
			defer wg.Done()
			who := fmt.Sprintf("visitor %d", i)
			for round := range 4 {
				p, err := b.try("POST", "/preferences", form(url.Values{"interest": {"marathon"}, "budget": {fmt.Sprint(50 + round)}}), nil)
				check(who, p, err, http.StatusSeeOther)
				p, err = b.try("POST", "/privacy/", form(url.Values{"shown": {"personalize.declared"}, "on": {"personalize.declared"}}), nil)
				check(who, p, err, http.StatusSeeOther)
				p, err = b.try("POST", fmt.Sprintf("/items/item-%06d/buy", 10*i+round), nil, nil)
				check(who, p, err, http.StatusSeeOther)
				for _, path := range []string{"/", "/?category=bikes", "/items/item-000005", "/preferences", "/data", "/privacy/export", "/privacy/receipt"} {
					p, err = b.try("GET", path, nil, nil)
					check(who+" "+path, p, err, http.StatusOK)
				}
				p, err = b.try("POST", "/privacy/", form(url.Values{"shown": {"personalize.declared", "personalize.feedback"}, "all": {"off"}}), nil)
				check(who, p, err, http.StatusSeeOther)
				p, err = b.try("POST", "/preferences", form(url.Values{"budget": {"oops"}}), nil)
				check(who, p, err, http.StatusBadRequest)
				f.clock.Advance(time.Second)
			}
		}()
	}

	// One visitor, many requests at once, and an erasure in the middle.
	shared := f.browser()
	shared.grant(string(consent.PurposePersonalizeHistory))
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			who := fmt.Sprintf("shared %d", g)
			for k := range 5 {
				if g == 0 && k == 2 {
					p, err := shared.try("POST", "/privacy/erase", form(url.Values{"confirm": {"erase"}}), nil)
					check(who+" erase", p, err, http.StatusSeeOther, http.StatusUnauthorized)
					continue
				}
				p, err := shared.try("POST", "/items/item-000020/buy", nil, nil)
				// Before the erasure: bought. After it: a new visitor id is
				// minted. During it: refused with a clear 409.
				check(who+" buy", p, err, http.StatusSeeOther, http.StatusConflict)
				p, err = shared.try("GET", "/", nil, nil)
				check(who+" home", p, err, http.StatusOK)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// What each visitor holds is consistent: its order count matches its
	// history, and the ledger verifies.
	f.srv.mu.Lock()
	visitors := make([]*visitor, 0, len(f.srv.visitors))
	for _, v := range f.srv.visitors {
		visitors = append(visitors, v)
	}
	f.srv.mu.Unlock()
	for _, v := range visitors {
		h, _ := f.srv.shop.Profiles.History(ctx, v.id)
		if n := f.srv.facts(v).Orders; n != len(h) {
			t.Errorf("visitor %s: %d orders counted, %d in the history", v.id, n, len(h))
		}
	}
	for i, b := range browsers {
		if h, _ := f.srv.shop.Profiles.History(ctx, b.cookie()); len(h) != 4 {
			t.Errorf("visitor %d: %d orders, want 4", i, len(h))
		}
	}
	if _, err := f.srv.shop.Gate.Verify(ctx); err != nil {
		t.Errorf("ledger: %v", err)
	}
}
