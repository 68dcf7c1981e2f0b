package main

import (
	"strconv"
	"strings"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/examples/internal/demo"
	"github.com/tact-go/tact/recommend"
)

// The storefront's texts live in one consent.Catalog with the texts of
// the consent package and of the shop's policy (demo.Catalog): the
// storefront's own under "sf." keys, in English and German. The language
// of a request is the catalog's best match for its Accept-Language
// header, English by default. The sentences of recommendation reasons and
// of what they did not use are the recommend package's texts
// (recommend.Messages) in the same catalog, with the shop's labels of its
// catalog categories and of the interests it offers.

// textPrefix prefixes the storefront's own keys in the catalog.
const textPrefix = "sf."

// newTexts returns the catalog of every text the storefront shows.
func newTexts() (*consent.Catalog, error) {
	c, err := demo.Catalog()
	if err != nil {
		return nil, err
	}
	for lang, msgs := range shopTexts {
		for k, t := range msgs {
			if err := c.Set(lang, textPrefix+k, t); err != nil {
				return nil, err
			}
			// The shop's category labels name them in reasons too.
			if slug, ok := strings.CutPrefix(k, "category."); ok {
				if err := c.Set(lang, "recommend.category."+slug, t); err != nil {
					return nil, err
				}
			}
		}
	}
	for text, de := range interestTexts() {
		if err := c.Set("de", "recommend.interest."+text, de); err != nil {
			return nil, err
		}
	}
	if err := recommend.Messages(c); err != nil {
		return nil, err
	}
	return c, nil
}

// interestTexts are the German words of the interests the preference page
// offers (catalogInfo.interests), by their English Text, for the reason
// "Weil Sie uns gesagt haben: {interest}" (TestInterestTextsComplete).
func interestTexts() map[string]string {
	m := map[string]string{
		"you're training for a marathon": "Sie trainieren für einen Marathon",
		"you like the trails":            "Sie mögen Trails",
	}
	for k, label := range shopTexts["de"] {
		if name, ok := strings.CutPrefix(k, "department."); ok {
			m["you're into "+name] = "Sie interessieren sich für " + label
		}
	}
	return m
}

// tr is the language of one request and the catalog its texts come from.
// Pages call its methods from their templates.
type tr struct {
	Lang string
	cat  *consent.Catalog
}

// T returns the storefront's text of key, with its parameters (name, value
// pairs) filled in.
func (t tr) T(key string, params ...string) string {
	return t.cat.Text(t.Lang, textPrefix+key, params...)
}

// Text returns a text of the consent package's catalog ("centre.save").
func (t tr) Text(key string, params ...string) string { return t.cat.Text(t.Lang, key, params...) }

// List joins words as a list ("a, b and c").
func (t tr) List(words []string) string { return t.cat.List(t.Lang, words) }

// Count returns "{n} thing" or "{n} things": the text of key.one or
// key.other.
func (t tr) Count(n int, key string) string {
	if n == 1 {
		return t.T(key+".one", "n", "1")
	}
	return t.T(key+".other", "n", itoa(n))
}

// Span returns a duration in words ("30 days", "2 minutes").
func (t tr) Span(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return t.Count(int(d/(24*time.Hour)), "day")
	case d >= time.Minute && d%time.Minute == 0:
		return t.Count(int(d/time.Minute), "minute")
	case d >= time.Second && d%time.Second == 0:
		return t.Count(int(d/time.Second), "second")
	}
	return d.String()
}

// Price returns a price in euros ("€79.90", "79,90 €").
func (t tr) Price(p float64) string {
	amount := strconv.FormatFloat(p, 'f', 2, 64)
	return t.T("price", "amount", strings.Replace(amount, ".", t.T("decimal"), 1))
}

// Date returns the UTC date of tm in words.
func (t tr) Date(tm time.Time) string { return t.cat.Date(t.Lang, tm) }

// DateTime returns the UTC date and time of tm in words.
func (t tr) DateTime(tm time.Time) string {
	return t.T("datetime", "date", t.Date(tm), "time", tm.UTC().Format("15:04"))
}

// Category returns the label of a catalog category ("coffee-beans").
func (t tr) Category(key string) string { return t.label("category.", key) }

// Department returns the label of a department ("coffee").
func (t tr) Department(name string) string { return t.label("department.", name) }

func (t tr) label(kind, key string) string {
	if key == "" {
		return ""
	}
	if t.cat.Has("en", textPrefix+kind+key) {
		return t.T(kind + key)
	}
	return capitalize(key)
}

// Sizes returns an item's sizes ("shoe:41", "shoe:42") in words, by
// dimension: "shoe size 41, 42".
func (t tr) Sizes(sizes []string) string {
	var dims []string
	vals := map[string][]string{}
	for _, s := range sizes {
		dim, v, _ := strings.Cut(s, ":")
		if vals[dim] == nil {
			dims = append(dims, dim)
		}
		vals[dim] = append(vals[dim], v)
	}
	var parts []string
	for _, d := range dims {
		parts = append(parts, t.T("size.values", "size", t.T("size."+d), "values", strings.Join(vals[d], ", ")))
	}
	return strings.Join(parts, "; ")
}

