package eval

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// SliceChange compares the audit of one slice (all persons or a segment)
// under two models.
type SliceChange struct {
	// Label and Users are those of the slice.
	Label string
	Users int
	// Base and Other are the slice's audits under the two models.
	Base, Other Slice
	// NDCGRatio and RecallRatio are Other's nDCG and Recall over Base's:
	// below 1 the other model serves the slice worse (NaN when Base's is
	// 0).
	NDCGRatio, RecallRatio float64
}

// SegmentsChange compares the segments of one segmentation under two
// models.
type SegmentsChange struct {
	// Name is the segmentation's name.
	Name string
	// Segments are the segments shown in both audits, in the base's
	// order.
	Segments []SliceChange
	// Hardest and Easiest are the segments with the lowest and highest
	// NDCGRatio: the ones the other model costs most and least ("" with
	// fewer than two segments with a ratio).
	Hardest, Easiest string
	// RatioGap is the highest NDCGRatio minus the lowest (NaN with fewer
	// than two): 0 when the other model costs every segment the same
	// share of its nDCG.
	RatioGap float64
}

// Comparison compares two audits of the same persons: a base model (for
// example exact counts) and another (the same model trained with
// differential privacy). It answers whether the other model costs some
// segments more than others.
type Comparison struct {
	// K is the audits' k.
	K int
	// All compares all audited persons.
	All SliceChange
	// Segmentations compare each segmentation found in both audits, in
	// the base's order.
	Segmentations []SegmentsChange
}

// Compare compares the audit other with the audit base. Both must audit
// the same persons at the same k (the same split, options and Auditor, or
// equal ones): it returns [ErrMismatch] when k, the number of persons or
// that of a segment shown in both differ. Segmentations and segments
// present in only one audit are left out.
func Compare(base, other AuditReport) (Comparison, error) {
	if base.K != other.K {
		return Comparison{}, fmt.Errorf("%w: k %d and %d", ErrMismatch, base.K, other.K)
	}
	if base.All.Users != other.All.Users {
		return Comparison{}, fmt.Errorf("%w: %d and %d persons", ErrMismatch, base.All.Users, other.All.Users)
	}
	c := Comparison{K: base.K, All: change(base.All, other.All)}
	for _, bs := range base.Segmentations {
		i := slices.IndexFunc(other.Segmentations, func(s Segments) bool { return s.Name == bs.Name })
		if i < 0 {
			continue
		}
		os := other.Segmentations[i]
		sc := SegmentsChange{Name: bs.Name, RatioGap: math.NaN()}
		for _, b := range bs.Shown {
			j := slices.IndexFunc(os.Shown, func(s Slice) bool { return s.Label == b.Label })
			if j < 0 {
				continue
			}
			if o := os.Shown[j]; o.Users != b.Users {
				return Comparison{}, fmt.Errorf("%w: segment %s=%s has %d and %d persons", ErrMismatch, bs.Name, b.Label, b.Users, o.Users)
			}
			sc.Segments = append(sc.Segments, change(b, os.Shown[j]))
		}
		var rated []SliceChange
		for _, s := range sc.Segments {
			if !math.IsNaN(s.NDCGRatio) {
				rated = append(rated, s)
			}
		}
		if len(rated) >= 2 {
			byRatio := func(x, y SliceChange) int { return cmp.Compare(x.NDCGRatio, y.NDCGRatio) }
			lo, hi := slices.MinFunc(rated, byRatio), slices.MaxFunc(rated, byRatio)
			sc.Hardest, sc.Easiest, sc.RatioGap = lo.Label, hi.Label, hi.NDCGRatio-lo.NDCGRatio
		}
		c.Segmentations = append(c.Segmentations, sc)
	}
	return c, nil
}

func change(b, o Slice) SliceChange {
	return SliceChange{Label: b.Label, Users: b.Users, Base: b, Other: o,
		NDCGRatio: ratio(o.NDCG, b.NDCG), RecallRatio: ratio(o.Recall, b.Recall)}
}

