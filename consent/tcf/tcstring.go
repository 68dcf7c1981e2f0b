package tcf

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/SirDataFR/iabtcfv2"
)

// MaxLen is the longest TC or GPP string [Parse] and [ParseGPP] accept, in
// bytes. Real strings are a few kilobytes at most.
const MaxLen = 64 << 10

// MinPolicyVersion is the oldest TCF policy version [Parse] accepts: 4, that
// of TCF v2.2 (May 2023). TCF v2.3 strings carry policy version 5. A new
// policy version invalidates strings made under older ones, so older strings
// are not consent a host can rely on.
const MinPolicyVersion = 4

// Set is a set of TCF purpose or special-feature numbers, 1 to 24.
type Set uint32

// Has reports whether n is in the set.
func (s Set) Has(n int) bool { return n >= 1 && n <= 24 && s&(1<<(n-1)) != 0 }

// String lists the numbers in the set, comma-separated ("1,3,4"), or "-"
// for the empty set.
func (s Set) String() string {
	var b strings.Builder
	for n := 1; n <= 24; n++ {
		if s.Has(n) {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(n))
		}
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

func setOf(m map[int]bool) Set {
	var s Set
	for n, ok := range m {
		if ok && n >= 1 && n <= 24 {
			s |= 1 << (n - 1)
		}
	}
	return s
}

// TCString is a decoded IAB TCF v2 TC string (TCF v2.2 or later). It is
// read-only after [Parse] returns it, and safe for concurrent use.
type TCString struct {
	// Version is the encoding version of the core string: always 2.
	Version int
	// PolicyVersion is the TCF policy version the string was made under:
	// 4 for TCF v2.2, 5 for TCF v2.3.
	PolicyVersion int
	// Created and LastUpdated are when the string was first made and last
	// changed, to the decisecond, in UTC.
	Created, LastUpdated time.Time
	// CMPID and CMPVersion identify the consent management platform that
	// last updated the string, and its version.
	CMPID, CMPVersion int
	// ConsentScreen is the CMP's number for the screen on which the person
	// made their choice.
	ConsentScreen int
	// ConsentLanguage is the two-letter language of the CMP's text ("EN").
	ConsentLanguage string
	// VendorListVersion is the version of the Global Vendor List used.
	VendorListVersion int
	// PublisherCC is the publisher's two-letter country code ("DE").
	PublisherCC string
	// ServiceSpecific is true for a string kept for one site or group of
	// sites, false for a globally shared one.
	ServiceSpecific bool
	// PurposeOneTreatment is true when purpose 1 was not disclosed to the
	// person (the publisher's country treats device storage differently):
	// its consent bit then says nothing.
	PurposeOneTreatment bool
	// SpecialFeatureOptIns are the special features the person opted in to.
	SpecialFeatureOptIns Set
	// PurposeConsent are the purposes the person consented to, for vendors
	// in general.
	PurposeConsent Set
	// PurposeLegitimateInterest are the purposes for which transparency about
	// legitimate interest was established and the person did not object.
	PurposeLegitimateInterest Set
	// Publisher holds the Publisher TC segment: the publisher's own purposes.
	// Nil when the string has none.
	Publisher *PublisherTC
	// Digest is "sha256:" and the hex SHA-256 of the string as given: what
	// ties an imported event to the string without copying it.
	Digest string

	core *iabtcfv2.CoreString
	dv   *iabtcfv2.DisclosedVendors
}

// PublisherTC is the Publisher TC segment of a TC string: the person's
// choices about the publisher's own processing.
type PublisherTC struct {
	// Consent are the purposes the person consented to, for the publisher.
	Consent Set
	// LegitimateInterest are the purposes for which the publisher established
	// transparency about its legitimate interest and the person did not
	// object.
	LegitimateInterest Set
}

// VendorConsent reports whether the person consented to the vendor with the
// given Global Vendor List id.
func (t *TCString) VendorConsent(id int) bool {
	return t != nil && t.core != nil && id > 0 && t.core.IsVendorAllowed(id)
}

// VendorLegitimateInterest reports whether transparency about the vendor's
// legitimate interest was established and the person did not object.
func (t *TCString) VendorLegitimateInterest(id int) bool {
	return t != nil && t.core != nil && id > 0 && t.core.IsVendorLIAllowed(id)
}

// HasDisclosedVendors reports whether the string has a Disclosed Vendors
// segment (optional in TCF v2.2, required from TCF v2.3).
func (t *TCString) HasDisclosedVendors() bool { return t != nil && t.dv != nil }

// VendorDisclosed reports whether the vendor was disclosed to the person,
// according to the Disclosed Vendors segment. Without that segment it
// returns false: nothing says the vendor was shown.
func (t *TCString) VendorDisclosed(id int) bool {
	return t.HasDisclosedVendors() && id > 0 && t.dv.IsVendorDisclosed(id)
}

// Parse decodes a TC string: a core string, optionally followed by a
// Disclosed Vendors and a Publisher TC segment, joined by dots. It never
// panics. Errors are [*ParseError]s that unwrap to [ErrMalformed] (bad
// characters, bad base64, a segment cut short, a repeated segment, a
// language or country that is not two letters, an unset last-updated time,
// a string longer than [MaxLen]) or [ErrUnsupported] (a version other than
// 2, a policy version below [MinPolicyVersion], an Allowed Vendors segment,
// which TCF v2.2 removed).
func Parse(s string) (*TCString, error) {
	return safely("tc string", func() (*TCString, error) { return parse(s) })
}

func parse(s string) (*TCString, error) {
	if err := checkChars("tc string", s, ""); err != nil {
		return nil, err
	}
	segs := strings.Split(s, ".")
	for i, seg := range segs {
		if seg == "" {
			return nil, malformed("tc string", "segment "+strconv.Itoa(i+1)+" is empty", nil)
		}
	}
	v, err := iabtcfv2.GetVersion(segs[0])
	if err != nil {
		return nil, malformed("core", "cannot read the version", err)
	}
	if v != iabtcfv2.TcfVersion2 {
		return nil, unsupported("core", "TC string version "+strconv.Itoa(int(v))+"; only version 2 is read")
	}
	core, err := iabtcfv2.DecodeCoreString(segs[0])
	if err != nil {
		return nil, malformed("core", "cannot decode", err)
	}
	if core.TcfPolicyVersion < MinPolicyVersion {
		return nil, unsupported("core", "TCF policy version "+strconv.Itoa(core.TcfPolicyVersion)+
			" predates TCF v2.2 (policy version "+strconv.Itoa(MinPolicyVersion)+"); consent must be asked again")
	}
	if core.LastUpdated.Unix() == 0 {
		return nil, malformed("core", "last-updated time not set", nil)
	}
	if !letters(core.ConsentLanguage) || !letters(core.PublisherCC) {
		return nil, malformed("core", "consent language and publisher country must be two letters A-Z", nil)
	}
	t := &TCString{
		Version:                   core.Version,
		PolicyVersion:             core.TcfPolicyVersion,
		Created:                   core.Created.UTC(),
		LastUpdated:               core.LastUpdated.UTC(),
		CMPID:                     core.CmpId,
		CMPVersion:                core.CmpVersion,
		ConsentScreen:             core.ConsentScreen,
		ConsentLanguage:           core.ConsentLanguage,
		VendorListVersion:         core.VendorListVersion,
		PublisherCC:               core.PublisherCC,
		ServiceSpecific:           core.IsServiceSpecific,
		PurposeOneTreatment:       core.PurposeOneTreatment,
		SpecialFeatureOptIns:      setOf(core.SpecialFeatureOptIns),
		PurposeConsent:            setOf(core.PurposesConsent),
		PurposeLegitimateInterest: setOf(core.PurposesLITransparency),
		Digest:                    digest(s),
		core:                      core,
	}
	for _, seg := range segs[1:] {
		typ, err := iabtcfv2.GetSegmentType(seg)
		if err != nil {
			return nil, malformed("tc string", "cannot read a segment type", err)
		}
		switch typ {
		case iabtcfv2.SegmentTypeDisclosedVendors:
			if t.dv != nil {
				return nil, malformed("disclosed vendors", "segment repeated", nil)
			}
			if t.dv, err = iabtcfv2.DecodeDisclosedVendors(seg); err != nil {
				return nil, malformed("disclosed vendors", "cannot decode", err)
			}
		case iabtcfv2.SegmentTypePublisherTC:
			if t.Publisher != nil {
				return nil, malformed("publisher tc", "segment repeated", nil)
			}
			p, err := iabtcfv2.DecodePublisherTC(seg)
			if err != nil {
				return nil, malformed("publisher tc", "cannot decode", err)
			}
			t.Publisher = &PublisherTC{Consent: setOf(p.PubPurposesConsent), LegitimateInterest: setOf(p.PubPurposesLITransparency)}
		case 2:
			return nil, unsupported("allowed vendors", "segment removed in TCF v2.2")
		default:
			return nil, malformed("tc string", "unknown segment type "+strconv.Itoa(int(typ)), nil)
		}
	}
	return t, nil
}

// checkChars checks s's length and that it holds only base64url characters,
// dots and the extra characters given.
func checkChars(part, s, extra string) error {
	switch {
	case s == "":
		return malformed(part, "empty", nil)
	case len(s) > MaxLen:
		return malformed(part, "longer than "+strconv.Itoa(MaxLen)+" bytes", nil)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' ||
			strings.IndexByte(extra, c) >= 0 {
			continue
		}
		return malformed(part, "byte "+strconv.Itoa(i)+" is not a base64url character", nil)
	}
	return nil
}

func letters(s string) bool {
	return len(s) == 2 && 'A' <= s[0] && s[0] <= 'Z' && 'A' <= s[1] && s[1] <= 'Z'
}

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(h[:])
}
