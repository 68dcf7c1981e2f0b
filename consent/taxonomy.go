package consent

// The default taxonomy for retail personalization. The keys follow the shape
// of the fideslang and W3C DPV taxonomies (a purpose says why, a category
// says what), trimmed to what a store that personalizes needs. Hosts may use
// any other well-formed keys; these are a documented starting point that the
// fixtures, examples and the other tact packages use.

// Default purposes.
const (
	// Service: running the store the person asked to use (orders, accounts,
	// delivery). Typically contract basis.
	PurposeService         Purpose = "service"
	PurposeServiceCheckout Purpose = "service.checkout"
	PurposeServiceAccount  Purpose = "service.account"

	// Personalize: tailoring what the person sees.
	PurposePersonalize         Purpose = "personalize"
	PurposePersonalizeContext  Purpose = "personalize.context"  // what is on screen now: no profile
	PurposePersonalizeDeclared Purpose = "personalize.declared" // preferences the person typed in
	PurposePersonalizeFeedback Purpose = "personalize.feedback" // likes and "not interested"
	PurposePersonalizeHistory  Purpose = "personalize.history"  // purchase and view history

	// Analytics: statistics across people, released with differential privacy.
	PurposeAnalytics          Purpose = "analytics"
	PurposeAnalyticsAggregate Purpose = "analytics.aggregate"

	// Marketing: messages the person did not ask for.
	PurposeMarketing       Purpose = "marketing"
	PurposeMarketingEmail  Purpose = "marketing.email"
	PurposeMarketingDirect Purpose = "marketing.direct"

	// Advertising: targeted (cross-context behavioural) advertising.
	PurposeAdvertising         Purpose = "advertising"
	PurposeAdvertisingTargeted Purpose = "advertising.targeted"

	// Sharing: sale or sharing of personal data with third parties.
	PurposeSharing         Purpose = "sharing"
	PurposeSharingPartners Purpose = "sharing.partners"

	// Legal: retention and processing the law requires (tax records).
	PurposeLegal           Purpose = "legal"
	PurposeLegalObligation Purpose = "legal.obligation"
)

// Default data categories.
const (
	CategoryUser Category = "user"

	CategoryUniqueID Category = "user.unique_id" // customer number, account id

	CategoryContact        Category = "user.contact"
	CategoryContactEmail   Category = "user.contact.email"
	CategoryContactPhone   Category = "user.contact.phone"
	CategoryContactAddress Category = "user.contact.address"
	CategoryContactPostal  Category = "user.contact.postal_code"

	CategoryDemographic          Category = "user.demographic"
	CategoryDemographicBirthDate Category = "user.demographic.birth_date"
	CategoryDemographicAge       Category = "user.demographic.age"
	CategoryDemographicGender    Category = "user.demographic.gender"

	CategoryBehavior                Category = "user.behavior"
	CategoryBehaviorPurchaseHistory Category = "user.behavior.purchase_history"
	CategoryBehaviorBrowsingHistory Category = "user.behavior.browsing_history"
	CategoryBehaviorSearch          Category = "user.behavior.search"
	CategoryBehaviorSession         Category = "user.behavior.session" // the current visit: page, item in view

	CategoryPreference         Category = "user.preference"
	CategoryPreferenceDeclared Category = "user.preference.declared" // zero-party data
	CategoryPreferenceFeedback Category = "user.preference.feedback"

	CategoryDevice      Category = "user.device"
	CategoryDeviceID    Category = "user.device.id"
	CategoryDeviceIP    Category = "user.device.ip_address"
	CategoryLocation    Category = "user.location"
	CategoryLocationApp Category = "user.location.approximate" // city, region, coarse coordinates

	CategoryPayment Category = "user.payment" // card tokens, order totals

	// Sensitive categories (see [SensitiveCategories]).
	CategoryHealth             Category = "user.health"
	CategoryBiometric          Category = "user.biometric"
	CategoryGenetic            Category = "user.genetic"
	CategoryRacialEthnicOrigin Category = "user.racial_ethnic_origin"
	CategoryReligion           Category = "user.religious_belief"
	CategorySexualOrientation  Category = "user.sex_life_orientation"
	CategoryPoliticalOpinion   Category = "user.political_opinion"
	CategoryTradeUnion         Category = "user.trade_union_membership"
	CategoryLocationPrecise    Category = "user.location.precise"
	CategoryChildren           Category = "user.children"
	CategoryFinancialAccount   Category = "user.financial.account"
	CategoryGovernmentID       Category = "user.government_id"
)

// sensitive lists the special categories of GDPR Art. 9 and the sensitive
// personal information of CPRA (Cal. Civ. Code 1798.140(ae)), in the default
// taxonomy's keys. Every descendant of a listed key is sensitive too.
var sensitive = [...]Category{
	CategoryHealth,             // GDPR Art. 9(1) health; CPRA health
	CategoryBiometric,          // GDPR Art. 9(1) biometric for identification; CPRA
	CategoryGenetic,            // GDPR Art. 9(1); CPRA
	CategoryRacialEthnicOrigin, // GDPR Art. 9(1); CPRA
	CategoryReligion,           // GDPR Art. 9(1) religious or philosophical beliefs; CPRA
	CategorySexualOrientation,  // GDPR Art. 9(1) sex life or sexual orientation; CPRA
	CategoryPoliticalOpinion,   // GDPR Art. 9(1)
	CategoryTradeUnion,         // GDPR Art. 9(1); CPRA
	CategoryLocationPrecise,    // CPRA precise geolocation
	CategoryChildren,           // GDPR Art. 8 / COPPA / CPRA under-16s: data about children
	CategoryFinancialAccount,   // CPRA account log-in, financial account, card numbers
	CategoryGovernmentID,       // CPRA social security, driver's licence, passport numbers
}

// SensitiveCategories returns the default sensitive categories: the special
// categories of GDPR Art. 9 (health, biometric, genetic, racial or ethnic
// origin, religious belief, sex life or orientation, political opinion, trade
// union membership) and CPRA sensitive personal information (precise
// geolocation, financial account data, government identifiers), plus data
// about children. The returned slice is a fresh copy.
func SensitiveCategories() []Category {
	out := make([]Category, len(sensitive))
	copy(out, sensitive[:])
	return out
}

// Sensitive reports whether c is, or descends from, one of the default
// sensitive categories listed by [SensitiveCategories].
func (c Category) Sensitive() bool {
	for _, s := range sensitive {
		if s.Covers(c) {
			return true
		}
	}
	return false
}
