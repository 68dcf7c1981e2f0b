// Package recommend serves recommendations that match the level of
// intimacy to the relationship: every use of personal data is allowed by
// consent, the tier of the relationship decides which signals may be read
// at all, guards hold back near the creepy line, and every item says why it
// is there and which data it used.
//
// A [Recommender] serves a [Model] (a [Catalog] with a [Popularity] and an
// [ItemItem] model), asks a [Decider] (such as *consent.Gate) whether each
// source's purpose holds for the person, and reads their profile through
// small store interfaces ([Profiles]; [MemoryStore] in memory):
//
//	cat, _ := recommend.NewCatalog(items)
//	pop, _ := recommend.NewPopularity(cat, recommend.CountItems(log, recommend.CountOptions{}), nil)
//	ii, _ := recommend.TrainItemItem(cat, log, recommend.CountOptions{}, recommend.ItemItemConfig{})
//	model, _ := recommend.NewModel(cat, pop, ii)
//	r, _ := recommend.New(model, gate, store, recommend.Config{})
//	resp, err := r.Recommend(ctx, recommend.Request{Subject: id, At: now, K: 10, ...})
//
// # Sources, tiers and consent
//
// Five [Source]s feed a recommendation, each tied to a purpose and data
// categories of the consent taxonomy: popularity (aggregate, no personal
// data), context (the item, category or segment in view and the search
// query; personalize.context, user.behavior.session and
// user.behavior.search), declared preferences (personalize.declared),
// feedback (personalize.feedback) and history (personalize.history);
// [Source.Purpose] and [Source.Categories] list them. A source reads only
// what its purpose declares in the policy in force ([Decider].Policy;
// a declared category covers its descendants): [New] rejects a policy
// that declares a source's purpose without every category the source
// reads, and a request decided under a later policy that no longer
// declares them withholds the source ([WithheldPolicy]). A
// Decider that also implements [ManyDecider] (as *consent.Gate does) is
// asked once per request for every source's purpose, so that a consent
// store in a database costs one round trip per request. A
// [TrustPolicy] derives the [Tier] from the [Relationship] and consent
// ([DefaultTrust] documents the default); the tier decides which sources
// may be read ([Tier.Allows]); a source is read only if consent allows its
// purpose too, asked once per purpose per request. During the warm-up of a
// visit the personal sources are read only for what they leave out.
// [Weights] blend the sources per tier ([DefaultWeights]).
//
// # Guards
//
// On by default ([Config]): warm-up (in the first 2 minutes of a visit only
// context and popularity suggest items, and no promotional items; what the
// person asked to leave out or already bought stays out); sensitive items
// only from what the person declared, and sensitive items in a history, in
// view or liked never used to infer anything; a per-item frequency cap;
// "not interested" removes the item (and optionally its category); items
// already bought are not offered again unless replenishable, however old
// the purchase; declared avoid
// tags, budget and sizes are respected; a confidence floor holds back weak
// guesses of the personal and context sources, popular items filling
// their places (so a person with history never gets an empty list while
// popularity has items, as [ItemItem.Top] backfills with popularity).
// [Response].Filtered counts what each guard removed.
//
// # Explanations
//
// Each [Recommendation] carries its [Reason]s (source, data categories,
// purpose, and what it says: a [ReasonKind] with its parameters, such as
// the item bought or the category in view). Each [Response] carries the
// tier, the data categories used, the purposes relied on and what was
// [Withheld] and why.
//
// What a person reads comes from a message catalog, a *consent.Catalog,
// never from keys: [Reason.Localize] and [Withheld.Localize] write a
// sentence in the language of the request ([consent.Catalog.Match] reads
// Accept-Language). [Messages] adds the built-in texts, in English and
// German, under "recommend." keys; a host replaces any of them with
// [consent.Catalog.Set], adds languages, and names its catalog's
// categories, segments, tags and items ("recommend.category.KEY", ...;
// without a label a key is shown in words, "coffee-beans" as "coffee
// beans"). A withheld note names the consent decision's reason and data
// categories by the consent package's texts, never a purpose or category
// key. Reason.Text and Withheld.Text are the English sentences, from the
// built-in texts:
//
//	texts := consent.NewCatalog()
//	_ = recommend.Messages(texts)
//	_ = texts.Set("de", "recommend.category.coffee-beans", "Kaffeebohnen")
//	lang := texts.Match(req.Header.Get("Accept-Language"))
//	for _, why := range resp.Items[0].Reasons {
//		fmt.Println(why.Localize(texts, lang, model.Catalog()))
//	}
//
// # Models and differential privacy
//
// The item-item model is built from plain co-occurrence statistics
// ([Counts]: persons, persons per item, persons per pair). Training from
// histories is exact counting ([CountCooccurrence], with per-person
// bounding from [CountOptions]) followed by [NewItemItem]; a differentially
// private model counts the same bounded item sets ([PersonItems]) with
// noise elsewhere and hands the noisy counts over through a
// [CountsBuilder]. Popularity likewise takes plain counts ([ItemCount]),
// such as a DP top-k. A differentially private release of item and pair
// counts (dp.Cooccurrence) becomes [Counts] through [CountsFromRelease]
// (with [ReleaseOptions].Denoise, what of the pair counts stands out of
// the noise and a share of the rest), and either kind of counts trains the item-item model or EASE
// ([TrainEASE], the closed-form linear item model over the most counted
// items, whose negative weights count against an item: only items a
// history speaks for, with a positive sum, are candidates). A model
// trained on a release keeps how far its pair counts stand out of the
// noise ([ItemItem.SignalToNoise]), and a [Recommender] serving it moves
// weight from history to popularity the weaker that signal is, so that a
// release too noisy to help is served as its popularity (see [Weights]).
// [CountOptions].DampActivity makes persons with many items weigh less
// per item, which suits EASE on data where a few people rate thousands of
// items. This package never imports a DP library. Everything applied to
// one person's data happens at request time, in process, or on the
// person's device: [Model.MarshalBinary] encodes a model's non-personal
// parts (catalog, popularity, neighbour lists) and [UnmarshalModel]
// decodes them, for a device that ranks with the same code (package
// recommend/ondevice, which builds for js/wasm).
//
// # Cost of a request
//
// The work of a request is bounded whatever the size of the catalog and of
// the person's profile: a catalog category, tag or search token proposes
// at most 200 items, the most popular first, a request reads the first 32
// declared interests, and a history, like a list of liked items, seeds
// the item-item model with at most [MaxSeeds] items, its strongest events,
// which visit at most 60,000 of their neighbours and make at most 1,000
// candidates.
// Leaving out what the person bought or is not interested in still reads
// all of their history and feedback, in one pass that hashes each history
// event rather than looking it up in the catalog. The English sentences
// that explain a recommendation by an item ("Because you bought …") are
// built once per item and model, and the English withheld notes once per
// Recommender (and policy version), not per request; Localize, which a
// host calls to show them, renders its templates on each call.
//
// # Concurrency
//
// [Recommender], [Model], [Catalog], [Popularity], [ItemItem] and [Counts]
// are safe for simultaneous use, and so are [Reason.Localize] and
// [Withheld.Localize] as long as nobody calls Set on their catalog
// meanwhile ([Messages] included: set a catalog up before serving); [Recommender.SetModel] swaps the model
// atomically while requests are served. [MemoryStore] is safe for
// simultaneous use. [CountsBuilder] is not. A Recommender calls the
// [Decider], the [TrustPolicy] and the [Profiles] from the goroutine of the
// request, holding no lock. The package starts no goroutines and never
// reads the clock: the time of a request is [Request].At.
//
// # Errors
//
// Constructors, [CountsBuilder] and [MemoryStore] return [*ItemError]
// (wrapping [ErrEmptyID] or [ErrDuplicateItem]), [*CountError]
// ([ErrInvalidCount]) for NaN or infinite counts and for a pair of an item
// with itself, [*FieldError] ([ErrInvalidConfig]) for configuration out of
// range or a [Decider] with no policy, [*SourceError]
// ([ErrUndeclaredCategory]) from [New] for a policy that cannot support a
// source, [ErrNilModel] and [ErrCatalogMismatch]; [UnmarshalModel]
// returns a [*ModelError] wrapping [ErrMalformedModel]; a rejected value loses
// nothing already accepted. [Recommender.Recommend] returns a [*FieldError]
// wrapping [ErrInvalidRequest] for a request without a time or with K
// outside [1, MaxK]; unknown item ids are ignored, an empty catalog gives
// an empty response, and a failing consent check or profile store, or no
// profile store ([ErrNoProfiles]), withholds that source ([Withheld].Err)
// instead of failing the request.
//
// # Audit
//
// With [Config].Logger set, each request logs one event at
// [log/slog.LevelInfo] with message and attribute "event" =
// "recommend.serve" and the attributes [AuditTier], [AuditItems],
// [AuditCategories] (comma-separated data categories used),
// [AuditPurposes] (purposes relied on), [AuditWithheld]
// ("purpose:reason" per withheld source), [AuditWarmUp],
// [AuditSensitiveSources] (the sources that led to the sensitive items
// served) and the group [AuditFiltered] (counts per guard). The person's
// id is never logged.
package recommend
