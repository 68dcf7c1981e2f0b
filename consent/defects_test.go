package consent_test

// Tests for the defects an adversarial review found (issue 9, items 1 to 7),
// each through the public API, as a hostile or careless user would.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
)

// rivalStore makes the Gate that appends through it lose races: before each
// of the next `losses` appends, a rival Gate over the same backing store
// appends a record first.
type rivalStore struct {
	consent.Store
	rival  *consent.Gate
	losses atomic.Int64
	n      atomic.Int64
}

func (s *rivalStore) Append(ctx context.Context, recs []consent.Record) error {
	if len(recs) > 0 && recs[0].Seq > 0 && s.losses.Add(-1) >= 0 {
		i := s.n.Add(1)
		if _, err := s.rival.Record(ctx, ev(consent.Grant, fmt.Sprint("rival-", i), consent.PurposeMarketing, now)); err != nil {
			return err
		}
	}
	return s.Store.Append(ctx, recs)
}

// Item 1: a writer that loses races never reports success for a record it
// did not store, and its idea of the chain head never runs ahead of the
// store.
func TestLostRacesNeverPhantom(t *testing.T) {
	for _, losses := range []int64{1, 8, 9, 50, 99, 100, 1000} {
		t.Run(fmt.Sprint(losses, " losses"), func(t *testing.T) {
			mem := consent.NewMemoryStore()
			rival, err := consent.NewGate(consenttest.RetailPolicy(), mem, consent.GateConfig{})
			require.NoError(t, err)
			s := &rivalStore{Store: mem, rival: rival}
			g, err := consent.NewGate(consenttest.RetailPolicy(), s, consent.GateConfig{})
			require.NoError(t, err)
			record(t, g, ev(consent.Grant, "ana", consent.PurposeMarketing, now))

			s.losses.Store(losses)
			r, err := g.Record(ctx, ev(consent.Withdraw, "ana", consent.PurposeMarketing, now.Add(time.Minute)))
			d := decide(t, g, "ana", consent.PurposeMarketingEmail, now.Add(time.Hour), consent.Signals{})
			if err != nil {
				require.ErrorIs(t, err, consent.ErrConflict)
				assert.True(t, d.Allowed, "a failed withdrawal changed nothing")
				assert.GreaterOrEqual(t, losses, int64(100), "gave up after fewer than 100 tries")
			} else {
				assert.Less(t, losses, int64(100))
				stored, ok, err := mem.Latest(ctx, "ana", consent.PurposeMarketing)
				require.NoError(t, err)
				require.True(t, ok)
				assert.Equal(t, r, stored, "the record Record returned is the one stored")
				assert.False(t, d.Allowed, "the withdrawal holds")
				assert.Equal(t, consent.ReasonWithdrawn, d.Reason)
			}
			// The Gate goes on chaining to what the store holds.
			s.losses.Store(0)
			next := record(t, g, ev(consent.Grant, "ben", consent.PurposeMarketing, now.Add(time.Hour)))
			assert.Equal(t, uint64(mem.Len()), next.Seq)
			_, err = g.Verify(ctx)
			require.NoError(t, err)
			_, err = rival.Verify(ctx)
			require.NoError(t, err)
		})
	}
}

