// Package eval measures recommenders offline: seeded train/test splits of
// interaction logs and the top-k metrics Precision@k, Recall@k, nDCG@k
// (binary gain), MAP@k and catalog coverage.
//
// A [Ranker] is any function from a person's training items to a ranked
// list; the models of package recommend adapt to it in a line (see
// examples/evaluate). Metrics average over the test persons with at least
// one relevant item; a relevant item is one the person interacted with in
// the test part and not in the training part (recommenders exclude what a
// person already has, so those could never be hit). An item ranked twice
// counts once, at its first place.
//
// # Bias audit
//
// [Audit] (or an [Auditor], to audit several models or runs on one split)
// asks whom and what a ranker serves: nDCG and Recall per segment of
// persons (any attribute the host supplies, see [Segmentation] and
// [ActivityLevels]) with the gap between the best and the worst segment,
// segments with fewer than [AuditOptions].MinSegment persons hidden; the
// position-weighted exposure of groups of items against their share of
// the catalog ([Grouping]); popularity bias (mean popularity, long-tail
// share); the Gini index and coverage of the catalog; and calibration
// (Steck's KL divergence between the category mix of a person's history
// and of their list). [Compare] sets two audits side by side (exact
// counts against differentially private ones) per segment, so that
// whether a model costs some segments more than others is a number. The
// [AuditReport] and [Comparison] are plain numbers in a fixed order, ready
// to chart; WriteTable writes them as Markdown.
//
//	a, err := eval.NewAuditor(split, 10, catalog, eval.AuditOptions{
//		Segmentations: []eval.Segmentation{{Name: "country", Of: countryOf}},
//		Groupings:     []eval.Grouping{{Name: "department", Of: departmentOf}},
//	})
//	exact, err := a.Audit(exactRanker)
//	private, err := a.Audit(dpRun1, dpRun2, dpRun3) // averaged over runs
//	cmp, err := eval.Compare(exact, private)
//
// # Concurrency
//
// Everything here is a pure function of its arguments; Evaluate and
// [Auditor.Audit] call the Ranker from the calling goroutine only. An
// [Auditor] is immutable and safe for simultaneous use.
//
// # Errors
//
// [RandomSplit] returns [ErrInvalidFraction] for a test fraction outside
// (0, 1); the metric functions return 0 for k <= 0 or no relevant items.
// [NewAuditor] and [Audit] return [ErrInvalidK], [ErrEmptyCatalog],
// [ErrNoPersons] or an [*OptionError] wrapping [ErrInvalidOption];
// [Auditor.Audit] returns [ErrNoRanker]; [Compare] returns [ErrMismatch].
// In audit reports, a figure with nothing to average over is NaN.
package eval

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/tact-go/tact/recommend"
)

// ErrInvalidFraction is returned by [RandomSplit] for a test fraction
// outside (0, 1) or NaN.
var ErrInvalidFraction = errors.New("eval: test fraction must be in (0, 1)")

// Split is a train/test split of interactions.
type Split struct {
	// Train holds the training interactions, each (person, item) once, in
	// input order.
	Train []recommend.Interaction
	// Test maps each evaluated person to their relevant items, sorted.
	Test map[string][]string
}

type personItem struct{ person, item string }

// dedup keeps the first interaction of each (person, item) pair.
func dedup(in []recommend.Interaction) []recommend.Interaction {
	seen := make(map[personItem]bool, len(in))
	out := make([]recommend.Interaction, 0, len(in))
	for _, x := range in {
		k := personItem{x.Person, x.Item}
		if x.Person == "" || x.Item == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, x)
	}
	return out
}

// RandomSplit puts, for each person, a random testFraction of their
// distinct items (rounded, but keeping at least one item in training) into
// the test part. The split depends only on seed and the set of
// interactions, not their order.
func RandomSplit(in []recommend.Interaction, testFraction float64, seed uint64) (Split, error) {
	if !(testFraction > 0 && testFraction < 1) {
		return Split{}, ErrInvalidFraction
	}
	d := dedup(in)
	byPerson := make(map[string][]string)
	for _, x := range d {
		byPerson[x.Person] = append(byPerson[x.Person], x.Item)
	}
	persons := make([]string, 0, len(byPerson))
	for p := range byPerson {
		persons = append(persons, p)
	}
	slices.Sort(persons)
	r := rand.New(rand.NewPCG(seed, 0xe7a1))
	test := make(map[personItem]bool)
	s := Split{Test: make(map[string][]string)}
	for _, p := range persons {
		items := byPerson[p]
		slices.Sort(items)
		r.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
		n := int(math.Round(testFraction * float64(len(items))))
		n = min(n, len(items)-1)
		if n <= 0 {
			continue
		}
		rel := slices.Clone(items[:n])
		slices.Sort(rel)
		s.Test[p] = rel
		for _, it := range rel {
			test[personItem{p, it}] = true
		}
	}
	for _, x := range d {
		if !test[personItem{x.Person, x.Item}] {
			s.Train = append(s.Train, x)
		}
	}
	return s, nil
}

