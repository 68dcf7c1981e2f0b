package eval_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/eval"
	"github.com/tact-go/tact/recommend/recommendtest"
)

// The hand-made world of the audit tests: four items in two categories
// (x: a, b; y: c, d) and two suppliers (S1: a; S2: b, c, d), three persons.
//
//	person  country  training  relevant  list (k=2)
//	p1      DE       a b       c         c d
//	p2      DE       a c       b         d b
//	p3      FR       a         d         b
//
// Popularity (training persons): a 3, b 1, c 1, d 0; total 5, 80% is 4,
// so the head is {a, b} (b before c by id).
func handWorld(t testing.TB) (eval.Split, *recommend.Catalog, eval.Ranker) {
	cat, err := recommend.NewCatalog([]recommend.Item{
		{ID: "a", Category: "x"}, {ID: "b", Category: "x"}, {ID: "c", Category: "y"}, {ID: "d", Category: "y"},
	})
	require.NoError(t, err)
	s := eval.Split{
		Train: []recommend.Interaction{
			{Person: "p1", Item: "a"}, {Person: "p1", Item: "b"}, {Person: "p2", Item: "a"},
			{Person: "p2", Item: "c"}, {Person: "p3", Item: "a"}, {Person: "p3", Item: "a"}, // repeated: counts once
		},
		Test: map[string][]string{"p1": {"c"}, "p2": {"b"}, "p3": {"d"}, "p4": nil},
	}
	lists := map[string][]string{"p1": {"c", "d"}, "p2": {"d", "b"}, "p3": {"b"}}
	return s, cat, func(p string, _ []string, _ int) []string { return lists[p] }
}

var (
	country  = map[string]string{"p1": "DE", "p2": "DE", "p3": "FR"}
	supplier = map[string]string{"a": "S1", "b": "S2", "c": "S2", "d": "S2"}
	category = map[string]string{"a": "x", "b": "x", "c": "y", "d": "y"}
)

func handOptions(minSegment int) eval.AuditOptions {
	return eval.AuditOptions{
		MinSegment:    minSegment,
		Segmentations: []eval.Segmentation{{Name: "country", Of: func(p string) string { return country[p] }}},
		Groupings: []eval.Grouping{
			{Name: "supplier", Of: func(it string) string { return supplier[it] }},
			{Name: "category", Of: func(it string) string { return category[it] }},
		},
	}
}

