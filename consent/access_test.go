package consent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
)

func TestAccess(t *testing.T) {
	g := consenttest.NewGate(t, consent.GateConfig{})
	a, err := g.Access(ctx, consenttest.SubjectWithdrawn, now)
	require.NoError(t, err)
	require.Len(t, a.Records, 2)
	assert.Equal(t, consent.Grant, a.Records[0].Action)
	assert.Equal(t, consent.Withdraw, a.Records[1].Action)
	for _, r := range a.Records {
		assert.Equal(t, consenttest.SubjectWithdrawn, r.Subject)
	}
	require.Len(t, a.Decisions, 20, "a decision for every purpose of the policy")
	byPurpose := map[consent.Purpose]consent.Decision{}
	for _, d := range a.Decisions {
		byPurpose[d.Purpose] = d
	}
	assert.Equal(t, consent.ReasonWithdrawn, byPurpose[consent.PurposePersonalizeHistory].Reason)
	assert.Equal(t, consent.ReasonNotConsent, byPurpose[consent.PurposeServiceCheckout].Reason)
	b, err := json.Marshal(a)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"reason":"withdrawn"`)
	assert.Contains(t, string(b), `"basis":"consent"`)

	a, err = g.Access(ctx, "nobody", now)
	require.NoError(t, err)
	assert.Empty(t, a.Records)
	b, err = json.Marshal(a)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"records":[]`, "an empty list, not null")
}

func TestAccessJSONRoundTrip(t *testing.T) {
	// What a host stores as JSON (an access export, a decision it logged)
	// reads back as the value written.
	g := consenttest.NewGate(t, consent.GateConfig{})
	_, err := g.Decide(ctx, consenttest.SubjectGPC, consent.PurposeAdvertising, now, consent.Signals{GPC: true})
	require.NoError(t, err)
	for _, s := range consenttest.Shoppers() {
		a, err := g.Access(ctx, s.ID, now)
		require.NoError(t, err)
		b, err := json.Marshal(a)
		require.NoError(t, err)
		var back consent.Access
		require.NoError(t, json.Unmarshal(b, &back), "%s", b)
		assert.Equal(t, a, back, s.ID)
	}
	for _, tt := range []struct {
		name, doc string
		want      error
	}{
		{"unknown reason", `{"reason":"because"}`, consent.ErrInvalidDecision},
		{"unknown regime", `{"regime":"hipaa"}`, consent.ErrInvalidSignals},
	} {
		var d consent.Decision
		err := json.Unmarshal([]byte(tt.doc), &d)
		require.ErrorIs(t, err, tt.want, tt.name)
		assert.ErrorContains(t, err, "consent: ")
	}
}

