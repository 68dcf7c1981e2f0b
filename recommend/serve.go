package recommend

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tact-go/tact/consent"
)

// Internal source slots, in the order sources are read.
const (
	srcContext = iota
	srcDeclared
	srcFeedback
	srcHistory
	srcPopularity
	nSrc
)

var sourceOfSlot = [nSrc]Source{SourceContext, SourceDeclared, SourceFeedback, SourceHistory, SourcePopularity}

// Context sub-signals recorded in cand.from[srcContext] (>= 0: the item in view).
const (
	fromCategory = -2
	fromQuery    = -3
)

// Why an item was blocked before scoring.
const (
	blockInView uint8 = iota + 1
	blockBought
	blockNotInterested
	blockCap
)

// Data categories as bits, for the response's Used set.
const (
	useSession = 1 << iota
	useSearch
	useDeclared
	useFeedback
	usePurchase
	useBrowsing
	numUse = iota
)

var useCategory = [numUse]consent.Category{
	consent.CategoryBehaviorSession,
	consent.CategoryBehaviorSearch,
	consent.CategoryPreferenceDeclared,
	consent.CategoryPreferenceFeedback,
	consent.CategoryBehaviorPurchaseHistory,
	consent.CategoryBehaviorBrowsingHistory,
}

// Candidate limits per signal, to bound the work of one request.
const (
	maxPostings     = 200 // items per tag, token or category considered
	maxInterests    = 32
	maxInterestTags = 16
	maxQueryToks    = 8
	viewWeight      = 0.5 // a view counts half a purchase
	// Neighbour visits per request across all seeds, and the least any
	// seed gets: a 50-item history uses each item's 10 nearest neighbours.
	maxNeighbourVisits = 512
	minPerSeed         = 5
)

type cand struct {
	item    int32
	blocked uint8         // blocked after it became a candidate: why
	q       uint16        // keys of the current match that reach this item
	qgen    uint16        // the match q counts for (scratch.mgen)
	x       [nSrc]float32 // per-source score, in [0, 1] once finished
	best    [nSrc]float32 // strongest single contribution, for the reason
	from    [nSrc]int32   // what led here, for the reason
}

type seed struct {
	item int32
	w    float32
	kind EventKind
}

// slot is the per-catalog-item state of one request, generation-stamped
// so that it never needs clearing, and 8 bytes so that the random accesses
// of a request stay in cache. pos >= 0 is the item's candidate index;
// pos < 0 marks an item blocked before it became a candidate, -why.
type slot struct {
	stamp uint32
	pos   int32
}

type scratch struct {
	gen    uint32
	slots  []slot
	cands  []cand
	sink   cand // stands in for blocked items, which are never candidates
	seeds  []seed
	liked  []seed
	tmp    []int32 // the items the current match reached
	mgen   uint16  // the current match, counted from 1 in each request
	top    []int32
	scores []float64
	// blockedSeen counts blocked items that sources proposed, per reason.
	blockedSeen [blockCap + 1]int
}

func (r *Recommender) scratch(n int) *scratch {
	s, _ := r.pool.Get().(*scratch)
	if s == nil || len(s.slots) < n {
		s = &scratch{slots: make([]slot, n)}
	}
	s.gen++
	if s.gen == 0 { // wrapped: forget every stamp
		clear(s.slots)
		s.gen = 1
	}
	s.cands, s.seeds, s.liked, s.tmp, s.top, s.scores = s.cands[:0], s.seeds[:0], s.liked[:0], s.tmp[:0], s.top[:0], s.scores[:0]
	s.mgen = 0
	s.blockedSeen = [blockCap + 1]int{}
	return s
}

// touch returns the candidate for item i, creating it; for a blocked item
// it returns a scratch value that is discarded.
func (s *scratch) touch(i int32) *cand {
	sl := &s.slots[i]
	if sl.stamp == s.gen {
		if sl.pos >= 0 {
			return &s.cands[sl.pos]
		}
		if sl.pos > -16 { // first proposal of a blocked item: count it once
			s.blockedSeen[-sl.pos]++
			sl.pos -= 16
		}
		s.sink = cand{}
		return &s.sink
	}
	sl.stamp = s.gen
	sl.pos = int32(len(s.cands))
	s.cands = append(s.cands, cand{item: i, from: [nSrc]int32{-1, -1, -1, -1, -1}})
	return &s.cands[len(s.cands)-1]
}