// Item 1, under real contention: several Gates over one store, recording
// concurrently for shared and own subjects. Every record a Record call
// returned is stored as returned, nothing else is, the chain verifies, and
// each subject's last recorded choice decides.
func TestGatesShareAStore(t *testing.T) {
	const gates, writers, each = 4, 2, 60
	mem := consent.NewMemoryStore()
	gs := make([]*consent.Gate, gates)
	for i := range gs {
		var err error
		gs[i], err = consent.NewGate(consenttest.RetailPolicy(), opaqueStore{mem}, consent.GateConfig{})
		require.NoError(t, err)
	}
	var mu sync.Mutex
	returned := map[uint64]consent.Record{}
	var clock atomic.Int64 // one clock, so that every subject's events are in time order
	var wg sync.WaitGroup
	for i := range gates * writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := gs[i%gates]
			for j := range each {
				subject := fmt.Sprint("own-", i)
				if j%2 == 0 {
					subject = fmt.Sprint("shared-", j%3)
				}
				a := []consent.Action{consent.Grant, consent.Withdraw}[(i+j)%2]
				mu.Lock() // the clock and the append in one step, so times follow the ledger
				at := now.Add(time.Duration(clock.Add(1)) * time.Millisecond)
				r, err := g.Record(ctx, ev(a, subject, consent.PurposeMarketing, at))
				if err == nil {
					returned[r.Seq] = r
				}
				mu.Unlock()
				if err != nil {
					t.Errorf("Record: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	assert.Len(t, returned, mem.Len(), "every stored record was returned by one Record call, once")
	require.NoError(t, mem.Scan(ctx, "", 0, func(r consent.Record) error {
		assert.Equal(t, returned[r.Seq], r, "record %d", r.Seq)
		return nil
	}))
	for _, g := range gs {
		_, err := g.Verify(ctx)
		require.NoError(t, err)
	}
}

// TestGatesShareAStoreRacing is TestGatesShareAStore without the lock
// around Record, so that Gates really race to append; subjects are each
// writer's own, so time order holds.
func TestGatesShareAStoreRacing(t *testing.T) {
	const gates, writers, each = 4, 2, 100
	mem := consent.NewMemoryStore()
	gs := make([]*consent.Gate, gates)
	for i := range gs {
		var err error
		gs[i], err = consent.NewGate(consenttest.RetailPolicy(), opaqueStore{mem}, consent.GateConfig{})
		require.NoError(t, err)
	}
	var mu sync.Mutex
	returned := map[uint64]consent.Record{}
	last := map[string]consent.Action{}
	var wg sync.WaitGroup
	for i := range gates * writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := gs[i%gates]
			subject := fmt.Sprint("w", i)
			for j := range each {
				a := []consent.Action{consent.Grant, consent.Withdraw}[(i+j)%2]
				r, err := g.Record(ctx, ev(a, subject, consent.PurposeMarketing, now.Add(time.Duration(j)*time.Second)))
				if err != nil {
					t.Errorf("Record: %v", err)
					return
				}
				mu.Lock()
				returned[r.Seq], last[subject] = r, a
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Len(t, returned, mem.Len())
	require.NoError(t, mem.Scan(ctx, "", 0, func(r consent.Record) error {
		assert.Equal(t, returned[r.Seq], r, "record %d", r.Seq)
		return nil
	}))
	for subject, a := range last {
		d := decide(t, gs[0], subject, consent.PurposeMarketingEmail, now.Add(time.Hour), consent.Signals{})
		assert.Equal(t, a == consent.Grant, d.Allowed, subject)
	}
	_, err := gs[0].Verify(ctx)
	require.NoError(t, err)
}

// Item 2: a grant dated before a withdrawal, of the purpose or of a purpose
// above it, is refused, and the withdrawal holds.
func TestBackdatedGrantRefused(t *testing.T) {
	for _, tc := range []struct {
		name             string
		withdraw, grant  consent.Purpose
		decideAbout      consent.Purpose
		allowedAfterward bool
	}{
		{"same purpose", consent.PurposeMarketing, consent.PurposeMarketing, consent.PurposeMarketingEmail, false},
		{"child of the withdrawn purpose", consent.PurposePersonalize, consent.PurposePersonalizeHistory, consent.PurposePersonalizeHistory, false},
		{"parent of the withdrawn purpose", consent.PurposePersonalizeHistory, consent.PurposePersonalize, consent.PurposePersonalizeHistory, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, s := newGate(t, consent.GateConfig{})
			record(t, g, ev(consent.Grant, "ana", tc.withdraw, now.Add(-2*time.Hour)))
			record(t, g, ev(consent.Withdraw, "ana", tc.withdraw, now))
			n := s.Len()
			_, err := g.Record(ctx, ev(consent.Grant, "ana", tc.grant, now.Add(-time.Hour)))
			require.ErrorIs(t, err, consent.ErrOutOfOrder)
			require.ErrorIs(t, err, consent.ErrInvalidEvent)
			assert.Equal(t, n, s.Len(), "nothing recorded")
			assert.Equal(t, tc.allowedAfterward, decide(t, g, "ana", tc.decideAbout, now.Add(time.Hour), consent.Signals{}).Allowed)
			// At the same time or later, the grant is recorded and decides.
			record(t, g, ev(consent.Grant, "ana", tc.grant, now))
		})
	}
	// Unrelated purposes need no order: a person's choices about marketing
	// and personalization arrive through different channels.
	g, _ := newGate(t, consent.GateConfig{})
	record(t, g, ev(consent.Withdraw, "ana", consent.PurposeMarketing, now))
	record(t, g, ev(consent.Grant, "ana", consent.PurposePersonalize, now.Add(-time.Hour)))
}

// Item 2, for imports and ledgers: a forged ledger whose records are in
// ledger order but not in time order is rejected by import and
// verification.
func TestOutOfOrderLedgerRejected(t *testing.T) {
	var salt consent.Salt
	salt[0] = 1
	w := consent.Event{Action: consent.Withdraw, Subject: "ana", Purpose: consent.PurposePersonalize, At: now, Channel: consent.ChannelWeb, PolicyVersion: 2}
	gr := consent.Event{Action: consent.Grant, Subject: "ana", Purpose: consent.PurposePersonalizeHistory, At: now.Add(-time.Hour), Channel: consent.ChannelWeb, PolicyVersion: 2}
	r1 := consent.Chain(consent.Hash{}, 1, 0, salt, w)
	r2 := consent.Chain(r1.Hash, 2, 1, salt, gr)
	jsonl := jsonLines(t, r1, r2)

	_, err := consent.VerifyJSONL(strings.NewReader(jsonl))
	assertLineErr(t, err, 2, consent.ErrOutOfOrder)
	g, s := newGate(t, consent.GateConfig{})
	_, err = g.ImportLedger(ctx, strings.NewReader(jsonl))
	assertLineErr(t, err, 2, consent.ErrOutOfOrder)
	assert.Zero(t, s.Len())
	_, err = consent.VerifyRecords([]consent.Record{r1, r2})
	require.ErrorIs(t, err, consent.ErrOutOfOrder)

	// A store that holds them anyway fails verification.
	forged := consent.NewMemoryStore()
	require.NoError(t, forged.Append(ctx, []consent.Record{r1, r2}))
	g2, err := consent.NewGate(consenttest.RetailPolicy(), forged, consent.GateConfig{})
	require.NoError(t, err)
	_, err = g2.Verify(ctx)
	require.ErrorIs(t, err, consent.ErrOutOfOrder)
}

// Item 3: a purpose dropped from the policy and brought back at its old
// version does not revive grants that a material change had ended.
func TestDroppedPurposeCannotComeBackOlder(t *testing.T) {
	g, _ := newGate(t, consent.GateConfig{})
	gr := ev(consent.Grant, "ana", consent.PurposePersonalizeHistory, now.Add(-time.Hour))
	gr.PolicyVersion = 1 // before personalize.history changed materially, in version 2
	record(t, g, gr)
	assert.Equal(t, consent.ReasonReconsent, decide(t, g, "ana", consent.PurposePersonalizeHistory, now, consent.Signals{}).Reason)

	v3 := consenttest.RetailPolicy()
	v3.Version = 3
	var dropped consent.PurposeSpec
	for i, s := range v3.Purposes {
		if s.Purpose == consent.PurposePersonalizeHistory {
			dropped = s
			v3.Purposes = append(v3.Purposes[:i], v3.Purposes[i+1:]...)
			break
		}
	}
	require.NoError(t, g.SetPolicy(v3))

	v4 := v3.Clone()
	v4.Version = 4
	dropped.Version = 1
	v4.Purposes = append(v4.Purposes, dropped)
	err := g.SetPolicy(v4)
	require.ErrorIs(t, err, consent.ErrPolicyDowngrade)
	require.ErrorIs(t, err, consent.ErrInvalidPolicy)
	dropped.Version = 2
	v4.Purposes[len(v4.Purposes)-1] = dropped
	require.NoError(t, g.SetPolicy(v4), "back at the version it had: fine")
	assert.Equal(t, consent.ReasonReconsent, decide(t, g, "ana", consent.PurposePersonalizeHistory, now, consent.Signals{}).Reason,
		"the grant made before the material change stays ended")

	// A lower policy version is a downgrade too.
	err = g.SetPolicy(consenttest.RetailPolicy())
	require.ErrorIs(t, err, consent.ErrPolicyDowngrade)
}

// Item 4: an event or an imported record claiming a policy version newer
// than the policy in force is refused.
func TestFuturePolicyVersionRefused(t *testing.T) {
	g, s := newGate(t, consent.GateConfig{})
	e := ev(consent.Grant, "ana", consent.PurposePersonalizeHistory, now)
	e.PolicyVersion = 99
	_, err := g.Record(ctx, e)
	require.ErrorIs(t, err, consent.ErrUnknownVersion)
	require.ErrorIs(t, err, consent.ErrInvalidEvent)

	var salt consent.Salt
	salt[3] = 7
	ok := consent.Chain(consent.Hash{}, 1, 0, salt, consent.Event{Action: consent.Grant, Subject: "ben", Purpose: consent.PurposeMarketing, At: now, Channel: consent.ChannelWeb, PolicyVersion: 2})
	future := consent.Chain(ok.Hash, 2, 0, salt, consent.Event{Action: consent.Grant, Subject: "ana", Purpose: consent.PurposePersonalizeHistory, At: now, Channel: consent.ChannelWeb, PolicyVersion: 99})
	_, err = g.ImportLedger(ctx, strings.NewReader(jsonLines(t, ok, future)))
	assertLineErr(t, err, 2, consent.ErrUnknownVersion)
	assert.Zero(t, s.Len(), "nothing imported")
	assert.Equal(t, consent.ReasonNoConsent, decide(t, g, "ana", consent.PurposePersonalizeHistory, now, consent.Signals{}).Reason)
}

// Item 5: a withdrawal cannot be turned into a tombstone on its own, while
// the subject's grant stays, through the store or an import; whole erased
// subjects still import and verify.
func TestTombstoneCannotHideAWithdrawal(t *testing.T) {
	for _, tc := range []struct {
		name            string
		grant, withdraw consent.Purpose
		decideAbout     consent.Purpose
	}{
		{"same purpose", consent.PurposeMarketing, consent.PurposeMarketing, consent.PurposeMarketingEmail},
		{"withdrawal of the parent", consent.PurposePersonalizeHistory, consent.PurposePersonalize, consent.PurposePersonalizeHistory},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, s := newGate(t, consent.GateConfig{})
			record(t, g, ev(consent.Grant, "ben", consent.PurposeMarketing, now.Add(-3*time.Hour)))
			record(t, g, ev(consent.Grant, "ana", tc.grant, now.Add(-2*time.Hour)))
			w := record(t, g, ev(consent.Withdraw, "ana", tc.withdraw, now.Add(-time.Hour)))
			record(t, g, ev(consent.Grant, "ben", consent.PurposeSharing, now))

			// Through the store.
			err := s.Redact(ctx, []consent.Record{w.Tombstone()})
			require.ErrorIs(t, err, consent.ErrConflict)
			assert.False(t, decide(t, g, "ana", tc.decideAbout, now, consent.Signals{}).Allowed, "the withdrawal holds")

			// Through an import: the export with the withdrawal's line
			// replaced by its tombstone.
			var buf bytes.Buffer
			_, err = g.ExportLedger(ctx, &buf)
			require.NoError(t, err)
			lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			tomb, err := json.Marshal(w.Tombstone())
			require.NoError(t, err)
			lines[w.Seq-1] = string(tomb)
			forged := join(lines)
			_, err = consent.VerifyJSONL(strings.NewReader(forged))
			assertLineErr(t, err, int(w.Seq), consent.ErrPartialErasure)
			g2, s2 := newGate(t, consent.GateConfig{})
			_, err = g2.ImportLedger(ctx, strings.NewReader(forged))
			assertLineErr(t, err, int(w.Seq), consent.ErrPartialErasure)
			assert.Zero(t, s2.Len())

			// Tombstoning the grant too (the whole subject) is an erasure:
			// it verifies and allows nothing.
			all := []consent.Record{}
			require.NoError(t, s.Scan(ctx, "", 0, func(r consent.Record) error { all = append(all, r); return nil }))
			for i := range all {
				if all[i].Subject == "ana" {
					all[i] = all[i].Tombstone()
				}
			}
			_, err = consent.VerifyRecords(all)
			require.NoError(t, err)
			_, err = consent.VerifyRecords(all[:len(all)-1])
			require.NoError(t, err)

			// And a live record after a tombstone of its subject is caught.
			partial := append([]consent.Record(nil), all...)
			for i := range partial {
				if partial[i].Action == consent.Grant && partial[i].Erased {
					partial[i] = allRecords(t, s)[i] // the grant back, live
				}
			}
			_, err = consent.VerifyRecords(partial)
			require.ErrorIs(t, err, consent.ErrTampered)
		})
	}
}

// Item 5, as a property: in random ledgers with erasures, tombstoning any
// proper subset of one subject's records (any record alone, or any other
// incomplete selection) is detected by VerifyRecords, while tombstoning all
// of them is not.
func TestPartialErasureProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 1))
	purposes := []consent.Purpose{consent.PurposeMarketing, consent.PurposeMarketingEmail, consent.PurposePersonalize, consent.PurposePersonalizeHistory, consent.PurposeSharing}
	iterations := 300
	if testing.Short() {
		iterations = 60
	}
	for it := range iterations {
		g, s := newGate(t, consent.GateConfig{})
		at := now
		for range 2 + rng.IntN(15) {
			at = at.Add(time.Duration(rng.IntN(3)) * time.Minute)
			record(t, g, ev(consent.Action(1+rng.IntN(3)), fmt.Sprint("s", rng.IntN(3)), purposes[rng.IntN(len(purposes))], at))
		}
		if rng.IntN(2) == 0 {
			_, err := g.Erase(ctx, "s0", at)
			require.NoError(t, err)
		}
		recs := allRecords(t, s)
		var mine []int // the live records of one subject
		subject := fmt.Sprint("s", rng.IntN(3))
		for i, r := range recs {
			if r.Subject == subject {
				mine = append(mine, i)
			}
		}
		if len(mine) == 0 {
			continue
		}
		// A random non-empty subset.
		var pick []int
		for len(pick) == 0 {
			pick = pick[:0]
			for _, i := range mine {
				if rng.IntN(2) == 0 {
					pick = append(pick, i)
				}
			}
		}
		forged := append([]consent.Record(nil), recs...)
		for _, i := range pick {
			forged[i] = forged[i].Tombstone()
		}
		_, err := consent.VerifyRecords(forged)
		if len(pick) == len(mine) {
			require.NoError(t, err, "iteration %d: a whole subject tombstoned", it)
		} else {
			require.ErrorIs(t, err, consent.ErrTampered, "iteration %d: %d of %d records of %s tombstoned", it, len(pick), len(mine), subject)
		}
	}
}

