package consent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tact-go/tact/internal/jsonkey"
)

// ISO/IEC TS 27560:2023 (Privacy technologies — Consent record information
// structure) and the W3C Data Privacy Vocabulary (DPV 2). Field names follow
// the standard's (schema version, record id, PII principal id; privacy
// notice, language, purpose, lawful basis, PII information, PII
// controllers, storage locations, retention period, jurisdiction,
// recipient third parties, withdrawal method; event time, validity
// duration, entity id, event type, event state) in snake_case, as the DPV
// community group's JSON examples write them. Values that name a concept
// are compact DPV IRIs: the prefix dpv: stands for https://w3id.org/dpv#
// and pd: for https://w3id.org/dpv/pd# (DPV 2.1).

// ISOSchemaVersion is the schema_version of every record [Gate.ISO27560]
// writes and [DecodeISO27560] reads.
const ISOSchemaVersion = "ISO/IEC TS 27560:2023"

// The DPV consent states an [ISOEvent] can be in.
const (
	DPVConsentGiven     = "dpv:ConsentGiven"     // a grant
	DPVConsentRefused   = "dpv:ConsentRefused"   // a denial (or an objection), including a GPC opt-out
	DPVConsentWithdrawn = "dpv:ConsentWithdrawn" // a withdrawal (or an objection)
	DPVConsentExpired   = "dpv:ConsentExpired"   // derived: the consent lifetime ran out
)

// ISORecord is one ISO/IEC TS 27560 consent record: one person, one
// purpose, and the events of the person's choices about it. See
// [Gate.ISO27560] for how each field is filled and [DecodeISO27560] for
// the checks a record must pass. It encodes to JSON with the field names
// shown.
type ISORecord struct {
	// SchemaVersion is [ISOSchemaVersion].
	SchemaVersion string `json:"schema_version"`
	// RecordID identifies the record, in UUID form (RFC 9562 version 8,
	// derived from the subject, the purpose and the record's first ledger
	// record): the same record keeps its id as events are added.
	RecordID string `json:"record_id"`
	// PIIPrincipalID is the subject: the host's id for the person.
	PIIPrincipalID string        `json:"pii_principal_id"`
	Processing     ISOProcessing `json:"processing"`
	// Events are the person's choices that decide the purpose, in ledger
	// (and time) order, with any expiry derived from them.
	Events     []ISOEvent          `json:"events"`
	Extensions ISORecordExtensions `json:"extensions"`
}

// ISOProcessing is the processing section of an [ISORecord].
type ISOProcessing struct {
	PrivacyNotice ISONotice `json:"privacy_notice"`
	// Language is the BCP 47 tag of the notice ([Policy].Language, "en"
	// by default).
	Language string `json:"language"`
	// Purposes holds one entry: the record's purpose.
	Purposes []ISOPurpose `json:"purposes"`
}

// ISONotice names the privacy notice the person was shown: the policy's
// [Policy].NoticeURL (omitted when the policy has none) and version.
type ISONotice struct {
	URL     string `json:"url,omitempty"`
	Version int    `json:"version"`
}

// ISOPurpose is the processing of one purpose in an [ISORecord].
type ISOPurpose struct {
	// Purpose is the purpose's description in plain language; its key is
	// in the record's extension.
	Purpose string `json:"purpose"`
	// LawfulBasis is the DPV term for the purpose's [Basis] ("dpv:Consent",
	// "dpv:ExplicitlyExpressedConsent", "dpv:LegitimateInterest", ...).
	LawfulBasis    string     `json:"lawful_basis"`
	PIIInformation []ISOPII   `json:"pii_information"`
	PIIControllers []ISOParty `json:"pii_controllers"`
	// StorageLocations is [Policy].StorageLocations.
	StorageLocations []string `json:"storage_locations"`
	// RetentionPeriod is the purpose's Retention as an ISO 8601 duration
	// ("P730D"; "P0D" for a purpose that keeps no data of its own).
	RetentionPeriod string `json:"retention_period"`
	// Jurisdiction is [Policy].Jurisdiction or, when it is empty, the
	// Gate's regime's: "EU" (GDPR), "BR" (LGPD), "US-CA" (CPRA).
	Jurisdiction string `json:"jurisdiction"`
	// RecipientThirdParties is the purpose's [PurposeSpec].Recipients.
	RecipientThirdParties []string `json:"recipient_third_parties"`
	// WithdrawalMethod is [Policy].Withdraw.
	WithdrawalMethod string `json:"withdrawal_method"`
}