func (s *scratch) cand(i int32) *cand { return &s.cands[s.slots[i].pos] }

// isCand reports whether item i is a candidate (blocked or not).
func (s *scratch) isCand(i int32) bool {
	sl := &s.slots[i]
	return sl.stamp == s.gen && sl.pos >= 0
}

// match makes a candidate of every unblocked item in the postings of keys
// (at most maxPostings per key), counts in its q how many distinct keys
// reach it, lists the items reached in s.tmp and returns the number of
// distinct keys.
func (s *scratch) match(index map[string][]int32, keys []string) int {
	s.mgen++
	s.tmp = s.tmp[:0]
	n := 0
	for k, key := range keys {
		if slices.Contains(keys[:k], key) {
			continue
		}
		n++
		l := index[key]
		for _, i := range l[:min(len(l), maxPostings)] {
			cd := s.touch(i)
			if cd == &s.sink {
				continue
			}
			if cd.qgen != s.mgen {
				cd.qgen, cd.q = s.mgen, 0
				s.tmp = append(s.tmp, i)
			}
			cd.q++
		}
	}
	return n
}

func (s *scratch) block(i int32, why uint8) {
	sl := &s.slots[i]
	switch {
	case sl.stamp != s.gen:
		sl.stamp, sl.pos = s.gen, -int32(why)
	case sl.pos >= 0:
		if c := &s.cands[sl.pos]; c.blocked == 0 {
			c.blocked = why
		}
	}
}

func (s *scratch) blocked(i int32) bool {
	sl := &s.slots[i]
	return sl.stamp == s.gen && (sl.pos < 0 || s.cands[sl.pos].blocked != 0)
}

type decision struct {
	p   consent.Purpose
	d   consent.Decision
	err error
}

// request is the state of one Recommend call.
type request struct {
	r      *Recommender
	ctx    context.Context
	req    *Request
	m      *Model
	s      *scratch
	memo   [6]decision
	nmemo  int
	dbuf   [SourceHistory + 1]consent.Decision // for decideAll
	extra  []decision
	resp   *Response
	used   uint32
	purp   [nSrc]bool
	active [nSrc]bool
	prefs  Preferences
	// constrained: the declared avoided tags, budget or sizes apply.
	constrained bool
	warm        bool               // the visit is in its warm-up
	cats        []string           // categories the person is not interested in
	data        []consent.Category // backs the Data of the response's reasons
	popl        *popList
	seg         string
}

func (q *request) decide(p consent.Purpose) (consent.Decision, error) {
	for i := 0; i < q.nmemo; i++ {
		if q.memo[i].p == p {
			return q.memo[i].d, q.memo[i].err
		}
	}
	for _, x := range q.extra {
		if x.p == p {
			return x.d, x.err
		}
	}
	d, err := q.r.decider.Decide(q.ctx, q.req.Subject, p, q.req.At, q.req.Signals)
	x := decision{p, d, err}
	if q.nmemo < len(q.memo) {
		q.memo[q.nmemo] = x
		q.nmemo++
	} else {
		q.extra = append(q.extra, x)
	}
	return d, err
}

// decideAll asks a ManyDecider, in one call, for the purposes of every
// source the newest policy declares, and memoizes the decisions.
func (q *request) decideAll() {
	if q.r.many == nil {
		return
	}
	pc := q.r.policy.Load()
	var ps [SourceHistory + 1]consent.Purpose
	n := 0
	for s := SourceContext; s <= SourceHistory; s++ {
		if !pc.undeclared[s] {
			ps[n] = s.Purpose()
			n++
		}
	}
	if n == 0 {
		return
	}
	ds, err := q.r.many.DecideMany(q.ctx, q.req.Subject, ps[:n], q.req.At, q.req.Signals, q.dbuf[:0])
	if errors.Is(err, consent.ErrUnknownPurpose) {
		return // the policy changed under us: ask per purpose
	}
	for i, p := range ps[:n] {
		x := decision{p: p, err: err}
		if err == nil {
			x.d = ds[i]
		}
		q.memo[q.nmemo] = x
		q.nmemo++
	}
}

func (q *request) allowed(p consent.Purpose) bool {
	if q.req.Subject == "" {
		return false
	}
	d, err := q.decide(p)
	return err == nil && d.Allowed
}

