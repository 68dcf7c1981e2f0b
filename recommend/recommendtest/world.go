package recommendtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/tact-go/tact/recommend"
)

// Epoch is the start of the synthetic timeline: every generated time is in
// the year after it.
var Epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Department is a part of the synthetic store: its catalog categories and
// the tags its items carry.
type Department struct {
	Name          string
	Categories    []string
	Tags          []string
	Sensitive     bool // e.g. pharmacy, baby
	Replenishable bool // consumables
	Sizes         []string
}

// Departments of the synthetic store. Two are sensitive (pharmacy: health;
// baby: children).
var Departments = []Department{
	{Name: "running", Categories: []string{"running-shoes", "running-apparel"}, Tags: []string{"running", "marathon", "trail", "road", "lightweight"}, Sizes: []string{"shoe:40", "shoe:41", "shoe:42", "shoe:43", "shoe:44"}},
	{Name: "hiking", Categories: []string{"hiking-boots", "backpacks"}, Tags: []string{"hiking", "trail", "waterproof", "camping"}, Sizes: []string{"shoe:40", "shoe:41", "shoe:42", "shoe:43", "shoe:44"}},
	{Name: "yoga", Categories: []string{"yoga-mats", "yoga-apparel"}, Tags: []string{"yoga", "stretching", "mindfulness"}, Sizes: []string{"top:S", "top:M", "top:L"}},
	{Name: "cycling", Categories: []string{"bikes", "cycling-gear"}, Tags: []string{"cycling", "road", "commuting", "helmet"}},
	{Name: "swimming", Categories: []string{"swimwear", "swim-gear"}, Tags: []string{"swimming", "pool", "open-water"}, Sizes: []string{"top:S", "top:M", "top:L"}},
	{Name: "kitchen", Categories: []string{"cookware", "utensils"}, Tags: []string{"cooking", "baking", "kitchen"}},
	{Name: "coffee", Categories: []string{"coffee-beans", "brewing"}, Tags: []string{"coffee", "espresso", "organic"}, Replenishable: true},
	{Name: "books", Categories: []string{"fiction", "non-fiction"}, Tags: []string{"books", "reading", "training-plans"}},
	{Name: "garden", Categories: []string{"plants", "tools"}, Tags: []string{"gardening", "outdoor", "organic"}},
	{Name: "nutrition", Categories: []string{"energy-gels", "protein"}, Tags: []string{"nutrition", "marathon", "energy"}, Replenishable: true},
	{Name: "pharmacy", Categories: []string{"supplements", "first-aid"}, Tags: []string{"health", "vitamins", "pregnancy"}, Sensitive: true, Replenishable: true},
	{Name: "baby", Categories: []string{"nursery", "baby-care"}, Tags: []string{"baby", "children", "nursery"}, Sensitive: true},
}

// brands of the synthetic store (fictional), one drawn per item.
var brands = []string{"Stride", "Summit", "Aero", "Kinetic", "Nordic", "Terra", "Pulse", "Harbor", "Ember", "Willow", "Cobalt", "Juniper"}

// products names what the items of each catalog category are.
var products = map[string][]string{
	"running-shoes":   {"road running shoes", "trail running shoes", "racing flats", "cushioned trainers"},
	"running-apparel": {"running tee", "running tights", "running jacket", "running socks"},
	"hiking-boots":    {"hiking boots", "approach shoes", "trekking sandals"},
	"backpacks":       {"daypack", "trekking pack", "hydration pack"},
	"yoga-mats":       {"yoga mat", "travel yoga mat", "yoga block"},
	"yoga-apparel":    {"yoga leggings", "yoga top", "yoga hoodie"},
	"bikes":           {"road bike", "gravel bike", "city bike"},
	"cycling-gear":    {"bike helmet", "bike lights", "cycling gloves"},
	"swimwear":        {"swimsuit", "swim shorts", "rash guard"},
	"swim-gear":       {"swim goggles", "swim cap", "kickboard"},
	"cookware":        {"frying pan", "stock pot", "dutch oven"},
	"utensils":        {"chef's knife", "whisk", "spatula set"},
	"coffee-beans":    {"espresso beans", "filter roast", "decaf beans"},
	"brewing":         {"pour-over kettle", "french press", "coffee grinder"},
	"fiction":         {"novel", "thriller", "short stories"},
	"non-fiction":     {"marathon training plan", "trail guide", "cookbook"},
	"plants":          {"herb kit", "tomato seedlings", "olive tree"},
	"tools":           {"pruning shears", "garden trowel", "watering can"},
	"energy-gels":     {"energy gels", "electrolyte tabs", "energy bars"},
	"protein":         {"whey protein", "recovery shake", "protein bars"},
	"supplements":     {"multivitamins", "prenatal vitamins", "iron supplement"},
	"first-aid":       {"blister plasters", "knee support", "first-aid kit"},
	"nursery":         {"baby monitor", "cot mobile", "changing mat"},
	"baby-care":       {"baby lotion", "nappies", "baby carrier"},
}

