package consent

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Receipt tells one person what they agreed to and refused, purpose by
// purpose, in words ([Receipt.Text]) and as JSON in the Kantara Initiative
// Consent Receipt / ISO/IEC TS 27560 vocabulary ([Receipt.MarshalJSON]).
// Make one with [Gate.Receipt].
type Receipt struct {
	ID            string // derived from the subject, the time and the records: the same state gives the same ID
	Issued        time.Time
	Subject       string
	Controller    string
	Contact       string
	Withdraw      string // how to withdraw, from the policy
	NoticeURL     string
	PolicyVersion int
	Regime        Regime
	// Language is the BCP 47 tag of the policy's text ([Policy].Language),
	// "en" when the policy does not say.
	Language string
	// Jurisdiction is where the controller answers for the processing
	// ([Policy].Jurisdiction); empty when the policy does not say.
	Jurisdiction string
	// Items lists every purpose whose decision rests on something the
	// person did (a grant, a denial, a withdrawal, a GPC signal), in policy
	// order.
	Items []ReceiptItem
}

// ReceiptItem is one purpose on a [Receipt].
type ReceiptItem struct {
	Purpose     Purpose
	Description string
	Benefit     string
	Basis       Basis
	Categories  []Category
	Sensitive   bool
	SaleOrShare bool
	Allowed     bool
	Reason      Reason
	Expires     time.Time // zero if the purpose is not allowed or does not expire
	// Record is the person's record the item rests on: when, through which
	// channel, and its place and hash in the ledger.
	Record Record
}

// Receipt returns the receipt for subject at time at, under the Gate's
// default regime and without [Signals]: it shows what the person chose, so a
// child's own grant is listed as agreed even where [Gate.Decide], told the
// child's age, would not let it allow. A subject with nothing on record gets
// a receipt with no items. Errors: [ErrEmptySubject], [ErrZeroTime], an
// [*EventError] for a subject id that is too long or not UTF-8, and the
// store's.
func (g *Gate) Receipt(ctx context.Context, subject string, at time.Time) (Receipt, error) {
	pol, err := g.forSubject(subject, at)
	if err != nil {
		return Receipt{}, err
	}
	ds, err := g.decideAll(ctx, pol, subject, at)
	if err != nil {
		return Receipt{}, err
	}
	src := pol.src
	rc := Receipt{
		Issued: at, Subject: subject, Controller: src.Controller, Contact: src.Contact,
		Withdraw: src.Withdraw, NoticeURL: src.NoticeURL, PolicyVersion: src.Version, Regime: g.regime,
		Language: cmp.Or(src.Language, "en"), Jurisdiction: src.Jurisdiction,
	}
	h := sha256.New()
	h.Write([]byte("tact.consent.receipt.v1\x00"))
	h.Write([]byte(subject))
	h.Write([]byte(at.UTC().Format(time.RFC3339Nano)))
	for i, s := range src.Purposes {
		d := ds[i]
		if d.Record.Seq == 0 {
			continue
		}
		rc.Items = append(rc.Items, ReceiptItem{
			Purpose: s.Purpose, Description: s.Description, Benefit: s.Benefit, Basis: s.Basis,
			Categories: append([]Category(nil), s.Categories...), Sensitive: s.Sensitive(), SaleOrShare: s.SaleOrShare,
			Allowed: d.Allowed, Reason: d.Reason, Expires: d.Expires, Record: d.Record,
		})
		h.Write(d.Record.Hash[:])
	}
	rc.ID = hex.EncodeToString(h.Sum(nil)[:16])
	return rc, nil
}

// Text returns the receipt in plain English a person can read in one
// screen: [Catalog.Receipt] with the built-in catalog.
func (rc *Receipt) Text() string { return defaultCatalog().Receipt(fallbackLang, rc) }

