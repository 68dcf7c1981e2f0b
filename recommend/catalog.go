package recommend

import (
	"iter"
	"slices"
	"strings"
	"unicode"
)

// Item is one thing that can be recommended.
type Item struct {
	// ID identifies the item; it must be non-empty and unique in a catalog.
	ID string
	// Title is shown to people and used in explanations ("Because you
	// bought Trail shoes"); in a language of its own, a message catalog's
	// text for "recommend.item.ID" ([Reason.Localize]).
	Title string
	// Category is the item's shelf in the catalog ("running-shoes"). It is a
	// merchandising category, not a data category of the consent taxonomy.
	// People see it as a message catalog's text for
	// "recommend.category.KEY", else in words ("running shoes").
	Category string
	// Tags describe the item ("running", "marathon", "waterproof"); declared
	// interests and avoided tags are matched against them, and search
	// queries against tags and title.
	Tags []string
	// Price in the host's currency, 0 when unknown. A declared budget
	// removes items above it.
	Price float64
	// Sizes the item comes in, each "dimension:value" ("shoe:42",
	// "top:M"). A person who declared a size in a dimension only sees items
	// that come in it; items with no size in that dimension are unaffected.
	Sizes []string
	// Sensitive items (health, children, intimate products, ...) are never
	// recommended from history, context or inference: only when the person
	// declared an interest they match.
	Sensitive bool
	// Promotional items are held back during the warm-up of a visit.
	Promotional bool
	// Replenishable items (groceries, consumables) may be recommended again
	// after they were bought.
	Replenishable bool
}

// Item flags, kept apart from the items so that serving checks them
// without touching the (large) Item structs.
const (
	flagSensitive uint8 = 1 << iota
	flagPromotional
	flagReplenishable
)

// Catalog is an immutable set of items with indexes for serving. It is safe
// for simultaneous use by multiple goroutines.
type Catalog struct {
	items      []Item
	flags      []uint8 // flagSensitive | flagPromotional | flagReplenishable, per item
	index      map[string]int32
	byCategory map[string][]int32
	byTag      map[string][]int32
	byToken    map[string][]int32
}

// NewCatalog returns a catalog of copies of items. An empty id is an
// [*ItemError] wrapping [ErrEmptyID]; a repeated id is an [*ItemError]
// wrapping [ErrDuplicateItem]. An empty catalog is valid: every
// recommendation from it is empty.
func NewCatalog(items []Item) (*Catalog, error) {
	c := &Catalog{
		items:      make([]Item, len(items)),
		flags:      make([]uint8, len(items)),
		index:      make(map[string]int32, len(items)),
		byCategory: make(map[string][]int32),
		byTag:      make(map[string][]int32),
		byToken:    make(map[string][]int32),
	}
	for i, it := range items {
		if it.ID == "" {
			return nil, &ItemError{Index: i, ID: it.ID, Err: ErrEmptyID}
		}
		if _, dup := c.index[it.ID]; dup {
			return nil, &ItemError{Index: i, ID: it.ID, Err: ErrDuplicateItem}
		}
		it.Tags = slices.Clone(it.Tags)
		it.Sizes = slices.Clone(it.Sizes)
		idx := int32(i)
		c.items[i] = it
		if it.Sensitive {
			c.flags[i] |= flagSensitive
		}
		if it.Promotional {
			c.flags[i] |= flagPromotional
		}
		if it.Replenishable {
			c.flags[i] |= flagReplenishable
		}
		c.index[it.ID] = idx
		if it.Category != "" {
			c.byCategory[it.Category] = append(c.byCategory[it.Category], idx)
		}
		var toks []string
		for _, t := range it.Tags {
			if t == "" {
				continue
			}
			if l := c.byTag[t]; len(l) == 0 || l[len(l)-1] != idx {
				c.byTag[t] = append(l, idx)
			}
			toks = appendTokens(toks, t)
		}
		toks = appendTokens(toks, it.Title)
		slices.Sort(toks)
		for _, t := range slices.Compact(toks) {
			c.byToken[t] = append(c.byToken[t], idx)
		}
	}
	return c, nil
}

// Len returns the number of items.
func (c *Catalog) Len() int {
	if c == nil {
		return 0
	}
	return len(c.items)
}

// Lookup returns the item with the given id.
func (c *Catalog) Lookup(id string) (Item, bool) {
	i, ok := c.lookup(id)
	if !ok {
		return Item{}, false
	}
	return c.items[i], true
}

// All iterates over the items in the order they were given to [NewCatalog].
// The yielded items share their Tags and Sizes with the catalog: do not
// modify them.
func (c *Catalog) All() iter.Seq[Item] {
	return func(yield func(Item) bool) {
		if c == nil {
			return
		}
		for _, it := range c.items {
			if !yield(it) {
				return
			}
		}
	}
}

func (c *Catalog) lookup(id string) (int32, bool) {
	if c == nil {
		return 0, false
	}
	i, ok := c.index[id]
	return i, ok
}

// appendTokens appends the lower-case letter-or-digit runs of s.
func appendTokens(dst []string, s string) []string {
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		dst = append(dst, strings.ToLower(f))
	}
	return dst
}
