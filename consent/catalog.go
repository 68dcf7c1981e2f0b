package consent

import (
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrInvalidMessage is the error of [Catalog.Set] for a malformed language
// tag, key or template.
var ErrInvalidMessage = errors.New("consent: invalid message")

// Catalog holds the texts tact shows people, by language: why a purpose
// is on or off, what a legal basis and a data category are in words, how
// a receipt reads. Every person-facing string comes from one, so that none
// shows a raw key, and the language is chosen per request ([Catalog.Match]
// reads an Accept-Language header).
//
// [NewCatalog] returns the built-in texts in English ("en", the fallback)
// and German ("de"). A host adds languages, replaces texts, and gives its
// policy's purposes their labels in other languages (keys "purpose.KEY"
// and "benefit.KEY"; without them, the policy's own Description and
// Benefit are used; "policy.withdraw" for how to withdraw) with
// [Catalog.Set]. Texts are templates that name
// their parameters in braces, "You agreed on {date}"; "{{" and "}}" write
// a brace.
//
// Set everything up before use: a Catalog is safe for concurrent reads,
// not for reads concurrent with Set.
type Catalog struct {
	langs map[string]map[string]string // language tag (lower case) → key → template
}

// fallbackLang is the language every built-in key has a text in.
const fallbackLang = "en"

// NewCatalog returns a catalog of the built-in texts, in English and
// German.
func NewCatalog() *Catalog {
	c := &Catalog{langs: map[string]map[string]string{}}
	for lang, msgs := range builtinMessages {
		c.langs[lang] = maps.Clone(msgs)
	}
	return c
}

// defaultCatalog is the built-in catalog, for the English texts of
// [Reason.Text] and [Receipt.Text].
var defaultCatalog = sync.OnceValue(NewCatalog)

// Set sets the text of key in lang, a BCP 47 language tag ("pt-BR").
// Errors (unwrapping to [ErrInvalidMessage]): a malformed tag, an empty
// key, or a template with an unclosed brace or an empty parameter name.
func (c *Catalog) Set(lang, key, template string) error {
	tag, ok := normalizeTag(lang)
	if !ok {
		return &messageError{"language tag " + strconv.Quote(lang) + " is not of the form ll or ll-RR"}
	}
	if key == "" {
		return &messageError{"empty key"}
	}
	if _, ok := render(template, nil); !ok {
		return &messageError{"template of " + key + " has an unclosed brace or an empty parameter: " + strconv.Quote(template)}
	}
	if c.langs[tag] == nil {
		c.langs[tag] = map[string]string{}
	}
	c.langs[tag][key] = template
	return nil
}

type messageError struct{ why string }

func (e *messageError) Error() string { return ErrInvalidMessage.Error() + ": " + e.why }
func (e *messageError) Unwrap() error { return ErrInvalidMessage }

// Languages returns the catalog's languages, sorted.
func (c *Catalog) Languages() []string { return slices.Sorted(maps.Keys(c.langs)) }

// Text returns the text of key in lang with its parameters filled in from
// params, given as name, value pairs. A language without the key falls
// back to its base language ("pt-BR" to "pt") and then to English; a key
// no language has comes back as the key itself, which the catalog's tests
// make sure no built-in text needs. Parameters a template does not name
// are ignored; a name it uses that params lack is left as "{name}".
func (c *Catalog) Text(lang, key string, params ...string) string {
	t, ok := c.lookup(lang, key)
	if !ok {
		return key
	}
	s, _ := render(t, params)
	return s
}

// lookup returns the template of key for lang, with fallbacks.
func (c *Catalog) lookup(lang, key string) (string, bool) {
	tag, _ := normalizeTag(lang)
	for tag != "" {
		if t, ok := c.langs[tag][key]; ok {
			return t, true
		}
		i := strings.LastIndexByte(tag, '-')
		if i < 0 {
			break
		}
		tag = tag[:i]
	}
	t, ok := c.langs[fallbackLang][key]
	return t, ok
}

// Has reports whether lang itself (not a fallback) has a text for key.
func (c *Catalog) Has(lang, key string) bool {
	tag, _ := normalizeTag(lang)
	_, ok := c.langs[tag][key]
	return ok
}

// Match returns the catalog language that best serves an HTTP
// Accept-Language header value ("de-CH, de;q=0.9, en;q=0.5"): the
// highest-weighted range that a catalog language matches exactly, by its
// base language ("de-CH" by "de") or as a prefix ("pt" by "pt-BR"), and
// English when none does. Ranges weighted 0 are refusals.
func (c *Catalog) Match(accept string) string {
	best, bestQ := fallbackLang, -1.0
	for _, part := range strings.Split(accept, ",") {
		rng, q := parseRange(part)
		if rng == "" || q <= 0 || q <= bestQ {
			continue
		}
		if lang, ok := c.matchRange(rng); ok {
			best, bestQ = lang, q
		}
	}
	return best
}

// matchRange returns the catalog language for one language range.
func (c *Catalog) matchRange(rng string) (string, bool) {
	if rng == "*" {
		return fallbackLang, true
	}
	for tag := rng; tag != ""; {
		if _, ok := c.langs[tag]; ok {
			return tag, true
		}
		i := strings.LastIndexByte(tag, '-')
		if i < 0 {
			break
		}
		tag = tag[:i]
	}
	for _, lang := range c.Languages() {
		if strings.HasPrefix(lang, rng+"-") {
			return lang, true
		}
	}
	return "", false
}

// parseRange parses "de-CH;q=0.8" into its normalized range and weight.
func parseRange(part string) (string, float64) {
	rng, params, _ := strings.Cut(strings.TrimSpace(part), ";")
	q := 1.0
	if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 || f > 1 {
			return "", 0
		}
		q = f
	}
	if strings.TrimSpace(rng) == "*" {
		return "*", q
	}
	tag, ok := normalizeTag(rng)
	if !ok {
		return "", 0
	}
	return tag, q
}