// title names item i of category cat: a brand and a product, with a model
// number when the pair was already taken.
func title(brand, cat string, i int, taken map[string]int) string {
	names := products[cat]
	t := brand + " " + cat
	if len(names) > 0 {
		t = brand + " " + names[(i/len(Departments))%len(names)]
	}
	taken[t]++
	if n := taken[t]; n > 1 {
		t += " " + strconv.Itoa(n)
	}
	return t
}

// Options configure [Generate]. Zero fields take the documented defaults.
type Options struct {
	Seed           uint64
	Items          int // catalog size; default 500
	Shoppers       int // default 200
	ItemsPerPerson int // mean interactions per shopper; default 20
	// PromotionalShare is the fraction of promotional items; default 0.1.
	PromotionalShare float64
}

// World is a synthetic store: a catalog, shoppers with profiles and the
// interactions that train the cross-person models.
type World struct {
	Items        []recommend.Item
	Catalog      *recommend.Catalog
	Shoppers     []Shopper
	Interactions []recommend.Interaction
	// ByDepartment lists item ids per department name.
	ByDepartment map[string][]string
}

// Shopper is one synthetic person: their relationship with the store,
// what they declared, their feedback and history, and the departments they
// actually shop in (ground truth for tests).
type Shopper struct {
	ID           string
	Relationship recommend.Relationship
	Preferences  recommend.Preferences
	Feedback     []recommend.Feedback
	History      []recommend.Event
	Departments  []string
}

