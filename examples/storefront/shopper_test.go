package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
)

// The tests of this file check the storefront as a shopper meets it: what
// its pages say and show (issue 12).

// An item whose catalog tags repeat one ("kitchen, kitchen") shows each
// tag once.
func TestItemTagsEachOnce(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	tagged := regexp.MustCompile(`tagged ([^<]+)`)
	n := 0
	for it := range f.srv.shop.World.Catalog.All() {
		seen := map[string]bool{}
		repeats := false
		for _, tg := range it.Tags {
			repeats = repeats || seen[tg]
			seen[tg] = true
		}
		if !repeats {
			continue
		}
		n++
		p := b.get("/items/" + it.ID)
		m := tagged.FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("%s: no tags on the page", it.ID)
		}
		shown := strings.FieldsFunc(strings.ReplaceAll(m[1], " and ", ","), func(r rune) bool { return r == ',' || r == ' ' })
		slices.Sort(shown)
		want := slices.Sorted(func(yield func(string) bool) {
			for tg := range seen {
				if !yield(tg) {
					return
				}
			}
		})
		if !slices.Equal(shown, want) {
			t.Errorf("%s (tags %v): the page shows %q", it.ID, it.Tags, m[1])
		}
		if n == 10 {
			break
		}
	}
	if n == 0 {
		t.Fatal("no item of the catalog repeats a tag: the test checks nothing")
	}
}