func (q *request) withhold(s Source, why WithheldReason, d consent.Decision, err error, text string) {
	q.resp.Withheld = append(q.resp.Withheld, Withheld{
		Source: s, Purpose: s.Purpose(), Reason: why, Decision: d, Err: err,
		Text: s.noun() + " " + text,
	})
}

// undeclared withholds source s, which the policy of decision d does not
// let read category c (nor, when purpose is set, the purpose at all).
func (q *request) undeclared(s Source, d consent.Decision, c consent.Category, purpose bool) {
	text := "not used: our privacy policy does not list " + string(c) + " for " + string(s.Purpose())
	if purpose {
		text = "not used: our privacy policy does not include " + string(s.Purpose())
	}
	q.withhold(s, WithheldPolicy, d, nil, text)
	q.resp.Withheld[len(q.resp.Withheld)-1].Category = c
}

// excludeNote ends the explanation of a source read only to leave items
// out.
const excludeNote = " (except to leave items out)"

// access is how far one request may read a source.
type access uint8

const (
	noAccess access = iota
	// excludeOnly: the source only leaves items out ("not interested",
	// avoided tags, budget, sizes, already bought); it suggests nothing.
	excludeOnly
	fullAccess
)

// gate decides how far source s may be read, recording why not fully.
// Consent is asked first (once per purpose per request, memoized), so that
// a source withheld for several reasons is explained by the most
// fundamental one: the policy the decision was made under must declare
// every category the source reads for its purpose, whatever the person
// chose. Below its tier a source is not read, except feedback, whose "not
// interested" is honoured at every tier; during the warm-up a source is
// read only for what it leaves out.
func (q *request) gate(s Source, tierOK, warm bool) access {
	if q.req.Subject == "" {
		q.withhold(s, WithheldNoSubject, consent.Decision{}, nil, "not used: no person or session to ask consent for")
		return noAccess
	}
	d, err := q.decide(s.Purpose())
	if err != nil {
		q.withhold(s, WithheldUnavailable, d, err, "not used: consent could not be checked")
		return noAccess
	}
	if pc := q.r.policyFor(d.PolicyVersion); pc.missing[s] != "" {
		q.undeclared(s, d, pc.missing[s], pc.undeclared[s])
		return noAccess
	}
	switch {
	case !d.Allowed:
		q.withhold(s, WithheldConsent, d, nil, "not used: "+d.Explain())
		return noAccess
	case s != SourceContext && q.r.profiles == nil:
		q.withhold(s, WithheldUnavailable, d, ErrNoProfiles, "not used: not available")
		return noAccess
	case !tierOK:
		text := "used only once you're a recognized customer"
		if s == SourceHistory {
			text = "used only once you're an established customer"
		}
		if s != SourceFeedback {
			q.withhold(s, WithheldTier, consent.Decision{}, nil, "not used: "+text)
			return noAccess
		}
		q.withhold(s, WithheldTier, consent.Decision{}, nil, "not used: "+text+excludeNote)
		return excludeOnly
	case warm:
		q.withhold(s, WithheldWarmUp, consent.Decision{}, nil, "not used: warm-up: first "+minutes(q.r.warmUp)+" of your visit"+excludeNote)
		return excludeOnly
	}
	return fullAccess
}

func minutes(d time.Duration) string {
	if d%time.Minute == 0 {
		n := int(d / time.Minute)
		if n == 1 {
			return "minute"
		}
		return strconv.Itoa(n) + " minutes"
	}
	return d.String()
}

