package recommend_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/recommendtest"
)

// keyLike returns a check that a sentence for a person shows no key: no
// message key, no unfilled template parameter, no purpose or data
// category key, and none of the given catalog keys (category slugs,
// segments, tags) as written.
func keyLike(slugs []string) func(s string) string {
	forbidden := []string{"{", "}", "recommend.", "personalize", "user.", "unknown"}
	for _, s := range slugs {
		if strings.ContainsAny(s, "-_") {
			forbidden = append(forbidden, s)
		}
	}
	return func(s string) string {
		if strings.TrimSpace(s) == "" {
			return "empty"
		}
		for _, f := range forbidden {
			if strings.Contains(s, f) {
				return "shows " + f
			}
		}
		return ""
	}
}

// Over random requests on a synthetic store, every reason and every
// withheld note reads as words in English and in German: Text and
// Localize show no key, no slug and no unfilled parameter, and Text is
// Localize in English with the built-in texts. Every reason kind and every
// withheld reason occurs.
func TestPropertyTextsShowNoKeys(t *testing.T) {
	const cases = 4000
	w := recommendtest.Generate(recommendtest.Options{Seed: 12, Items: 150, Shoppers: 40, ItemsPerPerson: 12})
	counts := recommend.CountItems(w.Interactions, recommend.CountOptions{})
	segments := []string{"", "north-west", "eu_central"}
	pop, err := recommend.NewPopularity(w.Catalog, counts, map[string][]recommend.ItemCount{"north-west": counts[:len(counts)/2], "eu_central": counts[len(counts)/2:]})
	require.NoError(t, err)
	ii, err := recommend.TrainItemItem(w.Catalog, w.Interactions, recommend.CountOptions{}, recommend.ItemItemConfig{})
	require.NoError(t, err)
	model, err := recommend.NewModel(w.Catalog, pop, ii)
	require.NoError(t, err)
	store := w.Store()
	ctx := context.Background()
	slugs := append([]string(nil), segments...)
	for _, it := range w.Items {
		slugs = append(slugs, it.Category)
		slugs = append(slugs, it.Tags...)
	}
	// Some shoppers declare interests by tags alone, hyphenated ones too.
	for i, s := range w.Shoppers {
		if i%3 == 0 {
			_ = store.SetPreferences(ctx, s.ID, recommend.Preferences{Interests: []recommend.Interest{
				{Tags: []string{"open-water", "swimming"}}, {Tags: []string{"training-plans"}}, {Tags: s.Preferences.Interests[0].Tags}}})
		}
	}

	// Two consent stores: the second's policy, once the Recommender is
	// built, stops declaring search for the context source.
	full, narrowed := recommendtest.NewConsents(), recommendtest.NewConsents()
	r0, err := recommend.New(model, full, store, recommend.Config{})
	require.NoError(t, err)
	r1, err := recommend.New(model, narrowed, store, recommend.Config{WarmUp: 90 * time.Second})
	require.NoError(t, err)
	r2, err := recommend.New(model, full, nil, recommend.Config{WarmUp: time.Minute})
	require.NoError(t, err)
	p := recommendtest.Policy()
	p.Version = 2
	for i, spec := range p.Purposes {
		if spec.Purpose == consent.PurposePersonalizeContext {
			p.Purposes[i].Categories = []consent.Category{consent.CategoryBehaviorSession}
		}
	}
	narrowed.SetPolicy(p)
	rs := []*recommend.Recommender{r0, r1, r2}

	host := consent.NewCatalog()
	require.NoError(t, recommend.Messages(host))
	check := keyLike(slugs)
	denials := []consent.Reason{consent.ReasonNoConsent, consent.ReasonDenied, consent.ReasonWithdrawn, consent.ReasonExpired,
		consent.ReasonReconsent, consent.ReasonGPC, consent.ReasonMinor, consent.ReasonObjected}
	kinds := map[recommend.ReasonKind]int{}
	notes := map[recommend.WithheldReason]int{}
	rng := rand.New(rand.NewPCG(2026, 12))
	base := recommendtest.Epoch.AddDate(1, 0, 0)
	for n := 0; n < cases; n++ {
		subject := w.Shoppers[rng.IntN(len(w.Shoppers))].ID
		for _, c := range []*recommendtest.Consents{full, narrowed} {
			c.Recover()
			for s := recommend.SourceContext; s <= recommend.SourceHistory; s++ {
				if rng.IntN(4) == 0 {
					c.Refuse(subject, s.Purpose(), denials[rng.IntN(len(denials))])
				} else {
					c.Allow(subject, s.Purpose())
				}
			}
			if rng.IntN(30) == 0 {
				c.Fail(errors.New("down"))
			}
		}
		req := recommend.Request{Subject: subject, At: base, K: 1 + rng.IntN(8),
			Relationship: recommend.Relationship{Known: rng.IntN(4) > 0, FirstSeen: recommendtest.Epoch, Visits: rng.IntN(20), Orders: rng.IntN(10)}}
		if rng.IntN(15) == 0 {
			req.Subject = ""
		}
		if rng.IntN(4) > 0 {
			req.VisitStart = base.Add(-time.Duration(rng.Int64N(int64(10 * time.Minute))))
		}
		if rng.IntN(2) == 0 {
			req.Context.Item = w.Items[rng.IntN(len(w.Items))].ID
		}
		if rng.IntN(3) == 0 {
			req.Context.Category = w.Items[rng.IntN(len(w.Items))].Category
		}
		if rng.IntN(3) == 0 {
			req.Context.Query = w.Items[rng.IntN(len(w.Items))].Tags[0]
		}
		req.Context.Segment = segments[rng.IntN(len(segments))]
		resp, err := rs[rng.IntN(len(rs))].Recommend(ctx, req)
		require.NoError(t, err)
		for _, it := range resp.Items {
			for _, why := range it.Reasons {
				kinds[why.Kind]++
				en := why.Localize(nil, "en", w.Catalog)
				de := why.Localize(host, "de", w.Catalog)
				require.Equal(t, en, why.Text, "case %d: Text is the English sentence of %s", n, why.Kind)
				for _, s := range []string{en, de} {
					if bad := check(s); bad != "" {
						t.Fatalf("case %d: reason %s %q %s (%+v)", n, why.Kind, s, bad, why)
					}
				}
				require.NotEqual(t, en, de, "case %d: %s has a German text", n, why.Kind)
			}
		}
		for _, wh := range resp.Withheld {
			notes[wh.Reason]++
			en, de := wh.Localize(nil, "en"), wh.Localize(host, "de")
			require.Equal(t, en, wh.Text, "case %d: Text is the English note", n)
			for _, s := range []string{en, de} {
				if bad := check(s); bad != "" {
					t.Fatalf("case %d: note %s %q %s", n, wh.Reason, s, bad)
				}
			}
			require.NotEqual(t, en, de, "case %d: %s has a German text", n, wh.Reason)
		}
	}
	for k := recommend.ReasonPopular; k.String() != "unknown"; k++ {
		assert.Positive(t, kinds[k], "reason kind %s never occurred", k)
	}
	for why := recommend.WithheldTier; why.String() != "unknown"; why++ {
		assert.Positive(t, notes[why], "withheld reason %s never occurred", why)
	}
	t.Logf("reasons by kind %v, notes by reason %v", kinds, notes)
}

