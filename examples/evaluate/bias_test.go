package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tact-go/tact/recommend/eval"
)

// writeGenreFixture writes a MovieLens ratings.csv whose persons differ
// in activity (4, 8 or 12 movies) and a movies.csv beside it.
func writeGenreFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var ml, mv strings.Builder
	ml.WriteString("userId,movieId,rating,timestamp\n")
	for u := 1; u <= 30; u++ {
		for m := 0; m < 4+4*(u%3); m++ {
			fmt.Fprintf(&ml, "%d,%d,4.0,%d\n", u, (u%3)*10+m%10+m/10, 964982703+m)
		}
	}
	mv.WriteString("movieId,title,genres\n")
	for m := 0; m < 40; m++ {
		fmt.Fprintf(&mv, "%d,Movie %d,%s\n", m, m, []string{"Comedy", "Drama|Comedy", "Horror|Comedy"}[m%3])
	}
	ratings := filepath.Join(dir, "ratings.csv")
	if err := os.WriteFile(ratings, []byte(ml.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "movies.csv"), []byte(mv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return ratings
}

func TestEvaluateBias(t *testing.T) {
	_, retail := writeFixtures(t)
	ratings := writeGenreFixture(t)
	dir := t.TempDir()
	var out bytes.Buffer
	if err := evaluate([]string{"-movielens", ratings, "-retail", retail, "-k", "5", "-dp-runs", "2", "-epsilons", "8", "-bias", "-svg", dir}, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"## Bias audit: MovieLens ml-latest-small", "## Bias audit: UCI Online Retail",
		"genre: the most specific genre", "exposure by genre",
		"| Comedy ", "| Drama ", "| Horror ",
		"price band: the median unit price",
		"\nby activity (3 shown", "\nby country (1 shown",
		"- best DP ε=1 vs EASE (exact counts), by activity: overall it keeps ", "% of the exact nDCG; it costs ",
		"| EASE (exact counts) ", "| best DP ε=1 ", "| served, defaults (DP ε=8) ",
		"### Exact vs DP: base EASE (exact counts), other best DP ε=1",
		"### Exact vs DP: base served, defaults (exact counts), other served, defaults (DP ε=8)",
		"exposure by price band",
		"- best DP ε=1 vs EASE (exact counts), by activity: overall it keeps ",
		"by country: overall it keeps ", "fewer than two segments shown",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	var svgs []string
	for _, name := range []string{"movielens-ndcg-activity", "movielens-kept-activity", "movielens-exposure", "movielens-popularity",
		"retail-ndcg-activity", "retail-kept-activity", "retail-ndcg-country", "retail-exposure", "retail-popularity"} {
		p := filepath.Join(dir, name+".svg")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("no chart %s: %v", name, err)
			continue
		}
		if err := xml.Unmarshal(b, new(struct{})); err != nil {
			t.Errorf("%s is not XML: %v", name, err)
		}
		if !strings.Contains(s, "wrote "+p+"\n") {
			t.Errorf("output does not name %s", p)
		}
		svgs = append(svgs, p)
	}
	if len(svgs) == 0 {
		t.Fatal("no chart")
	}
}

func TestEvaluateBiasWithoutGenres(t *testing.T) {
	ratings, _ := writeFixtures(t) // no movies.csv beside it
	dir := t.TempDir()
	var out bytes.Buffer
	if err := evaluate([]string{"-movielens", ratings, "-k", "5", "-dp-runs", "1", "-epsilons", "", "-bias-epsilons", "8", "-bias", "-svg", dir}, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if want := "no " + filepath.Join(filepath.Dir(ratings), "movies.csv") + ": no genre, so no exposure by genre and no calibration"; !strings.Contains(s, want) {
		t.Errorf("output lacks %q:\n%s", want, s)
	}
	if strings.Contains(s, "\nexposure by") {
		t.Errorf("no genre, no exposure table:\n%s", s)
	}
	if _, err := os.Stat(filepath.Join(dir, "movielens-exposure.svg")); err == nil {
		t.Error("no genre, no exposure chart")
	}
	if _, err := os.Stat(filepath.Join(dir, "movielens-ndcg-activity.svg")); err != nil {
		t.Errorf("the other charts are still drawn: %v", err)
	}
}

func TestEvaluateBiasFlags(t *testing.T) {
	ratings, _ := writeFixtures(t)
	var out bytes.Buffer
	if err := evaluate([]string{"-movielens", ratings, "-epsilons", "8"}, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "Bias audit") {
		t.Errorf("no -bias, no audit:\n%s", out.String())
	}
	for _, args := range [][]string{
		{"-movielens", ratings, "-svg", t.TempDir()},
		{"-movielens", ratings, "-bias", "-bias-epsilons", "0"},
	} {
		if err := evaluate(args, &out); !errors.Is(err, errUsage) {
			t.Errorf("%v: %v; want errUsage", args, err)
		}
	}
}

func TestLoadGenres(t *testing.T) {
	dir := t.TempDir()
	movies := "movieId,title,genres\n" +
		"1,Toy Story (1995),Adventure|Animation|Children|Comedy\n" +
		"2,A,Comedy\n3,B,Comedy|Drama\n4,C,Adventure|Comedy\n5,D,Drama|IMAX\n6,E,IMAX\n7,\"Title, with comma\",Animation|Drama\n"
	if err := os.WriteFile(filepath.Join(dir, "movies.csv"), []byte(movies), 0o600); err != nil {
		t.Fatal(err)
	}
	ratings := filepath.Join(dir, "ratings.csv")
	if err := os.WriteFile(ratings, []byte("userId,movieId,rating,timestamp\n1,1,4.0,964982703\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := loadMovieLens(ratings)
	if err != nil {
		t.Fatal(err)
	}
	// Movies per genre: Comedy 4, Drama 3, Adventure 2, Animation 2,
	// Children 1; IMAX 1, but only where it stands alone.
	want := map[string]string{"m1": "Children", "m2": "Comedy", "m3": "Drama", "m4": "Adventure", "m5": "Drama", "m6": "IMAX", "m7": "Animation"}
	for id, g := range want {
		if d.group[id] != g {
			t.Errorf("genre of %s = %q; want %q", id, d.group[id], g)
		}
	}
	if d.groupName != "genre" || !strings.Contains(d.groupNote, "most specific genre") {
		t.Errorf("group %q, note %q", d.groupName, d.groupNote)
	}
}

func TestLoadRetailAttributes(t *testing.T) {
	_, retail := writeFixtures(t)
	d, err := loadRetail(retail)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.country) != 20 || d.country["c12000"] != "United Kingdom" {
		t.Errorf("countries %v; want the 20 customers in the United Kingdom (the French postage line is skipped)", d.country)
	}
	if len(d.group) != len(d.items) {
		t.Errorf("%d items grouped of %d", len(d.group), len(d.items))
	}
	if g := d.group["20000"]; g != "2: £1-2" {
		t.Errorf("item 20000 at £1.50 is in %q; want 2: £1-2", g)
	}
	for _, c := range []struct {
		prices []float64
		want   string
	}{
		{[]float64{0.5}, "1: under £1"},
		{[]float64{1}, "2: £1-2"},
		{[]float64{0.5, 1.5}, "2: £1-2"}, // median 1
		{[]float64{0.5, 0.6, 20}, "1: under £1"},
		{[]float64{4.99, 5}, "3: £2-5"},
		{[]float64{10}, "5: £10 and more"},
	} {
		if got := priceBand(c.prices); got != c.want {
			t.Errorf("priceBand(%v) = %q; want %q", c.prices, got, c.want)
		}
	}
}

func TestGroupOrder(t *testing.T) {
	groups := []eval.GroupShare{
		{Group: "a", CatalogShare: 0.005, Exposure: 0.2},
		{Group: "b", CatalogShare: 0.6},
		{Group: "c", CatalogShare: 0.005},
		{Group: "d", CatalogShare: 0.3},
		{Group: "e", CatalogShare: 0.09},
		{Group: "f", CatalogShare: 0},
	}
	r := eval.AuditReport{Exposure: []eval.Exposure{{Groups: groups}}}
	other := eval.AuditReport{Exposure: []eval.Exposure{{Groups: slices.Clone(groups)}}}
	other.Exposure[0].Groups[0].Exposure = 0 // a is large in one report only: kept
	got := groupOrder(groups, [][]eval.AuditReport{{other}, {r}}, 0, false)
	var labels []string
	for _, g := range got {
		labels = append(labels, g.label)
	}
	if want := []string{"b", "d", "e", "a", "other (2)"}; !slices.Equal(labels, want) {
		t.Errorf("by catalog share: %v; want %v", labels, want)
	}
	if !slices.Equal(got[len(got)-1].of, []int{2, 5}) {
		t.Errorf("other merges %v; want c and f", got[len(got)-1].of)
	}
	got = groupOrder(groups, [][]eval.AuditReport{{r}}, 0, true)
	labels = labels[:0]
	for _, g := range got {
		labels = append(labels, g.label)
	}
	if want := []string{"a", "b", "d", "e", "other (2)"}; !slices.Equal(labels, want) {
		t.Errorf("ordinal: %v; want %v", labels, want)
	}
	s := exposureSeries("x", []eval.AuditReport{r, other}, 0, got)
	if s.Values[0] != 0.1 || s.Lower[0] != 0 {
		t.Errorf("exposure of a: %v (lower %v); want the mean 0.1, the whisker floored at 0", s.Values[0], s.Lower[0])
	}
}
