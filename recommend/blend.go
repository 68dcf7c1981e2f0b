package recommend

// finish blends the per-source scores of each candidate with the tier's
// weights (normalized over the sources that produced candidates), applies
// the guards, keeps the best req.K and explains them. The confidence floor
// holds back weak guesses of the personal and context sources; a candidate
// only popularity scores is no guess about the person and is kept, so that
// popular items fill the places the other sources leave (the backfill of
// [ItemItem.Top]).
func (q *request) finish(tier Tier) {
	r, m, s := q.r, q.m, q.s
	w := r.weights[tier]
	var ws [nSrc]float64
	var wsum float64
	for slot := 0; slot < nSrc; slot++ {
		if q.active[slot] && tier.Allows(sourceOfSlot[slot]) {
			ws[slot] = w.of(slot)
			wsum += ws[slot]
		}
	}
	// A model trained on noisy counts hands part of the weight of the
	// sources that read it alone (feedback and history) to popularity,
	// the more the weaker its signal.
	if q.active[srcPopularity] && tier.Allows(sourceOfSlot[srcPopularity]) {
		for _, slot := range [...]int{srcFeedback, srcHistory} {
			moved := ws[slot] * (1 - m.modelShare)
			ws[slot] -= moved
			ws[srcPopularity] += moved
		}
	}
	if wsum > 0 {
		for slot := range ws {
			ws[slot] /= wsum
		}
	}
	f := &q.resp.Filtered
	k := q.req.K
	top := s.top[:0]
	// score returns the blended score of cd and whether a source other
	// than popularity contributes to it.
	score := func(cd *cand) (float64, bool) {
		var v float64
		for slot := 0; slot < srcPopularity; slot++ {
			v += ws[slot] * float64(cd.x[slot])
		}
		return v + ws[srcPopularity]*float64(cd.x[srcPopularity]), v > 0
	}
	scores := s.scores[:0]
	f.AlreadyBought += s.blockedSeen[blockBought]
	f.NotInterested += s.blockedSeen[blockNotInterested]
	f.FrequencyCap += s.blockedSeen[blockCap]
	for c := range s.cands {
		cd := &s.cands[c]
		// Popularity scores every candidate (it breaks ties between
		// personal signals); the segment's counts when one is in use.
		if q.popl != nil {
			if q.seg == "" {
				cd.x[srcPopularity] = m.meta[cd.item].pop
			} else {
				cd.x[srcPopularity] = float32(float64(q.popl.count[cd.item]) / q.popl.max)
			}
		}
		if !q.admit(cd, ws) {
			continue
		}
		// The confidence floor: fewer items rather than weak guesses.
		v, guess := score(cd)
		if !(v > 0) || (guess && r.floor > 0 && v < r.floor) {
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
	q.explain(ws)
	if r.log != nil {
		q.audit()
	}
}

func better(v float64, i int32, w float64, j int32) bool {
	return v > w || (v == w && i < j)
}
