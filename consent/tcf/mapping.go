package tcf

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tact-go/tact/consent"
)

// NumPurposes is the number of TCF v2.2 purposes: 1 to 11.
const NumPurposes = 11

// Config declares how TC and GPP strings speak for the host's purposes. A
// zero Config maps nothing; [NewMapping] refuses it.
type Config struct {
	// Purposes maps TCF purpose numbers (1 to 11) to the tact purposes they
	// stand for, such as 3 and 4 (personalised advertising profiles and their
	// use) to "advertising.targeted". Several TCF purposes may map to one
	// tact purpose: it is then granted only if all of them are. Map a TCF
	// purpose only if the host's CMP asks about it; to have one TCF purpose
	// (say 1, device storage) govern several tact purposes, map it to their
	// common parent.
	Purposes map[int]consent.Purpose
	// Vendor is the host's Global Vendor List id, when the host is an IAB
	// vendor: a purpose's signal is then the person's consent (or
	// legitimate-interest standing) for that purpose and that vendor, after
	// publisher restrictions. Zero means the host is the publisher: the
	// signal is the Publisher TC segment's when the string has one, and the
	// core string's purpose signal otherwise.
	Vendor int
	// Sale, Sharing and TargetedAdvertising are the tact purposes that the
	// opt-outs of a GPP string's US sections refuse (each may be empty, and
	// two may be the same). A Global Privacy Control flag in a US section
	// refuses all three; California's sharing opt-out, which is an opt-out
	// of cross-context behavioural advertising, refuses Sharing and
	// TargetedAdvertising.
	Sale, Sharing, TargetedAdvertising consent.Purpose
}

// Mapping applies a [Config] checked against a policy. Make one with
// [NewMapping]; it is immutable and safe for concurrent use. A Mapping
// reflects the legal bases of the policy it was made with: make a new one
// when the policy's purposes change.
type Mapping struct {
	tcf    []target // one per tact purpose, in purpose order
	us     []usTarget
	vendor int
}

// target is one tact purpose and the TCF purposes that speak for it.
type target struct {
	purpose consent.Purpose
	tcf     []int // ascending
	li      bool  // the purpose rests on legitimate interest: read objections
}

// usTarget is one tact purpose and the US opt-outs that refuse it.
type usTarget struct {
	purpose                  consent.Purpose
	sale, sharing, targeting bool
}

