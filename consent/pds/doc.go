// Package pds verifies grants from a person's personal data store: signed,
// scoped, expiring permissions for one service to read parts of the
// person's zero-party data (their sizes, their goals, …) for one purpose.
//
// A person keeps their data in a store of their own and hands a service a
// grant; the service verifies it (signature, audience, subject, purpose,
// scope, time, revocation) with a [Verifier] before reading anything,
// records it in the consent ledger ([Verifier.Accept]), and reads the data
// it carries ([Grant.Declared], [Grant.Read]) only while it holds. The
// Verifier is also the consent check a recommender asks before each read
// ([Verifier.Decide]): decisions that rest on a grant end when the grant
// expires or is revoked. Package recommend/pdsource serves the declared
// data of a grant to the recommender as the person's declared
// preferences.
//
//	v, err := pds.NewVerifier(gate, keys, revocations, "https://shop.example", pds.Config{})
//	…
//	// The person hands the service a grant:
//	d, err := v.Accept(ctx, token, personID, consent.PurposePersonalizeDeclared, now, sig)
//	// On each read, while the grant holds:
//	g, err := v.Verify(ctx, token, personID, consent.PurposePersonalizeDeclared, now)
//	sizes := g.Declared().Sizes
//
// The package reads no clock, opens no connection and keeps no state
// beyond its in-memory [MemoryKeys] and [MemoryRevocations]: the time is
// an argument, and keys, revocations and the ledger come from the host
// through [Keys], [Revocations] and [Ledger].
//
// # The format
//
// A grant is a JSON Web Signature (RFC 7515) in the compact serialization,
// signed with Ed25519 (RFC 8037):
//
//	BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(signature)
//
// where BASE64URL is base64url without padding (RFC 7515, section 2),
// decoded strictly: nothing but the 64 characters of the alphabet between
// the two dots (no padding, no line breaks), and no non-zero bits after
// the last byte. The signature is the 64-byte Ed25519 signature of the
// ASCII bytes of BASE64URL(header) "." BASE64URL(payload). A token is at
// most [MaxTokenLen] bytes. Header and payload are each one JSON object in
// UTF-8 in which no member name appears twice (compared case-insensitively,
// at any depth), since JSON parsers differ on which of two values counts.
//
// The header has these parameters:
//
//	"alg"  exactly "EdDSA" ([AlgEdDSA]); "none", "HS256", "Ed25519" and
//	       every other value are refused, so the key is always Ed25519
//	"typ"  [Type], "tact-grant+jwt" (case-insensitive, with or without
//	       "application/" in front): no other token the store signs can
//	       pass for a grant (RFC 8725, section 3.11)
//	"kid"  the id of the issuer's key that signed it: 1 to [MaxIDLen]
//	       bytes of printable ASCII without spaces
//
// A header with "crit" (RFC 7515, section 4.1.11) or "b64" (RFC 7797) is
// refused: no extension is understood, and the payload is always the
// base64url of what is signed. Other parameters are ignored; in particular
// "jwk", "jku", "x5u" and "x5c" never supply a key: keys come only from
// [Keys], looked up by "iss" and "kid".
//
// The payload holds the claims. Times are NumericDates in whole seconds
// since 1970-01-01T00:00:00Z, as JSON integers, up to the year 9999.
//
//	"iss"      the data store that issued the grant; with "kid" it names the
//	           key (printable ASCII without spaces, 1 to MaxIDLen bytes)
//	"sub"      the person, by the service's id for them (1 to
//	           [consent.MaxSubjectLen] bytes)
//	"aud"      the service: a string, or an array of 1 to [MaxAudience]
//	           strings, one of which must be the Verifier's audience
//	"jti"      the grant's id, unique for its issuer, by which it is revoked
//	           (printable ASCII without spaces, 1 to MaxIDLen bytes)
//	"iat"      when it was issued
//	"nbf"      optional: when it starts to hold, if later than "iat"
//	"exp"      when it ends: after "iat" and "nbf", and at most
//	           [Config].MaxLifetime (30 days by default) after "iat"
//	"purpose"  the one purpose the data may be used for, a purpose key of
//	           the service's policy ("personalize.declared")
//	"scope"    the categories the service may read, separated by single
//	           spaces (as the "scope" claim of RFC 8693), 1 to [MaxScope] of
//	           them; each covers its descendants, and each must be a
//	           category the purpose uses in the service's policy
//	"data"     the data: an object from category key to any JSON value but
//	           null, at most MaxScope members, each covered by "scope"
//
// Other claims are ignored. The categories of "data" whose values the
// format defines are those of declared preferences, under
// [consent.CategoryPreferenceDeclared]:
//
//	[CategoryGoals]   [{"text": "you're training for a marathon", "tags": ["running"]}]
//	                  text completes "Because you told us …"; only the
//	                  members text (1 to [MaxItemLen] bytes) and tags
//	[CategorySizes]   ["shoe:42", "top:M"], each "dimension:value"
//	[CategoryAvoid]   ["fur"], item tags the person does not want to see
//	[CategoryBudget]  120, the most to pay for an item; a number >= 0, 0
//	                  for no limit
//
// Lists hold at most [MaxItems] entries (tags of a goal too), each a
// non-empty string of at most MaxItemLen bytes. Data of any other category
// is carried as it is and read with [Grant.Read].
//
// An example, signed with the Ed25519 key whose seed is 32 zero bytes
// (public key 3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29),
// issued 2025-06-01T12:00:00Z for a week:
//
//	eyJhbGciOiJFZERTQSIsImtpZCI6IjIwMjUtMDYiLCJ0eXAiOiJ0YWN0LWdyYW50K2p3dCJ9.
//	eyJpc3MiOiJodHRwczovL3Bkcy5leGFtcGxlL2FsaWNlIiwic3ViIjoiYWxpY2UiLCJhdWQiOiJodHRwczovL3Nob3AuZXhhbXBsZSIsImp0aSI6ImctMSIsImlhdCI6MTc0ODc3OTIwMCwiZXhwIjoxNzQ5Mzg0MDAwLCJwdXJwb3NlIjoicGVyc29uYWxpemUuZGVjbGFyZWQiLCJzY29wZSI6InVzZXIucHJlZmVyZW5jZS5kZWNsYXJlZC5zaXplcyB1c2VyLnByZWZlcmVuY2UuZGVjbGFyZWQuZ29hbHMiLCJkYXRhIjp7InVzZXIucHJlZmVyZW5jZS5kZWNsYXJlZC5nb2FscyI6W3sidGV4dCI6InlvdSdyZSB0cmFpbmluZyBmb3IgYSBtYXJhdGhvbiIsInRhZ3MiOlsicnVubmluZyIsIm1hcmF0aG9uIl19XSwidXNlci5wcmVmZXJlbmNlLmRlY2xhcmVkLnNpemVzIjpbInNob2U6NDIiLCJ0b3A6TSJdfX0.
//	yCtG69saJw0Qk7WAA5jEX5X3na4_tbbGAhsmM-zJI4yjIuMxem1dJ5ADB-Gh4_pv-tuX_lYxhGkDD5R3vsJ4BQ
//
// (one line, broken after the dots here), whose header and payload are
//
//	{"alg":"EdDSA","kid":"2025-06","typ":"tact-grant+jwt"}
//
//	{"iss":"https://pds.example/alice","sub":"alice","aud":"https://shop.example",
//	 "jti":"g-1","iat":1748779200,"exp":1749384000,"purpose":"personalize.declared",
//	 "scope":"user.preference.declared.sizes user.preference.declared.goals",
//	 "data":{"user.preference.declared.goals":[{"text":"you're training for a marathon","tags":["running","marathon"]}],
//	         "user.preference.declared.sizes":["shoe:42","top:M"]}}
//
// [Issue] writes grants in this format; it is the reference for data
// stores and serves tests.
//
// # Verifying
//
// [Verifier.Verify] checks a token against the person and purpose the
// service is about to read for, at a time the host passes: the form, the
// signature with the key [Keys] has for "iss" and "kid", "aud", the
// lifetime, the window from max("iat", "nbf") less [Config].Skew until
// "exp" (the skew never extends "exp"), "sub", "purpose", the scope
// against the policy and the data against the scope, and revocation by
// "jti" ([Revocations]). A service verifies on every read, so expiry and
// revocation take effect at once.
//
// # The consent ledger
//
// A grant is the person's choice, made through their data store, and
// cannot reach past what the person chose in the service: [Verifier.Accept]
// records it in the consent ledger as a [consent.Grant] of its purpose
// (Channel [ChannelPDS], Source [consent.SourceImport], Evidence naming the
// grant's issuer, id, expiry and SHA-256, never its data; see
// [Grant.Evidence]), dated at its "iat", and never over a choice the
// person made at or after it: a withdrawal made after the grant was
// issued stands, and the ledger's rules apply to it as to any grant (a
// Global Privacy Control signal denies the purposes it covers, a child's
// own grant does not allow). [Verifier.Decide] and [Verifier.DecideMany]
// decide as the ledger does, but a decision that rests on a grant's record
// denies from the grant's "exp" ([consent.ReasonExpired]) and once it is
// revoked ([consent.ReasonWithdrawn]), and an allowing one expires no later
// than the grant. The scope is bounded by the policy: a grant whose scope
// names a category its purpose does not use in the service's policy is
// refused ([ErrScope]).
//
// # Concurrency
//
// A [Verifier], [MemoryKeys] and [MemoryRevocations] are safe for
// simultaneous use by multiple goroutines; a [Grant] is an immutable value.
// The Verifier calls the host's Keys, Revocations and Ledger without
// holding any lock.
//
// # Errors
//
// Every error about a grant is a [*GrantError] naming the header parameter,
// claim or data category concerned and unwrapping to one sentinel:
// [ErrMalformed] (not a grant in the format, including a wrong "alg",
// truncation and oversized tokens), [ErrSignature] (a bad signature, a
// tampered token), [ErrUnknownKey], [ErrExpired], [ErrNotYetValid],
// [ErrLifetime], [ErrAudience], [ErrSubject], [ErrPurpose], [ErrScope]
// (beyond the policy, or a read beyond the grant) and [ErrRevoked].
// [ErrConfig] reports invalid settings. Errors of the host's Keys,
// Revocations and Ledger are returned as they are; an error from
// Revocations means the grant is not used. No input makes the package
// panic.
package pds