// TestTextsNameNoKeys pins the sentences whose parameters are keys:
// catalog categories and segments in words, purposes and data categories
// by their texts.
func TestTextsNameNoKeys(t *testing.T) {
	r, consents, _ := shop()
	consents.Allow("ann", consent.PurposePersonalize)
	consents.Refuse("ann", consent.PurposePersonalizeHistory, consent.ReasonWithdrawn)
	resp, err := r.Recommend(ctx, recommend.Request{Subject: "ann", At: now, VisitStart: visit, K: 3,
		Context: recommend.Context{Category: "running-gear"}})
	require.NoError(t, err)
	require.NotEmpty(t, resp.Items)
	why := resp.Items[0].Reasons[0]
	assert.Equal(t, recommend.ReasonBrowsing, why.Kind)
	assert.Equal(t, "running-gear", why.Category)
	assert.Equal(t, "From running gear, which you're browsing", why.Text)
	w, ok := withheld(resp, recommend.SourceHistory)
	require.True(t, ok)
	assert.Equal(t, "Your purchase history not used: you withdrew your consent.", w.Text)
	assert.NotContains(t, w.Text, string(consent.PurposePersonalizeHistory))
}

// A host replaces texts and names its catalog's categories, items and
// segments in its languages; a language the catalog lacks falls back to
// English.
func TestLocalize(t *testing.T) {
	cat, err := recommend.NewCatalog([]recommend.Item{{ID: "beans", Title: "Espresso beans", Category: "coffee-beans"}, {ID: "x"}})
	require.NoError(t, err)
	host := consent.NewCatalog()
	require.NoError(t, host.Set("en", "recommend.reason.bought", "You bought {item} before"))
	require.NoError(t, recommend.Messages(host), "keeps the replaced text")
	for _, kv := range [][3]string{
		{"de", "recommend.item.beans", "Espressobohnen"},
		{"de", "recommend.category.coffee-beans", "Kaffeebohnen"},
		{"en", "recommend.category.coffee-beans", "Coffee beans"},
		{"de", "recommend.segment.fr", "Frankreich"},
		{"de", "recommend.tag.open-water", "Freiwasser"},
		{"de", "recommend.interest.you're training for a marathon", "Sie trainieren für einen Marathon"},
	} {
		require.NoError(t, host.Set(kv[0], kv[1], kv[2]))
	}
	tests := []struct {
		name, lang string
		reason     recommend.Reason
		want       string
	}{
		{"replaced template", "en", recommend.Reason{Kind: recommend.ReasonBought, Related: "beans"}, "You bought Espresso beans before"},
		{"German keeps its own template", "de", recommend.Reason{Kind: recommend.ReasonBought, Related: "beans"}, "Weil Sie Espressobohnen gekauft haben"},
		{"item without a title", "en", recommend.Reason{Kind: recommend.ReasonViewed, Related: "x"}, "Because you viewed an item without a name"},
		{"item not in the catalog", "de", recommend.Reason{Kind: recommend.ReasonLiked, Related: "gone"}, "Weil Ihnen ein Artikel ohne Namen gefällt"},
		{"category label", "en", recommend.Reason{Kind: recommend.ReasonBrowsing, Category: "coffee-beans"}, "From Coffee beans, which you're browsing"},
		{"category label in German", "de", recommend.Reason{Kind: recommend.ReasonBrowsing, Category: "coffee-beans"}, "Aus Kaffeebohnen, wo Sie gerade stöbern"},
		{"category without label", "de", recommend.Reason{Kind: recommend.ReasonBrowsing, Category: "swim_gear"}, "Aus swim gear, wo Sie gerade stöbern"},
		{"segment label", "de", recommend.Reason{Kind: recommend.ReasonPopularIn, Segment: "fr"}, "Beliebt in Frankreich"},
		{"query as typed", "de", recommend.Reason{Kind: recommend.ReasonSearch, Query: "trail-shoes"}, "Passt zu Ihrer Suche nach „trail-shoes“"},
		{"interest label", "de", recommend.Reason{Kind: recommend.ReasonDeclared, Interest: recommend.Interest{Text: "you're training for a marathon"}}, "Weil Sie uns gesagt haben: Sie trainieren für einen Marathon"},
		{"interest as written", "de", recommend.Reason{Kind: recommend.ReasonDeclared, Interest: recommend.Interest{Text: "Bergsteigen"}}, "Weil Sie uns gesagt haben: Bergsteigen"},
		{"interest by tags", "de", recommend.Reason{Kind: recommend.ReasonDeclared, Interest: recommend.Interest{Tags: []string{"open-water", "road_bikes", "yoga"}}}, "Weil Sie sich für Freiwasser, road bikes und yoga interessieren"},
		{"unknown language falls back to English", "fr", recommend.Reason{Kind: recommend.ReasonBrowsing, Category: "coffee-beans"}, "From Coffee beans, which you're browsing"},
		{"malformed language falls back to English", "!!", recommend.Reason{Kind: recommend.ReasonPopular}, "Popular with shoppers"},
		{"regional German falls back to German", "de-AT", recommend.Reason{Kind: recommend.ReasonPopular}, "Beliebt bei unseren Kundinnen und Kunden"},
		{"no kind: its Text", "de", recommend.Reason{Text: "Handpicked"}, "Handpicked"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.reason.Localize(host, tc.lang, cat))
		})
	}

	// Notes.
	notes := []struct {
		name, lang string
		w          recommend.Withheld
		want       string
	}{
		{"consent", "de", recommend.Withheld{Source: recommend.SourceHistory, Reason: recommend.WithheldConsent, Decision: consent.Decision{Reason: consent.ReasonGPC}},
			"Ihre Kaufhistorie nicht genutzt: Ihr Browser hat das Signal Global Privacy Control gesendet."},
		{"warm-up", "de", recommend.Withheld{Source: recommend.SourceDeclared, Reason: recommend.WithheldWarmUp, WarmUp: 90 * time.Second},
			"Ihre Angaben nicht genutzt: nicht in den ersten 90 Sekunden Ihres Besuchs (außer, um Artikel auszulassen)."},
		{"tier", "en", recommend.Withheld{Source: recommend.SourceHistory, Reason: recommend.WithheldTier},
			"Your purchase history not used: used only once you're an established customer."},
		{"policy", "de", recommend.Withheld{Source: recommend.SourceContext, Reason: recommend.WithheldPolicy, Category: consent.CategoryBehaviorSearch},
			"Was Sie gerade ansehen nicht genutzt: unsere Datenschutzerklärung deckt das hier nicht ab: wonach Sie suchen."},
		{"no profiles", "en", recommend.Withheld{Source: recommend.SourceFeedback, Reason: recommend.WithheldUnavailable, Err: recommend.ErrNoProfiles},
			"Your feedback not used: we hold none to use."},
		{"unknown language", "pt-BR", recommend.Withheld{Source: recommend.SourceFeedback, Reason: recommend.WithheldUnavailable, Err: errors.New("down")},
			"Your feedback not used: it is not available just now."},
	}
	for _, tc := range notes {
		t.Run("withheld "+tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.w.Localize(host, tc.lang))
		})
	}
	require.NoError(t, host.Set("de", "recommend.withheld", "{source}: nicht verwendet ({why})."))
	assert.Equal(t, "Ihre Bewertungen: nicht verwendet (Sie haben abgelehnt).",
		recommend.Withheld{Source: recommend.SourceFeedback, Reason: recommend.WithheldConsent, Decision: consent.Decision{Reason: consent.ReasonDenied}}.Localize(host, "de"))
}

