package main

import (
	"fmt"
	"math"
	"slices"

	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/eval"
)

// The blend of the rows "best DP ε=x".
//
// recommend.Recommender scores a candidate for an established person by the
// weighted mean of its per-source scores, each in [0, 1]. Offline there is
// no visit context, no declared preference and no feedback, so two sources
// are active: history (the item model applied to the person's own items:
// the summed similarity s mapped to the confidence s/(s+scale), scale
// being the median similarity of items to their nearest neighbour) and
// popularity (an item's count over the largest count). Their weighted
// mean (w_h·conf + w_p·pop)/(w_h+w_p) ranks exactly as
//
//	conf + β·pop,  β = w_p/w_h
//
// which is what blend computes (the default weights of the established
// tier, 0.40 and 0.001, are β = 0.0025). β = 0 is the backfill form: the
// item model first, then the items it does not score, by popularity (the
// limit of small β; ties of the blended score are broken by popularity),
// as recommend.ItemItem.Top backfills. β = +Inf is the other limit,
// popularity first: the most popular items, then the items only the model
// scores; it is the fallback when the private signal is too weak to help,
// and never ranks below the popularity of the same release. The popularity
// is the item counts of the same DP release the item model is trained on,
// so the blend costs no privacy beyond that release.

// blendBetas are the β the tuning tries; 0 is backfill, +Inf popularity
// first.
var blendBetas = []float64{0, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, math.Inf(1)}

// blendConfig is how a blend row trains: its release and item-item model,
// the form of its popularity and the weight of popularity.
type blendConfig struct {
	dpConfig
	// PopForm is popItems or popPairs.
	PopForm int
	// Beta weighs the popularity of an item (count / largest count, in
	// [0, 1]) against its item-item confidence (in [0, 1)); 0 is backfill,
	// +Inf popularity first.
	Beta float64
}

func (c blendConfig) String() string {
	return fmt.Sprintf("%s; popularity from %s; %s", c.dpConfig, popForms[c.PopForm], blendForm(c.Beta))
}

func blendForm(beta float64) string {
	switch {
	case beta == 0:
		return "backfill (β=0: the model first, then DP popularity)"
	case math.IsInf(beta, 1):
		return "popularity first (β=∞: DP popularity, then the model)"
	}
	return fmt.Sprintf("β=%g (the model's confidence + β·DP popularity)", beta)
}

// Forms of the DP popularity, both free post-processing of a release.
const (
	// popItems: the released item counts (a noisy count for every
	// catalog item).
	popItems = iota
	// popPairs: the candidates of the pairs first, by their summed pair
	// counts (each person with two candidates or more adds about √2 to
	// every candidate they have, against noise of σ√(K-1) for K
	// candidates: far less noisy than an item count), then the other
	// items by their released counts.
	popPairs
	numPopForms
)

var popForms = [numPopForms]string{popItems: "item counts", popPairs: "pair sums, then item counts"}

// dpPopularity is the popularity model on a release, in the given form.
// Negative counts are clamped to 0 by recommend.NewPopularity.
func dpPopularity(cat *recommend.Catalog, res *dp.Cooccurrences, form int) (*recommend.Popularity, error) {
	counts := make([]recommend.ItemCount, 0, len(res.Items))
	if form == popPairs && len(res.Pairs) > 0 {
		sums := make(map[string]float64)
		for _, pc := range res.Pairs {
			sums[pc.A] += pc.Count
			sums[pc.B] += pc.Count
		}
		top, topItem := 0.0, 0.0
		for _, v := range sums {
			top = max(top, v)
		}
		for _, ic := range res.Items {
			if _, ok := sums[ic.Item]; !ok {
				topItem = max(topItem, ic.Count)
			}
		}
		// Candidates score in (1, 2], the others in [0, 1].
		for _, ic := range res.Items {
			v, ok := sums[ic.Item]
			switch {
			case ok && top > 0:
				v = 1 + max(v, 0)/top
			case ok:
				v = 1
			case topItem > 0:
				v = max(ic.Count, 0) / topItem
			default:
				v = 0
			}
			counts = append(counts, recommend.ItemCount{Item: ic.Item, Count: v})
		}
		return recommend.NewPopularity(cat, counts, nil)
	}
	for _, ic := range res.Items {
		counts = append(counts, recommend.ItemCount{Item: ic.Item, Count: ic.Count})
	}
	return recommend.NewPopularity(cat, counts, nil)
}

// blend ranks a person's items by item-item confidence plus β times
// popularity, as described above. It is immutable once built.
type blend struct {
	*neighbours
	// order lists the items with a positive count, most popular first;
	// pop maps them to their count over the largest count.
	order []recommend.Scored
	pop   map[string]float64
}

// neighbours is what blend needs of an item-item model.
type neighbours struct {
	// nbrs are the neighbours of the items that have some, most similar
	// first (recommend.ItemItem.Neighbors).
	nbrs  map[string][]recommend.Neighbor
	scale float64 // conf(s) = s/(s+scale)
}

// neighboursOf reads the neighbours of every catalog item of ii. The
// confidence scale is recommend's: the median (upper median) over the
// items with neighbours of the similarity to their nearest one; 1 if
// there is none or it is not positive.
func neighboursOf(ii *recommend.ItemItem) *neighbours {
	n := &neighbours{nbrs: make(map[string][]recommend.Neighbor), scale: 1}
	var tops []float64
	for it := range ii.Catalog().All() {
		if nb := ii.Neighbors(it.ID); len(nb) > 0 {
			n.nbrs[it.ID] = nb
			tops = append(tops, nb[0].Similarity)
		}
	}
	if len(tops) > 0 {
		slices.Sort(tops)
		if med := tops[len(tops)/2]; med > 0 {
			n.scale = med
		}
	}
	return n
}