// ISOPII is one kind of personal data a purpose uses.
type ISOPII struct {
	// PIIType is the data category's key ("user.contact.email").
	PIIType Category `json:"pii_type"`
	// DPVType is the DPV personal-data term for the category, or for the
	// nearest category above it that has one ("pd:EmailAddress"); empty
	// where DPV has no clear equivalent.
	DPVType string `json:"dpv_type,omitempty"`
	// Sensitive reports [Category.Sensitive].
	Sensitive bool `json:"sensitive_pii_category"`
}

// ISOParty is a controller, from the policy's Controller, Address
// (omitted when the policy has none) and Contact.
type ISOParty struct {
	Name    string `json:"party_name"`
	Address string `json:"party_address,omitempty"`
	Contact string `json:"party_contact"`
}

// ISOEvent is one event of an [ISORecord].
type ISOEvent struct {
	// Time is when the event happened (UTC).
	Time time.Time `json:"event_time"`
	// ValidityDuration is how long the consent the event gives holds, as
	// an ISO 8601 duration: for a grant, the shortest consent lifetime on
	// the way from the record's purpose to the granted one ("P365D");
	// "P0D" for an event that gives no consent (a refusal, a withdrawal,
	// an expiry, and a grant listed for a legitimate interest, which rests
	// on no consent).
	ValidityDuration string `json:"validity_duration"`
	// EntityID is who acted: the subject, for what the person (or their
	// guardian or agent, named in the extension) did and for GPC signals;
	// the controller, for a default a business set, an erasure's
	// withdrawal and a derived expiry.
	EntityID string `json:"entity_id"`
	// Type is the kind of consent concerned, from the record's basis:
	// "dpv:ExpressedConsent", "dpv:ExplicitlyExpressedConsent", or, for a
	// legitimate interest, "dpv:LegitimateInterest".
	Type string `json:"event_type"`
	// State is one of [DPVConsentGiven], [DPVConsentRefused],
	// [DPVConsentWithdrawn], [DPVConsentExpired].
	State      string             `json:"event_state"`
	Extensions ISOEventExtensions `json:"extensions"`
}

// ISOEventExtensions holds the extensions of an [ISOEvent].
type ISOEventExtensions struct {
	Tact ISOLedgerEvent `json:"tact"`
}

// ISOLedgerEvent ties an [ISOEvent] to the ledger: the integrity extension.
// With Seq and Hash anyone holding the ledger (or a copy from
// [Gate.ExportLedger]) finds the record, checks that its hash is the one
// here, and verifies the chain up to the record's checkpoint. For a
// derived expiry, the fields are those of the grant that expired.
type ISOLedgerEvent struct {
	Seq           uint64  `json:"seq"`
	Hash          Hash    `json:"hash"`
	Purpose       Purpose `json:"purpose"` // the purpose the ledger record is about: the record's or one above it
	Action        Action  `json:"action"`
	Source        Source  `json:"source"` // "gpc" for a Global Privacy Control opt-out
	Actor         Actor   `json:"actor"`
	Channel       Channel `json:"channel"`
	PolicyVersion int     `json:"policy_version"`
	// Derived marks an event that is not a ledger record but follows from
	// one: the expiry of a grant at the end of its lifetime.
	Derived bool `json:"derived,omitempty"`
}

// ISORecordExtensions holds the extensions of an [ISORecord].
type ISORecordExtensions struct {
	Tact ISOLedgerRecord `json:"tact"`
}

// ISOLedgerRecord ties an [ISORecord] to the ledger and the Gate.
type ISOLedgerRecord struct {
	// Purpose is the record's purpose key.
	Purpose Purpose `json:"purpose"`
	// Checkpoint is the end of the ledger when the record was made: verify
	// the ledger against it ([Gate.Verify], [VerifyJSONL]) to check that
	// every event's record is in it, unchanged.
	Checkpoint Checkpoint `json:"checkpoint"`
	// Allowed and Reason are the Gate's decision for the purpose at the
	// time of the export (default regime, no signals): what the events
	// mean, including what they alone do not show, such as a grant made
	// under a policy version older than a material change
	// ([ReasonReconsent]).
	Allowed bool   `json:"allowed"`
	Reason  Reason `json:"reason"`
}

