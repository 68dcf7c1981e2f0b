package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/examples/internal/demo"
)

// operatorOverflowJS lists the elements of the operator page that stick
// out of their box, and whether the page scrolls sideways.
const operatorOverflowJS = `(() => {
	const bad = [];
	for (const box of document.querySelectorAll('.box, pre, main')) {
		const r = box.getBoundingClientRect();
		for (const el of box.querySelectorAll('*')) {
			if (el.parentElement.closest('figure')) continue; // a chart scrolls in its frame
			const e = el.getBoundingClientRect();
			if (e.width > 1 && (e.right > r.right + 1 || e.left < r.left - 1)) {
				bad.push(el.tagName + ' "' + el.textContent.trim().slice(0, 50) + '" sticks out of ' + box.tagName + '.' + box.className);
			}
		}
	}
	if (document.documentElement.scrollWidth > window.innerWidth + 1) {
		bad.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + 'px in ' + window.innerWidth + 'px');
	}
	return bad;
})()`

// TestOperatorPageInChromium signs in to the operator page in a real
// headless Chromium, releases a trust report of some shoppers' traffic
// (real noise), and checks what the browser renders: the headings, the
// audit's verdict, the budget, one inline SVG chart per table with its
// title, nothing sticking out at a desktop's or a phone's width; and that
// loading the page again spends nothing. Screenshots go to
// TACT_SCREENSHOT_DIR (or the test's temporary directory).
func TestOperatorPageInChromium(t *testing.T) {
	bctx, _ := headless(t) // skips, or fails in CI, without Chromium
	shots := os.Getenv("TACT_SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	} else {
		require.NoError(t, os.MkdirAll(shots, 0o755))
	}

	// The shop logs into the trail once it is built, as main does.
	ctx := context.Background()
	clk := newClock()
	trail := newAuditTrail(0, clk.Now)
	audit := &switchHandler{next: trail.handler()}
	logger := slog.New(audit)
	shop, err := demo.New(ctx, demo.Options{Seed: 3, Items: 120, Shoppers: 1000, Logger: logger})
	require.NoError(t, err)
	audit.on.Store(true)
	budget, err := dp.NewBudget(64, 0, &dp.BudgetOptions{Logger: logger})
	require.NoError(t, err)
	f := newFixture(t, func(c *config) {
		c.Shop, c.Logger, c.Now = shop, logger, clk.Now
		c.Operator = &operatorConfig{Token: testToken, Trail: trail, Budget: budget, Epsilon: 32}
	})
	f.clock = clk

	// Traffic: shoppers who sign up and allow their preferences and
	// history (some with Global Privacy Control), some who buy, some who
	// change their mind, and guests.
	for i := range 60 {
		b := f.browser()
		if i%5 == 0 {
			b.header.Set("Sec-GPC", "1")
		}
		b.post("/privacy/", url.Values{"shown": {"personalize.declared", "personalize.history", "personalize.feedback"},
			"on": {"personalize.declared", "personalize.history", "personalize.feedback"}})
		b.get("/")
		if i%3 == 0 {
			p := b.do(http.MethodPost, "/items/item-000001/buy", nil, nil)
			require.Equal(t, http.StatusSeeOther, p.status)
		}
		if i%7 == 0 {
			b.withdraw("personalize.history")
		}
	}
	clk.Advance(3 * time.Minute)
	for i := range 40 {
		f.browser().get(fmt.Sprintf("/items/item-%06d", i))
	}

	step := func(name string, actions ...chromedp.Action) {
		t.Helper()
		sctx, scancel := context.WithTimeout(bctx, 20*time.Second)
		defer scancel()
		if err := chromedp.Run(sctx, actions...); err != nil {
			var text string
			dctx, dcancel := context.WithTimeout(bctx, 5*time.Second)
			_ = chromedp.Run(dctx, chromedp.Text("body", &text, chromedp.ByQuery))
			dcancel()
			t.Fatalf("%s: %v\n%.3000s", name, err, text)
		}
	}
	screenshot := func(name string) {
		t.Helper()
		var png []byte
		step("screenshot "+name, chromedp.FullScreenshot(&png, 100))
		saveScreenshot(t, shots, name, png)
	}
	fits := func(where string) {
		t.Helper()
		for _, width := range []int64{1200, 375} {
			var bad []string
			step(where+" layout", chromedp.EmulateViewport(width, 900), chromedp.Evaluate(operatorOverflowJS, &bad))
			if len(bad) > 0 {
				t.Errorf("%s at %dpx: %d elements do not fit:\n%s", where, width, len(bad), strings.Join(bad[:min(len(bad), 10)], "\n"))
			}
			if width == 375 {
				screenshot("operator-trust-phone.png")
			}
		}
		step(where+" desktop", chromedp.EmulateViewport(1200, 900))
	}
	var s string
	const page = `body[data-page="operator"]`

	step("sign-in form", chromedp.Navigate(f.ts.URL+"/operator/trust"),
		chromedp.WaitVisible(`body[data-page="operator-login"] #token`, chromedp.ByQuery))
	step("sign in", chromedp.SendKeys("#token", testToken, chromedp.ByID), chromedp.Click("#sign-in", chromedp.ByID),
		chromedp.WaitVisible(page, chromedp.ByQuery), chromedp.Text("#no-report", &s, chromedp.ByID))
	if s != "No report has been released yet." {
		t.Errorf("before any release: %q", s)
	}
	step("release", chromedp.Click("#release", chromedp.ByID), chromedp.WaitVisible("#flash", chromedp.ByID),
		chromedp.WaitVisible("#charts figure svg", chromedp.ByQuery))

	var headings []string
	step("headings", chromedp.Evaluate(`[...document.querySelectorAll("h1, h2")].map(h => h.textContent)`, &headings))
	if got := strings.Join(headings, "|"); got != "Trust report|Continuous audit|Privacy budget|Latest report" {
		t.Errorf("headings: %q", got)
	}
	var charts []string
	step("charts", chromedp.Evaluate(`[...document.querySelectorAll("#charts figure")].map(f =>
		f.id + ": " + (f.querySelector("svg > title") || {}).textContent + " (" + Math.round(f.querySelector("svg").getBoundingClientRect().width) + "px)")`, &charts))
	t.Logf("charts: %q", charts)
	for _, want := range []string{"chart-consent-by-purpose: Consent changes by purpose", "chart-consent-by-channel: Consent changes by channel",
		"chart-gpc-share: Opt-outs that came from Global Privacy Control", "chart-held-back: How often the recommender held back",
		"chart-tier-moves: People moving up a trust tier"} {
		if !strings.Contains(strings.Join(charts, "\n"), want) {
			t.Errorf("no chart %q in %q", want, charts)
		}
	}
	var bars int
	step("bars drawn", chromedp.Evaluate(`document.querySelectorAll("#chart-consent-by-purpose svg rect[fill='#0072B2']").length`, &bars))
	if bars < 2 { // the legend's swatch and at least one bar of grants
		t.Errorf("the consent chart draws %d blue rectangles: no grants shown", bars)
	}
	step("audit", chromedp.AttributeValue("#audit-result", "data-ok", &s, nil, chromedp.ByID))
	if s != "true" {
		var v string
		step("violations", chromedp.Text("#audit-result", &v, chromedp.ByID))
		t.Errorf("the audit of the shop's own trail: %s", v)
	}
	step("budget", chromedp.Text("#budget-left", &s, chromedp.ByID))
	if s != "32" {
		t.Errorf("budget left after one release: %q", s)
	}
	fits("operator page")
	screenshot("operator-trust.png")

	// Loading it again spends nothing and shows the same report.
	var meta, again string
	step("meta", chromedp.Text("#report-meta", &meta, chromedp.ByID))
	step("reload", chromedp.Navigate(f.ts.URL+"/operator/trust"), chromedp.WaitVisible("#charts figure svg", chromedp.ByQuery),
		chromedp.Text("#report-meta", &again, chromedp.ByID), chromedp.Text("#budget-left", &s, chromedp.ByID))
	if again != meta || s != "32" {
		t.Errorf("after a reload: %q (was %q), budget left %q", again, meta, s)
	}
	step("too soon", chromedp.Text("#no-release", &s, chromedp.ByID))
	if !strings.Contains(s, "less than a day ago") {
		t.Errorf("the release button's place says %q", s)
	}
	if e, _ := budget.Spent(); e != 32 {
		t.Errorf("spent ε=%g, want 32", e)
	}
}
