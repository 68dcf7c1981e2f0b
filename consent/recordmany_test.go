package consent_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
)

// failAppend is a MemoryStore whose appends fail while fail is set.
type failAppend struct {
	*consent.MemoryStore
	fail bool
}

var errDiskFull = errors.New("disk full")

func (s *failAppend) Append(ctx context.Context, recs []consent.Record) error {
	if s.fail {
		return errDiskFull
	}
	return s.MemoryStore.Append(ctx, recs)
}

func TestRecordMany(t *testing.T) {
	g, s := newGate(t, consent.GateConfig{})
	at := now
	recs, err := g.RecordMany(ctx, []consent.Event{
		ev(consent.Grant, subj, consent.PurposePersonalizeDeclared, at),
		ev(consent.Grant, subj, consent.PurposeMarketingEmail, at),
		ev(consent.Withdraw, subj, consent.PurposeAdvertising, at),
	})
	require.NoError(t, err)
	require.Len(t, recs, 3)
	for i, p := range []consent.Purpose{consent.PurposePersonalizeDeclared, consent.PurposeMarketingEmail, consent.PurposeAdvertising} {
		assert.Equal(t, p, recs[i].Purpose)
		assert.Equal(t, uint64(i+1), recs[i].Seq)
	}
	assert.Equal(t, uint64(2), recs[2].Back, "linked to the subject's record before, in the batch")
	assert.True(t, decide(t, g, subj, consent.PurposeMarketingEmail, at, consent.Signals{}).Allowed)

	// One bad event: nothing recorded, and the error names it.
	n := s.Len()
	for _, tt := range []struct {
		name  string
		evs   []consent.Event
		index int
		is    error
	}{
		{"unknown purpose", []consent.Event{ev(consent.Grant, subj, consent.PurposeMarketingEmail, at), ev(consent.Grant, subj, "no.such", at)}, 1, consent.ErrUnknownPurpose},
		{"empty subject", []consent.Event{ev(consent.Grant, "", consent.PurposeMarketingEmail, at)}, 0, consent.ErrEmptySubject},
		{"backdated against the ledger", []consent.Event{ev(consent.Grant, subj, consent.PurposeSharing, at), ev(consent.Grant, subj, consent.PurposeAdvertising, at.Add(-time.Hour))}, 1, consent.ErrOutOfOrder},
		{"backdated within the batch", []consent.Event{ev(consent.Withdraw, subj, consent.PurposeMarketing, at.Add(time.Hour)), ev(consent.Grant, subj, consent.PurposeMarketingEmail, at)}, 1, consent.ErrOutOfOrder},
	} {
		_, err := g.RecordMany(ctx, tt.evs)
		var be *consent.BatchError
		require.ErrorAs(t, err, &be, tt.name)
		assert.Equal(t, tt.index, be.Index, tt.name)
		assert.ErrorIs(t, err, tt.is, tt.name)
		assert.ErrorIs(t, err, consent.ErrInvalidEvent, tt.name)
		assert.Equal(t, n, s.Len(), "%s: nothing recorded", tt.name)
	}
	recs, err = g.RecordMany(ctx, nil)
	assert.NoError(t, err)
	assert.Empty(t, recs)

	// A store failure: nothing recorded, and the next batch chains on.
	fs := &failAppend{MemoryStore: consent.NewMemoryStore(), fail: true}
	g2, err := consent.NewGate(g.Policy(), fs, consent.GateConfig{})
	require.NoError(t, err)
	_, err = g2.RecordMany(ctx, []consent.Event{ev(consent.Grant, subj, consent.PurposeSharing, at), ev(consent.Grant, subj, consent.PurposeMarketing, at)})
	require.ErrorIs(t, err, errDiskFull)
	assert.Zero(t, fs.Len())
	fs.fail = false
	recs, err = g2.RecordMany(ctx, []consent.Event{ev(consent.Grant, subj, consent.PurposeSharing, at)})
	require.NoError(t, err)
	assert.Equal(t, uint64(1), recs[0].Seq)
	_, err = g2.Verify(ctx)
	require.NoError(t, err)
	_, err = g.Verify(ctx)
	require.NoError(t, err)
}