// Recommend returns up to req.K recommendations for req, with reasons, the
// data categories used and the sources withheld. A request without At or
// with K outside [1, MaxK] is a [*FieldError] wrapping [ErrInvalidRequest].
// Unknown item ids in the request or the profile are ignored. A failing
// consent check or profile store does not fail the request: the source is
// withheld with the error in [Withheld].Err, so the person gets less
// personal results rather than none.
func (r *Recommender) Recommend(ctx context.Context, req Request) (Response, error) {
	var resp Response
	switch {
	case req.At.IsZero():
		return resp, requestError("At", "required")
	case req.K < 1 || req.K > MaxK:
		return resp, requestError("K", "must be in [1, "+strconv.Itoa(MaxK)+"]")
	}
	m := r.model.Load()
	s := r.scratch(m.cat.Len())
	defer r.pool.Put(s)
	q := &request{r: r, ctx: ctx, req: &req, m: m, s: s, resp: &resp}

	tier := Anonymous
	if req.Subject != "" {
		q.decideAll()
		tier = r.trust.Tier(req.Relationship, req.At, q.allowed)
		if tier >= numTiers {
			tier = Anonymous
		}
	}
	resp.Tier = tier
	warm := r.warmUp > 0 && (req.VisitStart.IsZero() || req.At.Sub(req.VisitStart) < r.warmUp)
	resp.WarmUp, q.warm = warm, warm

	// Frequency cap first: items shown too often are never candidates, so
	// they do not crowd out the popular items a request considers.
	if r.cap > 0 {
		for id, n := range req.Shown {
			if n < r.cap {
				continue
			}
			if i, ok := m.cat.lookup(id); ok {
				s.block(i, blockCap)
			}
		}
	}
	if q.gate(SourceContext, true, false) == fullAccess {
		q.readContext()
	}
	declared := q.gate(SourceDeclared, tier.Allows(SourceDeclared), warm)
	if a := q.gate(SourceFeedback, tier.Allows(SourceFeedback), warm); a != noAccess {
		q.readFeedback(a == fullAccess)
	}
	if declared != noAccess {
		q.readDeclared(declared == fullAccess)
	}
	if a := q.gate(SourceHistory, tier.Allows(SourceHistory), warm); a != noAccess {
		q.readHistory(a == fullAccess)
	}
	q.seedNeighbours(srcFeedback, q.s.liked)
	q.readPopularity()
	q.finish(tier)
	return resp, nil
}

func (q *request) use(bits uint32, slot int) {
	q.used |= bits
	q.purp[slot] = true
}

func (q *request) readContext() {
	m, s, c := q.m, q.s, q.req.Context
	if c.Segment != "" && m.pop != nil {
		if l, ok := m.pop.segments[c.Segment]; ok {
			q.popl, q.seg = l, c.Segment
			q.use(useSession, srcContext)
		}
	}
	if i, ok := m.cat.lookup(c.Item); ok {
		s.block(i, blockInView)
		if m.meta[i].flags&flagSensitive == 0 {
			q.use(useSession, srcContext)
			if m.ii != nil {
				for k := m.ii.start[i]; k < m.ii.start[i+1]; k++ {
					cd := s.touch(m.ii.nbr[k])
					cd.x[srcContext] = float32(m.ii.conf(float64(m.ii.sim[k])))
					cd.best[srcContext] = cd.x[srcContext]
					cd.from[srcContext] = i
					q.active[srcContext] = true
				}
			}
			// Items of the same catalog category are related to the item in
			// view without any cross-person statistic: they fill in when the
			// co-occurrence neighbours are few (a new item, or a model
			// trained on too few people for a DP release to clear its
			// pairs), the popular ones first; a stronger neighbour keeps
			// its own score.
			l := m.byCategory[m.cat.items[i].Category]
			for _, j := range l[:min(len(l), maxPostings)] {
				v := float32(0.7 + 0.3*m.pop01(j))
				if cd := s.touch(j); cd != &s.sink && v > cd.x[srcContext] {
					cd.x[srcContext], cd.best[srcContext], cd.from[srcContext] = v, v, i
					q.active[srcContext] = true
				}
			}
		}
	}
	if l := m.byCategory[c.Category]; c.Category != "" && len(l) > 0 {
		q.use(useSession, srcContext)
		for _, i := range l[:min(len(l), maxPostings)] {
			v := float32(0.5 + 0.5*m.pop01(i))
			if cd := s.touch(i); v > cd.x[srcContext] {
				cd.x[srcContext], cd.best[srcContext], cd.from[srcContext] = v, v, fromCategory
			}
			q.active[srcContext] = true
		}
	}
	if c.Query != "" {
		toks := appendTokens(make([]string, 0, maxQueryToks), c.Query)
		slices.Sort(toks)
		toks = slices.Compact(toks)
		toks = toks[:min(len(toks), maxQueryToks)]
		if len(toks) > 0 {
			q.use(useSearch, srcContext)
		}
		s.match(m.byToken, toks)
		for _, i := range s.tmp {
			cd := s.cand(i)
			v := float32(float64(cd.q) / float64(len(toks)) * (0.5 + 0.5*m.pop01(i)))
			if v > cd.x[srcContext] {
				cd.x[srcContext], cd.best[srcContext], cd.from[srcContext] = v, v, fromQuery
			}
			q.active[srcContext] = true
		}
	}
}

