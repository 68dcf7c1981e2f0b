package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/dp/dptest"
	"github.com/tact-go/tact/examples/internal/demo"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/ondevice"
)

// buildDevice builds the browser side of the device mode as -device
// expects it: tact.wasm (cmd/tactwasm for js/wasm, the documented
// command) and the wasm_exec.js of the same Go release.
func buildDevice(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	// go test puts the go command of its release first on PATH.
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s", "-o", filepath.Join(dir, "tact.wasm"), "./recommend/ondevice/cmd/tactwasm")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=js GOARCH=wasm go build: %v\n%s", err, out)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wasm_exec.js"), js, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// headless starts a headless Chromium for one test, or skips (fails with
// TACT_REQUIRE_CHROMIUM=1) without one. It records every request the
// page sends.
func headless(t *testing.T) (context.Context, *requestLog) {
	t.Helper()
	exe := chromium()
	if exe == "" {
		if os.Getenv("TACT_REQUIRE_CHROMIUM") == "1" {
			t.Fatal("TACT_REQUIRE_CHROMIUM=1 but no chromium, chromium-browser or google-chrome is on PATH")
		}
		t.Skip("no Chromium on PATH (install Debian's chromium package); set TACT_REQUIRE_CHROMIUM=1 to make this a failure")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.WindowSize(1200, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(cancelTab)
	ctx, cancel := context.WithTimeout(ctx, 180*time.Second)
	t.Cleanup(cancel)
	log := new(requestLog)
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			log.add(e.Request)
		}
	})
	if err := chromedp.Run(ctx, network.Enable()); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	return ctx, log
}

// requestLog keeps the requests a page sent.
type requestLog struct {
	mu   sync.Mutex
	reqs []*network.Request
}

func (l *requestLog) add(r *network.Request) {
	l.mu.Lock()
	l.reqs = append(l.reqs, r)
	l.mu.Unlock()
}

// since returns the requests from the mark on.
func (l *requestLog) since(mark int) []*network.Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.reqs[mark:])
}

func (l *requestLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.reqs)
}

// step runs a step with its own deadline, logging what the page shows on
// failure.
func step(t *testing.T, ctx context.Context, name string, actions ...chromedp.Action) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Run(sctx, actions...); err != nil {
		var loc, text string
		dctx, dcancel := context.WithTimeout(ctx, 5*time.Second)
		_ = chromedp.Run(dctx, chromedp.Location(&loc), chromedp.Text("body", &text, chromedp.ByQuery))
		dcancel()
		t.Fatalf("%s: %v\nat %s:\n%.3000s", name, err, loc, text)
	}
}

// deviceShop is a storefront that offers the device mode, on the real
// clock (the page stamps events with the browser's), with the warm-up off
// and history trusted from the first order, so that a short session
// reaches every source.
func deviceShop(t *testing.T, shop *demo.Shop) (*fixture, string) {
	dir := buildDevice(t)
	return newFixture(t, func(c *config) {
		if shop != nil {
			c.Shop = shop
		}
		c.Device = os.DirFS(dir)
		c.Now = time.Now
		c.WarmUp = -1
		c.Trust = recommend.DefaultTrust{EstablishedOrders: 1, EstablishedVisits: 1, EstablishedTenure: time.Nanosecond}
	}), dir
}

// consentTo makes the browser's consent choices in the shop's preference
// centre, as a visitor does before (or after) keeping their data on the
// device: consent is decided and recorded by the shop.
func consentTo(t *testing.T, ctx context.Context, base string, purposes ...consent.Purpose) {
	actions := []chromedp.Action{chromedp.Navigate(base + "/preferences"), chromedp.WaitVisible(`body[data-page="preferences"]`, chromedp.ByQuery)}
	for _, p := range purposes {
		actions = append(actions, chromedp.Click(`label[for="on-`+string(p)+`"]`, chromedp.ByQuery))
	}
	actions = append(actions, chromedp.Click("#save-choices", chromedp.ByID), chromedp.WaitVisible("#flash", chromedp.ByID))
	step(t, ctx, "consent choices", actions...)
}

