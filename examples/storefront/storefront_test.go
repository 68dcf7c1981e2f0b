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
	want(t, p, http.StatusOK, `<html lang="en">`, "Popular right now", `<strong id="tier" data-tier="anonymous">anonymous</strong>`,
		"first 2 minutes of your visit", "Popular with shoppers", "Why am I seeing this?", "Trending across the shop",
		"Your stated preferences not used: you have not given consent.")
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
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Cache-Control", "Content-Language"} {
		if p.header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
}

func TestCategoryAndItemPages(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	p := b.get("/?category=running-shoes")
	want(t, p, http.StatusOK, "<h1>Running shoes</h1>", "All of Running shoes", "From Running shoes, which you're browsing",
		"what you are looking at now")
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
		{"unknown item", "GET", "/items/item-999999", 404, "The shop has no item “item-999999”"},
		{"unknown item, long id", "GET", "/items/" + strings.Repeat("x", 300), 404, "The shop has no item"},
		{"unknown category", "GET", "/?category=spaceships", 404, "The shop has no category “spaceships”"},
		{"category twice", "GET", "/?category=bikes&category=fiction", 400, "The address names 2 categories"},
		{"unknown page", "GET", "/admin", 404, "There is no page at this address."},
		{"below an item", "GET", "/items/item-000001/reviews", 404, "There is no page at this address."},
		{"buy an unknown item", "POST", "/items/nope/buy", 404, "The shop has no item"},
		{"feedback on an unknown item", "POST", "/items/nope/feedback", 404, "The shop has no item"},
		{"GET erase", "GET", "/privacy/erase", 405, "This address accepts POST only"},
		{"POST the receipt", "POST", "/privacy/receipt", 405, "This address accepts GET, HEAD only"},
		{"below the preference centre", "GET", "/privacy/nowhere", 404, "There is no page at this address."},
		{"the old consent form", "POST", "/consent", 404, "There is no page at this address."},
		{"the receipt of nobody", "GET", "/privacy/receipt", 401, "This browser has no visitor id, so we hold nothing about it."},
		{"the export of nobody", "GET", "/privacy/export", 401, "This browser has no visitor id"},
		{"erase nobody", "POST", "/privacy/erase", 401, "This browser has no visitor id"},
		{"POST the listing", "POST", "/", 405, "accepts GET, HEAD only"},
		{"DELETE preferences", "DELETE", "/preferences", 405, "accepts GET, POST, HEAD only"},
		{"DELETE the preference centre", "DELETE", "/privacy/", 405, "accepts GET, POST, HEAD only"},
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
	want(t, p, http.StatusOK, "Saved. We use them only once you turn on “Recommendations from the goals and sizes you tell us” below.",
		"interests: Training for a marathon", "sizes: Shoe size 42")
	id := b.cookie()
	if !validID(id) {
		t.Fatalf("saving preferences should set a visitor id; cookie %q", id)
	}
	p = b.get("/")
	wantNot(t, p, marathon)

	// Grant: still in the warm-up of the visit that began when the id was set.
	p = b.grant(string(consent.PurposePersonalizeDeclared))
	want(t, p, http.StatusOK, "Saved. Your choices take effect at once.", `data-state="personalize.declared">On`)
	p = b.get("/")
	want(t, p, http.StatusOK, "Your stated preferences not used: not in the first 2 minutes of your visit (except to leave items out).",
		`data-tier="recognized"`)
	wantNot(t, p, marathon)

	// Past the warm-up: declared preferences are used and explained.
	f.clock.Advance(3 * time.Minute)
	p = b.get("/")
	want(t, p, http.StatusOK, "Picked for you", `data-tier="recognized"`, marathon,
		`<span id="used">the preferences you told us</span>`,
		`<span id="purposes">Recommendations from the goals and sizes you tell us</span>`,
		"Your purchase history not used: you have not given consent.")
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
	want(t, p, http.StatusOK, "Your purchase history not used: you have not given consent.")
	b.grant(string(consent.PurposePersonalizeHistory))
	p = b.get("/")
	want(t, p, http.StatusOK, `data-tier="established"`, "what you bought", "Recommendations from what you bought")
	if slices.Contains(p.recommended(), bought) {
		if it, _ := f.srv.shop.World.Catalog.Lookup(bought); !it.Replenishable {
			t.Errorf("%s was bought and is not replenishable, yet recommended again", bought)
		}
	}

	// Withdraw both, in one form: non-personal at once.
	p = b.post("/privacy/", url.Values{"shown": {"personalize.declared", "personalize.history"}})
	want(t, p, http.StatusOK, "Saved. Your choices take effect at once.",
		`data-state="personalize.declared">Off`, `data-state="personalize.history">Off`, "you withdrew your consent")
	p = b.get("/")
	want(t, p, http.StatusOK, "Popular right now", `data-tier="anonymous"`, "Popular with shoppers",
		"Your stated preferences not used: you withdrew your consent.", `<span id="used">nothing about you</span>`)
	wantNot(t, p, marathon)
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
		{"budget not a number", url.Values{"budget": {"abc"}}, `Budget “abc” is not a number`},
		{"budget NaN", url.Values{"budget": {"NaN"}}, `Budget “NaN” is not a number`},
		{"budget infinite", url.Values{"budget": {"Inf"}}, `is not a number`},
		{"budget negative", url.Values{"budget": {"-5"}}, "Budget must be between 0 and 100000"},
		{"budget huge", url.Values{"budget": {"1e9"}}, "Budget must be between 0 and 100000"},
		{"budget twice", url.Values{"budget": {"10", "20"}}, `The field “budget” was sent 2 times`},
		{"unknown interest", url.Values{"interest": {"astrology"}}, `“astrology” is not one of the interests on offer`},
		{"unknown size", url.Values{"size-shoe": {"99"}}, `Shoe size “99” does not exist; choose 40, 41, 42, 43 and 44`},
		{"unknown tag", url.Values{"avoid": {"running, unicorns"}}, `No item is tagged “unicorns”`},
		{"too many tags", url.Values{"avoid": {"baby,books,camping,children,coffee,cooking,cycling,energy,garden,health,hiking"}}, "At most 10 tags to avoid"},
		{"field too long", url.Values{"avoid": {strings.Repeat("a", 600)}}, "longer than 500 characters"},
		{"markup in a field", url.Values{"avoid": {"<script>alert(1)</script>"}}, "No item is tagged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.post("/preferences", tc.form)
			want(t, p, http.StatusBadRequest, "Nothing was saved", "Your saved preferences are unchanged", tc.reason,
				"What we hold now: interests: Training for a marathon and Coffee")
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
	// A decimal comma is a decimal point.
	want(t, b.post("/preferences", url.Values{"budget": {"79,90"}}), http.StatusOK, "budget: €79.90")
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

// The preference centre is one form for every purpose: a save records
// what changed, all at once, and "Turn everything off" withdraws every
// consent and objects to every legitimate interest.
func TestOneFormForEveryPurpose(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b := f.browser()
	p := b.get("/preferences")
	if n := strings.Count(p.body, `action="/privacy/"`); n != 1 {
		t.Errorf("%d forms post consent choices; want one", n)
	}
	for _, spec := range f.srv.shop.Policy.Purposes {
		box := `id="on-` + string(spec.Purpose) + `"`
		switch {
		case spec.Purpose == consent.PurposePersonalize || spec.Purpose == consent.PurposeMarketing ||
			spec.Purpose == consent.PurposeAdvertising || spec.Purpose == consent.PurposeAnalytics:
			wantNot(t, p, box) // headings of their sub-purposes
		case spec.Basis.NeedsConsent() || spec.Basis == consent.BasisLegitimateInterest:
			want(t, p, http.StatusOK, box, `name="shown" value="`+string(spec.Purpose)+`"`)
		default:
			wantNot(t, p, box)
		}
	}
	want(t, p, http.StatusOK, `<button type="submit" id="save-choices">Save my choices</button>`,
		`<button type="submit" name="all" value="off" class="secondary" id="all-off">Turn everything off</button>`)

	// The form as the page sends it: every switch shown, three ticked.
	form := url.Values{}
	for _, s := range []string{"personalize.context", "personalize.declared", "personalize.feedback", "personalize.history",
		"analytics.aggregate", "marketing.email", "advertising.targeted"} {
		form.Add("shown", s)
	}
	form["on"] = []string{"personalize.context", "personalize.declared", "personalize.history", "analytics.aggregate", "marketing.email"}
	p = b.post("/privacy/", form)
	want(t, p, http.StatusOK, "Saved. Your choices take effect at once.", `data-state="personalize.declared">On`,
		`data-state="personalize.history">On`, `data-state="marketing.email">On`, `data-state="personalize.feedback">Off`)
	id := b.cookie()
	a, err := f.srv.shop.Gate.Access(ctx, id, f.clock.Now())
	if err != nil || len(a.Records) != 3 {
		t.Fatalf("one save recorded %d events, want 3 (the unchanged are not recorded): %v", len(a.Records), err)
	}
	// Saving the same form again changes nothing.
	b.post("/privacy/", form)
	if a, _ = f.srv.shop.Gate.Access(ctx, id, f.clock.Now()); len(a.Records) != 3 {
		t.Errorf("saving an unchanged form recorded %d events", len(a.Records)-3)
	}

	p = b.post("/privacy/", url.Values{"shown": form["shown"], "on": form["on"], "all": {"off"}})
	want(t, p, http.StatusOK, "Everything you can turn off is off, as of now.")
	for _, spec := range f.srv.shop.Policy.Purposes {
		d, err := f.srv.shop.Gate.Decide(ctx, id, spec.Purpose, f.clock.Now(), consent.Signals{})
		if err != nil {
			t.Fatal(err)
		}
		if fixed := !spec.Basis.NeedsConsent() && spec.Basis != consent.BasisLegitimateInterest; d.Allowed != fixed {
			t.Errorf("after everything off, %s allowed = %v (%s)", spec.Purpose, d.Allowed, d.Reason)
		}
	}
	// An objection keeps its switch, to lift it; contract and law are not choices.
	p = b.get("/preferences")
	wantNot(t, p, `id="on-service.checkout"`)
	want(t, p, http.StatusOK, `id="on-personalize.context"`, `data-state="personalize.context">Off`, "you objected to this use")
}

// The preference centre refuses what a person cannot ask for, saying why,
// and records nothing.
func TestChoicesRejectBadInput(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	b.grant(string(consent.PurposePersonalizeDeclared))
	id := b.cookie()
	other := f.browser()
	other.grant(string(consent.PurposePersonalizeFeedback))
	ctx := context.Background()
	records := func(id string) int {
		a, err := f.srv.shop.Gate.Access(ctx, id, f.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return len(a.Records)
	}
	before, otherBefore := records(id), records(other.cookie())
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		reason string
	}{
		{"the old one-purpose form", url.Values{"purpose": {"personalize.history"}, "action": {"grant"}}, 400, "The form could not be read."},
		{"a subject in the form", url.Values{"subject": {other.cookie()}, "shown": {"personalize.feedback"}}, 400, "The form could not be read."},
		{"unknown purpose", url.Values{"shown": {"personalize.mood"}, "on": {"personalize.mood"}}, 400, "The form names a purpose the shop's policy does not have."},
		{"malformed purpose", url.Values{"shown": {"../../etc"}}, 400, "The form names a purpose the shop's policy does not have."},
		{"contract purpose off", url.Values{"shown": {"service.checkout"}}, 409, "“Taking payment and delivering your order” is not yours to turn on or off here"},
		{"all maybe", url.Values{"all": {"maybe"}}, 400, "The form could not be read."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want(t, b.post("/privacy/", tc.form), tc.status, tc.reason, "Nothing was changed.", `role="alert"`)
		})
	}
	if n := records(id); n != before {
		t.Errorf("rejected forms recorded %d consent events", n-before)
	}
	if n := records(other.cookie()); n != otherBefore {
		t.Errorf("another visitor's records changed: %d, want %d", n, otherBefore)
	}
	// The visitor's consent is intact.
	want(t, b.get("/preferences"), http.StatusOK, `data-state="personalize.declared">On`)
	// A refused form from a browser without an id leaves no visitor behind.
	n := f.srv.visitorCount()
	nb := f.browser()
	want(t, nb.post("/privacy/", url.Values{"shown": {"personalize.mood"}}), http.StatusBadRequest)
	if nb.cookie() != "" || f.srv.visitorCount() != n {
		t.Errorf("a refused form left a visitor id %q (%d visitors, want %d)", nb.cookie(), f.srv.visitorCount(), n)
	}
}

func TestObjectingToALegitimateInterest(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	p := b.withdraw(string(consent.PurposePersonalizeContext))
	want(t, p, http.StatusOK, "Saved. Your choices take effect at once.", `data-state="personalize.context">Off`, "you objected to this use",
		"You objected: tick to lift your objection.")
	f.clock.Advance(3 * time.Minute)
	p = b.get("/?category=running-shoes")
	want(t, p, http.StatusOK, "What you're viewing not used: you objected to this use.")
	wantNot(t, p, "which you're browsing")

	// Lifting the objection is the same tick.
	p = b.grant(string(consent.PurposePersonalizeContext))
	want(t, p, http.StatusOK, `data-state="personalize.context">On`)
	p = b.get("/?category=running-shoes")
	wantNot(t, p, "What you're viewing not used")
}

func TestLimitsAndCrossSiteRequests(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	big := url.Values{"avoid": {strings.Repeat("x", maxBody)}}.Encode()
	for _, path := range []string{"/preferences", "/privacy/", "/items/item-000001/feedback"} {
		p := b.do(http.MethodPost, path, strings.NewReader(big), nil)
		want(t, p, http.StatusRequestEntityTooLarge, "The form was larger than 16 KiB. Nothing was changed.")
	}
	p := b.do(http.MethodPost, "/preferences", strings.NewReader("interest=%zz"), nil)
	want(t, p, http.StatusBadRequest, "The form could not be read")
	p = b.do(http.MethodPost, "/privacy/", strings.NewReader("shown=%zz"), nil)
	want(t, p, http.StatusBadRequest, "The form could not be read")
	p = b.do(http.MethodPost, "/privacy/", strings.NewReader("<xml/>"), http.Header{"Content-Type": {"application/xml"}})
	want(t, p, http.StatusUnsupportedMediaType, "The request was neither a form nor JSON.")

	form := url.Values{"shown": {"personalize.history"}, "on": {"personalize.history"}}.Encode()
	for _, path := range []string{"/privacy/", "/items/item-000001/buy", "/preferences"} {
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
			t.Run(path+" "+tc.name, func(t *testing.T) {
				n := f.srv.visitorCount()
				p := f.browser().do(http.MethodPost, path, strings.NewReader(form), tc.header)
				if p.status != tc.status {
					t.Errorf("status %d, want %d: %s", p.status, tc.status, excerpt(p.body))
				}
				if tc.status == 403 {
					if !p.has("The storefront only accepts forms sent from its own pages.") {
						t.Errorf("no clear message: %s", excerpt(p.body))
					}
					if f.srv.visitorCount() != n || p.header.Get("Set-Cookie") != "" {
						t.Error("a refused cross-site request issued a visitor id")
					}
				}
			})
		}
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
	// work and tell the browser to forget the cookie, and the next action
	// mints a fresh id.
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
			r := req("GET", path, "")
			if r.StatusCode != http.StatusOK {
				t.Errorf("cookie %.20q: GET %s: %d", v, path, r.StatusCode)
			}
			if c := r.Header.Get("Set-Cookie"); !strings.Contains(c, "Max-Age=0") {
				t.Errorf("cookie %.20q: GET %s does not delete the cookie: %q", v, path, c)
			}
		}
		if r := req("GET", "/privacy/export", ""); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("cookie %.20q: export %d, want 401", v, r.StatusCode)
		}
		r := req("POST", "/privacy/", "shown=personalize.feedback&on=personalize.feedback")
		if r.StatusCode != http.StatusSeeOther {
			t.Errorf("cookie %.20q: POST: %d", v, r.StatusCode)
		}
		var minted string
		for _, c := range r.Cookies() {
			if c.Name == cookieName && c.MaxAge > 0 {
				minted = c.Value
			}
		}
		if !validID(minted) || minted == v {
			t.Errorf("cookie %.20q: minted %q; want a fresh id", v, minted)
		}
		if d, _ := f.srv.shop.Gate.Decide(context.Background(), minted, consent.PurposePersonalizeFeedback, f.clock.Now(), consent.Signals{}); !d.Allowed {
			t.Errorf("cookie %.20q: the choice was not recorded under the minted id", v)
		}
	}
}