func (q *request) readFeedback(positives bool) {
	fb, err := q.r.profiles.Feedback(q.ctx, q.req.Subject)
	if err != nil {
		q.withhold(SourceFeedback, WithheldUnavailable, consent.Decision{}, err, "not used: could not be read")
		return
	}
	m, s := q.m, q.s
	for _, f := range fb {
		i, ok := m.cat.lookup(f.Item)
		if !ok {
			continue
		}
		switch f.Kind {
		case NotInterested:
			q.use(useFeedback, srcFeedback)
			s.block(i, blockNotInterested)
			if c := m.cat.items[i].Category; q.r.suppress && c != "" && !slices.Contains(q.cats, c) {
				q.cats = append(q.cats, c)
			}
		case Liked:
			if positives && m.meta[i].flags&flagSensitive == 0 {
				q.use(useFeedback, srcFeedback)
				s.liked = append(s.liked, seed{item: i, w: 1})
			}
		}
	}
	// An item liked twice counts once.
	slices.SortFunc(s.liked, func(a, b seed) int { return cmp.Compare(a.item, b.item) })
	s.liked = slices.CompactFunc(s.liked, func(a, b seed) bool { return a.item == b.item })
}

// readDeclared reads the declared preferences: their avoided tags, budget
// and sizes always, their interests when suggest is set.
func (q *request) readDeclared(suggest bool) {
	p, err := q.r.profiles.Preferences(q.ctx, q.req.Subject)
	if err != nil {
		q.withhold(SourceDeclared, WithheldUnavailable, consent.Decision{}, err, "not used: could not be read")
		return
	}
	q.constrained = p.MaxPrice > 0 || len(p.Avoid) > 0 || len(p.Sizes) > 0
	if !suggest {
		p.Interests = nil
	}
	if !q.constrained && len(p.Interests) == 0 {
		return
	}
	q.prefs = p
	q.use(useDeclared, srcDeclared)
	m, s := q.m, q.s
	for k, in := range p.Interests[:min(len(p.Interests), maxInterests)] {
		tags := in.Tags
		if len(tags) == 0 {
			continue
		}
		n := s.match(m.byTag, tags[:min(len(tags), maxInterestTags)])
		for _, i := range s.tmp {
			cd := s.cand(i)
			v := float32(float64(cd.q) / float64(n) * (0.6 + 0.4*m.pop01(i)))
			if v > cd.x[srcDeclared] {
				cd.x[srcDeclared], cd.best[srcDeclared], cd.from[srcDeclared] = v, v, int32(k)
			}
			q.active[srcDeclared] = true
		}
	}
}

// readHistory reads the purchase and view history: purchases always, to
// leave out what was bought, and with suggest set every event as a seed of
// the item-item model.
func (q *request) readHistory(suggest bool) {
	ev, err := q.r.profiles.History(q.ctx, q.req.Subject)
	if err != nil {
		q.withhold(SourceHistory, WithheldUnavailable, consent.Decision{}, err, "not used: could not be read")
		return
	}
	m, s := q.m, q.s
	hl := float64(q.r.halfLife)
	for _, e := range ev {
		i, ok := m.cat.lookup(e.Item)
		if !ok {
			continue
		}
		fl := m.meta[i].flags
		if e.Kind == Purchase {
			q.use(usePurchase, srcHistory)
			if fl&flagReplenishable == 0 {
				s.block(i, blockBought)
			}
		} else if suggest {
			q.use(useBrowsing, srcHistory)
		}
		if !suggest || fl&flagSensitive != 0 { // never infer from a sensitive item
			continue
		}
		w := 1.0
		if e.Kind == View {
			w = viewWeight
		}
		if hl > 0 {
			if age := q.req.At.Sub(e.At); age > 0 {
				w *= math.Exp2(-float64(age) / hl)
			}
		}
		s.seeds = append(s.seeds, seed{item: i, w: float32(w), kind: e.Kind})
	}
	// One seed per item: the strongest event.
	slices.SortFunc(s.seeds, func(a, b seed) int {
		if c := cmp.Compare(a.item, b.item); c != 0 {
			return c
		}
		return cmp.Compare(b.w, a.w)
	})
	s.seeds = slices.CompactFunc(s.seeds, func(a, b seed) bool { return a.item == b.item })
	q.seedNeighbours(srcHistory, s.seeds)
}

