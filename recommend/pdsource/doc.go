// Package pdsource makes the grants people hand a service from their
// personal data stores (package [pds]) a signal source of the
// recommender: a verified grant's declared data (goals, sizes, avoided
// tags, budget) is served as the person's declared preferences
// ([recommend.SourceDeclared], purpose personalize.declared), for that
// purpose only and only while the grant holds.
//
// A [Store] wraps the service's own [recommend.Profiles] (or none): it
// reads feedback and history from it as they are, and declared
// preferences from it too, with the fields a valid grant covers replaced
// by the grant's data. The grant is verified on every read, at the time
// [Config].Now gives, so an expired or revoked grant gives nothing from
// the next read on.
//
// The declared source is gated by consent like the others: the
// Recommender asks its [recommend.Decider] before it reads, and the
// Decider should be the same [pds.Verifier], whose decisions that rest on
// a grant end with the grant:
//
//	v, _ := pds.NewVerifier(gate, keys, revocations, "https://shop.example", pds.Config{})
//	store, _ := pdsource.New(profiles, v, new(pdsource.MemoryTokens), pdsource.Config{})
//	r, _ := recommend.New(model, v, store, recommend.Config{})
//	// The person hands over a grant: verify, record in the ledger, keep it.
//	d, err := store.Accept(ctx, personID, token, now, sig)
//	// Then recommend as usual; the grant's goals and sizes are used while
//	// it holds and consent allows.
//	resp, err := r.Recommend(ctx, recommend.Request{Subject: personID, At: now, …})
//
// A grant's token is personal data: a Store keeps it only while the
// decision [Store.Accept] got allows, and the host deletes it
// (Tokens.SetToken with "") when it erases the person, as it erases their
// other profile data.
//
// # Concurrency
//
// A [Store] and a [MemoryTokens] are safe for simultaneous use by multiple
// goroutines. A Store calls the host's Tokens, base store and the
// Verifier without holding any lock.
//
// # Errors
//
// [New] returns [ErrInvalidConfig] for a missing Verifier or Tokens.
// [Store.Accept] returns the errors of [pds.Verifier.Accept] (a
// [*pds.GrantError] for a grant that is not good) and of Tokens.
// [Store.Preferences] never fails because of a grant that does not verify
// (it gives nothing from it); it returns the errors of the base store, of
// Tokens, and of the Verifier's Keys and Revocations, which the
// Recommender reports as the source being unavailable.
package pdsource