// Item 6: nothing in a tombstone lets anyone test a guessed subject id.
// The attacker knows the canonical encoding (documented at consent.Record),
// every channel, evidence string and actor the shop uses, and a dictionary
// of 5,000 candidate ids that contains the 20 erased subjects; what the
// tombstone dropped includes the random salt, so no guess can be checked.
// (Before the salt, this attack re-identified 20 of 20.)
func TestTombstonesResistDictionaryAttack(t *testing.T) {
	g, s := newGate(t, consent.GateConfig{})
	var candidates []string
	for i := range 5000 {
		candidates = append(candidates, fmt.Sprintf("shopper-%04d", i))
	}
	var erased []string
	for i := range 20 {
		id := candidates[i*241]
		erased = append(erased, id)
		record(t, g, ev(consent.Grant, id, consent.PurposeMarketing, now))
		record(t, g, ev(consent.Deny, id, consent.PurposeSharing, now))
	}
	for _, id := range erased {
		_, err := g.Erase(ctx, id, now.Add(time.Hour))
		require.NoError(t, err)
	}
	channels := []consent.Channel{consent.ChannelWeb, consent.ChannelApp, consent.ChannelStore}
	hits := 0
	var tried int
	for _, r := range allRecords(t, s) {
		if !r.Erased || r.Action == consent.Grant {
			continue
		}
		for _, id := range candidates {
			for _, ch := range channels {
				for actor := range 3 {
					tried++
					if attackerDigest(id, ch, "", consent.Actor(actor)) == r.Sealed {
						hits++
					}
				}
			}
		}
	}
	require.Positive(t, tried)
	assert.Zero(t, hits, "a guessed id matched a tombstone")
}

