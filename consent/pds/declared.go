package pds

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/tact-go/tact/consent"
)

// The categories of zero-party data whose values the format defines, all
// under [consent.CategoryPreferenceDeclared], which the purpose
// [consent.PurposePersonalizeDeclared] uses. A grant may carry data of any
// other category too, as any JSON value; [Grant.Read] returns it as it is.
const (
	// CategoryGoals: what the person is aiming for, each with the item tags
	// it maps to: [{"text": "you're training for a marathon", "tags":
	// ["running", "marathon"]}]. Text completes the sentence "Because you
	// told us …".
	CategoryGoals consent.Category = "user.preference.declared.goals"
	// CategorySizes: the person's sizes, each "dimension:value":
	// ["shoe:42", "top:M"].
	CategorySizes consent.Category = "user.preference.declared.sizes"
	// CategoryAvoid: item tags the person does not want to see: ["fur"].
	CategoryAvoid consent.Category = "user.preference.declared.avoid"
	// CategoryBudget: the most the person wants to pay for an item, a
	// number not below zero (0 means no limit): 120.
	CategoryBudget consent.Category = "user.preference.declared.budget"
)

// Goal is a goal or interest the person declared, with the item tags it
// maps to. Its fields are those of recommend.Interest, so one converts to
// the other: recommend.Interest(goal).
type Goal struct {
	Text string   `json:"text"`
	Tags []string `json:"tags"`
}

// Declared is the zero-party data of the categories the format defines, as
// far as a grant carries it: the shape of recommend.Preferences (Goals are
// its Interests, Budget its MaxPrice). The zero value declares nothing.
type Declared struct {
	Goals  []Goal   // from CategoryGoals
	Sizes  []string // from CategorySizes
	Avoid  []string // from CategoryAvoid
	Budget float64  // from CategoryBudget; 0: none
}

// Clone returns a deep copy of d.
func (d Declared) Clone() Declared {
	d.Goals = slices.Clone(d.Goals)
	for i := range d.Goals {
		d.Goals[i].Tags = slices.Clone(d.Goals[i].Tags)
	}
	d.Sizes = slices.Clone(d.Sizes)
	d.Avoid = slices.Clone(d.Avoid)
	return d
}

// decodeDeclared decodes and checks the values of the categories the format
// defines; other categories are left as they are.
func decodeDeclared(data map[consent.Category]json.RawMessage) (Declared, error) {
	var d Declared
	for c, raw := range data {
		claim := "data." + string(c)
		var err error
		switch c {
		case CategoryGoals:
			d.Goals, err = goals(claim, raw)
		case CategorySizes:
			d.Sizes, err = list(claim, raw, true)
		case CategoryAvoid:
			d.Avoid, err = list(claim, raw, false)
		case CategoryBudget:
			if e := json.Unmarshal(raw, &d.Budget); e != nil || d.Budget < 0 {
				err = malformed(claim, "not a number of at least 0", nil)
			}
		}
		if err != nil {
			return Declared{}, err
		}
	}
	return d, nil
}

// list decodes an array of non-empty strings, each "dimension:value" if
// sizes is set.
func list(claim string, raw json.RawMessage, sizes bool) ([]string, error) {
	var l []string
	if err := json.Unmarshal(raw, &l); err != nil || raw[0] != '[' {
		return nil, malformed(claim, "not an array of strings", nil)
	}
	if err := checkStrings(claim, l); err != nil {
		return nil, err
	}
	if sizes {
		for _, s := range l {
			if dim, v, ok := strings.Cut(s, ":"); !ok || dim == "" || v == "" {
				return nil, malformed(claim, "want \"dimension:value\"", nil)
			}
		}
	}
	return l, nil
}

// goals decodes an array of goals, refusing members other than text and
// tags.
func goals(claim string, raw json.RawMessage) ([]Goal, error) {
	var g []Goal
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil || raw[0] != '[' {
		return nil, malformed(claim, "not an array of {\"text\": string, \"tags\": [string]}", err)
	}
	if len(g) > MaxItems {
		return nil, malformed(claim, "more than "+strconv.Itoa(MaxItems)+" entries", nil)
	}
	for i, x := range g {
		c := claim + "[" + strconv.Itoa(i) + "]"
		if x.Text == "" || len(x.Text) > MaxItemLen {
			return nil, malformed(c+".text", "want 1 to "+strconv.Itoa(MaxItemLen)+" bytes", nil)
		}
		if err := checkStrings(c+".tags", x.Tags); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// checkStrings checks the length of a list and of its strings; an empty
// string (or a JSON null) is refused.
func checkStrings(claim string, l []string) error {
	if len(l) > MaxItems {
		return malformed(claim, "more than "+strconv.Itoa(MaxItems)+" entries", nil)
	}
	for _, s := range l {
		if s == "" || len(s) > MaxItemLen {
			return malformed(claim, "entries want 1 to "+strconv.Itoa(MaxItemLen)+" bytes", nil)
		}
	}
	return nil
}
