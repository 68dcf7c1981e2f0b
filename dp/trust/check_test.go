package trust_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/trust"
)

// runCheck checks events and ledger with the fixture's configuration.
func runCheck(t *testing.T, events, ledger []byte, cfg trust.CheckConfig) (trust.Summary, error) {
	t.Helper()
	return trust.Check(context.Background(), input(t, events, ledger), cfg)
}

// violations returns the violations of err, failing t if it is not an
// *AuditError.
func violations(t *testing.T, err error) []*trust.Violation {
	t.Helper()
	var ae *trust.AuditError
	require.ErrorAs(t, err, &ae)
	require.ErrorIs(t, err, trust.ErrViolation)
	return ae.Violations
}

func TestCheckCleanTrailPasses(t *testing.T) {
	f := cleanFixture(t)
	sum, err := runCheck(t, f.events, f.ledger, f.checkConfig())
	require.NoError(t, err, "a trail written by tact itself has no violation")
	assert.Positive(t, sum.Serves)
	assert.Equal(t, sum.Serves, sum.Replayed, "every response carries its person and is replayed against the ledger")
	assert.Positive(t, sum.Decisions)
	assert.Equal(t, 1, sum.Releases)
	assert.Equal(t, 0.5, sum.Epsilon)
	// recommend names the sources of the sensitive items it serves, so
	// everything was checked.
	assert.Empty(t, sum.Unchecked)
}

func TestCheckEmptyInput(t *testing.T) {
	_, err := trust.Check(context.Background(), trust.Input{}, trust.CheckConfig{})
	assert.ErrorIs(t, err, trust.ErrNoData)
}