// attackerDigest is the personal digest of consent.Record's canonical
// encoding for a guessed id, with the salt the attacker does not know left
// out (or, equivalently here, zero).
func attackerDigest(subject string, ch consent.Channel, evidence string, a consent.Actor) consent.Hash {
	str := func(b []byte, s string) []byte { return append(binary.BigEndian.AppendUint32(b, uint32(len(s))), s...) }
	b := []byte("tact/p2")
	b = str(b, subject)
	b = str(b, string(ch))
	b = str(b, evidence)
	b = append(b, byte(a))
	b = append(b, make([]byte, 16)...)
	return sha256.Sum256(b)
}

// Item 7: a rewrite of a record with every record after it re-chained
// verifies on its own, and is caught against a checkpoint taken before it.
func TestCheckpointCatchesRewrite(t *testing.T) {
	g, s := newGate(t, consent.GateConfig{})
	record(t, g, ev(consent.Grant, "ana", consent.PurposeMarketing, now))
	record(t, g, ev(consent.Withdraw, "ana", consent.PurposeMarketing, now.Add(time.Minute)))
	record(t, g, ev(consent.Grant, "ben", consent.PurposeMarketing, now.Add(2*time.Minute)))
	cp, err := g.Checkpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), cp.Seq)
	parsed, err := consent.ParseCheckpoint(cp.String())
	require.NoError(t, err)
	assert.Equal(t, cp, parsed)

	// The forger turns the withdrawal into a grant and re-chains the rest.
	recs := allRecords(t, s)
	evs := []consent.Event{recs[0].Event, recs[1].Event, recs[2].Event}
	evs[1].Action = consent.Grant
	forgedRecs := make([]consent.Record, 3)
	scratch, _ := newGate(t, consent.GateConfig{})
	for i, e := range evs {
		forgedRecs[i] = record(t, scratch, e)
	}
	_, err = consent.VerifyRecords(forgedRecs)
	require.NoError(t, err, "a fully re-chained ledger verifies on its own")
	_, err = consent.VerifyRecords(forgedRecs, cp)
	require.ErrorIs(t, err, consent.ErrTampered)
	_, err = consent.VerifyJSONL(strings.NewReader(jsonLines(t, forgedRecs...)), cp)
	assertLineErr(t, err, 3, consent.ErrTampered) // the checkpoint names record 3
	g2, s2 := newGate(t, consent.GateConfig{})
	_, err = g2.ImportLedger(ctx, strings.NewReader(jsonLines(t, forgedRecs...)), cp)
	assertLineErr(t, err, 3, consent.ErrTampered)
	assert.Zero(t, s2.Len())
	// Against the genuine store the checkpoint verifies; against a store
	// holding the rewrite, Verify fails at the checkpoint.
	_, err = g.Verify(ctx, cp)
	require.NoError(t, err)
	mem := consent.NewMemoryStore()
	require.NoError(t, mem.Append(ctx, forgedRecs))
	g3, err := consent.NewGate(consenttest.RetailPolicy(), mem, consent.GateConfig{})
	require.NoError(t, err)
	_, err = g3.Verify(ctx)
	require.NoError(t, err)
	_, err = g3.Verify(ctx, cp)
	var ce *consent.ChainError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, uint64(3), ce.Seq)
	// A checkpoint beyond the end: truncation.
	_, err = g3.Verify(ctx, consent.Checkpoint{Seq: 9, Hash: cp.Hash})
	require.ErrorIs(t, err, consent.ErrTampered)
}

