package recommend

import (
	"context"
	"strconv"

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
	defer r.putScratch(s)
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
	q.capShown()
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