// ChronologicalSplit trains on the interactions before cutoff and tests on
// those at or after it, for the persons known from training ("known
// customers"); their relevant items are those first seen after cutoff.
func ChronologicalSplit(in []recommend.Interaction, cutoff time.Time) Split {
	s := Split{Test: make(map[string][]string)}
	trained := make(map[personItem]bool)
	known := make(map[string]bool)
	for _, x := range in {
		if x.Person == "" || x.Item == "" || !x.At.Before(cutoff) {
			continue
		}
		k := personItem{x.Person, x.Item}
		if !trained[k] {
			trained[k] = true
			known[x.Person] = true
			s.Train = append(s.Train, x)
		}
	}
	rel := make(map[personItem]bool)
	for _, x := range in {
		k := personItem{x.Person, x.Item}
		if x.Item == "" || x.At.Before(cutoff) || !known[x.Person] || trained[k] || rel[k] {
			continue
		}
		rel[k] = true
		s.Test[x.Person] = append(s.Test[x.Person], x.Item)
	}
	for _, items := range s.Test {
		slices.Sort(items)
	}
	return s
}

// Ranker returns up to k item ids for person, best first, given the
// person's distinct training items (sorted).
type Ranker func(person string, history []string, k int) []string

// Metrics are averages over the evaluated persons.
type Metrics struct {
	K         int
	Users     int     // persons evaluated
	Precision float64 // Precision@K
	Recall    float64 // Recall@K
	NDCG      float64 // nDCG@K, binary gain
	MAP       float64 // MAP@K
	// Coverage is the share of the catalog recommended to at least one
	// person.
	Coverage float64
}

// Evaluate ranks k items for every test person of s with rank, given
// their training items, and averages the metrics. catalogSize is the
// denominator of coverage (0: coverage is 0).
func Evaluate(s Split, k int, catalogSize int, rank Ranker) Metrics {
	m := Metrics{K: k}
	if k <= 0 {
		return m
	}
	hist := make(map[string][]string)
	for _, x := range s.Train {
		if _, ok := s.Test[x.Person]; ok {
			hist[x.Person] = append(hist[x.Person], x.Item)
		}
	}
	persons := make([]string, 0, len(s.Test))
	for p, rel := range s.Test {
		if len(rel) > 0 {
			persons = append(persons, p)
		}
	}
	slices.Sort(persons)
	shown := make(map[string]bool)
	relevant := make(map[string]bool)
	for _, p := range persons {
		h := hist[p]
		slices.Sort(h)
		h = slices.Compact(h) // a hand-made Split may repeat a training pair
		ranked := rank(p, h, k)
		if len(ranked) > k {
			ranked = ranked[:k]
		}
		clear(relevant)
		for _, it := range s.Test[p] {
			relevant[it] = true
		}
		for _, it := range ranked {
			shown[it] = true
		}
		m.Precision += Precision(ranked, relevant, k)
		m.Recall += Recall(ranked, relevant, k)
		m.NDCG += NDCG(ranked, relevant, k)
		m.MAP += AveragePrecision(ranked, relevant, k)
	}
	m.Users = len(persons)
	if m.Users > 0 {
		n := float64(m.Users)
		m.Precision /= n
		m.Recall /= n
		m.NDCG /= n
		m.MAP /= n
	}
	if catalogSize > 0 {
		m.Coverage = float64(len(shown)) / float64(catalogSize)
	}
	return m
}

// hitAt reports whether place i of ranked holds a relevant item that is
// not already ranked above it: an item a ranker repeats counts once, so no
// metric exceeds 1.
func hitAt(ranked []string, i int, relevant map[string]bool) bool {
	return relevant[ranked[i]] && !slices.Contains(ranked[:i], ranked[i])
}

func hits(ranked []string, relevant map[string]bool, k int) int {
	n := 0
	for i := range ranked[:min(k, len(ranked))] {
		if hitAt(ranked, i, relevant) {
			n++
		}
	}
	return n
}

// Precision is the share of the first k places (k, not len(ranked)) that
// hold a relevant item.
func Precision(ranked []string, relevant map[string]bool, k int) float64 {
	if k <= 0 || len(relevant) == 0 {
		return 0
	}
	return float64(hits(ranked, relevant, k)) / float64(k)
}

// Recall is the share of the relevant items found in the first k places.
func Recall(ranked []string, relevant map[string]bool, k int) float64 {
	if k <= 0 || len(relevant) == 0 {
		return 0
	}
	return float64(hits(ranked, relevant, k)) / float64(len(relevant))
}

// NDCG is the discounted cumulative gain of the first k places with binary
// gain (1/log2(rank+1) per relevant item) divided by that of an ideal
// ranking of min(k, |relevant|) relevant items.
func NDCG(ranked []string, relevant map[string]bool, k int) float64 {
	if k <= 0 || len(relevant) == 0 {
		return 0
	}
	var dcg, ideal float64
	for i := range ranked[:min(k, len(ranked))] {
		if hitAt(ranked, i, relevant) {
			dcg += 1 / math.Log2(float64(i+2))
		}
	}
	for i := 0; i < min(k, len(relevant)); i++ {
		ideal += 1 / math.Log2(float64(i+2))
	}
	return dcg / ideal
}

// AveragePrecision is the sum of Precision@i over the places i <= k that
// hold a relevant item, divided by min(k, |relevant|); MAP@k is its mean
// over persons.
func AveragePrecision(ranked []string, relevant map[string]bool, k int) float64 {
	if k <= 0 || len(relevant) == 0 {
		return 0
	}
	var sum float64
	n := 0
	for i := range ranked[:min(k, len(ranked))] {
		if hitAt(ranked, i, relevant) {
			n++
			sum += float64(n) / float64(i+1)
		}
	}
	return sum / float64(min(k, len(relevant)))
}