// ISO27560 returns subject's consent records in the structure of ISO/IEC
// TS 27560, with W3C DPV terms, as of time at: one record per purpose of
// the policy in force that rests on consent or a legitimate interest and
// that something the person did decides, in policy order. A purpose nobody
// acted on has no record, and neither has an erased subject (the ledger
// keeps no subject in its tombstones).
//
// One record per purpose, rather than one record listing every purpose,
// is the standard's own model applied to tact's granular consent: a
// 27560 record's events give the state of consent to everything the
// record's processing section lists, and a person's choices here are per
// purpose.
//
// A record's events are the subject's ledger records that decide its
// purpose, in ledger order, which for one purpose is the order in time:
//
//   - every denial and withdrawal of the purpose or of a purpose above it
//     (dpv:ConsentRefused, dpv:ConsentWithdrawn; for a legitimate interest
//     they are objections; a Global Privacy Control opt-out is a denial
//     with source "gpc");
//   - every grant of the purpose itself (dpv:ConsentGiven);
//   - a grant of a purpose above it when, right after it, the grant holds
//     for this purpose too, which is not the case when this purpose rests
//     on explicit consent (only its own grant counts) or a purpose between
//     them stands refused (its latest record is a denial or withdrawal);
//     for a legitimate interest, which no grant allows, a grant of a
//     purpose above it is listed when it leaves no objection standing;
//   - an expiry (dpv:ConsentExpired, marked derived) when the consent the
//     grants give ran out, at the end of its lifetime, before the next
//     record or, for the last, up to at.
//
// So the latest event's state is the consent's, and the Gate's decision at
// at, in the record's extension, says what that means now. Each event
// carries in its extension the ledger record's Seq and Hash, and the
// record carries the ledger's [Checkpoint] after them: the integrity
// extension, by which anyone can check the events against the ledger.
// The full records, salt included, are in [Gate.Access].
//
// Errors: [ErrEmptySubject], [ErrZeroTime], an [*EventError] for a subject
// id that is too long or not UTF-8, the store's, a [*ChainError] if the
// store lost records this Gate appended, and [ErrConflict] if the policy
// changed again and again while the records were read.
func (g *Gate) ISO27560(ctx context.Context, subject string, at time.Time) ([]ISORecord, error) {
	var a Access
	var pol *Policy
	for try := 1; ; try++ {
		var err error
		if a, err = g.Access(ctx, subject, at); err != nil {
			return nil, err
		}
		if pol = g.Policy(); pol.Version == a.PolicyVersion {
			break
		}
		if try == isoTries {
			return nil, errPolicyChurn
		}
	}
	cp, err := g.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	jurisdiction := pol.Jurisdiction
	if jurisdiction == "" {
		jurisdiction = regimeJurisdiction[a.Decisions[0].Regime]
	}
	language := pol.Language
	if language == "" {
		language = "en"
	}
	controllers := []ISOParty{{Name: pol.Controller, Address: pol.Address, Contact: pol.Contact}}
	storage := append([]string{}, pol.StorageLocations...)
	out := []ISORecord{}
	for i := range pol.Purposes {
		s := &pol.Purposes[i]
		if !s.Basis.NeedsConsent() && s.Basis != BasisLegitimateInterest {
			continue
		}
		evs := isoEvents(pol, s, a.Records, at)
		if len(evs) == 0 {
			continue
		}
		d := a.Decisions[i] // Access decides every purpose, in policy order
		pii := make([]ISOPII, len(s.Categories))
		for j, c := range s.Categories {
			pii[j] = ISOPII{PIIType: c, DPVType: dpvPersonalData(c), Sensitive: c.Sensitive()}
		}
		out = append(out, ISORecord{
			SchemaVersion:  ISOSchemaVersion,
			RecordID:       isoRecordID(subject, s.Purpose, evs[0].Extensions.Tact.Hash),
			PIIPrincipalID: subject,
			Processing: ISOProcessing{
				PrivacyNotice: ISONotice{URL: pol.NoticeURL, Version: pol.Version},
				Language:      language,
				Purposes: []ISOPurpose{{
					Purpose:               s.Description,
					LawfulBasis:           dpvBasis[s.Basis],
					PIIInformation:        pii,
					PIIControllers:        slices.Clone(controllers),
					StorageLocations:      slices.Clone(storage),
					RetentionPeriod:       isoDuration(s.Retention),
					Jurisdiction:          jurisdiction,
					RecipientThirdParties: append([]string{}, s.Recipients...),
					WithdrawalMethod:      pol.Withdraw,
				}},
			},
			Events: evs,
			Extensions: ISORecordExtensions{Tact: ISOLedgerRecord{
				Purpose: s.Purpose, Checkpoint: cp, Allowed: d.Allowed, Reason: d.Reason,
			}},
		})
	}
	return out, nil
}