// Generate returns a deterministic synthetic world for o. Shoppers shop
// mostly (85%) in one to three departments, with Zipf-distributed item
// popularity inside each, so that co-occurrence carries signal.
func Generate(o Options) *World {
	if o.Items <= 0 {
		o.Items = 500
	}
	if o.Shoppers <= 0 {
		o.Shoppers = 200
	}
	if o.ItemsPerPerson <= 0 {
		o.ItemsPerPerson = 20
	}
	if o.PromotionalShare == 0 {
		o.PromotionalShare = 0.1
	}
	r := rand.New(rand.NewPCG(o.Seed, 0x7ac7))
	w := &World{ByDepartment: make(map[string][]string)}
	w.Items = make([]recommend.Item, o.Items)
	deptItems := make([][]int, len(Departments))
	taken := make(map[string]int)
	for i := range w.Items {
		di := i % len(Departments)
		d := Departments[di]
		cat := d.Categories[r.IntN(len(d.Categories))]
		tags := []string{d.Name, d.Tags[r.IntN(len(d.Tags))]}
		if t := d.Tags[r.IntN(len(d.Tags))]; t != tags[1] {
			tags = append(tags, t)
		}
		it := recommend.Item{
			ID:            fmt.Sprintf("item-%06d", i),
			Title:         title(brands[r.IntN(len(brands))], cat, i, taken),
			Category:      cat,
			Tags:          tags,
			Price:         float64(5 + r.IntN(200)),
			Sensitive:     d.Sensitive,
			Promotional:   r.Float64() < o.PromotionalShare,
			Replenishable: d.Replenishable,
		}
		if len(d.Sizes) > 0 {
			for _, s := range d.Sizes {
				if r.IntN(3) > 0 {
					it.Sizes = append(it.Sizes, s)
				}
			}
		}
		w.Items[i] = it
		deptItems[di] = append(deptItems[di], i)
		w.ByDepartment[d.Name] = append(w.ByDepartment[d.Name], it.ID)
	}
	cat, err := recommend.NewCatalog(w.Items)
	if err != nil { // ids are generated unique: unreachable
		panic("recommendtest: " + err.Error())
	}
	w.Catalog = cat
	zipf := make([]*rand.Zipf, len(Departments))
	stocked := 0 // departments with at least one item
	for di := range Departments {
		if n := len(deptItems[di]); n > 0 {
			zipf[di] = rand.NewZipf(r, 1.1, 2, uint64(n-1))
			stocked++
		}
	}
	year := 365 * 24 * time.Hour
	w.Shoppers = make([]Shopper, o.Shoppers)
	w.Interactions = make([]recommend.Interaction, 0, o.Shoppers*o.ItemsPerPerson)
	for p := range w.Shoppers {
		s := &w.Shoppers[p]
		s.ID = fmt.Sprintf("shopper-%05d", p)
		// A catalog smaller than the departments stocks only some of them.
		nd := min(1+r.IntN(3), stocked)
		var depts []int
		for len(depts) < nd {
			// Sensitive departments are rarer.
			di := r.IntN(len(Departments))
			if Departments[di].Sensitive && r.IntN(3) > 0 {
				continue
			}
			if !slices.Contains(depts, di) && zipf[di] != nil {
				depts = append(depts, di)
			}
		}
		for _, di := range depts {
			s.Departments = append(s.Departments, Departments[di].Name)
		}
		first := Epoch.Add(time.Duration(r.Int64N(int64(year / 2))))
		n := o.ItemsPerPerson/2 + r.IntN(o.ItemsPerPerson+1)
		for k := 0; k < n; k++ {
			var item int
			if r.Float64() < 0.85 {
				di := depts[r.IntN(len(depts))]
				item = deptItems[di][zipf[di].Uint64()]
			} else {
				item = r.IntN(o.Items)
			}
			at := first.Add(time.Duration(r.Int64N(int64(year / 2))))
			kind := recommend.Purchase
			if r.IntN(4) == 0 {
				kind = recommend.View
			}
			s.History = append(s.History, recommend.Event{Item: w.Items[item].ID, Kind: kind, At: at})
			w.Interactions = append(w.Interactions, recommend.Interaction{Person: s.ID, Item: w.Items[item].ID, Kind: kind, At: at})
		}
		orders := 0
		for _, e := range s.History {
			if e.Kind == recommend.Purchase {
				orders++
			}
		}
		s.Relationship = recommend.Relationship{Known: r.IntN(5) > 0, FirstSeen: first, Visits: 1 + n/2, Orders: orders}
		d0 := Departments[depts[0]]
		s.Preferences.Interests = []recommend.Interest{{Text: "you're into " + d0.Name, Tags: []string{d0.Name}}}
		if d0.Name == "running" {
			s.Preferences.Interests = append(s.Preferences.Interests, recommend.Interest{Text: "you're training for a marathon", Tags: []string{"marathon"}})
		}
		if r.IntN(4) == 0 {
			s.Preferences.Avoid = []string{Departments[r.IntN(len(Departments))].Tags[0]}
			if slices.Contains(s.Departments, s.Preferences.Avoid[0]) {
				s.Preferences.Avoid = nil
			}
		}
		if r.IntN(3) == 0 && len(s.History) > 0 {
			e := s.History[r.IntN(len(s.History))]
			s.Feedback = append(s.Feedback, recommend.Feedback{Item: e.Item, Kind: recommend.Liked, At: e.At})
		}
		if r.IntN(3) == 0 {
			s.Feedback = append(s.Feedback, recommend.Feedback{Item: w.Items[r.IntN(o.Items)].ID, Kind: recommend.NotInterested, At: first})
		}
	}
	return w
}

// Store returns a new [recommend.MemoryStore] holding every shopper's
// preferences, feedback and history.
func (w *World) Store() *recommend.MemoryStore {
	s := new(recommend.MemoryStore)
	ctx := context.Background()
	for _, sh := range w.Shoppers {
		// The generated ids are non-empty, so these cannot fail.
		_ = s.SetPreferences(ctx, sh.ID, sh.Preferences)
		_ = s.AddFeedback(ctx, sh.ID, sh.Feedback...)
		_ = s.AddEvents(ctx, sh.ID, sh.History...)
	}
	return s
}

// Model trains the popularity and item-item models on the world's
// interactions with default options and bundles them with the catalog.
func (w *World) Model() *recommend.Model {
	pop, err := recommend.NewPopularity(w.Catalog, recommend.CountItems(w.Interactions, recommend.CountOptions{}), nil)
	if err != nil {
		panic("recommendtest: " + err.Error())
	}
	ii, err := recommend.TrainItemItem(w.Catalog, w.Interactions, recommend.CountOptions{}, recommend.ItemItemConfig{})
	if err != nil {
		panic("recommendtest: " + err.Error())
	}
	m, err := recommend.NewModel(w.Catalog, pop, ii)
	if err != nil {
		panic("recommendtest: " + err.Error())
	}
	return m
}
