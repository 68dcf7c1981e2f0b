package recommend

import (
	"math"
	"slices"

	"github.com/tact-go/tact/consent"
)

// Candidate limits per signal, to bound the work of one request.
const (
	maxPostings     = 200 // items per tag, token or category considered
	maxInterests    = 32
	maxInterestTags = 16
	maxQueryToks    = 8
	viewWeight      = 0.5 // a view counts half a purchase
	// Neighbour visits per source shared among the seeds, the least any
	// seed gets, and the most items the visits may make candidates (see
	// MaxSeeds and seedNeighbours).
	maxNeighbourVisits  = 60000
	minPerSeed          = 5
	maxReached          = 4000
	maxSourceCandidates = 1000
)

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
					if !(m.ii.sim[k] > 0) { // speaks against it
						continue
					}
					cd := s.touch(m.ii.nbr[k])
					cd.x[srcContext] = float32(m.ii.conf(float64(m.ii.sim[k])))
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
					cd.x[srcContext], cd.from[srcContext] = v, i
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
				cd.x[srcContext], cd.from[srcContext] = v, fromCategory
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
				cd.x[srcContext], cd.from[srcContext] = v, fromQuery
			}
			q.active[srcContext] = true
		}
	}
}

func (q *request) readFeedback(positives bool) {
	fb, err := q.r.profiles.Feedback(q.ctx, q.req.Subject)
	if err != nil {
		q.withhold(SourceFeedback, WithheldUnavailable, consent.Decision{}, err)
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
				s.keys = append(s.keys, seedKey{w: 1, ref: i, sec: f.At.Unix(), nsec: int32(f.At.Nanosecond())})
			}
		}
	}
	// An item liked twice counts once; the most recently liked first.
	s.liked = pickSeeds(s.liked, &s.seen, s.keys, func(i int32) (int32, EventKind, bool) { return i, 0, true })
	s.keys = s.keys[:0]
}

// readDeclared reads the declared preferences: their avoided tags, budget
// and sizes always, their interests when suggest is set.
func (q *request) readDeclared(suggest bool) {
	p, err := q.r.profiles.Preferences(q.ctx, q.req.Subject)
	if err != nil {
		q.withhold(SourceDeclared, WithheldUnavailable, consent.Decision{}, err)
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
				cd.x[srcDeclared], cd.from[srcDeclared] = v, int32(k)
			}
			q.active[srcDeclared] = true
		}
	}
}

// readHistory reads the purchase and view history: every purchase, to
// leave out what was bought however old, and with suggest set the
// strongest events as seeds of the item-item model (see [MaxSeeds]).
func (q *request) readHistory(suggest bool) {
	ev, err := q.r.profiles.History(q.ctx, q.req.Subject)
	if err != nil {
		q.withhold(SourceHistory, WithheldUnavailable, consent.Decision{}, err)
		return
	}
	m, s := q.m, q.s
	s.bought.reset(m, ev)
	hl := float64(q.r.halfLife)
	keys := s.keys[:0]
	for k := range ev {
		e := &ev[k]
		if e.Kind == Purchase {
			s.bought.add(k)
		}
		if !suggest {
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
		keys = append(keys, seedKey{w: float32(w), ref: int32(k), sec: e.At.Unix(), nsec: int32(e.At.Nanosecond())})
	}
	s.keys = keys
	if m.anyKnown(ev, true) {
		q.use(usePurchase, srcHistory)
	}
	if suggest && m.anyKnown(ev, false) {
		q.use(useBrowsing, srcHistory)
	}
	// Candidates proposed before: the items proposed from now on are
	// checked as they come (scratch.fresh).
	for c := range s.cands {
		if cd := &s.cands[c]; cd.blocked == 0 && s.bought.has(cd.item) {
			cd.blocked = blockBought
		}
	}
	s.seeds = pickSeeds(s.seeds, &s.seen, keys, func(k int32) (int32, EventKind, bool) {
		e := &ev[k]
		i, ok := m.cat.lookup(e.Item)
		// Never infer from a sensitive item.
		return i, e.Kind, ok && m.meta[i].flags&flagSensitive == 0
	})
	q.seedNeighbours(srcHistory, s.seeds)
}

// anyKnown reports whether an event of ev that is a purchase (or, with
// purchase unset, that is not) names a catalog item.
func (m *Model) anyKnown(ev []Event, purchase bool) bool {
	for k := range ev {
		if ev[k].Kind == Purchase == purchase {
			if _, ok := m.cat.lookup(ev[k].Item); ok {
				return true
			}
		}
	}
	return false
}

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