func TestErase(t *testing.T) {
	g, s := newGate(t, consent.GateConfig{})
	const alice = "alice@example.com"
	g1 := record(t, g, consent.Event{Action: consent.Grant, Subject: alice, Purpose: consent.PurposePersonalize, At: now.Add(-3 * day),
		Channel: consent.ChannelApp, Evidence: "sha256:notice", Actor: consent.ActorSelf})
	record(t, g, ev(consent.Grant, alice, consent.PurposeMarketing, now.Add(-3*day)))
	w := record(t, g, ev(consent.Withdraw, alice, consent.PurposeMarketing, now.Add(-2*day)))
	record(t, g, ev(consent.Grant, "bob", consent.PurposeMarketing, now.Add(-day)))
	before, err := g.Verify(ctx)
	require.NoError(t, err)

	e, err := g.Erase(ctx, alice, now)
	require.NoError(t, err)
	assert.Equal(t, []consent.Purpose{consent.PurposePersonalize}, e.Withdrawn, "the live grant is withdrawn first; marketing already was")
	assert.Equal(t, 4, e.Records, "3 records plus the erasure withdrawal")

	// The chain still verifies and still ends where it did, plus the withdrawal.
	after, err := g.Verify(ctx)
	require.NoError(t, err)
	assert.Equal(t, before.Seq+1, after.Seq)

	// Nothing about alice remains findable or readable.
	a, err := g.Access(ctx, alice, now)
	require.NoError(t, err)
	assert.Empty(t, a.Records)
	var buf bytes.Buffer
	_, err = g.ExportLedger(ctx, &buf)
	require.NoError(t, err)
	assert.NotContains(t, buf.String(), "alice")
	assert.NotContains(t, buf.String(), "sha256:notice", "evidence is personal to the event")
	d := decide(t, g, alice, consent.PurposePersonalizeHistory, now, consent.Signals{})
	assert.Equal(t, consent.ReasonNoConsent, d.Reason, "after erasure the subject is new")
	assert.True(t, decide(t, g, "bob", consent.PurposeMarketingEmail, now, consent.Signals{}).Allowed, "other subjects untouched")

	// What remains: the fact of each withdrawal, and grants reduced to their action.
	var recs []consent.Record
	require.NoError(t, s.Scan(ctx, "", 0, func(r consent.Record) error { recs = append(recs, r); return nil }))
	tomb := recs[g1.Seq-1]
	assert.True(t, tomb.Erased)
	assert.Equal(t, consent.Grant, tomb.Action)
	assert.Empty(t, tomb.Purpose, "an erased grant keeps only that it was a grant")
	assert.True(t, tomb.At.IsZero())
	wt := recs[w.Seq-1]
	assert.True(t, wt.Erased)
	assert.Equal(t, consent.Withdraw, wt.Action)
	assert.Equal(t, consent.PurposeMarketing, wt.Purpose, "a withdrawal keeps what it withdrew")
	assert.True(t, wt.At.Equal(w.At), "and when")
	assert.Empty(t, wt.Subject)
	assert.Empty(t, wt.Channel)
	last := recs[len(recs)-1]
	assert.True(t, last.Erased)
	assert.Equal(t, consent.Withdraw, last.Action)
	assert.Equal(t, consent.SourceErasure, last.Source)
	assert.Equal(t, consent.PurposePersonalize, last.Purpose)

	// A person who kept their record (from a receipt) can show a tombstone is theirs.
	assert.Equal(t, g1.Tombstone(), tomb, "the kept record reproduces the tombstone exactly")
	assert.Equal(t, g1.Hash, tomb.Hash)

	// Erasing again or erasing a stranger is harmless.
	e, err = g.Erase(ctx, alice, now)
	require.NoError(t, err)
	assert.Zero(t, e.Records)
	// The id can be used afresh.
	record(t, g, ev(consent.Grant, alice, consent.PurposeMarketing, now))
	assert.True(t, decide(t, g, alice, consent.PurposeMarketingEmail, now, consent.Signals{}).Allowed)
	_, err = g.Verify(ctx)
	require.NoError(t, err)
}

func TestEraseErrors(t *testing.T) {
	g, s := newGate(t, consent.GateConfig{})
	record(t, g, ev(consent.Grant, subj, consent.PurposeMarketing, now))
	_, err := g.Erase(ctx, "", now)
	require.ErrorIs(t, err, consent.ErrEmptySubject)
	_, err = g.Erase(ctx, subj, time.Time{})
	require.ErrorIs(t, err, consent.ErrZeroTime)
	_, err = g.Erase(ctx, subj, time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC))
	require.ErrorIs(t, err, consent.ErrInvalidEvent, "the erasure withdrawal needs a time the ledger can hold")
	_, err = g.Erase(ctx, strings.Repeat("x", consent.MaxSubjectLen+1), now)
	require.ErrorIs(t, err, consent.ErrInvalidEvent)
	assert.Equal(t, 1, s.Len(), "failed erasures change nothing")
	assert.True(t, decide(t, g, subj, consent.PurposeMarketing, now, consent.Signals{}).Allowed)
	_, err = g.Access(ctx, "", now)
	require.ErrorIs(t, err, consent.ErrEmptySubject)
	_, err = g.Access(ctx, subj, time.Time{})
	require.ErrorIs(t, err, consent.ErrZeroTime)
	_, err = g.Receipt(ctx, "", now)
	require.ErrorIs(t, err, consent.ErrEmptySubject)
	_, err = g.Receipt(ctx, subj, time.Time{})
	require.ErrorIs(t, err, consent.ErrZeroTime)
}

