package minimize

import (
	"strconv"
	"strings"

	"github.com/tact-go/tact/consent"
)

// Outcome is what happened to a field.
type Outcome uint8

// Outcomes.
const (
	Dropped     Outcome = iota // not in the output
	Kept                       // in the output unchanged
	Transformed                // in the output generalized, masked or pseudonymized
)

// String returns "dropped", "kept" or "transformed".
func (o Outcome) String() string {
	switch o {
	case Dropped:
		return "dropped"
	case Kept:
		return "kept"
	case Transformed:
		return "transformed"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// Reason says what decided a field's outcome.
type Reason uint8

// Reasons.
const (
	// ReasonNoRule: no rule names the field, its category or an ancestor
	// of it, so the field is dropped (the policy is an allow-list).
	ReasonNoRule Reason = iota
	// ReasonRule: the rule in [FieldReport.Rule] decided.
	ReasonRule
	// ReasonNoConsent: the rule would pass the field but consent does not
	// allow its category (see [Minimizer.Narrow]); dropped.
	ReasonNoConsent
)

// String returns "no_rule", "rule" or "no_consent".
func (r Reason) String() string {
	switch r {
	case ReasonNoRule:
		return "no_rule"
	case ReasonRule:
		return "rule"
	case ReasonNoConsent:
		return "no_consent"
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// FieldReport is what happened to one field. It names the field and never
// holds its value.
type FieldReport struct {
	// Field is the struct field path ("Address.Postal") or the map key.
	// Fields inside slices are reported once, for every element.
	Field string
	// Category is the field's category, "" when it has none.
	Category consent.Category
	Outcome  Outcome
	// Transform is what was applied: [Drop] for dropped fields.
	Transform Transform
	Reason    Reason
	// Rule is the rule that decided (for ReasonNoConsent, the rule that
	// would have); the zero Rule for ReasonNoRule.
	Rule Rule
}

// Report says what a minimization did to each field of one record, for
// audit and for telling a person what was kept about them. For a struct it
// lists every field of the type (so nil pointers and empty slices are
// reported as their type's fields); for a map record, every key the record
// had, sorted.
type Report struct {
	Purpose consent.Purpose
	Fields  []FieldReport
}

// Count returns the number of fields with outcome o.
func (r *Report) Count(o Outcome) int {
	n := 0
	for _, f := range r.Fields {
		if f.Outcome == o {
			n++
		}
	}
	return n
}

// String renders the report as an aligned table, one field a line, headed
// by the purpose and the counts.
func (r *Report) String() string {
	rows := make([][]string, len(r.Fields))
	for i, f := range r.Fields {
		rows[i] = []string{f.Field, string(f.Category), f.Outcome.String(), transformCell(f.Outcome, f.Transform), decidedBy(f.Reason, f.Rule)}
		if f.Category == "" {
			rows[i][1] = "-"
		}
	}
	head := "purpose " + string(r.Purpose) + ": " +
		strconv.Itoa(r.Count(Kept)) + " kept, " +
		strconv.Itoa(r.Count(Transformed)) + " transformed, " +
		strconv.Itoa(r.Count(Dropped)) + " dropped\n"
	return head + table(rows)
}

func transformCell(o Outcome, t Transform) string {
	if o == Transformed {
		return t.String()
	}
	return "-"
}

func decidedBy(r Reason, rule Rule) string {
	switch r {
	case ReasonRule:
		return "by " + rule.target()
	case ReasonNoConsent:
		return "no consent for the category"
	}
	return "not in the policy"
}

// table aligns columns with two spaces, without trailing blanks.
func table(rows [][]string) string {
	if len(rows) == 0 {
		return ""
	}
	width := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			width[i] = max(width[i], len(c))
		}
	}
	var b strings.Builder
	for _, row := range rows {
		b.WriteString("  ")
		for i, c := range row {
			b.WriteString(c)
			if i < len(row)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-len(c)+2))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Tally aggregates the reports of a batch: per field, how often it was
// kept, transformed and dropped.
type Tally struct {
	Purpose consent.Purpose
	// Records is the number of records minimized; Failed the number that
	// returned an error (they are not counted in Fields).
	Records, Failed int
	Fields          []FieldTally
}

// FieldTally counts the outcomes of one field over a batch.
type FieldTally struct {
	Field    string
	Category consent.Category
	// Rule is the rule that applies to the field; the zero Rule when none
	// does.
	Rule                       Rule
	Kept, Transformed, Dropped int
	// NoConsent counts the drops caused by consent (included in Dropped).
	NoConsent int
}

// Totals sums the counts over all fields.
func (t *Tally) Totals() (kept, transformed, dropped int) {
	s := t.sum()
	return s.Kept, s.Transformed, s.Dropped
}

// sum adds up the counts of all fields.
func (t *Tally) sum() FieldTally {
	var s FieldTally
	for _, f := range t.Fields {
		s.Kept += f.Kept
		s.Transformed += f.Transformed
		s.Dropped += f.Dropped
		s.NoConsent += f.NoConsent
	}
	return s
}

// add counts one outcome of the field.
func (f *FieldTally) add(o Outcome, noConsent bool) {
	switch o {
	case Kept:
		f.Kept++
	case Transformed:
		f.Transformed++
	default:
		f.Dropped++
		if noConsent {
			f.NoConsent++
		}
	}
}

// String renders the tally as an aligned table.
func (t *Tally) String() string {
	k, tr, d := t.Totals()
	head := "purpose " + string(t.Purpose) + ": " + strconv.Itoa(t.Records) + " records, " +
		strconv.Itoa(t.Failed) + " failed; fields " + strconv.Itoa(k) + " kept, " +
		strconv.Itoa(tr) + " transformed, " + strconv.Itoa(d) + " dropped\n"
	rows := make([][]string, len(t.Fields))
	for i, f := range t.Fields {
		c := string(f.Category)
		if c == "" {
			c = "-"
		}
		rule := "not in the policy"
		if f.Rule.Field != "" || f.Rule.Category != "" {
			rule = "by " + f.Rule.target()
		}
		rows[i] = []string{f.Field, c,
			"kept " + strconv.Itoa(f.Kept), "transformed " + strconv.Itoa(f.Transformed),
			"dropped " + strconv.Itoa(f.Dropped), "no consent " + strconv.Itoa(f.NoConsent), rule}
	}
	return head + table(rows)
}