// NewMapping checks c against policy p and returns the Mapping. Each tact
// purpose must be well formed and declared in p, and its legal basis decides
// which signal speaks for it:
//
//   - consent: the consent signal, which grants or denies;
//   - legitimate interest: the legitimate-interest signal, which can only
//     object (deny): TCF purposes 1 and 3 to 6 cannot rest on legitimate
//     interest since TCF v2.2, so mapping them to such a purpose is an
//     error;
//   - explicit consent: no TCF signal is the express consent Art. 9 GDPR
//     asks for, so a TCF purpose cannot map to it (a US opt-out, which only
//     refuses, can);
//   - any other basis (contract, legal obligation, ...): an error, since no
//     one can consent to or object to it.
//
// Errors are [*MappingError]s that unwrap to [ErrMapping] and, where there
// is one, to the cause: [consent.ErrMalformedKey], [consent.ErrUnknownPurpose]
// or [consent.ErrNotConsentBasis]. A nil policy, a Config that maps nothing,
// a TCF purpose outside 1 to [NumPurposes] and a Vendor outside 0 to 65535
// are errors too.
func NewMapping(p *consent.Policy, c Config) (*Mapping, error) {
	if p == nil {
		return nil, &MappingError{Why: "nil policy"}
	}
	if len(c.Purposes) == 0 && c.Sale == "" && c.Sharing == "" && c.TargetedAdvertising == "" {
		return nil, &MappingError{Why: "the config maps nothing"}
	}
	if c.Vendor < 0 || c.Vendor > 0xffff {
		return nil, &MappingError{Why: "vendor id " + strconv.Itoa(c.Vendor) + " out of range 0-65535"}
	}
	m := &Mapping{vendor: c.Vendor}
	byPurpose := map[consent.Purpose]*target{}
	for n, purpose := range c.Purposes {
		if n < 1 || n > NumPurposes {
			return nil, &MappingError{TCF: n, Purpose: purpose, Why: "TCF purposes are numbered 1 to " + strconv.Itoa(NumPurposes)}
		}
		b, err := basis(p, purpose)
		if err != nil {
			err.TCF = n
			return nil, err
		}
		switch {
		case b == consent.BasisExplicitConsent:
			return nil, &MappingError{TCF: n, Purpose: purpose, Why: "rests on " + b.String() + ", which a TCF signal cannot give"}
		case b == consent.BasisLegitimateInterest && (n == 1 || (n >= 3 && n <= 6)):
			return nil, &MappingError{TCF: n, Purpose: purpose, Why: "rests on legitimate interest, which TCF v2.2 does not allow for this TCF purpose"}
		}
		t := byPurpose[purpose]
		if t == nil {
			t = &target{purpose: purpose, li: b == consent.BasisLegitimateInterest}
			byPurpose[purpose] = t
		}
		t.tcf = append(t.tcf, n)
	}
	for _, t := range byPurpose {
		slices.Sort(t.tcf)
		m.tcf = append(m.tcf, *t)
	}
	slices.SortFunc(m.tcf, func(a, b target) int { return strings.Compare(string(a.purpose), string(b.purpose)) })

	usBy := map[consent.Purpose]*usTarget{}
	for _, f := range []struct {
		name    string
		purpose consent.Purpose
		set     func(*usTarget)
	}{
		{"sale", c.Sale, func(u *usTarget) { u.sale = true }},
		{"sharing", c.Sharing, func(u *usTarget) { u.sharing = true }},
		{"targeted_advertising", c.TargetedAdvertising, func(u *usTarget) { u.targeting = true }},
	} {
		if f.purpose == "" {
			continue
		}
		if _, err := basis(p, f.purpose); err != nil {
			err.Signal = f.name
			return nil, err
		}
		u := usBy[f.purpose]
		if u == nil {
			u = &usTarget{purpose: f.purpose}
			usBy[f.purpose] = u
		}
		f.set(u)
	}
	for _, u := range usBy {
		m.us = append(m.us, *u)
	}
	slices.SortFunc(m.us, func(a, b usTarget) int { return strings.Compare(string(a.purpose), string(b.purpose)) })
	return m, nil
}

// basis checks that purpose is well formed, declared in p and refusable, and
// returns its basis.
func basis(p *consent.Policy, purpose consent.Purpose) (consent.Basis, *MappingError) {
	if err := purpose.Validate(); err != nil {
		return 0, &MappingError{Purpose: purpose, Why: "malformed purpose", Err: err}
	}
	spec, ok := p.Spec(purpose)
	if !ok {
		return 0, &MappingError{Purpose: purpose, Why: "not declared in the policy", Err: consent.ErrUnknownPurpose}
	}
	if b := spec.Basis; !b.NeedsConsent() && b != consent.BasisLegitimateInterest {
		return 0, &MappingError{Purpose: purpose, Why: "rests on " + b.String() + ", which no one can consent or object to", Err: consent.ErrNotConsentBasis}
	}
	return spec.Basis, nil
}

// signal is what a string says about one TCF purpose.
type signal uint8

const (
	unknown signal = iota // the string says nothing (not disclosed)
	yes
	no
)