func TestCheckpointText(t *testing.T) {
	cp := consent.Checkpoint{Seq: 42}
	cp.Hash[0], cp.Hash[31] = 0xab, 0x01
	b, err := cp.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "42:ab"+strings.Repeat("0", 60)+"01", string(b))
	var back consent.Checkpoint
	require.NoError(t, back.UnmarshalText(b))
	assert.Equal(t, cp, back)
	for _, bad := range []string{"", ":", "42", "42:", "x:" + cp.Hash.String(), "-1:" + cp.Hash.String(), "042:" + cp.Hash.String(),
		"42:" + cp.Hash.String()[1:], "42:" + strings.Repeat("g", 64), "18446744073709551616:" + cp.Hash.String()} {
		_, err := consent.ParseCheckpoint(bad)
		require.ErrorIs(t, err, consent.ErrMalformedRecord, "%q", bad)
	}
}

// Item 7: a JSON object with a repeated key is refused (encoding/json keeps
// the last value, which could hide a forged value behind the genuine one),
// whatever the case of the repeat; a trailing blank line is accepted, a
// blank line between records is not.
func TestImportJSONHardening(t *testing.T) {
	g, _ := newGate(t, consent.GateConfig{})
	record(t, g, ev(consent.Grant, "ana", consent.PurposeMarketing, now))
	record(t, g, ev(consent.Withdraw, "ana", consent.PurposeMarketing, now))
	var buf bytes.Buffer
	_, err := g.ExportLedger(ctx, &buf)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")

	for _, dup := range []string{`"action":"grant",`, `"ACTION":"grant",`, `"Action":"withdraw",`} {
		bad := append([]string(nil), lines...)
		bad[1] = "{" + dup + bad[1][1:]
		for name, err := range map[string]error{
			"VerifyJSONL": func() error { _, err := consent.VerifyJSONL(strings.NewReader(join(bad))); return err }(),
			"Import": func() error {
				g2, _ := newGate(t, consent.GateConfig{})
				_, err := g2.ImportLedger(ctx, strings.NewReader(join(bad)))
				return err
			}(),
		} {
			assertLineErr(t, err, 2, consent.ErrMalformedRecord)
			assert.Contains(t, err.Error(), "more than once", name)
		}
		var r consent.Record
		require.ErrorIs(t, json.Unmarshal([]byte(bad[1]), &r), consent.ErrMalformedRecord)
	}
	for _, tail := range []string{"\n", "\n\n", "\r\n", "\n  \n"} {
		cp, err := consent.VerifyJSONL(strings.NewReader(join(lines) + tail))
		require.NoError(t, err, "%q", tail)
		assert.Equal(t, uint64(2), cp.Seq)
		g2, _ := newGate(t, consent.GateConfig{})
		n, err := g2.ImportLedger(ctx, strings.NewReader(join(lines)+tail))
		require.NoError(t, err)
		assert.Equal(t, 2, n)
	}
	_, err = consent.VerifyJSONL(strings.NewReader(lines[0] + "\n\n" + lines[1] + "\n"))
	assertLineErr(t, err, 2, consent.ErrMalformedRecord)
}

