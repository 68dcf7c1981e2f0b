package eval

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/tact-go/tact/recommend"
)

// Errors of the bias audit.
var (
	// ErrInvalidK is returned by [NewAuditor] for k <= 0.
	ErrInvalidK = errors.New("eval: k must be positive")
	// ErrEmptyCatalog is returned by [NewAuditor] for a nil or empty
	// catalog: coverage and exposure shares are relative to it.
	ErrEmptyCatalog = errors.New("eval: empty catalog")
	// ErrNoPersons is returned by [NewAuditor] for a split with no test
	// person who has a relevant item: there is nothing to audit.
	ErrNoPersons = errors.New("eval: no test person with a relevant item")
	// ErrInvalidOption is wrapped by the [*OptionError] that [NewAuditor]
	// and [ActivityLevels] return for an invalid option.
	ErrInvalidOption = errors.New("eval: invalid audit option")
	// ErrNoRanker is returned by [Auditor.Audit] when given no ranker or a
	// nil one.
	ErrNoRanker = errors.New("eval: no ranker")
	// ErrMismatch is returned by [Compare] for audits that do not audit
	// the same persons at the same k.
	ErrMismatch = errors.New("eval: audits are not comparable")
)

// OptionError reports an invalid audit option. It unwraps to
// [ErrInvalidOption].
type OptionError struct {
	Option string // the option, as "AuditOptions.Alpha" or "Segmentations[1].Name"
	Reason string // what is wrong with it
}

func (e *OptionError) Error() string {
	return "eval: invalid audit option " + e.Option + ": " + e.Reason
}

// Unwrap returns [ErrInvalidOption].
func (e *OptionError) Unwrap() error { return ErrInvalidOption }

// Defaults of [AuditOptions].
const (
	// DefaultMinSegment is the smallest segment an audit shows.
	DefaultMinSegment = 10
	// DefaultHeadShare is the share of the training interactions the
	// popular head makes: the usual 80/20 split of head and long tail.
	DefaultHeadShare = 0.8
	// DefaultAlpha is the smoothing of calibration, as in Steck (2018).
	DefaultAlpha = 0.01
)

// Segmentation divides the audited persons into segments by an attribute
// the host knows (country, tier, new or returning, activity level).
type Segmentation struct {
	// Name names the segmentation ("country"); it must be non-empty and
	// unique among the segmentations of an audit.
	Name string
	// Of returns the segment of a person; "" puts the person in no
	// segment of this segmentation (they still count in the overall
	// figures). It is called once per audited person, in [NewAuditor].
	Of func(person string) string
	// Order, if not nil, is the order of the segments in reports (for
	// ordinal attributes such as activity level); segments not in it
	// follow in label order. Without it segments are in label order.
	Order []string
}

// Grouping divides the catalog into groups (department, supplier, brand)
// whose exposure an audit compares with their share of the catalog.
type Grouping struct {
	// Name names the grouping ("department"); it must be non-empty and
	// unique among the groupings of an audit.
	Name string
	// Of returns the group of a catalog item, given its id; "" is a group
	// like any other (reported with the label ""). It is called once per
	// catalog item, in [NewAuditor].
	Of func(item string) string
}

// AuditOptions configure [NewAuditor]. The zero value audits with no
// segmentation and no grouping, calibrates on the catalog's categories and
// uses the Default constants.
type AuditOptions struct {
	// Segmentations are the ways of dividing persons the audit reports
	// per segment.
	Segmentations []Segmentation
	// Groupings are the ways of dividing items the audit reports exposure
	// for.
	Groupings []Grouping
	// Category returns the category of an item for calibration, given
	// its id; "" is no category. Default: the item's Category in the
	// catalog (items outside it have none). It is called once per item of
	// the catalog and of the training part.
	Category func(item string) string
	// MinSegment hides segments with fewer audited persons (default
	// [DefaultMinSegment]; 1 shows every segment). Negative is an error.
	MinSegment int
	// HeadShare defines the popular head: the most popular items that
	// together make at least this share of the training interactions
	// (default [DefaultHeadShare]); every other item is in the long tail.
	// It must be in (0, 1].
	HeadShare float64
	// Alpha is the smoothing α of calibration (default [DefaultAlpha]),
	// in (0, 1).
	Alpha float64
}

