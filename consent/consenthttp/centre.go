package consenthttp

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tact-go/tact/consent"
)

// Authenticator returns the id of the person a request comes from, as the
// host's session, cookie or token says: the subject whose data the
// request may touch. It is the only source of that id: the Centre never
// reads a subject from a form field, a query or a path. An error, or an
// empty id, means nobody is signed in ([ErrUnauthenticated]).
type Authenticator func(*http.Request) (subject string, err error)

// Options configure a [Centre]. The zero value is usable.
type Options struct {
	// Signals reads a request's privacy signals. The zero value reads GPC.
	Signals SignalReader
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Channel is recorded with every choice; "" means consent.ChannelWeb.
	Channel consent.Channel
	// Evidence returns what is recorded as the evidence of a choice: where
	// it was made and the notice the person could read (a hash of its
	// text, say). nil records "preference centre".
	Evidence func(*http.Request) string
	// Redirect returns where to send a browser after a form it posted
	// succeeded: a path on the host's site, answered with 303 See Other.
	// nil, or "", answers with JSON instead.
	Redirect func(r *http.Request, res Result) string
	// Export returns the host's own data about the person, for the export
	// (GET /export) beside their consent records. nil exports consent
	// records alone.
	Export func(ctx context.Context, subject string) (any, error)
	// Erase deletes the host's own data about the person, after the Gate
	// has withdrawn every consent and erased their records (POST /erase),
	// and may forget them in the response (clear a cookie): e says what
	// the Gate withdrew and erased. nil erases consent records alone.
	Erase func(w http.ResponseWriter, r *http.Request, subject string, e consent.Erasure) error
	// Error writes the response for a failed request; nil writes a JSON
	// object {"error": code, "message": text} (plus "purposes" for a GPC
	// conflict) with the status [Status] gives. A host that renders its
	// own pages sets it, and can branch on the error with errors.Is.
	Error func(w http.ResponseWriter, r *http.Request, err error)
	// TrustedOrigins lists origins (scheme://host[:port]) allowed to post
	// to the Centre from another origin; see
	// http.CrossOriginProtection.AddTrustedOrigin.
	TrustedOrigins []string
	// MaxBody caps a request body, in bytes; 0 means 64 KiB.
	MaxBody int64
	// Catalog holds the texts the Centre shows people (reasons, data in
	// words, receipts, the GPC disclosure); nil means consent.NewCatalog().
	Catalog *consent.Catalog
	// Lang returns the language to answer a request in; nil means the
	// catalog's best match for its Accept-Language header.
	Lang func(*http.Request) string
}

// Centre is a preference centre over a [consent.Gate], as an http.Handler
// a host mounts on its mux, under a prefix of its choice:
//
//	mux.Handle("/privacy/", http.StripPrefix("/privacy", centre))
//
// Its routes, relative to where it is mounted:
//
//	GET  /         the person's purposes and choices ([State], JSON)
//	POST /         save choices: a form or JSON ([Choices])
//	GET  /receipt  the person's receipt: plain words, or JSON if asked for
//	GET  /export   everything held about the person, as a JSON download
//	POST /erase    erase the person (form or JSON with confirm=erase)
//
// Every request is about the person the host's [Authenticator] names, and
// no one else. POST requests from other origins are refused by
// http.CrossOriginProtection (a CSRF defence that needs no tokens), bodies
// are capped, and errors are typed and mapped to statuses ([Status]).
// Responses about a person are marked Cache-Control: no-store.
type Centre struct {
	gate    *consent.Gate
	auth    Authenticator
	opts    Options
	handler http.Handler
}