// TestAuditByHand checks every figure of an audit against values worked
// out by hand for handWorld (v = 1/log2 3, the weight of the second place).
func TestAuditByHand(t *testing.T) {
	s, cat, rank := handWorld(t)
	r, err := eval.Audit(s, 2, cat, rank, handOptions(2))
	require.NoError(t, err)
	v := 1 / math.Log2(3)
	const d = 1e-12

	assert.Equal(t, 2, r.K)
	assert.Equal(t, 1, r.Runs)
	assert.Equal(t, 2, r.MinSegment)
	assert.Equal(t, 2, r.HeadItems, "a and b make 4 of 5 training interactions")
	all := r.All
	assert.Equal(t, "all", all.Label)
	assert.Equal(t, 3, all.Users, "p4 has nothing relevant")
	assert.InDelta(t, (1+v+0)/3, all.NDCG, d)
	assert.InDelta(t, 2.0/3, all.Recall, d)
	assert.InDelta(t, (1+0+0+1+1)/5.0, all.Popularity, d, "c d d b b")
	assert.InDelta(t, (3+1+3+1+3)/5.0, all.HistoryPopularity, d)
	assert.InDelta(t, 3.0/5, all.LongTail, d, "c, d, d are outside the head")
	assert.InDelta(t, 0.75, r.Coverage, d, "a is never recommended")
	// Lists per item: a 0, b 2, c 1, d 2: sorted 0 1 2 2,
	// Σ(2i−n−1)x = −3·0 −1·1 +1·2 +3·2 = 7, over n·Σx = 4·5.
	assert.InDelta(t, 7.0/20, r.Gini, d)
	assert.Zero(t, r.Outside)

	// Calibration (α = 0.01): p1 has only x and is shown only y: ln(1/α);
	// p2 has half x, half y and is shown y (weight 1) and x (weight v);
	// p3 has x and is shown x: 0.
	const alpha = 0.01
	qx, qy := v/(1+v), 1/(1+v)
	kl2 := 0.5*math.Log(0.5/((1-alpha)*qx+alpha*0.5)) + 0.5*math.Log(0.5/((1-alpha)*qy+alpha*0.5))
	assert.Equal(t, 3, all.Calibrated)
	assert.InDelta(t, (math.Log(1/alpha)+kl2+0)/3, all.Calibration, d)

	require.Len(t, r.Segmentations, 1)
	seg := r.Segmentations[0]
	assert.Equal(t, "country", seg.Name)
	assert.Equal(t, 1, seg.Hidden, "FR has one person")
	require.Len(t, seg.Shown, 1)
	assert.Equal(t, "DE", seg.Shown[0].Label)
	assert.Equal(t, 2, seg.Shown[0].Users)
	assert.InDelta(t, (1+v)/2, seg.Shown[0].NDCG, d)
	assert.InDelta(t, (math.Log(1/alpha)+kl2)/2, seg.Shown[0].Calibration, d)
	assert.True(t, math.IsNaN(seg.NDCGGap), "no gap with one segment shown")
	assert.Empty(t, seg.Best)

	// Exposure: a 0, b 1+v, c 1, d 1+v; total 3+2v.
	require.Len(t, r.Exposure, 2)
	sup := r.Exposure[0]
	assert.Equal(t, "supplier", sup.Name)
	assert.Equal(t, []eval.GroupShare{
		{Group: "S1", Items: 1, CatalogShare: 0.25, Exposure: 0, Ratio: 0},
		{Group: "S2", Items: 3, CatalogShare: 0.75, Exposure: 1, Ratio: 1 / 0.75},
	}, sup.Groups)
	cg := r.Exposure[1].Groups
	require.Len(t, cg, 2)
	assert.InDelta(t, (1+v)/(3+2*v), cg[0].Exposure, d)
	assert.InDelta(t, (2+v)/(3+2*v), cg[1].Exposure, d)
	assert.InDelta(t, cg[0].Exposure/0.5, cg[0].Ratio, d)

	// Every segment shown: the gaps.
	r1, err := eval.Audit(s, 2, cat, rank, handOptions(1))
	require.NoError(t, err)
	seg = r1.Segmentations[0]
	assert.Zero(t, seg.Hidden)
	require.Len(t, seg.Shown, 2)
	assert.Equal(t, "DE", seg.Best)
	assert.Equal(t, "FR", seg.Worst)
	assert.InDelta(t, (1+v)/2, seg.NDCGGap, d)
	assert.InDelta(t, 1, seg.RecallGap, d)
	assert.InDelta(t, 1.0, seg.Shown[1].Popularity, d, "FR is shown b")
}

// The popular head and the long tail follow HeadShare.
func TestAuditHeadShare(t *testing.T) {
	s, cat, rank := handWorld(t)
	r, err := eval.Audit(s, 2, cat, rank, eval.AuditOptions{HeadShare: 1})
	require.NoError(t, err)
	assert.Equal(t, 3, r.HeadItems, "every item someone has; never d")
	assert.InDelta(t, 2.0/5, r.All.LongTail, 1e-12, "only d is in the tail")
	r, err = eval.Audit(s, 2, cat, rank, eval.AuditOptions{HeadShare: 0.5})
	require.NoError(t, err)
	assert.Equal(t, 1, r.HeadItems, "a alone makes 3 of 5")
	assert.InDelta(t, 1.0, r.All.LongTail, 1e-12)
}