// Slice holds the audit of a set of persons: all of them or one segment.
// A figure that is undefined (a mean over nothing) is NaN, which charts
// draw as a missing value.
type Slice struct {
	// Label is the segment, or "all".
	Label string
	// Users is the number of audited persons in the slice: test persons
	// with at least one relevant item, as [Evaluate] counts them.
	Users int
	// NDCG and Recall are the means of [NDCG] and [Recall] at k over the
	// persons (and runs).
	NDCG, Recall float64
	// Popularity is the mean popularity of the recommended items, over
	// every place of every list (and run). The popularity of an item is
	// the number of persons who have it in the training part.
	Popularity float64
	// HistoryPopularity is the mean popularity of the persons' training
	// items, over every (person, item): what the persons themselves
	// choose, the baseline Popularity compares with.
	HistoryPopularity float64
	// LongTail is the share of the places of the lists holding a
	// long-tail item: an item outside the popular head (see
	// [AuditOptions].HeadShare).
	LongTail float64
	// Calibration is the mean, over the calibrated persons, of the
	// Kullback–Leibler divergence (natural log) between the category mix
	// p of a person's training items and the mix q of their list, as in
	// Steck, "Calibrated recommendations" (RecSys 2018):
	//
	//	KL(p‖q̃) = Σ_c p(c) ln(p(c) / q̃(c)),  q̃ = (1−α) q + α p
	//
	// p weighs each categorized training item equally; q weighs the place
	// at rank r by 1/log2(r+1), as nDCG does. 0 when the mixes are equal;
	// an empty list gives ln(1/α).
	Calibration float64
	// Calibrated is the number of persons with at least one categorized
	// training item, over whom Calibration is the mean.
	Calibrated int
}

// Segments is the audit of one segmentation.
type Segments struct {
	// Name is the segmentation's name.
	Name string
	// Shown are the segments with at least MinSegment persons, in the
	// segmentation's order.
	Shown []Slice
	// Hidden is the number of segments with at least one audited person
	// but fewer than MinSegment; they appear nowhere else in the report
	// (their persons count in All).
	Hidden int
	// Best and Worst are the shown segments with the highest and lowest
	// nDCG ("" with fewer than two shown segments).
	Best, Worst string
	// NDCGGap and RecallGap are the highest minus the lowest nDCG and
	// Recall of the shown segments (NaN with fewer than two).
	NDCGGap, RecallGap float64
}

// GroupShare is the exposure of one group of items.
type GroupShare struct {
	// Group is the group's label.
	Group string
	// Items is the number of catalog items in the group.
	Items int
	// CatalogShare is Items over the catalog size.
	CatalogShare float64
	// Exposure is the group's share of the exposure of catalog items:
	// the place at rank r of a list gives its item 1/log2(r+1), as nDCG
	// weighs it, and the shares of a grouping sum to 1 (NaN if no list
	// holds a catalog item).
	Exposure float64
	// Ratio is Exposure over CatalogShare: above 1 the group is shown
	// more than its size, below 1 less.
	Ratio float64
}

// Exposure is the exposure of the groups of one grouping.
type Exposure struct {
	// Name is the grouping's name.
	Name string
	// Groups are the groups in label order.
	Groups []GroupShare
}

