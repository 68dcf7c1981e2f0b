package consent

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tact-go/tact/internal/jsonkey"
)

// Policy is what a business tells people it does with their data, purpose by
// purpose, in a form the [Gate] can apply. It is versioned: Version goes up
// with every change, and a purpose whose meaning changes materially records
// the policy version of that change in its own [PurposeSpec].Version, which
// invalidates older grants of it (the person is asked again).
//
// A Policy is plain data: build it in Go or decode it from JSON with
// [DecodePolicy]. [Policy.Validate] checks it; [NewGate] validates and copies
// it, so a Policy may be reused or changed after the Gate is made. Like any
// struct with slices, a Policy must not be changed while another goroutine
// reads it.
type Policy struct {
	// Version is the policy's version, 1 or more, raised with every change.
	Version int `json:"version"`
	// Controller names who decides what happens to the data (the business),
	// as receipts show it.
	Controller string `json:"controller"`
	// Contact is how to reach the controller about privacy (an address, an
	// email or a URL).
	Contact string `json:"contact"`
	// Address is the controller's postal address, as ISO/IEC TS 27560
	// records name the controller by it; optional.
	Address string `json:"address,omitempty"`
	// Withdraw tells a person, in plain words, how to withdraw consent
	// ("Settings › Privacy in the app, or reply STOP to any email").
	// Receipts show it; withdrawing must be as easy as agreeing.
	Withdraw string `json:"withdraw"`
	// NoticeURL is where the full privacy notice lives; optional.
	NoticeURL string `json:"notice_url,omitempty"`
	// Language is the BCP 47 tag of the language the policy's text is
	// written in ("en", "pt-BR"); empty means "en".
	Language string `json:"language,omitempty"`
	// Jurisdiction is where the controller answers for the processing: an
	// ISO 3166-1 alpha-2 country code, optionally followed by "-" and an
	// ISO 3166-2 subdivision code ("BR", "US-CA"), or "EU". Optional;
	// [Gate.ISO27560] falls back to the Gate's regime (EU for GDPR, BR for
	// LGPD, US-CA for CPRA).
	Jurisdiction string `json:"jurisdiction,omitempty"`
	// StorageLocations lists where personal data is stored, as codes of
	// the same form as Jurisdiction ("EU", "US"). Optional.
	StorageLocations []string `json:"storage_locations,omitempty"`
	// GPCObjectsToMarketing makes a Global Privacy Control signal count,
	// under GDPR and LGPD, as the person's objection to the purposes marked
	// DirectMarketing (GDPR Art. 21(2), exercised by automated means as
	// Art. 21(5) allows), besides its opt-out of sale and sharing. It is
	// off by default, following the W3C GPC specification: the signal
	// conveys a request not to sell or share personal data with third
	// parties, and is "not intended to limit a first party's use of
	// personal information within the first-party context"; it leaves to
	// each regulator whether it invokes other rights (its section on legal
	// effects, which names GDPR Articles 7 and 21 as rights it could
	// potentially invoke). A controller that reads the signal as an
	// objection to its own marketing turns this on, and says so in its
	// notice: the specification asks publishers to disclose how they treat
	// the signal.
	GPCObjectsToMarketing bool `json:"gpc_objects_to_marketing,omitempty"`
	// Purposes lists the purposes, parents before or after children, in the
	// order receipts show them.
	Purposes []PurposeSpec `json:"purposes"`
}