// An item ranked twice counts once, at its first place; an item outside
// the catalog counts in the per-person figures only; a list is cut to k.
func TestAuditRepeatsAndOutside(t *testing.T) {
	s, cat, _ := handWorld(t)
	rank := func(p string, _ []string, _ int) []string { return []string{"zz", "b", "b", "c", "d"} }
	r, err := eval.Audit(s, 3, cat, rank, eval.AuditOptions{
		Groupings: []eval.Grouping{{Name: "all", Of: func(string) string { return "one" }}},
	})
	require.NoError(t, err)
	assert.InDelta(t, 0.5, r.Outside, 1e-12, "zz is one of the two distinct places of each list")
	assert.InDelta(t, 0.5, r.All.Popularity, 1e-12, "zz has popularity 0, b 1")
	assert.InDelta(t, 0.5, r.All.LongTail, 1e-12, "zz is in the tail, b in the head")
	assert.InDelta(t, 0.25, r.Coverage, 1e-12, "only b, within k=3 and once")
	assert.InDelta(t, 1.0, r.Exposure[0].Groups[0].Exposure, 1e-12)
	// nDCG as Evaluate computes it.
	assert.InDelta(t, eval.Evaluate(s, 3, cat.Len(), rank).NDCG, r.All.NDCG, 1e-12)
}

// Auditing several rankers averages them.
func TestAuditAveragesRuns(t *testing.T) {
	s, cat, rank := handWorld(t)
	other := func(p string, _ []string, _ int) []string { return s.Test[p] }
	a, err := eval.NewAuditor(s, 2, cat, handOptions(1))
	require.NoError(t, err)
	r1, err := a.Audit(rank)
	require.NoError(t, err)
	r2, err := a.Audit(other)
	require.NoError(t, err)
	both, err := a.Audit(rank, other)
	require.NoError(t, err)
	assert.Equal(t, 2, both.Runs)
	assert.Equal(t, r1.All.Users, both.All.Users)
	assert.InDelta(t, (r1.All.NDCG+r2.All.NDCG)/2, both.All.NDCG, 1e-12)
	assert.InDelta(t, (r1.Coverage+r2.Coverage)/2, both.Coverage, 1e-12)
	assert.InDelta(t, (r1.Gini+r2.Gini)/2, both.Gini, 1e-12)
	assert.InDelta(t, (r1.All.Calibration+r2.All.Calibration)/2, both.All.Calibration, 1e-12)
	for i := range both.Segmentations[0].Shown {
		assert.InDelta(t, (r1.Segmentations[0].Shown[i].Recall+r2.Segmentations[0].Shown[i].Recall)/2,
			both.Segmentations[0].Shown[i].Recall, 1e-12)
	}
	again, err := a.Audit(rank)
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprint(r1), fmt.Sprint(again), "an Auditor is not changed by auditing")
}

