package dp

import (
	"bytes"
	"cmp"
	"encoding/json"
	"math"
	"slices"
	"strings"
)

// Releases are public by construction (they are differentially private),
// so a service may store them and serve them after a restart instead of
// releasing again, which would spend the budget again. [Trending] and
// [Cooccurrences] encode to JSON and decode from it; decoding checks that
// the document is one a release could have produced, and returns an error
// wrapping [ErrInvalidRelease] otherwise.

// MarshalText encodes the kind as "laplace" or "gaussian".
func (k NoiseKind) MarshalText() ([]byte, error) {
	switch k {
	case Laplace, Gaussian:
		return []byte(strings.ToLower(k.String())), nil
	}
	return nil, releaseErr("unknown noise kind " + k.String())
}

// UnmarshalText decodes "laplace" or "gaussian".
func (k *NoiseKind) UnmarshalText(b []byte) error {
	switch string(b) {
	case "laplace":
		*k = Laplace
	case "gaussian":
		*k = Gaussian
	default:
		return releaseErr("unknown noise kind " + string(b))
	}
	return nil
}

type trendingJSON struct {
	Label     string              `json:"label"`
	K         int                 `json:"k"`
	Epsilon   float64             `json:"epsilon"`
	Delta     float64             `json:"delta"`
	Alpha     float64             `json:"alpha"`
	Threshold int64               `json:"threshold"`
	Private   bool                `json:"private"`
	Segments  map[string][]Ranked `json:"segments"`
}

// MarshalJSON encodes the release: its parameters and every segment's top
// items.
func (t Trending) MarshalJSON() ([]byte, error) {
	return json.Marshal(trendingJSON{Label: t.label, K: t.k, Epsilon: t.eps, Delta: t.delta, Alpha: t.alpha,
		Threshold: t.threshold, Private: t.private, Segments: t.bySeg})
}

// UnmarshalJSON decodes what MarshalJSON writes, checking it: ε, δ and
// alpha in range, at most k items per segment, most popular first, each
// once, with counts inside their intervals. Unknown fields are an error.
func (t *Trending) UnmarshalJSON(b []byte) error {
	var j trendingJSON
	if err := decodeStrict(b, &j); err != nil {
		return err
	}
	switch {
	case !(j.Epsilon > 0 && j.Epsilon <= MaxEpsilon) || !(j.Delta >= 0 && j.Delta < 1):
		return releaseErr("ε or δ out of range")
	case !(j.Alpha > 0 && j.Alpha < 1):
		return releaseErr("alpha out of range")
	case j.K < 1 || j.Threshold < 0:
		return releaseErr("k below 1 or a negative threshold")
	}
	out := Trending{bySeg: make(map[string][]Ranked, len(j.Segments)), k: j.K, eps: j.Epsilon, delta: j.Delta,
		alpha: j.Alpha, threshold: j.Threshold, private: j.Private, label: j.Label}
	for seg, items := range j.Segments {
		if len(items) == 0 || len(items) > j.K {
			return releaseErr("segment " + seg + " has no items or more than k")
		}
		seen := make(map[string]bool, len(items))
		for i, r := range items {
			switch {
			case r.Item == "" || seen[r.Item]:
				return releaseErr("segment " + seg + ": an empty or repeated item")
			case !(r.Lower <= float64(r.Count) && float64(r.Count) <= r.Upper) || math.IsInf(r.Upper, 0) || r.Lower < 0:
				return releaseErr("segment " + seg + ": a count outside its interval")
			case i > 0 && (items[i-1].Count < r.Count || items[i-1].Count == r.Count && items[i-1].Item > r.Item):
				return releaseErr("segment " + seg + ": items not most popular first")
			}
			seen[r.Item] = true
		}
		out.bySeg[seg] = slices.Clip(items)
		out.segs = append(out.segs, seg)
	}
	slices.Sort(out.segs)
	*t = out
	return nil
}

type cooccurrencesJSON struct {
	Items         []ItemCount `json:"items"`
	Pairs         []PairCount `json:"pairs"`
	Persons       int64       `json:"persons"`
	ItemThreshold int64       `json:"item_threshold"`
	PairThreshold int64       `json:"pair_threshold"`
	PersonNoise   Mechanism   `json:"person_noise"`
	ItemNoise     Mechanism   `json:"item_noise"`
	PairNoise     Mechanism   `json:"pair_noise"`
	Weighted      bool        `json:"weighted"`
	Epsilon       float64     `json:"epsilon"`
	Delta         float64     `json:"delta"`
	Private       bool        `json:"private"`
	Label         string      `json:"label"`
}

// MarshalJSON encodes the release with snake_case names.
func (c Cooccurrences) MarshalJSON() ([]byte, error) {
	return json.Marshal(cooccurrencesJSON(c))
}

// UnmarshalJSON decodes what MarshalJSON writes, checking it: items sorted
// and distinct, pairs sorted by A then B with A < B, finite values, ε and δ
// in range. Unknown fields are an error.
func (c *Cooccurrences) UnmarshalJSON(b []byte) error {
	var j cooccurrencesJSON
	if err := decodeStrict(b, &j); err != nil {
		return err
	}
	switch {
	case !(j.Epsilon > 0 && j.Epsilon <= MaxEpsilon) || !(j.Delta >= 0 && j.Delta < 1):
		return releaseErr("ε or δ out of range")
	case j.Persons < 0 || j.ItemThreshold < 0 || j.PairThreshold < 0:
		return releaseErr("a negative count or threshold")
	}
	for i, it := range j.Items {
		if it.Item == "" || i > 0 && j.Items[i-1].Item >= it.Item || math.IsNaN(it.Count) || math.IsInf(it.Count, 0) {
			return releaseErr("items not sorted, repeated, empty or not finite")
		}
	}
	for i, p := range j.Pairs {
		if p.A == "" || p.A >= p.B || math.IsNaN(p.Count) || math.IsInf(p.Count, 0) ||
			i > 0 && cmp.Or(strings.Compare(j.Pairs[i-1].A, p.A), strings.Compare(j.Pairs[i-1].B, p.B)) >= 0 {
			return releaseErr("pairs not sorted, repeated, unordered or not finite")
		}
	}
	for _, m := range []Mechanism{j.PersonNoise, j.ItemNoise, j.PairNoise} {
		if m.Epsilon < 0 || math.IsNaN(m.Epsilon) || m.Delta < 0 || m.L0 < 0 || m.LInf < 0 {
			return releaseErr("a noise mechanism out of range")
		}
	}
	*c = Cooccurrences(j)
	return nil
}

// decodeStrict decodes one JSON value into v, refusing unknown fields and
// trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return releaseErr(err.Error())
	}
	if dec.More() {
		return releaseErr("trailing data")
	}
	return nil
}

func releaseErr(why string) error { return &releaseError{why} }

type releaseError struct{ why string }

func (e *releaseError) Error() string { return "dp: invalid release: " + e.why }
func (e *releaseError) Unwrap() error { return ErrInvalidRelease }