func TestGPCAtOddTimes(t *testing.T) {
	g, s := newGate(t, consent.GateConfig{})
	_, err := g.Decide(ctx, subj, consent.PurposeAdvertising, time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC), consent.Signals{GPC: true})
	require.ErrorIs(t, err, consent.ErrInvalidEvent, "a GPC opt-out is recorded at the decision's time, which must fit the ledger")
	assert.Zero(t, s.Len())
}

// hookStore runs hook once, the first time the Gate reads from the store.
type hookStore struct {
	*consent.MemoryStore
	once sync.Once
	hook func()
}

func (s *hookStore) Latest(ctx context.Context, subject string, p consent.Purpose) (consent.Record, bool, error) {
	s.once.Do(s.hook)
	return s.MemoryStore.Latest(ctx, subject, p)
}

func (s *hookStore) Scan(ctx context.Context, subject string, after uint64, fn func(consent.Record) error) error {
	s.once.Do(s.hook)
	return s.MemoryStore.Scan(ctx, subject, after, fn)
}

func (s *hookStore) Standings(ctx context.Context, subject string, ps []consent.Purpose, out []consent.Standing) error {
	s.once.Do(s.hook)
	return s.MemoryStore.Standings(ctx, subject, ps, out)
}

func TestAccessAndReceiptUseOnePolicy(t *testing.T) {
	// A new policy that drops a purpose arrives while Access or Receipt
	// runs: they answer under the policy they started with.
	p3 := consenttest.RetailPolicy()
	p3.Version = 3
	for i, s := range p3.Purposes {
		if s.Purpose == consent.PurposeMarketingDirect {
			p3.Purposes = append(p3.Purposes[:i], p3.Purposes[i+1:]...)
			break
		}
	}
	for _, call := range []string{"Access", "Receipt"} {
		t.Run(call, func(t *testing.T) {
			s := &hookStore{MemoryStore: consent.NewMemoryStore()}
			g, err := consent.NewGate(consenttest.RetailPolicy(), s, consent.GateConfig{})
			require.NoError(t, err)
			s.hook = func() { require.NoError(t, g.SetPolicy(p3)) }
			if call == "Access" {
				a, err := g.Access(ctx, subj, now)
				require.NoError(t, err)
				assert.Len(t, a.Decisions, 20)
				assert.Equal(t, 2, a.PolicyVersion)
			} else {
				rc, err := g.Receipt(ctx, subj, now)
				require.NoError(t, err)
				assert.Equal(t, 2, rc.PolicyVersion)
			}
			assert.Equal(t, 3, g.Policy().Version, "the new policy is in force afterwards")
		})
	}
}

func TestAccessAndReceiptAreNotDecisions(t *testing.T) {
	// Audit counts of consent.decision are counts of uses of data asked
	// for; showing a person their own choices is not one.
	var buf bytes.Buffer
	g, _ := newGate(t, consent.GateConfig{Logger: slog.New(slog.NewJSONHandler(&buf, nil)), LogDecisions: true})
	record(t, g, ev(consent.Grant, subj, consent.PurposeMarketing, now))
	buf.Reset()
	_, err := g.Access(ctx, subj, now)
	require.NoError(t, err)
	_, err = g.Receipt(ctx, subj, now)
	require.NoError(t, err)
	assert.Empty(t, buf.String())
	decide(t, g, subj, consent.PurposeMarketingEmail, now, consent.Signals{})
	assert.Equal(t, 1, strings.Count(buf.String(), `"msg":"`+consent.AuditDecision+`"`), "Decide itself still logs")
}