// PurposeSpec declares one purpose of a [Policy].
type PurposeSpec struct {
	// Purpose is the purpose's key. Its parent, if any, must be declared in
	// the same policy.
	Purpose Purpose
	// Version is the policy version in which this purpose last changed
	// materially (what it does, what data it uses, who gets it): 1 or more
	// and at most the policy's Version. Grants made under an older policy
	// version no longer allow the purpose ([ReasonReconsent]).
	Version int
	// Description says in plain language what the purpose does.
	Description string
	// Benefit says what the person gets in return ("recommendations that fit
	// your training"). Required for purposes that need consent.
	Benefit string
	// Basis is the legal basis. Purposes that use a sensitive category must
	// use [BasisExplicitConsent].
	Basis Basis
	// Categories lists the data categories the purpose uses.
	Categories []Category
	// SaleOrShare marks a purpose that sells or shares personal data or
	// serves targeted (cross-context behavioural) advertising: CPRA's opt-out
	// applies and a Global Privacy Control signal denies it.
	SaleOrShare bool
	// DirectMarketing marks marketing the person did not ask for. Under
	// GDPR and LGPD a GPC signal counts as an objection to it when the
	// policy's GPCObjectsToMarketing says so.
	DirectMarketing bool
	// Lifetime is how long a grant holds before the person must be asked
	// again. Required (positive) for purposes that need consent; zero
	// otherwise.
	Lifetime time.Duration
	// Retention is how long data used for the purpose is kept. Required
	// (positive) when the purpose uses any category.
	Retention time.Duration
	// Recipients names the third parties that receive personal data for
	// the purpose (a purpose marked SaleOrShare lists whom it sells to or
	// shares with). Optional.
	Recipients []string
}

// Limits on policy text, so that a policy stays something a person can read.
const (
	// MaxTextLen is the longest description, benefit or policy text field,
	// in bytes.
	MaxTextLen = 2000
	// MaxPurposes is the most purposes a policy may declare.
	MaxPurposes = 1000
)

// Sensitive reports whether the purpose uses a sensitive category
// ([Category.Sensitive]).
func (s *PurposeSpec) Sensitive() bool {
	for _, c := range s.Categories {
		if c.Sensitive() {
			return true
		}
	}
	return false
}

// Spec returns a copy of the declaration of purpose and whether the policy
// has one (a nil policy has none).
func (p *Policy) Spec(purpose Purpose) (PurposeSpec, bool) {
	if p == nil {
		return PurposeSpec{}, false
	}
	for _, s := range p.Purposes {
		if s.Purpose == purpose {
			return s.clone(), true
		}
	}
	return PurposeSpec{}, false
}

// GPCCovers reports whether a Global Privacy Control signal opts the person
// out of purpose under regime r (RegimeDefault meaning GDPR): the purpose
// rests on consent or a legitimate interest, and it or a purpose above it
// is marked SaleOrShare, or DirectMarketing when the policy's
// GPCObjectsToMarketing is set and r is GDPR or LGPD. A preference centre
// uses it to disclose the conflict before a grant (see
// [Event].OverridesGPC). It is false for a purpose the policy does not
// declare.
func (p *Policy) GPCCovers(purpose Purpose, r Regime) bool {
	if r == RegimeDefault {
		r = GDPR
	}
	s, ok := p.Spec(purpose)
	if !ok || !(s.Basis.NeedsConsent() || s.Basis == BasisLegitimateInterest) {
		return false
	}
	for q := purpose; q != ""; q = q.Parent() {
		a, ok := p.Spec(q)
		if ok && (a.SaleOrShare || (a.DirectMarketing && p.GPCObjectsToMarketing && r.optIn())) {
			return true
		}
	}
	return false
}

// Clone returns a deep copy of p, or nil if p is nil.
func (p *Policy) Clone() *Policy {
	if p == nil {
		return nil
	}
	q := *p
	if p.StorageLocations != nil {
		q.StorageLocations = append([]string(nil), p.StorageLocations...)
	}
	if p.Purposes != nil {
		q.Purposes = make([]PurposeSpec, len(p.Purposes))
		for i, s := range p.Purposes {
			q.Purposes[i] = s.clone()
		}
	}
	return &q
}

func (s PurposeSpec) clone() PurposeSpec {
	if s.Categories != nil {
		s.Categories = append([]Category(nil), s.Categories...)
	}
	if s.Recipients != nil {
		s.Recipients = append([]string(nil), s.Recipients...)
	}
	return s
}

