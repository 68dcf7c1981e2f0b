package main

import (
	"crypto/rand"
	"net/http"
	"net/url"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
)

// How many recommendations each page shows.
const (
	homeK = 6
	itemK = 4
)

// recommend asks for the visitor's recommendations. A browser without a
// visitor id is asked for under a throw-away id that lives for this
// request only, by the guest recommender, so that the page in view can be
// used (a legitimate interest) and nothing is kept.
func (s *server) recommend(x *visit, c recommend.Context, k int) (respView, error) {
	req := recommend.Request{At: x.now, K: k, Signals: x.sig, Context: c}
	rec := s.rec
	if x.v != nil {
		req.Subject = x.v.id
		req.Relationship, req.VisitStart = s.relationship(x.v)
	} else {
		req.Subject, rec = "request-"+rand.Text(), s.guest
	}
	resp, err := rec.Recommend(x.ctx(), req)
	if err != nil {
		return respView{}, err
	}
	return s.respView(x, resp, c), nil
}

// flash returns the message for a finished POST, named in the query of
// the page it redirected to. Only fixed messages are shown: nothing the
// request says is echoed.
func (s *server) flash(x *visit) string {
	switch x.r.URL.Query().Get("done") {
	case "saved":
		d, err := s.decision(x, consent.PurposePersonalizeDeclared)
		if err == nil && d.Allowed {
			return x.T("flash.saved.used")
		}
		return x.T("flash.saved", "purpose", s.label(x, consent.PurposePersonalizeDeclared))
	case "choices":
		return x.T("flash.choices")
	case "alloff":
		return x.T("flash.alloff")
	case "bought":
		return x.T("flash.bought", "purpose", s.label(x, consent.PurposePersonalizeHistory))
	case "liked":
		return x.T("flash.liked")
	case "hidden":
		return x.T("flash.hidden")
	case "erased":
		return x.T("flash.erased")
	}
	return ""
}

// label returns the label of a purpose of the policy, in the request's
// language.
func (s *server) label(x *visit, p consent.Purpose) string {
	l, _ := s.texts.Purpose(x.Lang, s.shop.Policy, p)
	return l
}

type homePage struct {
	chrome
	Category      string
	CategoryLabel string
	Departments   []departmentView
	Listing       []listingView
	Trending      bool
	Recs          respView
	Tiers         string
}

// listingView is an item of a product listing.
type listingView struct{ ID, Title, Price string }

// departmentView is a department and its categories, in words.
type departmentView struct {
	Label      string
	Categories []categoryView
}

type categoryView struct{ Key, Label string }

// home is the product listing: trending items or a category's items, and
// recommendations.
func (s *server) home(x *visit) error {
	q := x.r.URL.Query()
	category := q.Get("category")
	if len(q["category"]) > 1 {
		return badRequest(x.T("err.categories.title"), x.T("err.categories", "n", itoa(len(q["category"]))))
	}
	if category != "" && !s.cat.categories[category] {
		return notFound(x.T("err.category.title"), x.T("err.category", "category", clip(category)))
	}
	recs, err := s.recommend(x, recommend.Context{Category: category}, homeK)
	if err != nil {
		return err
	}
	p := homePage{chrome: s.chrome(x, "home", s.shop.Policy.Controller, "shop"), Category: category,
		CategoryLabel: x.Category(category), Recs: recs, Tiers: s.tierHint(x, recs.tier)}
	for _, d := range s.cat.departments {
		dv := departmentView{Label: x.Department(d.Name)}
		for _, c := range d.Categories {
			dv.Categories = append(dv.Categories, categoryView{Key: c, Label: x.Category(c)})
		}
		p.Departments = append(p.Departments, dv)
	}
	p.Flash = s.flash(x)
	listing := s.cat.trending
	if category == "" {
		p.Trending = true
		p.Title = x.T("home.title", "controller", s.shop.Policy.Controller)
	} else {
		listing = nil
		for it := range s.shop.World.Catalog.All() {
			if it.Category == category {
				listing = append(listing, it)
			}
		}
		p.Title = p.CategoryLabel + " · " + s.shop.Policy.Controller
	}
	for _, it := range listing {
		p.Listing = append(p.Listing, listingView{ID: it.ID, Title: it.Title, Price: x.Price(it.Price)})
	}
	return s.render(x, http.StatusOK, "home", p)
}

