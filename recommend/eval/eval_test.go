package eval_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/eval"
	"github.com/tact-go/tact/recommend/recommendtest"
)

func set(ids ...string) map[string]bool {
	m := map[string]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func TestMetrics(t *testing.T) {
	ranked := []string{"a", "x", "b", "y"}
	rel := set("a", "b", "c")
	assert.InDelta(t, 2.0/4, eval.Precision(ranked, rel, 4), 1e-12)
	assert.InDelta(t, 2.0/10, eval.Precision(ranked, rel, 10), 1e-12, "precision divides by k, not by the list length")
	assert.InDelta(t, 2.0/3, eval.Recall(ranked, rel, 4), 1e-12)
	assert.InDelta(t, 1.0/3, eval.Recall(ranked, rel, 2), 1e-12, "only the first k count")
	dcg := 1 + 1/math.Log2(4)
	idcg := 1 + 1/math.Log2(3) + 1/math.Log2(4)
	assert.InDelta(t, dcg/idcg, eval.NDCG(ranked, rel, 4), 1e-12)
	assert.InDelta(t, 1.0, eval.NDCG([]string{"a", "b"}, set("a", "b"), 10), 1e-12, "ideal ranking")
	assert.InDelta(t, (1.0+2.0/3)/3, eval.AveragePrecision(ranked, rel, 4), 1e-12)
	assert.InDelta(t, 1.0/1, eval.AveragePrecision([]string{"a"}, rel, 1), 1e-12, "normalised by min(k, |rel|)")
	for _, f := range []func([]string, map[string]bool, int) float64{eval.Precision, eval.Recall, eval.NDCG, eval.AveragePrecision} {
		assert.Zero(t, f(ranked, rel, 0), "k = 0")
		assert.Zero(t, f(ranked, rel, -1), "negative k")
		assert.Zero(t, f(ranked, nil, 5), "nothing relevant")
		assert.Zero(t, f(nil, rel, 5), "nothing ranked")
	}
}

// TestMetricsByHand checks the formulas against values worked out by hand
// from the textbook definitions: ten places, relevant items at places 1, 3,
// 6, 9 and 10, and one relevant item not ranked at all (|rel| = 6).
//
//	P@10 = 5/10                 R@10 = 5/6
//	AP@10 = (1/1 + 2/3 + 3/6 + 4/9 + 5/10) / min(10, 6)        = 0.518519
//	nDCG@10 = (1/log2 2 + 1/log2 4 + 1/log2 7 + 1/log2 10 + 1/log2 11)
//	        / (1/log2 2 + ... + 1/log2 7)                       = 0.740257
//	P@5 = 2/5   R@5 = 2/6   AP@5 = (1/1 + 2/3) / min(5, 6)      = 0.333333
//	nDCG@5 = (1/log2 2 + 1/log2 4) / (1/log2 2 + ... + 1/log2 6) = 0.508740
func TestMetricsByHand(t *testing.T) {
	ranked := []string{"r1", "n2", "r3", "n4", "n5", "r6", "n7", "n8", "r9", "r10"}
	rel := set("r1", "r3", "r6", "r9", "r10", "missed")
	tests := []struct {
		k              int
		p, r, ap, ndcg float64
	}{
		{10, 0.5, 5.0 / 6, 0.518519, 0.740257},
		{5, 0.4, 2.0 / 6, 0.333333, 0.508740},
	}
	for _, tt := range tests {
		assert.InDelta(t, tt.p, eval.Precision(ranked, rel, tt.k), 1e-6, "P@%d", tt.k)
		assert.InDelta(t, tt.r, eval.Recall(ranked, rel, tt.k), 1e-6, "R@%d", tt.k)
		assert.InDelta(t, tt.ap, eval.AveragePrecision(ranked, rel, tt.k), 1e-6, "AP@%d", tt.k)
		assert.InDelta(t, tt.ndcg, eval.NDCG(ranked, rel, tt.k), 1e-6, "nDCG@%d", tt.k)
	}
}

// A ranker that repeats an item must not score it twice: Recall@k, nDCG@k
// and AP@k above 1 would be nonsense, and Precision@k would reward padding.
func TestMetricsCountARepeatedItemOnce(t *testing.T) {
	rel := set("a", "b")
	ranked := []string{"a", "a", "a"}
	assert.InDelta(t, 1.0/3, eval.Precision(ranked, rel, 3), 1e-12)
	assert.InDelta(t, 0.5, eval.Recall(ranked, rel, 3), 1e-12)
	assert.InDelta(t, 1/(1+1/math.Log2(3)), eval.NDCG(ranked, rel, 3), 1e-12)
	assert.InDelta(t, 0.5, eval.AveragePrecision(ranked, rel, 3), 1e-12)
	m := eval.Evaluate(eval.Split{Test: map[string][]string{"p": {"a"}}}, 2, 10,
		func(string, []string, int) []string { return []string{"a", "a"} })
	assert.InDelta(t, 1.0, m.Recall, 1e-12)
	assert.InDelta(t, 1.0, m.NDCG, 1e-12)
	assert.InDelta(t, 0.5, m.Precision, 1e-12)
}

func interactions(n, items int, seed uint64) []recommend.Interaction {
	r := rand.New(rand.NewPCG(seed, 1))
	var out []recommend.Interaction
	t0 := time.Date(2011, 1, 1, 0, 0, 0, 0, time.UTC)
	for p := 0; p < n; p++ {
		for k := 0; k < 4+r.IntN(12); k++ {
			out = append(out, recommend.Interaction{Person: fmt.Sprint("p", p), Item: fmt.Sprint("i", r.IntN(items)), At: t0.Add(time.Duration(r.IntN(300*24)) * time.Hour)})
		}
	}
	return out
}

func TestRandomSplit(t *testing.T) {
	in := interactions(50, 40, 1)
	s, err := eval.RandomSplit(in, 0.25, 42)
	require.NoError(t, err)
	rev := make([]recommend.Interaction, len(in))
	for i := range in {
		rev[len(in)-1-i] = in[i]
	}
	s2, err := eval.RandomSplit(rev, 0.25, 42)
	require.NoError(t, err)
	assert.Equal(t, s.Test, s2.Test, "independent of input order")
	s3, _ := eval.RandomSplit(in, 0.25, 43)
	assert.NotEqual(t, s.Test, s3.Test, "the seed matters")
	train := map[string]map[string]bool{}
	for _, x := range s.Train {
		if train[x.Person] == nil {
			train[x.Person] = map[string]bool{}
		}
		assert.False(t, train[x.Person][x.Item], "train is deduplicated")
		train[x.Person][x.Item] = true
	}
	var nTest, nAll int
	for p, items := range s.Test {
		assert.NotEmpty(t, train[p], "every test person keeps training items")
		for _, it := range items {
			assert.False(t, train[p][it], "test and train are disjoint")
		}
		nTest += len(items)
	}
	for _, m := range train {
		nAll += len(m)
	}
	nAll += nTest
	assert.InDelta(t, 0.25, float64(nTest)/float64(nAll), 0.05)
	for _, f := range []float64{0, 1, -0.5, math.NaN()} {
		_, err := eval.RandomSplit(in, f, 1)
		assert.ErrorIs(t, err, eval.ErrInvalidFraction)
	}
}

func TestChronologicalSplit(t *testing.T) {
	t0 := time.Date(2011, 11, 1, 0, 0, 0, 0, time.UTC)
	in := []recommend.Interaction{
		{Person: "a", Item: "x", At: t0.Add(-time.Hour)},
		{Person: "a", Item: "y", At: t0.Add(time.Hour)},
		{Person: "a", Item: "x", At: t0.Add(2 * time.Hour)}, // re-bought: not relevant
		{Person: "b", Item: "z", At: t0.Add(time.Hour)},     // unknown before cutoff
		{Person: "c", Item: "x", At: t0.Add(-time.Hour)},    // no test items
		{Person: "a", Item: "", At: t0.Add(3 * time.Hour)},  // no item: skipped
	}
	s := eval.ChronologicalSplit(in, t0)
	assert.Len(t, s.Train, 2)
	assert.Equal(t, map[string][]string{"a": {"y"}}, s.Test)
}

func TestEvaluate(t *testing.T) {
	s := eval.Split{
		Train: []recommend.Interaction{{Person: "a", Item: "h1"}, {Person: "a", Item: "h1"}, {Person: "b", Item: "h2"}, {Person: "c", Item: "h3"}},
		Test:  map[string][]string{"a": {"x", "y"}, "b": {"z"}, "c": nil},
	}
	var gotHistory map[string][]string = map[string][]string{}
	perfect := func(p string, h []string, k int) []string {
		gotHistory[p] = h
		return s.Test[p]
	}
	m := eval.Evaluate(s, 2, 10, perfect)
	assert.Equal(t, 2, m.Users, "persons with nothing relevant are not evaluated")
	assert.InDelta(t, 1.0, m.NDCG, 1e-12)
	assert.InDelta(t, 1.0, m.Recall, 1e-12)
	assert.InDelta(t, (1.0+0.5)/2, m.Precision, 1e-12)
	assert.InDelta(t, 0.3, m.Coverage, 1e-12)
	assert.Equal(t, []string{"h1"}, gotHistory["a"], "the ranker sees the distinct training items")
	none := eval.Evaluate(s, 2, 10, func(string, []string, int) []string { return []string{"q", "r", "s"} })
	assert.Zero(t, none.NDCG)
	assert.Zero(t, eval.Evaluate(s, 0, 10, perfect).Users)
}

// Served ranks what a Recommender serves: the items of the model's
// popularity for a person with no usable history, never an item the
// person has, and never more than k.
func TestServed(t *testing.T) {
	w := recommendtest.Generate(recommendtest.Options{Seed: 3, Items: 200, Shoppers: 100})
	rank, err := eval.Served(w.Model(), w.Interactions, recommend.Config{})
	if err != nil {
		t.Fatal(err)
	}
	p := w.Shoppers[0].ID
	have := map[string]bool{}
	for _, x := range w.Interactions {
		if x.Person == p {
			have[x.Item] = true
		}
	}
	got := rank(p, nil, 10)
	if len(got) == 0 || len(got) > 10 {
		t.Fatalf("Served ranked %d items; want 1 to 10", len(got))
	}
	for _, id := range got {
		it, _ := w.Catalog.Lookup(id)
		if have[id] && !it.Replenishable {
			t.Errorf("Served recommended %s, which the person has", id)
		}
	}
	if got := rank("nobody-known", nil, 5); len(got) == 0 {
		t.Error("Served ranked nothing for a person with no history: popularity backfills")
	}
}
