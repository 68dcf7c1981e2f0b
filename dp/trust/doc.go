// Package trust turns tact's audit trail into the numbers a product team
// watches, and checks that trail for violations.
//
// Its input is what a service already has: the audit events tact's
// packages log through log/slog (as slog.NewJSONHandler writes them, one
// JSON object per line: [ReadEvents]) and the consent ledger
// (consent.Gate.ExportLedger as JSON Lines: [ReadLedger]; or the records).
//
// [Release] computes a trust report over time buckets (a week or a day):
// grants, denials and withdrawals per purpose and per channel, per bucket
// and over the whole report; the share of opt-outs that came from Global
// Privacy Control; re-consent after a policy change; per trust tier, the
// people whose responses left out a "not interested" item, suppressed
// items, ran in warm-up, held back below the confidence floor or held
// back a sensitive item; and how many people moved up a tier. Every count
// crosses people, so each table is one dp release over public partitions
// (the buckets, the policy's purposes, the channels, the tiers) with each
// person's contribution bounded ([Config].MaxPartitions rows per table,
// MaxContributions events per row). The report spends a declared ε and δ
// from a dp.Budget, and [Report.Meaning] says what they promise in one
// sentence. Small groups are hidden: a count is shown only when its
// confidence interval lies at or above [Config].MinPersons, so that each
// count shown is, with that confidence, a group of at least that many
// people rather than noise.
//
//	events, err := trust.ReadEvents(eventsFile)
//	ledger, err := trust.ReadLedger(ledgerFile)
//	budget, _ := dp.NewBudget(1, 1e-6, nil)
//	rep, err := trust.Release(ctx, budget, trust.Input{Events: events, Ledger: ledger},
//		trust.Config{Epsilon: 1, Delta: 1e-6, Policy: policy, PersonKey: "person"})
//	fmt.Print(rep) // the tables as text; rep.PurposeTotals, rep.Serve, ... as numbers
//
// The noise does not shrink with the shop: at ε = 1 and the default
// bounds, a weekly count of people is known to about ±110 (99%), a share
// of people served to some percent in a shop that serves thousands a
// week. A small shop sees mostly hidden cells, which is the report being
// honest about what it cannot tell.
//
// [Check] is the continuous audit, for CI or a cron job: it fails with an
// [*AuditError] listing every chain break, decision that used data
// without an allowing record, release beyond the declared budget and
// sensitive item served from history.
//
// The package computes; it renders nothing (programs draw the charts:
// examples/trust) and does no I/O of its own beyond the readers it is
// given. It imports dp, and so Google's library and glog: use it in batch
// and reporting programs, or in a host that links dp already (the
// storefront's operator page, examples/storefront, releases a report
// there, at most once a day, from a budget of its own); the serving path
// of consent, minimize and recommend never links it.
//
// # What the events carry, and what the host adds
//
// Audit events never carry a subject id: "recommend.serve" says the tier,
// the purposes relied on, the data categories used, what was withheld and
// what each guard filtered, but not for whom. Bounding each person's
// contribution needs a person, and replaying the ledger for a response
// needs the subject. A host that wants the response tables, and the
// replay check, adds a person attribute in its own slog handler, from the
// request's context (recommend logs with the context of the request), and
// names it in [Config].PersonKey and [CheckConfig].PersonKey; a keyed
// pseudonym keeps ids out of the log ([CheckConfig].Pseudonym maps ledger
// subjects to it). People are what these keys tell apart: an anonymous
// visitor with two sessions counts as two.
//
// The time of an event is the record's time, which slog takes when the
// event is logged: a host that logs late, or replays requests, sets it
// from the request's time in its handler.
//
// What recommend would have to log for [Check] to need nothing from the
// host: the ledger record each relied-on purpose's decision rested on
// ("records": "personalize.history:1234,..."), which links the response to
// its subject through the ledger without logging who it was, and the
// decision time. recommend does log, for sensitive items, the sources
// that led to the ones served ("sensitive_sources": "declared"), which
// Check reads.
//
// # Concurrency
//
// A [Report] is immutable and safe for concurrent use. Release and Check
// may run concurrently on the same [Input], which they only read.
//
// # Errors
//
// [ReadEvents] and [ReadLedger] return a [*LineError] naming the first
// line they cannot read (errors.Is [ErrBadInput]), with everything before
// it. [Release] returns [ErrNoData], a [*ConfigError] ([ErrInvalidConfig])
// for privacy parameters out of range, an error wrapping [ErrLedger] (and
// consent.ErrTampered) for a ledger that does not verify or is cut short,
// and the budget's dp.ErrBudgetExhausted, spending nothing in each case.
// [Check] returns an [*AuditError] whose [Violation]s unwrap to
// [ErrChainBreak], [ErrNoAllowingRecord], [ErrOverBudget], [ErrNotPrivate]
// or [ErrSensitiveInferred], each of which unwraps to [ErrViolation].
package trust
