package trust_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/dp/trust"
)

const goodServe = `{"time":"2026-03-02T10:00:00Z","level":"INFO","msg":"recommend.serve","event":"recommend.serve","tier":"recognized","items":3,"categories":"user.behavior.session","purposes":"personalize.context","withheld":"personalize.history:consent","warm_up":false,"filtered":{"warm_up":0,"sensitive":0,"not_interested":1,"confidence_floor":0}}`

func TestReadEventsBadLines(t *testing.T) {
	serve := func(from, to string) string {
		require.Contains(t, goodServe, from)
		return strings.Replace(goodServe, from, to, 1)
	}
	for _, tc := range []struct {
		name, line, reason string
	}{
		{"not JSON", `time=2026-03-02 msg=hello`, "a text log line mixed in"},
		{"truncated", goodServe[:len(goodServe)/2], "a line cut off by a crash"},
		{"array", `[1,2]`, "not an object"},
		{"null", `null`, "not an object"},
		{"two objects", `{"time":"2026-03-02T10:00:00Z","msg":"x"} {"time":"2026-03-02T10:00:00Z","msg":"x"}`, "two records on one line"},
		{"no time", `{"msg":"x"}`, "time is required"},
		{"bad time", `{"time":"yesterday","msg":"x"}`, "time must be RFC 3339"},
		{"time not a string", `{"time":12,"msg":"x"}`, "time must be a string"},
		{"no msg", `{"time":"2026-03-02T10:00:00Z"}`, "msg is required"},
		{"unknown tier", serve(`"tier":"recognized"`, `"tier":"vip"`), "tiers are recommend's"},
		{"negative items", serve(`"items":3`, `"items":-3`), "a count"},
		{"fractional items", serve(`"items":3`, `"items":2.5`), "a count"},
		{"items as string", serve(`"items":3`, `"items":"3"`), "a count"},
		{"bad category", serve(`"categories":"user.behavior.session"`, `"categories":"User Session"`), "categories are keys"},
		{"bad withheld", serve(`"withheld":"personalize.history:consent"`, `"withheld":"personalize.history"`), "purpose:reason"},
		{"warm_up not bool", serve(`"warm_up":false`, `"warm_up":"no"`), "a boolean"},
		{"filtered not object", serve(`"filtered":{"warm_up":0,"sensitive":0,"not_interested":1,"confidence_floor":0}`, `"filtered":3`), "a group"},
		{"filtered negative", serve(`"not_interested":1`, `"not_interested":-1`), "counts"},
		{"no filtered", serve(`,"filtered":{"warm_up":0,"sensitive":0,"not_interested":1,"confidence_floor":0}`, ``), "required"},
		{"change bad action", `{"time":"2026-03-02T10:00:00Z","msg":"consent.change","purpose":"personalize","action":"maybe","source":"user","channel":"web","policy_version":1,"seq":1}`, "grant, deny or withdraw"},
		{"change no seq", `{"time":"2026-03-02T10:00:00Z","msg":"consent.change","purpose":"personalize","action":"grant","source":"user","channel":"web","policy_version":1}`, "seq links to the ledger"},
		{"release negative epsilon", `{"time":"2026-03-02T10:00:00Z","msg":"dp.release","label":"x","epsilon":-1,"delta":0,"private":true}`, "ε is not negative"},
		{"release NaN epsilon", `{"time":"2026-03-02T10:00:00Z","msg":"dp.release","label":"x","epsilon":"NaN","delta":0,"private":true}`, "JSON has no NaN; a string is not a number"},
		{"release huge epsilon", `{"time":"2026-03-02T10:00:00Z","msg":"dp.release","label":"x","epsilon":1e999,"delta":0,"private":true}`, "overflows to +Inf"},
		{"decision bad reason", `{"time":"2026-03-02T10:00:00Z","msg":"consent.decision","purpose":"personalize","allowed":true,"reason":"because","seq":1}`, "reasons are consent's"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := goodServe + "\n\n" + tc.line + "\n" + goodServe + "\n"
			evs, err := trust.ReadEvents(strings.NewReader(in))
			var le *trust.LineError
			require.ErrorAs(t, err, &le, tc.reason)
			assert.ErrorIs(t, err, trust.ErrBadInput)
			assert.Equal(t, 3, le.Line, "the bad line, counting the blank one")
			assert.Equal(t, "events", le.Input)
			assert.Len(t, evs, 1, "what came before is kept")
			assert.True(t, strings.HasPrefix(err.Error(), "trust: events line 3: "), err.Error())
		})
	}
}

