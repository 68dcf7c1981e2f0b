package main

import (
	"fmt"
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

// interestOption is a declared interest the preference centre offers.
type interestOption struct {
	Key, Label string
	Interest   recommend.Interest
}

// sizeDim is a size dimension ("shoe") and its values.
type sizeDim struct {
	Dim, Label string
	Values     []string
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
		{Key: "marathon", Label: "Training for a marathon",
			Interest: recommend.Interest{Text: "you're training for a marathon", Tags: []string{"marathon"}}},
		{Key: "trail", Label: "Running or hiking on trails",
			Interest: recommend.Interest{Text: "you like the trails", Tags: []string{"trail"}}},
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
			c.interests = append(c.interests, interestOption{Key: d.Name, Label: capitalize(d.Name),
				Interest: recommend.Interest{Text: "you're into " + d.Name, Tags: []string{d.Name}}})
		}
		for _, s := range d.Sizes {
			dim, val, _ := strings.Cut(s, ":")
			sd := dims[dim]
			if sd == nil {
				sd = &sizeDim{Dim: dim, Label: capitalize(dim) + " size"}
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

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + strings.ReplaceAll(s[1:], "-", " ")
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
func (c *catalogInfo) parsePrefs(v url.Values) (recommend.Preferences, prefsForm, []fieldError) {
	var p recommend.Preferences
	f := prefsForm{Interests: map[string]bool{}, Sizes: map[string]string{}}
	var errs []fieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, fieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	single := func(name string) (string, bool) {
		vs := v[name]
		switch {
		case len(vs) > 1:
			bad(name, "The field %q was sent %d times; send it once.", name, len(vs))
			return "", false
		case len(vs) == 0:
			return "", true
		case len(vs[0]) > maxFieldLen:
			bad(name, "The field %q is longer than %d characters.", name, maxFieldLen)
			return "", false
		}
		return vs[0], true
	}

	for _, key := range v[interestName] {
		i := slices.IndexFunc(c.interests, func(o interestOption) bool { return o.Key == key })
		if i < 0 {
			bad("interest-"+c.interests[0].Key, "%q is not one of the interests on offer.", clip(key))
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
			bad(sizePrefix+d.Dim, "%s %q does not exist; choose one of %s, or no preference.", d.Label, clip(val), strings.Join(d.Values, ", "))
			continue
		}
		p.Sizes = append(p.Sizes, d.Dim+":"+val)
	}
	if budget, ok := single(budgetField); ok {
		f.Budget = budget
		if b := strings.TrimSpace(budget); b != "" {
			x, err := strconv.ParseFloat(b, 64)
			switch {
			case err != nil || math.IsNaN(x) || math.IsInf(x, 0):
				bad(budgetField, "Budget %q is not a number; write a price such as 80 or 79.90, or leave it empty for no budget.", clip(b))
			case x < 0 || x > maxBudget:
				bad(budgetField, "Budget must be between 0 and %d (0 or empty: no budget).", maxBudget)
			default:
				p.MaxPrice = x
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
				unknown = append(unknown, strconv.Quote(clip(t)))
			case !slices.Contains(p.Avoid, t):
				p.Avoid = append(p.Avoid, t)
			}
		}
		switch {
		case len(unknown) > 0:
			bad(avoidField, "No item is tagged %s. Tags you can avoid are listed under the field.", strings.Join(unknown, ", "))
		case len(p.Avoid) > maxAvoid:
			bad(avoidField, "At most %d tags to avoid, please (you gave %d).", maxAvoid, len(p.Avoid))
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