func TestCheckBadConfig(t *testing.T) {
	f := cleanFixture(t)
	in := input(t, f.events, f.ledger)
	for _, tc := range []struct {
		name string
		cfg  trust.CheckConfig
	}{
		{"negative epsilon", trust.CheckConfig{Epsilon: -1}},
		{"NaN epsilon", trust.CheckConfig{Epsilon: nan()}},
		{"NaN delta", trust.CheckConfig{Epsilon: 1, Delta: nan()}},
		{"invalid policy", trust.CheckConfig{Policies: []trust.InForce{{Policy: &consent.Policy{}}}}},
		{"nil policy", trust.CheckConfig{Policies: []trust.InForce{{}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := trust.Check(context.Background(), in, tc.cfg)
			var ce *trust.ConfigError
			assert.ErrorAs(t, err, &ce)
			assert.ErrorIs(t, err, trust.ErrInvalidConfig)
		})
	}
}

// The chain: a record edited in place.
func TestCheckDetectsTamperedRecord(t *testing.T) {
	f := cleanFixture(t)
	ledger := lines(f.ledger)
	// A change the audit events do not witness (they carry no time): only
	// the hash chain shows it.
	ledger[3] = edit(t, ledger[3], func(m map[string]any) {
		at, err := time.Parse(time.RFC3339Nano, m["at"].(string))
		require.NoError(t, err)
		m["at"] = at.Add(-time.Second).Format(time.RFC3339Nano)
	})
	_, err := runCheck(t, f.events, join(ledger), f.checkConfig())
	vs := violations(t, err)
	require.Len(t, vs, 1)
	require.ErrorIs(t, vs[0], trust.ErrChainBreak)
	assert.Equal(t, uint64(4), vs[0].Seq)
	assert.Contains(t, vs[0].Why, "hash does not match")
}

// The chain: the last records cut off, which the hash chain alone cannot
// show, but the events' sequence numbers do.
func TestCheckDetectsTruncatedLedger(t *testing.T) {
	f := cleanFixture(t)
	ledger := lines(f.ledger)
	n := len(ledger)
	_, err := runCheck(t, f.events, join(ledger[:n-5]), f.checkConfig())
	vs := violations(t, err)
	require.ErrorIs(t, vs[0], trust.ErrChainBreak)
	assert.Contains(t, vs[0].Why, "cut off")
	assert.Greater(t, vs[0].Seq, uint64(n-5))
}

// The chain: a record rewritten and every record after it chained again,
// so that the ledger verifies; the audit events still say what it was.
func TestCheckDetectsRewrittenLedger(t *testing.T) {
	f := cleanFixture(t)
	recs, err := trust.ReadLedger(bytes.NewReader(f.ledger))
	require.NoError(t, err)
	// Turn the first denial into a grant, and re-chain from there.
	i := slices.IndexFunc(recs, func(r consent.Record) bool { return r.Action == consent.Deny })
	require.GreaterOrEqual(t, i, 0)
	recs[i].Action = consent.Grant
	for j := i; j < len(recs); j++ {
		prev := consent.Hash{}
		if j > 0 {
			prev = recs[j-1].Hash
		}
		recs[j] = consent.Chain(prev, recs[j].Seq, recs[j].Back, recs[j].Salt, recs[j].Event)
	}
	_, err = consent.VerifyRecords(recs)
	require.NoError(t, err, "the rewritten ledger verifies on its own")
	var buf bytes.Buffer
	for _, r := range recs {
		b, _ := json.Marshal(r)
		buf.Write(append(b, '\n'))
	}
	_, err = runCheck(t, f.events, buf.Bytes(), f.checkConfig())
	vs := violations(t, err)
	require.ErrorIs(t, vs[0], trust.ErrChainBreak)
	assert.Equal(t, recs[i].Seq, vs[0].Seq)
	assert.Contains(t, vs[0].Why, `action "grant" where the event said "deny"`)
}

// Data used without an allowing record: a response that relied on
// purchase history for a person who had refused personalization.
func TestCheckDetectsServeWithoutConsent(t *testing.T) {
	f := cleanFixture(t)
	events := lines(f.events)
	// A response that used history, moved to a person who denied
	// personalize (the fixture's shoppers 3, 7, 11, ...).
	i := find(t, events, func(m map[string]any) bool {
		p, _ := m["purposes"].(string)
		return m["msg"] == "recommend.serve" && strings.Contains(p, "personalize.history")
	})
	events[i] = edit(t, events[i], func(m map[string]any) { m["person"] = pseudonym(shopperWho(t, f, consent.Deny)) })
	_, err := runCheck(t, join(events), f.ledger, f.checkConfig())
	vs := violations(t, err)
	require.NotEmpty(t, vs)
	for _, v := range vs {
		require.ErrorIs(t, v, trust.ErrNoAllowingRecord)
		assert.Equal(t, i+1, v.Line)
	}
	assert.Contains(t, vs[0].Why, "denied")
}

// shopperWho returns the subject of the first ledger record with action a.
func shopperWho(t *testing.T, f *fixture, a consent.Action) string {
	recs, err := trust.ReadLedger(bytes.NewReader(f.ledger))
	require.NoError(t, err)
	for _, r := range recs {
		if r.Action == a && r.Purpose == consent.PurposePersonalize {
			return r.Subject
		}
	}
	t.Fatal("no such shopper")
	return ""
}

// Data used without an allowing record: a response that read a data
// category none of the purposes it relied on declares.
func TestCheckDetectsUndeclaredCategory(t *testing.T) {
	f := cleanFixture(t)
	events := lines(f.events)
	i := find(t, events, func(m map[string]any) bool {
		return m["msg"] == "recommend.serve" && m["purposes"] == "personalize.declared"
	})
	events[i] = edit(t, events[i], func(m map[string]any) {
		m["categories"] = "user.behavior.purchase_history,user.preference.declared"
	})
	_, err := runCheck(t, join(events), f.ledger, f.checkConfig())
	vs := violations(t, err)
	require.Len(t, vs, 1)
	assert.ErrorIs(t, vs[0], trust.ErrNoAllowingRecord)
	assert.Contains(t, vs[0].Why, "user.behavior.purchase_history")
}

// Data used without an allowing record: a decision that says it rests on
// a grant, pointing at a record that is not one.
func TestCheckDetectsDecisionOnNoGrant(t *testing.T) {
	f := cleanFixture(t)
	recs, err := trust.ReadLedger(bytes.NewReader(f.ledger))
	require.NoError(t, err)
	deny := slices.IndexFunc(recs, func(r consent.Record) bool { return r.Action == consent.Deny })
	events := lines(f.events)
	i := find(t, events, func(m map[string]any) bool {
		return m["msg"] == "consent.decision" && m["reason"] == "granted"
	})
	events[i] = edit(t, events[i], func(m map[string]any) { m["seq"] = recs[deny].Seq })
	_, err = runCheck(t, join(events), f.ledger, f.checkConfig())
	vs := violations(t, err)
	require.Len(t, vs, 1)
	assert.ErrorIs(t, vs[0], trust.ErrNoAllowingRecord)
	assert.Equal(t, recs[deny].Seq, vs[0].Seq)
}

// Releases beyond the declared budget.
func TestCheckDetectsOverBudget(t *testing.T) {
	f := cleanFixture(t)
	extra := `{"time":"2025-09-20T00:00:00Z","level":"INFO","msg":"dp.release","event":"dp.release","kind":"aggregation","label":"one too many","epsilon":0.75,"delta":0,"partitions":3,"private":true}`
	events := append(lines(f.events), extra)
	_, err := runCheck(t, join(events), f.ledger, f.checkConfig())
	vs := violations(t, err)
	require.Len(t, vs, 1)
	assert.ErrorIs(t, vs[0], trust.ErrOverBudget)
	assert.Equal(t, len(events), vs[0].Line)
	assert.Contains(t, vs[0].Why, "one too many")
}

// The budget check sums as dp.Budget does: exactly, so that it agrees with
// the budget on every sequence of spends (0.5 + 0.5000000000000001 rounds
// to 1 in float64 arithmetic, but is more than 1).
func TestCheckBudgetAgreesWithDPBudget(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := range 300 {
		total := []float64{0.3, 1, 1.5, 2}[r.IntN(4)]
		budget, err := dp.NewBudget(total, 0.5, nil)
		require.NoError(t, err)
		var lines []string
		refused := false
		for range 1 + r.IntN(6) {
			e := []float64{0.1, 0.2, 0.25, 0.3, 0.5, 0.7, 0.5000000000000001}[r.IntN(7)]
			lines = append(lines, fmt.Sprintf(`{"time":"2025-01-01T00:00:00Z","msg":"dp.release","label":"r","epsilon":%v,"delta":0,"private":true}`, e))
			if err := budget.Spend(context.Background(), "r", e, 0); err != nil {
				refused = true
				break // a budget refuses and nothing is released
			}
		}
		evs, err := trust.ReadEvents(strings.NewReader(strings.Join(lines, "\n")))
		require.NoError(t, err)
		_, err = trust.Check(context.Background(), trust.Input{Events: evs}, trust.CheckConfig{Epsilon: total, Delta: 0.5})
		assert.Equal(t, refused, errors.Is(err, trust.ErrOverBudget), "case %d: %v", n, lines)
	}
	evs, err := trust.ReadEvents(strings.NewReader(`{"time":"2025-01-01T00:00:00Z","msg":"dp.release","label":"a","epsilon":0.5,"delta":0,"private":true}
{"time":"2025-01-01T00:00:00Z","msg":"dp.release","label":"b","epsilon":0.5000000000000001,"delta":0,"private":true}`))
	require.NoError(t, err)
	_, err = trust.Check(context.Background(), trust.Input{Events: evs}, trust.CheckConfig{Epsilon: 1})
	assert.ErrorIs(t, err, trust.ErrOverBudget)
}

// A release made with test noise.
func TestCheckDetectsNotPrivateRelease(t *testing.T) {
	f := cleanFixture(t)
	events := lines(f.events)
	i := find(t, events, func(m map[string]any) bool { return m["msg"] == "dp.release" })
	events[i] = edit(t, events[i], func(m map[string]any) { m["private"] = false })
	_, err := runCheck(t, join(events), f.ledger, f.checkConfig())
	vs := violations(t, err)
	require.Len(t, vs, 1)
	assert.ErrorIs(t, vs[0], trust.ErrNotPrivate)
}

// Sensitive items served from history, where the event says so.
func TestCheckDetectsSensitiveFromHistory(t *testing.T) {
	f := cleanFixture(t)
	events := lines(f.events)
	i := find(t, events, func(m map[string]any) bool { return m["msg"] == "recommend.serve" })
	j := find(t, events[i+1:], func(m map[string]any) bool { return m["msg"] == "recommend.serve" }) + i + 1
	events[i] = edit(t, events[i], func(m map[string]any) { m["sensitive_sources"] = "declared" })
	events[j] = edit(t, events[j], func(m map[string]any) { m["sensitive_sources"] = "declared,history" })
	_, err := runCheck(t, join(events), f.ledger, f.checkConfig())
	vs := violations(t, err)
	require.Len(t, vs, 1, "only the item from history")
	assert.ErrorIs(t, vs[0], trust.ErrSensitiveInferred)
	assert.Equal(t, j+1, vs[0].Line)
}

// Without a policy or a person, Check says what it could not check rather
// than passing silently.
func TestCheckSaysWhatItCouldNotCheck(t *testing.T) {
	f := cleanFixture(t)
	sum, err := runCheck(t, f.events, f.ledger, trust.CheckConfig{})
	require.NoError(t, err)
	assert.Zero(t, sum.Replayed)
	text := strings.Join(sum.Unchecked, "\n")
	assert.Contains(t, text, "CheckConfig.Policies")
	assert.Contains(t, text, "CheckConfig.Epsilon")

	cfg := f.checkConfig()
	cfg.PersonKey = "nobody"
	sum, err = runCheck(t, f.events, f.ledger, cfg)
	require.NoError(t, err)
	assert.Zero(t, sum.Replayed)
	assert.Contains(t, strings.Join(sum.Unchecked, "\n"), "carry no person")
}

// Every violation is listed, each kind is found by errors.Is, and the
// message lists them one per line.
func TestCheckListsEveryViolation(t *testing.T) {
	f := cleanFixture(t)
	events := lines(f.events)
	i := find(t, events, func(m map[string]any) bool { return m["msg"] == "dp.release" })
	events[i] = edit(t, events[i], func(m map[string]any) { m["private"] = false; m["epsilon"] = 5.0 })
	ledger := lines(f.ledger)
	ledger[0] = edit(t, ledger[0], func(m map[string]any) { m["channel"] = "post" })
	_, err := runCheck(t, join(events), join(ledger), f.checkConfig())
	vs := violations(t, err)
	assert.ErrorIs(t, err, trust.ErrChainBreak)
	assert.ErrorIs(t, err, trust.ErrOverBudget)
	assert.ErrorIs(t, err, trust.ErrNotPrivate)
	assert.NotErrorIs(t, err, trust.ErrSensitiveInferred)
	assert.Equal(t, len(vs)+1, strings.Count(err.Error(), "\n")+1)
}

// The replay decides at the time of each response: a response that used
// history before the person withdrew it is clean; the same response
// after the withdrawal is not.
func TestCheckReplaysLedgerAtResponseTime(t *testing.T) {
	f := cleanFixture(t)
	recs, err := trust.ReadLedger(bytes.NewReader(f.ledger))
	require.NoError(t, err)
	withdrew := make(map[string]consent.Record)
	for _, r := range recs {
		if r.Action == consent.Withdraw && r.Purpose == consent.PurposePersonalizeHistory {
			withdrew[pseudonym(r.Subject)] = r
		}
	}
	events := lines(f.events)
	var w consent.Record
	i := find(t, events, func(m map[string]any) bool {
		p, _ := m["purposes"].(string)
		r, ok := withdrew[fmt.Sprint(m["person"])]
		w = r
		return m["msg"] == "recommend.serve" && strings.Contains(p, "personalize.history") && ok
	})
	events[i] = edit(t, events[i], func(m map[string]any) {
		m["time"] = w.At.Add(time.Minute).Format(time.RFC3339Nano)
	})
	_, err = runCheck(t, join(events), f.ledger, f.checkConfig())
	vs := violations(t, err)
	require.Len(t, vs, 1)
	assert.ErrorIs(t, vs[0], trust.ErrNoAllowingRecord)
	assert.Equal(t, w.Seq, vs[0].Seq, "the violation names the withdrawal")
	assert.Contains(t, vs[0].Why, "withdrawn")
}

// Each response is judged under the policy then in force: history
// granted under version 1 allowed it before the material change of
// version 2, and not after it.
func TestCheckJudgesUnderPolicyInForce(t *testing.T) {
	f := cleanFixture(t)
	events := lines(f.events)
	i := find(t, events, func(m map[string]any) bool {
		p, _ := m["purposes"].(string)
		at, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(m["time"]))
		return m["msg"] == "recommend.serve" && strings.Contains(p, "personalize.history") && at.Before(f.change)
	})
	_, err := runCheck(t, join(events), f.ledger, f.checkConfig())
	require.NoError(t, err)

	// The same trail judged as if version 2 had been in force all along.
	cfg := f.checkConfig()
	cfg.Policies = cfg.Policies[1:]
	_, err = runCheck(t, join(events), f.ledger, cfg)
	vs := violations(t, err)
	assert.True(t, slices.ContainsFunc(vs, func(v *trust.Violation) bool {
		return v.Line == i+1 && strings.Contains(v.Why, "reconsent_required")
	}), "the response at line %d is judged under version 2: %v", i+1, err)
}