func TestReadEventsTooLong(t *testing.T) {
	in := goodServe + "\n" + `{"time":"2026-03-02T10:00:00Z","msg":"` + strings.Repeat("x", trust.MaxEventLine) + `"}` + "\n"
	evs, err := trust.ReadEvents(strings.NewReader(in))
	var le *trust.LineError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, 2, le.Line)
	assert.Len(t, evs, 1)
}

func TestReadEventsKeepsOtherKinds(t *testing.T) {
	in := `{"time":"2026-03-02T10:00:00.5+01:00","level":"INFO","msg":"minimize.report","records":3}` + "\n" + goodServe
	evs, err := trust.ReadEvents(strings.NewReader(in))
	require.NoError(t, err)
	require.Len(t, evs, 2)
	assert.Equal(t, "minimize.report", evs[0].Kind)
	assert.Equal(t, "2026-03-02T09:00:00.5Z", evs[0].Time.Format("2006-01-02T15:04:05.999Z07:00"), "times are UTC")
	assert.Equal(t, 2, evs[1].Line)
	_, ok := evs[1].Attr("person")
	assert.False(t, ok)
}

func TestReadEventsNilReader(t *testing.T) {
	_, err := trust.ReadEvents(nil)
	assert.ErrorIs(t, err, trust.ErrInvalidConfig)
	_, err = trust.ReadLedger(nil)
	assert.ErrorIs(t, err, trust.ErrInvalidConfig)
}

func TestReadLedgerBadLines(t *testing.T) {
	f := cleanFixture(t)
	ls := lines(f.ledger)
	for _, tc := range []struct {
		name  string
		in    string
		line  int
		valid int
	}{
		{"cut mid-line", strings.Join(ls[:3], "\n") + "\n" + ls[3][:40], 4, 3},
		{"not JSON", ls[0] + "\nhello\n", 2, 1},
		{"unknown field", ls[0] + "\n" + strings.Replace(ls[1], `{`, `{"colour":"red",`, 1) + "\n", 2, 1},
		{"blank line inside", ls[0] + "\n\n" + ls[1] + "\n", 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := trust.ReadLedger(strings.NewReader(tc.in))
			var le *trust.LineError
			require.ErrorAs(t, err, &le)
			assert.ErrorIs(t, err, trust.ErrBadInput)
			assert.ErrorIs(t, err, consent.ErrMalformedRecord)
			assert.Equal(t, tc.line, le.Line)
			assert.Equal(t, "ledger", le.Input)
			assert.Len(t, recs, tc.valid)
		})
	}
	recs, err := trust.ReadLedger(bytes.NewReader(append(append([]byte{}, f.ledger...), "\n\n"...)))
	require.NoError(t, err, "blank lines at the end are fine")
	assert.Len(t, recs, len(ls))
}

func FuzzReadEvents(f *testing.F) {
	f.Add([]byte(goodServe))
	f.Add([]byte(`{"time":"2026-03-02T10:00:00Z","msg":"consent.change","purpose":"personalize","action":"grant","source":"gpc","channel":"web","policy_version":1,"seq":18446744073709551615}`))
	f.Add([]byte(`{"time":"2026-03-02T10:00:00Z","msg":"dp.release","label":"x","epsilon":1e308,"delta":0,"private":true}`))
	f.Add([]byte("{}\n\n{\"time\":\"x\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := trust.ReadEvents(bytes.NewReader(data))
		nonBlank := 0
		for _, l := range bytes.Split(data, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				nonBlank++
			}
		}
		if err == nil {
			if len(evs) != nonBlank {
				t.Fatalf("read %d events from %d non-blank lines", len(evs), nonBlank)
			}
			// Whatever was read, a check and a report never panic on it.
			_, _ = trust.Check(t.Context(), trust.Input{Events: evs}, trust.CheckConfig{Epsilon: 1, PersonKey: "person"})
			return
		}
		var le *trust.LineError
		if !errors.As(err, &le) || !errors.Is(err, trust.ErrBadInput) {
			t.Fatalf("error %v is not a LineError", err)
		}
		if len(evs) >= nonBlank {
			t.Fatalf("kept %d events of %d lines before a bad one", len(evs), nonBlank)
		}
	})
}