func TestDecodePolicyRejectsDuplicateKeys(t *testing.T) {
	b, err := json.Marshal(consenttest.RetailPolicy())
	require.NoError(t, err)
	for _, bad := range [][]byte{
		bytes.Replace(b, []byte(`{"version":2,`), []byte(`{"version":2,"version":9,`), 1),
		bytes.Replace(b, []byte(`"basis":"consent"`), []byte(`"basis":"consent","Basis":"contract"`), 1),
	} {
		_, err := consent.DecodePolicy(bad)
		require.ErrorIs(t, err, consent.ErrInvalidPolicy)
		assert.Contains(t, err.Error(), "more than once")
	}
	_, err = consent.DecodePolicy(b)
	require.NoError(t, err)
}

func assertLineErr(t *testing.T, err error, line int, want error) {
	t.Helper()
	var le *consent.LineError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, line, le.Line, "%v", err)
	require.ErrorIs(t, err, want)
}

func jsonLines(t *testing.T, recs ...consent.Record) string {
	t.Helper()
	var b strings.Builder
	for _, r := range recs {
		j, err := json.Marshal(r)
		require.NoError(t, err)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

func allRecords(t *testing.T, s consent.Store) []consent.Record {
	t.Helper()
	var out []consent.Record
	require.NoError(t, s.Scan(ctx, "", 0, func(r consent.Record) error { out = append(out, r); return nil }))
	return out
}

// An erasure on one Gate racing records for the same subject on another
// (two service instances) leaves a ledger that verifies: no live record
// links to a tombstone, and no tombstone follows a live record.
func TestEraseRacesRecord(t *testing.T) {
	for _, store := range []func() consent.Store{
		func() consent.Store { return consent.NewMemoryStore() },
		func() consent.Store { return opaqueStore{consent.NewMemoryStore()} },
	} {
		s := store()
		a, err := consent.NewGate(consenttest.RetailPolicy(), s, consent.GateConfig{})
		require.NoError(t, err)
		b, err := consent.NewGate(consenttest.RetailPolicy(), s, consent.GateConfig{})
		require.NoError(t, err)
		var wg sync.WaitGroup
		var clock atomic.Int64
		at := func() time.Time { return now.Add(time.Duration(clock.Add(1)) * time.Millisecond) }
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 50 {
				if _, err := a.Erase(ctx, "ana", at()); err != nil {
					t.Errorf("Erase: %v", err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := range 200 {
				act := []consent.Action{consent.Grant, consent.Withdraw}[i%2]
				if _, err := b.Record(ctx, ev(act, "ana", consent.PurposeMarketing, at())); err != nil && !errors.Is(err, consent.ErrOutOfOrder) {
					t.Errorf("Record: %v", err)
					return
				}
			}
		}()
		wg.Wait()
		_, err = a.Verify(ctx)
		require.NoError(t, err)
		_, err = b.Verify(ctx)
		require.NoError(t, err)
	}
}