// isoTries bounds the reads ISO27560 makes when the policy changes under
// it: each failed try means another SetPolicy happened meanwhile.
const isoTries = 10

var errPolicyChurn = &isoChurnError{}

// isoChurnError is ISO27560's error when the policy kept changing.
type isoChurnError struct{}

func (*isoChurnError) Error() string {
	return "consent: ledger sequence conflict: the policy changed during every try to export ISO/IEC TS 27560 records"
}
func (*isoChurnError) Unwrap() error { return ErrConflict }

// regimeJurisdiction is the jurisdiction a record names when the policy
// names none: where the Gate's regime is law.
var regimeJurisdiction = [...]string{RegimeDefault: "EU", GDPR: "EU", LGPD: "BR", CPRA: "US-CA"}

// dpvBasis is the DPV term for each legal basis.
var dpvBasis = [...]string{
	BasisConsent:            "dpv:Consent",
	BasisExplicitConsent:    "dpv:ExplicitlyExpressedConsent",
	BasisContract:           "dpv:Contract",
	BasisLegalObligation:    "dpv:LegalObligation",
	BasisVitalInterest:      "dpv:VitalInterest",
	BasisPublicTask:         "dpv:PublicInterest",
	BasisLegitimateInterest: "dpv:LegitimateInterest",
}

// dpvEventType returns the event_type of a record whose purpose rests on b.
func dpvEventType(b Basis) string {
	switch b {
	case BasisExplicitConsent:
		return "dpv:ExplicitlyExpressedConsent"
	case BasisLegitimateInterest:
		return "dpv:LegitimateInterest"
	}
	return "dpv:ExpressedConsent"
}

// dpvPD maps the default categories to the DPV personal-data terms (DPV
// 2.1, https://w3id.org/dpv/pd#) that mean the same; categories with no
// clear equivalent (search, session, children, racial or ethnic origin)
// are left out and take the term of the nearest category above them.
var dpvPD = map[Category]string{
	CategoryUniqueID:                "pd:UID",
	CategoryContact:                 "pd:Contact",
	CategoryContactEmail:            "pd:EmailAddress",
	CategoryContactPhone:            "pd:TelephoneNumber",
	CategoryContactAddress:          "pd:PhysicalAddress",
	CategoryContactPostal:           "pd:PostalCode",
	CategoryDemographic:             "pd:Demographic",
	CategoryDemographicBirthDate:    "pd:BirthDate",
	CategoryDemographicAge:          "pd:Age",
	CategoryDemographicGender:       "pd:Gender",
	CategoryBehavior:                "pd:Behavioral",
	CategoryBehaviorPurchaseHistory: "pd:Purchase",
	CategoryBehaviorBrowsingHistory: "pd:BrowsingBehavior",
	CategoryPreference:              "pd:Preference",
	CategoryDevice:                  "pd:DeviceBased",
	CategoryDeviceIP:                "pd:IPAddress",
	CategoryLocation:                "pd:Location",
	CategoryPayment:                 "pd:Financial",
	CategoryHealth:                  "pd:Health",
	CategoryBiometric:               "pd:Biometric",
	CategoryGenetic:                 "pd:Genetic",
	CategoryReligion:                "pd:ReligiousBelief",
	CategorySexualOrientation:       "pd:Sexual",
	CategoryPoliticalOpinion:        "pd:PoliticalOpinion",
	CategoryTradeUnion:              "pd:TradeUnionMembership",
	CategoryFinancialAccount:        "pd:FinancialAccount",
	CategoryGovernmentID:            "pd:OfficialID",
}

// dpvPersonalData returns the DPV term of c or of its nearest ancestor
// that has one, "" if none has.
func dpvPersonalData(c Category) string {
	for ; c != ""; c = c.Parent() {
		if t, ok := dpvPD[c]; ok {
			return t
		}
	}
	return ""
}

