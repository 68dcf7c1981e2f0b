package consent_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
)

// TestBadInputIsATypedError walks the exported API with empty ids, zero
// times, and unknown or malformed keys: every call returns an error that
// errors.Is recognizes, and none panics.
func TestBadInputIsATypedError(t *testing.T) {
	g, s := newGate(t, consent.GateConfig{})
	record(t, g, ev(consent.Grant, subj, consent.PurposeMarketing, now))
	var zero time.Time
	good := ev(consent.Grant, subj, consent.PurposeMarketing, now)
	with := func(mut func(*consent.Event)) consent.Event { e := good; mut(&e); return e }
	call := func(f func() error) func() error { return f }
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"ParsePurpose empty", call(func() error { _, err := consent.ParsePurpose(""); return err }), consent.ErrMalformedKey},
		{"ParsePurpose malformed", call(func() error { _, err := consent.ParsePurpose("a b"); return err }), consent.ErrMalformedKey},
		{"ParseCategory empty", call(func() error { _, err := consent.ParseCategory(""); return err }), consent.ErrMalformedKey},
		{"Purpose.Validate", call(func() error { return consent.Purpose(".").Validate() }), consent.ErrMalformedKey},
		{"Category.Validate", call(func() error { return consent.Category("User").Validate() }), consent.ErrMalformedKey},
		{"ParseBasis empty", call(func() error { _, err := consent.ParseBasis(""); return err }), consent.ErrInvalidPolicy},
		{"DecodePolicy nil", call(func() error { _, err := consent.DecodePolicy(nil); return err }), consent.ErrInvalidPolicy},
		{"Policy.Validate zero", call(func() error { return (&consent.Policy{}).Validate() }), consent.ErrInvalidPolicy},
		{"PurposeSpec.UnmarshalJSON", call(func() error { var p consent.PurposeSpec; return p.UnmarshalJSON([]byte("[")) }), consent.ErrInvalidPolicy},
		{"NewGate nil policy", call(func() error { _, err := consent.NewGate(nil, s, consent.GateConfig{}); return err }), consent.ErrInvalidPolicy},
		{"NewGate nil store", call(func() error {
			_, err := consent.NewGate(consenttest.RetailPolicy(), nil, consent.GateConfig{})
			return err
		}), consent.ErrNilStore},
		{"SetPolicy nil", call(func() error { return g.SetPolicy(nil) }), consent.ErrInvalidPolicy},
		{"Decide empty subject", call(func() error {
			_, err := g.Decide(ctx, "", consent.PurposeMarketing, now, consent.Signals{})
			return err
		}), consent.ErrEmptySubject},
		{"Decide zero time", call(func() error {
			_, err := g.Decide(ctx, subj, consent.PurposeMarketing, zero, consent.Signals{})
			return err
		}), consent.ErrZeroTime},
		{"Decide unknown purpose", call(func() error { _, err := g.Decide(ctx, subj, "marketing.sms", now, consent.Signals{}); return err }), consent.ErrUnknownPurpose},
		{"Decide malformed purpose", call(func() error { _, err := g.Decide(ctx, subj, "Marketing", now, consent.Signals{}); return err }), consent.ErrMalformedKey},
		{"Decide empty purpose", call(func() error { _, err := g.Decide(ctx, subj, "", now, consent.Signals{}); return err }), consent.ErrMalformedKey},
		{"Record empty subject", call(func() error { _, err := g.Record(ctx, with(func(e *consent.Event) { e.Subject = "" })); return err }), consent.ErrEmptySubject},
		{"Record zero time", call(func() error { _, err := g.Record(ctx, with(func(e *consent.Event) { e.At = zero })); return err }), consent.ErrZeroTime},
		{"Record unknown purpose", call(func() error { _, err := g.Record(ctx, with(func(e *consent.Event) { e.Purpose = "nope" })); return err }), consent.ErrUnknownPurpose},
		{"Record malformed purpose", call(func() error {
			_, err := g.Record(ctx, with(func(e *consent.Event) { e.Purpose = "no pe" }))
			return err
		}), consent.ErrMalformedKey},
		{"Record zero event", call(func() error { _, err := g.Record(ctx, consent.Event{}); return err }), consent.ErrInvalidEvent},
		{"Erase empty subject", call(func() error { _, err := g.Erase(ctx, "", now); return err }), consent.ErrEmptySubject},
		{"Erase zero time", call(func() error { _, err := g.Erase(ctx, subj, zero); return err }), consent.ErrZeroTime},
		{"Access empty subject", call(func() error { _, err := g.Access(ctx, "", now); return err }), consent.ErrEmptySubject},
		{"Access zero time", call(func() error { _, err := g.Access(ctx, subj, zero); return err }), consent.ErrZeroTime},
		{"Receipt empty subject", call(func() error { _, err := g.Receipt(ctx, "", now); return err }), consent.ErrEmptySubject},
		{"Receipt zero time", call(func() error { _, err := g.Receipt(ctx, subj, zero); return err }), consent.ErrZeroTime},
		{"ExportLedger nil", call(func() error { _, err := g.ExportLedger(ctx, nil); return err }), consent.ErrNilArgument},
		{"ImportLedger nil", call(func() error { _, err := g.ImportLedger(ctx, nil); return err }), consent.ErrNilArgument},
		{"ImportLedger zero record", call(func() error { _, err := g.ImportLedger(ctx, strings.NewReader("{}\n")); return err }), consent.ErrMalformedRecord},
		{"VerifyJSONL nil", call(func() error { _, err := consent.VerifyJSONL(nil); return err }), consent.ErrNilArgument},
		{"VerifyJSONL empty subject", call(func() error {
			_, err := consent.VerifyJSONL(strings.NewReader(`{"seq":1,"prev":"` + strings.Repeat("0", 64) + `","hash":"` + strings.Repeat("0", 64) + `","action":"grant","purpose":"marketing","at":"2025-01-01T00:00:00Z","channel":"web","policy_version":1}` + "\n"))
			return err
		}), consent.ErrMalformedRecord},
		{"VerifyRecords zero record", call(func() error { _, err := consent.VerifyRecords([]consent.Record{{}}); return err }), consent.ErrTampered},
		{"Record.UnmarshalJSON", call(func() error { var r consent.Record; return json.Unmarshal([]byte(`{"seq":0}`), &r) }), consent.ErrMalformedRecord},
		{"Hash.UnmarshalText", call(func() error { var h consent.Hash; return h.UnmarshalText([]byte("zz")) }), consent.ErrMalformedRecord},
		{"Action.UnmarshalText", call(func() error { var a consent.Action; return a.UnmarshalText([]byte("")) }), consent.ErrInvalidEvent},
		{"Source.UnmarshalText", call(func() error { var v consent.Source; return v.UnmarshalText([]byte("")) }), consent.ErrInvalidEvent},
		{"Actor.UnmarshalText", call(func() error { var v consent.Actor; return v.UnmarshalText([]byte("")) }), consent.ErrInvalidEvent},
		{"Reason.UnmarshalText", call(func() error { var v consent.Reason; return v.UnmarshalText([]byte("")) }), consent.ErrInvalidDecision},
		{"Regime.UnmarshalText", call(func() error { var v consent.Regime; return v.UnmarshalText([]byte("")) }), consent.ErrInvalidSignals},
		{"MemoryStore.Latest empty subject", call(func() error { _, _, err := s.Latest(ctx, "", consent.PurposeMarketing); return err }), consent.ErrEmptySubject},
		{"MemoryStore.Latest malformed purpose", call(func() error { _, _, err := s.Latest(ctx, subj, "a..b"); return err }), consent.ErrMalformedKey},
		{"MemoryStore.Append zero record", call(func() error { return s.Append(ctx, []consent.Record{{}}) }), consent.ErrConflict},
		{"MemoryStore.Redact zero record", call(func() error { return s.Redact(ctx, []consent.Record{{}}) }), consent.ErrNoRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { err = tt.call() })
			require.ErrorIs(t, err, tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "consent: "), "messages carry the package prefix: %q", err)
		})
	}
	// Nothing above changed the ledger.
	assert.Equal(t, 1, s.Len())
	_, err := g.Verify(ctx)
	require.NoError(t, err)
}

func TestErrorMessages(t *testing.T) {
	_, err := consenttest.NewGate(t, consent.GateConfig{}).Decide(ctx, subj, "marketing.sms", now, consent.Signals{})
	assert.EqualError(t, err, `consent: unknown purpose "marketing.sms"`)
	p := consenttest.RetailPolicy()
	p.Purposes[7].Categories = append(p.Purposes[7].Categories, consent.CategoryHealth)
	assert.EqualError(t, p.Validate(), `consent: invalid policy: purpose "personalize.history": basis: uses sensitive category "user.health" on basis consent; sensitive data needs explicit_consent`)
	_, err = consent.VerifyJSONL(strings.NewReader("x\n"))
	assert.ErrorContains(t, err, "consent: ledger line 1: malformed ledger record")
	var ce *consent.ConflictError
	err = consent.NewMemoryStore().Append(ctx, []consent.Record{{Seq: 5}})
	require.True(t, errors.As(err, &ce))
	assert.EqualError(t, err, "consent: ledger sequence conflict: the ledger ends at record 0")
	_, err = consenttest.NewGate(t, consent.GateConfig{}).ExportLedger(ctx, failWriter{})
	require.ErrorIs(t, err, errWrite)
}