// Validate checks that the policy is complete and consistent. The error is a
// [*PolicyError] naming the purpose and field concerned. The rules:
//
//   - Version is 1 or more; Controller, Contact and Withdraw are set; text
//     fields, storage locations and recipients are valid UTF-8 of at most
//     [MaxTextLen] bytes.
//   - Language, if set, has the shape of a BCP 47 tag ("en", "pt-BR");
//     Jurisdiction and each storage location, if set, that of an ISO 3166
//     code ("EU", "BR", "US-CA"). Storage locations and a purpose's
//     recipients are not empty and not repeated.
//   - Every purpose key is well formed, declared once, and its parent is
//     declared too.
//   - Every purpose has a description and a known basis; purposes that need
//     consent state their benefit and a positive Lifetime; others have no
//     Lifetime.
//   - Version is between 1 and the policy's Version.
//   - Categories are well formed and not repeated; a purpose that uses any
//     has a positive Retention.
//   - A purpose that uses a sensitive category rests on explicit consent.
//   - A purpose marked SaleOrShare or DirectMarketing rests on consent,
//     explicit consent or legitimate interest: people can refuse it.
func (p *Policy) Validate() error {
	if p == nil {
		return &PolicyError{Why: "nil policy"}
	}
	if p.Version < 1 {
		return &PolicyError{Field: "version", Why: "must be 1 or more"}
	}
	for _, f := range []struct {
		name, v  string
		required bool
	}{
		{"controller", p.Controller, true},
		{"contact", p.Contact, true},
		{"withdraw", p.Withdraw, true},
		{"notice_url", p.NoticeURL, false},
		{"address", p.Address, false},
		{"language", p.Language, false},
		{"jurisdiction", p.Jurisdiction, false},
	} {
		if err := checkText("", f.name, f.v, f.required); err != nil {
			return err
		}
	}
	if p.Language != "" && !languageTag.MatchString(p.Language) {
		return &PolicyError{Field: "language", Why: "not a BCP 47 language tag such as \"en\" or \"pt-BR\""}
	}
	if p.Jurisdiction != "" && !regionCode.MatchString(p.Jurisdiction) {
		return &PolicyError{Field: "jurisdiction", Why: notRegion}
	}
	if err := checkList("", "storage_locations", p.StorageLocations, regionCode); err != nil {
		return err
	}
	if len(p.Purposes) == 0 {
		return &PolicyError{Field: "purposes", Why: "a policy declares at least one purpose"}
	}
	if len(p.Purposes) > MaxPurposes {
		return &PolicyError{Field: "purposes", Why: "more than " + strconv.Itoa(MaxPurposes) + " purposes"}
	}
	seen := make(map[Purpose]bool, len(p.Purposes))
	for i := range p.Purposes {
		s := &p.Purposes[i]
		if err := s.Purpose.Validate(); err != nil {
			return &PolicyError{Purpose: s.Purpose, Field: "purpose", Why: "purpose " + strconv.Itoa(i+1) + " has a malformed key", Err: err}
		}
		if seen[s.Purpose] {
			return &PolicyError{Purpose: s.Purpose, Field: "purpose", Why: "declared more than once"}
		}
		seen[s.Purpose] = true
		if err := s.validate(p.Version); err != nil {
			return err
		}
	}
	for _, s := range p.Purposes {
		if par := s.Purpose.Parent(); par != "" && !seen[par] {
			return &PolicyError{Purpose: s.Purpose, Field: "purpose", Why: "parent " + strconv.Quote(string(par)) + " is not declared"}
		}
	}
	return nil
}

