package consent_test

import (
	"math/rand/v2"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
)

// builtinKeys are keys every shipped language must have: the reasons,
// bases, channels and the default taxonomy's categories, and the receipt's
// sentences.
func builtinKeys() []string {
	var keys []string
	for r := consent.ReasonUnknown; r <= consent.ReasonLegitimateInterest; r++ {
		keys = append(keys, "reason."+r.String())
	}
	for b := consent.BasisUnknown; b <= consent.BasisLegitimateInterest; b++ {
		keys = append(keys, "basis."+b.String())
	}
	for _, ch := range []consent.Channel{consent.ChannelWeb, consent.ChannelApp, consent.ChannelStore, consent.ChannelCallCentre,
		consent.ChannelEmail, consent.ChannelPost, consent.ChannelAPI} {
		keys = append(keys, "channel."+string(ch))
	}
	for _, c := range append(consent.SensitiveCategories(), consent.CategoryContactEmail, consent.CategoryBehaviorPurchaseHistory,
		consent.CategoryBehaviorBrowsingHistory, consent.CategoryBehaviorSearch, consent.CategoryBehaviorSession,
		consent.CategoryPreferenceDeclared, consent.CategoryPreferenceFeedback, consent.CategoryDeviceID) {
		keys = append(keys, "category."+string(c))
	}
	keys = append(keys, []string{"date", "list.and", "list.comma", "receipt.title", "receipt.as_of", "receipt.on", "receipt.off",
		"receipt.lapsed", "receipt.none", "receipt.benefit", "receipt.uses", "receipt.agreed", "receipt.agreed_as_part",
		"receipt.until", "receipt.denied", "receipt.withdrawn", "receipt.objected", "receipt.gpc", "receipt.lapsed_item",
		"receipt.change", "receipt.contact", "receipt.notice", "receipt.proof", "confirm_gpc.disclosure", "confirm_gpc.action"}...)
	for m := 1; m <= 12; m++ {
		keys = append(keys, "month."+strconv.Itoa(m))
	}
	return keys
}

func TestCatalogComplete(t *testing.T) {
	c := consent.NewCatalog()
	assert.Equal(t, []string{"de", "en"}, c.Languages())
	for _, k := range builtinKeys() {
		for _, lang := range c.Languages() {
			assert.True(t, c.Has(lang, k), "%s has no text for %s", lang, k)
		}
	}
	// Parameters are the same in every language.
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	for _, k := range builtinKeys() {
		en := param.FindAllString(c.Text("en", k), -1)
		de := param.FindAllString(c.Text("de", k), -1)
		assert.ElementsMatch(t, en, de, "%s: parameters", k)
	}
	// Reason.Text is the English catalog text, and never empty.
	for r := consent.ReasonUnknown; r <= consent.ReasonLegitimateInterest+2; r++ {
		assert.NotEmpty(t, r.Text())
		assert.NotContains(t, r.Text(), "reason.")
	}
}

func TestCatalogText(t *testing.T) {
	c := consent.NewCatalog()
	require.NoError(t, c.Set("pt", "hello", "Olá, {name}"))
	require.NoError(t, c.Set("pt-BR", "bye", "Tchau {{literal}} {name}"))
	assert.Equal(t, "Olá, Ana", c.Text("pt-BR", "hello", "name", "Ana"), "pt-BR falls back to pt")
	assert.Equal(t, "Tchau {literal} Ana", c.Text("pt-br", "bye", "name", "Ana"))
	assert.Equal(t, "Olá, {name}", c.Text("pt", "hello"), "a missing parameter stays visible")
	assert.Equal(t, "you withdrew your consent", c.Text("pt", "reason.withdrawn"), "then English")
	assert.Equal(t, "no.such.key", c.Text("de", "no.such.key"))
	for _, bad := range [][3]string{{"", "k", "x"}, {"e", "k", "x"}, {"en_US", "k", "x"}, {"toolongsubtag", "k", "x"},
		{"en", "", "x"}, {"en", "k", "open {brace"}, {"en", "k", "close } brace"}, {"en", "k", "empty {}"}, {"en", "k", "{a b}"}} {
		assert.ErrorIs(t, c.Set(bad[0], bad[1], bad[2]), consent.ErrInvalidMessage, "%q", bad)
	}
	// Dates, lists, categories and channels in words.
	d := time.Date(2026, 3, 9, 23, 30, 0, 0, time.UTC)
	assert.Equal(t, "9 March 2026", c.Date("en", d))
	assert.Equal(t, "9. März 2026", c.Date("de", d))
	assert.Equal(t, "a, b and c", c.List("en", []string{"a", "b", "c"}))
	assert.Equal(t, "a und b", c.List("de", []string{"a", "b"}))
	assert.Equal(t, "your contact details", c.Category("en", "user.contact.messenger"), "the nearest category above")
	assert.Equal(t, "shoe size", c.Category("en", "shop.shoe_size"), "the last part in words")
	assert.Equal(t, "your email address", c.Categories("en", []consent.Category{consent.CategoryContactEmail, consent.CategoryContactEmail}))
	assert.Equal(t, "through kiosk screen", c.Channel("en", "kiosk_screen"))
	assert.Equal(t, "by phone", c.Channel("en", consent.ChannelCallCentre))
	label, benefit := c.Purpose("de", consenttest.RetailPolicy(), consent.PurposeMarketingEmail)
	assert.Equal(t, "Offers by email", label, "the policy's own text without a catalog label")
	assert.NotEmpty(t, benefit)
	require.NoError(t, c.Set("de", "purpose.marketing.email", "Angebote per E-Mail"))
	label, _ = c.Purpose("de", consenttest.RetailPolicy(), consent.PurposeMarketingEmail)
	assert.Equal(t, "Angebote per E-Mail", label)
}