func TestAuditErrors(t *testing.T) {
	s, cat, rank := handWorld(t)
	ok := func(string) string { return "x" }
	tests := []struct {
		name   string
		reason string
		s      eval.Split
		k      int
		cat    *recommend.Catalog
		o      eval.AuditOptions
		want   error
		option string // the OptionError's Option, if any
	}{
		{"k0", "lists of no item", s, 0, cat, eval.AuditOptions{}, eval.ErrInvalidK, ""},
		{"k-1", "negative k", s, -1, cat, eval.AuditOptions{}, eval.ErrInvalidK, ""},
		{"nil catalog", "shares need a catalog", s, 2, nil, eval.AuditOptions{}, eval.ErrEmptyCatalog, ""},
		{"empty catalog", "shares need a catalog", s, 2, mustCatalog(t), eval.AuditOptions{}, eval.ErrEmptyCatalog, ""},
		{"empty split", "nobody to audit", eval.Split{}, 2, cat, eval.AuditOptions{}, eval.ErrNoPersons, ""},
		{"nothing relevant", "nobody to audit", eval.Split{Train: s.Train, Test: map[string][]string{"p1": nil}}, 2, cat, eval.AuditOptions{}, eval.ErrNoPersons, ""},
		{"MinSegment", "negative", s, 2, cat, eval.AuditOptions{MinSegment: -1}, eval.ErrInvalidOption, "AuditOptions.MinSegment"},
		{"HeadShare NaN", "NaN", s, 2, cat, eval.AuditOptions{HeadShare: math.NaN()}, eval.ErrInvalidOption, "AuditOptions.HeadShare"},
		{"HeadShare >1", "more than everything", s, 2, cat, eval.AuditOptions{HeadShare: 1.5}, eval.ErrInvalidOption, "AuditOptions.HeadShare"},
		{"HeadShare <0", "negative", s, 2, cat, eval.AuditOptions{HeadShare: -0.1}, eval.ErrInvalidOption, "AuditOptions.HeadShare"},
		{"Alpha NaN", "NaN", s, 2, cat, eval.AuditOptions{Alpha: math.NaN()}, eval.ErrInvalidOption, "AuditOptions.Alpha"},
		{"Alpha 1", "no calibration left", s, 2, cat, eval.AuditOptions{Alpha: 1}, eval.ErrInvalidOption, "AuditOptions.Alpha"},
		{"Alpha Inf", "infinite", s, 2, cat, eval.AuditOptions{Alpha: math.Inf(1)}, eval.ErrInvalidOption, "AuditOptions.Alpha"},
		{"segmentation name", "empty", s, 2, cat, eval.AuditOptions{Segmentations: []eval.Segmentation{{Of: ok}}}, eval.ErrInvalidOption, "Segmentations[0].Name"},
		{"segmentation dup", "two by one name", s, 2, cat, eval.AuditOptions{Segmentations: []eval.Segmentation{{Name: "n", Of: ok}, {Name: "n", Of: ok}}}, eval.ErrInvalidOption, "Segmentations[1].Name"},
		{"segmentation nil", "no function", s, 2, cat, eval.AuditOptions{Segmentations: []eval.Segmentation{{Name: "n"}}}, eval.ErrInvalidOption, "Segmentations[0].Of"},
		{"grouping name", "empty", s, 2, cat, eval.AuditOptions{Groupings: []eval.Grouping{{Of: ok}}}, eval.ErrInvalidOption, "Groupings[0].Name"},
		{"grouping dup", "two by one name", s, 2, cat, eval.AuditOptions{Groupings: []eval.Grouping{{Name: "n", Of: ok}, {Name: "n", Of: ok}}}, eval.ErrInvalidOption, "Groupings[1].Name"},
		{"grouping nil", "no function", s, 2, cat, eval.AuditOptions{Groupings: []eval.Grouping{{Name: "n"}}}, eval.ErrInvalidOption, "Groupings[0].Of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := eval.NewAuditor(tt.s, tt.k, tt.cat, tt.o)
			assert.Nil(t, a)
			require.ErrorIs(t, err, tt.want, tt.reason)
			assert.True(t, strings.HasPrefix(err.Error(), "eval: "), err.Error())
			var oe *eval.OptionError
			assert.Equal(t, tt.option != "", errors.As(err, &oe))
			if oe != nil {
				assert.Equal(t, tt.option, oe.Option)
			}
			_, err = eval.Audit(tt.s, tt.k, tt.cat, rank, tt.o)
			assert.ErrorIs(t, err, tt.want, "Audit validates as NewAuditor")
		})
	}
	a, err := eval.NewAuditor(s, 2, cat, eval.AuditOptions{})
	require.NoError(t, err)
	_, err = a.Audit()
	assert.ErrorIs(t, err, eval.ErrNoRanker)
	_, err = a.Audit(rank, nil)
	assert.ErrorIs(t, err, eval.ErrNoRanker)
	_, err = eval.Audit(s, 2, cat, nil, eval.AuditOptions{})
	assert.ErrorIs(t, err, eval.ErrNoRanker)
}

func mustCatalog(t testing.TB, items ...recommend.Item) *recommend.Catalog {
	c, err := recommend.NewCatalog(items)
	require.NoError(t, err)
	return c
}

