package recommend

import (
	"cmp"
	"log/slog"
	"math/bits"
	"slices"
	"strings"

	"github.com/tact-go/tact/consent"
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

// explain fills in the response's items, the selected candidates with the
// reasons for their scores, and the data categories and purposes used.
func (q *request) explain(ws [nSrc]float64) {
	m, s, resp := q.m, q.s, q.resp
	top, scores := s.top, s.scores
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
	// The categories and purposes used, each in one array sized exactly.
	if n := bits.OnesCount32(q.used); n > 0 {
		resp.Used = make([]consent.Category, 0, n)
		for b := 0; b < numUse; b++ {
			if q.used&(1<<b) != 0 {
				resp.Used = append(resp.Used, useCategory[b])
			}
		}
		slices.Sort(resp.Used)
	}
	n := 0
	for _, p := range q.purp {
		if p {
			n++
		}
	}
	if n > 0 {
		resp.Purposes = make([]consent.Purpose, 0, n)
		for slot := 0; slot < nSrc; slot++ {
			if q.purp[slot] {
				resp.Purposes = append(resp.Purposes, sourceOfSlot[slot].Purpose())
			}
		}
		slices.Sort(resp.Purposes)
	}
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

// Kinds of sentence that explain a recommendation by one catalog item.
const (
	phraseLooking = iota
	phraseLiked
	phraseBought
	phraseViewed
	numPhrases
)

var phraseKind = [numPhrases]ReasonKind{
	phraseLooking: ReasonLooking,
	phraseLiked:   ReasonLiked,
	phraseBought:  ReasonBought,
	phraseViewed:  ReasonViewed,
}

// phrase returns the English sentence of kind k about item i, built on its
// first use and kept with the model, so that explaining costs no
// allocation per request: only the items a request explains get one, at
// most one per item and kind.
func (m *Model) phrase(k int, i int32) string {
	p := &m.phrases[k][i]
	if s := p.Load(); s != nil {
		return *s
	}
	s := Reason{Kind: phraseKind[k], Related: m.cat.items[i].ID}.Localize(nil, "en", m.cat)
	if p.CompareAndSwap(nil, &s) {
		return s
	}
	return *p.Load()
}

// datum returns a one-element slice of c in the response's shared array of
// data categories, capped so that appending to it copies.
func (q *request) datum(c consent.Category) []consent.Category {
	q.data = append(q.data, c)
	n := len(q.data)
	return q.data[n-1 : n : n]
}

// reason explains slot's share of a candidate's score: its kind and
// parameters, and its English sentence, Text, which is what Localize
// writes in English with the built-in texts but costs a request at most
// one concatenation (the sentences about an item, none).
func (q *request) reason(cd *cand, slot int, share float64) Reason {
	m, en := q.m, englishTexts()
	src := sourceOfSlot[slot]
	rs := Reason{Source: src, Purpose: src.Purpose(), Weight: share}
	from := cd.from[slot]
	switch slot {
	case srcContext:
		switch {
		case from >= 0:
			rs.Kind, rs.Text = ReasonLooking, m.phrase(phraseLooking, from)
			rs.Related = m.cat.items[from].ID
			rs.Data = q.datum(consent.CategoryBehaviorSession)
		case from == fromCategory:
			rs.Kind, rs.Category = ReasonBrowsing, q.req.Context.Category
			rs.Text = fill(en.browsing, humanize(rs.Category))
			rs.Data = q.datum(consent.CategoryBehaviorSession)
		default:
			rs.Kind, rs.Query = ReasonSearch, q.req.Context.Query
			rs.Text = fill(en.search, rs.Query)
			rs.Data = q.datum(consent.CategoryBehaviorSearch)
		}
	case srcDeclared:
		rs.Kind, rs.Interest = ReasonDeclared, q.prefs.Interests[from]
		if rs.Interest.Text != "" {
			rs.Text = fill(en.declared, rs.Interest.Text)
		} else {
			rs.Text = rs.Localize(nil, "en", nil)
		}
		rs.Data = q.datum(consent.CategoryPreferenceDeclared)
	case srcFeedback:
		i := q.s.liked[from].item
		rs.Kind, rs.Text, rs.Related = ReasonLiked, m.phrase(phraseLiked, i), m.cat.items[i].ID
		rs.Data = q.datum(consent.CategoryPreferenceFeedback)
	case srcHistory:
		sd := q.s.seeds[from]
		rs.Related = m.cat.items[sd.item].ID
		if sd.kind == View {
			rs.Kind, rs.Text = ReasonViewed, m.phrase(phraseViewed, sd.item)
			rs.Data = q.datum(consent.CategoryBehaviorBrowsingHistory)
		} else {
			rs.Kind, rs.Text = ReasonBought, m.phrase(phraseBought, sd.item)
			rs.Data = q.datum(consent.CategoryBehaviorPurchaseHistory)
		}
	case srcPopularity:
		rs.Kind, rs.Text = ReasonPopular, en.popular
		if q.seg != "" {
			rs.Kind, rs.Segment = ReasonPopularIn, q.seg
			rs.Text = fill(en.popularIn, humanize(q.seg))
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
	// AuditSensitiveSources lists, comma-separated, the sources whose
	// reasons led to the sensitive items served ("declared"; empty when no
	// sensitive item was served), so that an audit (dp/trust.Check) can
	// show each came from what the person declared only.
	AuditSensitiveSources = "sensitive_sources"
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
	var sens []string
	for i := range resp.Items {
		if !resp.Items[i].Item.Sensitive {
			continue
		}
		for _, rs := range resp.Items[i].Reasons {
			if name := rs.Source.String(); !slices.Contains(sens, name) {
				sens = append(sens, name)
			}
		}
	}
	slices.Sort(sens)
	f := resp.Filtered
	q.r.log.LogAttrs(q.ctx, slog.LevelInfo, "recommend.serve",
		slog.String("event", "recommend.serve"),
		slog.String(AuditTier, resp.Tier.String()),
		slog.Int(AuditItems, len(resp.Items)),
		slog.String(AuditCategories, strings.Join(cats, ",")),
		slog.String(AuditPurposes, strings.Join(purps, ",")),
		slog.String(AuditWithheld, strings.Join(wh, ",")),
		slog.Bool(AuditWarmUp, resp.WarmUp),
		slog.String(AuditSensitiveSources, strings.Join(sens, ",")),
		slog.Group(AuditFiltered,
			slog.Int("warm_up", f.WarmUp), slog.Int("sensitive", f.Sensitive),
			slog.Int("frequency_cap", f.FrequencyCap), slog.Int("not_interested", f.NotInterested),
			slog.Int("already_bought", f.AlreadyBought), slog.Int("declared", f.Declared),
			slog.Int("confidence_floor", f.ConfidenceFloor)),
	)
}
