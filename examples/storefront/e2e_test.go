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

// overflowJS lists the elements that stick out of their box (a
// recommendation's card, a purpose, the "how we chose" box, the receipt,
// the page), and whether the page scrolls sideways: ids, keys and hashes
// must wrap.
const overflowJS = `(() => {
	const bad = [];
	for (const box of document.querySelectorAll('li.rec, li.purpose, .how, pre, main')) {
		const r = box.getBoundingClientRect();
		for (const el of box.querySelectorAll('*')) {
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

// TestEndToEndInChromium clicks through the storefront in a real headless
// Chromium: an anonymous visit, a declared preference, consent to use it
// and purchase history in the preference centre's one form, personalized
// and explained items, a purchase, everything turned off with one button
// and non-personal items again, a Global Privacy Control signal and the
// confirmation it asks for, the pages in German, the JSON export and
// erasure. At each step the page's boxes must hold their text (nothing
// sticks out, nothing scrolls sideways), at the desktop width and on a
// phone's.
//
// It skips when no Chromium is installed, unless TACT_REQUIRE_CHROMIUM=1
// (as in CI), when it fails instead. Its full-page screenshots are written
// as PNG files to TACT_SCREENSHOT_DIR, or to the test's temporary directory
// when that is not set; the test logs their paths.
func TestEndToEndInChromium(t *testing.T) {
	exe := chromium()
	if exe == "" {
		if os.Getenv("TACT_REQUIRE_CHROMIUM") == "1" {
			t.Fatal("TACT_REQUIRE_CHROMIUM=1 but no chromium, chromium-browser or google-chrome is on PATH")
		}
		t.Skip("no Chromium on PATH (install Debian's chromium package); set TACT_REQUIRE_CHROMIUM=1 to make this a failure")
	}
	start := time.Now()
	shots := os.Getenv("TACT_SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
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
		chromedp.Flag("lang", "en-GB"),
		chromedp.WindowSize(1200, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	ctx, cancel := context.WithTimeout(ctx, 120*time.Second)
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
	// fits checks that nothing on the page sticks out of its box, at the
	// desktop width and at a phone's.
	fits := func(where string) {
		t.Helper()
		for _, width := range []int64{1200, 375} {
			var bad []string
			step(where+" layout", chromedp.EmulateViewport(width, 900), chromedp.Evaluate(overflowJS, &bad))
			if len(bad) > 0 {
				t.Errorf("%s at %dpx: %d elements do not fit:\n%s", where, width, len(bad), strings.Join(bad[:min(len(bad), 10)], "\n"))
			}
		}
		step(where+" desktop", chromedp.EmulateViewport(1200, 900))
	}
	screenshot := func(name string) {
		t.Helper()
		var png []byte
		step("screenshot "+name, chromedp.FullScreenshot(&png, 100))
		saveScreenshot(t, shots, name, png)
	}
	headers := func(h map[string]any) chromedp.Action { return network.SetExtraHTTPHeaders(network.Headers(h)) }
	var s string
	const home, prefs = `body[data-page="home"]`, `body[data-page="preferences"]`

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
	getCookies := chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		cookies, err = network.GetCookies().Do(ctx)
		return err
	})
	step("cookies", getCookies)
	if len(cookies) != 0 {
		t.Errorf("an anonymous visit set cookies: %v", cookies)
	}
	// A first-time visitor on a running shoe's page is offered running
	// shoes first.
	step("a running shoe", chromedp.Navigate(base+"/items/item-000000"), chromedp.WaitVisible(`body[data-page="item"]`, chromedp.ByQuery))
	var first string
	step("first offered", chromedp.AttributeValue("li.rec", "data-item", &first, nil, chromedp.ByQuery))
	if it, _ := f.srv.shop.World.Catalog.Lookup(first); it.Category != "running-shoes" {
		t.Errorf("on a running shoe's page, a first-time visitor is offered %s (%s) first", it.Title, it.Category)
	}
	fits("item page")
	screenshot("item.png")

	// 2. Declare a preference, with the keyboard-usable label.
	step("declare a preference",
		chromedp.Click(`nav a[href="/preferences"]`, chromedp.ByQuery),
		chromedp.WaitVisible(prefs, chromedp.ByQuery),
		chromedp.Click(`label[for="interest-marathon"]`, chromedp.ByQuery),
		chromedp.Click("#save", chromedp.ByID),
		chromedp.WaitVisible("#flash", chromedp.ByID),
		chromedp.Text("#flash", &s, chromedp.ByID))
	if !strings.HasPrefix(s, "Saved. We use them only once you turn on") {
		t.Errorf("after saving: %q", s)
	}

	// 3. One form: tick declared preferences and purchase history, save once.
	step("two choices, one save",
		chromedp.Click(`label[for="on-personalize.declared"]`, chromedp.ByQuery),
		chromedp.Click(`label[for="on-personalize.history"]`, chromedp.ByQuery),
		chromedp.Click("#save-choices", chromedp.ByID),
		// The new page: its states say On.
		chromedp.WaitVisible(`strong.on[data-state="personalize.history"]`, chromedp.ByQuery),
		chromedp.Text("#flash", &s, chromedp.ByID))
	if s != "Saved. Your choices take effect at once." {
		t.Errorf("after saving the choices: %q", s)
	}
	for _, p := range []string{"personalize.declared", "personalize.history"} {
		var checked bool
		step("state of "+p, chromedp.Text(`[data-state="`+p+`"]`, &s, chromedp.ByQuery),
			chromedp.Evaluate(`document.getElementById("on-`+p+`").checked`, &checked))
		if s != "On" || !checked {
			t.Errorf("%s after turning it on: %q, ticked %v", p, s, checked)
		}
	}
	fits("preferences")
	screenshot("preferences.png")

	// 4. Past the warm-up of the visit: personalized, explained items.
	f.clock.Advance(3 * time.Minute)
	step("personalized", chromedp.Click(`nav a[href="/"]`, chromedp.ByQuery), chromedp.WaitVisible(home, chromedp.ByQuery),
		chromedp.Text("#tier", &s, chromedp.ByID))
	if s != "recognized" {
		t.Errorf("after consenting: tier %q", s)
	}
	wantText("personalized", marathon, true)
	wantText("personalized", "Recommendations from the goals and sizes you tell us", true)
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
	wantText("established", marathon, true)
	wantText("established", "Once you have", false) // no tier left to reach
	var used string
	step("data used", chromedp.Text("#used", &used, chromedp.ByID))
	if !strings.Contains(used, "the preferences you told us") || !strings.Contains(used, "what you bought") {
		t.Errorf("data used: %q", used)
	}
	fits("established")
	screenshot("storefront.png")
	// A key, id or hash too long for its box wraps inside it.
	var bad []string
	step("a long word wraps", chromedp.Evaluate(`document.querySelector("li.rec p").insertAdjacentHTML("beforeend",
		"<code>user.behavior.purchase_history.`+strings.Repeat("x", 80)+`</code>")`, nil),
		chromedp.Evaluate(overflowJS, &bad))
	if len(bad) > 0 {
		t.Errorf("a long word does not wrap: %s", strings.Join(bad, "\n"))
	}

	// 6. Everything off, with one button: non-personal items at once.
	step("everything off", chromedp.Click(`nav a[href="/preferences"]`, chromedp.ByQuery), chromedp.WaitVisible(prefs, chromedp.ByQuery),
		chromedp.Click("#all-off", chromedp.ByID), chromedp.WaitVisible("#flash", chromedp.ByID), chromedp.Text("#flash", &s, chromedp.ByID))
	if !strings.HasPrefix(s, "Everything you can turn off is off") {
		t.Errorf("after turning everything off: %q", s)
	}
	for _, p := range []string{"personalize.declared", "personalize.history", "personalize.context"} {
		step("state of "+p, chromedp.Text(`[data-state="`+p+`"]`, &s, chromedp.ByQuery))
		if s != "Off" {
			t.Errorf("%s after turning everything off: %q", p, s)
		}
	}
	step("non-personal", chromedp.Click(`nav a[href="/"]`, chromedp.ByQuery), chromedp.WaitVisible(home, chromedp.ByQuery),
		chromedp.Text("#tier", &s, chromedp.ByID), chromedp.Text("#used", &used, chromedp.ByID))
	if s != "anonymous" || used != "nothing about you" {
		t.Errorf("after everything off: tier %q, data used %q", s, used)
	}
	wantText("non-personal", "Because you told us", false)
	wantText("non-personal", "Popular with shoppers", true)
	wantText("non-personal", "Your purchase history not used: you withdrew your consent.", true)

	// 7. Global Privacy Control: targeted ads are off, and turning them on
	// for this site asks for a confirmation, after which they stay on.
	step("GPC on", headers(map[string]any{"Sec-GPC": "1"}), chromedp.Navigate(base+"/preferences"),
		chromedp.WaitVisible(prefs+` #gpc`, chromedp.ByQuery),
		chromedp.Text(`[data-state="advertising.targeted"]`, &s, chromedp.ByQuery))
	if s != "Off" {
		t.Errorf("targeted ads with GPC: %q", s)
	}
	var question string
	step("turn on over GPC", chromedp.Click(`label[for="on-advertising.targeted"]`, chromedp.ByQuery),
		chromedp.Click("#save-choices", chromedp.ByID), chromedp.WaitVisible("#confirm-gpc", chromedp.ByID),
		chromedp.Text("#confirm-gpc", &question, chromedp.ByID))
	if !strings.Contains(question, "Your browser sends Global Privacy Control") || !strings.Contains(question, "Ads elsewhere based on what you did here") {
		t.Errorf("the GPC question: %q", question)
	}
	fits("GPC question")
	screenshot("gpc-confirm.png")
	step("confirm", chromedp.Click("#confirm", chromedp.ByID), chromedp.WaitVisible("#flash", chromedp.ByID),
		chromedp.Navigate(base+"/preferences"), chromedp.WaitVisible(prefs, chromedp.ByQuery),
		chromedp.Text(`[data-state="advertising.targeted"]`, &s, chromedp.ByQuery))
	if s != "On" {
		t.Errorf("targeted ads after confirming, with GPC: %q", s)
	}
	wantText("after confirming", "You turned this on for this site after we told you", true)
	screenshot("gpc-confirmed.png")

	// 8. In German: the shop's words and the policy's, not English.
	step("German", headers(map[string]any{"Accept-Language": "de-DE,de;q=0.9"}), chromedp.Navigate(base+"/preferences"),
		chromedp.WaitVisible(prefs, chromedp.ByQuery), chromedp.Evaluate(`document.documentElement.lang`, &s))
	if s != "de" {
		t.Errorf("German page: lang %q", s)
	}
	de := contentOf("German preferences")
	for _, want := range []string{"Einstellungen", "Empfehlungen aus den Zielen und Größen, die Sie uns nennen", "Meine Auswahl speichern", "Alles ausschalten"} {
		if !strings.Contains(de, want) {
			t.Errorf("German preferences lack %q", want)
		}
	}
	for _, spec := range f.srv.shop.Policy.Purposes {
		for _, en := range []string{spec.Description, spec.Benefit} {
			if en != "" && strings.Contains(de, en) {
				t.Errorf("German preferences show the policy's English %q", en)
			}
		}
	}
	fits("German preferences")
	screenshot("preferences-de.png")
	step("German data", chromedp.Navigate(base+"/data"), chromedp.WaitVisible(`body[data-page="data"]`, chromedp.ByQuery),
		chromedp.Text("#receipt", &s, chromedp.ByID))
	if !strings.Contains(s, "Ihre Datenschutz-Einstellungen bei Acme Outfitters") {
		t.Errorf("German receipt: %.300q", s)
	}
	screenshot("your-data-de.png")
	step("English again", headers(map[string]any{}))

	// 9. Export: the download is everything held.
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
		chromedp.Navigate(base+"/data"), chromedp.WaitVisible(`body[data-page="data"] #download`, chromedp.ByQuery),
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
		Consent struct{ Records []json.RawMessage }
		Data    struct {
			Visitor     struct{ ID string }
			Preferences struct{ Interests []string } `json:"declared_preferences"`
			Orders      []struct{ Item string }
		}
	}
	if err := json.Unmarshal(data, &ex); err != nil {
		t.Fatalf("the download is not JSON: %v\n%.1000s", err, data)
	}
	a, err := f.srv.shop.Gate.Access(ctx, ex.Data.Visitor.ID, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !validID(ex.Data.Visitor.ID) || len(ex.Consent.Records) != len(a.Records) || len(a.Records) == 0 || len(ex.Data.Orders) != 1 ||
		ex.Data.Orders[0].Item != first || len(ex.Data.Preferences.Interests) != 1 || ex.Data.Preferences.Interests[0] != "you're training for a marathon" {
		t.Errorf("export: visitor %q, %d consent records (want %d), orders %v (want %s), interests %q",
			ex.Data.Visitor.ID, len(ex.Consent.Records), len(a.Records), ex.Data.Orders, first, ex.Data.Preferences.Interests)
	}
	fits("your data")
	screenshot("your-data.png")

	// 10. Erase, after confirming.
	step("erase",
		chromedp.Click(`label[for="confirm"]`, chromedp.ByQuery),
		chromedp.Click("#erase", chromedp.ByID),
		chromedp.WaitVisible(`body[data-page="data"] #nothing`, chromedp.ByQuery),
		chromedp.Text("#flash", &s, chromedp.ByID),
		getCookies)
	if !strings.HasPrefix(s, "Your data is erased") {
		t.Errorf("after erasing: %q", s)
	}
	if len(cookies) != 0 {
		t.Errorf("cookies left after erasure: %v", cookies)
	}
	if p, _ := f.srv.shop.Profiles.Export(ctx, ex.Data.Visitor.ID); len(p.History)+len(p.Preferences.Interests) != 0 {
		t.Errorf("profile left after erasure: %+v", p)
	}
	t.Logf("end-to-end run in Chromium took %s", time.Since(start).Round(time.Millisecond))
}

// saveScreenshot writes a PNG into dir.
func saveScreenshot(t *testing.T, dir, name string, png []byte) {
	t.Helper()
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot %s is not a PNG (%d bytes)", name, len(png))
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", p, len(png))
}
