package main

import (
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tact-go/tact/examples/internal/demo"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/recommendtest"
)

// catalogInfo is what the pages and forms need to know about the catalog.
type catalogInfo struct {
	interests   []interestOption
	sizes       []sizeDim
	tags        []string // every tag of the catalog, sorted
	tagSet      map[string]bool
	departments []department
	categories  map[string]bool
	trending    []recommend.Item
}

// interestOption is a declared interest the preference page offers: its
// label is the text "interest.KEY", or the department's name.
type interestOption struct {
	Key        string
	Department bool // Key is the name of a department
	Interest   recommend.Interest
}

// sizeDim is a size dimension ("shoe") and its values; its label is the
// text "size.DIM".
type sizeDim struct {
	Dim    string
	Values []string
}

// department is a group of catalog categories, for navigation.
type department struct {
	Name       string
	Categories []string
}

// Limits of the preference form.
const (
	maxAvoid     = 10
	maxBudget    = 100000
	maxFieldLen  = 500
	avoidField   = "avoid"
	budgetField  = "budget"
	interestName = "interest"
	sizePrefix   = "size-"
)

func newCatalogInfo(shop *demo.Shop) catalogInfo {
	c := catalogInfo{tagSet: make(map[string]bool), categories: make(map[string]bool)}
	for it := range shop.World.Catalog.All() {
		for _, t := range it.Tags {
			c.tagSet[t] = true
		}
		c.categories[it.Category] = true
	}
	for t := range c.tagSet {
		c.tags = append(c.tags, t)
	}
	slices.Sort(c.tags)

	c.interests = []interestOption{
		{Key: "marathon", Interest: recommend.Interest{Text: "you're training for a marathon", Tags: []string{"marathon"}}},
		{Key: "trail", Interest: recommend.Interest{Text: "you like the trails", Tags: []string{"trail"}}},
	}
	dims := map[string]*sizeDim{}
	for _, d := range recommendtest.Departments {
		var cats []string
		for _, k := range d.Categories {
			if c.categories[k] {
				cats = append(cats, k)
			}
		}
		if len(cats) > 0 {
			c.departments = append(c.departments, department{Name: d.Name, Categories: cats})
		}
		// Sensitive departments (health, baby) are not offered as
		// interests: the demo keeps to ordinary ones.
		if !d.Sensitive && c.tagSet[d.Name] {
			c.interests = append(c.interests, interestOption{Key: d.Name, Department: true,
				Interest: recommend.Interest{Text: "you're into " + d.Name, Tags: []string{d.Name}}})
		}
		for _, s := range d.Sizes {
			dim, val, _ := strings.Cut(s, ":")
			sd := dims[dim]
			if sd == nil {
				sd = &sizeDim{Dim: dim}
				dims[dim] = sd
				c.sizes = append(c.sizes, sizeDim{Dim: dim})
			}
			if !slices.Contains(sd.Values, val) {
				sd.Values = append(sd.Values, val)
			}
		}
	}
	for i := range c.sizes {
		c.sizes[i] = *dims[c.sizes[i].Dim]
	}
	for _, r := range shop.Trending.Top(demo.AllSegments) {
		if it, ok := shop.World.Catalog.Lookup(r.Item); ok {
			c.trending = append(c.trending, it)
		}
	}
	return c
}

// capitalize turns a key ("coffee-beans") into words ("Coffee beans"),
// for a key the texts have no label for.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + strings.ReplaceAll(s[1:], "-", " ")
}

// interestLabel returns the label of an interest on offer.
func (c *catalogInfo) interestLabel(x *visit, o interestOption) string {
	if o.Department {
		return x.Department(o.Key)
	}
	return x.T("interest." + o.Key)
}

// interestsText returns the declared interests of p in words: the labels
// of those on offer, the person's own words for any other.
func (c *catalogInfo) interestsText(x *visit, p recommend.Preferences) string {
	var words []string
	for _, in := range p.Interests {
		w := in.Text
		for _, o := range c.interests {
			if o.Interest.Text == in.Text {
				w = c.interestLabel(x, o)
			}
		}
		words = append(words, w)
	}
	return x.List(words)
}

// held returns the declared preferences held, in words.
func (c *catalogInfo) held(x *visit, p recommend.Preferences) string {
	or := func(s, none string) string {
		if s == "" {
			return x.T(none)
		}
		return s
	}
	budget := ""
	if p.MaxPrice > 0 {
		budget = x.Price(p.MaxPrice)
	}
	return x.T("prefs.held", "interests", or(c.interestsText(x, p), "data.none"), "sizes", or(x.List(x.SizeValues(p.Sizes)), "data.none"),
		"budget", or(budget, "data.none"), "avoid", or(x.List(p.Avoid), "data.none"))
}

