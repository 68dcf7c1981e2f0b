// Package consent decides whether a person's data may be used for a purpose,
// says why, and can prove it.
//
// A service describes what it does with data in a [Policy], records each
// choice a person makes as an [Event], and asks a [Gate] before each use:
//
//	gate, err := consent.NewGate(policy, consent.NewMemoryStore(), consent.GateConfig{})
//	...
//	_, err = gate.Record(ctx, consent.Event{
//		Action:  consent.Grant, // or consent.Deny, consent.Withdraw: the same call
//		Subject: "shopper-42",
//		Purpose: consent.PurposePersonalize,
//		At:      now,
//		Channel: consent.ChannelApp,
//	})
//	...
//	d, err := gate.Decide(ctx, "shopper-42", consent.PurposePersonalizeHistory, now, consent.Signals{GPC: gpcHeader})
//	if err != nil || !d.Allowed {
//		// do not use purchase history; d.Explain() says why
//	}
//
// # Purposes and categories
//
// A [Purpose] says why data is used ("personalize.history") and a [Category]
// what data ("user.behavior.purchase_history"). Both are dotted hierarchical
// keys in the style of fideslang and W3C DPV; a key covers its descendants.
// The package ships a default taxonomy for retail personalization
// (PurposePersonalize, CategoryContactEmail, ...) and the sensitive
// categories of GDPR Art. 9 and CPRA ([SensitiveCategories]).
//
// # Policies
//
// A [Policy] declares, per purpose ([PurposeSpec]): a plain-language
// description, the concrete benefit to the person, the legal [Basis], the
// categories used, whether it is sale, sharing or targeted advertising,
// whether it is direct marketing, how long a grant holds (Lifetime), how
// long data is kept (Retention) and the policy version in which it last
// changed materially. [Policy.Validate] rejects inconsistent policies with a
// [*PolicyError] naming the purpose — for instance a purpose that uses a
// sensitive category on any basis but explicit consent. Policies decode from
// JSON with [DecodePolicy]; [Gate.SetPolicy] moves a running Gate to a new
// version, and never back: neither the policy's version nor any purpose's
// may go below what the Gate has had in force, even for a purpose dropped
// and later re-added ([ErrPolicyDowngrade]), since that would revive grants
// a material change had ended.
//
// # Deciding
//
// [Gate.Decide] returns a [Decision]: allowed or not, the legal basis, a
// [Reason] code and its text ([Decision.Explain]), the [Record] the decision
// rests on and when it expires. The rules compose in this order (see
// [Gate.Decide] for details):
//
//  1. The basis: contract, legal obligation, vital interest and public task
//     are allowed without consent, and say so; an unknown purpose is an
//     error, never an allow.
//  2. Signals: Global Privacy Control denies what it covers in the request's
//     [Regime] ([Policy.GPCCovers]: sale, sharing and targeted advertising;
//     direct marketing too where the policy says so) and is recorded,
//     whatever the request is for, so its later absence is not an opt-in.
//     A grant the person makes after being told of the conflict
//     ([Event].OverridesGPC) prevails over the signal for its purpose.
//  3. Records: the latest record for the purpose and for each ancestor. A
//     denial or withdrawal of the purpose or an ancestor denies; a grant
//     allows unless the purpose or an ancestor was refused after it (even
//     if granted again since: only that later grant can allow), it has
//     expired, it predates a material change (re-consent), or it is a
//     child's own grant where a guardian's is needed. A grant of a parent
//     covers its children, except explicit-consent (sensitive) children,
//     which need their own.
//  4. The regime's default when nothing on record decides: opt-in under GDPR
//     and LGPD; opt-out under CPRA except for sensitive purposes and
//     under-16s. Legitimate interests are allowed until the person objects.
//
// A Gate has a default regime ([GateConfig].Regime); a request can name its
// own in [Signals].Regime, so one Gate serves people under several laws.
// [Gate.RecordMany] records the choices of one form, all or nothing. The
// package consenthttp reads the signals from an HTTP request and serves a
// preference centre over a Gate.
//
// # Words for people
//
// What a person reads (why a purpose is on or off, what data it uses, the
// receipt) comes from a [Catalog], in the language of their request: the
// built-in texts are English and German, a host adds its own, and nothing
// shows a raw key. [Receipt.Text] is the English receipt; [Catalog.Receipt]
// the one in any language. [Decision.Explain] is a sentence for logs.
//
// # The ledger
//
// Every event is appended to a ledger as a [Record], numbered, linked to
// the same subject's record before it, and chained to the ledger's record
// before it by SHA-256 over a canonical binary encoding (see [Record]).
// The ledger's order is the order in time: an event may not be dated
// before the subject's latest record about the same purpose, a purpose
// above it or one below it ([ErrOutOfOrder]), so decisions taken in ledger
// order are those taken in time order, and a backdated grant cannot undo a
// withdrawal.
//
// [Gate.Verify] checks the whole ledger and names the first record that
// does not verify: it detects any edit, deletion, insertion or reordering
// of a record, unless every record after it was re-chained as well (anyone
// who knows the format can compute hashes). Against that, and against
// records cut off the end, a [Checkpoint] (the last record's Seq and Hash,
// "seq:hash" as text) published or signed elsewhere is the proof:
// [Gate.Checkpoint] returns the current one, and Verify, [VerifyJSONL] and
// [Gate.ImportLedger] check a ledger against trusted ones. Verification
// also checks the rules an honest Gate keeps that the hashes alone do not
// show: time order, and that tombstones stand for whole erased subjects.
// [Gate.ExportLedger] writes JSON Lines that anyone can check with
// [VerifyJSONL]; [Gate.ImportLedger] verifies the stored ledger and every
// line first and applies nothing if any is bad, naming the line; it also
// refuses records that claim a policy version newer than the policy in
// force ([ErrUnknownVersion]). JSON objects with a repeated key are
// malformed, since encoding/json would keep only the last.
//
// # Access and erasure
//
// [Gate.Access] returns everything held about a subject: its records and the
// decision for every purpose. [Gate.Erase] erases a subject, keeping only
// what proof of a withdrawal requires. The design choice: the chain is not
// over each record's raw fields but over nested digests (personal fields,
// then facts, then the link), so an erased record can be replaced in place
// by a tombstone that keeps its hash and its action:
//
//   - before erasing, every purpose the subject still grants is withdrawn
//     (Source [SourceErasure]), so the ledger shows that consent ended before
//     the data went;
//   - every record of the subject becomes a tombstone: the subject, channel,
//     evidence, actor and salt are gone, sealed in a digest; denials and
//     withdrawals keep their purpose, time, policy version and source, so
//     the ledger still proves each withdrawal and when it happened; grants
//     keep only the fact that they were grants;
//   - the chain still verifies end to end, and a tombstone cannot be turned
//     from a withdrawal into a grant without breaking it;
//   - tombstones stand for whole subjects: a store's Redact refuses to
//     tombstone part of a subject's records, and verification refuses a
//     ledger where a tombstone follows a live record of its subject or a
//     live record follows a tombstone (each record names the subject's
//     record before it, and a tombstone keeps that link). So no withdrawal
//     can be hidden while the grant it ended stays;
//   - nothing left identifies the person, and nobody can test a guessed id
//     against a tombstone: the sealed digest covers a random 16-byte salt
//     ([Salt], from crypto/rand or [GateConfig].Rand) that the tombstone
//     drops. The salt is dropped rather than keyed with a secret the host
//     holds, so there is no key to leak or rotate, and the tombstone still
//     proves what it must: the chain covers its action, and for a refusal
//     its purpose and time. A person who kept their JSON receipt or access
//     export (which carry their full records, salt included) can still show
//     that a tombstone is theirs: [Record.Tombstone] of their copy equals
//     it, and nobody else can produce a record that hashes to it. What the
//     links reveal is that some tombstones were one person's records, not
//     whose.
//
// After erasure the Gate knows nothing about the subject; a later request
// with the same id is treated as a new person.
//
// # Receipts
//
// [Gate.Receipt] returns a [Receipt] for one subject: [Receipt.Text] is a
// plain-text receipt a person can read (what they agreed to, for which
// benefit, when, through which channel, what they refused, how to
// withdraw); its JSON uses the Kantara Consent Receipt v1.1 / ISO/IEC TS
// 27560 field names where they fit.
//
// # ISO/IEC TS 27560 records
//
// [Gate.ISO27560] exports a subject's consent as ISO/IEC TS 27560:2023
// consent records with W3C Data Privacy Vocabulary (DPV) terms
// ([ISORecord]): one record per purpose the person's choices decide, with
// the standard's header (schema_version, record_id, pii_principal_id),
// processing (privacy_notice, language, purpose, lawful_basis,
// pii_information, pii_controllers, storage_locations, retention_period,
// jurisdiction, recipient_third_parties, withdrawal_method) and events
// (event_time, validity_duration, entity_id, event_type, event_state:
// dpv:ConsentGiven, dpv:ConsentRefused, dpv:ConsentWithdrawn, and a derived
// dpv:ConsentExpired where a grant's lifetime ran out). The controller's
// fields come from the [Policy]: Controller, Address, Contact,
// Jurisdiction, StorageLocations, Language and, per purpose, Recipients.
// An integrity extension ties each event to its ledger record by sequence
// number and hash, and each record to the ledger's [Checkpoint], so that a
// person or an auditor can check the export against the ledger.
// [DecodeISO27560] reads the JSON back and checks it against the field
// list; its errors are [*ISOError]s that unwrap to [ErrInvalidISORecord].
//
// # Stores
//
// A Gate keeps its records in a [Store] (four methods, context first) that
// the embedding service implements over its own database. [MemoryStore] is
// the in-memory implementation; package consenttest has the conformance
// suite every Store should pass (consenttest.Run) and fixtures for tests: a
// retail policy and shoppers in typical states. A store that can answer for
// several purposes of a subject at once implements the optional
// [StandingReader], and the Gate then reads it once per decision (the
// purpose and its ancestors) and once per [Gate.DecideMany] (several
// purposes, as a recommender needs): one round trip to a database instead
// of one per purpose.
//
// # Concurrency
//
// [Gate] and [MemoryStore] are safe for concurrent use by multiple
// goroutines. Decisions run in parallel; records are appended one batch at a
// time under the Gate's lock (a Decide that carries a GPC signal not yet on
// record takes it too, to record the signal). Once [Gate.Record] returns,
// every decision that starts afterwards, on any goroutine, sees the event: a
// withdrawal is honoured at once. Several Gates may share one Store; each
// learns where the ledger ends from the Store before it appends. Policies,
// Events, Records, Decisions and Receipts are plain values; the Gate copies
// the Policy it is given. No method starts a goroutine, reads a clock (times
// are arguments) or does I/O except through the Store, the io.Reader or
// io.Writer, and the *slog.Logger it is given, which it never calls while
// holding its lock.
//
// # Errors
//
// Errors are sentinels callers branch on with [errors.Is] —
// [ErrUnknownPurpose], [ErrMalformedKey], [ErrEmptySubject], [ErrZeroTime],
// [ErrInvalidPolicy], [ErrPolicyDowngrade], [ErrInvalidEvent],
// [ErrOutOfOrder], [ErrUnknownVersion], [ErrInvalidSignals],
// [ErrInvalidDecision], [ErrNotConsentBasis], [ErrMalformedRecord],
// [ErrTampered], [ErrPartialErasure], [ErrConflict], [ErrNoRecord],
// [ErrNilStore], [ErrNilArgument], [ErrUninitialized],
// [ErrInvalidISORecord], [ErrInvalidMessage] — or typed errors that unwrap
// to them and carry details: [*KeyError], [*PolicyError], [*EventError],
// [*ChainError], [*LineError], [*ConflictError], [*ISOError],
// [*BatchError]. Errors of the Store, the
// io.Writer and the context are returned as they are.
//
// A call that returns an error changes nothing, with two exceptions, each of
// which leaves only true records behind: [Gate.Erase] may have recorded its
// withdrawals when the store then fails, and a Decide that records a GPC
// signal may have recorded some of its denials. A decision that cannot be
// made is an error, never an allow. A Gate that finds records it appended
// missing from the Store's ledger reports [ErrTampered] and appends nothing
// more.
//
// # Audit
//
// With [GateConfig].Logger set, the Gate logs audit events at
// [log/slog.LevelInfo], with the event kind as both the message and the
// "event" attribute, and never a subject id or evidence:
//
//   - "consent.change" ([AuditChange]) for every record appended (by
//     [Gate.Record], a GPC signal or an erasure): purpose, action, source,
//     channel, actor, policy_version, seq;
//   - "consent.erase" ([AuditErase]): records, withdrawn;
//   - "consent.import" ([AuditImport]): records, seq;
//   - "consent.decision" ([AuditDecision]) for every decision, only with
//     [GateConfig].LogDecisions (Decide is on every request's path): purpose,
//     allowed, reason, basis, regime, policy_version, seq.
//
// # Performance
//
// With a [MemoryStore], Decide takes one read lock out of 256, one map lookup
// and copies the decisive record; it does not allocate. Benchmarks beside a
// bare map[string]map[string]bool baseline are in bench_test.go.
package consent