func (s *PurposeSpec) validate(policyVersion int) error {
	bad := func(field, why string) error { return &PolicyError{Purpose: s.Purpose, Field: field, Why: why} }
	if s.Version < 1 || s.Version > policyVersion {
		return bad("version", "must be between 1 and the policy version "+strconv.Itoa(policyVersion))
	}
	if err := checkText(s.Purpose, "description", s.Description, true); err != nil {
		return err
	}
	if s.Basis == BasisUnknown || int(s.Basis) >= len(basisNames) {
		return bad("basis", "unknown legal basis")
	}
	needs := s.Basis.NeedsConsent()
	if err := checkText(s.Purpose, "benefit", s.Benefit, needs); err != nil {
		return err
	}
	switch {
	case s.Lifetime < 0:
		return bad("lifetime", "negative")
	case needs && s.Lifetime == 0:
		return bad("lifetime", "a purpose that needs consent states how long a grant holds")
	case !needs && s.Lifetime != 0:
		return bad("lifetime", "only purposes that need consent have a consent lifetime")
	}
	if s.Retention < 0 {
		return bad("retention", "negative")
	}
	if len(s.Categories) > 0 && s.Retention == 0 {
		return bad("retention", "a purpose that uses data states how long it is kept")
	}
	for i, c := range s.Categories {
		if err := c.Validate(); err != nil {
			return &PolicyError{Purpose: s.Purpose, Field: "categories", Why: "category " + strconv.Itoa(i+1) + " is malformed", Err: err}
		}
		for _, d := range s.Categories[:i] {
			if c == d {
				return bad("categories", "category "+strconv.Quote(string(c))+" listed more than once")
			}
		}
		if c.Sensitive() && s.Basis != BasisExplicitConsent {
			return bad("basis", "uses sensitive category "+strconv.Quote(string(c))+" on basis "+s.Basis.String()+"; sensitive data needs explicit_consent")
		}
	}
	if err := checkList(s.Purpose, "recipients", s.Recipients, nil); err != nil {
		return err
	}
	refusable := needs || s.Basis == BasisLegitimateInterest
	if s.SaleOrShare && !refusable {
		return bad("sale_or_share", "sale, sharing or targeted advertising cannot rest on "+s.Basis.String()+": people must be able to refuse it")
	}
	if s.DirectMarketing && !refusable {
		return bad("direct_marketing", "direct marketing cannot rest on "+s.Basis.String()+": people must be able to refuse it")
	}
	return nil
}

func checkText(p Purpose, field, v string, required bool) error {
	switch {
	case v == "" && required:
		return &PolicyError{Purpose: p, Field: field, Why: "required"}
	case len(v) > MaxTextLen:
		return &PolicyError{Purpose: p, Field: field, Why: "longer than " + strconv.Itoa(MaxTextLen) + " bytes"}
	case !utf8.ValidString(v):
		return &PolicyError{Purpose: p, Field: field, Why: "not valid UTF-8"}
	}
	return nil
}

// Shapes of the codes a policy names. They check the form, not the
// registries: "ZZ" passes as a country code.
var (
	// languageTag is a BCP 47 tag in its common form: a primary language
	// subtag of 2 or 3 letters (or a registered one of 5 to 8), then
	// subtags of 1 to 8 letters or digits.
	languageTag = regexp.MustCompile(`^(?:[A-Za-z]{2,3}|[A-Za-z]{5,8})(?:-[A-Za-z0-9]{1,8})*$`)
	// regionCode is an ISO 3166-1 alpha-2 code, optionally followed by an
	// ISO 3166-2 subdivision ("US-CA"); "EU" has the same form.
	regionCode = regexp.MustCompile(`^[A-Z]{2}(?:-[A-Z0-9]{1,3})?$`)
)

const notRegion = "not an ISO 3166 code such as \"EU\", \"BR\" or \"US-CA\""

// checkList checks a list of short texts: each set, valid, not repeated
// and, with shape, of that shape.
func checkList(p Purpose, field string, vs []string, shape *regexp.Regexp) error {
	for i, v := range vs {
		n := strconv.Itoa(i + 1)
		if err := checkText(p, field, v, true); err != nil {
			pe := err.(*PolicyError) // checkText's errors are all *PolicyError
			pe.Why = "entry " + n + ": " + pe.Why
			return pe
		}
		if shape != nil && !shape.MatchString(v) {
			return &PolicyError{Purpose: p, Field: field, Why: "entry " + n + ": " + notRegion}
		}
		if slices.Contains(vs[:i], v) {
			return &PolicyError{Purpose: p, Field: field, Why: strconv.Quote(v) + " listed more than once"}
		}
	}
	return nil
}