// A catalog without the recommend texts (no call to Messages) still
// writes sentences: the built-in texts fill in.
func TestLocalizeWithoutMessages(t *testing.T) {
	c := consent.NewCatalog()
	assert.Equal(t, "Weil Sie sich für yoga interessieren",
		recommend.Reason{Kind: recommend.ReasonDeclared, Interest: recommend.Interest{Tags: []string{"yoga"}}}.Localize(c, "de", nil))
	assert.Equal(t, "Popular with shoppers", recommend.Reason{Kind: recommend.ReasonPopular}.Localize(nil, "en", nil))
}

// Every English text has a German one, every text is a well-formed
// template with the parameters its English text has, and Messages keeps a
// text the catalog already has.
func TestMessagesComplete(t *testing.T) {
	c := consent.NewCatalog()
	require.NoError(t, c.Set("de", "recommend.reason.popular", "Gefragt"))
	require.NoError(t, recommend.Messages(c))
	assert.Equal(t, "Gefragt", recommend.Reason{Kind: recommend.ReasonPopular}.Localize(c, "de", nil))
	var keys []string
	for k := recommend.ReasonPopular; k.String() != "unknown"; k++ {
		keys = append(keys, "recommend.reason."+k.String())
	}
	keys = append(keys, "recommend.reason.declared_tags", "recommend.untitled", "recommend.withheld", "recommend.withheld.leaves_out",
		"recommend.withheld.tier.recognized", "recommend.withheld.tier.established", "recommend.withheld.warm_up",
		"recommend.withheld.no_subject", "recommend.withheld.policy", "recommend.withheld.unavailable", "recommend.withheld.no_profiles",
		"recommend.span.minute.one", "recommend.span.minute.other", "recommend.span.second.one", "recommend.span.second.other")
	for s := recommend.SourcePopularity; s.String() != "unknown"; s++ {
		keys = append(keys, "recommend.source."+s.String())
	}
	keys = append(keys, "recommend.source.unknown")
	params := []string{"item", "category", "query", "segment", "interest", "tags", "source", "why", "span", "data", "n"}
	for _, k := range keys {
		for _, lang := range []string{"en", "de"} {
			assert.True(t, c.Has(lang, k), "%s has no %s text", k, lang)
		}
		// The same parameters in both languages.
		en, de := c.Text("en", k), c.Text("de", k)
		assert.NotEqual(t, en, de, k)
		for _, p := range params {
			assert.Equal(t, strings.Contains(en, "{"+p+"}"), strings.Contains(de, "{"+p+"}"), "%s: parameter %s", k, p)
		}
	}
}

// Withheld notes cost a request no allocation: their English texts are
// written once per Recommender and policy. An anonymous request with no
// subject withholds four sources and allocates only its response and
// state: 9 allocations, where writing each note per request made 13.
func TestWithheldNotesCostNoAllocation(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("allocation counts need a plain build without the race detector")
	}
	r, _, _ := shop()
	req := recommend.Request{At: now, VisitStart: visit, K: 3}
	resp, err := r.Recommend(ctx, req)
	require.NoError(t, err)
	require.Len(t, resp.Withheld, 4)
	allocs := testing.AllocsPerRun(200, func() { _, _ = r.Recommend(ctx, req) })
	t.Logf("%.0f allocations per request", allocs)
	assert.LessOrEqual(t, allocs, 9.0)
}