// normalizeTag lower-cases a BCP 47 tag after checking its shape, the
// one a policy's Language must have.
func normalizeTag(tag string) (string, bool) {
	tag = strings.TrimSpace(tag)
	if len(tag) > 64 || !languageTag.MatchString(tag) {
		return "", false
	}
	return strings.ToLower(tag), true
}

// render fills in template's parameters and reports whether the template
// is well formed. With nil params it only checks.
func render(template string, params []string) (string, bool) {
	if !strings.ContainsAny(template, "{}") {
		return template, true
	}
	var b strings.Builder
	for i := 0; i < len(template); i++ {
		ch := template[i]
		switch {
		case (ch == '{' || ch == '}') && i+1 < len(template) && template[i+1] == ch:
			b.WriteByte(ch)
			i++
		case ch == '}':
			return template, false
		case ch == '{':
			end := strings.IndexByte(template[i:], '}')
			if end < 2 {
				return template, false
			}
			name := template[i+1 : i+end]
			if strings.ContainsAny(name, "{ ") {
				return template, false
			}
			v, found := "", false
			for j := 0; j+1 < len(params); j += 2 {
				if params[j] == name {
					v, found = params[j+1], true
					break
				}
			}
			if !found {
				v = template[i : i+end+1]
			}
			b.WriteString(v)
			i += end
		default:
			b.WriteByte(ch)
		}
	}
	return b.String(), true
}

// Reason returns why a decision came out as it did, in words.
func (c *Catalog) Reason(lang string, r Reason) string {
	return c.Text(lang, "reason."+r.String())
}

// Basis returns a legal basis in words.
func (c *Catalog) Basis(lang string, b Basis) string {
	return c.Text(lang, "basis."+b.String())
}

// Category returns a data category in words ("your purchase history"): its
// own text, else that of the nearest category above it with one, else its
// last part with underscores as spaces ("user.shoe_size" is "shoe size").
func (c *Catalog) Category(lang string, cat Category) string {
	for k := cat; k != ""; k = Category(Purpose(k).Parent()) {
		if t, ok := c.lookup(lang, "category."+string(k)); ok {
			return t
		}
	}
	s := string(cat)
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		s = s[i+1:]
	}
	return strings.ReplaceAll(s, "_", " ")
}

// Categories returns the categories in words, as one list ("your email
// address and your purchase history"), each once.
func (c *Catalog) Categories(lang string, cats []Category) string {
	var words []string
	for _, cat := range cats {
		if w := c.Category(lang, cat); !slices.Contains(words, w) {
			words = append(words, w)
		}
	}
	return c.List(lang, words)
}

// Channel returns where a choice was made, as a phrase that follows a
// verb ("on our website").
func (c *Catalog) Channel(lang string, ch Channel) string {
	if t, ok := c.lookup(lang, "channel."+string(ch)); ok {
		return t
	}
	return c.Text(lang, "channel.other", "channel", strings.ReplaceAll(string(ch), "_", " "))
}

// Purpose returns the label and the benefit of a purpose of the policy:
// the catalog's texts for "purpose.KEY" and "benefit.KEY" in lang if it
// has them, else the policy's Description and Benefit.
func (c *Catalog) Purpose(lang string, p *Policy, purpose Purpose) (label, benefit string) {
	spec, _ := p.Spec(purpose)
	return c.purposeText(lang, purpose, spec.Description, spec.Benefit)
}

// purposeText is Purpose given the policy's texts.
func (c *Catalog) purposeText(lang string, purpose Purpose, label, benefit string) (string, string) {
	if t, ok := c.lookup(lang, "purpose."+string(purpose)); ok {
		label = t
	}
	if t, ok := c.lookup(lang, "benefit."+string(purpose)); ok {
		benefit = t
	}
	if label == "" {
		label = c.Text(lang, "label.unnamed")
	}
	return label, benefit
}

// Withdraw returns how to withdraw consent, in lang: the catalog's text
// for "policy.withdraw" if it has one, else the policy's Withdraw.
func (c *Catalog) Withdraw(lang string, p *Policy) string {
	if t, ok := c.lookup(lang, "policy.withdraw"); ok {
		return t
	}
	return p.Withdraw
}

// Date returns t's UTC date in words ("5 December 2026").
func (c *Catalog) Date(lang string, t time.Time) string {
	t = t.UTC()
	return c.Text(lang, "date", "day", strconv.Itoa(t.Day()), "month", c.Text(lang, "month."+strconv.Itoa(int(t.Month()))),
		"year", strconv.Itoa(t.Year()))
}

// List joins words as a list in lang ("a, b and c").
func (c *Catalog) List(lang string, words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], c.Text(lang, "list.comma")) + c.Text(lang, "list.and") + words[len(words)-1]
}