// Receipt returns the receipt in words, in lang: what is on and what each
// gives the person and uses, what is off and since when, what no longer
// holds and why, how to change one's mind and whom to ask, and, last and
// short, where the proof is (the ledger records, which the JSON receipt
// and the person's data export carry in full with their hashes). It shows
// no raw key: purposes by their labels ([Catalog.Purpose]), data by
// [Catalog.Category], channels and dates in words.
func (c *Catalog) Receipt(lang string, rc *Receipt) string {
	var b strings.Builder
	line := func(s ...string) {
		for _, x := range s {
			b.WriteString(x)
		}
		b.WriteByte('\n')
	}
	label := func(it *ReceiptItem) (string, string) {
		return c.purposeText(lang, it.Purpose, it.Description, it.Benefit)
	}
	date := func(t time.Time) string { return c.Date(lang, t) }
	line(c.Text(lang, "receipt.title", "controller", rc.Controller))
	line(c.Text(lang, "receipt.as_of", "date", date(rc.Issued)))
	var on, off, lapsed []*ReceiptItem
	for i := range rc.Items {
		it := &rc.Items[i]
		switch {
		case it.Allowed:
			on = append(on, it)
		case it.Record.Action == Grant:
			lapsed = append(lapsed, it)
		default:
			off = append(off, it)
		}
	}
	if len(rc.Items) == 0 {
		line()
		line(c.Text(lang, "receipt.none"))
	}
	if len(on) > 0 {
		line()
		line(c.Text(lang, "receipt.on"))
		for _, it := range on {
			name, benefit := label(it)
			line("• ", name)
			if benefit != "" {
				line("  ", c.Text(lang, "receipt.benefit", "benefit", benefit))
			}
			if len(it.Categories) > 0 {
				line("  ", c.Text(lang, "receipt.uses", "data", c.Categories(lang, it.Categories)))
			}
			r := &it.Record
			agreed := c.Text(lang, "receipt.agreed", "date", date(r.At), "channel", c.Channel(lang, r.Channel))
			if r.Purpose != it.Purpose {
				if parent, ok := c.itemLabel(lang, rc, r.Purpose); ok {
					agreed = c.Text(lang, "receipt.agreed_as_part", "date", date(r.At), "channel", c.Channel(lang, r.Channel), "parent", parent)
				}
			}
			if !it.Expires.IsZero() {
				agreed += " " + c.Text(lang, "receipt.until", "date", date(it.Expires))
			}
			line("  ", agreed)
		}
	}
	if len(off) > 0 {
		line()
		line(c.Text(lang, "receipt.off"))
		for _, it := range off {
			name, _ := label(it)
			key := "receipt.denied"
			switch r := &it.Record; {
			case r.Source == SourceGPC:
				key = "receipt.gpc"
			case it.Basis == BasisLegitimateInterest:
				key = "receipt.objected"
			case r.Action == Withdraw:
				key = "receipt.withdrawn"
			}
			line("• ", name, ". ", c.Text(lang, key, "date", date(it.Record.At)))
		}
	}
	if len(lapsed) > 0 {
		line()
		line(c.Text(lang, "receipt.lapsed"))
		for _, it := range lapsed {
			name, _ := label(it)
			line("• ", name, ". ", c.Text(lang, "receipt.lapsed_item", "date", date(it.Record.At), "reason", c.Reason(lang, it.Reason)))
		}
	}
	line()
	how := rc.Withdraw
	if t, ok := c.lookup(lang, "policy.withdraw"); ok {
		how = t
	}
	how = strings.TrimSpace(how)
	if how != "" && !strings.ContainsAny(how[len(how)-1:], ".!?") {
		how += "."
	}
	line(c.Text(lang, "receipt.change", "how", how))
	line(c.Text(lang, "receipt.contact", "contact", rc.Contact))
	if rc.NoticeURL != "" {
		line(c.Text(lang, "receipt.notice", "url", rc.NoticeURL))
	}
	if len(rc.Items) > 0 {
		var seqs []uint64
		for _, it := range rc.Items {
			if !slices.Contains(seqs, it.Record.Seq) {
				seqs = append(seqs, it.Record.Seq)
			}
		}
		slices.Sort(seqs)
		words := make([]string, len(seqs))
		for i, q := range seqs {
			words[i] = strconv.FormatUint(q, 10)
		}
		id := rc.ID
		if len(id) > 12 {
			id = id[:12]
		}
		line()
		line(c.Text(lang, "receipt.proof", "records", c.List(lang, words), "id", id))
	}
	return b.String()
}

// itemLabel returns the label of purpose p as the receipt or the catalog
// has it.
func (c *Catalog) itemLabel(lang string, rc *Receipt, p Purpose) (string, bool) {
	for i := range rc.Items {
		if it := &rc.Items[i]; it.Purpose == p {
			l, _ := c.purposeText(lang, p, it.Description, it.Benefit)
			return l, true
		}
	}
	if t, ok := c.lookup(lang, "purpose."+string(p)); ok {
		return t, true
	}
	return "", false
}

