package recommend

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tact-go/tact/consent"
)

// ReasonKind says which sentence explains a [Reason]. With the reason's
// parameters (Related, Category, Query, Segment, Interest) it is all a
// message catalog needs to say the sentence in a person's language
// ([Reason.Localize]).
type ReasonKind uint8

// Reason kinds, with the parameter each uses and its English sentence.
const (
	// ReasonPopular: "Popular with shoppers". No parameter.
	ReasonPopular ReasonKind = iota + 1
	// ReasonPopularIn: "Popular in {segment}", Reason.Segment.
	ReasonPopularIn
	// ReasonLooking: "Because you're looking at {item}", the item in view
	// (Reason.Related).
	ReasonLooking
	// ReasonBrowsing: "From {category}, which you're browsing", the
	// catalog category in view (Reason.Category).
	ReasonBrowsing
	// ReasonSearch: "Matches your search for “{query}”", Reason.Query.
	ReasonSearch
	// ReasonDeclared: "Because you told us {interest}", Reason.Interest;
	// for an interest without Text, "Because you told us you're
	// interested in {tags}".
	ReasonDeclared
	// ReasonLiked: "Because you liked {item}", Reason.Related.
	ReasonLiked
	// ReasonBought: "Because you bought {item}", Reason.Related.
	ReasonBought
	// ReasonViewed: "Because you viewed {item}", Reason.Related.
	ReasonViewed
	numReasonKinds
)

var reasonKindNames = [numReasonKinds]string{
	ReasonPopular:   "popular",
	ReasonPopularIn: "popular_in",
	ReasonLooking:   "looking",
	ReasonBrowsing:  "browsing",
	ReasonSearch:    "search",
	ReasonDeclared:  "declared",
	ReasonLiked:     "liked",
	ReasonBought:    "bought",
	ReasonViewed:    "viewed",
}

// String returns a stable snake_case code ("popular_in"); the message key
// of the kind's sentence is "recommend.reason." followed by it.
func (k ReasonKind) String() string {
	if k >= ReasonPopular && k < numReasonKinds {
		return reasonKindNames[k]
	}
	return "unknown"
}

// Keys of the labels [Reason.Localize] looks up in a message catalog,
// each followed by the catalog's own key: "recommend.category.coffee-beans".
const (
	labelCategory = "recommend.category."
	labelSegment  = "recommend.segment."
	labelTag      = "recommend.tag."
	labelItem     = "recommend.item."
	labelInterest = "recommend.interest."
)

// Localize returns the reason's sentence in lang, from the message catalog
// c (nil: the built-in texts, as for [Messages]). A key c has in no
// language comes from the built-in texts, so c needs only the texts it
// replaces or adds; call [Messages] on it for the built-in German.
//
// Nothing in the sentence is a raw key: an item is named by c's text for
// "recommend.item.ID", else its Title in items (the catalog the
// recommendation came from), else a text for an item without a name; a
// catalog category, segment or tag by c's text for
// "recommend.category.KEY", "recommend.segment.KEY" or "recommend.tag.KEY",
// else by its key with hyphens and underscores as spaces ("coffee-beans"
// is "coffee beans"); a declared interest by c's text for
// "recommend.interest.TEXT", else by its Text as the person or host wrote
// it. A search query is shown as typed. A Reason of no known kind (one
// not made by a [Recommender]) returns its Text.
//
// In English with the built-in texts, Localize returns [Reason].Text.
func (r Reason) Localize(c *consent.Catalog, lang string, items *Catalog) string {
	key := "recommend.reason." + r.Kind.String()
	switch r.Kind {
	case ReasonPopular:
		return text(c, lang, key)
	case ReasonPopularIn:
		return text(c, lang, key, "segment", label(c, lang, labelSegment, r.Segment))
	case ReasonLooking, ReasonLiked, ReasonBought, ReasonViewed:
		return text(c, lang, key, "item", itemLabel(c, lang, items, r.Related))
	case ReasonBrowsing:
		return text(c, lang, key, "category", label(c, lang, labelCategory, r.Category))
	case ReasonSearch:
		return text(c, lang, key, "query", r.Query)
	case ReasonDeclared:
		if r.Interest.Text == "" {
			return text(c, lang, "recommend.reason.declared_tags", "tags", tagList(c, lang, r.Interest.Tags))
		}
		in := r.Interest.Text
		if t, ok := lookup(c, lang, labelInterest+in); ok {
			in = t
		}
		return text(c, lang, key, "interest", in)
	}
	return r.Text
}