// Compare answers "which segment does the other model cost most", by the
// ratio of nDCG per segment.
func TestCompare(t *testing.T) {
	s, cat, _ := handWorld(t)
	perfect := func(p string, _ []string, _ int) []string { return s.Test[p] }
	other := func(p string, _ []string, _ int) []string {
		if p == "p2" {
			return []string{"zz", "b"}
		}
		return s.Test[p]
	}
	a, err := eval.NewAuditor(s, 2, cat, handOptions(1))
	require.NoError(t, err)
	base, err := a.Audit(perfect)
	require.NoError(t, err)
	oth, err := a.Audit(other)
	require.NoError(t, err)
	c, err := eval.Compare(base, oth)
	require.NoError(t, err)
	v := 1 / math.Log2(3)
	assert.Equal(t, 2, c.K)
	assert.Equal(t, 3, c.All.Users)
	assert.InDelta(t, (2+v)/3, c.All.NDCGRatio, 1e-12)
	assert.InDelta(t, 1, c.All.RecallRatio, 1e-12)
	require.Len(t, c.Segmentations, 1)
	sc := c.Segmentations[0]
	require.Len(t, sc.Segments, 2)
	assert.Equal(t, "DE", sc.Segments[0].Label)
	assert.InDelta(t, (1+v)/2, sc.Segments[0].NDCGRatio, 1e-12)
	assert.InDelta(t, 1, sc.Segments[1].NDCGRatio, 1e-12)
	assert.Equal(t, "DE", sc.Hardest)
	assert.Equal(t, "FR", sc.Easiest)
	assert.InDelta(t, 1-(1+v)/2, sc.RatioGap, 1e-12)

	// A ratio over a base of 0 is undefined, and left out of the gap.
	nothing := func(string, []string, int) []string { return nil }
	zero, err := a.Audit(nothing)
	require.NoError(t, err)
	c, err = eval.Compare(zero, base)
	require.NoError(t, err)
	assert.True(t, math.IsNaN(c.All.NDCGRatio))
	assert.Empty(t, c.Segmentations[0].Hardest)
	assert.True(t, math.IsNaN(c.Segmentations[0].RatioGap))

	// Audits of different persons or k do not compare.
	k3, err := eval.Audit(s, 3, cat, perfect, handOptions(1))
	require.NoError(t, err)
	_, err = eval.Compare(base, k3)
	assert.ErrorIs(t, err, eval.ErrMismatch)
	fewer := eval.Split{Train: s.Train, Test: map[string][]string{"p1": {"c"}, "p2": {"b"}}}
	r, err := eval.Audit(fewer, 2, cat, perfect, handOptions(1))
	require.NoError(t, err)
	_, err = eval.Compare(base, r)
	assert.ErrorIs(t, err, eval.ErrMismatch)
	moved := base
	moved.Segmentations = slices.Clone(base.Segmentations)
	moved.Segmentations[0].Shown = slices.Clone(base.Segmentations[0].Shown)
	moved.Segmentations[0].Shown[0].Users++
	_, err = eval.Compare(base, moved)
	assert.ErrorIs(t, err, eval.ErrMismatch, "a segment of other persons")
}

func TestActivityLevels(t *testing.T) {
	var train []recommend.Interaction
	test := map[string][]string{}
	for p, n := range map[string]int{"one": 1, "three": 3, "five": 5, "twenty": 20} {
		for i := range n {
			train = append(train, recommend.Interaction{Person: p, Item: fmt.Sprint("i", i)})
		}
		train = append(train, recommend.Interaction{Person: p, Item: "i0"}) // repeated: counts once
		test[p] = []string{"r"}
	}
	s := eval.Split{Train: train, Test: test}
	seg, err := eval.ActivityLevels(s, 2, 5)
	require.NoError(t, err)
	assert.Equal(t, "activity", seg.Name)
	assert.Equal(t, []string{"0-1", "2-4", "5+"}, seg.Order)
	for p, want := range map[string]string{"one": "0-1", "three": "2-4", "five": "5+", "twenty": "5+", "unknown": "0-1"} {
		assert.Equal(t, want, seg.Of(p), p)
	}
	seg, err = eval.ActivityLevels(s, 1)
	require.NoError(t, err)
	assert.Equal(t, []string{"0", "1+"}, seg.Order)

	// Terciles of 1, 3, 5, 20: the counts at 4/3 and 8/3, that is 3 and 5.
	seg, err = eval.ActivityLevels(s)
	require.NoError(t, err)
	assert.Equal(t, []string{"0-2", "3-4", "5+"}, seg.Order)
	assert.Equal(t, "0-2", seg.Of("one"))

	for _, edges := range [][]int{{0}, {-1}, {5, 5}, {5, 2}} {
		_, err := eval.ActivityLevels(s, edges...)
		assert.ErrorIs(t, err, eval.ErrInvalidOption, "%v", edges)
	}

	// In an audit, the segments follow the order of the levels.
	cat := mustCatalog(t, recommend.Item{ID: "r"})
	seg, err = eval.ActivityLevels(s, 2, 5)
	require.NoError(t, err)
	r, err := eval.Audit(s, 1, cat, func(string, []string, int) []string { return []string{"r"} },
		eval.AuditOptions{MinSegment: 1, Segmentations: []eval.Segmentation{seg}})
	require.NoError(t, err)
	var labels []string
	for _, sl := range r.Segmentations[0].Shown {
		labels = append(labels, sl.Label)
	}
	assert.Equal(t, []string{"0-1", "2-4", "5+"}, labels)
}

