package main

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenthttp"
	"github.com/tact-go/tact/examples/internal/demo"
)

// The preference centre is consenthttp's Centre, mounted under /privacy:
// the storefront's own pages (/preferences, /data) render its State and
// the receipt, and post their forms to it. Who a request comes from is
// the visitor its cookie names (server.lookup), never a form field.

// errNoVisitor is the Authenticator's answer for a browser without a
// visitor id the server holds.
var errNoVisitor = errors.New("storefront: this browser has no visitor id")

// evidence is recorded with every consent choice made in the storefront:
// where it was made and the notice the visitor could read.
func evidence(*http.Request) string { return "storefront preference centre; notice " + demo.NoticeHash }

// visitKey is the context key under which privacy passes the request's
// visit to the Centre's hooks.
type visitKey struct{}

// newCentre builds the preference centre over the shop's Gate.
func (s *server) newCentre() error {
	s.centreOpts = consenthttp.Options{
		Signals:  s.signals,
		Now:      s.now,
		Evidence: evidence,
		Redirect: s.centreRedirect,
		Export:   s.exportOwn,
		Erase:    s.eraseHook,
		Error:    s.centreError,
		MaxBody:  maxBody,
		Catalog:  s.texts,
		Lang:     func(r *http.Request) string { return s.tr(r).Lang },
	}
	c, err := consenthttp.NewCentre(s.shop.Gate, s.authenticate, s.centreOpts)
	if err != nil {
		return err
	}
	s.centre, s.privacyMux = c, http.StripPrefix("/privacy", c)
	return nil
}

// authenticate is the Centre's Authenticator: the visitor the request's
// cookie names.
func (s *server) authenticate(r *http.Request) (string, error) {
	if v := s.lookup(r); v != nil {
		return v.id, nil
	}
	return "", errNoVisitor
}

// privacy serves the Centre's routes. A browser without a visitor id that
// posts its choices is issued one first, as for any other action, and the
// Centre finds it in the request's cookie like any other; should the
// Centre refuse the form, the id is taken back (see centreError). A POST
// holds the visitor's op lock, so that a choice never races with an
// erasure.
func (s *server) privacy(x *visit) error {
	r := x.r
	if r.Method == http.MethodPost {
		if x.v == nil && r.URL.Path == "/privacy/" {
			v := s.mint(x)
			r = r.Clone(r.Context())
			r.Header.Set("Cookie", (&http.Cookie{Name: cookieName, Value: v.id}).String())
			x.r = r
		}
		if x.v != nil {
			if err := s.lock(x, x.v); err != nil {
				return err
			}
			defer x.v.op.Unlock()
		}
	}
	s.privacyMux.ServeHTTP(x.w, r.WithContext(context.WithValue(r.Context(), visitKey{}, x)))
	return nil
}

// visitOf returns the visit privacy passed to the Centre with r.
func (s *server) visitOf(w http.ResponseWriter, r *http.Request) *visit {
	x, ok := r.Context().Value(visitKey{}).(*visit)
	if !ok {
		x = s.newVisit(w, r)
		x.v = s.lookup(r)
	}
	x.w, x.r = w, r
	return x
}

// centreRedirect says where a browser goes after a form the Centre
// accepted: back to the page it came from, with what was done.
func (s *server) centreRedirect(r *http.Request, res consenthttp.Result) string {
	switch {
	case res.Done == "erased":
		return "/data?done=erased"
	case r.PostForm.Get("all") == "off":
		return "/preferences?done=alloff#purposes"
	}
	return "/preferences?done=choices#purposes"
}

// centreError renders what the Centre refused as the storefront's own
// page: a Global Privacy Control conflict as the preference centre with
// the question to confirm, an erasure without its confirmation as "Your
// data" saying so, anything else as an error page. A visitor id this
// request issued is taken back unless the Centre asks the visitor a
// question (a GPC conflict), whose answer comes back under it.
func (s *server) centreError(w http.ResponseWriter, r *http.Request, err error) {
	x := s.visitOf(w, r)
	var gc *consenthttp.GPCConflictError
	gpc := errors.As(err, &gc)
	if x.minted && !gpc {
		_ = s.eraseData(x.ctx(), x.v, x.now) // privacy holds x.v.op
		w.Header().Del("Set-Cookie")
		expireCookie(w)
		x.v = nil
	}
	var re *consenthttp.RequestError
	switch {
	case gpc:
		err = s.renderPreferences(x, http.StatusConflict, nil, gc.Purposes)
	case r.URL.Path == "/erase" && errors.As(err, &re) && re.Field == "confirm":
		err = s.renderData(x, http.StatusBadRequest, x.T("data.erase.unconfirmed"))
	}
	if err != nil {
		s.fail(x, err)
	}
}

// exportOwn is the Centre's Export hook: what the storefront itself holds
// about the visitor, beside their consent records.
func (s *server) exportOwn(ctx context.Context, subject string) (any, error) {
	s.mu.Lock()
	v := s.visitors[subject]
	s.mu.Unlock()
	if v == nil {
		return nil, errNoVisitor
	}
	return s.ownData(ctx, v, s.now())
}