// Localize returns the note in lang, from the message catalog c (nil: the
// built-in texts), as [Reason.Localize] does: "Your purchase history not
// used: you withdrew your consent.". It names the source by c's text for
// "recommend.source.NAME" ([Source.String]), a consent decision's reason
// by the consent texts ("reason.withdrawn"), and a data category by
// [consent.Catalog.Category]; never a purpose or category key.
//
// In English with the built-in texts, Localize returns [Withheld].Text.
func (w Withheld) Localize(c *consent.Catalog, lang string) string {
	var why string
	switch w.Reason {
	case WithheldConsent:
		why = text(c, lang, "reason."+w.Decision.Reason.String())
	case WithheldTier:
		why = text(c, lang, "recommend.withheld.tier."+neededTier(w.Source).String())
	case WithheldWarmUp:
		why = text(c, lang, "recommend.withheld.warm_up", "span", span(c, lang, w.WarmUp))
	case WithheldNoSubject:
		why = text(c, lang, "recommend.withheld.no_subject")
	case WithheldPolicy:
		cat := w.Category
		if cat == "" && w.Source.valid() && len(sourceSpecs[w.Source].categories) > 0 {
			cat = sourceSpecs[w.Source].categories[0]
		}
		why = text(c, lang, "recommend.withheld.policy", "data", catalog(c).Category(lang, cat))
	default:
		why = text(c, lang, "recommend.withheld.unavailable")
		if errors.Is(w.Err, ErrNoProfiles) {
			why = text(c, lang, "recommend.withheld.no_profiles")
		}
	}
	if leavesOut(w.Source, w.Reason) {
		why = text(c, lang, "recommend.withheld.leaves_out", "why", why)
	}
	return text(c, lang, "recommend.withheld", "source", text(c, lang, "recommend.source."+w.Source.String()), "why", why)
}

// leavesOut reports whether a source withheld for why is still read to
// leave items out: feedback below its tier ("not interested" holds at
// every tier), and every source in the warm-up.
func leavesOut(s Source, why WithheldReason) bool {
	return why == WithheldWarmUp || why == WithheldTier && s == SourceFeedback
}

// neededTier returns the least tier above anonymous that reads s.
func neededTier(s Source) Tier {
	for t := Recognized; t < numTiers; t++ {
		if t.Allows(s) {
			return t
		}
	}
	return Established
}

// Messages adds the built-in texts of recommendations ("recommend." keys),
// in English and German, to c, keeping any text c already has for a key
// in a language; so a host may replace a text before or after calling it.
// It returns the first error of [consent.Catalog.Set] (none for the
// built-in texts).
func Messages(c *consent.Catalog) error {
	for lang, msgs := range messages {
		for key, t := range msgs {
			if c.Has(lang, key) {
				continue
			}
			if err := c.Set(lang, key, t); err != nil {
				return err
			}
		}
	}
	return nil
}

// builtin is the catalog of the consent package's texts and ours.
var builtin = sync.OnceValue(func() *consent.Catalog {
	c := consent.NewCatalog()
	if err := Messages(c); err != nil {
		panic(err) // TestMessagesWellFormed
	}
	return c
})

func catalog(c *consent.Catalog) *consent.Catalog {
	if c == nil {
		return builtin()
	}
	return c
}

