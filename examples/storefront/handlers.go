package main

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/examples/internal/demo"
	"github.com/tact-go/tact/recommend"
)

// How many recommendations each page shows.
const (
	homeK = 6
	itemK = 4
)

// evidence is recorded with every consent choice made in the storefront:
// where it was made and the notice the visitor could read.
func evidence() string { return "storefront preference centre; notice " + demo.NoticeHash }

// recommend asks the Recommender for the visitor. A browser without a
// visitor id is asked for under a throw-away id that lives for this
// request only, so that the page in view can be used (a legitimate
// interest) and nothing is kept.
func (s *server) recommend(x *visit, c recommend.Context, k int) (respView, error) {
	req := recommend.Request{At: x.now, K: k, Signals: x.signals(), Context: c}
	if x.v != nil {
		req.Subject = x.v.id
		req.Relationship, req.VisitStart = s.relationship(x.v)
	} else {
		req.Subject = "request-" + rand.Text()
	}
	resp, err := s.rec.Recommend(x.ctx(), req)
	if err != nil {
		return respView{}, err
	}
	return s.respView(resp), nil
}

// flash returns the message for a finished POST, named in the query of
// the page it redirected to. Only fixed messages are shown: nothing the
// request says is echoed except a purpose the policy declares.
func (s *server) flash(x *visit) string {
	q := x.r.URL.Query()
	desc := func() string {
		spec, ok := s.shop.Policy.Spec(consent.Purpose(q.Get("purpose")))
		if !ok {
			return "that purpose"
		}
		return "“" + spec.Description + "”"
	}
	switch q.Get("done") {
	case "saved":
		if x.v != nil {
			d, err := s.shop.Gate.Decide(x.ctx(), x.v.id, consent.PurposePersonalizeDeclared, x.now, x.signals())
			if err == nil && d.Allowed {
				return "Saved. Your recommendations use your preferences from now on."
			}
		}
		return "Saved. We use them only once you turn on “" + s.describe(consent.PurposePersonalizeDeclared) + "” below."
	case "granted":
		return "Turned on: " + desc() + "."
	case "withdrawn":
		return "Turned off: " + desc() + ". It takes effect at once."
	case "objected":
		return "Objection recorded: " + desc() + " no longer applies to you."
	case "bought":
		return "Bought (a demo: nothing is charged). We keep your order to run the service; it shapes recommendations only if you turn on “" +
			s.describe(consent.PurposePersonalizeHistory) + "”."
	case "liked":
		return "Noted: you like this item."
	case "hidden":
		return "Noted: we will not suggest this item again."
	}
	return ""
}

func (s *server) describe(p consent.Purpose) string {
	spec, _ := s.shop.Policy.Spec(p)
	return spec.Description
}

type homePage struct {
	chrome
	Category    string
	Departments []department
	Listing     []recommend.Item
	Trending    bool
	Recs        respView
	Tiers       string
}

// home is the product listing: trending items or a category's items, and
// recommendations.
func (s *server) home(x *visit) error {
	q := x.r.URL.Query()
	category := q.Get("category")
	if len(q["category"]) > 1 {
		return badRequest("One category at a time", "The address names %d categories; the shop lists one at a time.", len(q["category"]))
	}
	if category != "" && !s.cat.categories[category] {
		return notFound("No such category", "The shop has no category %q. Choose one from the list of departments.", clip(category))
	}
	recs, err := s.recommend(x, recommend.Context{Category: category}, homeK)
	if err != nil {
		return err
	}
	p := homePage{chrome: s.chrome(x, "home", s.shop.Policy.Controller, "shop"), Category: category,
		Departments: s.cat.departments, Recs: recs, Tiers: s.tierHint()}
	p.Flash = s.flash(x)
	if category == "" {
		p.Listing, p.Trending = s.cat.trending, true
		p.Title = s.shop.Policy.Controller + ": shop"
	} else {
		for it := range s.shop.World.Catalog.All() {
			if it.Category == category {
				p.Listing = append(p.Listing, it)
			}
		}
		p.Title = capitalize(category) + " · " + s.shop.Policy.Controller
	}
	return s.render(x, http.StatusOK, "home", p)
}

// tierHint says how a visitor reaches each tier under the server's trust
// policy, when it is a DefaultTrust.
func (s *server) tierHint() string {
	t, ok := s.trust.(recommend.DefaultTrust)
	if !ok {
		return ""
	}
	orders := cmpOr(t.EstablishedOrders, recommend.DefaultEstablishedOrders)
	visits := cmpOr(t.EstablishedVisits, recommend.DefaultEstablishedVisits)
	tenure := t.EstablishedTenure
	if tenure == 0 {
		tenure = recommend.DefaultEstablishedTenure
	}
	return "Recommendations become personal in steps. Once you tell us about yourself and allow us to use it (Preferences), " +
		"we use what you told us. Once you have " + plural(orders, "order") + " and " + plural(visits, "visit") +
		" over at least " + span(tenure) + ", and allow purchase history, we use what you bought too."
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func span(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return plural(int(d/(24*time.Hour)), "day")
	case d >= time.Minute && d%time.Minute == 0:
		return plural(int(d/time.Minute), "minute")
	}
	return d.String()
}