// eraseHook is the Centre's Erase hook, run once the Gate erased the
// visitor's consent records: it erases the profile, forgets the visitor
// and tells the browser to forget the id. privacy holds the visitor's op
// lock.
func (s *server) eraseHook(w http.ResponseWriter, r *http.Request, subject string, _ consent.Erasure) error {
	s.mu.Lock()
	v := s.visitors[subject]
	s.mu.Unlock()
	expireCookie(w)
	if v == nil {
		return nil
	}
	return s.eraseOwn(r.Context(), v)
}

// blankSubject is the subject of a guest's decisions: consent.Guest
// checks it and does not use it.
const blankSubject = "nobody"

// state returns the preference centre of the request's visitor; for a
// browser without a visitor id, that of someone with no records, which
// reads and writes nothing.
func (s *server) state(x *visit) (consenthttp.State, error) {
	if x.v != nil {
		return s.centre.State(x.r)
	}
	return s.centre.GuestState(x.r)
}

// decision returns the request's decision for one purpose (see state).
func (s *server) decision(x *visit, p consent.Purpose) (consent.Decision, error) {
	if x.v != nil {
		return s.shop.Gate.Decide(x.ctx(), x.v.id, p, x.now, x.sig)
	}
	return s.shop.Gate.Guest().Decide(x.ctx(), blankSubject, p, x.now, x.sig)
}

// purposeGroup is a top-level purpose of the policy and its sub-purposes,
// as the preference centre shows them.
type purposeGroup struct {
	Purpose consent.Purpose
	Heading string
	Rows    []purposeRow
}

// purposeRow is one purpose on the preference centre.
type purposeRow struct {
	consenthttp.PurposeState
	// Switch offers a checkbox: a purpose resting on consent, or a
	// legitimate interest the visitor has not objected to.
	Switch bool
	// Note says what the visitor should know beyond the reason: a Global
	// Privacy Control signal that holds it off, or a choice confirmed over
	// it, or what objecting means.
	Note string
	// SinceText is when the visitor's choice was recorded, in words.
	SinceText string
}

// purposeGroups groups the purposes of st under their top-level purpose
// (which stands alone when it has no sub-purposes).
func (s *server) purposeGroups(x *visit, st consenthttp.State) []purposeGroup {
	var groups []purposeGroup
	idx := map[consent.Purpose]int{}
	labels := map[consent.Purpose]string{}
	for _, p := range st.Purposes {
		labels[p.Purpose] = p.Label
	}
	hasSub := map[consent.Purpose]bool{}
	for _, p := range st.Purposes {
		if p.Parent != "" {
			hasSub[top(p.Purpose)] = true
		}
	}
	for _, p := range st.Purposes {
		t := top(p.Purpose)
		if p.Purpose == t && hasSub[t] {
			continue // a heading, not a choice: its sub-purposes are
		}
		i, ok := idx[t]
		if !ok {
			groups = append(groups, purposeGroup{Purpose: t, Heading: labels[t]})
			i = len(groups) - 1
			idx[t] = i
		}
		groups[i].Rows = append(groups[i].Rows, s.purposeRow(x, st, p))
	}
	return groups
}

func top(p consent.Purpose) consent.Purpose {
	for p.Parent() != "" {
		p = p.Parent()
	}
	return p
}

func (s *server) purposeRow(x *visit, st consenthttp.State, p consenthttp.PurposeState) purposeRow {
	row := purposeRow{PurposeState: p}
	switch p.Kind {
	case consenthttp.KindConsent:
		row.Switch = true
		switch {
		case p.OverridesGPC && st.GPC:
			row.Note = x.T("prefs.gpc.overridden")
		case p.GPCCovers && st.GPC && !p.On:
			row.Note = x.T("prefs.gpc.off")
		}
	case consenthttp.KindObjection:
		row.Switch = true
		row.Note = x.T("prefs.objected")
		if p.On {
			row.Note = x.T("prefs.object")
		}
	}
	if !p.Since.IsZero() {
		row.SinceText = x.Date(p.Since)
	}
	return row
}

// gpcQuestion is the question a Global Privacy Control conflict asks: the
// disclosure for each purpose, and two forms that post again what the
// visitor sent: one confirms the purposes, the other keeps them off (and
// saves the other choices).
type gpcQuestion struct {
	Disclosures []string
	Shown, On   []string
	Confirm     []string
	Keep        []string // On without the purposes in question
}

// question returns the question for the purposes of a GPC conflict, from
// the form the visitor posted. Only purposes of the policy are echoed.
func (s *server) question(x *visit, purposes []consent.Purpose) *gpcQuestion {
	q := &gpcQuestion{}
	known := func(vs []string) []string {
		var out []string
		for _, v := range vs {
			if _, ok := s.shop.Policy.Spec(consent.Purpose(v)); ok && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		return out
	}
	q.Shown, q.On = known(x.r.PostForm["shown"]), known(x.r.PostForm["on"])
	q.Disclosures, _ = s.centre.Disclosures(x.r, purposes)
	for _, p := range purposes {
		q.Confirm = append(q.Confirm, string(p))
	}
	for _, p := range q.On {
		if !slices.Contains(q.Confirm, p) {
			q.Keep = append(q.Keep, p)
		}
	}
	q.Confirm = known(append(q.Confirm, x.r.PostForm["confirm_gpc"]...))
	return q
}