func TestAuditWriteTable(t *testing.T) {
	s, cat, rank := handWorld(t)
	r, err := eval.Audit(s, 2, cat, rank, handOptions(2))
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, r.WriteTable(&b))
	out := b.String()
	for _, want := range []string{
		"bias audit at k=2: 3 persons; coverage 75.0%, Gini 0.350",
		"| all   |       3 | 0.544 |  0.667 |",
		"by country (1 shown, 1 hidden with fewer than 2 persons)",
		"| DE      |       2 |",
		"| S2       |     3 |   75.0% |   100.0% | 1.333 |",
	} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "FR", "a hidden segment appears nowhere")

	other := func(p string, _ []string, _ int) []string { return s.Test[p] }
	o, err := eval.Audit(s, 2, cat, other, handOptions(1))
	require.NoError(t, err)
	r1, err := eval.Audit(s, 2, cat, rank, handOptions(1))
	require.NoError(t, err)
	c, err := eval.Compare(o, r1)
	require.NoError(t, err)
	b.Reset()
	require.NoError(t, c.WriteTable(&b))
	assert.Contains(t, b.String(), "by country: costs FR most, DE least")
	assert.Contains(t, b.String(), "| FR      |       1 |     1.000 |      0.000 | 0.000 |")
}

// randomAudit builds a random world: a catalog, a split, segment and
// group labels, and a random ranker (which may repeat items and name items
// outside the catalog).
func randomAudit(seed uint64) (eval.Split, *recommend.Catalog, eval.Ranker, eval.AuditOptions, map[string]string) {
	r := rand.New(rand.NewPCG(seed, 99))
	nItems := 1 + r.IntN(40)
	items := make([]recommend.Item, nItems)
	for i := range items {
		items[i] = recommend.Item{ID: fmt.Sprint("i", i), Category: fmt.Sprint("c", r.IntN(4))}
		if r.IntN(5) == 0 {
			items[i].Category = ""
		}
	}
	cat, _ := recommend.NewCatalog(items)
	s := eval.Split{Test: map[string][]string{}}
	labels := map[string]string{}
	for p := range 1 + r.IntN(60) {
		id := fmt.Sprint("p", p)
		for range r.IntN(8) {
			s.Train = append(s.Train, recommend.Interaction{Person: id, Item: fmt.Sprint("i", r.IntN(nItems+3))})
		}
		for range r.IntN(3) {
			s.Test[id] = append(s.Test[id], fmt.Sprint("i", r.IntN(nItems)))
		}
		if r.IntN(6) > 0 {
			labels[id] = fmt.Sprint("s", r.IntN(5))
		}
	}
	s.Test["p0"] = append(s.Test["p0"], "i0") // someone to audit
	rankSeed := r.Uint64()
	rank := func(p string, h []string, k int) []string {
		rr := rand.New(rand.NewPCG(rankSeed, uint64(len(p))+uint64(len(h))))
		out := make([]string, rr.IntN(k+3))
		for i := range out {
			out[i] = fmt.Sprint("i", rr.IntN(nItems+2))
		}
		return out
	}
	o := eval.AuditOptions{
		MinSegment:    1 + r.IntN(8),
		HeadShare:     0.05 + 0.95*r.Float64(),
		Alpha:         0.001 + 0.5*r.Float64(),
		Segmentations: []eval.Segmentation{{Name: "seg", Of: func(p string) string { return labels[p] }}},
		Groupings:     []eval.Grouping{{Name: "g", Of: func(it string) string { return string(it[len(it)-1]) }}},
	}
	return s, cat, rank, o, labels
}