// WriteTable writes the report as Markdown tables: the overall figures,
// then one table per segmentation and per grouping. Undefined figures
// (NaN) are written as "-".
func (r AuditReport) WriteTable(w io.Writer) error {
	b := bufio.NewWriter(w)
	runs := ""
	if r.Runs > 1 {
		runs = fmt.Sprintf(", mean of %d runs", r.Runs)
	}
	fmt.Fprintf(b, "bias audit at k=%d%s: %d persons; coverage %s, Gini %s, outside the catalog %s; the %d most popular items make the head\n\n",
		r.K, runs, r.All.Users, pct(r.Coverage), num(r.Gini), pct(r.Outside), r.HeadItems)
	sliceTable(b, "slice", []Slice{r.All})
	for _, s := range r.Segmentations {
		fmt.Fprintf(b, "\nby %s (%d shown, %d hidden with fewer than %d persons)", s.Name, len(s.Shown), s.Hidden, r.MinSegment)
		if s.Best != "" {
			fmt.Fprintf(b, "; nDCG gap %s (best %s, worst %s), recall gap %s", num(s.NDCGGap), s.Best, s.Worst, num(s.RecallGap))
		}
		fmt.Fprintf(b, "\n\n")
		if len(s.Shown) > 0 {
			sliceTable(b, s.Name, s.Shown)
		}
	}
	for _, e := range r.Exposure {
		fmt.Fprintf(b, "\nexposure by %s (position-weighted, against the share of the catalog)\n\n", e.Name)
		t := table{head: []string{e.Name, "items", "catalog", "exposure", "ratio"}}
		for _, g := range e.Groups {
			t.add(label(g.Group), fmt.Sprint(g.Items), pct(g.CatalogShare), pct(g.Exposure), num(g.Ratio))
		}
		t.write(b)
	}
	return b.Flush()
}

// WriteTable writes the comparison as Markdown tables, one row per
// segment: persons, nDCG and Recall of both models and their ratios.
// Undefined figures (NaN) are written as "-".
func (c Comparison) WriteTable(w io.Writer) error {
	b := bufio.NewWriter(w)
	changeTable(b, "slice", []SliceChange{c.All})
	for _, s := range c.Segmentations {
		fmt.Fprintf(b, "\nby %s", s.Name)
		if s.Hardest != "" {
			fmt.Fprintf(b, ": costs %s most, %s least; nDCG ratio gap %s", s.Hardest, s.Easiest, num(s.RatioGap))
		}
		fmt.Fprintf(b, "\n\n")
		if len(s.Segments) > 0 {
			changeTable(b, s.Name, s.Segments)
		}
	}
	return b.Flush()
}

func sliceTable(w io.Writer, name string, s []Slice) {
	t := table{head: []string{name, "persons", "nDCG", "recall", "popularity", "history pop.", "long tail", "calibration KL"}}
	for _, x := range s {
		t.add(label(x.Label), fmt.Sprint(x.Users), num(x.NDCG), num(x.Recall), num(x.Popularity), num(x.HistoryPopularity), pct(x.LongTail), num(x.Calibration))
	}
	t.write(w)
}

func changeTable(w io.Writer, name string, s []SliceChange) {
	t := table{head: []string{name, "persons", "nDCG base", "nDCG other", "ratio", "recall base", "recall other", "ratio"}}
	for _, x := range s {
		t.add(label(x.Label), fmt.Sprint(x.Users), num(x.Base.NDCG), num(x.Other.NDCG), num(x.NDCGRatio), num(x.Base.Recall), num(x.Other.Recall), num(x.RecallRatio))
	}
	t.write(w)
}

// table is a Markdown table with columns as wide as their cells.
type table struct {
	head []string
	rows [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) {
	width := make([]int, len(t.head))
	for _, r := range append([][]string{t.head}, t.rows...) {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	line := func(cells []string) {
		for i, c := range cells {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if i == 0 {
				fmt.Fprintf(w, "| %s%s ", c, pad) // labels left, numbers right
			} else {
				fmt.Fprintf(w, "| %s%s ", pad, c)
			}
		}
		fmt.Fprintln(w, "|")
	}
	line(t.head)
	for i := range t.head {
		sep := strings.Repeat("-", width[i])
		if i == 0 {
			fmt.Fprintf(w, "|:%s-", sep)
		} else {
			fmt.Fprintf(w, "|-%s:", sep)
		}
	}
	fmt.Fprintln(w, "|")
	for _, r := range t.rows {
		line(r)
	}
}

// label writes a label as a table cell: "" visibly, "|" escaped.
func label(s string) string {
	if s == "" {
		return `""`
	}
	return strings.ReplaceAll(s, "|", `\|`)
}

// num and pct format a figure, "-" for NaN.
func num(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	return fmt.Sprintf("%.3f", x)
}

func pct(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*x)
}