// signal returns the consent (li false) or legitimate-interest (li true)
// signal of TCF purpose n, for the Mapping's vendor or for the publisher.
func (m *Mapping) signal(t *TCString, n int, li bool) signal {
	if n == 1 && t.PurposeOneTreatment {
		return unknown // purpose 1 was not disclosed: its bit means nothing
	}
	var ok bool
	switch {
	case m.vendor != 0:
		if t.dv != nil && !t.dv.IsVendorDisclosed(m.vendor) {
			return unknown // the person was never shown this vendor
		}
		if li {
			ok = t.core.IsVendorAllowedForPurposesLI(m.vendor, n)
		} else {
			ok = t.core.IsVendorAllowedForPurposes(m.vendor, n)
		}
	case t.Publisher != nil:
		ok = (li && t.Publisher.LegitimateInterest.Has(n)) || (!li && t.Publisher.Consent.Has(n))
	default:
		ok = (li && t.PurposeLegitimateInterest.Has(n)) || (!li && t.PurposeConsent.Has(n))
	}
	if ok {
		return yes
	}
	return no
}

// source names whose signals were read, for the evidence.
func (m *Mapping) source(t *TCString) string {
	switch {
	case m.vendor != 0:
		return "vendor:" + strconv.Itoa(m.vendor)
	case t.Publisher != nil:
		return "publisher"
	}
	return "purposes"
}

// Events returns the consent events a TC string stands for, about subject,
// through channel ch, in purpose order. For each tact purpose of the
// mapping, from the signals of its TCF purposes (all must hold):
//
//   - a consent purpose gets a Grant when every signal is a yes and a Deny
//     when any is a no;
//   - a legitimate-interest purpose gets a Deny (an objection) when any
//     signal is a no, and no event otherwise: it is allowed until the person
//     objects, and a TC string does not lift an objection;
//   - no event at all when the string says nothing decisive: purpose 1 when
//     PurposeOneTreatment is set, every purpose when the Mapping's vendor is
//     missing from the string's Disclosed Vendors segment (the person was
//     never shown the vendor).
//
// Every event has Source [consent.SourceImport], PolicyVersion zero (the
// Gate's current version) and Evidence recording its provenance, never the
// string itself: "tcf:v2", the string's digest, CMP id and version, consent
// screen, language, TCF policy version, vendor list version, last-updated
// time, the source of the signals (the vendor, the publisher segment or the
// core purposes) and each TCF purpose's signal ("consent p3=1 p4=0", with
// "?" for a signal that says nothing). Keep the string itself if you may
// need to show it; its digest proves it is the one.
//
// The events are dated when the person made the choice: t.LastUpdated, or
// now if that is later (the choice was made by the time the host got the
// string; the evidence keeps the string's own time). So a string older than
// a choice the subject has made since is refused by [consent.Gate.Record]
// with [consent.ErrOutOfOrder], and skipping such events is right: the
// newer choice stands. Import a string when it changes (its Digest or
// LastUpdated), not on every request, or the ledger fills with repeats.
//
// Record the events one by one with [consent.Gate.Record], skipping those
// refused with ErrOutOfOrder, or all or none with [consent.Gate.RecordMany]
// (one out-of-order event then refuses them all).
//
// Events does not check subject and ch; the Gate does. The error, for a nil
// Mapping, a nil t or a zero now, unwraps to [ErrMapping], [ErrMalformed] or
// [consent.ErrZeroTime].
func (m *Mapping) Events(t *TCString, subject string, ch consent.Channel, now time.Time) ([]consent.Event, error) {
	if m == nil {
		return nil, &MappingError{Why: "nil Mapping"}
	}
	if t == nil || t.core == nil {
		return nil, malformed("tc string", "nil or not made by Parse", nil)
	}
	if now.IsZero() {
		return nil, fmt.Errorf("tcf: now: %w", consent.ErrZeroTime)
	}
	return m.tcEvents(t, subject, ch, now, ""), nil
}

