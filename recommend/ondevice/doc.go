// Package ondevice ranks recommendations on the person's own device: the
// request-time part of package recommend (the sources that read the
// person's own data, the guards, the blend and the explanations), run
// where the data is, so that the service never receives it.
//
// The service ships only what belongs to nobody: the [recommend.Model]
// encoded by [recommend.Model.MarshalBinary] (the catalog, the popularity
// counts and the item-item neighbour lists, all built from aggregate,
// differentially private counts), the ranking [Settings], and, for the
// person, the [Consent] decisions its consent Gate made for the purposes
// of the recommender's sources. The device keeps the person's declared
// preferences, feedback and history ([recommend.Profile]) and ranks with
// a [Ranker]:
//
//	model, _ := recommend.UnmarshalModel(shipped)
//	r, _ := ondevice.New(model, &decisions, settings)
//	resp, err := r.Rank(ctx, profile, recommend.Request{At: now, K: 10, Context: ...})
//
// A Ranker is a [recommend.Recommender] over that model, with the shipped
// decisions as its [recommend.Decider] and the profile given to each call
// as its only [recommend.Profiles]: the same code ranks on the server and
// on the device, and the same model, decisions, settings, profile and
// request give the same response in both places.
//
// # Consent stays with the service
//
// Consent is not profile data: the service must keep the consent ledger
// (to prove what the person allowed, honour Global Privacy Control and
// policy changes, and answer for them), so the person's choices are still
// made through the service's consent Gate. The device asks the service
// for the decisions ([Consent], built by [Decide]) and ranks with them
// until they expire; a decision the service did not send, or one past its
// Expires, withholds its source ([ErrNoDecision], [ErrExpired]), so a
// device never uses data on a consent it was not told about.
//
// # Browsers
//
// cmd/tactwasm is a js/wasm program that exposes a Ranker to JavaScript
// through [Load] and [Ranker.RankJSON], which take and give JSON:
//
//	GOOS=js GOARCH=wasm go build -trimpath -ldflags=-s -o tact.wasm ./recommend/ondevice/cmd/tactwasm
//
// # Concurrency
//
// A [Ranker] is safe for simultaneous use; so is a [Consent] once built.
//
// # Errors
//
// [New] returns the errors of [recommend.New]; [Load] also returns those
// of [recommend.UnmarshalModel] and [ErrMalformed] for JSON it cannot
// read. [Ranker.Rank] returns those of [recommend.Recommender.Recommend];
// [Consent.Decide] returns [ErrNoDecision] and [ErrExpired], which the
// Recommender reports in [recommend.Withheld].Err.
package ondevice