// NewCentre returns a Centre over g that serves the people auth names.
// Errors: [ErrConfig] for a nil Gate or Authenticator or a malformed
// trusted origin.
func NewCentre(g *consent.Gate, auth Authenticator, opts Options) (*Centre, error) {
	if g == nil || auth == nil {
		return nil, errors.Join(ErrConfig, errors.New("consenthttp: NewCentre needs a Gate and an Authenticator"))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Channel == "" {
		opts.Channel = consent.ChannelWeb
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 64 << 10
	}
	if opts.Catalog == nil {
		opts.Catalog = consent.NewCatalog()
	}
	if opts.Lang == nil {
		cat := opts.Catalog
		opts.Lang = func(r *http.Request) string { return cat.Match(r.Header.Get("Accept-Language")) }
	}
	c := &Centre{gate: g, auth: auth, opts: opts}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", c.person(c.serveState))
	mux.HandleFunc("POST /{$}", c.person(c.serveChoices))
	mux.HandleFunc("GET /receipt", c.person(c.serveReceipt))
	mux.HandleFunc("GET /export", c.person(c.serveExport))
	mux.HandleFunc("POST /erase", c.person(c.serveErase))
	cop := http.NewCrossOriginProtection()
	for _, o := range opts.TrustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, errors.Join(ErrConfig, err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, ErrCrossOrigin)
	}))
	c.handler = cop.Handler(mux)
	return c, nil
}

// ServeHTTP serves the Centre's routes.
func (c *Centre) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.handler.ServeHTTP(w, r) }

// person wraps a route: it authenticates the request, caps its body and
// writes the route's error.
func (c *Centre) person(serve func(w http.ResponseWriter, r *http.Request, subject string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		subject, err := c.auth(r)
		if err != nil || subject == "" {
			c.fail(w, r, errors.Join(ErrUnauthenticated, err))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, c.opts.MaxBody)
		if err := serve(w, r, subject); err != nil {
			c.fail(w, r, err)
		}
	}
}

// fail writes the response for err.
func (c *Centre) fail(w http.ResponseWriter, r *http.Request, err error) {
	if c.opts.Error != nil {
		c.opts.Error(w, r, err)
		return
	}
	var gc *GPCConflictError
	if errors.As(err, &gc) {
		// Tell the person what the conflict is, in their language, with
		// what confirming means.
		body := gpcConflictBody{Error: code(err), Message: err.Error(), Purposes: gc.Purposes}
		body.Disclosures, body.Confirm = c.Disclosures(r, gc.Purposes)
		w.Header().Set("Content-Language", c.opts.Lang(r))
		writeJSON(w, Status(err), body)
		return
	}
	WriteError(w, err)
}

// Disclosures returns what to tell the person of a GPC conflict about
// purposes, one sentence per purpose in the request's language, and the
// label of the button that confirms: what the Centre's default error
// answer carries, for a host that renders its own ([Options].Error).
func (c *Centre) Disclosures(r *http.Request, purposes []consent.Purpose) (texts []string, confirm string) {
	lang, pol := c.opts.Lang(r), c.gate.Policy()
	for _, p := range purposes {
		label, _ := c.opts.Catalog.Purpose(lang, pol, p)
		texts = append(texts, c.opts.Catalog.Text(lang, "confirm_gpc.disclosure", "purpose", label))
	}
	return texts, c.opts.Catalog.Text(lang, "confirm_gpc.action")
}

// gpcConflictBody is the Centre's answer to a GPC conflict.
type gpcConflictBody struct {
	Error    string            `json:"error"`
	Message  string            `json:"message"`
	Purposes []consent.Purpose `json:"purposes"`
	// Disclosures tell the person, one per purpose, what the conflict is.
	Disclosures []string `json:"disclosures"`
	// Confirm is the label of the button that confirms.
	Confirm string `json:"confirm"`
}