// SizeValues returns declared sizes ("shoe:42") in words ("shoe size 42").
func (t tr) SizeValues(sizes []string) []string {
	out := make([]string, 0, len(sizes))
	for _, s := range sizes {
		dim, v, _ := strings.Cut(s, ":")
		out = append(out, t.T("size.values", "size", t.T("size."+dim), "values", v))
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

// shopTexts are the storefront's own texts; every English key has a German
// text (TestTextsComplete).
var shopTexts = map[string]map[string]string{
	"en": {
		"layout.skip":     "Skip to content",
		"layout.tagline":  "a tact demo shop",
		"layout.nav":      "Main",
		"layout.footer":   "A demo of tact, privacy-first personalization for Go. No scripts, no trackers: one cookie holds a random visitor id, set only when you save a choice, buy or give feedback.",
		"nav.shop":        "Shop",
		"nav.preferences": "Preferences",
		"nav.data":        "Your data",
		"gpc.title":       "Global Privacy Control is on.",
		"gpc.body":        "Your browser sends it, and we honour it: we do not sell or share your data, nor use it for ads elsewhere, unless you turn that on for this site yourself after we ask you to confirm.",
		"gpc.recorded":    "It is recorded with your consent choices.",
		"error.back":      "Back to the shop",

		"price":    "€{amount}",
		"decimal":  ".",
		"datetime": "{date}, {time} UTC",
		"quote":    "“{s}”",

		"order.one":    "{n} order",
		"order.other":  "{n} orders",
		"visit.one":    "{n} visit",
		"visit.other":  "{n} visits",
		"day.one":      "{n} day",
		"day.other":    "{n} days",
		"minute.one":   "{n} minute",
		"minute.other": "{n} minutes",
		"second.one":   "{n} second",
		"second.other": "{n} seconds",

		"tier.anonymous":        "anonymous",
		"tier.anonymous.text":   "Nothing personal: only what is popular across the shop (counted with differential privacy) and the page you are on.",
		"tier.recognized":       "recognized",
		"tier.recognized.text":  "You told us about yourself and allowed us to use it: your stated preferences and feedback shape these.",
		"tier.established":      "established",
		"tier.established.text": "You are a customer and allowed purchase history: what you bought shapes these too.",
		"tiers.recognized":      "Recommendations become personal in steps. Once you tell us about yourself and allow us to use it (Preferences), we use what you told us.",
		"tiers.established":     "Once you have {orders} and {visits} over at least {span}, and allow purchase history, we use what you bought too.",

		"recs.how":          "How we chose these",
		"recs.tier":         "Tier:",
		"recs.warmup":       "You are in the first {span} of your visit: we hold back anything personal and any promotion until then.",
		"recs.used":         "Data used:",
		"recs.used.nothing": "nothing about you",
		"recs.purposes":     "Purposes relied on:",
		"recs.withheld":     "Not used, and why ({n})",
		"recs.heldback":     "Held back ({n})",
		"recs.why":          "Why am I seeing this?",
		"recs.share":        "{n}% of the score",
		"recs.data":         "Data used:",
		"recs.data.none":    "nothing about you: counts across all shoppers, made differentially private",
		"recs.purpose":      "Purpose relied on:",
		"recs.purpose.none": "none needed: nothing personal was used",
		"recs.nothing":      "Nothing we are confident enough to suggest right now: we would rather show nothing than guess.",

		"held.warmup.one":           "{n} promotional item held back during the warm-up of your visit",
		"held.warmup.other":         "{n} promotional items held back during the warm-up of your visit",
		"held.sensitive.one":        "{n} sensitive item (health, baby) not suggested, as you have not told us you want it",
		"held.sensitive.other":      "{n} sensitive items (health, baby) not suggested, as you have not told us you want them",
		"held.bought.one":           "{n} item you already bought",
		"held.bought.other":         "{n} items you already bought",
		"held.not_interested.one":   "{n} item you said you are not interested in",
		"held.not_interested.other": "{n} items you said you are not interested in",
		"held.declared.one":         "{n} item outside your budget, sizes or avoided tags",
		"held.declared.other":       "{n} items outside your budget, sizes or avoided tags",
		"held.cap.one":              "{n} item shown to you too often already",
		"held.cap.other":            "{n} items shown to you too often already",
		"held.floor.one":            "{n} weak guess (we show fewer items rather than guess)",
		"held.floor.other":          "{n} weak guesses (we show fewer items rather than guess)",

		"home.title":         "{controller}: shop",
		"home.welcome":       "Welcome to {controller}",
		"home.popular":       "Popular right now",
		"home.picked":        "Picked for you",
		"home.trending":      "Trending across the shop",
		"home.trending.hint": "Counted across all shoppers with differential privacy: the list does not depend on any one shopper's orders.",
		"home.all":           "All of {category}",
		"home.departments":   "Departments",

		"item.in":                  "in",
		"item.tags":                "tagged {tags}",
		"item.sizes":               "Sizes: {sizes}.",
		"item.buy":                 "Buy",
		"item.buy.demo":            "(a demo: nothing is charged)",
		"item.feedback":            "Tell us what you think",
		"item.liked":               "More like this",
		"item.not_interested":      "Not interested",
		"item.feedback.off":        "We keep likes and “not interested” only if you turn on “{purpose}” in",
		"item.now":                 "now: {why}",
		"item.also":                "You might also like",
		"size.shoe":                "Shoe size",
		"size.top":                 "Top size",
		"size.values":              "{size} {values}",
		"interest.marathon":        "Training for a marathon",
		"interest.trail":           "Running or hiking on trails",
		"department.running":       "Running",
		"department.hiking":        "Hiking",
		"department.yoga":          "Yoga",
		"department.cycling":       "Cycling",
		"department.swimming":      "Swimming",
		"department.kitchen":       "Kitchen",
		"department.coffee":        "Coffee",
		"department.books":         "Books",
		"department.garden":        "Garden",
		"department.nutrition":     "Nutrition",
		"department.pharmacy":      "Pharmacy",
		"department.baby":          "Baby",
		"category.running-shoes":   "Running shoes",
		"category.running-apparel": "Running apparel",
		"category.hiking-boots":    "Hiking boots",
		"category.backpacks":       "Backpacks",
		"category.yoga-mats":       "Yoga mats",
		"category.yoga-apparel":    "Yoga apparel",
		"category.bikes":           "Bikes",
		"category.cycling-gear":    "Cycling gear",
		"category.swimwear":        "Swimwear",
		"category.swim-gear":       "Swim gear",
		"category.cookware":        "Cookware",
		"category.utensils":        "Utensils",
		"category.coffee-beans":    "Coffee beans",
		"category.brewing":         "Brewing",
		"category.fiction":         "Fiction",
		"category.non-fiction":     "Non-fiction",
		"category.plants":          "Plants",
		"category.tools":           "Garden tools",
		"category.energy-gels":     "Energy gels",
		"category.protein":         "Protein",
		"category.supplements":     "Supplements",
		"category.first-aid":       "First aid",
		"category.nursery":         "Nursery",
		"category.baby-care":       "Baby care",

		"prefs.title":          "Preferences",
		"prefs.intro":          "Tell us what you are looking for, and choose what we may use. Nothing here is required, and every change takes effect at once.",
		"prefs.errors":         "Nothing was saved",
		"prefs.errors.kept":    "Your saved preferences are unchanged. The form below shows what you sent, so you can correct it.",
		"prefs.told":           "What you tell us",
		"prefs.held":           "What we hold now: interests: {interests} · sizes: {sizes} · budget: {budget} · avoid: {avoid}.",
		"prefs.interests":      "Interests",
		"prefs.sizes":          "Sizes",
		"prefs.size.none":      "No preference",
		"prefs.budget":         "Budget: the highest price to show, in euros (empty: no budget)",
		"prefs.avoid":          "Tags to avoid, separated by commas",
		"prefs.avoid.tags":     "Tags: {tags}.",
		"prefs.save":           "Save preferences",
		"prefs.purposes":       "What we may use your data for",
		"prefs.purposes.intro": "Tick what you allow, untick what you do not, and save: one form for everything. Turning a purpose off is as easy as turning it on, and takes effect at once.",
		"prefs.benefit":        "What you get: {benefit}.",
		"prefs.uses":           "Uses {data}.",
		"prefs.basis":          "Basis: {basis}.",
		"prefs.now":            "Now:",
		"prefs.on":             "On",
		"prefs.off":            "Off",
		"prefs.since":          "since {date}",
		"prefs.gpc.off":        "Your browser's Global Privacy Control signal keeps this off. Tick it to turn it on for this site anyway: we will ask you to confirm.",
		"prefs.gpc.overridden": "You turned this on for this site after we told you that your browser's Global Privacy Control signal asks us not to.",
		"prefs.gpc.keep":       "No, keep it off and save the rest",
		"prefs.object":         "Untick to object; tick again to lift your objection.",
		"prefs.objected":       "You objected: tick to lift your objection.",

		"data.title":             "Your data",
		"data.nothing":           "We hold nothing about this browser: it has no visitor id. A visitor id is set only when you save a preference, make a consent choice, buy something or give feedback.",
		"data.who":               "How we know you",
		"data.cookie":            "By a random visitor id in a cookie:",
		"data.facts":             "First set {date}. Visits: {visits}. Orders: {orders}. Nothing else identifies you.",
		"data.receipt":           "Your consent receipt",
		"data.records":           "{n} consent records about you are in the shop's hash-chained ledger.",
		"data.receipt.text":      "Your receipt as a text file",
		"data.told":              "What you told us",
		"data.interests":         "Interests:",
		"data.sizes":             "Sizes:",
		"data.budget":            "Budget:",
		"data.avoid":             "Tags to avoid:",
		"data.none":              "none",
		"data.none.list":         "None.",
		"data.change":            "Change them",
		"data.feedback":          "Your feedback",
		"data.orders":            "Your orders",
		"data.orders.hint":       "We keep orders to run the service. They shape recommendations only while “{purpose}” is on.",
		"data.download":          "Download",
		"data.download.link":     "Download everything as JSON",
		"data.download.what":     "(consent records and receipt, preferences, feedback, orders).",
		"data.erase":             "Erase everything",
		"data.erase.confirm":     "I understand: this erases my preferences, feedback, orders and consent choices and forgets my visitor id. It cannot be undone.",
		"data.erase.unconfirmed": "Tick the box to confirm that you want everything erased. Nothing was erased.",
		"fb.liked":               "liked",
		"fb.not_interested":      "not interested",

		"flash.saved":      "Saved. We use them only once you turn on “{purpose}” below.",
		"flash.saved.used": "Saved. Your recommendations use your preferences from now on.",
		"flash.choices":    "Saved. Your choices take effect at once.",
		"flash.alloff":     "Everything you can turn off is off, as of now.",
		"flash.bought":     "Bought (a demo: nothing is charged). We keep your order to run the service; it shapes recommendations only if you turn on “{purpose}”.",
		"flash.liked":      "Noted: you like this item.",
		"flash.hidden":     "Noted: we will not suggest this item again.",
		"flash.erased":     "Your data is erased: your preferences, feedback and orders, and your visitor id, whose cookie is deleted. In the consent ledger, tombstones take the place of your records: no id, channel or evidence remains, but the times of your withdrawals stay provable, and the receipt you downloaded shows which tombstones are yours.",

		"form.twice":         "The field “{field}” was sent {n} times; send it once.",
		"form.long":          "The field “{field}” is longer than {n} characters.",
		"form.interest":      "“{value}” is not one of the interests on offer.",
		"form.size":          "{size} “{value}” does not exist; choose {values}, or no preference.",
		"form.budget.nan":    "Budget “{value}” is not a number; write a price such as 80 or 79.90, or leave it empty for no budget.",
		"form.budget.range":  "Budget must be between 0 and {max} (0 or empty: no budget).",
		"form.avoid.unknown": "No item is tagged {tags}. Tags you can avoid are listed under the field.",
		"form.avoid.many":    "At most {max} tags to avoid, please (you gave {n}).",

		"err.nopage.title":       "No such page",
		"err.nopage":             "There is no page at this address.",
		"err.method.title":       "Method not allowed",
		"err.method":             "This address accepts {methods} only; changes are made with the page's buttons (POST).",
		"err.form.title":         "Unreadable form",
		"err.form":               "The form could not be read. Nothing was changed.",
		"err.media":              "The request was neither a form nor JSON. Nothing was changed.",
		"err.nobody.title":       "Nothing held",
		"err.nobody":             "This browser has no visitor id, so we hold nothing about it.",
		"err.cross.title":        "Request refused",
		"err.cross":              "This form was sent from another site. The storefront only accepts forms sent from its own pages. Nothing was changed.",
		"err.large.title":        "Form too large",
		"err.large":              "The form was larger than {kib} KiB. Nothing was changed.",
		"err.fixed.title":        "Not optional",
		"err.fixed":              "“{purpose}” is not yours to turn on or off here: it rests on a contract or the law, or you objected to it. Nothing was changed.",
		"err.order.title":        "Changed meanwhile",
		"err.order":              "Your choices changed while this form was on its way. Nothing was changed: look at the page again and choose once more.",
		"err.purpose.title":      "Unknown purpose",
		"err.purpose":            "The form names a purpose the shop's policy does not have. Nothing was changed.",
		"err.busy.title":         "Try again",
		"err.busy":               "The shop could not keep up just now. Nothing was changed; please try again.",
		"err.internal.title":     "Something went wrong",
		"err.internal":           "The storefront could not complete this request.",
		"err.erased.title":       "Visitor id erased",
		"err.erased":             "Your data was erased while this request was on its way; nothing was changed.",
		"err.categories.title":   "One category at a time",
		"err.categories":         "The address names {n} categories; the shop lists one at a time.",
		"err.category.title":     "No such category",
		"err.category":           "The shop has no category “{category}”. Choose one from the list of departments.",
		"err.item.title":         "No such item",
		"err.item":               "The shop has no item “{id}”. It may have been mistyped; the shop's items are listed by category.",
		"err.orders.title":       "Too many orders",
		"err.orders":             "This demo keeps at most {n} orders per visitor. Erase your data on the “Your data” page to start again.",
		"err.feedback.title":     "Unknown feedback",
		"err.feedback":           "Feedback must be “liked” or “not_interested”, sent once. Nothing was kept.",
		"err.feedback.off.title": "Feedback is off",
		"err.feedback.off":       "We did not keep this: you have not turned on “{purpose}”. Turn it on in Preferences if you want us to learn from your feedback.",
		"err.feedbacks.title":    "Too much feedback",
		"err.feedbacks":          "This demo keeps at most {n} pieces of feedback per visitor.",
	},
	"de": {
		"layout.skip":     "Zum Inhalt springen",
		"layout.tagline":  "ein Demo-Shop von tact",
		"layout.nav":      "Hauptmenü",
		"layout.footer":   "Eine Demo von tact, Personalisierung mit Datenschutz zuerst, für Go. Keine Skripte, keine Tracker: Ein Cookie enthält eine zufällige Besucherkennung, die erst gesetzt wird, wenn Sie etwas speichern, kaufen oder bewerten.",
		"nav.shop":        "Shop",
		"nav.preferences": "Einstellungen",
		"nav.data":        "Ihre Daten",
		"gpc.title":       "Global Privacy Control ist eingeschaltet.",
		"gpc.body":        "Ihr Browser sendet das Signal, und wir halten uns daran: Wir verkaufen Ihre Daten nicht, geben sie nicht weiter und nutzen sie nicht für Werbung anderswo, es sei denn, Sie schalten das für diese Website selbst ein, nachdem wir Sie um Bestätigung gebeten haben.",
		"gpc.recorded":    "Es ist bei Ihren Einwilligungen vermerkt.",
		"error.back":      "Zurück zum Shop",

		"price":    "{amount} €",
		"decimal":  ",",
		"datetime": "{date}, {time} Uhr UTC",
		"quote":    "„{s}“",

		"order.one":    "{n} Bestellung",
		"order.other":  "{n} Bestellungen",
		"visit.one":    "{n} Besuch",
		"visit.other":  "{n} Besuche",
		"day.one":      "{n} Tag",
		"day.other":    "{n} Tage",
		"minute.one":   "{n} Minute",
		"minute.other": "{n} Minuten",
		"second.one":   "{n} Sekunde",
		"second.other": "{n} Sekunden",

		"tier.anonymous":        "anonym",
		"tier.anonymous.text":   "Nichts Persönliches: nur, was im ganzen Shop beliebt ist (mit Differential Privacy gezählt), und die Seite, auf der Sie sind.",
		"tier.recognized":       "bekannt",
		"tier.recognized.text":  "Sie haben uns etwas über sich erzählt und erlaubt, es zu nutzen: Ihre Angaben und Bewertungen prägen diese Auswahl.",
		"tier.established":      "Stammkunde",
		"tier.established.text": "Sie sind Kunde und haben Ihre Kaufhistorie freigegeben: Auch was Sie gekauft haben, prägt diese Auswahl.",
		"tiers.recognized":      "Empfehlungen werden schrittweise persönlich. Sobald Sie uns etwas über sich erzählen und erlauben, es zu nutzen (Einstellungen), nutzen wir Ihre Angaben.",
		"tiers.established":     "Sobald Sie {orders} und {visits} in mindestens {span} haben und die Kaufhistorie freigeben, nutzen wir auch, was Sie gekauft haben.",

		"recs.how":          "So haben wir ausgewählt",
		"recs.tier":         "Stufe:",
		"recs.warmup":       "Sie sind in den ersten {span} Ihres Besuchs: Bis dahin halten wir alles Persönliche und jede Werbung zurück.",
		"recs.used":         "Genutzte Daten:",
		"recs.used.nothing": "nichts über Sie",
		"recs.purposes":     "Zwecke, auf die wir uns stützen:",
		"recs.withheld":     "Nicht genutzt, und warum ({n})",
		"recs.heldback":     "Zurückgehalten ({n})",
		"recs.why":          "Warum sehe ich das?",
		"recs.share":        "{n} % der Bewertung",
		"recs.data":         "Genutzte Daten:",
		"recs.data.none":    "nichts über Sie: Zählungen über alle Kundinnen und Kunden, mit Differential Privacy geschützt",
		"recs.purpose":      "Zweck:",
		"recs.purpose.none": "keiner nötig: nichts Persönliches wurde genutzt",
		"recs.nothing":      "Gerade gibt es nichts, das wir sicher genug vorschlagen können: Lieber zeigen wir nichts, als zu raten.",

		"held.warmup.one":           "{n} Werbeartikel in der Anfangsphase Ihres Besuchs zurückgehalten",
		"held.warmup.other":         "{n} Werbeartikel in der Anfangsphase Ihres Besuchs zurückgehalten",
		"held.sensitive.one":        "{n} sensibler Artikel (Gesundheit, Baby) nicht vorgeschlagen, weil Sie uns nicht gesagt haben, dass Sie ihn wollen",
		"held.sensitive.other":      "{n} sensible Artikel (Gesundheit, Baby) nicht vorgeschlagen, weil Sie uns nicht gesagt haben, dass Sie sie wollen",
		"held.bought.one":           "{n} Artikel, den Sie schon gekauft haben",
		"held.bought.other":         "{n} Artikel, die Sie schon gekauft haben",
		"held.not_interested.one":   "{n} Artikel, an dem Sie kein Interesse haben",
		"held.not_interested.other": "{n} Artikel, an denen Sie kein Interesse haben",
		"held.declared.one":         "{n} Artikel außerhalb Ihres Budgets, Ihrer Größen oder mit gemiedenen Stichwörtern",
		"held.declared.other":       "{n} Artikel außerhalb Ihres Budgets, Ihrer Größen oder mit gemiedenen Stichwörtern",
		"held.cap.one":              "{n} Artikel, den Sie schon zu oft gesehen haben",
		"held.cap.other":            "{n} Artikel, die Sie schon zu oft gesehen haben",
		"held.floor.one":            "{n} unsichere Vermutung (wir zeigen lieber weniger, als zu raten)",
		"held.floor.other":          "{n} unsichere Vermutungen (wir zeigen lieber weniger, als zu raten)",

		"home.title":         "{controller}: Shop",
		"home.welcome":       "Willkommen bei {controller}",
		"home.popular":       "Gerade beliebt",
		"home.picked":        "Für Sie ausgewählt",
		"home.trending":      "Im ganzen Shop gefragt",
		"home.trending.hint": "Über alle Kundinnen und Kunden mit Differential Privacy gezählt: Die Liste hängt von keiner einzelnen Bestellung ab.",
		"home.all":           "Alles aus {category}",
		"home.departments":   "Abteilungen",

		"item.in":                  "in",
		"item.tags":                "Stichwörter: {tags}",
		"item.sizes":               "Größen: {sizes}.",
		"item.buy":                 "Kaufen",
		"item.buy.demo":            "(eine Demo: nichts wird berechnet)",
		"item.feedback":            "Sagen Sie uns Ihre Meinung",
		"item.liked":               "Mehr davon",
		"item.not_interested":      "Kein Interesse",
		"item.feedback.off":        "Wir speichern „Gefällt mir“ und „Kein Interesse“ nur, wenn Sie „{purpose}“ einschalten, unter",
		"item.now":                 "jetzt: {why}",
		"item.also":                "Das könnte Ihnen auch gefallen",
		"size.shoe":                "Schuhgröße",
		"size.top":                 "Oberteilgröße",
		"size.values":              "{size} {values}",
		"interest.marathon":        "Training für einen Marathon",
		"interest.trail":           "Laufen oder Wandern auf Trails",
		"department.running":       "Laufen",
		"department.hiking":        "Wandern",
		"department.yoga":          "Yoga",
		"department.cycling":       "Radfahren",
		"department.swimming":      "Schwimmen",
		"department.kitchen":       "Küche",
		"department.coffee":        "Kaffee",
		"department.books":         "Bücher",
		"department.garden":        "Garten",
		"department.nutrition":     "Ernährung",
		"department.pharmacy":      "Apotheke",
		"department.baby":          "Baby",
		"category.running-shoes":   "Laufschuhe",
		"category.running-apparel": "Laufbekleidung",
		"category.hiking-boots":    "Wanderschuhe",
		"category.backpacks":       "Rucksäcke",
		"category.yoga-mats":       "Yogamatten",
		"category.yoga-apparel":    "Yogabekleidung",
		"category.bikes":           "Fahrräder",
		"category.cycling-gear":    "Radzubehör",
		"category.swimwear":        "Bademode",
		"category.swim-gear":       "Schwimmzubehör",
		"category.cookware":        "Kochgeschirr",
		"category.utensils":        "Küchenhelfer",
		"category.coffee-beans":    "Kaffeebohnen",
		"category.brewing":         "Kaffeezubereitung",
		"category.fiction":         "Romane",
		"category.non-fiction":     "Sachbücher",
		"category.plants":          "Pflanzen",
		"category.tools":           "Gartenwerkzeug",
		"category.energy-gels":     "Energiegels",
		"category.protein":         "Protein",
		"category.supplements":     "Nahrungsergänzung",
		"category.first-aid":       "Erste Hilfe",
		"category.nursery":         "Kinderzimmer",
		"category.baby-care":       "Babypflege",

		"prefs.title":          "Einstellungen",
		"prefs.intro":          "Sagen Sie uns, was Sie suchen, und wählen Sie, was wir nutzen dürfen. Nichts davon ist Pflicht, und jede Änderung gilt sofort.",
		"prefs.errors":         "Nichts wurde gespeichert",
		"prefs.errors.kept":    "Ihre gespeicherten Angaben sind unverändert. Das Formular unten zeigt, was Sie gesendet haben, damit Sie es korrigieren können.",
		"prefs.told":           "Was Sie uns sagen",
		"prefs.held":           "Was wir jetzt gespeichert haben: Interessen: {interests} · Größen: {sizes} · Budget: {budget} · meiden: {avoid}.",
		"prefs.interests":      "Interessen",
		"prefs.sizes":          "Größen",
		"prefs.size.none":      "Keine Vorgabe",
		"prefs.budget":         "Budget: der höchste Preis, den wir zeigen, in Euro (leer: kein Budget)",
		"prefs.avoid":          "Stichwörter, die Sie meiden möchten, durch Kommas getrennt",
		"prefs.avoid.tags":     "Stichwörter: {tags}.",
		"prefs.save":           "Angaben speichern",
		"prefs.purposes":       "Wofür wir Ihre Daten nutzen dürfen",
		"prefs.purposes.intro": "Haken Sie an, was Sie erlauben, entfernen Sie den Haken bei dem, was nicht, und speichern Sie: ein Formular für alles. Ausschalten ist so einfach wie Einschalten und gilt sofort.",
		"prefs.benefit":        "Ihr Vorteil: {benefit}.",
		"prefs.uses":           "Nutzt {data}.",
		"prefs.basis":          "Grundlage: {basis}.",
		"prefs.now":            "Jetzt:",
		"prefs.on":             "Ein",
		"prefs.off":            "Aus",
		"prefs.since":          "seit {date}",
		"prefs.gpc.off":        "Das Signal Global Privacy Control Ihres Browsers hält dies ausgeschaltet. Haken Sie es an, um es trotzdem für diese Website einzuschalten: Wir bitten Sie dann um Bestätigung.",
		"prefs.gpc.overridden": "Sie haben dies für diese Website eingeschaltet, nachdem wir Ihnen gesagt haben, dass das Signal Global Privacy Control Ihres Browsers uns darum bittet, es nicht zu tun.",
		"prefs.gpc.keep":       "Nein, ausgeschaltet lassen und den Rest speichern",
		"prefs.object":         "Haken entfernen, um zu widersprechen; wieder setzen, um den Widerspruch aufzuheben.",
		"prefs.objected":       "Sie haben widersprochen: Haken setzen, um den Widerspruch aufzuheben.",

		"data.title":             "Ihre Daten",
		"data.nothing":           "Über diesen Browser speichern wir nichts: Er hat keine Besucherkennung. Eine Besucherkennung wird erst gesetzt, wenn Sie eine Angabe speichern, eine Einwilligung wählen, etwas kaufen oder bewerten.",
		"data.who":               "Woran wir Sie erkennen",
		"data.cookie":            "An einer zufälligen Besucherkennung in einem Cookie:",
		"data.facts":             "Zuerst gesetzt am {date}. Besuche: {visits}. Bestellungen: {orders}. Sonst erkennt Sie nichts.",
		"data.receipt":           "Ihr Einwilligungsbeleg",
		"data.records":           "Im verketteten Einwilligungsprotokoll des Shops stehen {n} Einträge über Sie.",
		"data.receipt.text":      "Ihr Beleg als Textdatei",
		"data.told":              "Was Sie uns gesagt haben",
		"data.interests":         "Interessen:",
		"data.sizes":             "Größen:",
		"data.budget":            "Budget:",
		"data.avoid":             "Gemiedene Stichwörter:",
		"data.none":              "keine",
		"data.none.list":         "Keine.",
		"data.change":            "Ändern",
		"data.feedback":          "Ihre Bewertungen",
		"data.orders":            "Ihre Bestellungen",
		"data.orders.hint":       "Bestellungen speichern wir, um den Service zu erbringen. Empfehlungen prägen sie nur, solange „{purpose}“ eingeschaltet ist.",
		"data.download":          "Herunterladen",
		"data.download.link":     "Alles als JSON herunterladen",
		"data.download.what":     "(Einwilligungseinträge und Beleg, Angaben, Bewertungen, Bestellungen).",
		"data.erase":             "Alles löschen",
		"data.erase.confirm":     "Ich verstehe: Das löscht meine Angaben, Bewertungen, Bestellungen und Einwilligungen und vergisst meine Besucherkennung. Es lässt sich nicht rückgängig machen.",
		"data.erase.unconfirmed": "Setzen Sie den Haken, um zu bestätigen, dass Sie alles löschen möchten. Nichts wurde gelöscht.",
		"fb.liked":               "gefällt mir",
		"fb.not_interested":      "kein Interesse",

		"flash.saved":      "Gespeichert. Wir nutzen Ihre Angaben erst, wenn Sie unten „{purpose}“ einschalten.",
		"flash.saved.used": "Gespeichert. Ihre Empfehlungen nutzen ab jetzt Ihre Angaben.",
		"flash.choices":    "Gespeichert. Ihre Auswahl gilt sofort.",
		"flash.alloff":     "Alles, was Sie ausschalten können, ist ab jetzt aus.",
		"flash.bought":     "Gekauft (eine Demo: nichts wird berechnet). Ihre Bestellung speichern wir, um den Service zu erbringen; Empfehlungen prägt sie nur, wenn Sie „{purpose}“ einschalten.",
		"flash.liked":      "Vermerkt: Dieser Artikel gefällt Ihnen.",
		"flash.hidden":     "Vermerkt: Diesen Artikel schlagen wir nicht mehr vor.",
		"flash.erased":     "Ihre Daten sind gelöscht: Ihre Angaben, Bewertungen und Bestellungen und Ihre Besucherkennung, deren Cookie entfernt ist. Im Einwilligungsprotokoll stehen Platzhalter an Stelle Ihrer Einträge: Keine Kennung, kein Kanal und kein Nachweis bleiben, aber die Zeitpunkte Ihrer Widerrufe bleiben belegbar, und der Beleg, den Sie heruntergeladen haben, zeigt, welche Platzhalter Ihre sind.",

		"form.twice":         "Das Feld „{field}“ wurde {n}-mal gesendet; senden Sie es einmal.",
		"form.long":          "Das Feld „{field}“ ist länger als {n} Zeichen.",
		"form.interest":      "„{value}“ gehört nicht zu den angebotenen Interessen.",
		"form.size":          "{size} „{value}“ gibt es nicht; wählen Sie {values} oder keine Vorgabe.",
		"form.budget.nan":    "Budget „{value}“ ist keine Zahl; schreiben Sie einen Preis wie 80 oder 79,90, oder lassen Sie das Feld leer für kein Budget.",
		"form.budget.range":  "Das Budget muss zwischen 0 und {max} liegen (0 oder leer: kein Budget).",
		"form.avoid.unknown": "Kein Artikel hat das Stichwort {tags}. Die Stichwörter, die Sie meiden können, stehen unter dem Feld.",
		"form.avoid.many":    "Höchstens {max} Stichwörter zum Meiden, bitte (Sie haben {n} angegeben).",

		"err.nopage.title":       "Seite nicht gefunden",
		"err.nopage":             "Unter dieser Adresse gibt es keine Seite.",
		"err.method.title":       "Methode nicht erlaubt",
		"err.method":             "Diese Adresse nimmt nur {methods} an; Änderungen machen Sie mit den Schaltflächen der Seite (POST).",
		"err.form.title":         "Formular nicht lesbar",
		"err.form":               "Das Formular ließ sich nicht lesen. Nichts wurde geändert.",
		"err.media":              "Die Anfrage war weder ein Formular noch JSON. Nichts wurde geändert.",
		"err.nobody.title":       "Nichts gespeichert",
		"err.nobody":             "Dieser Browser hat keine Besucherkennung, also speichern wir nichts über ihn.",
		"err.cross.title":        "Anfrage abgelehnt",
		"err.cross":              "Dieses Formular wurde von einer anderen Website gesendet. Der Shop nimmt nur Formulare seiner eigenen Seiten an. Nichts wurde geändert.",
		"err.large.title":        "Formular zu groß",
		"err.large":              "Das Formular war größer als {kib} KiB. Nichts wurde geändert.",
		"err.fixed.title":        "Keine Wahl",
		"err.fixed":              "„{purpose}“ können Sie hier nicht ein- oder ausschalten: Es beruht auf einem Vertrag oder dem Gesetz, oder Sie haben widersprochen. Nichts wurde geändert.",
		"err.order.title":        "Inzwischen geändert",
		"err.order":              "Ihre Auswahl hat sich geändert, während dieses Formular unterwegs war. Nichts wurde geändert: Sehen Sie sich die Seite noch einmal an und wählen Sie erneut.",
		"err.purpose.title":      "Unbekannter Zweck",
		"err.purpose":            "Das Formular nennt einen Zweck, den die Datenschutzerklärung des Shops nicht hat. Nichts wurde geändert.",
		"err.busy.title":         "Bitte erneut versuchen",
		"err.busy":               "Der Shop kam gerade nicht nach. Nichts wurde geändert; bitte versuchen Sie es noch einmal.",
		"err.internal.title":     "Etwas ist schiefgegangen",
		"err.internal":           "Der Shop konnte diese Anfrage nicht abschließen.",
		"err.erased.title":       "Besucherkennung gelöscht",
		"err.erased":             "Ihre Daten wurden gelöscht, während diese Anfrage unterwegs war; nichts wurde geändert.",
		"err.categories.title":   "Eine Kategorie auf einmal",
		"err.categories":         "Die Adresse nennt {n} Kategorien; der Shop zeigt eine auf einmal.",
		"err.category.title":     "Kategorie nicht gefunden",
		"err.category":           "Der Shop hat keine Kategorie „{category}“. Wählen Sie eine aus der Liste der Abteilungen.",
		"err.item.title":         "Artikel nicht gefunden",
		"err.item":               "Der Shop hat keinen Artikel „{id}“. Vielleicht ist er falsch geschrieben; die Artikel stehen nach Kategorien geordnet.",
		"err.orders.title":       "Zu viele Bestellungen",
		"err.orders":             "Diese Demo speichert höchstens {n} Bestellungen je Besucher. Löschen Sie Ihre Daten auf der Seite „Ihre Daten“, um neu anzufangen.",
		"err.feedback.title":     "Unbekannte Bewertung",
		"err.feedback":           "Eine Bewertung muss „liked“ oder „not_interested“ sein, einmal gesendet. Nichts wurde gespeichert.",
		"err.feedback.off.title": "Bewertungen sind aus",
		"err.feedback.off":       "Das haben wir nicht gespeichert: Sie haben „{purpose}“ nicht eingeschaltet. Schalten Sie es unter Einstellungen ein, wenn wir aus Ihren Bewertungen lernen sollen.",
		"err.feedbacks.title":    "Zu viele Bewertungen",
		"err.feedbacks":          "Diese Demo speichert höchstens {n} Bewertungen je Besucher.",
	},
}