// tierHint says how a visitor reaches the tiers above theirs under the
// server's trust policy, when it is a DefaultTrust; nothing once there is
// no tier above.
func (s *server) tierHint(x *visit, tier recommend.Tier) string {
	t, ok := s.trust.(recommend.DefaultTrust)
	if !ok || tier == recommend.Established {
		return ""
	}
	orders := cmpOr(t.EstablishedOrders, recommend.DefaultEstablishedOrders)
	visits := cmpOr(t.EstablishedVisits, recommend.DefaultEstablishedVisits)
	tenure := t.EstablishedTenure
	if tenure == 0 {
		tenure = recommend.DefaultEstablishedTenure
	}
	est := x.T("tiers.established", "orders", x.Count(orders, "order"), "visits", x.Count(visits, "visit"), "span", x.Span(tenure))
	if tier == recommend.Anonymous {
		return x.T("tiers.recognized") + " " + est
	}
	return est
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

type itemPage struct {
	chrome
	Item      itemView
	Feedback  bool   // the visitor allows personalize.feedback
	FbLabel   string // the label of personalize.feedback
	FbWhy     string // why it is off
	Recs      respView
	FbPurpose consent.Purpose
}

// itemView is an item as its page shows it.
type itemView struct {
	ID, Title, Price, Category, CategoryLabel string
	Tags                                      string // each once, in the order the item has them
	Sizes                                     string
}

// item is a product page: the item, buy and feedback buttons, and items
// related to it.
func (s *server) item(x *visit) error {
	it, err := s.lookupItem(x)
	if err != nil {
		return err
	}
	// The page shows one item of one category: both are the context.
	recs, err := s.recommend(x, recommend.Context{Item: it.ID, Category: it.Category}, itemK)
	if err != nil {
		return err
	}
	d, err := s.decision(x, consent.PurposePersonalizeFeedback)
	if err != nil {
		return err
	}
	p := itemPage{chrome: s.chrome(x, "item", it.Title+" · "+s.shop.Policy.Controller, "shop"), Recs: recs,
		Item: itemView{ID: it.ID, Title: it.Title, Price: x.Price(it.Price), Category: it.Category, CategoryLabel: x.Category(it.Category),
			Tags: x.List(uniq(it.Tags)), Sizes: x.Sizes(it.Sizes)},
		Feedback: d.Allowed, FbLabel: s.label(x, consent.PurposePersonalizeFeedback), FbWhy: s.texts.Reason(x.Lang, d.Reason),
		FbPurpose: consent.PurposePersonalizeFeedback}
	p.Flash = s.flash(x)
	return s.render(x, http.StatusOK, "item", p)
}

func (s *server) lookupItem(x *visit) (recommend.Item, error) {
	id := x.r.PathValue("id")
	it, ok := s.shop.World.Catalog.Lookup(id)
	if !ok {
		return it, notFound(x.T("err.item.title"), x.T("err.item", "id", clip(id)))
	}
	return it, nil
}

// buy records a (pretend) order: kept to run the service (a contract),
// used for recommendations only with consent to personalize.history.
func (s *server) buy(x *visit) error {
	it, err := s.lookupItem(x)
	if err != nil {
		return err
	}
	v := s.ensure(x)
	if err := s.lock(x, v); err != nil {
		return err
	}
	defer v.op.Unlock()
	s.mu.Lock()
	full := v.orders >= maxOrders
	s.mu.Unlock()
	if full {
		return conflict(x.T("err.orders.title"), x.T("err.orders", "n", itoa(maxOrders)))
	}
	if err := s.shop.Profiles.AddEvents(x.ctx(), v.id, recommend.Event{Item: it.ID, Kind: recommend.Purchase, At: x.now}); err != nil {
		return err
	}
	s.mu.Lock()
	v.orders++
	row := v.row()
	s.mu.Unlock()
	s.persist(x.ctx(), row)
	return x.redirect("/items/" + url.PathEscape(it.ID) + "?done=bought")
}

// feedback records "liked" or "not interested", only with consent to
// personalize.feedback.
func (s *server) feedback(x *visit) error {
	it, err := s.lookupItem(x)
	if err != nil {
		return err
	}
	if err := x.parseForm(); err != nil {
		return err
	}
	var kind recommend.FeedbackKind
	done := ""
	switch k := x.r.PostForm["kind"]; {
	case len(k) == 1 && k[0] == "liked":
		kind, done = recommend.Liked, "liked"
	case len(k) == 1 && k[0] == "not_interested":
		kind, done = recommend.NotInterested, "hidden"
	default:
		return badRequest(x.T("err.feedback.title"), x.T("err.feedback"))
	}
	off := conflict(x.T("err.feedback.off.title"), x.T("err.feedback.off", "purpose", s.label(x, consent.PurposePersonalizeFeedback)))
	if x.v == nil {
		return off
	}
	v := x.v
	if err := s.lock(x, v); err != nil {
		return err
	}
	defer v.op.Unlock()
	d, err := s.shop.Gate.Decide(x.ctx(), v.id, consent.PurposePersonalizeFeedback, x.now, x.sig)
	if err != nil {
		return err
	}
	if !d.Allowed {
		return off
	}
	fb, err := s.shop.Profiles.Feedback(x.ctx(), v.id)
	if err != nil {
		return err
	}
	if len(fb) >= maxFeedback {
		return conflict(x.T("err.feedbacks.title"), x.T("err.feedbacks", "n", itoa(maxFeedback)))
	}
	if err := s.shop.Profiles.AddFeedback(x.ctx(), v.id, recommend.Feedback{Item: it.ID, Kind: kind, At: x.now}); err != nil {
		return err
	}
	return x.redirect("/items/" + url.PathEscape(it.ID) + "?done=" + done)
}

type prefsPage struct {
	chrome
	Errors    []fieldError
	Form      prefsForm
	Held      string // the declared preferences held, in words
	Interests []interestView
	Sizes     []sizeView
	Tags      string
	Groups    []purposeGroup
	// Question is the Global Privacy Control question, when the visitor
	// turned on a purpose the signal covers.
	Question *gpcQuestion
}

// interestView is an interest on offer, in words.
type interestView struct{ Key, Label string }

// sizeView is a size dimension and its values, in words.
type sizeView struct {
	Dim, Label string
	Values     []string
}

// prefsEdit is a declared-preferences form that was refused: shown again
// as sent, with its problems.
type prefsEdit struct {
	Form   prefsForm
	Errors []fieldError
}

// preferences is the preference page (GET) and saves declared preferences
// (POST). A form with any problem saves nothing and is shown again, as
// sent, with the problems and the preferences still saved. The consent
// choices on the page are posted to the preference centre (privacy).
func (s *server) preferences(x *visit) error {
	if x.r.Method != http.MethodPost {
		return s.renderPreferences(x, http.StatusOK, nil, nil)
	}
	if err := x.parseForm(); err != nil {
		return err
	}
	prefs, form, errs := s.cat.parsePrefs(x, x.r.PostForm)
	if len(errs) > 0 {
		return s.renderPreferences(x, http.StatusBadRequest, &prefsEdit{Form: form, Errors: errs}, nil)
	}
	v := s.ensure(x)
	if err := s.lock(x, v); err != nil {
		return err
	}
	defer v.op.Unlock()
	if err := s.shop.Profiles.SetPreferences(x.ctx(), v.id, prefs); err != nil {
		return err
	}
	return x.redirect("/preferences?done=saved#preferences")
}

// renderPreferences renders the preference page: the declared preferences
// (edit, when a form of them was refused) and the visitor's purposes from
// the preference centre's State, with the question a Global Privacy
// Control conflict over the purposes gpc asks.
func (s *server) renderPreferences(x *visit, status int, edit *prefsEdit, gpc []consent.Purpose) error {
	var saved recommend.Preferences
	if x.v != nil {
		var err error
		if saved, err = s.shop.Profiles.Preferences(x.ctx(), x.v.id); err != nil {
			return err
		}
	}
	st, err := s.state(x)
	if err != nil {
		return err
	}
	p := prefsPage{chrome: s.chrome(x, "preferences", x.T("prefs.title")+" · "+s.shop.Policy.Controller, "preferences"),
		Form: s.cat.formOf(saved), Held: s.cat.held(x, saved), Tags: x.List(s.cat.tags), Groups: s.purposeGroups(x, st)}
	for _, o := range s.cat.interests {
		p.Interests = append(p.Interests, interestView{Key: o.Key, Label: s.cat.interestLabel(x, o)})
	}
	for _, d := range s.cat.sizes {
		p.Sizes = append(p.Sizes, sizeView{Dim: d.Dim, Label: x.T("size." + d.Dim), Values: d.Values})
	}
	if edit != nil {
		p.Form, p.Errors = edit.Form, edit.Errors
	}
	if len(gpc) > 0 {
		p.Question = s.question(x, gpc)
	}
	if edit == nil && gpc == nil {
		p.Flash = s.flash(x)
	}
	return s.render(x, status, "preferences", p)
}

// dataPage is "Your data": everything held about the visitor.
type dataPage struct {
	chrome
	Error      string
	Visitor    visitorFacts
	Receipt    string
	Records    int
	Interests  string
	Sizes      string
	Budget     string
	Avoid      string
	Feedback   []feedbackView
	Orders     []orderView
	OrdersHint string
}

type visitorFacts struct {
	ID        string
	FirstSeen time.Time
	Visits    int
	Orders    int
}

type feedbackView struct{ Item, Title, Kind, At string }

type orderView struct{ Item, Title, Price, At string }

func (s *server) facts(v *visitor) visitorFacts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return visitorFacts{ID: v.id, FirstSeen: v.firstSeen, Visits: v.visits, Orders: v.orders}
}