// seedNeighbours adds the item-item neighbours of seeds to slot.
func (q *request) seedNeighbours(slot int, seeds []seed) {
	ii := q.m.ii
	if ii == nil || len(seeds) == 0 {
		return
	}
	s := q.s
	// Bound the work of long histories: each seed contributes its
	// strongest neighbours, at most maxNeighbourVisits in all.
	per := int32(max(minPerSeed, maxNeighbourVisits/len(seeds)))
	for k, sd := range seeds {
		lo, hi := ii.start[sd.item], ii.start[sd.item+1]
		for j := lo; j < min(hi, lo+per); j++ {
			cd := s.touch(ii.nbr[j])
			v := sd.w * ii.sim[j]
			cd.x[slot] += v
			if v > cd.best[slot] {
				cd.best[slot], cd.from[slot] = v, int32(k)
			}
			q.active[slot] = true
		}
	}
	for i := range s.cands {
		cd := &s.cands[i]
		if cd.x[slot] > 0 {
			cd.x[slot] = float32(ii.conf(float64(cd.x[slot])))
		}
	}
}

// conf maps a summed similarity to a confidence in [0, 1): one half at
// the model's typical nearest-neighbour similarity, approaching 1 as
// evidence accumulates.
func (m *ItemItem) conf(sum float64) float64 { return sum / (sum + m.scale) }

func (q *request) readPopularity() {
	m, s := q.m, q.s
	if m.pop == nil {
		return
	}
	if q.popl == nil {
		q.popl = &m.pop.global
	}
	l := q.popl
	if l.max <= 0 {
		q.popl, q.seg = nil, ""
		return
	}
	// The popular items considered: want of them that no guard removes
	// whatever their score, so that removed ones do not crowd out the rest.
	f := &q.resp.Filtered
	want := 4*q.req.K + 40
	for _, i := range l.order {
		if s.blocked(i) {
			continue
		}
		if !s.isCand(i) {
			if m.meta[i].flags&flagSensitive != 0 { // only from declared interests, so not from here
				f.Sensitive++
				continue
			}
			if n := q.leftOut(i); n != nil {
				(*n)++
				continue
			}
		}
		s.touch(i)
		q.active[srcPopularity] = true
		if want--; want == 0 {
			break
		}
	}
}

// leftOut returns the [Filtered] counter of the guard that removes item i
// whatever its score (a promotion during the warm-up, a category the person
// is not interested in, the declared avoid tags, budget and sizes), nil
// when none does.
func (q *request) leftOut(i int32) *int {
	f := &q.resp.Filtered
	switch it := &q.m.cat.items[i]; {
	case q.warm && q.m.meta[i].flags&flagPromotional != 0:
		return &f.WarmUp
	case len(q.cats) > 0 && slices.Contains(q.cats, it.Category):
		return &f.NotInterested
	case q.constrained && !q.allowedByDeclared(it):
		return &f.Declared
	}
	return nil
}

// allowedByDeclared checks avoid tags, budget and sizes.
func (q *request) allowedByDeclared(it *Item) bool {
	p := &q.prefs
	if p.MaxPrice > 0 && it.Price > p.MaxPrice {
		return false
	}
	for _, t := range it.Tags {
		if slices.Contains(p.Avoid, t) {
			return false
		}
	}
	if len(p.Sizes) == 0 || len(it.Sizes) == 0 {
		return true
	}
	for _, sz := range it.Sizes {
		dim := sizeDim(sz)
		declaredDim, match := false, false
		for _, d := range p.Sizes {
			if sizeDim(d) == dim {
				declaredDim = true
				if slices.Contains(it.Sizes, d) {
					match = true
					break
				}
			}
		}
		if declaredDim && !match {
			return false
		}
	}
	return true
}

func sizeDim(s string) string {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		return s[:i]
	}
	return ""
}