// isoRecordID derives a record id in UUID form (version 8, RFC 9562) from
// the subject, the purpose and the hash of the record's first event.
func isoRecordID(subject string, p Purpose, first Hash) string {
	h := sha256.New()
	h.Write([]byte("tact/iso27560/record/1\x00"))
	h.Write([]byte(subject))
	h.Write([]byte{0})
	h.Write([]byte(p))
	h.Write([]byte{0})
	h.Write(first[:])
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x80 // version 8
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	x := hex.EncodeToString(u[:])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// isoEvents returns the events of the record for purpose s: see
// [Gate.ISO27560]. recs are the subject's records in ledger order.
func isoEvents(pol *Policy, s *PurposeSpec, recs []Record, at time.Time) []ISOEvent {
	// The purpose and those above it; life[i] is the shortest consent
	// lifetime along path[0..i], as the Gate applies to a grant of path[i].
	var path []Purpose
	var life []time.Duration
	for q := s.Purpose; q != ""; q = q.Parent() {
		l := time.Duration(0)
		if a, ok := pol.Spec(q); ok {
			l = a.Lifetime
		}
		if n := len(life); n > 0 && life[n-1] > 0 && (l == 0 || life[n-1] < l) {
			l = life[n-1]
		}
		path = append(path, q)
		life = append(life, l)
	}
	li := s.Basis == BasisLegitimateInterest
	// counts reports whether a grant of path[i] can allow the purpose.
	counts := func(i int) bool {
		return !li && (i == 0 || s.Basis != BasisExplicitConsent)
	}
	latest := make([]*Record, len(path)) // the latest record of each purpose on the path
	var refused uint64                   // the Seq of the latest refusal on the path
	// inForce returns when the consent the grants give runs out, and the
	// grant that lasts longest (nil if none holds), over the grants that
	// count, were not refused since, and lie below every purpose on the
	// path whose latest record is a refusal.
	inForce := func() (end time.Time, from *Record) {
		for i, r := range latest {
			switch {
			case r == nil:
				continue
			case r.Action.refuses():
				return end, from
			case !counts(i) || r.Seq < refused:
				continue
			}
			if e := r.At.Add(life[i]); from == nil || e.After(end) {
				end, from = e, r
			}
		}
		return end, from
	}
	refusal := func(r *Record) bool { return r != nil && r.Action.refuses() }
	ev := func(r *Record, state string, validity time.Duration, derived bool) ISOEvent {
		e := ISOEvent{
			Time: r.At, ValidityDuration: isoDuration(validity), EntityID: r.Subject, Type: dpvEventType(s.Basis), State: state,
			Extensions: ISOEventExtensions{Tact: ISOLedgerEvent{Seq: r.Seq, Hash: r.Hash, Purpose: r.Purpose, Action: r.Action,
				Source: r.Source, Actor: r.Actor, Channel: r.Channel, PolicyVersion: r.PolicyVersion, Derived: derived}},
		}
		if derived || r.Source == SourceDefault || r.Source == SourceErasure {
			e.EntityID = pol.Controller
		}
		return e
	}
	var out []ISOEvent
	var end time.Time // while a grant holds: when it runs out
	var from *Record  // the grant that runs out last
	expire := func() {
		e := ev(from, DPVConsentExpired, 0, true)
		e.Time = end
		out = append(out, e)
		from = nil
	}
	for k := range recs {
		r := &recs[k]
		i := slices.Index(path, r.Purpose)
		if i < 0 {
			continue
		}
		if from != nil && !r.At.Before(end) {
			expire()
		}
		latest[i] = r
		switch {
		case r.Action.refuses():
			refused = r.Seq
			out = append(out, ev(r, dpvState(r.Action), 0, false))
			from = nil
		case li:
			// A grant of the purpose itself lifts the objections made
			// before it; another grant counts when nothing stands refused.
			if i == 0 || !slices.ContainsFunc(latest, refusal) {
				out = append(out, ev(r, dpvState(Grant), 0, false))
			}
		case counts(i) && !slices.ContainsFunc(latest[:i], refusal):
			// The grant holds for the purpose: it is the newest record,
			// and no purpose between stands refused.
			out = append(out, ev(r, dpvState(Grant), life[i], false))
			end, from = inForce()
		}
	}
	if from != nil && !at.Before(end) {
		expire()
	}
	return out
}

// dpvState returns the DPV consent state a ledger action puts a purpose in.
func dpvState(a Action) string {
	switch a {
	case Grant:
		return DPVConsentGiven
	case Deny:
		return DPVConsentRefused
	case Withdraw:
		return DPVConsentWithdrawn
	}
	return ""
}

// isoDuration formats d as an ISO 8601 duration in days, hours, minutes
// and seconds: "P365D", "P1DT12H", "PT0.5S"; "P0D" for zero.
func isoDuration(d time.Duration) string {
	if d <= 0 {
		return "P0D"
	}
	b := []byte{'P'}
	if days := d / (24 * time.Hour); days > 0 {
		b = strconv.AppendInt(b, int64(days), 10)
		b = append(b, 'D')
		d -= days * 24 * time.Hour
	}
	if d == 0 {
		return string(b)
	}
	b = append(b, 'T')
	if h := d / time.Hour; h > 0 {
		b = append(strconv.AppendInt(b, int64(h), 10), 'H')
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		b = append(strconv.AppendInt(b, int64(m), 10), 'M')
		d -= m * time.Minute
	}
	if d > 0 {
		b = strconv.AppendFloat(b, d.Seconds(), 'f', -1, 64)
		b = append(b, 'S')
	}
	return string(b)
}

// MaxISO27560Size is the largest document [DecodeISO27560] reads, in bytes.
const MaxISO27560Size = 16 << 20

// DecodeISO27560 decodes the JSON that [Gate.ISO27560]'s records encode to
// (a JSON array of [ISORecord]) and checks it against the field list:
// every object has exactly the fields of its level, none missing, none
// unknown, none null, none repeated (in any case); values have their
// types and forms (a UUID record id, a BCP 47 language, ISO 3166 codes,
// ISO 8601 times and durations, the DPV terms listed at [ISORecord]);
// each record has one purpose and at least one event; events are in time
// and ledger order, each state matches its ledger action (a derived event
// is an expiry of a grant), and the checkpoint is at or after every
// event; the decision's Allowed matches its Reason. Documents over
// [MaxISO27560Size] bytes and trailing data are rejected. Every error is
// an [*ISOError] that unwraps to [ErrInvalidISORecord].
//
// It checks form, not truth: whether the events are in the ledger is for
// [Gate.Verify] or [VerifyJSONL] against the record's checkpoint, and a
// comparison of their hashes.
func DecodeISO27560(data []byte) ([]ISORecord, error) {
	if len(data) > MaxISO27560Size {
		return nil, &ISOError{Why: "document larger than " + strconv.Itoa(MaxISO27560Size) + " bytes"}
	}
	if k, dup := jsonkey.Duplicate(data); dup {
		return nil, &ISOError{Why: "key " + strconv.Quote(k) + " appears more than once"}
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, &ISOError{Why: "not JSON", Err: err}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &ISOError{Why: "trailing data after the records"}
	}
	list, ok := doc.([]any)
	if !ok {
		return nil, &ISOError{Why: "not a JSON array of records"}
	}
	for i, r := range list {
		if err := isoSchema.check("["+strconv.Itoa(i)+"]", r); err != nil {
			return nil, err
		}
	}
	var recs []ISORecord
	dec = json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&recs); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, &ISOError{Path: te.Field, Why: "a " + te.Value + " where a " + te.Type.String() + " belongs"}
		}
		return nil, &ISOError{Why: "a value out of range", Err: err}
	}
	for i := range recs {
		if err := recs[i].check("[" + strconv.Itoa(i) + "]"); err != nil {
			return nil, err
		}
	}
	return recs, nil
}