// lookup returns the text of key in lang from c, else from the built-in
// texts, and whether either has one. A catalog returns a key it has no
// text for as the key itself, which is never a text to show.
func lookup(c *consent.Catalog, lang, key string, params ...string) (string, bool) {
	if c != nil {
		if t := c.Text(lang, key, params...); t != key {
			return t, true
		}
	}
	t := builtin().Text(lang, key, params...)
	return t, t != key
}

// text is lookup for keys the built-in texts have.
func text(c *consent.Catalog, lang, key string, params ...string) string {
	t, _ := lookup(c, lang, key, params...)
	return t
}

// label returns the catalog's text of prefix+key, else key in words.
func label(c *consent.Catalog, lang, prefix, key string) string {
	if t, ok := lookup(c, lang, prefix+key); ok {
		return t
	}
	return humanize(key)
}

// humanize writes a key in words: hyphens and underscores as spaces
// ("coffee-beans" is "coffee beans"). It allocates only for a key that
// has one.
func humanize(key string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' {
			return ' '
		}
		return r
	}, key)
}

// itemLabel names the item with the given id.
func itemLabel(c *consent.Catalog, lang string, items *Catalog, id string) string {
	if t, ok := lookup(c, lang, labelItem+id); ok {
		return t
	}
	if it, ok := items.Lookup(id); ok && it.Title != "" {
		return it.Title
	}
	return text(c, lang, "recommend.untitled")
}

// tagList names tags as a list in lang ("running and trail").
func tagList(c *consent.Catalog, lang string, tags []string) string {
	words := make([]string, 0, len(tags))
	for _, t := range tags {
		if t != "" {
			words = append(words, label(c, lang, labelTag, t))
		}
	}
	return catalog(c).List(lang, words)
}

// span writes a duration in words ("2 minutes").
func span(c *consent.Catalog, lang string, d time.Duration) string {
	unit, n := "", int64(0)
	switch {
	case d >= time.Minute && d%time.Minute == 0:
		unit, n = "minute", int64(d/time.Minute)
	case d >= time.Second && d%time.Second == 0:
		unit, n = "second", int64(d/time.Second)
	default:
		return d.String()
	}
	form := ".other"
	if n == 1 {
		form = ".one"
	}
	return text(c, lang, "recommend.span."+unit+form, "n", strconv.FormatInt(n, 10))
}

// english is what a request needs to write Reason.Text without a template
// per request: the sentences of no parameter, and those of one split
// around it, so that writing one is a single concatenation.
type english struct {
	popular                               string
	popularIn, browsing, search, declared [2]string
}

var englishTexts = sync.OnceValue(func() *english {
	split := func(kind string) [2]string {
		t := messages["en"]["recommend.reason."+kind]
		i, j := strings.IndexByte(t, '{'), strings.IndexByte(t, '}')
		if i < 0 || j < i || strings.ContainsAny(t[j+1:], "{}") || strings.Contains(t, "{{") {
			panic("recommend: English text of " + kind + " is not of one parameter") // TestMessagesWellFormed
		}
		return [2]string{t[:i], t[j+1:]}
	}
	return &english{
		popular:   messages["en"]["recommend.reason.popular"],
		popularIn: split("popular_in"),
		browsing:  split("browsing"),
		search:    split("search"),
		declared:  split("declared"),
	}
})

// fill writes a split sentence with its parameter.
func fill(s [2]string, v string) string { return s[0] + v + s[1] }