// WriteError writes err as the Centre does by default: status [Status],
// and a JSON object with the error's code ("bad_request", "gpc_conflict",
// ...), its message (for a server error, only "internal error": the
// details are the host's to log) and, for a GPC conflict, the purposes.
func WriteError(w http.ResponseWriter, err error) {
	status := Status(err)
	body := struct {
		Error    string            `json:"error"`
		Message  string            `json:"message"`
		Purposes []consent.Purpose `json:"purposes,omitempty"`
	}{Error: code(err), Message: err.Error()}
	if status == http.StatusInternalServerError {
		body.Message = "internal error"
	}
	var gc *GPCConflictError
	if errors.As(err, &gc) {
		body.Purposes = gc.Purposes
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Session realm="preference centre"`)
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// Result is what a form the Centre accepted did, for Options.Redirect.
type Result struct {
	// Done is "saved" (choices) or "erased".
	Done string
	// Records are the records the choices made, none when everything
	// already stood as asked.
	Records []consent.Record
	// Erasure is what erasing withdrew and erased, when Done is "erased".
	Erasure consent.Erasure
}

// Kind says what a person can do about a purpose.
type Kind string

// Kinds of purpose.
const (
	KindConsent   Kind = "consent"   // rests on consent: turned on and off by the person
	KindObjection Kind = "objection" // a legitimate interest: on until the person objects
	KindFixed     Kind = "fixed"     // a contract, a legal obligation...: not the person's choice
)

func kindOf(b consent.Basis) Kind {
	switch {
	case b.NeedsConsent():
		return KindConsent
	case b == consent.BasisLegitimateInterest:
		return KindObjection
	}
	return KindFixed
}

// State is a person's preference centre: every purpose of the policy and
// where they stand on it, for the request's signals.
type State struct {
	// Lang is the language of the texts.
	Lang          string `json:"lang"`
	Controller    string `json:"controller"`
	Contact       string `json:"contact"`
	Withdraw      string `json:"withdraw"`
	PolicyVersion int    `json:"policy_version"`
	// GPC is true when the request carries the Global Privacy Control
	// signal.
	GPC      bool           `json:"gpc"`
	Purposes []PurposeState `json:"purposes"`
}

// PurposeState is one purpose of a [State].
type PurposeState struct {
	Purpose consent.Purpose `json:"purpose"`
	Parent  consent.Purpose `json:"parent,omitempty"`
	// Label and Benefit say what the purpose does and gives the person,
	// in the request's language ([consent.Catalog.Purpose]).
	Label   string        `json:"label"`
	Benefit string        `json:"benefit,omitempty"`
	Basis   consent.Basis `json:"basis"`
	// BasisText is the legal basis in words.
	BasisText  string             `json:"basis_text"`
	Kind       Kind               `json:"kind"`
	Categories []consent.Category `json:"categories,omitempty"`
	// Uses is the data categories in words ("what you bought and what you
	// looked at").
	Uses   string         `json:"uses,omitempty"`
	On     bool           `json:"on"`
	Reason consent.Reason `json:"reason"`
	// Why is the reason in words.
	Why string `json:"why"`
	// GPCCovers is true when a GPC signal opts the person out of the
	// purpose under the request's regime: turning it on while the signal
	// is sent needs the person's confirmation.
	GPCCovers bool `json:"gpc_covers"`
	// OverridesGPC is true when the purpose is on by a grant the person
	// confirmed over GPC.
	OverridesGPC bool `json:"overrides_gpc,omitempty"`
	// Since is when the person's choice the state rests on was recorded;
	// zero when it rests on the policy or a signal alone.
	Since time.Time `json:"since,omitzero"`
}

// State returns the preference centre of the person r comes from. A host
// that renders its own page calls it and posts the page's form to the
// Centre. Errors: those of the Authenticator (as [ErrUnauthenticated]) and
// of [consent.Gate.DecideMany].
func (c *Centre) State(r *http.Request) (State, error) {
	subject, err := c.auth(r)
	if err != nil || subject == "" {
		return State{}, errors.Join(ErrUnauthenticated, err)
	}
	return c.state(r.Context(), c.gate, subject, c.opts.Signals.Read(r), c.opts.Now(), c.opts.Lang(r))
}

// GuestState returns the preference centre of someone the host does not
// know (nobody is signed in): every purpose as it stands for a person with
// nothing on record, under the request's signals ([consent.Gate.Guest]).
// It reads and writes nothing: a host shows it to a browser before it has
// an id, and creates one only when the person saves a choice.
func (c *Centre) GuestState(r *http.Request) (State, error) {
	return c.state(r.Context(), c.gate.Guest(), "guest", c.opts.Signals.Read(r), c.opts.Now(), c.opts.Lang(r))
}

// decider is what state needs of a Gate or its Guest view.
type decider interface {
	DecideMany(ctx context.Context, subject string, purposes []consent.Purpose, at time.Time, sig consent.Signals, dst []consent.Decision) ([]consent.Decision, error)
}

func (c *Centre) state(ctx context.Context, g decider, subject string, sig consent.Signals, at time.Time, lang string) (State, error) {
	pol := c.gate.Policy()
	ps := make([]consent.Purpose, len(pol.Purposes))
	for i, s := range pol.Purposes {
		ps[i] = s.Purpose
	}
	ds, err := g.DecideMany(ctx, subject, ps, at, sig, nil)
	if err != nil {
		return State{}, err
	}
	cat := c.opts.Catalog
	st := State{Lang: lang, Controller: pol.Controller, Contact: pol.Contact, Withdraw: cat.Withdraw(lang, pol), PolicyVersion: pol.Version,
		GPC: sig.GPC, Purposes: make([]PurposeState, len(pol.Purposes))}
	for i, s := range pol.Purposes {
		d := ds[i]
		label, benefit := cat.Purpose(lang, pol, s.Purpose)
		p := PurposeState{Purpose: s.Purpose, Parent: s.Purpose.Parent(), Label: label, Benefit: benefit,
			Basis: s.Basis, BasisText: cat.Basis(lang, s.Basis), Kind: kindOf(s.Basis), Categories: s.Categories,
			Uses: cat.Categories(lang, s.Categories), On: d.Allowed, Reason: d.Reason, Why: cat.Reason(lang, d.Reason),
			GPCCovers: pol.GPCCovers(s.Purpose, d.Regime), OverridesGPC: d.Allowed && d.Record.OverridesGPC}
		if d.Record.Seq != 0 && d.Record.Source != consent.SourceGPC {
			p.Since = d.Record.At
		}
		st.Purposes[i] = p
	}
	return st, nil
}

func (c *Centre) serveState(w http.ResponseWriter, r *http.Request, subject string) error {
	st, err := c.state(r.Context(), c.gate, subject, c.opts.Signals.Read(r), c.opts.Now(), c.opts.Lang(r))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Language", st.Lang)
	writeJSON(w, http.StatusOK, st)
	return nil
}

// Choices is what a person asks the preference centre to change: the
// body of POST /. As a form: a field "shown" for each purpose the form
// showed a switch for, a field "on" for each that is switched on (so a
// shown purpose without "on" is switched off), a field "confirm_gpc" for
// each purpose the person turned on after being told that their GPC signal
// opts them out of it, and all=off to turn everything off. As JSON, the
// object below; unknown members are an error.
type Choices struct {
	// Set maps purposes to whether the person wants them on.
	Set map[consent.Purpose]bool `json:"set"`
	// ConfirmGPC lists the purposes the person turns on despite their GPC
	// signal, after being told of the conflict.
	ConfirmGPC []consent.Purpose `json:"confirm_gpc,omitempty"`
	// AllOff turns off every purpose the person can turn off (withdrawing
	// consent, objecting to legitimate interests); Set is then ignored.
	AllOff bool `json:"all_off,omitempty"`
}

func (c *Centre) serveChoices(w http.ResponseWriter, r *http.Request, subject string) error {
	var ch Choices
	form, err := decodeBody(r, &ch, func(f map[string][]string) error { return choicesFromForm(f, &ch) })
	if err != nil {
		return err
	}
	sig, at := c.opts.Signals.Read(r), c.opts.Now()
	recs, err := c.Apply(r.Context(), subject, ch, sig, at, c.evidence(r))
	if err != nil {
		return err
	}
	if form && c.redirect(w, r, Result{Done: "saved", Records: recs}) {
		return nil
	}
	return c.serveState(w, r, subject)
}

// Apply records what ch asks for subject, as of at and with the request's
// signals sig, all or nothing ([consent.Gate.RecordMany]), with evidence
// recorded on each event, and returns the records made (none when every
// purpose already stands as asked). Turning on a purpose records a grant
// (carrying [consent.Event].OverridesGPC when the signal is sent and the
// purpose is confirmed; for a legitimate interest, it lifts the person's
// objection); turning one off records a withdrawal of the grant it rests
// on, or a denial (an objection, for a legitimate interest) when it rests
// on none. Errors: a [*ChoiceError] for a purpose the person
// cannot switch, a [*GPCConflictError] for purposes the signal covers that
// were not confirmed, and those of the Gate. The Centre calls it for POST
// /; a host with its own form handling may call it directly.
func (c *Centre) Apply(ctx context.Context, subject string, ch Choices, sig consent.Signals, at time.Time, evidence string) ([]consent.Record, error) {
	pol := c.gate.Policy()
	var ps []consent.Purpose
	for _, s := range pol.Purposes {
		_, named := ch.Set[s.Purpose]
		if (ch.AllOff && kindOf(s.Basis) != KindFixed) || (!ch.AllOff && named) {
			ps = append(ps, s.Purpose)
		}
	}
	if !ch.AllOff {
		for p := range ch.Set {
			if _, ok := pol.Spec(p); !ok {
				return nil, &consent.EventError{Field: "purpose", Why: "not declared in the policy: " + string(p), Err: consent.ErrUnknownPurpose}
			}
		}
	}
	for _, p := range ch.ConfirmGPC {
		if _, ok := pol.Spec(p); !ok {
			return nil, &consent.EventError{Field: "purpose", Why: "not declared in the policy: " + string(p), Err: consent.ErrUnknownPurpose}
		}
	}
	ds, err := c.gate.DecideMany(ctx, subject, ps, at, sig, nil)
	if err != nil {
		return nil, err
	}
	var evs []consent.Event
	var conflict []consent.Purpose
	for i, p := range ps {
		spec, _ := pol.Spec(p)
		want := ch.Set[p] && !ch.AllOff
		d := ds[i]
		if want == d.Allowed {
			continue
		}
		kind := kindOf(spec.Basis)
		ev := consent.Event{Subject: subject, Purpose: p, At: at, Channel: c.opts.Channel, Evidence: evidence}
		switch {
		case kind == KindFixed:
			return nil, &ChoiceError{Purpose: p, Why: "rests on " + spec.Basis.String() + ", not on the person's consent"}
		case want:
			ev.Action = consent.Grant
			if sig.GPC && pol.GPCCovers(p, d.Regime) {
				if !slices.Contains(ch.ConfirmGPC, p) {
					conflict = append(conflict, p)
					continue
				}
				ev.OverridesGPC = true
			}
		case d.Record.Seq != 0 && d.Record.Action == consent.Grant:
			ev.Action = consent.Withdraw
		default:
			ev.Action = consent.Deny
		}
		evs = append(evs, ev)
	}
	if len(conflict) > 0 {
		return nil, &GPCConflictError{Purposes: conflict}
	}
	return c.gate.RecordMany(ctx, evs)
}

func (c *Centre) evidence(r *http.Request) string {
	if c.opts.Evidence != nil {
		return c.opts.Evidence(r)
	}
	return "preference centre"
}

// redirect sends a browser where Options.Redirect says, and reports
// whether it did.
func (c *Centre) redirect(w http.ResponseWriter, r *http.Request, res Result) bool {
	if c.opts.Redirect == nil {
		return false
	}
	to := c.opts.Redirect(r, res)
	if to == "" {
		return false
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return true
}

// choicesFromForm reads Choices from form fields.
func choicesFromForm(f map[string][]string, ch *Choices) error {
	for k := range f {
		switch k {
		case "shown", "on", "confirm_gpc", "all":
		default:
			return &RequestError{Field: k, Why: "unknown field"}
		}
	}
	ch.Set = map[consent.Purpose]bool{}
	for _, v := range f["shown"] {
		ch.Set[consent.Purpose(v)] = false
	}
	for _, v := range f["on"] {
		ch.Set[consent.Purpose(v)] = true
	}
	for _, v := range f["confirm_gpc"] {
		ch.ConfirmGPC = append(ch.ConfirmGPC, consent.Purpose(v))
	}
	switch all := f["all"]; {
	case len(all) == 0:
	case len(all) == 1 && all[0] == "off":
		ch.AllOff = true
	default:
		return &RequestError{Field: "all", Why: `the only value is "off"`}
	}
	return nil
}

// decodeBody reads a form (into fromForm) or a JSON body (into v) and
// reports whether it was a form. Only the body is read: the query is not.
func decodeBody(r *http.Request, v any, fromForm func(map[string][]string) error) (form bool, err error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return false, errors.Join(ErrUnsupportedMediaType, err)
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				return true, mb
			}
			return true, &RequestError{Why: "not a form: " + err.Error()}
		}
		return true, fromForm(r.PostForm)
	case "application/json":
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				return false, mb
			}
			return false, &RequestError{Why: "not the JSON expected: " + err.Error()}
		}
		if dec.More() {
			return false, &RequestError{Why: "more than one JSON value"}
		}
		return false, nil
	}
	return false, errors.Join(ErrUnsupportedMediaType, errors.New("consenthttp: send a form or JSON, not "+mt))
}

func (c *Centre) serveReceipt(w http.ResponseWriter, r *http.Request, subject string) error {
	rc, err := c.gate.Receipt(r.Context(), subject, c.opts.Now())
	if err != nil {
		return err
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, rc)
		return nil
	}
	lang := c.opts.Lang(r)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Language", lang)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, err = w.Write([]byte(c.opts.Catalog.Receipt(lang, &rc)))
	return err
}

// wantsJSON reports whether the request's Accept header asks for JSON.
func wantsJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
			return true
		}
	}
	return false
}

// Export is the body of GET /export: everything held about the person.
type Export struct {
	Consent consent.Access `json:"consent"`
	// Data is what the host's Options.Export returned; absent without one.
	Data any `json:"data,omitempty"`
}

func (c *Centre) serveExport(w http.ResponseWriter, r *http.Request, subject string) error {
	a, err := c.gate.Access(r.Context(), subject, c.opts.Now())
	if err != nil {
		return err
	}
	e := Export{Consent: a}
	if c.opts.Export != nil {
		if e.Data, err = c.opts.Export(r.Context(), subject); err != nil {
			return err
		}
	}
	w.Header().Set("Content-Disposition", `attachment; filename="my-data.json"`)
	writeJSON(w, http.StatusOK, e)
	return nil
}

// eraseRequest is the JSON body of POST /erase.
type eraseRequest struct {
	Confirm string `json:"confirm"`
}

func (c *Centre) serveErase(w http.ResponseWriter, r *http.Request, subject string) error {
	var req eraseRequest
	form, err := decodeBody(r, &req, func(f map[string][]string) error {
		for k := range f {
			if k != "confirm" {
				return &RequestError{Field: k, Why: "unknown field"}
			}
		}
		if v := f["confirm"]; len(v) == 1 {
			req.Confirm = v[0]
		}
		return nil
	})
	if err != nil {
		return err
	}
	if req.Confirm != "erase" {
		return &RequestError{Field: "confirm", Why: `erasing needs confirm=erase`}
	}
	e, err := c.gate.Erase(r.Context(), subject, c.opts.Now())
	if err != nil {
		return err
	}
	if c.opts.Erase != nil {
		if err := c.opts.Erase(w, r, subject, e); err != nil {
			return err
		}
	}
	if form && c.redirect(w, r, Result{Done: "erased", Erasure: e}) {
		return nil
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}