func (q *request) finish(tier Tier) {
	r, m, s, resp := q.r, q.m, q.s, q.resp
	w := r.weights[tier]
	var ws [nSrc]float64
	var wsum float64
	for slot := 0; slot < nSrc; slot++ {
		if q.active[slot] && tier.Allows(sourceOfSlot[slot]) {
			ws[slot] = w.of(slot)
			wsum += ws[slot]
		}
	}
	if wsum > 0 {
		for slot := range ws {
			ws[slot] /= wsum
		}
	}
	f := &resp.Filtered
	k := q.req.K
	top := s.top[:0]
	score := func(c int32) float64 {
		cd := &s.cands[c]
		var v float64
		for slot := 0; slot < nSrc; slot++ {
			v += ws[slot] * float64(cd.x[slot])
		}
		return v
	}
	scores := s.scores[:0]
	f.AlreadyBought += s.blockedSeen[blockBought]
	f.NotInterested += s.blockedSeen[blockNotInterested]
	f.FrequencyCap += s.blockedSeen[blockCap]
	for c := range s.cands {
		cd := &s.cands[c]
		mt := m.meta[cd.item]
		fl := mt.flags
		// Popularity scores every candidate (it breaks ties between
		// personal signals); the segment's counts when one is in use.
		if q.popl != nil {
			if q.seg == "" {
				cd.x[srcPopularity] = mt.pop
			} else {
				cd.x[srcPopularity] = float32(float64(q.popl.count[cd.item]) / q.popl.max)
			}
		}
		switch cd.blocked {
		case 0:
		case blockBought:
			f.AlreadyBought++
			continue
		case blockNotInterested:
			f.NotInterested++
			continue
		default: // in view
			continue
		}
		if fl&flagSensitive != 0 {
			if cd.x[srcDeclared] == 0 || ws[srcDeclared] == 0 {
				f.Sensitive++
				continue
			}
			// Only what the person declared may lead to a sensitive item.
			cd.x = [nSrc]float32{srcDeclared: cd.x[srcDeclared]}
		}
		if n := q.leftOut(cd.item); n != nil {
			(*n)++
			continue
		}
		v := score(int32(c))
		if !(v > 0) || (r.floor > 0 && v < r.floor) {
			if v > 0 {
				f.ConfidenceFloor++
			}
			continue
		}
		// Insert into the top k (score desc, catalog order on ties).
		n := len(top)
		if n == k && !better(v, cd.item, scores[n-1], s.cands[top[n-1]].item) {
			continue
		}
		if n < k {
			top = append(top, 0)
			scores = append(scores, 0)
		} else {
			n--
		}
		for n > 0 && better(v, cd.item, scores[n-1], s.cands[top[n-1]].item) {
			top[n], scores[n] = top[n-1], scores[n-1]
			n--
		}
		top[n], scores[n] = int32(c), v
	}
	s.top, s.scores = top, scores
	if len(top) > 0 {
		// The reasons of all items, and their data categories, share one
		// array each, sized exactly; each item's slices are capped so that
		// appending to one cannot overwrite another.
		total := 0
		for n, c := range top {
			_, k := reasonSlots(&s.cands[c], scores[n], ws)
			total += k
		}
		reasons := make([]Reason, 0, total)
		q.data = make([]consent.Category, 0, total)
		resp.Items = make([]Recommendation, len(top))
		for n, c := range top {
			cd := &s.cands[c]
			slots, k := reasonSlots(cd, scores[n], ws)
			first := len(reasons)
			for _, slot := range slots[:k] {
				reasons = append(reasons, q.reason(cd, slot, ws[slot]*float64(cd.x[slot])/scores[n]))
			}
			resp.Items[n] = Recommendation{Item: m.cat.items[cd.item], Score: scores[n], Reasons: reasons[first:len(reasons):len(reasons)]}
		}
	}
	for b := 0; b < numUse; b++ {
		if q.used&(1<<b) != 0 {
			resp.Used = append(resp.Used, useCategory[b])
		}
	}
	slices.Sort(resp.Used)
	for slot := 0; slot < nSrc; slot++ {
		if q.purp[slot] {
			resp.Purposes = append(resp.Purposes, sourceOfSlot[slot].Purpose())
		}
	}
	slices.Sort(resp.Purposes)
	if r.log != nil {
		q.audit()
	}
}

func better(v float64, i int32, w float64, j int32) bool {
	return v > w || (v == w && i < j)
}

// reasonSlots returns the source slots that explain a candidate with the
// given score, strongest first: every slot that contributes, up to the
// first after the strongest that gives less than a fifth of the score.
func reasonSlots(cd *cand, score float64, ws [nSrc]float64) (slots [nSrc]int, n int) {
	var contrib [nSrc]float64
	for slot := 0; slot < nSrc; slot++ {
		if c := ws[slot] * float64(cd.x[slot]); c > 0 {
			slots[n], contrib[slot] = slot, c
			n++
		}
	}
	slices.SortStableFunc(slots[:n], func(a, b int) int { return cmp.Compare(contrib[b], contrib[a]) })
	for k := 1; k < n; k++ {
		if contrib[slots[k]] < 0.2*score {
			return slots, k
		}
	}
	return slots, n
}