// Properties of every audit: figures in range, shares that sum to 1,
// hidden segments nowhere, and the overall figures those of Evaluate.
func TestAuditProperties(t *testing.T) {
	for seed := range uint64(300) {
		s, cat, rank, o, labels := randomAudit(seed)
		k := 1 + int(seed%12)
		r, err := eval.Audit(s, k, cat, rank, o)
		require.NoError(t, err, "seed %d", seed)
		m := eval.Evaluate(s, k, cat.Len(), rank)
		require.Equal(t, m.Users, r.All.Users, "seed %d", seed)
		require.InDelta(t, m.NDCG, r.All.NDCG, 1e-9, "seed %d", seed)
		require.InDelta(t, m.Recall, r.All.Recall, 1e-9, "seed %d", seed)

		if !math.IsNaN(r.Gini) {
			require.True(t, r.Gini >= 0 && r.Gini <= 1-1/float64(cat.Len())+1e-12, "seed %d: Gini %v", seed, r.Gini)
		}
		require.True(t, r.Coverage >= 0 && r.Coverage <= 1)
		for _, x := range []float64{r.All.LongTail, r.Outside} {
			require.True(t, math.IsNaN(x) || (x >= 0 && x <= 1), "seed %d", seed)
		}
		kl := r.All.Calibration
		require.True(t, math.IsNaN(kl) || (kl >= 0 && kl <= math.Log(1/o.Alpha)+1e-9), "seed %d: KL %v", seed, kl)

		for _, e := range r.Exposure {
			var exp, share float64
			n := 0
			for _, g := range e.Groups {
				exp += g.Exposure
				share += g.CatalogShare
				n += g.Items
			}
			require.Equal(t, cat.Len(), n)
			require.InDelta(t, 1, share, 1e-9)
			if !math.IsNaN(exp) {
				require.InDelta(t, 1, exp, 1e-9, "seed %d: exposure shares sum to 1", seed)
			}
		}

		// Segments: count the audited persons per label independently.
		count := map[string]int{}
		for p, rel := range s.Test {
			if len(rel) > 0 && labels[p] != "" {
				count[labels[p]]++
			}
		}
		seg := r.Segmentations[0]
		hidden := 0
		for l, n := range count {
			if n < r.MinSegment {
				hidden++
				require.False(t, slices.ContainsFunc(seg.Shown, func(x eval.Slice) bool { return x.Label == l }), "seed %d: hidden %s shown", seed, l)
			}
		}
		require.Equal(t, hidden, seg.Hidden, "seed %d", seed)
		require.Len(t, seg.Shown, len(count)-hidden)
		for _, x := range seg.Shown {
			require.GreaterOrEqual(t, x.Users, r.MinSegment, "seed %d", seed)
			require.Equal(t, count[x.Label], x.Users, "seed %d", seed)
			require.False(t, math.IsNaN(x.NDCG))
		}
		if len(seg.Shown) >= 2 {
			require.GreaterOrEqual(t, seg.NDCGGap, 0.0)
		}
		var b bytes.Buffer
		require.NoError(t, r.WriteTable(&b))
		for l, n := range count {
			if n < r.MinSegment {
				require.NotContains(t, b.String(), "| "+l+" ", "seed %d: hidden segment in the table", seed)
			}
		}
	}
}

