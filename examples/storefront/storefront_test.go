package main

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
)

const marathon = "Because you told us you're training for a marathon"

func TestAnonymousVisitorGetsNonPersonalResults(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	p := b.get("/")
	want(t, p, http.StatusOK, `<html lang="en">`, "Popular right now", `<strong id="tier">anonymous</strong>`,
		"first 2 minutes of your visit", "Popular with shoppers", "Why am I seeing this?", "Trending across the shop",
		"personalize.declared is not allowed: you have not given consent")
	wantNot(t, p, "Because you", "Picked for you")
	if len(p.recommended()) == 0 {
		t.Error("an anonymous visitor should still see popular items")
	}
	if c := p.header.Values("Set-Cookie"); len(c) > 0 {
		t.Errorf("a visit sets no cookie until the visitor acts; got %q", c)
	}
	if f.srv.visitorCount() != 0 {
		t.Errorf("a visit keeps no visitor; %d kept", f.srv.visitorCount())
	}
	// Promotional items are held back during the warm-up.
	for _, id := range p.recommended() {
		if it, _ := f.srv.shop.World.Catalog.Lookup(id); it.Promotional {
			t.Errorf("promotional item %s shown in the warm-up", id)
		}
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Cache-Control"} {
		if p.header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
}

func TestCategoryAndItemPages(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	p := b.get("/?category=running-shoes")
	want(t, p, http.StatusOK, "<h1>Running shoes</h1>", "All Running shoes", "From running-shoes, which you're browsing",
		"what you're looking at now (this visit only)")
	var item recommend.Item
	for it := range f.srv.shop.World.Catalog.All() {
		if it.Category == "running-shoes" {
			item = it
			want(t, p, http.StatusOK, `href="/items/`+it.ID+`"`)
		}
	}
	p = b.get("/items/" + item.ID)
	want(t, p, http.StatusOK, "<h1>"+item.Title+"</h1>", `action="/items/`+item.ID+`/buy"`, "You might also like",
		"Because you&#39;re looking at "+template.HTMLEscapeString(item.Title),
		"We keep likes and “not interested” only if you turn on")
	wantNot(t, p, `data-item="`+item.ID+`"`) // the item in view is not recommended to itself
	if r := b.do(http.MethodHead, "/items/"+item.ID, nil, nil); r.status != http.StatusOK || r.body != "" {
		t.Errorf("HEAD: %d with %d bytes; want 200 and no body", r.status, len(r.body))
	}
}

func TestUnknownPagesAndIDs(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	for _, tc := range []struct {
		name, method, path string
		status             int
		text               string
	}{
		{"unknown item", "GET", "/items/item-999999", 404, "The shop has no item \"item-999999\""},
		{"unknown item, long id", "GET", "/items/" + strings.Repeat("x", 300), 404, "The shop has no item"},
		{"unknown category", "GET", "/?category=spaceships", 404, "The shop has no category \"spaceships\""},
		{"category twice", "GET", "/?category=bikes&category=fiction", 400, "The address names 2 categories"},
		{"unknown page", "GET", "/admin", 404, "There is no page at this address."},
		{"below an item", "GET", "/items/item-000001/reviews", 404, "There is no page at this address."},
		{"buy an unknown item", "POST", "/items/nope/buy", 404, "The shop has no item"},
		{"feedback on an unknown item", "POST", "/items/nope/feedback", 404, "The shop has no item"},
		{"GET a form target", "GET", "/consent", 405, "This address accepts POST only"},
		{"GET erase", "GET", "/data/erase", 405, "This address accepts POST only"},
		{"POST the listing", "POST", "/", 405, "accepts GET, HEAD only"},
		{"DELETE preferences", "DELETE", "/preferences", 405, "accepts GET, POST, HEAD only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.do(tc.method, tc.path, strings.NewReader(""), nil)
			want(t, p, tc.status, tc.text, `<p class="alert" role="alert" id="error">`)
			if tc.status == 405 && p.header.Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
		})
	}
	if n := f.srv.visitorCount(); n != 0 {
		t.Errorf("failed requests created %d visitors", n)
	}
}