// isoShape is the field list of one level of the JSON form: its fields,
// required unless marked optional, and the levels below.
type isoShape struct {
	fields   map[string]bool      // field name → required
	children map[string]*isoShape // for an object or an array of objects
}

// shape builds an isoShape from space-separated names, "name?" marking an
// optional one.
func shape(names string, children map[string]*isoShape) *isoShape {
	s := &isoShape{fields: map[string]bool{}, children: children}
	for _, n := range strings.Fields(names) {
		opt := strings.HasSuffix(n, "?")
		s.fields[strings.TrimSuffix(n, "?")] = !opt
	}
	return s
}

// isoSchema is the field list of an ISORecord's JSON form.
var isoSchema = shape("schema_version record_id pii_principal_id processing events extensions", map[string]*isoShape{
	"processing": shape("privacy_notice language purposes", map[string]*isoShape{
		"privacy_notice": shape("url? version", nil),
		"purposes": shape("purpose lawful_basis pii_information pii_controllers storage_locations retention_period "+
			"jurisdiction recipient_third_parties withdrawal_method", map[string]*isoShape{
			"pii_information": shape("pii_type dpv_type? sensitive_pii_category", nil),
			"pii_controllers": shape("party_name party_address? party_contact", nil),
		}),
	}),
	"events": shape("event_time validity_duration entity_id event_type event_state extensions", map[string]*isoShape{
		"extensions": shape("tact", map[string]*isoShape{
			"tact": shape("seq hash purpose action source actor channel policy_version derived?", nil),
		}),
	}),
	"extensions": shape("tact", map[string]*isoShape{
		"tact": shape("purpose checkpoint allowed reason", nil),
	}),
})