// Segments that hold everyone average to the overall figures.
func TestAuditSegmentsAddUp(t *testing.T) {
	for seed := range uint64(100) {
		s, cat, rank, o, _ := randomAudit(seed)
		o.MinSegment = 1
		o.Segmentations = []eval.Segmentation{{Name: "parity", Of: func(p string) string { return fmt.Sprint(len(p) % 2) }}}
		r, err := eval.Audit(s, 5, cat, rank, o)
		require.NoError(t, err)
		var users int
		var ndcg, recall float64
		for _, x := range r.Segmentations[0].Shown {
			users += x.Users
			ndcg += float64(x.Users) * x.NDCG
			recall += float64(x.Users) * x.Recall
		}
		require.Equal(t, r.All.Users, users)
		require.InDelta(t, r.All.NDCG*float64(users), ndcg, 1e-9)
		require.InDelta(t, r.All.Recall*float64(users), recall, 1e-9)
	}
}

// Equal exposure gives a Gini index of 0 and full coverage; equal category
// mixes a calibration of 0.
func TestAuditUniform(t *testing.T) {
	for seed := range uint64(50) {
		s, cat, _, o, _ := randomAudit(seed)
		var ids []string
		for it := range cat.All() {
			ids = append(ids, it.ID)
		}
		everything := func(string, []string, int) []string { return ids }
		o.Category = func(string) string { return "same" }
		r, err := eval.Audit(s, len(ids), cat, everything, o)
		require.NoError(t, err)
		assert.Zero(t, r.Gini, "seed %d", seed)
		assert.InDelta(t, 1.0, r.Coverage, 1e-12)
		if r.All.Calibrated > 0 {
			assert.Zero(t, r.All.Calibration, "seed %d", seed)
		} else {
			assert.True(t, math.IsNaN(r.All.Calibration), "seed %d: no one to calibrate", seed)
		}
	}
}

func BenchmarkAudit(b *testing.B) {
	w := recommendtest.Generate(recommendtest.Options{Seed: 1, Items: 2000, Shoppers: 1000})
	s, err := eval.RandomSplit(w.Interactions, 0.25, 1)
	require.NoError(b, err)
	rank := popular(s)
	dept := map[string]string{}
	for d, ids := range w.ByDepartment {
		for _, id := range ids {
			dept[id] = d
		}
	}
	seg, err := eval.ActivityLevels(s)
	require.NoError(b, err)
	o := eval.AuditOptions{
		Segmentations: []eval.Segmentation{seg, {Name: "tier", Of: func(p string) string { return string(p[len(p)-1]) }}},
		Groupings:     []eval.Grouping{{Name: "department", Of: func(id string) string { return dept[id] }}},
	}
	b.Run("NewAuditor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := eval.NewAuditor(s, 10, w.Catalog, o); err != nil {
				b.Fatal(err)
			}
		}
	})
	a, err := eval.NewAuditor(s, 10, w.Catalog, o)
	require.NoError(b, err)
	b.Run("Audit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Audit(rank); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The baseline: Evaluate with the same ranker.
	b.Run("Evaluate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			eval.Evaluate(s, 10, w.Catalog.Len(), rank)
		}
	})
}

// popular ranks the most popular training items a person does not have.
func popular(s eval.Split) eval.Ranker {
	n := map[string]int{}
	for _, x := range s.Train {
		n[x.Item]++
	}
	var ids []string
	for id := range n {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(x, y string) int {
		if c := n[y] - n[x]; c != 0 {
			return c
		}
		return strings.Compare(x, y)
	})
	return func(_ string, h []string, k int) []string {
		out := make([]string, 0, k)
		for _, id := range ids {
			if len(out) == k {
				break
			}
			if _, has := slices.BinarySearch(h, id); !has {
				out = append(out, id)
			}
		}
		return out
	}
}

// Segments follow the segmentation's Order, then label order; a label of
// Order that nobody has is neither shown nor counted as hidden.
func TestAuditSegmentOrder(t *testing.T) {
	s, cat, rank := handWorld(t)
	o := handOptions(1)
	o.Segmentations[0].Order = []string{"XX", "FR"}
	r, err := eval.Audit(s, 2, cat, rank, o)
	require.NoError(t, err)
	seg := r.Segmentations[0]
	require.Len(t, seg.Shown, 2)
	assert.Equal(t, "FR", seg.Shown[0].Label)
	assert.Equal(t, "DE", seg.Shown[1].Label)
	assert.Zero(t, seg.Hidden)
}