// AuditReport is the result of a bias audit: averages over the audited
// persons and over the runs (rankers) audited together. Segments and
// groups are in a fixed order and every figure is a plain number, so that
// a report can be charted directly.
type AuditReport struct {
	// K is the length of the lists; Runs the number of rankers averaged.
	K, Runs int
	// MinSegment is the smallest segment shown.
	MinSegment int
	// All is the audit of every audited person.
	All Slice
	// Coverage is the share of the catalog recommended to at least one
	// person (mean over runs).
	Coverage float64
	// Gini is the Gini index of the number of lists each catalog item is
	// in, over every catalog item: 0 when every item is in as many lists,
	// near 1 when a few items are in all of them. It is the mean over the
	// runs whose lists hold a catalog item (NaN if none do).
	Gini float64
	// Outside is the share of the places of the lists holding an item
	// that is not in the catalog (such items count in the per-person
	// figures, with no category, but not in Coverage, Gini or Exposure).
	Outside float64
	// HeadItems is the number of items in the popular head.
	HeadItems int
	// Segmentations has one entry per [AuditOptions].Segmentations, in
	// their order.
	Segmentations []Segments
	// Exposure has one entry per [AuditOptions].Groupings, in their order.
	Exposure []Exposure
}

// Auditor audits rankers on one split: it holds what does not depend on
// the ranker (histories, popularity, segments, groups), so that auditing
// several models, or several runs of a noisy one, costs only their
// rankings. An Auditor is immutable after [NewAuditor] and safe for
// simultaneous use by multiple goroutines, provided the rankers are.
type Auditor struct {
	k          int
	minSegment int
	alpha      float64
	nCatalog   int
	items      map[string]int32 // catalog items first, then training-only ones
	pop        []float64        // per item: persons who have it in training
	head       []bool           // per item: in the popular head
	category   []int32          // per item: category index, -1 for none
	nCats      int
	headItems  int
	persons    []auditPerson
	segs       []segmentation
	groups     []grouping
}

type auditPerson struct {
	id       string
	history  []string
	relevant map[string]bool
	histPop  float64   // sum of the popularity of the history items
	mix      []catMass // category mix of the history; nil: not calibrated
	seg      []int32   // per segmentation: segment index, -1 for none
}

type catMass struct {
	cat int32
	p   float64
}

type segmentation struct {
	name   string
	labels []string // in report order
	users  []int
}

type grouping struct {
	name   string
	labels []string // sorted
	of     []int32  // per catalog item: group index
	items  []int
}