func TestPersonalizationFollowsConsentAndTrust(t *testing.T) {
	f := newFixture(t)
	b := f.browser()

	// Declare a preference: saved, but not used without consent.
	p := b.post("/preferences", url.Values{"interest": {"marathon"}, "size-shoe": {"42"}})
	want(t, p, http.StatusOK, "Saved. We use them only once you turn on", "interests: you're training for a marathon", "sizes: shoe:42")
	id := b.cookie()
	if !validID(id) {
		t.Fatalf("saving preferences should set a visitor id; cookie %q", id)
	}
	p = b.get("/")
	wantNot(t, p, marathon)

	// Grant: still in the warm-up of the visit that began when the id was set.
	p = b.grant(string(consent.PurposePersonalizeDeclared))
	want(t, p, http.StatusOK, "Turned on: “Recommendations from the goals and sizes you tell us”.", `data-state="personalize.declared">On`)
	p = b.get("/")
	want(t, p, http.StatusOK, "Your stated preferences not used: warm-up: first 2 minutes of your visit", `<strong id="tier">recognized</strong>`)
	wantNot(t, p, marathon)

	// Past the warm-up: declared preferences are used and explained.
	f.clock.Advance(3 * time.Minute)
	p = b.get("/")
	want(t, p, http.StatusOK, "Picked for you", `<strong id="tier">recognized</strong>`, marathon,
		"preferences you told us (<code>user.preference.declared</code>)",
		"Recommendations from the goals and sizes you tell us (<code>personalize.declared</code>)",
		"Purchase history not used: personalize.history is not allowed")
	recs := p.recommended()
	if len(recs) == 0 {
		t.Fatal("no recommendations for a recognized visitor")
	}

	// Buy the first one and allow history: the established tier of the
	// demo trust policy (1 order, 1 visit, 1 minute).
	bought := recs[0]
	p = b.post("/items/"+bought+"/buy", nil)
	want(t, p, http.StatusOK, "Bought (a demo: nothing is charged).")
	p = b.get("/")
	want(t, p, http.StatusOK, "Purchase history not used: personalize.history is not allowed")
	b.grant(string(consent.PurposePersonalizeHistory))
	p = b.get("/")
	want(t, p, http.StatusOK, `<strong id="tier">established</strong>`, "what you bought (<code>user.behavior.purchase_history</code>)",
		"Recommendations from what you bought (<code>personalize.history</code>)")
	if slices.Contains(p.recommended(), bought) {
		if it, _ := f.srv.shop.World.Catalog.Lookup(bought); !it.Replenishable {
			t.Errorf("%s was bought and is not replenishable, yet recommended again", bought)
		}
	}

	// Withdraw both: non-personal at once.
	b.withdraw(string(consent.PurposePersonalizeDeclared))
	p = b.withdraw(string(consent.PurposePersonalizeHistory))
	want(t, p, http.StatusOK, "Turned off: “Recommendations from what you bought”. It takes effect at once.",
		`data-state="personalize.history">Off`, "you withdrew your consent")
	p = b.get("/")
	want(t, p, http.StatusOK, "Popular right now", `<strong id="tier">anonymous</strong>`, "Popular with shoppers",
		"personalize.declared is not allowed: you withdrew your consent", `<span id="used">nothing about you</span>`)
	wantNot(t, p, marathon, "user.preference.declared</code>)")
}