// uniq returns the strings of ss, each once, in their order.
func uniq(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// prefsForm is the preference form as filled in: what it shows.
type prefsForm struct {
	Interests map[string]bool
	Sizes     map[string]string
	Budget    string
	Avoid     string
}

// fieldError is a problem with one field of a form; Field is the id of
// its input.
type fieldError struct {
	Field, Msg string
}

// formOf returns the form that shows p.
func (c *catalogInfo) formOf(p recommend.Preferences) prefsForm {
	f := prefsForm{Interests: map[string]bool{}, Sizes: map[string]string{}, Avoid: strings.Join(p.Avoid, ", ")}
	for _, in := range p.Interests {
		for _, o := range c.interests {
			if o.Interest.Text == in.Text {
				f.Interests[o.Key] = true
			}
		}
	}
	for _, s := range p.Sizes {
		dim, val, _ := strings.Cut(s, ":")
		f.Sizes[dim] = val
	}
	if p.MaxPrice > 0 {
		f.Budget = strconv.FormatFloat(p.MaxPrice, 'f', -1, 64)
	}
	return f
}

// parsePrefs reads the preference form. It returns the preferences, the
// form as submitted (to show again) and every problem found; with any
// problem the preferences must not be saved.
func (c *catalogInfo) parsePrefs(x *visit, v url.Values) (recommend.Preferences, prefsForm, []fieldError) {
	var p recommend.Preferences
	f := prefsForm{Interests: map[string]bool{}, Sizes: map[string]string{}}
	var errs []fieldError
	bad := func(field, key string, params ...string) {
		errs = append(errs, fieldError{Field: field, Msg: x.T(key, params...)})
	}
	single := func(name string) (string, bool) {
		vs := v[name]
		switch {
		case len(vs) > 1:
			bad(name, "form.twice", "field", name, "n", itoa(len(vs)))
			return "", false
		case len(vs) == 0:
			return "", true
		case len(vs[0]) > maxFieldLen:
			bad(name, "form.long", "field", name, "n", itoa(maxFieldLen))
			return "", false
		}
		return vs[0], true
	}

	for _, key := range v[interestName] {
		i := slices.IndexFunc(c.interests, func(o interestOption) bool { return o.Key == key })
		if i < 0 {
			bad("interest-"+c.interests[0].Key, "form.interest", "value", clip(key))
			continue
		}
		if !f.Interests[key] {
			f.Interests[key] = true
			p.Interests = append(p.Interests, c.interests[i].Interest)
		}
	}
	for _, d := range c.sizes {
		val, ok := single(sizePrefix + d.Dim)
		if !ok || val == "" {
			continue
		}
		f.Sizes[d.Dim] = val
		if !slices.Contains(d.Values, val) {
			bad(sizePrefix+d.Dim, "form.size", "size", x.T("size."+d.Dim), "value", clip(val), "values", x.List(d.Values))
			continue
		}
		p.Sizes = append(p.Sizes, d.Dim+":"+val)
	}
	if budget, ok := single(budgetField); ok {
		f.Budget = budget
		if b := strings.TrimSpace(budget); b != "" {
			// A decimal comma ("79,90") is read as a point.
			n, err := strconv.ParseFloat(strings.Replace(b, ",", ".", 1), 64)
			switch {
			case err != nil || math.IsNaN(n) || math.IsInf(n, 0):
				bad(budgetField, "form.budget.nan", "value", clip(b))
			case n < 0 || n > maxBudget:
				bad(budgetField, "form.budget.range", "max", itoa(maxBudget))
			default:
				p.MaxPrice = n
			}
		}
	}
	if avoid, ok := single(avoidField); ok {
		f.Avoid = avoid
		var unknown []string
		for _, t := range strings.FieldsFunc(avoid, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r' }) {
			t = strings.ToLower(t)
			switch {
			case !c.tagSet[t]:
				unknown = append(unknown, x.T("quote", "s", clip(t)))
			case !slices.Contains(p.Avoid, t):
				p.Avoid = append(p.Avoid, t)
			}
		}
		switch {
		case len(unknown) > 0:
			bad(avoidField, "form.avoid.unknown", "tags", x.List(unknown))
		case len(p.Avoid) > maxAvoid:
			bad(avoidField, "form.avoid.many", "max", itoa(maxAvoid), "n", itoa(len(p.Avoid)))
		}
	}
	return p, f, errs
}

// clip shortens what a visitor typed before it is quoted back to them.
func clip(s string) string {
	const n = 40
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