// datum returns a one-element slice of c in the response's shared array of
// data categories, capped so that appending to it copies.
func (q *request) datum(c consent.Category) []consent.Category {
	q.data = append(q.data, c)
	n := len(q.data)
	return q.data[n-1 : n : n]
}

// reason explains slot's share of a candidate's score.
func (q *request) reason(cd *cand, slot int, share float64) Reason {
	m := q.m
	src := sourceOfSlot[slot]
	rs := Reason{Source: src, Purpose: src.Purpose(), Weight: share}
	from := cd.from[slot]
	switch slot {
	case srcContext:
		switch {
		case from >= 0:
			rs.Text = "Because you're looking at " + m.cat.items[from].Title
			rs.Related = m.cat.items[from].ID
			rs.Data = q.datum(consent.CategoryBehaviorSession)
		case from == fromCategory:
			rs.Text = "From " + q.req.Context.Category + ", which you're browsing"
			rs.Data = q.datum(consent.CategoryBehaviorSession)
		default:
			rs.Text = "Matches your search for " + strconv.Quote(q.req.Context.Query)
			rs.Data = q.datum(consent.CategoryBehaviorSearch)
		}
	case srcDeclared:
		in := q.prefs.Interests[from]
		text := in.Text
		if text == "" {
			text = "you're interested in " + strings.Join(in.Tags, ", ")
		}
		rs.Text = "Because you told us " + text
		rs.Data = q.datum(consent.CategoryPreferenceDeclared)
	case srcFeedback:
		it := m.cat.items[q.s.liked[from].item]
		rs.Text, rs.Related = "Because you liked "+it.Title, it.ID
		rs.Data = q.datum(consent.CategoryPreferenceFeedback)
	case srcHistory:
		sd := q.s.seeds[from]
		it := m.cat.items[sd.item]
		rs.Related = it.ID
		if sd.kind == View {
			rs.Text = "Because you viewed " + it.Title
			rs.Data = q.datum(consent.CategoryBehaviorBrowsingHistory)
		} else {
			rs.Text = "Because you bought " + it.Title
			rs.Data = q.datum(consent.CategoryBehaviorPurchaseHistory)
		}
	case srcPopularity:
		rs.Text = "Popular with shoppers"
		if q.seg != "" {
			rs.Text = "Popular in " + q.seg
			rs.Purpose = consent.PurposePersonalizeContext
			rs.Data = q.datum(consent.CategoryBehaviorSession)
		}
	}
	return rs
}

// Audit attribute keys of the "recommend.serve" event.
const (
	AuditTier       = "tier"
	AuditItems      = "items"
	AuditCategories = "categories"
	AuditPurposes   = "purposes"
	AuditWithheld   = "withheld"
	AuditWarmUp     = "warm_up"
	AuditFiltered   = "filtered"
)

func (q *request) audit() {
	if !q.r.log.Enabled(q.ctx, slog.LevelInfo) {
		return
	}
	resp := q.resp
	cats := make([]string, len(resp.Used))
	for i, c := range resp.Used {
		cats[i] = string(c)
	}
	purps := make([]string, len(resp.Purposes))
	for i, p := range resp.Purposes {
		purps[i] = string(p)
	}
	wh := make([]string, len(resp.Withheld))
	for i, w := range resp.Withheld {
		wh[i] = string(w.Purpose) + ":" + w.Reason.String()
	}
	f := resp.Filtered
	q.r.log.LogAttrs(q.ctx, slog.LevelInfo, "recommend.serve",
		slog.String("event", "recommend.serve"),
		slog.String(AuditTier, resp.Tier.String()),
		slog.Int(AuditItems, len(resp.Items)),
		slog.String(AuditCategories, strings.Join(cats, ",")),
		slog.String(AuditPurposes, strings.Join(purps, ",")),
		slog.String(AuditWithheld, strings.Join(wh, ",")),
		slog.Bool(AuditWarmUp, resp.WarmUp),
		slog.Group(AuditFiltered,
			slog.Int("warm_up", f.WarmUp), slog.Int("sensitive", f.Sensitive),
			slog.Int("frequency_cap", f.FrequencyCap), slog.Int("not_interested", f.NotInterested),
			slog.Int("already_bought", f.AlreadyBought), slog.Int("declared", f.Declared),
			slog.Int("confidence_floor", f.ConfidenceFloor)),
	)
}
