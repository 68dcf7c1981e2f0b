package consent_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
)

var (
	ctx = context.Background()
	now = consenttest.Now()
)

const day = 24 * time.Hour

// newGate returns a Gate with the retail policy over an empty MemoryStore.
func newGate(t testing.TB, cfg consent.GateConfig) (*consent.Gate, *consent.MemoryStore) {
	t.Helper()
	s := consent.NewMemoryStore()
	g, err := consent.NewGate(consenttest.RetailPolicy(), s, cfg)
	require.NoError(t, err)
	return g, s
}

// ev is a user event on the web at time at.
func ev(a consent.Action, subject string, p consent.Purpose, at time.Time) consent.Event {
	return consent.Event{Action: a, Subject: subject, Purpose: p, At: at, Channel: consent.ChannelWeb}
}

func record(t testing.TB, g *consent.Gate, e consent.Event) consent.Record {
	t.Helper()
	r, err := g.Record(ctx, e)
	require.NoError(t, err)
	return r
}

func decide(t testing.TB, g *consent.Gate, subject string, p consent.Purpose, at time.Time, sig consent.Signals) consent.Decision {
	t.Helper()
	d, err := g.Decide(ctx, subject, p, at, sig)
	require.NoError(t, err)
	require.Equal(t, d.Allowed, d.Reason.Allows(), "Allowed and Reason agree")
	return d
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// opaqueStore hides a MemoryStore behind the Store interface, so that the
// Gate takes its generic path.
type opaqueStore struct{ s *consent.MemoryStore }

func (o opaqueStore) Append(ctx context.Context, recs []consent.Record) error {
	return o.s.Append(ctx, recs)
}
func (o opaqueStore) Latest(ctx context.Context, subject string, p consent.Purpose) (consent.Record, bool, error) {
	return o.s.Latest(ctx, subject, p)
}
func (o opaqueStore) Scan(ctx context.Context, subject string, after uint64, fn func(consent.Record) error) error {
	return o.s.Scan(ctx, subject, after, fn)
}
func (o opaqueStore) Redact(ctx context.Context, t []consent.Record) error { return o.s.Redact(ctx, t) }

// batchStore is opaqueStore with the optional StandingReader, so that the
// Gate takes its batched path.
type batchStore struct{ opaqueStore }

func newBatchStore() batchStore { return batchStore{opaqueStore{consent.NewMemoryStore()}} }

func (b batchStore) Standings(ctx context.Context, subject string, ps []consent.Purpose, out []consent.Standing) error {
	return b.s.Standings(ctx, subject, ps, out)
}
