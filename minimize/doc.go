// Package minimize makes a record fit for one purpose before a service
// keeps or uses it: what the purpose does not need is dropped, and what it
// needs is generalized or pseudonymized as far as the purpose allows.
//
// A [Policy] is the allow-list of one purpose ([consent.Purpose]): rules
// that name data categories ([consent.Category], with their descendants)
// or fields, each with one [Transform]. Everything no rule names is
// dropped. A [Minimizer] applies a policy to Go structs tagged with their
// categories, or to map records described by a [Schema]:
//
//	type Order struct {
//		CustomerID string    `tact:"user.unique_id"`
//		Email      string    `tact:"user.contact.email"`
//		BirthDate  time.Time `tact:"user.demographic.birth_date"`
//		Total      float64   `tact:"user.payment"`
//	}
//
//	policy, err := minimize.NewPolicy(consent.PurposeAnalyticsAggregate,
//		minimize.ForCategory(consent.CategoryUniqueID, minimize.Pseudonymize()),
//		minimize.ForCategory(consent.CategoryDemographicBirthDate, minimize.AgeBand(10)),
//		minimize.ForCategory(consent.CategoryPayment, minimize.Bucket(25)),
//	) // Email is not named: dropped
//	m, err := minimize.New(policy, minimize.Config{Keyring: keys})
//	out, err := minimize.Struct(m, order)
//
// # Rules
//
// The rule for a field is the one naming the field, else the one for its
// category, else the one for the nearest ancestor category with a rule; a
// field no rule reaches is dropped. So "user.contact" → Keep with
// "user.contact.email" → Drop keeps the phone number and drops the e-mail
// address. Sensitive categories (health, precise location, government
// ids, ...; see [consent.Category.Sensitive]) are never reached from a
// non-sensitive ancestor: "user" → Keep does not keep "user.health"; a
// policy must name them. A [Minimizer] can be narrowed by what consent currently allows
// ([Minimizer.Narrow] with an [Allower]): a category the policy would keep
// but consent does not allow is dropped.
//
// # Transforms and types
//
// Drop, keep, redact, mask, numeric buckets (width or edges), age bands
// from birth dates, time truncation, time parts, coordinate precision,
// postal prefixes, top/bottom coding and keyed pseudonyms; see [Transform].
// A struct field keeps its Go type and gets the generalized value in it (a
// bucket's lower bound, a truncated time, a rounded coordinate; age bands
// and time parts as times, as described at [AgeBand] and [Part]); pseudonyms,
// masks, redaction and postal prefixes need string fields, which is checked
// when the plan for a type is built. Map values may change type ([Part]
// and [AgeBand] give ints). The numeric transforms follow one rule for
// every integer and floating-point type (the exact result in the value's
// type; parameters no value of the type can use are a type mismatch), as
// described at [Transform].
//
// # Pseudonyms
//
// [Pseudonymize] replaces an identifier with HMAC-SHA-256 under a key the
// host supplies through a [Keyring], derived per purpose, so tokens are
// consistent across records and tables for one purpose and cannot be
// joined across purposes. Tokens carry the id of the key that made them,
// so keys can rotate ([Keyring.Rotate]) while old tokens stay recognisable
// ([Pseudonymizer.Match], [Pseudonymizer.KeyID]). Keys shorter than 32
// bytes, or one byte repeated, are rejected. A token never equals or
// contains its input. Key material never prints: a [Keyring],
// [Pseudonymizer] or [Minimizer] formats (with any fmt verb), logs (as a
// [log/slog.LogValuer]) and encodes as its key count and ids, which are
// not secret, and a [Key] as its id with [Redacted] for the secret.
//
// There is no unkeyed hashing: a plain or publicly salted hash of an e-mail address or phone number falls to a dictionary
// attack (hash every candidate and compare), the known weakness of
// Presidio's unsalted "hash" operator; a keyed HMAC cannot be tested
// against guesses without the key.
//
// # Plans and performance
//
// The plan for a struct type is compiled once per [Minimizer] (on first
// use, or by [Explain]) and kept: field offsets, categories and transforms,
// with dropped fields costing nothing. Minimizing a record then costs about
// what a hand-written function doing the same transforms costs; see the
// benchmarks. [Struct] and [Minimizer.Map] build no report; the Report and
// Batch variants do.
//
// # Retention and k-anonymity
//
// A [Retention] schedule gives each category a maximum age for a purpose;
// [Retention.Past] checks one field and [Sweep] / [SweepMaps] split a batch
// into records to keep, trim and purge. [CheckK] measures k-anonymity (and
// l-diversity of one sensitive field) of a batch over its quasi-identifiers
// and can suppress the records of small classes.
//
// # Concurrency
//
// [Policy], [Keyring], [Pseudonymizer], [Minimizer], [Schema] and
// [Retention] are immutable after construction and safe for simultaneous
// use by multiple goroutines; minimizers cache plans with sync.Map. An
// [Allower] is called from the goroutine minimizing a record, never while
// the package holds a lock. The package starts no goroutines, does no I/O
// and keeps no global state; the time comes from [Config.Now] (for age
// bands) or is passed in (retention).
//
// # Errors
//
// Constructors validate everything once: [NewPolicy] and [NewRetention]
// return a [*RuleError], [NewKeyring] and [Keyring.Rotate] a [*KeyError],
// [NewSchema] a [*FieldError], and [Keyring.Pseudonymizer] a [*RuleError]
// for a malformed purpose. Building a struct plan reports malformed tags,
// transforms that do not fit a field's type and unsupported types as a
// [*FieldError] naming the field. Minimizing reports values a transform
// cannot take (NaN, an out-of-range bucket bound, a map value of the wrong
// type) as a [*FieldError] naming the field, never its value. Batches
// return a [*BatchError] listing the failed records and keep the others.
// [CheckK] wraps [ErrInvalidK] for a malformed check. A nil or zero
// [Minimizer], [Retention] or [Pseudonymizer] gives [ErrNoMinimizer]. Every
// error wraps a sentinel (ErrTag, ErrTypeMismatch, ErrNotFinite,
// ErrShortKey, ...) for [errors.Is]. Nothing in the package panics on bad
// input.
//
// # Audit
//
// With [Config.Logger] set, every call of [Struct], [StructReport],
// [Minimizer.Map] and [Minimizer.MapReport], and every batch, emits one
// event at slog.LevelInfo with message and attribute "event" equal to
// "minimize.report" ([EventReport]) and these attributes:
//
//	purpose             the policy's purpose
//	record              the Go type minimized, or "map"
//	records             records minimized (1 outside batches)
//	failed              records that returned an error
//	fields_kept         fields passed unchanged
//	fields_transformed  fields generalized, masked or pseudonymized
//	fields_dropped      fields dropped, consent included
//	fields_no_consent   fields dropped because consent does not allow them
//
// Events carry counts only: never values, pseudonyms, subject identifiers
// or key material.
package minimize
