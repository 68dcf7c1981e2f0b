package tcf_test

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/SirDataFR/iabtcfv2"
	gpp "github.com/prebid/go-gpp"
	"github.com/prebid/go-gpp/constants"
	"github.com/prebid/go-gpp/sections"
	"github.com/prebid/go-gpp/sections/uspca"
	"github.com/prebid/go-gpp/sections/uspnat"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
)

// now is the fixtures' "now"; updated is when the test strings were last
// changed, before it.
var (
	now     = consenttest.Now()
	updated = time.Date(2025, 5, 20, 9, 30, 0, 0, time.UTC)
)

// tcSpec describes a TC string to build with iabtcfv2's encoder.
type tcSpec struct {
	consent, li         []int // core purpose signals
	vendors, vendorsLI  []int // vendor consent and legitimate-interest signals
	disclosed           []int // the Disclosed Vendors segment; nil: none
	pubConsent, pubLI   []int // the Publisher TC segment, when pub is set
	pub                 bool
	policy              int // TCF policy version; 0 means 4
	version             int // core version; 0 means 2
	purposeOneTreatment bool
	restrictions        []*iabtcfv2.PubRestriction
	lastUpdated         time.Time // zero means updated
	lang, cc            string    // zero means EN, DE
}

func set(ns []int) map[int]bool {
	m := map[int]bool{}
	for _, n := range ns {
		m[n] = true
	}
	return m
}

func (s tcSpec) core() *iabtcfv2.CoreString {
	c := &iabtcfv2.CoreString{
		Version: 2, Created: updated.Add(-30 * 24 * time.Hour), LastUpdated: updated,
		CmpId: 31, CmpVersion: 640, ConsentScreen: 1, ConsentLanguage: "EN", VendorListVersion: 150,
		TcfPolicyVersion: 4, IsServiceSpecific: true, PublisherCC: "DE",
		PurposesConsent: set(s.consent), PurposesLITransparency: set(s.li),
		PurposeOneTreatment: s.purposeOneTreatment,
		VendorsConsent:      set(s.vendors), VendorsLITransparency: set(s.vendorsLI),
		PubRestrictions: s.restrictions, NumPubRestrictions: len(s.restrictions),
	}
	if s.policy != 0 {
		c.TcfPolicyVersion = s.policy
	}
	if s.version != 0 {
		c.Version = s.version
	}
	if !s.lastUpdated.IsZero() {
		c.LastUpdated = s.lastUpdated
	}
	if s.lang != "" {
		c.ConsentLanguage = s.lang
	}
	if s.cc != "" {
		c.PublisherCC = s.cc
	}
	return c
}

// encode returns the TC string s describes.
func (s tcSpec) encode() string {
	d := &iabtcfv2.TCData{CoreString: s.core()}
	if s.disclosed != nil {
		d.DisclosedVendors = &iabtcfv2.DisclosedVendors{SegmentType: 1, DisclosedVendors: set(s.disclosed)}
	}
	if s.pub {
		d.PublisherTC = &iabtcfv2.PublisherTC{SegmentType: 3, PubPurposesConsent: set(s.pubConsent), PubPurposesLITransparency: set(s.pubLI)}
	}
	return d.ToTCString()
}

// rawSection is a GPP section given as its encoded value.
type rawSection struct {
	id    constants.SectionID
	value string
}

func (r rawSection) GetID() constants.SectionID { return r.id }
func (r rawSection) GetValue() string           { return r.value }
func (r rawSection) Encode(bool) []byte         { return []byte(r.value) }

// usnat returns a version-1 usnat section with the given opt-outs and GPC.
func usnat(sale, sharing, ads byte, gpc bool) gpp.Section {
	return uspnat.USPNAT{
		SectionID: constants.SectionUSPNAT,
		CoreSegment: uspnat.USPNATCoreSegment{
			Version: 1, SharingNotice: 1, SaleOptOutNotice: 1, SharingOptOutNotice: 1, TargetedAdvertisingOptOutNotice: 1,
			SensitiveDataProcessingOptOutNotice: 1, SensitiveDataLimitUseNotice: 1,
			SaleOptOut: sale, SharingOptOut: sharing, TargetedAdvertisingOptOut: ads,
			SensitiveDataProcessing:         make([]byte, 12),
			KnownChildSensitiveDataConsents: make([]byte, 2),
			MspaCoveredTransaction:          2, MspaOptOutOptionMode: 0, MspaServiceProviderMode: 0,
		},
		GPCSegment: sections.CommonUSGPCSegment{SubsectionType: 1, Gpc: gpc},
	}
}

// usca returns a version-1 usca section with the given opt-outs.
func usca(sale, sharing byte) gpp.Section {
	return uspca.USPCA{
		SectionID: constants.SectionUSPCA,
		CoreSegment: uspca.USPCACoreSegment{
			Version: 1, SaleOptOutNotice: 1, SharingOptOutNotice: 1, SensitiveDataLimitUseNotice: 1,
			SaleOptOut: sale, SharingOptOut: sharing,
			SensitiveDataProcessing:         make([]byte, 9),
			KnownChildSensitiveDataConsents: make([]byte, 2),
			MspaCoveredTransaction:          2,
		},
		GPCSegment: sections.CommonUSGPCSegment{SubsectionType: 1},
	}
}

// gppString encodes sections with go-gpp's encoder.
func gppString(secs ...gpp.Section) string {
	s, err := gpp.Encode(secs)
	if err != nil {
		panic(err)
	}
	return s
}

// retailConfig is the TCF purpose mapping the tests use over
// consenttest.RetailPolicy, the same as the package example's.
func retailConfig() map[int]consent.Purpose {
	return map[int]consent.Purpose{
		1: consent.PurposeAdvertising,         // store and/or access information on a device
		7: consent.PurposeAdvertising,         // measure advertising performance
		3: consent.PurposeAdvertisingTargeted, // create profiles for personalised advertising
		4: consent.PurposeAdvertisingTargeted, // use profiles to select personalised advertising
		5: consent.PurposePersonalizeHistory,  // create profiles to personalise content
		6: consent.PurposePersonalizeHistory,  // use profiles to select personalised content
		8: consent.PurposeAnalyticsAggregate,  // measure content performance (legitimate interest)
		9: consent.PurposeAnalytics,           // understand audiences (legitimate interest)
	}
}

func digestOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(h[:])
}