// Kantara Consent Receipt v1.1 structure, with ISO/IEC TS 27560-style
// additions in the same camelCase style (legalBasis, benefit, status, ...).
type (
	receiptJSON struct {
		Version          string              `json:"version"`
		Jurisdiction     string              `json:"jurisdiction"`
		ConsentTimestamp int64               `json:"consentTimestamp"`
		CollectionMethod string              `json:"collectionMethod"`
		ConsentReceiptID string              `json:"consentReceiptID"`
		Language         string              `json:"language"`
		PIIPrincipalID   string              `json:"piiPrincipalId"`
		PIIControllers   []receiptController `json:"piiControllers"`
		PolicyURL        string              `json:"policyUrl,omitempty"`
		PolicyVersion    int                 `json:"policyVersion"`
		Services         []receiptService    `json:"services"`
		Sensitive        bool                `json:"sensitive"`
		SPICat           []Category          `json:"spiCat"`
		WithdrawalMethod string              `json:"withdrawalMethod"`
	}
	receiptController struct {
		PIIController string `json:"piiController"`
		Contact       string `json:"contact"`
	}
	receiptService struct {
		Service  string           `json:"service"`
		Purposes []receiptPurpose `json:"purposes"`
	}
	receiptPurpose struct {
		Purpose              string     `json:"purpose"`
		PurposeCategory      []string   `json:"purposeCategory"`
		ConsentType          string     `json:"consentType"`
		PIICategory          []Category `json:"piiCategory"`
		PrimaryPurpose       bool       `json:"primaryPurpose"`
		Termination          string     `json:"termination"`
		ThirdPartyDisclosure bool       `json:"thirdPartyDisclosure"`
		LegalBasis           Basis      `json:"legalBasis"`
		Benefit              string     `json:"benefit"`
		Status               string     `json:"status"`
		Reason               Reason     `json:"reason"`
		EventTime            time.Time  `json:"eventTime"`
		CollectionMethod     Channel    `json:"collectionMethod"`
		Expiry               *time.Time `json:"expiry,omitempty"`
		RecordSeq            uint64     `json:"recordSeq"`
		RecordHash           Hash       `json:"recordHash"`
		Record               Record     `json:"record"`
	}
)

// MarshalJSON encodes the receipt with the field names of the Kantara
// Initiative Consent Receipt Specification v1.1 (version, jurisdiction,
// consentTimestamp, collectionMethod, consentReceiptID, language,
// piiPrincipalId, piiControllers, policyUrl, services with purposes,
// purposeCategory, consentType, piiCategory, primaryPurpose, termination,
// thirdPartyDisclosure, sensitive, spiCat), plus, per purpose, what ISO/IEC
// TS 27560 records and Kantara lacks: legalBasis, benefit, status (granted,
// denied, withdrawn, lapsed), reason, eventTime, collectionMethod, expiry,
// recordSeq, recordHash and the full ledger record (so that the person can
// later prove the record theirs, even after erasure); and withdrawalMethod
// and policyVersion for the receipt. The jurisdiction is the policy's
// ([Policy].Jurisdiction), else the regime the Gate decides under; the
// language is the policy's ([Policy].Language), else "en".
func (rc Receipt) MarshalJSON() ([]byte, error) {
	j := receiptJSON{
		Version: "KI-CR-v1.1.0", Jurisdiction: cmp.Or(rc.Jurisdiction, rc.Regime.String()), ConsentTimestamp: rc.Issued.Unix(),
		ConsentReceiptID: rc.ID, Language: cmp.Or(rc.Language, "en"), PIIPrincipalID: rc.Subject,
		PIIControllers: []receiptController{{PIIController: rc.Controller, Contact: rc.Contact}},
		PolicyURL:      rc.NoticeURL, PolicyVersion: rc.PolicyVersion,
		Services:         []receiptService{{Service: rc.Controller, Purposes: []receiptPurpose{}}},
		SPICat:           []Category{},
		WithdrawalMethod: rc.Withdraw,
	}
	var latest Record
	for _, it := range rc.Items {
		if it.Record.Seq > latest.Seq {
			latest = it.Record
		}
		p := receiptPurpose{
			Purpose: it.Description, PurposeCategory: []string{string(it.Purpose)}, ConsentType: "EXPRESSED",
			PIICategory: append([]Category{}, it.Categories...), Termination: rc.Withdraw,
			ThirdPartyDisclosure: it.SaleOrShare, LegalBasis: it.Basis, Benefit: it.Benefit,
			Reason: it.Reason, EventTime: it.Record.At, CollectionMethod: it.Record.Channel,
			RecordSeq: it.Record.Seq, RecordHash: it.Record.Hash, Record: it.Record,
		}
		if it.Basis == BasisExplicitConsent {
			p.ConsentType = "EXPLICIT"
		}
		switch {
		case it.Allowed:
			p.Status = "granted"
		case it.Record.Action == Grant:
			p.Status = "lapsed"
		case it.Record.Action == Withdraw:
			p.Status = "withdrawn"
		default:
			p.Status = "denied"
		}
		if !it.Expires.IsZero() {
			e := it.Expires
			p.Expiry = &e
			p.Termination = "expires " + e.UTC().Format(time.RFC3339) + "; or withdraw: " + rc.Withdraw
		}
		if it.Sensitive {
			j.Sensitive = true
			for _, c := range it.Categories {
				if c.Sensitive() && !containsCategory(j.SPICat, c) {
					j.SPICat = append(j.SPICat, c)
				}
			}
		}
		j.Services[0].Purposes = append(j.Services[0].Purposes, p)
	}
	j.CollectionMethod = string(latest.Channel)
	return json.Marshal(j)
}

func containsCategory(cs []Category, c Category) bool {
	for _, d := range cs {
		if d == c {
			return true
		}
	}
	return false
}