// purposeSpecJSON is the JSON form of a PurposeSpec: snake_case names and
// durations as Go duration strings ("8760h").
type purposeSpecJSON struct {
	Purpose         Purpose    `json:"purpose"`
	Version         int        `json:"version"`
	Description     string     `json:"description"`
	Benefit         string     `json:"benefit,omitempty"`
	Basis           Basis      `json:"basis"`
	Categories      []Category `json:"categories,omitempty"`
	SaleOrShare     bool       `json:"sale_or_share,omitempty"`
	DirectMarketing bool       `json:"direct_marketing,omitempty"`
	Lifetime        string     `json:"lifetime,omitempty"`
	Retention       string     `json:"retention,omitempty"`
	Recipients      []string   `json:"recipients,omitempty"`
}

// MarshalJSON encodes the spec with snake_case field names and durations as
// Go duration strings ("8760h0m0s").
func (s PurposeSpec) MarshalJSON() ([]byte, error) {
	j := purposeSpecJSON{
		Purpose: s.Purpose, Version: s.Version, Description: s.Description, Benefit: s.Benefit,
		Basis: s.Basis, Categories: s.Categories, SaleOrShare: s.SaleOrShare, DirectMarketing: s.DirectMarketing,
		Recipients: s.Recipients,
	}
	if s.Lifetime != 0 {
		j.Lifetime = s.Lifetime.String()
	}
	if s.Retention != 0 {
		j.Retention = s.Retention.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes the form MarshalJSON writes. Unknown fields are an
// error. It does not validate; [DecodePolicy] does.
func (s *PurposeSpec) UnmarshalJSON(data []byte) error {
	if k, dup := jsonkey.Duplicate(data); dup {
		return &PolicyError{Field: "json", Why: "key " + strconv.Quote(k) + " appears more than once"}
	}
	var j purposeSpecJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		var pe *PolicyError
		if errors.As(err, &pe) {
			return err
		}
		return &PolicyError{Purpose: j.Purpose, Why: "not a JSON purpose", Err: err}
	}
	var life, keep time.Duration
	var err error
	if j.Lifetime != "" {
		if life, err = time.ParseDuration(j.Lifetime); err != nil {
			return &PolicyError{Purpose: j.Purpose, Field: "lifetime", Why: "not a duration", Err: err}
		}
	}
	if j.Retention != "" {
		if keep, err = time.ParseDuration(j.Retention); err != nil {
			return &PolicyError{Purpose: j.Purpose, Field: "retention", Why: "not a duration", Err: err}
		}
	}
	if len(j.Categories) == 0 {
		j.Categories = nil
	}
	if len(j.Recipients) == 0 {
		j.Recipients = nil
	}
	*s = PurposeSpec{
		Purpose: j.Purpose, Version: j.Version, Description: j.Description, Benefit: j.Benefit,
		Basis: j.Basis, Categories: j.Categories, SaleOrShare: j.SaleOrShare, DirectMarketing: j.DirectMarketing,
		Lifetime: life, Retention: keep, Recipients: j.Recipients,
	}
	return nil
}

// MaxPolicySize is the largest policy document [DecodePolicy] reads, in bytes.
const MaxPolicySize = 1 << 20

// DecodePolicy decodes a policy from JSON (the form [json.Marshal] writes for
// a Policy) and validates it. Unknown fields, repeated keys (in any case),
// trailing data and documents over [MaxPolicySize] bytes are rejected.
// Every error unwraps to [ErrInvalidPolicy].
func DecodePolicy(data []byte) (*Policy, error) {
	if len(data) > MaxPolicySize {
		return nil, &PolicyError{Why: "document larger than " + strconv.Itoa(MaxPolicySize) + " bytes"}
	}
	if k, dup := jsonkey.Duplicate(data); dup {
		return nil, &PolicyError{Field: "json", Why: "key " + strconv.Quote(k) + " appears more than once"}
	}
	var p Policy
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		var pe *PolicyError
		if errors.As(err, &pe) {
			return nil, pe
		}
		return nil, &PolicyError{Why: "not a JSON policy", Err: err}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &PolicyError{Why: "trailing data after the policy"}
	}
	if len(p.Purposes) == 0 {
		p.Purposes = nil
	}
	if len(p.StorageLocations) == 0 {
		p.StorageLocations = nil
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}