// NewAuditor prepares an audit of the lists of k items that rankers give
// the test persons of s, against catalog cat, with options o.
//
// It returns [ErrInvalidK] for k <= 0, [ErrEmptyCatalog] for a nil or empty
// catalog, [ErrNoPersons] if no test person of s has a relevant item, and
// an [*OptionError] (wrapping [ErrInvalidOption]) for an invalid option.
func NewAuditor(s Split, k int, cat *recommend.Catalog, o AuditOptions) (*Auditor, error) {
	if k <= 0 {
		return nil, ErrInvalidK
	}
	if cat.Len() == 0 {
		return nil, ErrEmptyCatalog
	}
	if err := o.normalize(); err != nil {
		return nil, err
	}
	a := &Auditor{k: k, minSegment: o.MinSegment, alpha: o.Alpha, nCatalog: cat.Len(), items: make(map[string]int32, cat.Len())}
	var ids []string
	for it := range cat.All() {
		a.items[it.ID] = int32(len(ids))
		ids = append(ids, it.ID)
	}
	// Popularity: distinct training persons per item.
	seen := make(map[personItem]bool, len(s.Train))
	hist := make(map[string][]string)
	for _, x := range s.Train {
		pi := personItem{x.Person, x.Item}
		if x.Person == "" || x.Item == "" || seen[pi] {
			continue
		}
		seen[pi] = true
		if _, ok := a.items[x.Item]; !ok {
			a.items[x.Item] = int32(len(ids))
			ids = append(ids, x.Item)
		}
		if _, ok := s.Test[x.Person]; ok {
			hist[x.Person] = append(hist[x.Person], x.Item)
		}
	}
	a.pop = make([]float64, len(ids))
	for pi := range seen {
		a.pop[a.items[pi.item]]++
	}
	a.head, a.headItems = popularHead(ids, a.pop, o.HeadShare)

	// Categories.
	catOf := o.Category
	if catOf == nil {
		catOf = func(id string) string {
			it, _ := cat.Lookup(id)
			return it.Category
		}
	}
	a.category = make([]int32, len(ids))
	catIndex := make(map[string]int32)
	for i, id := range ids {
		a.category[i] = -1
		if c := catOf(id); c != "" {
			ci, ok := catIndex[c]
			if !ok {
				ci = int32(len(catIndex))
				catIndex[c] = ci
			}
			a.category[i] = ci
		}
	}
	a.nCats = len(catIndex)

	// Persons, in the order Evaluate ranks them.
	var tested []string
	for p, rel := range s.Test {
		if len(rel) > 0 {
			tested = append(tested, p)
		}
	}
	if len(tested) == 0 {
		return nil, ErrNoPersons
	}
	slices.Sort(tested)
	a.persons = make([]auditPerson, 0, len(tested))
	for _, p := range tested {
		rel := s.Test[p]
		h := hist[p]
		slices.Sort(h)
		ap := auditPerson{id: p, history: h, relevant: make(map[string]bool, len(rel))}
		for _, it := range rel {
			ap.relevant[it] = true
		}
		counts := make(map[int32]float64)
		n := 0.0
		for _, it := range h {
			i := a.items[it]
			ap.histPop += a.pop[i]
			if c := a.category[i]; c >= 0 {
				counts[c]++
				n++
			}
		}
		for c, m := range counts {
			ap.mix = append(ap.mix, catMass{c, m / n})
		}
		slices.SortFunc(ap.mix, func(x, y catMass) int { return cmp.Compare(x.cat, y.cat) })
		a.persons = append(a.persons, ap)
	}

	// Segments.
	for _, sg := range o.Segmentations {
		labels := make([]string, len(a.persons))
		for i, p := range a.persons {
			labels[i] = sg.Of(p.id)
		}
		// The labels of Order, then the others in label order.
		var rest []string
		seen := make(map[string]bool)
		for _, l := range labels {
			if !seen[l] && l != "" && !slices.Contains(sg.Order, l) {
				rest = append(rest, l)
			}
			seen[l] = true
		}
		slices.Sort(rest)
		seg := segmentation{name: sg.Name}
		index := make(map[string]int32)
		for _, l := range append(slices.Clone(sg.Order), rest...) {
			if _, dup := index[l]; !dup && l != "" {
				index[l] = int32(len(seg.labels))
				seg.labels = append(seg.labels, l)
			}
		}
		seg.users = make([]int, len(seg.labels))
		for i := range a.persons {
			idx := int32(-1)
			if l := labels[i]; l != "" {
				idx = index[l]
				seg.users[idx]++
			}
			a.persons[i].seg = append(a.persons[i].seg, idx)
		}
		a.segs = append(a.segs, seg)
	}

	// Groups.
	for _, gr := range o.Groupings {
		g := grouping{name: gr.Name, of: make([]int32, a.nCatalog)}
		labels := make([]string, a.nCatalog)
		for i := range a.nCatalog {
			labels[i] = gr.Of(ids[i])
		}
		g.labels = slices.Clone(labels)
		slices.Sort(g.labels)
		g.labels = slices.Compact(g.labels)
		g.items = make([]int, len(g.labels))
		for i, l := range labels {
			gi, _ := slices.BinarySearch(g.labels, l)
			g.of[i] = int32(gi)
			g.items[gi]++
		}
		a.groups = append(a.groups, g)
	}
	return a, nil
}