// A shopper whose browser sends Global Privacy Control is told so, is
// opted out of what it covers, and can still turn such a purpose on for
// this site: the preference centre asks them to confirm, with the
// catalog's disclosure, and once they did, the purpose stays on with the
// signal.
func TestGlobalPrivacyControl(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b := f.browser()
	b.header.Set("Sec-GPC", "1")
	p := b.get("/")
	want(t, p, http.StatusOK, "Global Privacy Control is on.")
	p = b.get("/preferences")
	want(t, p, http.StatusOK, "Global Privacy Control is on.", `data-state="advertising.targeted">Off`,
		"Your browser's Global Privacy Control signal keeps this off. Tick it to turn it on for this site anyway")

	// Turning it on, from the page's one form: the question, nothing recorded.
	form := url.Values{"shown": {"personalize.declared", "advertising.targeted"}, "on": {"personalize.declared", "advertising.targeted"}}
	p = b.post("/privacy/", form)
	want(t, p, http.StatusConflict, `id="confirm-gpc"`,
		"Your browser sends Global Privacy Control, which asks us not to sell or share your data. “Ads elsewhere based on what you did here” does that. Turn it on anyway, for this site only?",
		`<input type="hidden" name="confirm_gpc" value="advertising.targeted">`,
		`<input type="hidden" name="on" value="personalize.declared">`,
		`<button type="submit" id="confirm">Yes, turn it on for this site</button>`, `data-state="advertising.targeted">Off`)
	id := b.cookie()
	if !validID(id) {
		t.Fatal("the question lost the visitor id minted for the form")
	}
	if d, _ := f.srv.shop.Gate.Decide(ctx, id, consent.PurposePersonalizeDeclared, f.clock.Now(), consent.Signals{}); d.Allowed {
		t.Error("a form refused for a GPC conflict recorded its other choices")
	}
	// "No, keep it off" posts the other choices without the purpose.
	keep, _, _ := strings.Cut(p.body, `id="keep-off"`)
	keep = keep[strings.LastIndex(keep, "<form"):]
	if !strings.Contains(keep, `name="on" value="personalize.declared"`) || strings.Contains(keep, `name="on" value="advertising.targeted"`) {
		t.Fatalf("the keep-off form: %q", keep)
	}
	p = b.post("/privacy/", url.Values{"shown": form["shown"], "on": {"personalize.declared"}})
	want(t, p, http.StatusOK, `data-state="personalize.declared">On`, `data-state="advertising.targeted">Off`)
	wantNot(t, p, `id="confirm-gpc"`)

	// Confirmed: on, and on it stays with the signal.
	form.Set("confirm_gpc", "advertising.targeted")
	p = b.post("/privacy/", form)
	want(t, p, http.StatusOK, "Saved. Your choices take effect at once.", `data-state="advertising.targeted">On`,
		`data-state="personalize.declared">On`, "You turned this on for this site after we told you")
	for range 3 {
		f.clock.Advance(time.Hour)
		b.get("/")
		want(t, b.get("/preferences"), http.StatusOK, `data-state="advertising.targeted">On`)
	}
	d, err := f.srv.shop.Gate.Decide(ctx, id, consent.PurposeAdvertisingTargeted, f.clock.Now(), consent.Signals{GPC: true})
	if err != nil || !d.Allowed || !d.Record.OverridesGPC {
		t.Errorf("with GPC after confirming: allowed %v, overrides %v, %v", d.Allowed, d.Record.OverridesGPC, err)
	}

	// "No, keep it off" is a link back; a visitor who never opens the
	// preference centre has the signal recorded on the first request with
	// an id, as the banner says.
	nb := f.browser()
	nb.header.Set("Sec-GPC", "1")
	nb.post("/items/item-000002/buy", nil)
	want(t, nb.get("/"), http.StatusOK, "It is recorded with your consent choices.")
	a, err := f.srv.shop.Gate.Access(ctx, nb.cookie(), f.clock.Now())
	if err != nil || len(a.Records) == 0 || a.Records[0].Source != consent.SourceGPC {
		t.Errorf("GPC of a visitor who only bought: records %v, %v", a.Records, err)
	}
	// The signal's later absence is not an opt-in.
	nb.header.Del("Sec-GPC")
	p = nb.get("/preferences")
	wantNot(t, p, "Global Privacy Control is on.")
	want(t, p, http.StatusOK, `data-state="advertising.targeted">Off`, "your browser sent a Global Privacy Control signal")

	// /.well-known/gpc.json says the site honours the signal.
	r := b.get("/.well-known/gpc.json")
	if r.status != http.StatusOK || strings.TrimSpace(r.body) != `{"gpc":true,"lastUpdate":"2026-01-15"}` ||
		!strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Errorf("gpc.json: %d %q %q", r.status, r.header.Get("Content-Type"), r.body)
	}
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
	want(t, anon.get("/privacy/export"), http.StatusUnauthorized, "This browser has no visitor id, so we hold nothing about it.")
	want(t, anon.post("/privacy/erase", url.Values{"confirm": {"erase"}}), http.StatusUnauthorized, "so we hold nothing about it")

	b := f.browser()
	b.post("/preferences", url.Values{"interest": {"marathon"}, "budget": {"80"}, "avoid": {"coffee"}, "size-shoe": {"42"}})
	b.post("/privacy/", url.Values{"shown": {"personalize.declared", "personalize.feedback"}, "on": {"personalize.declared", "personalize.feedback"}})
	b.post("/items/item-000012/buy", nil)
	b.post("/items/item-000013/feedback", url.Values{"kind": {"liked"}})
	id := b.cookie()
	bought, _ := f.srv.shop.World.Catalog.Lookup("item-000012")

	p := b.get("/data")
	want(t, p, http.StatusOK, "<code id=\"visitor-id\">"+id+"</code>", "Your privacy choices with", "On\n• Recommendations from the goals and sizes you tell us\n",
		"Interests: Training for a marathon", "Sizes: Shoe size 42", "Budget: €80.00", "Tags to avoid: coffee",
		bought.Title, "liked: ", "2 consent records about you", "Download everything as JSON", `name="confirm" value="erase" required`)

	e := b.get("/privacy/export")
	if e.status != http.StatusOK || !strings.HasPrefix(e.header.Get("Content-Type"), "application/json") ||
		!strings.Contains(e.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %q %q", e.status, e.header.Get("Content-Type"), e.header.Get("Content-Disposition"))
	}
	var ex struct {
		Consent struct {
			Subject   string            `json:"subject"`
			Records   []json.RawMessage `json:"records"`
			Decisions []struct {
				Purpose string `json:"purpose"`
				Allowed bool   `json:"allowed"`
			} `json:"decisions"`
		} `json:"consent"`
		Data struct {
			Visitor struct {
				ID     string `json:"id"`
				Orders int    `json:"orders"`
			} `json:"visitor"`
			Receipt     map[string]any `json:"receipt"`
			Preferences struct {
				Interests []string `json:"interests"`
				MaxPrice  float64  `json:"max_price"`
				Avoid     []string `json:"avoid_tags"`
			} `json:"declared_preferences"`
			Feedback []struct{ Item, Kind string }  `json:"feedback"`
			Orders   []struct{ Item, Title string } `json:"orders"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(e.body), &ex); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, e.body)
	}
	d := ex.Data
	switch {
	case ex.Consent.Subject != id || d.Visitor.ID != id || d.Visitor.Orders != 1:
		t.Errorf("subject %q, visitor %+v", ex.Consent.Subject, d.Visitor)
	case len(ex.Consent.Records) != 2:
		t.Errorf("%d consent records, want 2", len(ex.Consent.Records))
	case len(d.Receipt) == 0:
		t.Error("no receipt")
	case !slices.Equal(d.Preferences.Interests, []string{"you're training for a marathon"}) || d.Preferences.MaxPrice != 80 ||
		!slices.Equal(d.Preferences.Avoid, []string{"coffee"}):
		t.Errorf("preferences %+v", d.Preferences)
	case len(d.Feedback) != 1 || d.Feedback[0].Item != "item-000013" || d.Feedback[0].Kind != "liked":
		t.Errorf("feedback %+v", d.Feedback)
	case len(d.Orders) != 1 || d.Orders[0].Item != "item-000012" || d.Orders[0].Title != bought.Title:
		t.Errorf("orders %+v", d.Orders)
	}
	allowed := map[string]bool{}
	for _, d := range ex.Consent.Decisions {
		allowed[d.Purpose] = d.Allowed
	}
	if !allowed["personalize.declared"] || allowed["personalize.history"] {
		t.Errorf("decisions %v", allowed)
	}
	r := b.get("/privacy/receipt")
	want(t, r, http.StatusOK, "Your privacy choices with Acme Outfitters", "• Recommendations from the goals and sizes you tell us")

	// Erasing needs the confirmation; without it nothing goes.
	for _, form := range []url.Values{{}, {"confirm": {"no"}}, {"confirm": {"yes"}}, {"confirm": {"erase", "erase"}}} {
		p = b.post("/privacy/erase", form)
		want(t, p, http.StatusBadRequest, "Tick the box to confirm that you want everything erased. Nothing was erased.", bought.Title)
	}
	if prof, _ := f.srv.shop.Profiles.Export(ctx, id); len(prof.History) != 1 {
		t.Fatal("an unconfirmed erasure erased the history")
	}

	p = b.do(http.MethodPost, "/privacy/erase", strings.NewReader("confirm=erase"), nil)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/data?done=erased" {
		t.Fatalf("erase: %d to %q", p.status, p.header.Get("Location"))
	}
	if c := p.header.Get("Set-Cookie"); !strings.Contains(c, "Max-Age=0") {
		t.Errorf("the cookie is not deleted: %q", c)
	}
	want(t, b.get("/data?done=erased"), http.StatusOK, "Your data is erased", "tombstones", "We hold nothing about this browser")
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
	// The old id, replayed, is nobody.
	old := f.browser()
	u, _ := url.Parse(f.ts.URL)
	old.c.Jar.SetCookies(u, []*http.Cookie{{Name: cookieName, Value: id}})
	want(t, old.get("/privacy/export"), http.StatusUnauthorized)
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
	for _, lang := range []string{"en", "de"} {
		b.header.Set("Accept-Language", lang)
		for _, path := range []string{"/", "/?category=bikes", "/items/item-000001", "/preferences", "/data", "/nowhere"} {
			pages[lang+" "+path] = b.get(path)
		}
		pages[lang+" bad form"] = b.post("/preferences", url.Values{"budget": {"x"}})
		b.header.Set("Sec-GPC", "1")
		pages[lang+" GPC question"] = b.post("/privacy/", url.Values{"shown": {"advertising.targeted"}, "on": {"advertising.targeted"}})
		b.header.Del("Sec-GPC")
	}
	b.header.Set("Accept-Language", "en")
	pages["en erased"] = b.post("/privacy/erase", url.Values{"confirm": {"erase"}})
	for name, p := range pages {
		t.Run(name, func(t *testing.T) {
			lang, _, _ := strings.Cut(name, " ")
			if !p.has(`<html lang="`+lang+`">`) || !p.has("<title>") || p.has("<script") {
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
	if n := strings.Count(pages["en /"].body, "<summary>Why am I seeing this?</summary>"); n != len(pages["en /"].recommended()) || n == 0 {
		t.Errorf("%d disclosures for %d recommendations", n, len(pages["en /"].recommended()))
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
	want(t, p, http.StatusOK, `data-tier="recognized"`, marathon,
		"Your purchase history not used: used only once you're an established customer.",
		"Once you have 2 orders and 3 visits over at least 30 days")
}