// deviceLast is what the page keeps of its last ranking (window.tactLast).
type deviceLast struct {
	Query  ondevice.Query  `json:"query"`
	Result ondevice.Result `json:"result"`
}

// TestDeviceModeInChromium: a visitor consents in the preference centre,
// then switches on "keep my data on this device", declares an interest,
// buys, likes and views items, and reloads the page. The page explains
// every item it shows (why, and the data each reason used) and lists the
// data used and not used; the shop's server never receives a preference,
// a feedback or an event: every request from the switch on is a GET of
// the page, the ranker, the model, the settings or the consent decisions,
// with no query and no body, and none names an interest or an item the
// visitor acted on, and the shop's profile store holds nothing for them.
// The page's recommendations are exactly those the shop's own
// Recommender ranks from the same data at the same moment.
func TestDeviceModeInChromium(t *testing.T) {
	ctx, reqs := headless(t)
	f, _ := deviceShop(t, nil)
	base := f.ts.URL
	consentTo(t, ctx, base, consent.PurposePersonalizeDeclared, consent.PurposePersonalizeFeedback, consent.PurposePersonalizeHistory)

	mark := reqs.mark()
	rec := func(n int, act string) string {
		return `#recs li.rec:nth-child(` + string(rune('0'+n)) + `) button[data-act="` + act + `"]`
	}
	var status string
	step(t, ctx, "switch the mode on",
		chromedp.Navigate(base+"/device"), chromedp.WaitVisible("#mode-on", chromedp.ByID),
		chromedp.Click("#mode-on", chromedp.ByID), chromedp.WaitVisible("#recs li.rec", chromedp.ByQuery))
	step(t, ctx, "declare an interest, on the device",
		chromedp.SendKeys("#interest", "marathon", chromedp.ByID), chromedp.SendKeys("#budget", "400", chromedp.ByID),
		chromedp.Click("#save-prefs", chromedp.ByID), chromedp.Text("#status", &status, chromedp.ByID))
	if status != "Saved on this device." {
		t.Errorf("after saving: %q", status)
	}
	step(t, ctx, "buy, like, view",
		chromedp.Click(rec(1, "buy"), chromedp.ByQuery), chromedp.Click(rec(2, "like"), chromedp.ByQuery),
		chromedp.Click(rec(3, "view"), chromedp.ByQuery), chromedp.Click(rec(4, "buy"), chromedp.ByQuery))
	var loc string
	step(t, ctx, "the shop's pages send the browser to /device",
		chromedp.Navigate(base+"/"), chromedp.WaitVisible("#recs li.rec", chromedp.ByQuery), chromedp.Location(&loc))
	if loc != base+"/device" {
		t.Errorf("the shop's home page in device mode led to %s", loc)
	}
	var raw string
	step(t, ctx, "the ranking", chromedp.Evaluate(`JSON.stringify(window.tactLast)`, &raw))
	var last deviceLast
	if err := json.Unmarshal([]byte(raw), &last); err != nil {
		t.Fatalf("window.tactLast: %v\n%s", err, raw)
	}
	q, got := last.Query, last.Result
	subject := q.Request.Subject

	// It ranked from the device's data: every source, the established tier.
	if len(q.Profile.History) != 3 || len(q.Profile.Feedback) != 1 || len(q.Profile.Preferences.Interests) != 1 {
		t.Fatalf("the device holds %+v", q.Profile)
	}
	for _, c := range []consent.Category{consent.CategoryPreferenceDeclared, consent.CategoryPreferenceFeedback, consent.CategoryBehaviorPurchaseHistory} {
		if !slices.Contains(got.Used, c) {
			t.Errorf("the ranking did not use %s: used %v, withheld %+v", c, got.Used, got.Withheld)
		}
	}
	if got.Tier != "established" || len(got.Items) == 0 {
		t.Errorf("tier %s, %d items", got.Tier, len(got.Items))
	}

	// The page explains every item, and says which data the list used.
	var why []int
	var used []string
	step(t, ctx, "explanations",
		chromedp.Evaluate(`[...document.querySelectorAll('#recs li.rec')].map(li => [...li.querySelectorAll('.why li.reason')].filter(r => r.textContent.trim() && r.querySelector('.data')).length)`, &why),
		chromedp.Evaluate(`[...document.querySelectorAll('#used li')].map(li => li.textContent)`, &used))
	if len(why) != len(got.Items) || slices.Contains(why, 0) {
		t.Errorf("reasons shown per item: %v for %d items", why, len(got.Items))
	}
	if want := got.UsedText; len(want) != len(got.Used) || !reflect.DeepEqual(used, want) {
		t.Errorf("data used shown %v, want %v", used, want)
	}
	// No raw key reaches the visitor: data categories, purposes and
	// catalog slugs are in words.
	var page string
	step(t, ctx, "page text", chromedp.Text("#recs", &page, chromedp.ByQuery))
	for _, key := range []string{"user.", "personalize.", "energy-gels", "running-shoes"} {
		if strings.Contains(page, key) {
			t.Errorf("the recommendations show the key %q:\n%s", key, page)
		}
	}
	// What the visitor sees, with every "why" open, for a person to look at.
	var png []byte
	step(t, ctx, "screenshot",
		chromedp.Evaluate(`document.querySelectorAll('details').forEach(d => d.open = true)`, nil),
		chromedp.FullScreenshot(&png, 100)) // 100: PNG
	dir := os.Getenv("TACT_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "device.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)

	// The server received nothing personal.
	personal := []string{"marathon", "400"}
	for _, e := range q.Profile.History {
		personal = append(personal, e.Item)
	}
	for _, e := range q.Profile.Feedback {
		personal = append(personal, e.Item)
	}
	allowed := []string{"/", "/favicon.ico", "/device", "/device/app.js", "/device/wasm_exec.js", "/device/tact.wasm", "/device/model", "/device/settings", "/device/consent"}
	sent := reqs.since(mark)
	for _, r := range sent {
		u, err := url.Parse(r.URL)
		if err != nil || !strings.HasPrefix(r.URL, base) {
			continue // not the shop
		}
		if r.Method != "GET" || r.HasPostData || len(r.PostDataEntries) > 0 || u.RawQuery != "" || !slices.Contains(allowed, u.Path) {
			t.Errorf("in device mode the page sent %s %s (post data %v)", r.Method, r.URL, r.HasPostData)
		}
		// The shop's own address (its port may hold "400") is not the
		// visitor's: look at the rest.
		hdr, _ := json.Marshal(r.Headers)
		rest := strings.ReplaceAll(r.URL+" "+string(hdr), u.Host, "")
		for _, p := range personal {
			if strings.Contains(rest, p) {
				t.Errorf("request %s %s carries %q", r.Method, r.URL, p)
			}
		}
	}
	if len(sent) < 5 {
		t.Errorf("only %d requests recorded: the log sees too little", len(sent))
	}
	bg := context.Background()
	prefs, _ := f.srv.shop.Profiles.Preferences(bg, subject)
	fb, _ := f.srv.shop.Profiles.Feedback(bg, subject)
	hist, _ := f.srv.shop.Profiles.History(bg, subject)
	if !reflect.DeepEqual(prefs, recommend.Preferences{}) || len(fb) != 0 || len(hist) != 0 {
		t.Errorf("the shop holds %+v, %v, %v for a visitor who keeps their data on the device", prefs, fb, hist)
	}

	// The shop's own Recommender, configured as newServer configures it,
	// over its model, its consent Gate and the same data in a store of its
	// own, ranks exactly what the page shows.
	store := new(recommend.MemoryStore)
	_ = store.SetPreferences(bg, subject, q.Profile.Preferences)
	_ = store.AddFeedback(bg, subject, q.Profile.Feedback...)
	_ = store.AddEvents(bg, subject, q.Profile.History...)
	server, err := recommend.New(f.srv.shop.Model, f.srv.shop.Gate, store, recommend.Config{Trust: f.srv.trust, WarmUp: f.srv.warmUp,
		Weights: map[recommend.Tier]recommend.Weights{recommend.Anonymous: anonymousWeights}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := server.Recommend(bg, q.Request)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(ondevice.NewResult(resp))
	have, _ := json.Marshal(got)
	if !bytes.Equal(want, have) {
		t.Errorf("the page ranks\n%s\nthe shop's Recommender\n%s", have, want)
	}
}

// TestDeviceLatencyInChromium measures ranking on the device over a
// 10,000-item shop: the page times 200 rankings of an established
// shopper's profile with performance.now, and the test logs them with the
// sizes a browser downloads (nothing here is asserted but that it ranks).
func TestDeviceLatencyInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 10,000-item shop")
	}
	ctx, _ := headless(t)
	big, err := demo.New(context.Background(), demo.Options{Seed: 1, Items: 10000, Shoppers: 20000, Noise: dptest.Noise{StdDevs: 1, MinPersons: 50}})
	if err != nil {
		t.Fatal(err)
	}
	f, dir := deviceShop(t, big)
	consentTo(t, ctx, f.ts.URL, consent.PurposePersonalizeDeclared, consent.PurposePersonalizeFeedback, consent.PurposePersonalizeHistory)
	// An established shopper's profile, put on the device as the page
	// keeps it: 2 interests, 5 likes, 40 orders and 60 views.
	sh := big.World.Shoppers[0]
	items := big.World.Items
	p := recommend.Profile{Preferences: recommend.Preferences{Interests: []recommend.Interest{
		{Text: "you like marathon", Tags: []string{"marathon"}}, {Text: "you like coffee", Tags: []string{"coffee"}}}}}
	now := time.Now()
	for i := range 100 {
		kind := recommend.Purchase
		if i >= 40 {
			kind = recommend.View
		}
		p.History = append(p.History, recommend.Event{Item: items[(i*97+len(sh.ID))%len(items)].ID, Kind: kind, At: now.Add(-time.Duration(i) * time.Hour)})
	}
	for i := range 5 {
		p.Feedback = append(p.Feedback, recommend.Feedback{Item: items[(i*389)%len(items)].ID, Kind: recommend.Liked, At: now})
	}
	state, _ := json.Marshal(map[string]any{"on": true, "profile": p, "firstSeen": now.Add(-24 * time.Hour), "visits": 3})
	var res struct{ N, First, Median, P95, Mean float64 }
	var loadMs float64
	var tier string
	step(t, ctx, "load the device mode",
		chromedp.Navigate(f.ts.URL+"/device"), chromedp.WaitVisible("#mode-on", chromedp.ByID),
		chromedp.Evaluate(`localStorage.setItem('tact.device', `+strconvQuote(string(state))+`)`, nil),
		chromedp.Reload(), chromedp.WaitVisible("#recs li.rec", chromedp.ByQuery),
		chromedp.Evaluate(`window.tactLoadMs`, &loadMs), chromedp.Text("#tier", &tier, chromedp.ByID))
	step(t, ctx, "time 200 rankings", chromedp.Evaluate(`tactBench(200)`, &res, func(p *cdpruntime.EvaluateParams) *cdpruntime.EvaluateParams {
		return p.WithAwaitPromise(true)
	}))
	if res.N != 200 || tier != "established" {
		t.Fatalf("bench %+v, tier %s", res, tier)
	}
	model, _ := big.Model.MarshalBinary()
	wasm, _ := os.ReadFile(filepath.Join(dir, "tact.wasm"))
	t.Logf("catalog %d items; model %d bytes (%d gzipped); tact.wasm %d bytes (%d gzipped)",
		big.World.Catalog.Len(), len(model), gzipLen(model), len(wasm), gzipLen(wasm))
	t.Logf("load (fetch + instantiate + decode the model): %.0f ms", loadMs)
	t.Logf("ranking K=10 in headless Chromium, %d runs: first %.2f ms, median %.2f ms, p95 %.2f ms, mean %.2f ms",
		int(res.N), res.First, res.Median, res.P95, res.Mean)
}

func gzipLen(b []byte) int {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Len()
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