type itemPage struct {
	chrome
	Item     recommend.Item
	Feedback purposeRow // the visitor's decision for personalize.feedback
	Recs     respView
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
	spec, _ := s.shop.Policy.Spec(consent.PurposePersonalizeFeedback)
	fb, err := s.purposeRow(x.ctx(), x, spec)
	if err != nil {
		return err
	}
	p := itemPage{chrome: s.chrome(x, "item", it.Title+" · "+s.shop.Policy.Controller, "shop"), Item: it, Feedback: fb, Recs: recs}
	p.Flash = s.flash(x)
	return s.render(x, http.StatusOK, "item", p)
}

func (s *server) lookupItem(x *visit) (recommend.Item, error) {
	id := x.r.PathValue("id")
	it, ok := s.shop.World.Catalog.Lookup(id)
	if !ok {
		return it, notFound("No such item", "The shop has no item %q. It may have been mistyped; the shop's items are listed by category.", clip(id))
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
	if err := s.lock(v); err != nil {
		return err
	}
	defer v.op.Unlock()
	s.mu.Lock()
	full := v.orders >= maxOrders
	s.mu.Unlock()
	if full {
		return conflict("Too many orders", "This demo keeps at most %d orders per visitor. Erase your data on the “Your data” page to start again.", maxOrders)
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
	var kind recommend.FeedbackKind
	done := ""
	switch k := x.r.PostForm["kind"]; {
	case len(k) == 1 && k[0] == "liked":
		kind, done = recommend.Liked, "liked"
	case len(k) == 1 && k[0] == "not_interested":
		kind, done = recommend.NotInterested, "hidden"
	default:
		return badRequest("Unknown feedback", "Feedback must be “liked” or “not_interested”, sent once. Nothing was kept.")
	}
	off := conflict("Feedback is off", "We did not keep this: you have not turned on “%s”. Turn it on in Preferences if you want us to learn from your feedback.",
		s.describe(consent.PurposePersonalizeFeedback))
	if x.v == nil {
		return off
	}
	v := x.v
	if err := s.lock(v); err != nil {
		return err
	}
	defer v.op.Unlock()
	d, err := s.shop.Gate.Decide(x.ctx(), v.id, consent.PurposePersonalizeFeedback, x.now, x.signals())
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
		return conflict("Too much feedback", "This demo keeps at most %d pieces of feedback per visitor.", maxFeedback)
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
	Saved     recommend.Preferences
	Interests []interestOption
	Sizes     []sizeDim
	Tags      []string
	Groups    []purposeGroup
}

// preferences is the preference centre (GET) and saves declared
// preferences (POST). A form with any problem saves nothing and is shown
// again, as sent, with the problems and the preferences still saved.
func (s *server) preferences(x *visit) error {
	var saved recommend.Preferences
	if x.v != nil {
		var err error
		if saved, err = s.shop.Profiles.Preferences(x.ctx(), x.v.id); err != nil {
			return err
		}
	}
	p := prefsPage{chrome: s.chrome(x, "preferences", "Preferences · "+s.shop.Policy.Controller, "preferences"),
		Form: s.cat.formOf(saved), Saved: saved, Interests: s.cat.interests, Sizes: s.cat.sizes, Tags: s.cat.tags}
	status := http.StatusOK
	if x.r.Method == http.MethodPost {
		prefs, form, errs := s.cat.parsePrefs(x.r.PostForm)
		if len(errs) == 0 {
			v := s.ensure(x)
			if err := s.lock(v); err != nil {
				return err
			}
			defer v.op.Unlock()
			if err := s.shop.Profiles.SetPreferences(x.ctx(), v.id, prefs); err != nil {
				return err
			}
			return x.redirect("/preferences?done=saved#preferences")
		}
		p.Form, p.Errors, status = form, errs, http.StatusBadRequest
	} else {
		p.Flash = s.flash(x)
	}
	groups, err := s.purposeGroups(x.ctx(), x)
	if err != nil {
		return err
	}
	p.Groups = groups
	return s.render(x, status, "preferences", p)
}

// consent records a choice about one purpose: grant or withdraw, the same
// single click either way.
func (s *server) consent(x *visit) error {
	f := x.r.PostForm
	if len(f["purpose"]) != 1 || len(f["action"]) != 1 {
		return badRequest("Incomplete form", "A consent choice needs one purpose and one action. Nothing was changed.")
	}
	p := consent.Purpose(f.Get("purpose"))
	spec, ok := s.shop.Policy.Spec(p)
	if !ok {
		return badRequest("Unknown purpose", "The shop's policy has no purpose %q. Nothing was changed.", clip(string(p)))
	}
	var action consent.Action
	done := ""
	switch kind, a := purposeKind(spec.Basis), f.Get("action"); {
	case kind == kindFixed:
		return badRequest("Not optional", "“%s” rests on %s, not on consent: there is nothing to turn on or off. Nothing was changed.",
			spec.Description, basisText[spec.Basis])
	case a == "grant" && kind == kindConsent:
		action, done = consent.Grant, "granted"
	case a == "grant":
		return badRequest("Nothing to grant", "“%s” rests on our legitimate interest: you can object to it, but there is no consent to give. Nothing was changed.", spec.Description)
	case a == "withdraw" && kind == kindConsent:
		action, done = consent.Withdraw, "withdrawn"
	case a == "withdraw":
		action, done = consent.Withdraw, "objected"
	default:
		return badRequest("Unknown action", "The action must be “grant” or “withdraw”. Nothing was changed.")
	}
	if action == consent.Grant && x.gpc && s.gpcCovers(p) {
		return conflict("Global Privacy Control is on", "Your browser sends Global Privacy Control, which opts you out of “%s”. We honour it: to allow this, turn the signal off in your browser first. Nothing was changed.", spec.Description)
	}
	v := s.ensure(x)
	if err := s.lock(v); err != nil {
		return err
	}
	defer v.op.Unlock()
	_, err := s.shop.Gate.Record(x.ctx(), consent.Event{Action: action, Subject: v.id, Purpose: p, At: x.now,
		Channel: consent.ChannelWeb, Evidence: evidence()})
	if err != nil {
		return err
	}
	return x.redirect("/preferences?done=" + done + "&purpose=" + url.QueryEscape(string(p)) + "#" + url.PathEscape(string(p)))
}

// dataPage is "Your data": everything held about the visitor.
type dataPage struct {
	chrome
	Error    string
	Visitor  visitorFacts
	Receipt  string
	Records  int
	Prefs    recommend.Preferences
	Feedback []feedbackView
	Orders   []orderView
}

type visitorFacts struct {
	ID        string
	FirstSeen time.Time
	Visits    int
	Orders    int
}

type feedbackView struct {
	Item, Title, Kind string
	At                time.Time
}

type orderView struct {
	Item, Title string
	Price       float64
	At          time.Time
}

func (s *server) facts(v *visitor) visitorFacts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return visitorFacts{ID: v.id, FirstSeen: v.firstSeen, Visits: v.visits, Orders: v.orders}
}

func (s *server) yourData(x *visit) error {
	return s.renderData(x, http.StatusOK, "")
}

func (s *server) renderData(x *visit, status int, problem string) error {
	p := dataPage{chrome: s.chrome(x, "data", "Your data · "+s.shop.Policy.Controller, "data"), Error: problem}
	if x.v == nil {
		return s.render(x, status, "data", p)
	}
	ex, err := s.exportOf(x)
	if err != nil {
		return err
	}
	p.Visitor = ex.Visitor.facts()
	p.Receipt = ex.receipt.Text()
	p.Records = len(ex.Consent.Records)
	p.Prefs = ex.prefs
	for _, f := range ex.Feedback {
		p.Feedback = append(p.Feedback, feedbackView(f))
	}
	for _, o := range ex.Orders {
		p.Orders = append(p.Orders, orderView(o))
	}
	return s.render(x, status, "data", p)
}

// export downloads everything held about the visitor as JSON.
func (s *server) export(x *visit) error {
	if x.v == nil {
		return notFound("Nothing to export", "This browser has no visitor id, so we hold nothing about it.")
	}
	ex, err := s.exportOf(x)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(ex, "", "  ")
	if err != nil {
		return err
	}
	h := x.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Disposition", `attachment; filename="acme-your-data.json"`)
	if x.r.Method != http.MethodHead {
		_, _ = x.w.Write(append(b, '\n'))
	}
	return nil
}

// erase erases everything held about the visitor, once they confirmed.
func (s *server) erase(x *visit) error {
	if x.v == nil {
		return notFound("Nothing to erase", "This browser has no visitor id, so we hold nothing about it.")
	}
	if c := x.r.PostForm["confirm"]; len(c) != 1 || c[0] != "yes" {
		return s.renderData(x, http.StatusBadRequest, "Tick the box to confirm that you want everything erased. Nothing was erased.")
	}
	v := x.v
	if err := s.lock(v); err != nil {
		return err
	}
	e, err := s.shop.Gate.Erase(x.ctx(), v.id, x.now)
	if err == nil {
		err = s.shop.Profiles.Erase(x.ctx(), v.id)
	}
	if err == nil {
		err = s.forget(x.ctx(), v.id)
	}
	if err == nil {
		s.mu.Lock()
		delete(s.visitors, v.id)
		v.gone = true
		s.mu.Unlock()
	}
	v.op.Unlock()
	if err != nil {
		return err
	}
	http.SetCookie(x.w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	x.v = nil
	var withdrawn []string
	for _, p := range e.Withdrawn {
		withdrawn = append(withdrawn, s.describe(p))
	}
	slices.Sort(withdrawn)
	return s.render(x, http.StatusOK, "erased", erasedPage{chrome: s.chrome(x, "erased", "Erased · "+s.shop.Policy.Controller, "data"),
		Tombstones: e.Records, Withdrawn: withdrawn})
}

type erasedPage struct {
	chrome
	Tombstones int
	Withdrawn  []string
}
