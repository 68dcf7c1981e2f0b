package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The real data sets are not in the repository: these tests write tiny
// files in the same formats.
func writeFixtures(t *testing.T) (ratings, retail string) {
	t.Helper()
	dir := t.TempDir()
	var ml strings.Builder
	ml.WriteString("userId,movieId,rating,timestamp\n")
	for u := 1; u <= 30; u++ {
		for m := 0; m < 12; m++ {
			fmt.Fprintf(&ml, "%d,%d,4.0,%d\n", u, (u%3)*10+m%10+m/10, 964982703+m)
		}
	}
	ratings = filepath.Join(dir, "ratings.csv")
	if err := os.WriteFile(ratings, []byte(ml.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var rt bytes.Buffer
	z := gzip.NewWriter(&rt)
	fmt.Fprintln(z, "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country")
	for c := 0; c < 20; c++ {
		for k := 0; k < 8; k++ {
			month := 10 + k%3 // Oct, Nov, Dec 2011
			fmt.Fprintf(z, "5%05d,%d,ITEM %d,2,2011-%02d-0%d 10:00:00,1.5,%d.0,United Kingdom\n", c*10+k, 20000+(c%4)*5+k%5, k, month, 1+k%8, 12000+c)
		}
		fmt.Fprintf(z, "C5%05d,20001,ITEM,-1,2011-10-02 10:00:00,1.5,%d.0,United Kingdom\n", c, 12000+c) // cancellation
		fmt.Fprintf(z, "5%05d,POST,POSTAGE,1,2011-10-02 10:00:00,18,%d.0,France\n", c, 12000+c)          // not a product
		fmt.Fprintln(z, "599999,20003,ITEM,1,2011-10-02 10:00:00,1.5,,United Kingdom")                   // guest
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	retail = filepath.Join(dir, "online_retail.csv.gz")
	if err := os.WriteFile(retail, rt.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return ratings, retail
}

func TestEvaluateBothDataSets(t *testing.T) {
	ratings, retail := writeFixtures(t)
	var out bytes.Buffer
	if err := evaluate([]string{"-movielens", ratings, "-retail", retail, "-k", "5", "-dp-runs", "2"}, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"MovieLens ml-latest-small: ", "UCI Online Retail: ", "| popularity (exact counts) ", "| item-item (exact counts) ",
		"| EASE (exact counts) ", "| served, defaults (exact counts) ", "| served, tuned EASE (exact counts) ",
		"| item-item DP ε=0.5 ", "| item-item DP ε=8 ", "| EASE DP ε=0.5 ", "| EASE DP ε=8 ",
		"| popularity (DP counts ε=0.5) ", "| popularity (DP counts ε=8) ",
		"| best DP ε=0.5 ", "| best DP ε=8 ", "| served, defaults (DP ε=0.5) ", "| served, defaults (DP ε=8) ",
		"spends (ε, δ) = (1, 1e-05) from its own dp.Budget(1, 1e-05), leaving (0, 0)",
		"spends (ε, δ) = (8, 1e-05) from its own dp.Budget(8, 1e-05), leaving (0, 0)",
		"What each ε buys (the best DP row; the served row in brackets), nDCG@5:\n  ε=0.5 "} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "POST") {
		t.Errorf("non-product codes must be skipped:\n%s", s)
	}
}

func TestEvaluateSkipsMissingData(t *testing.T) {
	var out bytes.Buffer
	if err := evaluate([]string{"-movielens", filepath.Join(t.TempDir(), "absent.csv")}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "skipped") || !strings.Contains(out.String(), "nothing evaluated") {
		t.Errorf("want a clear skip message, got:\n%s", out.String())
	}
	if err := evaluate(nil, &out); !errors.Is(err, errUsage) {
		t.Errorf("no flags: %v; want errUsage", err)
	}
}

func TestLoadRetailFilters(t *testing.T) {
	_, retail := writeFixtures(t)
	d, err := loadRetail(retail)
	in, items := d.in, d.items
	if err != nil {
		t.Fatal(err)
	}
	if len(in) != 20*8 {
		t.Errorf("%d interactions; want 160 (cancellations, postage and guests skipped)", len(in))
	}
	for _, it := range items {
		if it.ID == "POST" {
			t.Error("POST is not a product")
		}
	}
}

func TestTune(t *testing.T) {
	ratings, _ := writeFixtures(t)
	var out bytes.Buffer
	if err := evaluate([]string{"-movielens", ratings, "-tune", "-k", "3", "-dp-runs", "1", "-epsilons", "8"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"chosen: item-item ", "chosen: EASE ", "served with recommend's defaults ", "served on the chosen EASE ",
		"as Go: 8: {ItemItem: dpConfig{", "| served, tuned EASE (exact counts) ",
		"chosen for item-item DP ε=8: item-item, ", "chosen for EASE DP ε=8: EASE λ ", "chosen for best DP ε=8: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("tuning output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestEvaluateDPFlags(t *testing.T) {
	ratings, _ := writeFixtures(t)
	var out bytes.Buffer
	if err := evaluate([]string{"-movielens", ratings, "-epsilons", ""}, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "DP") {
		t.Errorf("no ε, no DP rows:\n%s", out.String())
	}
	for _, args := range [][]string{
		{"-movielens", ratings, "-epsilons", "1,-2"},
		{"-movielens", ratings, "-epsilons", "NaN"},
		{"-movielens", ratings, "-epsilons", "x"},
		{"-movielens", ratings, "-dp-runs", "0"},
	} {
		if err := evaluate(args, &out); !errors.Is(err, errUsage) {
			t.Errorf("%v: %v; want errUsage", args, err)
		}
	}
}

func TestEvaluateResiduals(t *testing.T) {
	ratings, retail := writeFixtures(t)
	var out bytes.Buffer
	if err := evaluate([]string{"-movielens", ratings, "-retail", retail, "-k", "5", "-dp-runs", "1", "-residuals", "0,0.3,1"}, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	// The models that denoise, in the order of the lines.
	denoising := func(set settings) (lines []string) {
		for _, eps := range []float64{0.5, 1, 2, 4, 8} {
			d := set.dpFor(eps)
			for i, c := range []dpConfig{d.ItemItem, d.EASE, d.Best.dpConfig} {
				if c.Rank > 0 || c.Denoise {
					row := []string{"item-item", "EASE", "best"}[i]
					lines = append(lines, fmt.Sprintf("  ε=%g %-9s validation %s: ", eps, row, c), fmt.Sprintf("  ε=%g %-9s test       %s: ", eps, row, c))
				}
			}
		}
		return lines
	}
	ml, rt := denoising(movieLensSettings), denoising(retailSettings)
	wants := []string{
		"MovieLens ml-latest-small: nDCG@5 of the DP models that denoise, by share of the residual kept: [0 0.3 1] (mean of 1 releases)",
		"UCI Online Retail: nDCG@5 of the DP models",
		"    share 0: geometric mean ratio to none 1.0000, smallest 1.000, below none in 0\n",
	}
	// Per data set and split, the models compared and those left out
	// (nDCG 0 without residual, on these tiny files) add up.
	re := regexp.MustCompile(`(?m)^  (validation|test), over (\d+) models(?: \((\d+) more score 0 without residual: no ratio\))?:$`)
	var totals []int
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		n, _ := strconv.Atoi(m[2])
		more, _ := strconv.Atoi(m[3])
		totals = append(totals, n+more)
	}
	if want := []int{len(ml) / 2, len(ml) / 2, len(rt) / 2, len(rt) / 2}; !slices.Equal(totals, want) {
		t.Errorf("models per data set and split %v; want %v:\n%s", totals, want, s)
	}
	for _, want := range append(append(wants, ml...), rt...) {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "| popularity") {
		t.Errorf("-residuals prints the comparison only:\n%s", s)
	}
	for _, bad := range []string{"x", "1.5", "-0.1", "0,,1", "NaN"} {
		if err := evaluate([]string{"-movielens", ratings, "-residuals", bad}, &out); !errors.Is(err, errUsage) {
			t.Errorf("-residuals %q: %v; want errUsage", bad, err)
		}
	}
}