func (s *server) yourData(x *visit) error {
	return s.renderData(x, http.StatusOK, "")
}

// renderData renders "Your data", with a problem to report (an erasure
// that was not confirmed), if any.
func (s *server) renderData(x *visit, status int, problem string) error {
	p := dataPage{chrome: s.chrome(x, "data", x.T("data.title")+" · "+s.shop.Policy.Controller, "data"), Error: problem,
		OrdersHint: x.T("data.orders.hint", "purpose", s.label(x, consent.PurposePersonalizeHistory))}
	if problem == "" {
		p.Flash = s.flash(x)
	}
	if x.v == nil {
		return s.render(x, status, "data", p)
	}
	own, err := s.ownData(x.ctx(), x.v, x.now)
	if err != nil {
		return err
	}
	a, err := s.shop.Gate.Access(x.ctx(), x.v.id, x.now)
	if err != nil {
		return err
	}
	p.Visitor = s.facts(x.v)
	p.Receipt = s.texts.Receipt(x.Lang, &own.Receipt)
	p.Records = len(a.Records)
	p.Interests = s.cat.interestsText(x, own.prefs)
	p.Sizes = x.List(x.SizeValues(own.prefs.Sizes))
	if own.prefs.MaxPrice > 0 {
		p.Budget = x.Price(own.prefs.MaxPrice)
	}
	p.Avoid = x.List(own.prefs.Avoid)
	for _, f := range own.Feedback {
		p.Feedback = append(p.Feedback, feedbackView{Item: f.Item, Title: f.Title, Kind: x.T("fb." + f.Kind), At: x.DateTime(f.At)})
	}
	for _, o := range own.Orders {
		p.Orders = append(p.Orders, orderView{Item: o.Item, Title: o.Title, Price: x.Price(o.Price), At: x.DateTime(o.At)})
	}
	return s.render(x, status, "data", p)
}