func (m *Mapping) tcEvents(t *TCString, subject string, ch consent.Channel, now time.Time, prefix string) []consent.Event {
	at := t.LastUpdated
	if at.After(now) {
		at = now
	}
	head := prefix + "tcf:v2 " + t.Digest + " cmp=" + strconv.Itoa(t.CMPID) + "/" + strconv.Itoa(t.CMPVersion) +
		" screen=" + strconv.Itoa(t.ConsentScreen) + " lang=" + t.ConsentLanguage + " policy=" + strconv.Itoa(t.PolicyVersion) +
		" gvl=" + strconv.Itoa(t.VendorListVersion) + " updated=" + t.LastUpdated.Format("2006-01-02T15:04:05.0Z") +
		" src=" + m.source(t)
	var out []consent.Event
	for _, tg := range m.tcf {
		var b strings.Builder
		b.WriteString(head)
		if tg.li {
			b.WriteString(" li")
		} else {
			b.WriteString(" consent")
		}
		var anyNo, anyUnknown bool
		for _, n := range tg.tcf {
			s := m.signal(t, n, tg.li)
			anyNo = anyNo || s == no
			anyUnknown = anyUnknown || s == unknown
			b.WriteString(" p" + strconv.Itoa(n) + "=" + [...]string{unknown: "?", yes: "1", no: "0"}[s])
		}
		var action consent.Action
		switch {
		case anyNo:
			action = consent.Deny
		case anyUnknown || tg.li:
			continue // nothing decisive, or nothing to record
		default:
			action = consent.Grant
		}
		out = append(out, consent.Event{
			Action: action, Subject: subject, Purpose: tg.purpose, At: at, Channel: ch,
			Source: consent.SourceImport, Evidence: b.String(),
		})
	}
	return out
}

// GPPEvents returns the consent events a GPP string stands for, about
// subject, through channel ch: those of its tcfeuv2 section, as [Mapping.Events]
// makes them (their evidence starts with "gpp:v1" and the GPP string's
// digest), then Deny events from its US sections for the purposes of
// Config.Sale, Sharing and TargetedAdvertising, one per purpose, when a
// section records the matching opt-out (value [OptedOut]) or the GPC flag.
// A US section never grants: "did not opt out" is not consent, and is not
// recorded. US sections carry no time, so their events are dated now, when
// the host got the string; their evidence names what refused the purpose
// ("gpp:v1 sha256:… opt-out usnat.sale usnat.gpc").
//
// Restrict g to the sections that apply to the person ([GPP.Only] with the
// gpp_sid the string came with) before calling GPPEvents. Sections in
// g.Skipped give no events. Errors are those of [Mapping.Events].
func (m *Mapping) GPPEvents(g *GPP, subject string, ch consent.Channel, now time.Time) ([]consent.Event, error) {
	if m == nil {
		return nil, &MappingError{Why: "nil Mapping"}
	}
	if g == nil {
		return nil, malformed("gpp", "nil", nil)
	}
	if now.IsZero() {
		return nil, fmt.Errorf("tcf: now: %w", consent.ErrZeroTime)
	}
	prefix := "gpp:v1 " + g.Digest + " "
	var out []consent.Event
	if g.TCF != nil {
		out = m.tcEvents(g.TCF, subject, ch, now, prefix+"tcfeuv2 ")
	}
	for _, u := range m.us {
		var why []string
		for _, s := range g.US {
			if u.sale && s.SaleOptOut == OptedOut {
				why = append(why, s.Name+".sale")
			}
			if (u.sharing || (u.targeting && s.ID == SectionUSCA)) && s.SharingOptOut == OptedOut {
				why = append(why, s.Name+".sharing")
			}
			if u.targeting && s.TargetedAdvertisingOptOut == OptedOut {
				why = append(why, s.Name+".targeted_advertising")
			}
			if s.GPC {
				why = append(why, s.Name+".gpc")
			}
		}
		if len(why) == 0 {
			continue
		}
		out = append(out, consent.Event{
			Action: consent.Deny, Subject: subject, Purpose: u.purpose, At: now, Channel: ch,
			Source: consent.SourceImport, Evidence: prefix + "opt-out " + strings.Join(why, " "),
		})
	}
	return out, nil
}