// normalize applies the defaults and validates o.
func (o *AuditOptions) normalize() error {
	bad := func(opt, reason string) error { return &OptionError{Option: opt, Reason: reason} }
	switch {
	case o.MinSegment < 0:
		return bad("AuditOptions.MinSegment", "negative")
	case o.MinSegment == 0:
		o.MinSegment = DefaultMinSegment
	}
	switch {
	case o.HeadShare == 0:
		o.HeadShare = DefaultHeadShare
	case !(o.HeadShare > 0 && o.HeadShare <= 1):
		return bad("AuditOptions.HeadShare", "not in (0, 1]")
	}
	switch {
	case o.Alpha == 0:
		o.Alpha = DefaultAlpha
	case !(o.Alpha > 0 && o.Alpha < 1):
		return bad("AuditOptions.Alpha", "not in (0, 1)")
	}
	names := make(map[string]bool)
	for i, s := range o.Segmentations {
		opt := "Segmentations[" + strconv.Itoa(i) + "]"
		switch {
		case s.Name == "":
			return bad(opt+".Name", "empty")
		case names[s.Name]:
			return bad(opt+".Name", strconv.Quote(s.Name)+" repeated")
		case s.Of == nil:
			return bad(opt+".Of", "nil")
		}
		names[s.Name] = true
	}
	clear(names)
	for i, g := range o.Groupings {
		opt := "Groupings[" + strconv.Itoa(i) + "]"
		switch {
		case g.Name == "":
			return bad(opt+".Name", "empty")
		case names[g.Name]:
			return bad(opt+".Name", strconv.Quote(g.Name)+" repeated")
		case g.Of == nil:
			return bad(opt+".Of", "nil")
		}
		names[g.Name] = true
	}
	return nil
}

// popularHead marks the most popular items (ties broken by id) that
// together make at least share of the total popularity; items nobody has
// are never in it.
func popularHead(ids []string, pop []float64, share float64) ([]bool, int) {
	order := make([]int, len(ids))
	total := 0.0
	for i := range order {
		order[i] = i
		total += pop[i]
	}
	slices.SortFunc(order, func(x, y int) int {
		return cmp.Or(cmp.Compare(pop[y], pop[x]), cmp.Compare(ids[x], ids[y]))
	})
	head := make([]bool, len(ids))
	n := 0
	// The popularities are whole numbers, so the sums are exact; the
	// tolerance absorbs the rounding of share*total.
	for cum := 0.0; n < len(order) && cum < share*total*(1-1e-12) && pop[order[n]] > 0; n++ {
		head[order[n]] = true
		cum += pop[order[n]]
	}
	return head, n
}