// newBlend prepares the blend of the item-item neighbours nb and pop.
func newBlend(nb *neighbours, pop *recommend.Popularity) *blend {
	b := &blend{neighbours: nb}
	b.order = pop.Top(pop.Catalog().Len(), "", nil)
	b.pop = make(map[string]float64, len(b.order))
	if len(b.order) > 0 {
		top := b.order[0].Score
		for _, s := range b.order {
			b.pop[s.Item] = s.Score / top
		}
	}
	return b
}

// blendCand is a candidate item with its item-item confidence and its
// popularity, both in [0, 1].
type blendCand struct {
	item      string
	conf, pop float64
}

// candidates returns every item that can be in the person's top k for some
// β ≥ 0: those the item-item model scores from the history (the sum of
// their similarities to the history items, in history order, as
// recommend.ItemItem.Top sums them), and the k most popular items outside
// the history. Any other item scores β·pop, no more than each of those k
// popular items. seen reports the history items.
func (b *blend) candidates(history []string, seen func(string) bool, k int) []blendCand {
	var out []blendCand
	at := make(map[string]int)
	for _, h := range history {
		for _, nb := range b.nbrs[h] {
			if seen(nb.Item) {
				continue
			}
			i, ok := at[nb.Item]
			if !ok {
				i = len(out)
				at[nb.Item] = i
				out = append(out, blendCand{item: nb.Item, pop: b.pop[nb.Item]})
			}
			out[i].conf += nb.Similarity
		}
	}
	for i := range out {
		if s := out[i].conf; s > 0 {
			out[i].conf = s / (s + b.scale)
		} else {
			out[i].conf = 0
		}
	}
	left := k
	for _, s := range b.order {
		if left == 0 {
			break
		}
		if seen(s.Item) {
			continue
		}
		left--
		if _, ok := at[s.Item]; !ok {
			out = append(out, blendCand{s.Item, 0, b.pop[s.Item]})
		}
	}
	return out
}

// before reports whether x ranks before y at β: a higher blended score,
// then a higher popularity, then the smaller id. At β = +Inf: a higher
// popularity, then a higher confidence, then the smaller id.
func before(x, y *blendCand, beta float64) bool {
	if math.IsInf(beta, 1) {
		switch {
		case x.pop != y.pop:
			return x.pop > y.pop
		case x.conf != y.conf:
			return x.conf > y.conf
		}
		return x.item < y.item
	}
	sx, sy := x.conf+beta*x.pop, y.conf+beta*y.pop
	if sx != sy {
		return sx > sy
	}
	if x.pop != y.pop {
		return x.pop > y.pop
	}
	return x.item < y.item
}

// rankBlend returns the ids of the k best candidates at β (none for k ≤ 0), best first,
// leaving out those with neither confidence nor popularity (nothing to go
// on, as when serving).
func rankBlend(cands []blendCand, beta float64, k int) []string {
	if k <= 0 {
		return []string{}
	}
	top := make([]*blendCand, 0, k)
	for i := range cands {
		c := &cands[i]
		if !(c.conf > 0 || c.pop > 0) {
			continue
		}
		n := len(top)
		if n == k && !before(c, top[n-1], beta) {
			continue
		}
		if n < k {
			top = append(top, nil)
		} else {
			n--
		}
		for n > 0 && before(c, top[n-1], beta) {
			top[n] = top[n-1]
			n--
		}
		top[n] = c
	}
	ids := make([]string, len(top))
	for i, c := range top {
		ids[i] = c.item
	}
	return ids
}

func (b *blend) ranker(beta float64) eval.Ranker {
	return func(_ string, history []string, k int) []string {
		return rankBlend(b.candidates(history, excluding(history), k), beta, k)
	}
}

// fixture is a split prepared once for many evaluations of blends: the
// persons eval.Evaluate evaluates, in its order, with their sorted
// training items and their relevant items.
type fixture struct {
	persons []fixturePerson
}

type fixturePerson struct {
	history  []string
	seen     func(string) bool
	relevant map[string]bool
}

func newFixture(s eval.Split) *fixture {
	f := new(fixture)
	eval.Evaluate(s, 1, 0, func(person string, history []string, _ int) []string {
		rel := make(map[string]bool, len(s.Test[person]))
		for _, it := range s.Test[person] {
			rel[it] = true
		}
		h := slices.Clone(history)
		f.persons = append(f.persons, fixturePerson{h, excluding(h), rel})
		return nil
	})
	return f
}

// ndcg returns the nDCG@k of the blend for every β, as eval.Evaluate
// would compute it on the split (the same persons, histories and
// metric), finding the candidates of each person once.
func (f *fixture) ndcg(k int, b *blend, betas []float64) []float64 {
	sums := make([]float64, len(betas))
	for _, p := range f.persons {
		cands := b.candidates(p.history, p.seen, k)
		for i, beta := range betas {
			sums[i] += eval.NDCG(rankBlend(cands, beta, k), p.relevant, k)
		}
	}
	if n := len(f.persons); n > 0 {
		for i := range sums {
			sums[i] /= float64(n)
		}
	}
	return sums
}

// argmax returns the index of the largest score, the first on ties (-1
// for none).
func argmax(scores []float64) int {
	best := -1
	for i, x := range scores {
		if best < 0 || x > scores[best] {
			best = i
		}
	}
	return best
}