// check reports the first field of v, at path, that is not in the field
// list, missing from it, or null.
func (s *isoShape) check(path string, v any) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return &ISOError{Path: path, Why: "not an object"}
	}
	for k := range obj {
		if _, ok := s.fields[k]; !ok {
			return &ISOError{Path: path, Why: "unknown field " + strconv.Quote(k)}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.fields)) {
		x, ok := obj[k]
		switch {
		case !ok && s.fields[k]:
			return &ISOError{Path: join(path, k), Why: "missing"}
		case ok && x == nil:
			return &ISOError{Path: join(path, k), Why: "null"}
		}
		sub := s.children[k]
		if sub == nil || !ok {
			continue
		}
		list, isList := x.([]any)
		if !isList {
			if err := sub.check(join(path, k), x); err != nil {
				return err
			}
			continue
		}
		for i, e := range list {
			if err := sub.check(join(path, k)+"["+strconv.Itoa(i)+"]", e); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

var (
	uuidForm   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	isoDurForm = regexp.MustCompile(`^P(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$`)
)

// validISODuration reports whether s is an ISO 8601 duration with at
// least one component.
func validISODuration(s string) bool {
	return isoDurForm.MatchString(s) && s != "P" && !strings.HasSuffix(s, "T")
}

// check validates the values of a decoded record; path names it.
func (r *ISORecord) check(path string) error {
	bad := func(field, why string) error { return &ISOError{Path: join(path, field), Why: why} }
	text := func(field, v string) error {
		if v == "" || len(v) > MaxTextLen || !utf8.ValidString(v) {
			return bad(field, "must be valid UTF-8 of 1 to "+strconv.Itoa(MaxTextLen)+" bytes")
		}
		return nil
	}
	switch {
	case r.SchemaVersion != ISOSchemaVersion:
		return bad("schema_version", "not "+strconv.Quote(ISOSchemaVersion))
	case !uuidForm.MatchString(r.RecordID):
		return bad("record_id", "not a lower-case UUID")
	case checkSubject(r.PIIPrincipalID) != nil:
		return bad("pii_principal_id", "must be a subject id: valid UTF-8 of 1 to "+strconv.Itoa(MaxSubjectLen)+" bytes")
	}
	pr := &r.Processing
	if u := pr.PrivacyNotice.URL; u != "" {
		if err := text("processing.privacy_notice.url", u); err != nil {
			return err
		}
	}
	switch {
	case pr.PrivacyNotice.Version < 1:
		return bad("processing.privacy_notice.version", "must be 1 or more")
	case !languageTag.MatchString(pr.Language):
		return bad("processing.language", "not a BCP 47 language tag")
	case len(pr.Purposes) != 1:
		return bad("processing.purposes", "a record is about one purpose")
	}
	pu := &pr.Purposes[0]
	at := "processing.purposes[0]."
	for _, f := range []struct{ name, v string }{
		{"purpose", pu.Purpose}, {"withdrawal_method", pu.WithdrawalMethod},
	} {
		if err := text(at+f.name, f.v); err != nil {
			return err
		}
	}
	i := slices.Index(dpvBasis[:], pu.LawfulBasis)
	basis := Basis(max(i, 0))
	switch {
	case pu.LawfulBasis == "" || i < 1:
		return bad(at+"lawful_basis", "unknown DPV legal basis "+strconv.Quote(pu.LawfulBasis))
	case !validISODuration(pu.RetentionPeriod):
		return bad(at+"retention_period", "not an ISO 8601 duration")
	case !regionCode.MatchString(pu.Jurisdiction):
		return bad(at+"jurisdiction", notRegion)
	case len(pu.PIIControllers) == 0:
		return bad(at+"pii_controllers", "names at least one controller")
	}
	for i, c := range pu.PIIInformation {
		f := at + "pii_information[" + strconv.Itoa(i) + "]."
		if err := c.PIIType.Validate(); err != nil {
			return &ISOError{Path: join(path, f+"pii_type"), Why: "malformed category", Err: err}
		}
		if c.DPVType != "" && (!strings.HasPrefix(c.DPVType, "pd:") || text(f+"dpv_type", c.DPVType) != nil) {
			return bad(f+"dpv_type", "not a DPV personal-data term (pd:...)")
		}
	}
	for i, c := range pu.PIIControllers {
		f := at + "pii_controllers[" + strconv.Itoa(i) + "]."
		if err := text(f+"party_name", c.Name); err != nil {
			return err
		}
		if err := text(f+"party_contact", c.Contact); err != nil {
			return err
		}
		if c.Address != "" {
			if err := text(f+"party_address", c.Address); err != nil {
				return err
			}
		}
	}
	if err := isoList(path, at+"storage_locations", pu.StorageLocations, regionCode); err != nil {
		return err
	}
	if err := isoList(path, at+"recipient_third_parties", pu.RecipientThirdParties, nil); err != nil {
		return err
	}
	ext := &r.Extensions.Tact
	if err := ext.Purpose.Validate(); err != nil {
		return &ISOError{Path: join(path, "extensions.tact.purpose"), Why: "malformed purpose", Err: err}
	}
	if ext.Reason == ReasonUnknown || ext.Allowed != ext.Reason.Allows() {
		return bad("extensions.tact.allowed", "does not match the reason "+strconv.Quote(ext.Reason.String()))
	}
	if len(r.Events) == 0 {
		return bad("events", "a record has at least one event")
	}
	var seen isoSeen
	for i := range r.Events {
		if err := r.Events[i].check(join(path, "events["+strconv.Itoa(i)+"]"), basis, ext, &seen); err != nil {
			return err
		}
	}
	return nil
}

// isoSeen is what checking a record's events has seen so far.
type isoSeen struct {
	time   time.Time // of the last event
	seq    uint64    // of the last ledger record
	grants []uint64  // the Seqs of the grants listed
}

// check validates one event, given the record's basis and extension and
// the events before it.
func (e *ISOEvent) check(path string, basis Basis, rec *ISOLedgerRecord, seen *isoSeen) error {
	bad := func(field, why string) error { return &ISOError{Path: join(path, field), Why: why} }
	x := &e.Extensions.Tact
	want := dpvState(x.Action)
	if x.Derived {
		want = DPVConsentExpired
		if x.Action != Grant || !slices.Contains(seen.grants, x.Seq) {
			return bad("extensions.tact", "a derived expiry names a grant listed above it")
		}
	}
	switch {
	case e.Time.IsZero():
		return bad("event_time", "zero")
	case !validISODuration(e.ValidityDuration):
		return bad("validity_duration", "not an ISO 8601 duration")
	case e.EntityID == "" || len(e.EntityID) > MaxTextLen || !utf8.ValidString(e.EntityID):
		return bad("entity_id", "must be valid UTF-8 of 1 to "+strconv.Itoa(MaxTextLen)+" bytes")
	case e.Type != dpvEventType(basis):
		return bad("event_type", "not "+strconv.Quote(dpvEventType(basis))+", the type for the record's lawful basis")
	case !slices.Contains([]string{DPVConsentGiven, DPVConsentRefused, DPVConsentWithdrawn, DPVConsentExpired}, e.State):
		return bad("event_state", "unknown DPV consent state "+strconv.Quote(e.State))
	case e.State != want:
		return bad("event_state", strconv.Quote(e.State)+" does not match the ledger action "+x.Action.String())
	case x.Seq == 0 || x.Hash.IsZero():
		return bad("extensions.tact", "names no ledger record (seq and hash)")
	case x.Seq > rec.Checkpoint.Seq:
		return bad("extensions.tact.seq", "after the record's checkpoint")
	case x.PolicyVersion < 1:
		return bad("extensions.tact.policy_version", "must be 1 or more")
	case !x.Purpose.Covers(rec.Purpose):
		return bad("extensions.tact.purpose", "not the record's purpose or one above it")
	case checkKey("channel", string(x.Channel)) != nil:
		return bad("extensions.tact.channel", "malformed channel")
	case int(x.Source) >= len(sourceNames) || int(x.Actor) >= len(actorNames):
		return bad("extensions.tact", "unknown source or actor")
	case e.Time.Before(seen.time):
		return bad("event_time", "before the event above it")
	case !x.Derived && x.Seq <= seen.seq:
		return bad("extensions.tact.seq", "not after the ledger record above it")
	}
	seen.time = e.Time
	if !x.Derived {
		seen.seq = x.Seq
		if x.Action == Grant {
			seen.grants = append(seen.grants, x.Seq)
		}
	}
	return nil
}

// isoList checks a list of texts of a record, each of the given shape.
func isoList(path, field string, vs []string, form *regexp.Regexp) error {
	for i, v := range vs {
		if v == "" || len(v) > MaxTextLen || !utf8.ValidString(v) || (form != nil && !form.MatchString(v)) {
			return &ISOError{Path: join(path, field+"["+strconv.Itoa(i)+"]"), Why: "not a valid entry"}
		}
	}
	return nil
}