func TestCatalogMatch(t *testing.T) {
	c := consent.NewCatalog()
	require.NoError(t, c.Set("pt-BR", "hello", "Olá"))
	for accept, want := range map[string]string{
		"":                                "en",
		"de":                              "de",
		"de-CH":                           "de",
		"DE-at, en;q=0.5":                 "de",
		"fr, de;q=0.4, en;q=0.3":          "de",
		"fr, de;q=0.3, en;q=0.4":          "en",
		"de;q=0, en":                      "en",
		"pt":                              "pt-br",
		"pt-BR":                           "pt-br",
		"ja, *;q=0.1":                     "en",
		"de;q=nonsense":                   "en",
		"zz-Latn-12345678901, de;q=0.2":   "de",
		"   de   ;   q=0.8  ,en;q=0.9   ": "en",
	} {
		assert.Equal(t, want, c.Match(accept), "%q", accept)
	}
}

// TestReceiptsShowNoKeys: over random histories, a receipt in either
// shipped language names no purpose, category or channel key, no hash and
// no subject id.
func TestReceiptsShowNoKeys(t *testing.T) {
	pol := consenttest.RetailPolicy()
	c := consent.NewCatalog()
	rng := rand.New(rand.NewPCG(9, 9))
	hexRun := regexp.MustCompile(`[0-9a-f]{16}`)
	channels := []consent.Channel{consent.ChannelWeb, consent.ChannelApp, consent.ChannelCallCentre, consent.ChannelEmail, "kiosk_screen"}
	for it := 0; it < 200; it++ {
		g, err := consent.NewGate(pol, consent.NewMemoryStore(), consent.GateConfig{Regime: consent.Regime(1 + rng.IntN(3))})
		require.NoError(t, err)
		const who = "subject-8d1e"
		at := now.Add(-400 * day)
		for range rng.IntN(10) {
			s := pol.Purposes[rng.IntN(len(pol.Purposes))]
			if !s.Basis.NeedsConsent() && s.Basis != consent.BasisLegitimateInterest {
				continue
			}
			a := consent.Action(1 + rng.IntN(3))
			if s.Basis == consent.BasisLegitimateInterest {
				a = consent.Deny
			}
			at = at.Add(time.Duration(rng.IntN(60*24)) * time.Hour)
			e := consent.Event{Action: a, Subject: who, Purpose: s.Purpose, At: at, Channel: channels[rng.IntN(len(channels))]}
			_, err := g.Record(ctx, e)
			require.NoError(t, err)
		}
		if rng.IntN(3) == 0 {
			_, err := g.Decide(ctx, who, consent.PurposeAdvertising, at.Add(time.Hour), consent.Signals{GPC: true})
			require.NoError(t, err)
		}
		rc, err := g.Receipt(ctx, who, now)
		require.NoError(t, err)
		for _, lang := range []string{"en", "de"} {
			text := c.Receipt(lang, &rc)
			for _, s := range pol.Purposes {
				require.NotRegexp(t, `(^|[^A-Za-z_.])`+regexp.QuoteMeta(string(s.Purpose))+`($|[^A-Za-z_.])`, text, "%s receipt names purpose key %s:\n%s", lang, s.Purpose, text)
				for _, cat := range s.Categories {
					require.NotContains(t, text, string(cat))
				}
			}
			for _, bad := range []string{"user.", "call_centre", "kiosk_screen", who, "{", "}"} {
				require.NotContains(t, text, bad, "%s receipt:\n%s", lang, text)
			}
			require.False(t, hexRun.MatchString(text), "no hash in the way:\n%s", text)
		}
	}
}
