// Package tcf brings the consent signals of the ad-tech industry into tact
// and back out: it decodes IAB Transparency & Consent Framework (TCF v2.2
// and v2.3) TC strings and IAB Global Privacy Platform (GPP) strings into
// [consent.Event] values a [consent.Gate] records, and derives Google
// Consent Mode v2 signals from the Gate's decisions.
//
// It is a module of its own (github.com/tact-go/tact/consent/tcf), so that
// the core module never requires the decoding libraries it builds on:
// github.com/SirDataFR/iabtcfv2 and github.com/prebid/go-gpp.
//
//	mapping, err := tcf.NewMapping(gate.Policy(), tcf.Config{Purposes: map[int]consent.Purpose{
//		1: consent.PurposeAdvertising, 7: consent.PurposeAdvertising,
//		3: consent.PurposeAdvertisingTargeted, 4: consent.PurposeAdvertisingTargeted,
//	}})
//	...
//	tc, err := tcf.Parse(tcString) // from the CMP: __tcfapi, the euconsent-v2 cookie, IABTCF_TCString
//	...
//	events, err := mapping.Events(tc, visitorID, consent.ChannelWeb, time.Now())
//	for _, ev := range events {
//		if _, err := gate.Record(ctx, ev); err != nil && !errors.Is(err, consent.ErrOutOfOrder) {
//			...
//		}
//	}
//
// # TC strings
//
// [Parse] reads a TC string's core segment and its optional Disclosed
// Vendors and Publisher TC segments into a [TCString]: the purposes the
// person consented to, those with legitimate-interest standing (transparency
// given, no objection), special-feature opt-ins, the publisher's own
// purposes, per-vendor signals ([TCString.VendorConsent],
// [TCString.VendorDisclosed]), the CMP, its version and screen, the
// language, the Global Vendor List and TCF policy versions, and when the
// string was created and last updated. It accepts TCF policy version 4
// (TCF v2.2) and later, such as 5 (TCF v2.3, which makes the Disclosed
// Vendors segment mandatory); older strings are [ErrUnsupported], since a
// new policy version invalidates them. Unlike iabtcfv2's own Decode, a
// segment that does not decode is an error, not silently dropped.
//
// # From a TC string to events
//
// A host declares what each TCF purpose means to it ([Config].Purposes, TCF
// purpose number to tact purpose) and [NewMapping] checks that against its
// policy. The legal basis of each tact purpose decides which signal speaks
// for it: a consent purpose takes the consent signal, which grants or denies
// it; a legitimate-interest purpose takes the legitimate-interest signal,
// which can only object (a Deny, in tact's terms). A tact purpose several
// TCF purposes map to is granted only if all of them are.
//
// Whose signal: with [Config].Vendor set (the host is an IAB vendor), the
// person's choice for that purpose and that vendor, after publisher
// restrictions; and if the string has a Disclosed Vendors segment that does
// not list the vendor, nothing at all (the person was never shown it).
// Without a vendor, the host is the publisher: the Publisher TC segment if
// the string has one, the core purpose signals otherwise. A signal that says
// nothing (purpose 1 under PurposeOneTreatment, an undisclosed vendor) gives
// no event unless another TCF purpose of the same tact purpose refuses.
//
// Each event has Source [consent.SourceImport], the channel the host gives
// and Evidence that lets an auditor find and check the string without the
// ledger holding it: "tcf:v2", the string's SHA-256, CMP id and version,
// consent screen, language, TCF policy and vendor list versions, last
// update, whose signals were read and each TCF purpose's bit. Events are
// dated when the person chose, the string's LastUpdated (never later than
// the now the host passes), so the Gate refuses an older string's events
// about a purpose the person has chosen about since ([consent.ErrOutOfOrder]);
// skip those. Import a string when it changes, not on every request.
//
// # GPP strings
//
// [ParseGPP] reads a GPP string's header and sections: tcfeuv2 (section 2)
// through [Parse], and the US sections usnat, usca, usva, usco, usut and usct
// (7 to 12, version 1) through go-gpp, reduced to a [USSection] with the
// opt-outs of sale, sharing and targeted advertising and the GPC flag. It
// checks the header itself first, with bounds go-gpp lacks. Sections it does
// not read are listed in [GPP].Skipped, not errors. [GPP.Only] keeps the
// sections that apply to the person (the gpp_sid that comes with the
// string). [Mapping.GPPEvents] maps the TCF section as above and each US
// opt-out, or the GPC flag, to a Deny of the purposes [Config].Sale, Sharing
// and TargetedAdvertising name. A US section never grants.
//
// # Consent Mode
//
// [GoogleConsentMode] builds a [ConsentModeMapping] from the TCF mapping by
// Google's published table ("Implement the Transparency & Consent Framework",
// https://developers.google.com/tag-platform/security/guides/implement-TCF-strings,
// section "TCF integration behavior"): ad_storage follows TCF purpose 1;
// ad_user_data purposes 1 and 7; ad_personalization purposes 3 and 4; and
// analytics_storage, which Google's TCF integration does not set, the tact
// purposes the host names. [ConsentModeMapping.Decide] asks a [Decider]
// (such as *consent.Gate) about each purpose and returns the [ConsentMode]
// state; [ConsentModeMapping.FromDecisions] does the same from decisions
// already made. [ConsentMode.Gtag] renders gtag('consent', 'update', {...}).
// Because signals come from the Gate's decisions, a choice the person made
// after the string (in the app, at a till) counts, and a tact purpose fed by
// several TCF purposes keeps the signal denied unless all are consented to:
// never more permissive than Google's own reading of the string.
//
// # What is not mapped
//
//   - TCF special purposes (security, ad and content delivery) and features:
//     the TCF lets no one refuse them, so there is nothing to record.
//   - Special features (precise geolocation, device scanning): opt-ins are
//     decoded ([TCString].SpecialFeatureOptIns) but not mapped; they qualify
//     how data is collected, not a purpose.
//   - Publisher custom purposes, and the signals of vendors other than the
//     host's own: they say nothing about the host's purposes.
//   - A legitimate-interest signal that holds: a legitimate interest needs no
//     grant. A TC string does not lift an objection recorded earlier (a
//     Gate would take a grant of the purpose for that); the person lifts it
//     where they made it, in the host's preference centre.
//   - In US sections: notices, the sensitive-data and known-child fields,
//     personal-data consents and the MSPA fields. Sensitive-data choices
//     would need a per-category mapping to explicit-consent purposes that
//     differs by state.
//   - GPP sections uspv1 (the deprecated US Privacy string), tcfcav1 (TCF
//     Canada), state sections other than CA, VA, CO, UT and CT, and section
//     versions other than 1 (usnat version 2 adds sensitive-data fields
//     go-gpp v0.2.0 would misread): they are listed in [GPP].Skipped, and a
//     host that must honour every opt-out checks that list.
//   - Consent Mode's other storage types (functionality_storage,
//     personalization_storage, security_storage), and Google's own vendor
//     signal (vendor 755), which Google's integration reads from the string:
//     the derived state rests on the host's decisions instead.
//
// # Concurrency
//
// [TCString], [GPP], [Mapping] and [ConsentModeMapping] values are
// read-only once made and safe for concurrent use. Nothing in the package
// reads a clock (now is an argument), does I/O, logs or starts a goroutine.
//
// # Errors
//
// Errors are sentinels callers branch on with [errors.Is] — [ErrMalformed]
// for a string that cannot be decoded, [ErrUnsupported] for a version the
// package does not read, [ErrMapping] for a mapping that cannot be applied —
// or typed errors that unwrap to them and carry details: [*ParseError]
// (the part of the string, and the decoding library's error) and
// [*MappingError] (the TCF purpose, tact purpose or signal, and the consent
// package's error where there is one: [consent.ErrMalformedKey],
// [consent.ErrUnknownPurpose], [consent.ErrNotConsentBasis]). Parsing never
// panics, whatever the input: the decoders run behind a recover at the API
// boundary, and the GPP header is checked with bounds before go-gpp reads
// it. A nil [Decider] is an error wrapping [consent.ErrNilArgument]; the
// errors of a Decider are returned as they are.
package tcf
