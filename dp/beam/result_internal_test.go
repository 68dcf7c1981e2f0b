package dpbeam

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tact-go/tact/dp"
)

func sampleResult() *Result[int64] {
	r := &Result[int64]{metrics: dp.Count | dp.Sum | dp.Quantiles, ranks: []float64{0.5}, eps: 1, delta: 1e-6,
		alpha: 0.05, private: true, label: "orders", parts: []dp.Partition[int64]{
			{Key: "b", Count: dp.Estimate[int64]{Value: -2, Lower: 0, Upper: 3}, Sum: dp.Estimate[int64]{Value: 1 << 60, Lower: -1e18, Upper: 2e18}, Quantiles: []float64{4}},
			{Key: "a", Count: dp.Estimate[int64]{Value: 7, Lower: 4, Upper: 10}, Sum: dp.Estimate[int64]{Value: 9, Lower: 1, Upper: 17}, Quantiles: []float64{2.5}},
		}}
	r.finish()
	return r
}

func TestResultJSONRoundTrip(t *testing.T) {
	r := sampleResult()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got Result[int64]
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, r) {
		t.Errorf("round trip: got %+v, want %+v", got, *r)
	}
	if p, ok := got.Lookup("b"); !ok || p.Sum.Value != 1<<60 {
		t.Errorf("int64 sum lost precision: %+v", p)
	}
	if s := got.String(); !strings.Contains(s, "differentially private") || !strings.Contains(s, `"orders"`) {
		t.Errorf("String() = %q", s)
	}
}

func TestResultJSONRejects(t *testing.T) {
	b, _ := json.Marshal(sampleResult())
	good := string(b)
	for _, tc := range []struct {
		name, old, new string
	}{
		{"unknown field", `"label"`, `"lable"`},
		{"metrics", `"count+sum+quantiles"`, `"count+median"`},
		{"epsilon", `"epsilon":1`, `"epsilon":0`},
		{"delta", `"delta":0.000001`, `"delta":1`},
		{"alpha", `"alpha":0.05`, `"alpha":1`},
		{"unsorted", `"key":"a"`, `"key":"c"`},
		{"missing metric", `"sum":{"value":9,"lower":1,"upper":17},`, ``},
		{"fractional count", `"value":7,`, `"value":7.5,`},
		{"empty interval", `"lower":4,"upper":10`, `"lower":11,"upper":10`},
		{"quantiles per rank", `"quantiles":[2.5]`, `"quantiles":[2.5,3]`},
		{"trailing data", `}]}`, `}]}{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(good, tc.old, tc.new, 1)
			if doc == good {
				t.Fatalf("test: %q not in %s", tc.old, good)
			}
			var r Result[int64]
			if err := r.UnmarshalJSON([]byte(doc)); !errors.Is(err, dp.ErrInvalidRelease) {
				t.Errorf("decoding %s: %v, want dp.ErrInvalidRelease", doc, err)
			}
		})
	}
}