func TestBadPreferenceFormLosesNothing(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	good := url.Values{"interest": {"marathon", "coffee"}, "size-top": {"M"}, "budget": {"120"}, "avoid": {"espresso"}}
	want(t, b.post("/preferences", good), http.StatusOK, "Saved.")
	saved, _ := f.srv.shop.Profiles.Preferences(context.Background(), b.cookie())

	for _, tc := range []struct {
		name   string
		form   url.Values
		reason string
	}{
		{"budget not a number", url.Values{"budget": {"abc"}}, `Budget "abc" is not a number`},
		{"budget NaN", url.Values{"budget": {"NaN"}}, `Budget "NaN" is not a number`},
		{"budget infinite", url.Values{"budget": {"Inf"}}, `is not a number`},
		{"budget negative", url.Values{"budget": {"-5"}}, "Budget must be between 0 and 100000"},
		{"budget huge", url.Values{"budget": {"1e9"}}, "Budget must be between 0 and 100000"},
		{"budget twice", url.Values{"budget": {"10", "20"}}, `The field "budget" was sent 2 times`},
		{"unknown interest", url.Values{"interest": {"astrology"}}, `"astrology" is not one of the interests on offer`},
		{"unknown size", url.Values{"size-shoe": {"99"}}, `Shoe size "99" does not exist`},
		{"unknown tag", url.Values{"avoid": {"running, unicorns"}}, `No item is tagged "unicorns"`},
		{"too many tags", url.Values{"avoid": {"baby,books,camping,children,coffee,cooking,cycling,energy,garden,health,hiking"}}, "At most 10 tags to avoid"},
		{"field too long", url.Values{"avoid": {strings.Repeat("a", 600)}}, "longer than 500 characters"},
		{"markup in a field", url.Values{"avoid": {"<script>alert(1)</script>"}}, "No item is tagged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.post("/preferences", tc.form)
			want(t, p, http.StatusBadRequest, "Nothing was saved", "Your saved preferences are unchanged", tc.reason,
				"What we hold now: interests: you're training for a marathon; you're into coffee")
			if strings.Contains(p.body, "<script>alert") {
				t.Error("markup from the form is echoed unescaped")
			}
			got, _ := f.srv.shop.Profiles.Preferences(context.Background(), b.cookie())
			if !sameJSON(got, saved) {
				t.Errorf("preferences changed by a rejected form: %+v, want %+v", got, saved)
			}
		})
	}
	// The form shows what was sent, for correction, and the saved values
	// are still what the page shows once reloaded.
	p := b.post("/preferences", url.Values{"budget": {"lots"}, "interest": {"yoga"}})
	want(t, p, http.StatusBadRequest, `value="lots"`, `id="interest-yoga" name="interest" value="yoga" checked`)
	p = b.get("/preferences")
	want(t, p, http.StatusOK, `value="120"`, `value="espresso"`, `id="interest-marathon" name="interest" value="marathon" checked`,
		`<option value="M" selected>`)
	// A rejected form from a browser without an id creates none.
	nb := f.browser()
	want(t, nb.post("/preferences", url.Values{"budget": {"abc"}}), http.StatusBadRequest, "Nothing was saved")
	if nb.cookie() != "" {
		t.Error("a rejected form set a visitor id")
	}
}

func sameJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestConsentFormRejectsBadInput(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	b.grant(string(consent.PurposePersonalizeDeclared))
	id := b.cookie()
	before, err := f.srv.shop.Gate.Access(context.Background(), id, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		reason string
	}{
		{"no purpose", url.Values{"action": {"grant"}}, 400, "A consent choice needs one purpose and one action."},
		{"no action", url.Values{"purpose": {"personalize.history"}}, 400, "A consent choice needs one purpose and one action."},
		{"two purposes", url.Values{"purpose": {"personalize.history", "marketing.email"}, "action": {"grant"}}, 400, "needs one purpose"},
		{"unknown purpose", url.Values{"purpose": {"personalize.mood"}, "action": {"grant"}}, 400, "The shop's policy has no purpose \"personalize.mood\""},
		{"malformed purpose", url.Values{"purpose": {"../../etc"}, "action": {"grant"}}, 400, "has no purpose"},
		{"contract purpose", url.Values{"purpose": {"service.checkout"}, "action": {"withdraw"}}, 400, "rests on needed to run your orders (contract), not on consent"},
		{"grant a legitimate interest", url.Values{"purpose": {"personalize.context"}, "action": {"grant"}}, 400, "you can object to it, but there is no consent to give"},
		{"unknown action", url.Values{"purpose": {"personalize.history"}, "action": {"maybe"}}, 400, "The action must be “grant” or “withdraw”."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want(t, b.post("/consent", tc.form), tc.status, tc.reason, "Nothing was changed.")
		})
	}
	after, err := f.srv.shop.Gate.Access(context.Background(), id, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Records) != len(before.Records) {
		t.Errorf("rejected forms recorded %d consent events", len(after.Records)-len(before.Records))
	}
	// The visitor's consent is intact.
	want(t, b.get("/preferences"), http.StatusOK, `data-state="personalize.declared">On`)
}