// messages are the built-in texts of [Messages]: English, the fallback,
// and German. Every English key has a German text (TestMessagesComplete).
var messages = map[string]map[string]string{
	"en": {
		"recommend.reason.popular":       "Popular with shoppers",
		"recommend.reason.popular_in":    "Popular in {segment}",
		"recommend.reason.looking":       "Because you're looking at {item}",
		"recommend.reason.browsing":      "From {category}, which you're browsing",
		"recommend.reason.search":        "Matches your search for “{query}”",
		"recommend.reason.declared":      "Because you told us {interest}",
		"recommend.reason.declared_tags": "Because you told us you're interested in {tags}",
		"recommend.reason.liked":         "Because you liked {item}",
		"recommend.reason.bought":        "Because you bought {item}",
		"recommend.reason.viewed":        "Because you viewed {item}",
		"recommend.untitled":             "an item without a name",

		"recommend.withheld":                  "{source} not used: {why}.",
		"recommend.withheld.leaves_out":       "{why} (except to leave items out)",
		"recommend.withheld.tier.recognized":  "used only once you're a recognized customer",
		"recommend.withheld.tier.established": "used only once you're an established customer",
		"recommend.withheld.warm_up":          "not in the first {span} of your visit",
		"recommend.withheld.no_subject":       "there is no person or session to ask consent for",
		"recommend.withheld.policy":           "our privacy policy does not cover {data} here",
		"recommend.withheld.unavailable":      "it is not available just now",
		"recommend.withheld.no_profiles":      "we hold none to use",
		"recommend.source.popularity":         "Popular items",
		"recommend.source.context":            "What you're viewing",
		"recommend.source.declared":           "Your stated preferences",
		"recommend.source.feedback":           "Your feedback",
		"recommend.source.history":            "Your purchase history",
		"recommend.source.unknown":            "Some of your data",
		"recommend.span.minute.one":           "{n} minute",
		"recommend.span.minute.other":         "{n} minutes",
		"recommend.span.second.one":           "{n} second",
		"recommend.span.second.other":         "{n} seconds",
	},
	"de": {
		"recommend.reason.popular":       "Beliebt bei unseren Kundinnen und Kunden",
		"recommend.reason.popular_in":    "Beliebt in {segment}",
		"recommend.reason.looking":       "Weil Sie sich {item} ansehen",
		"recommend.reason.browsing":      "Aus {category}, wo Sie gerade stöbern",
		"recommend.reason.search":        "Passt zu Ihrer Suche nach „{query}“",
		"recommend.reason.declared":      "Weil Sie uns gesagt haben: {interest}",
		"recommend.reason.declared_tags": "Weil Sie sich für {tags} interessieren",
		"recommend.reason.liked":         "Weil Ihnen {item} gefällt",
		"recommend.reason.bought":        "Weil Sie {item} gekauft haben",
		"recommend.reason.viewed":        "Weil Sie sich {item} angesehen haben",
		"recommend.untitled":             "ein Artikel ohne Namen",

		"recommend.withheld":                  "{source} nicht genutzt: {why}.",
		"recommend.withheld.leaves_out":       "{why} (außer, um Artikel auszulassen)",
		"recommend.withheld.tier.recognized":  "erst, wenn Sie uns bekannt sind",
		"recommend.withheld.tier.established": "erst, wenn Sie Stammkunde sind",
		"recommend.withheld.warm_up":          "nicht in den ersten {span} Ihres Besuchs",
		"recommend.withheld.no_subject":       "es gibt niemanden, den wir um Einwilligung fragen könnten",
		"recommend.withheld.policy":           "unsere Datenschutzerklärung deckt das hier nicht ab: {data}",
		"recommend.withheld.unavailable":      "es ist gerade nicht verfügbar",
		"recommend.withheld.no_profiles":      "wir haben dazu nichts gespeichert",
		"recommend.source.popularity":         "Beliebte Artikel",
		"recommend.source.context":            "Was Sie gerade ansehen",
		"recommend.source.declared":           "Ihre Angaben",
		"recommend.source.feedback":           "Ihre Bewertungen",
		"recommend.source.history":            "Ihre Kaufhistorie",
		"recommend.source.unknown":            "Einige Ihrer Daten",
		"recommend.span.minute.one":           "{n} Minute",
		"recommend.span.minute.other":         "{n} Minuten",
		"recommend.span.second.one":           "{n} Sekunde",
		"recommend.span.second.other":         "{n} Sekunden",
	},
}
