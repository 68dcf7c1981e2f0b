package trustview

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tact-go/tact/dp/trust"
)

// Audit is the result of a continuous audit (trust.Check) in sentences.
type Audit struct {
	// OK is true when the audit found no violation.
	OK bool
	// Checked says what the audit looked at, a line each.
	Checked []string
	// Unchecked says what it could not check, and why.
	Unchecked []string
	// Violations lists what it found, a sentence each.
	Violations []string
}

// AuditOf puts what trust.Check returned into sentences; epsilon and delta
// are the declared budget it checked the releases against. An error of
// Check other than a *trust.AuditError (it could not run) is returned as
// it is.
func AuditOf(sum trust.Summary, err error, epsilon, delta float64) (Audit, error) {
	var ae *trust.AuditError
	if err != nil && !errors.As(err, &ae) {
		return Audit{}, err
	}
	a := Audit{OK: ae == nil, Unchecked: sum.Unchecked, Checked: []string{
		fmt.Sprintf("%d audit events, %d ledger records", sum.Events, sum.Records),
		fmt.Sprintf("responses: %d, replayed against the ledger for their person: %d", sum.Serves, sum.Replayed),
		fmt.Sprintf("consent decisions checked against their records: %d", sum.Decisions),
		fmt.Sprintf("dp releases: %d, spending ε=%g, δ=%g of the declared ε=%g, δ=%g", sum.Releases, sum.Epsilon, sum.Delta, epsilon, delta),
	}}
	if ae != nil {
		for _, v := range ae.Violations {
			a.Violations = append(a.Violations, strings.TrimPrefix(v.Error(), "trust: audit violation: "))
		}
	}
	return a, nil
}