func TestObjectingToALegitimateInterest(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	p := b.post("/consent", url.Values{"purpose": {"personalize.context"}, "action": {"withdraw"}})
	want(t, p, http.StatusOK, "Objection recorded: “Suggestions from the page you are on, with no profile”",
		`data-state="personalize.context">Off`, "you objected to this use", "Your objection stands until you erase your data.")
	f.clock.Advance(3 * time.Minute)
	p = b.get("/?category=running-shoes")
	want(t, p, http.StatusOK, "What you're viewing not used: personalize.context is not allowed: you objected to this use")
	wantNot(t, p, "which you're browsing")
}

func TestLimitsAndCrossSiteRequests(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	big := url.Values{"avoid": {strings.Repeat("x", maxBody)}}.Encode()
	p := b.do(http.MethodPost, "/preferences", strings.NewReader(big), nil)
	want(t, p, http.StatusRequestEntityTooLarge, "The form was larger than 16 KiB. Nothing was changed.")

	p = b.do(http.MethodPost, "/preferences", strings.NewReader("interest=%zz"), nil)
	want(t, p, http.StatusBadRequest, "The form could not be read")

	form := url.Values{"purpose": {"personalize.history"}, "action": {"grant"}}.Encode()
	for _, tc := range []struct {
		name   string
		header http.Header
		status int
	}{
		{"cross-site fetch", http.Header{"Sec-Fetch-Site": {"cross-site"}}, 403},
		{"same-site but another origin", http.Header{"Sec-Fetch-Site": {"same-site"}}, 403},
		{"foreign origin", http.Header{"Origin": {"https://evil.example"}}, 403},
		{"opaque origin", http.Header{"Origin": {"null"}}, 403},
		{"same origin", http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {f.ts.URL}}, 303},
		// With Referrer-Policy no-referrer, Chromium sends Origin: null on
		// same-origin form posts: Sec-Fetch-Site decides.
		{"same origin, opaque Origin", http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {"null"}}, 303},
		{"typed in the address bar", http.Header{"Sec-Fetch-Site": {"none"}}, 303},
		{"no browser headers", nil, 303},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := f.browser().do(http.MethodPost, "/consent", strings.NewReader(form), tc.header)
			if p.status != tc.status {
				t.Errorf("status %d, want %d: %s", p.status, tc.status, excerpt(p.body))
			}
			if tc.status == 403 && !p.has("The storefront only accepts forms sent from its own pages.") {
				t.Errorf("no clear message: %s", excerpt(p.body))
			}
		})
	}
}

