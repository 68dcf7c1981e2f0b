// Package consenthttp connects a [consent.Gate] to HTTP, with the standard
// library only.
//
//   - [GPC] and [SignalReader] read the privacy signals of a request into
//     [consent.Signals]: the Global Privacy Control header (Sec-GPC: 1),
//     and the age and regime the host knows ([RegimeByCountry] maps a
//     country header a CDN sets).
//   - [GPCSupport] serves /.well-known/gpc.json, the W3C GPC support
//     resource that says the site honours the signal.
//   - [Centre] is a preference centre a host mounts on its mux: the
//     person's purposes with what each is for and gives them, one form to
//     turn any of them on or off (or everything off), the receipt, the
//     export of everything held, and erasure.
//
// # Whose data
//
// A request touches the data of the person the host's [Authenticator]
// names, from its session, and of no one else: the Centre never reads a
// subject id from a form field, a query or a path, and rejects JSON bodies
// with members it does not know. The tests send requests signed in as one
// person that name another everywhere a request can, and check that the
// other person's records, receipt and export are never read or changed.
//
// # Cross-origin requests, sizes and errors
//
// The Centre wraps its routes in http.CrossOriginProtection: a POST from
// another origin (by Sec-Fetch-Site, or Origin against Host) is refused
// with 403 before anything is read, which is what stops cross-site request
// forgery without tokens. Bodies are capped (Options.MaxBody, 64 KiB by
// default; 413 beyond). Errors are typed and errors.Is-able, and [Status]
// maps them, and the consent package's, to statuses: 400 for what a
// request got wrong, 401 for nobody signed in, 409 for a choice that
// conflicts (a GPC signal not confirmed, a purpose that is not optional,
// an event out of time order), 503 for a store that could not keep up,
// 500 for the rest, whose details are never sent.
//
// # Global Privacy Control in the preference centre
//
// A GPC signal opts the person out of the purposes it covers
// ([consent.Policy.GPCCovers]), and the Gate records that, so the signal's
// later absence is not an opt-in. A person whose browser sends it may
// still turn one of those purposes on for this site: the Centre refuses
// the first attempt with a [*GPCConflictError] naming the purposes
// (nothing is recorded), the host tells the person of the conflict, and a
// second request that confirms them (confirm_gpc) records grants that
// carry [consent.Event].OverridesGPC, which prevail over the signal for
// those purposes (as the CCPA regulations, 11 CCR § 7025(c)(3), allow).
package consenthttp
