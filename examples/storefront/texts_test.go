package main

import (
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
)

// Every text of the storefront is in English and in German, and each is a
// well-formed template (newTexts would fail otherwise).
func TestTextsComplete(t *testing.T) {
	if _, err := newTexts(); err != nil {
		t.Fatal(err)
	}
	en, de := slices.Sorted(maps.Keys(shopTexts["en"])), slices.Sorted(maps.Keys(shopTexts["de"]))
	for _, k := range en {
		if _, ok := shopTexts["de"][k]; !ok {
			t.Errorf("%s has no German text", k)
		}
	}
	for _, k := range de {
		if _, ok := shopTexts["en"][k]; !ok {
			t.Errorf("%s is German only", k)
		}
	}
	if len(shopTexts) != 2 {
		t.Errorf("languages %v; the tests check English and German", slices.Sorted(maps.Keys(shopTexts)))
	}
}

// A page in German (the best match for the browser's Accept-Language)
// shows the shop's words, the policy's purposes, the reasons of decisions
// and the receipt in German: no English policy text, and no key whose text
// is missing. The reasons of recommendations and the notes on what was
// not used are German too, with the shop's labels.
func TestGermanPages(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	b.header.Set("Accept-Language", "de-CH, de;q=0.9, en;q=0.5")
	b.post("/preferences", url.Values{"interest": {"marathon"}, "size-shoe": {"42"}})
	b.grant(string(consent.PurposePersonalizeDeclared))
	b.post("/items/item-000012/buy", nil)
	bought, _ := f.srv.shop.World.Catalog.Lookup("item-000012")
	f.clock.Advance(3 * time.Minute)
	var english []string
	for _, spec := range f.srv.shop.Policy.Purposes {
		english = append(english, spec.Description, spec.Benefit)
	}
	english = append(english, f.srv.shop.Policy.Withdraw)
	for _, r := range []consent.Reason{consent.ReasonGranted, consent.ReasonNoConsent, consent.ReasonLegitimateInterest, consent.ReasonNotConsent} {
		english = append(english, r.Text())
	}
	for _, path := range []string{"/", "/?category=running-shoes", "/items/item-000000", "/preferences", "/data", "/nowhere"} {
		p := b.get(path)
		if !p.has(`<html lang="de">`) || p.header.Get("Content-Language") != "de" {
			t.Errorf("%s: not German: %q", path, p.header.Get("Content-Language"))
		}
		text := p.text()
		for _, en := range english {
			if en != "" && strings.Contains(text, en) {
				t.Errorf("%s shows English policy text %q", path, en)
			}
		}
		for _, key := range []string{textPrefix, "recommend.", "Because you", "Popular with", "not used:"} {
			if i := strings.Index(text, key); i >= 0 {
				t.Errorf("%s shows a key or English: …%s…", path, text[max(0, i-40):min(len(text), i+40)])
			}
		}
	}
	want(t, b.get("/"), http.StatusOK, "Weil Sie uns gesagt haben: Sie trainieren für einen Marathon",
		"Ihre Kaufhistorie nicht genutzt: Sie haben nicht eingewilligt.")
	viewed, _ := f.srv.shop.World.Catalog.Lookup("item-000000")
	want(t, b.get("/items/item-000000"), http.StatusOK, "Weil Sie sich "+template.HTMLEscapeString(viewed.Title)+" ansehen")
	want(t, b.get("/preferences"), http.StatusOK, "Empfehlungen aus den Zielen und Größen, die Sie uns nennen",
		"Sie haben eingewilligt", "Meine Auswahl speichern", "Alles ausschalten", "Größen: Schuhgröße 42")
	want(t, b.get("/data"), http.StatusOK, "Ihre Datenschutz-Einstellungen bei Acme Outfitters", "So ändern Sie Ihre Wahl: unter „Ihre Daten“",
		"Interessen: Training für einen Marathon", strings.Replace(strconv.FormatFloat(bought.Price, 'f', 2, 64), ".", ",", 1)+" €")
	want(t, b.get("/?category=running-shoes"), http.StatusOK, "<h1>Laufschuhe</h1>", "Aus Laufschuhe, wo Sie gerade stöbern")
	r := b.get("/privacy/receipt")
	want(t, r, http.StatusOK, "Ihre Datenschutz-Einstellungen bei Acme Outfitters", "So ändern Sie Ihre Wahl")
	// The question a GPC conflict asks, and the errors, in German too.
	b.header.Set("Sec-GPC", "1")
	want(t, b.post("/privacy/", url.Values{"shown": {"advertising.targeted"}, "on": {"advertising.targeted"}}), http.StatusConflict,
		"Ihr Browser sendet Global Privacy Control", "„Werbung anderswo, nach dem, was Sie hier getan haben“", "Ja, für diese Website einschalten")
	want(t, b.post("/privacy/", url.Values{"shown": {"personalize.mood"}}), http.StatusBadRequest, "Nichts wurde geändert.")
	// English is the default, and what a browser asking for another
	// language gets.
	for _, al := range []string{"", "fr-FR, fr;q=0.9", "en-US"} {
		b.header.Set("Accept-Language", al)
		want(t, b.get("/preferences"), http.StatusOK, `<html lang="en">`, "Recommendations from the goals and sizes you tell us")
	}
}

// Every interest the preference page offers has German words, so that a
// German reason for it ("Weil Sie uns gesagt haben: …") shows no English.
func TestInterestTextsComplete(t *testing.T) {
	f := newFixture(t)
	de := interestTexts()
	for _, o := range f.srv.cat.interests {
		if _, ok := de[o.Interest.Text]; !ok {
			t.Errorf("interest %s (%q) has no German words", o.Key, o.Interest.Text)
		}
	}
	if len(f.srv.cat.interests) < 3 {
		t.Errorf("only %d interests offered", len(f.srv.cat.interests))
	}
}