func TestVisitorCookie(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	p := b.do(http.MethodPost, "/preferences", strings.NewReader("interest=yoga"), nil)
	if p.status != http.StatusSeeOther {
		t.Fatalf("status %d", p.status)
	}
	c := p.header.Get("Set-Cookie")
	for _, attr := range []string{cookieName + "=v-", "Path=/", "HttpOnly", "SameSite=Strict", "Max-Age="} {
		if !strings.Contains(c, attr) {
			t.Errorf("cookie %q lacks %s", c, attr)
		}
	}
	// Garbage, unknown and forged cookies are a browser with no id: pages
	// work, and the next action mints a fresh id.
	for _, v := range []string{"garbage", "v-AAAAAAAAAAAAAAAAAAAAAAAAAA", b.cookie() + "x", strings.Repeat("v", 5000)} {
		req := func(method, path, body string) *http.Response {
			r, _ := http.NewRequest(method, f.ts.URL+path, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.AddCookie(&http.Cookie{Name: cookieName, Value: v})
			resp, err := http.DefaultTransport.RoundTrip(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		for _, path := range []string{"/", "/preferences", "/data"} {
			if r := req("GET", path, ""); r.StatusCode != http.StatusOK {
				t.Errorf("cookie %.20q: GET %s: %d", v, path, r.StatusCode)
			}
		}
		if r := req("GET", "/data/export", ""); r.StatusCode != http.StatusNotFound {
			t.Errorf("cookie %.20q: export %d, want 404", v, r.StatusCode)
		}
		r := req("POST", "/consent", "purpose=personalize.feedback&action=grant")
		if r.StatusCode != http.StatusSeeOther {
			t.Errorf("cookie %.20q: POST: %d", v, r.StatusCode)
		}
		var minted string
		for _, c := range r.Cookies() {
			if c.Name == cookieName {
				minted = c.Value
			}
		}
		if !validID(minted) || minted == v {
			t.Errorf("cookie %.20q: minted %q; want a fresh id", v, minted)
		}
	}
}

func TestGlobalPrivacyControl(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	b.header.Set("Sec-GPC", "1")
	p := b.get("/")
	want(t, p, http.StatusOK, "Global Privacy Control is on.", "Sec-GPC: 1")
	p = b.get("/preferences")
	want(t, p, http.StatusOK, "Global Privacy Control is on.", `data-state="advertising.targeted">Off`,
		"Your browser's Global Privacy Control signal keeps this off.")
	p = b.post("/consent", url.Values{"purpose": {"advertising.targeted"}, "action": {"grant"}})
	want(t, p, http.StatusConflict, "Your browser sends Global Privacy Control, which opts you out of “Ads elsewhere based on what you did here”", "Nothing was changed.")

	// Personalization is not what GPC opts out of: it still works.
	b.post("/preferences", url.Values{"interest": {"marathon"}})
	b.grant(string(consent.PurposePersonalizeDeclared))
	p = b.get("/preferences")
	want(t, p, http.StatusOK, "It is recorded with your consent choices.", `data-state="personalize.declared">On`,
		`data-state="advertising.targeted">Off</strong> (your browser sent a Global Privacy Control signal)`,
		`data-state="marketing.email">Off</strong> (you have not given consent)`)
	f.clock.Advance(3 * time.Minute)
	want(t, b.get("/"), http.StatusOK, marathon)

	// The Gate recorded the signal, so its absence later is not an opt-in.
	a, err := f.srv.shop.Gate.Access(context.Background(), b.cookie(), f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	gpc := 0
	for _, r := range a.Records {
		if r.Source == consent.SourceGPC {
			gpc++
		}
	}
	if gpc == 0 {
		t.Error("the GPC signal was not recorded")
	}
	// A visitor who never opens the preference centre: the signal is
	// recorded on the first request with an id, as the banner says.
	nb := f.browser()
	nb.header.Set("Sec-GPC", "1")
	nb.post("/items/item-000002/buy", nil)
	want(t, nb.get("/"), http.StatusOK, "It is recorded with your consent choices.")
	a, err = f.srv.shop.Gate.Access(context.Background(), nb.cookie(), f.clock.Now())
	if err != nil || len(a.Records) == 0 || a.Records[0].Source != consent.SourceGPC {
		t.Errorf("GPC of a visitor who only bought: records %v, %v", a.Records, err)
	}

	b.header.Del("Sec-GPC")
	p = b.get("/preferences")
	wantNot(t, p, "Global Privacy Control is on.")
	want(t, p, http.StatusOK, `data-state="advertising.targeted">Off`)
}

func TestFeedbackNeedsConsent(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	it := "item-000003"
	liked := url.Values{"kind": {"liked"}}
	want(t, b.post("/items/"+it+"/feedback", liked), http.StatusConflict, "We did not keep this")
	if b.cookie() != "" {
		t.Error("refused feedback set a visitor id")
	}
	b.post("/preferences", url.Values{"interest": {"cycling"}})
	want(t, b.post("/items/"+it+"/feedback", liked), http.StatusConflict, "We did not keep this")
	fb, _ := f.srv.shop.Profiles.Feedback(context.Background(), b.cookie())
	if len(fb) != 0 {
		t.Errorf("feedback kept without consent: %v", fb)
	}
	for _, bad := range []url.Values{{}, {"kind": {"love"}}, {"kind": {"liked", "liked"}}} {
		want(t, b.post("/items/"+it+"/feedback", bad), http.StatusBadRequest, "Feedback must be “liked” or “not_interested”")
	}

	b.grant(string(consent.PurposePersonalizeFeedback))
	p := b.get("/items/" + it)
	want(t, p, http.StatusOK, "More like this", "Not interested")
	want(t, b.post("/items/"+it+"/feedback", liked), http.StatusOK, "Noted: you like this item.")
	hide := "item-000000" // a popular running shoe
	want(t, b.post("/items/"+hide+"/feedback", url.Values{"kind": {"not_interested"}}), http.StatusOK, "Noted: we will not suggest this item again.")
	fb, _ = f.srv.shop.Profiles.Feedback(context.Background(), b.cookie())
	if len(fb) != 2 || fb[0].Kind != recommend.Liked || fb[1].Kind != recommend.NotInterested {
		t.Errorf("feedback kept: %+v", fb)
	}
	for _, path := range []string{"/", "/?category=running-shoes"} {
		if p := b.get(path); slices.Contains(p.recommended(), hide) {
			t.Errorf("%s: %s recommended after “not interested”", path, hide)
		}
	}
}

func TestYourDataExportAndErase(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	anon := f.browser()
	want(t, anon.get("/data"), http.StatusOK, "We hold nothing about this browser")
	want(t, anon.get("/data/export"), http.StatusNotFound, "This browser has no visitor id, so we hold nothing about it.")
	want(t, anon.post("/data/erase", url.Values{"confirm": {"yes"}}), http.StatusNotFound, "so we hold nothing about it")

	b := f.browser()
	b.post("/preferences", url.Values{"interest": {"marathon"}, "budget": {"80"}, "avoid": {"coffee"}})
	b.grant(string(consent.PurposePersonalizeDeclared))
	b.grant(string(consent.PurposePersonalizeFeedback))
	b.post("/items/item-000012/buy", nil)
	b.post("/items/item-000013/feedback", url.Values{"kind": {"liked"}})
	id := b.cookie()
	bought, _ := f.srv.shop.World.Catalog.Lookup("item-000012")

	p := b.get("/data")
	want(t, p, http.StatusOK, "<code id=\"visitor-id\">"+id+"</code>", "Your privacy choices with", "On\n• Recommendations from the goals and sizes you tell us\n",
		"Interests: you're training for a marathon", "Budget: €80.00", "Tags to avoid: coffee",
		bought.Title, "liked: ", "Download everything as JSON", `name="confirm" value="yes" required`)

	e := b.get("/data/export")
	if e.status != http.StatusOK || !strings.HasPrefix(e.header.Get("Content-Type"), "application/json") ||
		!strings.Contains(e.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %q %q", e.status, e.header.Get("Content-Type"), e.header.Get("Content-Disposition"))
	}
	var ex struct {
		Visitor struct {
			ID     string `json:"id"`
			Orders int    `json:"orders"`
		} `json:"visitor"`
		Consent struct {
			Records   []json.RawMessage `json:"records"`
			Decisions []struct {
				Purpose string `json:"purpose"`
				Allowed bool   `json:"allowed"`
			} `json:"decisions"`
		} `json:"consent"`
		Receipt     map[string]any `json:"receipt"`
		Preferences struct {
			Interests []string `json:"interests"`
			MaxPrice  float64  `json:"max_price"`
			Avoid     []string `json:"avoid_tags"`
		} `json:"declared_preferences"`
		Feedback []struct{ Item, Kind string }  `json:"feedback"`
		Orders   []struct{ Item, Title string } `json:"orders"`
	}
	if err := json.Unmarshal([]byte(e.body), &ex); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, e.body)
	}
	switch {
	case ex.Visitor.ID != id || ex.Visitor.Orders != 1:
		t.Errorf("visitor %+v", ex.Visitor)
	case len(ex.Consent.Records) != 2:
		t.Errorf("%d consent records, want 2", len(ex.Consent.Records))
	case len(ex.Receipt) == 0:
		t.Error("no receipt")
	case !slices.Equal(ex.Preferences.Interests, []string{"you're training for a marathon"}) || ex.Preferences.MaxPrice != 80 ||
		!slices.Equal(ex.Preferences.Avoid, []string{"coffee"}):
		t.Errorf("preferences %+v", ex.Preferences)
	case len(ex.Feedback) != 1 || ex.Feedback[0].Item != "item-000013" || ex.Feedback[0].Kind != "liked":
		t.Errorf("feedback %+v", ex.Feedback)
	case len(ex.Orders) != 1 || ex.Orders[0].Item != "item-000012" || ex.Orders[0].Title != bought.Title:
		t.Errorf("orders %+v", ex.Orders)
	}
	allowed := map[string]bool{}
	for _, d := range ex.Consent.Decisions {
		allowed[d.Purpose] = d.Allowed
	}
	if !allowed["personalize.declared"] || allowed["personalize.history"] {
		t.Errorf("decisions %v", allowed)
	}

	// Erasing needs the confirmation; without it nothing goes.
	for _, form := range []url.Values{{}, {"confirm": {"no"}}, {"confirm": {"yes", "yes"}}} {
		p = b.post("/data/erase", form)
		want(t, p, http.StatusBadRequest, "Tick the box to confirm that you want everything erased. Nothing was erased.", bought.Title)
	}
	if prof, _ := f.srv.shop.Profiles.Export(ctx, id); len(prof.History) != 1 {
		t.Fatal("an unconfirmed erasure erased the history")
	}

	p = b.do(http.MethodPost, "/data/erase", strings.NewReader("confirm=yes"), nil)
	want(t, p, http.StatusOK, "Your data is erased", "First we withdrew what you had allowed:", "tombstones")
	if c := p.header.Get("Set-Cookie"); !strings.Contains(c, "Max-Age=0") {
		t.Errorf("the cookie is not deleted: %q", c)
	}
	if prof, _ := f.srv.shop.Profiles.Export(ctx, id); len(prof.History)+len(prof.Feedback)+len(prof.Preferences.Interests) != 0 {
		t.Errorf("profile left after erasure: %+v", prof)
	}
	a, err := f.srv.shop.Gate.Access(ctx, id, f.clock.Now())
	if err != nil || len(a.Records) != 0 {
		t.Errorf("consent records left under the id after erasure: %d, %v", len(a.Records), err)
	}
	if _, err := f.srv.shop.Gate.Verify(ctx); err != nil {
		t.Errorf("the ledger does not verify after erasure: %v", err)
	}
	want(t, b.get("/data"), http.StatusOK, "We hold nothing about this browser")
	// The old id, replayed, is nobody.
	old := f.browser()
	u, _ := url.Parse(f.ts.URL)
	old.c.Jar.SetCookies(u, []*http.Cookie{{Name: cookieName, Value: id}})
	want(t, old.get("/data/export"), http.StatusNotFound)
}

func TestVisitorCapErasesTheLeastRecentlySeen(t *testing.T) {
	f := newFixture(t, func(c *config) { c.MaxVisitors = 2 })
	ctx := context.Background()
	var ids []string
	for i := range 3 {
		b := f.browser()
		b.post("/preferences", url.Values{"interest": {"books"}})
		b.grant(string(consent.PurposePersonalizeDeclared))
		ids = append(ids, b.cookie())
		f.clock.Advance(time.Duration(i+1) * time.Second)
	}
	if n := f.srv.visitorCount(); n != 2 {
		t.Fatalf("%d visitors held, want 2", n)
	}
	if p, _ := f.srv.shop.Profiles.Preferences(ctx, ids[0]); len(p.Interests) != 0 {
		t.Error("the evicted visitor's preferences are still held")
	}
	if a, _ := f.srv.shop.Gate.Access(ctx, ids[0], f.clock.Now()); len(a.Records) != 0 {
		t.Error("the evicted visitor's consent records are still held")
	}
	if p, _ := f.srv.shop.Profiles.Preferences(ctx, ids[2]); len(p.Interests) != 1 {
		t.Error("the newest visitor lost their preferences")
	}
}

func TestVisitsAndWarmUp(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	b.post("/preferences", url.Values{"interest": {"marathon"}})
	b.grant(string(consent.PurposePersonalizeDeclared))
	f.clock.Advance(3 * time.Minute)
	want(t, b.get("/"), http.StatusOK, marathon)
	// Back after an hour: a new visit, and a new warm-up.
	f.clock.Advance(time.Hour)
	p := b.get("/")
	want(t, p, http.StatusOK, "first 2 minutes of your visit")
	wantNot(t, p, marathon)
	want(t, b.get("/data"), http.StatusOK, "Visits: 2.")
}

// TestAccessibleMarkup checks every page for what a screen reader or a
// keyboard needs: a language, one h1 and no skipped heading level, a label
// for every field, disclosures as <details>, no scripts.
func TestAccessibleMarkup(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	b.post("/preferences", url.Values{"interest": {"marathon"}})
	b.grant(string(consent.PurposePersonalizeFeedback))
	b.post("/items/item-000001/buy", nil)
	heading := regexp.MustCompile(`<h([1-6])[ >]`)
	field := regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	idAttr := regexp.MustCompile(`\bid="([^"]+)"`)
	pages := map[string]page{}
	for _, path := range []string{"/", "/?category=bikes", "/items/item-000001", "/preferences", "/data", "/nowhere"} {
		pages[path] = b.get(path)
	}
	pages["bad form"] = b.post("/preferences", url.Values{"budget": {"x"}})
	pages["erased"] = b.post("/data/erase", url.Values{"confirm": {"yes"}})
	for name, p := range pages {
		t.Run(name, func(t *testing.T) {
			if !p.has(`<html lang="en">`) || !p.has("<title>") || p.has("<script") {
				t.Error("want lang, a title and no script")
			}
			levels := heading.FindAllStringSubmatch(p.body, -1)
			if len(levels) == 0 || levels[0][1] != "1" {
				t.Fatalf("the first heading is not an h1: %v", levels)
			}
			prev := 1
			for _, l := range levels[1:] {
				n := int(l[1][0] - '0')
				if n == 1 {
					t.Error("more than one h1")
				}
				if n > prev+1 {
					t.Errorf("heading level skips from h%d to h%d", prev, n)
				}
				prev = n
			}
			for _, m := range field.FindAllString(p.body, -1) {
				if strings.Contains(m, `type="hidden"`) {
					continue
				}
				id := idAttr.FindStringSubmatch(m)
				if id == nil || !p.has(`<label for="`+id[1]+`">`) {
					t.Errorf("field without a label: %s", m)
				}
			}
			if strings.Count(p.body, "<summary>") != strings.Count(p.body, "<details") {
				t.Error("a <details> without a <summary>")
			}
		})
	}
	if n := strings.Count(pages["/"].body, "<summary>Why am I seeing this?</summary>"); n != len(pages["/"].recommended()) || n == 0 {
		t.Errorf("%d disclosures for %d recommendations", n, len(pages["/"].recommended()))
	}
}

func TestDefaultTrustKeepsHistoryForLaterVisits(t *testing.T) {
	f := newFixture(t, func(c *config) { c.Trust = recommend.DefaultTrust{} })
	b := f.browser()
	b.post("/preferences", url.Values{"interest": {"marathon"}})
	b.grant(string(consent.PurposePersonalizeDeclared))
	b.grant(string(consent.PurposePersonalizeHistory))
	b.post("/items/item-000001/buy", nil)
	f.clock.Advance(3 * time.Minute)
	p := b.get("/")
	want(t, p, http.StatusOK, `<strong id="tier">recognized</strong>`, marathon,
		"Purchase history not used: used only once you're an established customer",
		"Once you have 2 orders and 3 visits over at least 30 days")
}