// codeNames returns the keys a shopper must never read: the dotted
// purposes and data categories of the policy and of the sources of
// recommendations, catalog category slugs and size keys.
func codeNames(f *fixture) []string {
	var keys []string
	add := func(k string) {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	for _, spec := range f.srv.shop.Policy.Purposes {
		if strings.Contains(string(spec.Purpose), ".") {
			add(string(spec.Purpose))
		}
		for _, c := range spec.Categories {
			add(string(c))
		}
	}
	for _, c := range []consent.Category{consent.CategoryBehaviorSession, consent.CategoryBehaviorSearch, consent.CategoryPreferenceDeclared,
		consent.CategoryPreferenceFeedback, consent.CategoryBehaviorPurchaseHistory, consent.CategoryBehaviorBrowsingHistory} {
		add(string(c))
	}
	for c := range f.srv.cat.categories {
		if strings.Contains(c, "-") {
			add(c)
		}
	}
	add("shoe:")
	add("top:")
	return keys
}

// What a shopper reads names purposes, data and categories in words, never
// by their keys ("personalize.declared", "user.behavior.session",
// "coffee-beans", "shoe:42"): on every page, for a new visitor and for one
// who told the shop about themselves, consented, bought and liked.
func TestShopperTextShowsNoKeys(t *testing.T) {
	f := newFixture(t)
	keys := codeNames(f)
	known := f.browser()
	known.post("/preferences", url.Values{"interest": {"marathon"}, "size-shoe": {"42"}, "avoid": {"coffee"}})
	for _, p := range []consent.Purpose{consent.PurposePersonalizeDeclared, consent.PurposePersonalizeFeedback, consent.PurposePersonalizeHistory} {
		known.grant(string(p))
	}
	known.post("/items/item-000012/buy", nil)
	known.post("/items/item-000013/feedback", url.Values{"kind": {"liked"}})
	f.clock.Advance(3 * time.Minute)
	for who, b := range map[string]*browser{"new visitor": f.browser(), "known visitor": known} {
		for _, path := range []string{"/", "/?category=running-shoes", "/?category=coffee-beans", "/items/item-000000", "/items/item-000006",
			"/preferences", "/data"} {
			p := b.get(path)
			if p.status != http.StatusOK {
				t.Fatalf("%s %s: status %d", who, path, p.status)
			}
			text := p.text()
			for _, k := range keys {
				if i := strings.Index(text, k); i >= 0 {
					t.Errorf("%s %s shows the key %q: …%s…", who, path, k, text[max(0, i-60):min(len(text), i+len(k)+40)])
				}
			}
		}
	}
}

var tierRe = regexp.MustCompile(`id="tier"[^>]*>([^<]+)<`)

func tierOf(p page) string {
	if m := tierRe.FindStringSubmatch(p.body); m != nil {
		return m[1]
	}
	return ""
}

// The hint on how recommendations become more personal names only the
// steps a visitor has still to take: both for a new visitor, the last for
// a recognized one, none for an established one.
func TestTierHintOnlyBelowTheTop(t *testing.T) {
	const first, last = "Recommendations become personal in steps", "we use what you bought too"
	f := newFixture(t)
	b := f.browser()
	p := b.get("/")
	want(t, p, http.StatusOK, first, last)

	b.post("/preferences", url.Values{"interest": {"marathon"}})
	b.grant(string(consent.PurposePersonalizeDeclared))
	f.clock.Advance(3 * time.Minute)
	p = b.get("/")
	if tier := tierOf(p); tier != "recognized" {
		t.Fatalf("tier %q, want recognized", tier)
	}
	want(t, p, http.StatusOK, last)
	wantNot(t, p, first)

	b.post("/items/item-000001/buy", nil)
	b.grant(string(consent.PurposePersonalizeHistory))
	p = b.get("/")
	if tier := tierOf(p); tier != "established" {
		t.Fatalf("tier %q, want established", tier)
	}
	wantNot(t, p, first, last)
}

var (
	recBlock  = regexp.MustCompile(`(?s)<li class="rec" data-item="([^"]+)">.*?</details>`)
	reasonPct = regexp.MustCompile(`<strong>([^<]+)</strong> \((\d+)% of the score\)`)
)

// A first-time visitor on the page of a running shoe is offered running
// shoes first, not the most popular items of the whole shop (a swimsuit,
// espresso beans); and on any product page, the first item offered owes
// most of its place to the page in view, not to popularity.
func TestProductPageOffersRelatedItemsFirst(t *testing.T) {
	f := newFixture(t)
	cat := f.srv.shop.World.Catalog
	i := 0
	for it := range cat.All() {
		i++
		if it.Sensitive || (it.Category != "running-shoes" && i%5 != 0) {
			continue
		}
		p := f.browser().get("/items/" + it.ID)
		m := recBlock.FindStringSubmatch(p.body)
		if m == nil {
			t.Errorf("%s: nothing recommended", it.ID)
			continue
		}
		top, _ := cat.Lookup(m[1])
		if it.Category == "running-shoes" && top.Category != "running-shoes" {
			t.Errorf("%s (%s): first offered %s (%s)", it.ID, it.Title, top.ID, top.Title)
		}
		for _, r := range reasonPct.FindAllStringSubmatch(m[0], -1) {
			if pct, _ := strconv.Atoi(r[2]); r[1] == "Popular with shoppers" && pct >= 50 {
				t.Errorf("%s (%s): first offered %s (%s), %d%% for its popularity", it.ID, it.Title, top.ID, top.Title, pct)
			}
		}
	}
	p := f.browser().get("/?category=running-shoes")
	if m := recBlock.FindStringSubmatch(p.body); m == nil {
		t.Error("running shoes: nothing recommended")
	} else if top, _ := cat.Lookup(m[1]); top.Category != "running-shoes" {
		t.Errorf("running shoes: first offered %s (%s)", top.ID, top.Title)
	}
}

// A browser the shop holds nothing about leaves nothing in the consent
// ledger, whatever it views, even when it sends Global Privacy Control
// (which the Gate records for someone it knows).
func TestGuestsLeaveNoConsentRecords(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	before, err := f.srv.shop.Gate.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, gpc := range []bool{false, true} {
		b := f.browser()
		if gpc {
			b.header.Set("Sec-GPC", "1")
		}
		for _, path := range []string{"/", "/?category=bikes", "/items/item-000001", "/preferences", "/data"} {
			want(t, b.get(path), http.StatusOK)
		}
	}
	after, err := f.srv.shop.Gate.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Seq != before.Seq {
		t.Errorf("page views of browsers without a visitor id appended %d consent records", after.Seq-before.Seq)
	}
}
