package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// chromium returns the path of a Chromium or Chrome on PATH, "" for none.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestEndToEndInChromium clicks through the storefront in a real headless
// Chromium: an anonymous visit, a declared preference, consent to use it
// and purchase history, personalized and explained items, a purchase,
// withdrawal and non-personal items again, the JSON export and erasure.
//
// It skips when no Chromium is installed, unless TACT_REQUIRE_CHROMIUM=1
// (as in CI), when it fails instead. Its full-page screenshots (the
// preference centre, the personalized listing with a disclosure open, the
// "Your data" page) are saved in the test's temporary directory and, when
// TACT_SCREENSHOT_DIR is set, copied there.
func TestEndToEndInChromium(t *testing.T) {
	exe := chromium()
	if exe == "" {
		if os.Getenv("TACT_REQUIRE_CHROMIUM") == "1" {
			t.Fatal("TACT_REQUIRE_CHROMIUM=1 but no chromium, chromium-browser or google-chrome is on PATH")
		}
		t.Skip("no Chromium on PATH (install Debian's chromium package); set TACT_REQUIRE_CHROMIUM=1 to make this a failure")
	}
	start := time.Now()
	shots := t.TempDir()
	f := newFixture(t)
	base := f.ts.URL

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1200, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	// The first Run starts the browser and ties it to ctx: the steps below
	// run under shorter deadlines of their own.
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}

	// step runs one step of the story with its own deadline; on failure it
	// logs the page's text, so that the failure says what the browser saw.
	step := func(name string, actions ...chromedp.Action) {
		t.Helper()
		sctx, scancel := context.WithTimeout(ctx, 20*time.Second)
		defer scancel()
		if err := chromedp.Run(sctx, actions...); err != nil {
			var url, text string
			dctx, dcancel := context.WithTimeout(ctx, 5*time.Second)
			_ = chromedp.Run(dctx, chromedp.Location(&url), chromedp.Text("body", &text, chromedp.ByQuery))
			dcancel()
			t.Fatalf("%s: %v\nat %s:\n%.3000s", name, err, url, text)
		}
	}
	// contentOf reads the text of the page's main, closed disclosures too.
	contentOf := func(name string) string {
		t.Helper()
		var s string
		step(name, chromedp.TextContent("main", &s, chromedp.ByQuery))
		return s
	}
	wantText := func(where, text string, yes bool) {
		t.Helper()
		if got := contentOf(where); strings.Contains(got, text) != yes {
			t.Errorf("%s: contains %q = %v, want %v:\n%.3000s", where, text, !yes, yes, got)
		}
	}
	var s string
	const home = `body[data-page="home"]`

	// 1. An anonymous visitor: popular items, the warm-up, no cookie.
	step("anonymous visit", chromedp.Navigate(base+"/"), chromedp.WaitVisible(home, chromedp.ByQuery),
		chromedp.Text("#tier", &s, chromedp.ByID))
	if s != "anonymous" {
		t.Errorf("anonymous visit: tier %q", s)
	}
	wantText("anonymous visit", "You are in the first 2 minutes of your visit", true)
	wantText("anonymous visit", "Popular with shoppers", true)
	wantText("anonymous visit", "Because you told us", false)
	var cookies []*network.Cookie
	step("cookies", chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		cookies, err = network.GetCookies().Do(ctx)
		return err
	}))
	if len(cookies) != 0 {
		t.Errorf("an anonymous visit set cookies: %v", cookies)
	}

	// 2. Declare a preference, with the keyboard-usable label.
	step("declare a preference",
		chromedp.Click(`nav a[href="/preferences"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`body[data-page="preferences"]`, chromedp.ByQuery),
		chromedp.Click(`label[for="interest-marathon"]`, chromedp.ByQuery),
		chromedp.Click("#save", chromedp.ByID),
		chromedp.WaitVisible("#flash", chromedp.ByID),
		chromedp.Text("#flash", &s, chromedp.ByID))
	if !strings.HasPrefix(s, "Saved. We use them only once you turn on") {
		t.Errorf("after saving: %q", s)
	}

	// 3. Grant the use of declared preferences and of purchase history.
	for _, p := range []string{"personalize.declared", "personalize.history"} {
		step("grant "+p,
			chromedp.Click(`form[data-purpose="`+p+`"] button[value="grant"]`, chromedp.ByQuery),
			// The new page: its switch now offers to turn the purpose off.
			chromedp.WaitVisible(`form[data-purpose="`+p+`"] button[value="withdraw"]`, chromedp.ByQuery),
			chromedp.Text(`[data-state="`+p+`"]`, &s, chromedp.ByQuery))
		if s != "On" {
			t.Errorf("%s after turning it on: %q", p, s)
		}
	}

	var shot []byte
	step("screenshot of the preference centre", chromedp.FullScreenshot(&shot, 100))
	saveScreenshot(t, shots, "preferences.png", shot)

	// 4. Past the warm-up of the visit: personalized, explained items.
	f.clock.Advance(3 * time.Minute)
	step("personalized", chromedp.Click(`nav a[href="/"]`, chromedp.ByQuery), chromedp.WaitVisible(home, chromedp.ByQuery),
		chromedp.Text("#tier", &s, chromedp.ByID))
	if s != "recognized" {
		t.Errorf("after consenting: tier %q", s)
	}
	wantText("personalized", marathon, true)
	wantText("personalized", "Recommendations from the goals and sizes you tell us (personalize.declared)", true)
	var first string
	step("first recommendation", chromedp.AttributeValue("li.rec", "data-item", &first, nil, chromedp.ByQuery))

	// 5. Buy it: with history allowed, the visitor is established.
	f.clock.Advance(time.Minute)
	step("buy", chromedp.Click(`li.rec h4 a`, chromedp.ByQuery), chromedp.WaitVisible(`body[data-page="item"] #buy`, chromedp.ByQuery),
		chromedp.Click("#buy", chromedp.ByID), chromedp.WaitVisible("#flash", chromedp.ByID), chromedp.Text("#flash", &s, chromedp.ByID))
	if !strings.HasPrefix(s, "Bought") {
		t.Errorf("after buying: %q", s)
	}
	var open bool
	step("established", chromedp.Click(`nav a[href="/"]`, chromedp.ByQuery), chromedp.WaitVisible(home, chromedp.ByQuery),
		chromedp.Text("#tier", &s, chromedp.ByID),
		// Open the first "Why am I seeing this?" as a person would.
		chromedp.Click(`li.rec details summary`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector("li.rec details").open`, &open))
	if s != "established" || !open {
		t.Errorf("after buying: tier %q, disclosure open %v", s, open)
	}
	wantText("established", "what you bought (user.behavior.purchase_history)", true)
	wantText("established", marathon, true)
	var used string
	step("data used", chromedp.Text("#used", &used, chromedp.ByID))
	if !strings.Contains(used, "preferences you told us") || !strings.Contains(used, "what you bought") {
		t.Errorf("data used: %q", used)
	}
	step("screenshot", chromedp.FullScreenshot(&shot, 100))
	saveScreenshot(t, shots, "storefront.png", shot)

	// 6. Withdraw both: non-personal items at once.
	step("preferences", chromedp.Click(`nav a[href="/preferences"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`body[data-page="preferences"]`, chromedp.ByQuery))
	for _, p := range []string{"personalize.declared", "personalize.history"} {
		step("withdraw "+p,
			chromedp.Click(`form[data-purpose="`+p+`"] button[value="withdraw"]`, chromedp.ByQuery),
			chromedp.WaitVisible(`form[data-purpose="`+p+`"] button[value="grant"]`, chromedp.ByQuery),
			chromedp.Text(`[data-state="`+p+`"]`, &s, chromedp.ByQuery))
		if s != "Off" {
			t.Errorf("%s after turning it off: %q", p, s)
		}
	}
	step("non-personal", chromedp.Click(`nav a[href="/"]`, chromedp.ByQuery), chromedp.WaitVisible(home, chromedp.ByQuery),
		chromedp.Text("#tier", &s, chromedp.ByID), chromedp.Text("#used", &used, chromedp.ByID))
	if s != "anonymous" || used != "nothing about you" {
		t.Errorf("after withdrawing: tier %q, data used %q", s, used)
	}
	wantText("non-personal", "Because you told us", false)
	wantText("non-personal", "Popular with shoppers", true)
	wantText("non-personal", "personalize.history is not allowed: you withdrew your consent", true)

	// 7. Export: the download is everything held.
	dir := t.TempDir()
	done := make(chan string, 1)
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*cdpbrowser.EventDownloadProgress); ok && e.State == cdpbrowser.DownloadProgressStateCompleted {
			select {
			case done <- e.GUID:
			default:
			}
		}
	})
	step("export",
		chromedp.Click(`nav a[href="/data"]`, chromedp.ByQuery), chromedp.WaitVisible(`body[data-page="data"] #download`, chromedp.ByQuery),
		cdpbrowser.SetDownloadBehavior(cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName).WithDownloadPath(dir).WithEventsEnabled(true),
		chromedp.Click("#download", chromedp.ByID))
	var guid string
	select {
	case guid = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the JSON download did not complete")
	}
	data, err := os.ReadFile(filepath.Join(dir, guid))
	if err != nil {
		t.Fatal(err)
	}
	var ex struct {
		Visitor     struct{ ID string }
		Consent     struct{ Records []json.RawMessage }
		Preferences struct{ Interests []string } `json:"declared_preferences"`
		Orders      []struct{ Item string }
	}
	if err := json.Unmarshal(data, &ex); err != nil {
		t.Fatalf("the download is not JSON: %v\n%.1000s", err, data)
	}
	if !validID(ex.Visitor.ID) || len(ex.Consent.Records) != 4 || len(ex.Orders) != 1 || ex.Orders[0].Item != first ||
		len(ex.Preferences.Interests) != 1 || ex.Preferences.Interests[0] != "you're training for a marathon" {
		t.Errorf("export: visitor %q, %d consent records (want 4), orders %v (want %s), interests %q",
			ex.Visitor.ID, len(ex.Consent.Records), ex.Orders, first, ex.Preferences.Interests)
	}

	step("screenshot of your data", chromedp.FullScreenshot(&shot, 100))
	saveScreenshot(t, shots, "your-data.png", shot)

	// 8. Erase, after confirming.
	step("erase",
		chromedp.Click(`label[for="confirm"]`, chromedp.ByQuery),
		chromedp.Click("#erase", chromedp.ByID),
		chromedp.WaitVisible(`body[data-page="erased"]`, chromedp.ByQuery),
		chromedp.Click(`nav a[href="/data"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`body[data-page="data"] #nothing`, chromedp.ByQuery),
		chromedp.ActionFunc(func(ctx context.Context) error {
			var err error
			cookies, err = network.GetCookies().Do(ctx)
			return err
		}))
	if len(cookies) != 0 {
		t.Errorf("cookies left after erasure: %v", cookies)
	}
	if p, _ := f.srv.shop.Profiles.Export(ctx, ex.Visitor.ID); len(p.History)+len(p.Preferences.Interests) != 0 {
		t.Errorf("profile left after erasure: %+v", p)
	}
	t.Logf("end-to-end run in Chromium took %s", time.Since(start).Round(time.Millisecond))
}

// saveScreenshot writes a PNG into dir (the test's temporary directory)
// and, when TACT_SCREENSHOT_DIR is set, there too.
func saveScreenshot(t *testing.T, dir, name string, png []byte) {
	t.Helper()
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot %s is not a PNG (%d bytes)", name, len(png))
	}
	dirs := []string{dir}
	if d := os.Getenv("TACT_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s (%d bytes)", p, len(png))
	}
}