// Audit audits the lists that each ranker gives, for k items, to every
// audited person, and averages over the rankers: pass one ranker per run
// of a randomized (differentially private) model to average its noise
// away, or one for a deterministic model. A ranker that returns more than
// k items is cut to k; an item ranked twice counts once, at its first
// place. It returns [ErrNoRanker] for no ranker or a nil one.
func (a *Auditor) Audit(rankers ...Ranker) (AuditReport, error) {
	if len(rankers) == 0 || slices.ContainsFunc(rankers, func(r Ranker) bool { return r == nil }) {
		return AuditReport{}, ErrNoRanker
	}
	all := &acc{}
	segAcc := make([][]acc, len(a.segs))
	for i, sg := range a.segs {
		segAcc[i] = make([]acc, len(sg.labels))
	}
	groupW := make([][]float64, len(a.groups))
	for i, g := range a.groups {
		groupW[i] = make([]float64, len(g.labels))
	}
	r := AuditReport{K: a.k, Runs: len(rankers), MinSegment: a.minSegment, HeadItems: a.headItems}
	var catalogW, giniSum float64
	var outside, giniRuns int
	lists := make([]int, a.nCatalog)
	sorted := make([]int, a.nCatalog)
	q := make([]float64, a.nCats)
	for _, rank := range rankers {
		clear(lists)
		for pi := range a.persons {
			p := &a.persons[pi]
			ranked := rank(p.id, p.history, a.k)
			if len(ranked) > a.k {
				ranked = ranked[:a.k]
			}
			x := personAudit{ndcg: NDCG(ranked, p.relevant, a.k), recall: Recall(ranked, p.relevant, a.k), histPop: p.histPop, histN: len(p.history)}
			qTotal := 0.0
			for i, id := range ranked {
				if slices.Contains(ranked[:i], id) {
					continue
				}
				w := 1 / math.Log2(float64(i+2))
				x.places++
				idx, known := a.items[id]
				if !known || int(idx) >= a.nCatalog {
					outside++
				}
				if !known {
					x.tail++
					continue
				}
				x.pop += a.pop[idx]
				if !a.head[idx] {
					x.tail++
				}
				if c := a.category[idx]; c >= 0 {
					q[c] += w
					qTotal += w
				}
				if int(idx) < a.nCatalog {
					lists[idx]++
					catalogW += w
					for g := range a.groups {
						groupW[g][a.groups[g].of[idx]] += w
					}
				}
			}
			if p.mix != nil {
				x.calibrated = true
				x.kl = klDivergence(p.mix, q, qTotal, a.alpha)
			}
			clear(q)
			all.add(x)
			for s, si := range p.seg {
				if si >= 0 {
					segAcc[s][si].add(x)
				}
			}
		}
		covered, total := 0, 0
		for i, n := range lists {
			if n > 0 {
				covered++
			}
			total += n
			sorted[i] = n
		}
		r.Coverage += float64(covered) / float64(a.nCatalog)
		if total > 0 {
			giniSum += gini(sorted)
			giniRuns++
		}
	}
	runs := float64(len(rankers))
	r.Coverage /= runs
	r.Gini = math.NaN()
	if giniRuns > 0 {
		r.Gini = giniSum / float64(giniRuns)
	}
	r.Outside = ratio(float64(outside), float64(all.places))
	r.All = all.slice("all", len(rankers))
	for s, sg := range a.segs {
		out := Segments{Name: sg.name, NDCGGap: math.NaN(), RecallGap: math.NaN()}
		for i, l := range sg.labels {
			if sg.users[i] == 0 { // a label of Order nobody has
				continue
			}
			if sg.users[i] < a.minSegment {
				out.Hidden++
				continue
			}
			out.Shown = append(out.Shown, segAcc[s][i].slice(l, len(rankers)))
		}
		if len(out.Shown) >= 2 {
			best := slices.MaxFunc(out.Shown, func(x, y Slice) int { return cmp.Compare(x.NDCG, y.NDCG) })
			worst := slices.MinFunc(out.Shown, func(x, y Slice) int { return cmp.Compare(x.NDCG, y.NDCG) })
			out.Best, out.Worst, out.NDCGGap = best.Label, worst.Label, best.NDCG-worst.NDCG
			hi := slices.MaxFunc(out.Shown, func(x, y Slice) int { return cmp.Compare(x.Recall, y.Recall) })
			lo := slices.MinFunc(out.Shown, func(x, y Slice) int { return cmp.Compare(x.Recall, y.Recall) })
			out.RecallGap = hi.Recall - lo.Recall
		}
		r.Segmentations = append(r.Segmentations, out)
	}
	for gi, g := range a.groups {
		e := Exposure{Name: g.name}
		for i, l := range g.labels {
			cs := float64(g.items[i]) / float64(a.nCatalog)
			ex := ratio(groupW[gi][i], catalogW)
			e.Groups = append(e.Groups, GroupShare{Group: l, Items: g.items[i], CatalogShare: cs, Exposure: ex, Ratio: ex / cs})
		}
		r.Exposure = append(r.Exposure, e)
	}
	return r, nil
}

// Audit audits rank on s with one [Auditor]: see [NewAuditor] and
// [Auditor.Audit] for what it computes and returns.
func Audit(s Split, k int, cat *recommend.Catalog, rank Ranker, o AuditOptions) (AuditReport, error) {
	a, err := NewAuditor(s, k, cat, o)
	if err != nil {
		return AuditReport{}, err
	}
	return a.Audit(rank)
}

// personAudit is what one list of one person adds to the slices the
// person is in.
type personAudit struct {
	ndcg, recall float64
	places, tail int
	pop          float64
	histPop      float64
	histN        int
	kl           float64
	calibrated   bool
}

// acc sums personAudits over persons and runs.
type acc struct {
	users        int
	ndcg, recall float64
	places, tail int
	pop          float64
	histPop      float64
	histN        int
	kl           float64
	calibrated   int
}

func (s *acc) add(x personAudit) {
	s.users++
	s.ndcg += x.ndcg
	s.recall += x.recall
	s.places += x.places
	s.tail += x.tail
	s.pop += x.pop
	s.histPop += x.histPop
	s.histN += x.histN
	if x.calibrated {
		s.kl += x.kl
		s.calibrated++
	}
}

func (s *acc) slice(label string, runs int) Slice {
	return Slice{
		Label:             label,
		Users:             s.users / runs,
		NDCG:              ratio(s.ndcg, float64(s.users)),
		Recall:            ratio(s.recall, float64(s.users)),
		Popularity:        ratio(s.pop, float64(s.places)),
		HistoryPopularity: ratio(s.histPop, float64(s.histN)),
		LongTail:          ratio(float64(s.tail), float64(s.places)),
		Calibration:       ratio(s.kl, float64(s.calibrated)),
		Calibrated:        s.calibrated / runs,
	}
}

// ratio is x/n, NaN for n == 0.
func ratio(x, n float64) float64 {
	if n == 0 {
		return math.NaN()
	}
	return x / n
}

// klDivergence is KL(p‖(1−α)q/qTotal + αp) in nats, over the categories of
// p (the only ones that contribute); q is position-weighted mass per
// category and qTotal its sum (0: the list has no categorized item, so q
// is 0). Rounding could make it a hair below 0; it is clamped to 0.
func klDivergence(p []catMass, q []float64, qTotal, alpha float64) float64 {
	kl := 0.0
	for _, m := range p {
		qc := 0.0
		if qTotal > 0 {
			qc = q[m.cat] / qTotal
		}
		kl += m.p * math.Log(m.p/((1-alpha)*qc+alpha*m.p))
	}
	return max(kl, 0)
}

// gini is the Gini index of the counts x (not all 0), which it sorts:
// Σ_i (2i − n − 1) x_(i) / (n Σ x), over the counts in ascending order
// x_(1) ≤ … ≤ x_(n).
func gini(x []int) float64 {
	slices.Sort(x)
	n := len(x)
	var num, sum float64
	for i, v := range x {
		num += float64(2*(i+1)-n-1) * float64(v)
		sum += float64(v)
	}
	return num / (float64(n) * sum)
}

// ActivityLevels returns a [Segmentation] named "activity" of the test
// persons of s by their number of distinct training items, with the
// given ascending edges: edges 5, 20 make the segments "0-4", "5-19" and
// "20+" (in that order). With no edges, the edges are the terciles of the
// audited persons' activity (equal ones merged), so the segments hold
// about a third of them each. Non-ascending or negative edges are an
// [*OptionError].
func ActivityLevels(s Split, edges ...int) (Segmentation, error) {
	n := make(map[string]int)
	seen := make(map[personItem]bool, len(s.Train))
	for _, x := range s.Train {
		pi := personItem{x.Person, x.Item}
		if x.Item == "" || seen[pi] {
			continue
		}
		seen[pi] = true
		if _, ok := s.Test[x.Person]; ok {
			n[x.Person]++
		}
	}
	for i, e := range edges {
		if e < 1 || (i > 0 && e <= edges[i-1]) {
			return Segmentation{}, &OptionError{Option: "ActivityLevels edges", Reason: "not positive and strictly ascending"}
		}
	}
	if len(edges) == 0 {
		var counts []int
		for p, rel := range s.Test {
			if len(rel) > 0 {
				counts = append(counts, n[p])
			}
		}
		slices.Sort(counts)
		for _, f := range []int{1, 2} {
			if len(counts) == 0 {
				break
			}
			if e := counts[f*len(counts)/3]; e > 0 && (len(edges) == 0 || e > edges[len(edges)-1]) {
				edges = append(edges, e)
			}
		}
	}
	labels := make([]string, len(edges)+1)
	lo := 0
	for i, e := range edges {
		if e-1 == lo {
			labels[i] = strconv.Itoa(lo)
		} else {
			labels[i] = fmt.Sprintf("%d-%d", lo, e-1)
		}
		lo = e
	}
	labels[len(edges)] = strconv.Itoa(lo) + "+"
	return Segmentation{
		Name:  "activity",
		Order: labels,
		Of: func(p string) string {
			i, found := slices.BinarySearch(edges, n[p])
			if found {
				i++
			}
			return labels[i]
		},
	}, nil
}
