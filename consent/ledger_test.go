package consent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
)

// seeded returns the fixture gate and its ledger exported as JSON Lines.
func seeded(t *testing.T) (*consent.Gate, []string) {
	t.Helper()
	g := consenttest.NewGate(t, consent.GateConfig{})
	// Make a tombstone or two part of the ledger as well.
	_, err := g.Erase(ctx, consenttest.SubjectDenied, now)
	require.NoError(t, err)
	var buf bytes.Buffer
	n, err := g.ExportLedger(ctx, &buf)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	require.Len(t, lines, n)
	return g, lines
}

func join(lines []string) string { return strings.Join(lines, "\n") + "\n" }

func TestLedgerRoundTrip(t *testing.T) {
	g, lines := seeded(t)
	cp, err := consent.VerifyJSONL(strings.NewReader(join(lines)))
	require.NoError(t, err)
	want, err := g.Verify(ctx)
	require.NoError(t, err)
	assert.Equal(t, want, cp, "the export ends where the store does")
	assert.Equal(t, uint64(len(lines)), cp.Seq)

	g2, s2 := newGate(t, consent.GateConfig{})
	n, err := g2.ImportLedger(ctx, strings.NewReader(join(lines)))
	require.NoError(t, err)
	assert.Equal(t, len(lines), n)
	assert.Equal(t, len(lines), s2.Len())
	var buf bytes.Buffer
	_, err = g2.ExportLedger(ctx, &buf)
	require.NoError(t, err)
	assert.Equal(t, join(lines), buf.String(), "export, import, export is the identity")
	cp2, err := g2.Verify(ctx)
	require.NoError(t, err)
	assert.Equal(t, cp, cp2)

	// The imported ledger decides like the original.
	for _, s := range consenttest.Shoppers() {
		for _, p := range consenttest.RetailPolicy().Purposes {
			a, err := g.Decide(ctx, s.ID, p.Purpose, now, consent.Signals{Age: s.Signals.Age})
			require.NoError(t, err)
			b, err := g2.Decide(ctx, s.ID, p.Purpose, now, consent.Signals{Age: s.Signals.Age})
			require.NoError(t, err)
			assert.Equal(t, a, b, "%s %s", s.ID, p.Purpose)
		}
	}
	// And continues the chain.
	r := record(t, g2, ev(consent.Grant, "newcomer", consent.PurposeMarketing, now))
	assert.Equal(t, cp.Seq+1, r.Seq)
	assert.Equal(t, cp.Hash, r.Prev)
}

func TestImportContinuesStore(t *testing.T) {
	_, lines := seeded(t)
	g2, s2 := newGate(t, consent.GateConfig{})
	_, err := g2.ImportLedger(ctx, strings.NewReader(join(lines[:4])))
	require.NoError(t, err)
	// A fresh Gate over the same store learns where the ledger ends.
	g3, err := consent.NewGate(consenttest.RetailPolicy(), s2, consent.GateConfig{})
	require.NoError(t, err)
	_, err = g3.ImportLedger(ctx, strings.NewReader(join(lines[4:])))
	require.NoError(t, err)
	assert.Equal(t, len(lines), s2.Len())
	_, err = g3.Verify(ctx)
	require.NoError(t, err)

	// Importing the start again does not continue the ledger.
	_, err = g3.ImportLedger(ctx, strings.NewReader(join(lines[:2])))
	var le *consent.LineError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, 1, le.Line)
	require.ErrorIs(t, err, consent.ErrTampered)
	assert.Equal(t, len(lines), s2.Len())
}

func TestImportAfterAnotherGateAppended(t *testing.T) {
	// Two Gates share a store; the ledger to import continues the store,
	// which the importing Gate did not append to last.
	s := consent.NewMemoryStore()
	g1, err := consent.NewGate(consenttest.RetailPolicy(), s, consent.GateConfig{})
	require.NoError(t, err)
	g2, err := consent.NewGate(consenttest.RetailPolicy(), s, consent.GateConfig{})
	require.NoError(t, err)
	record(t, g1, ev(consent.Grant, "a", consent.PurposeMarketing, now))
	record(t, g2, ev(consent.Grant, "b", consent.PurposeMarketing, now))

	// Elsewhere, the same ledger went on: records 3 and 4.
	var shared bytes.Buffer
	_, err = g2.ExportLedger(ctx, &shared)
	require.NoError(t, err)
	gx, _ := newGate(t, consent.GateConfig{})
	_, err = gx.ImportLedger(ctx, &shared)
	require.NoError(t, err)
	record(t, gx, ev(consent.Withdraw, "a", consent.PurposeMarketing, now))
	record(t, gx, ev(consent.Grant, "c", consent.PurposeSharing, now))
	var all bytes.Buffer
	_, err = gx.ExportLedger(ctx, &all)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(all.String(), "\n"), "\n")

	n, err := g1.ImportLedger(ctx, strings.NewReader(join(lines[2:])))
	require.NoError(t, err, "the import follows the store's last record, whichever Gate appended it")
	assert.Equal(t, 2, n)
	_, err = g1.Verify(ctx)
	require.NoError(t, err)
	assert.False(t, decide(t, g2, "a", consent.PurposeMarketingEmail, now, consent.Signals{}).Allowed, "the imported withdrawal holds")
}

// mutate returns lines with one change applied, by kind.
func mutateLine(t *testing.T, line string, field string, value any) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(line), &m))
	m[field] = value
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

func TestImportRejectsAndAppliesNothing(t *testing.T) {
	_, lines := seeded(t)
	require.GreaterOrEqual(t, len(lines), 10)
	k := 5 // a line in the middle, a live grant or denial
	edit := func(field string, v any) []string {
		out := append([]string(nil), lines...)
		out[k] = mutateLine(t, out[k], field, v)
		return out
	}
	swapped := append([]string(nil), lines...)
	swapped[k], swapped[k+1] = swapped[k+1], swapped[k]
	tests := []struct {
		name  string
		lines []string
		input string // used instead of lines when set
		line  int
		want  error
	}{
		{name: "edited action", lines: edit("action", "withdraw"), line: k + 1, want: consent.ErrTampered},
		{name: "edited subject", lines: edit("subject", "mallory"), line: k + 1, want: consent.ErrTampered},
		{name: "edited purpose", lines: edit("purpose", "marketing"), line: k + 1, want: consent.ErrTampered},
		{name: "edited time", lines: edit("at", "2020-01-01T00:00:00Z"), line: k + 1, want: consent.ErrTampered},
		{name: "edited channel", lines: edit("channel", "store"), line: k + 1, want: consent.ErrTampered},
		{name: "edited evidence", lines: edit("evidence", "forged"), line: k + 1, want: consent.ErrTampered},
		{name: "edited actor", lines: edit("actor", "guardian"), line: k + 1, want: consent.ErrTampered},
		{name: "edited source", lines: edit("source", "import"), line: k + 1, want: consent.ErrTampered},
		{name: "edited version", lines: edit("policy_version", 1), line: k + 1, want: consent.ErrTampered},
		{name: "edited hash", lines: edit("hash", strings.Repeat("ab", 32)), line: k + 1, want: consent.ErrTampered},
		{name: "edited prev", lines: edit("prev", strings.Repeat("ab", 32)), line: k + 1, want: consent.ErrTampered},
		{name: "deleted line", lines: append(append([]string(nil), lines[:k]...), lines[k+1:]...), line: k + 1, want: consent.ErrTampered},
		{name: "inserted line", lines: append(append(append([]string(nil), lines[:k]...), lines[2]), lines[k:]...), line: k + 1, want: consent.ErrTampered},
		{name: "swapped lines", lines: swapped, line: k + 1, want: consent.ErrTampered},
		{name: "first line missing", lines: lines[1:], line: 1, want: consent.ErrTampered},
		{name: "unknown field", lines: edit("note", "hi"), line: k + 1, want: consent.ErrMalformedRecord},
		{name: "bad action", lines: edit("action", "maybe"), line: k + 1, want: consent.ErrMalformedRecord},
		{name: "bad time", lines: edit("at", "yesterday"), line: k + 1, want: consent.ErrMalformedRecord},
		{name: "bad hash", lines: edit("hash", "xyz"), line: k + 1, want: consent.ErrMalformedRecord},
		{name: "empty subject", lines: edit("subject", ""), line: k + 1, want: consent.ErrMalformedRecord},
		{name: "malformed purpose", lines: edit("purpose", "Marketing"), line: k + 1, want: consent.ErrMalformedRecord},
		{name: "seq zero", lines: edit("seq", 0), line: k + 1, want: consent.ErrMalformedRecord},
		{name: "not json", input: join(lines[:3]) + "not json\n", line: 4, want: consent.ErrMalformedRecord},
		{name: "truncated", input: join(lines)[:len(join(lines))-20], line: len(lines), want: consent.ErrMalformedRecord},
		{name: "blank line", input: join(lines[:3]) + "\n" + join(lines[3:]), line: 4, want: consent.ErrMalformedRecord},
		{name: "line too long", input: join(lines[:2]) + strings.Repeat("x", consent.MaxLedgerLine+1) + "\n", line: 3, want: consent.ErrMalformedRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.input
			if in == "" {
				in = join(tt.lines)
			}
			_, err := consent.VerifyJSONL(strings.NewReader(in))
			var le *consent.LineError
			require.ErrorAs(t, err, &le, "VerifyJSONL")
			assert.Equal(t, tt.line, le.Line, "the error names the line: %v", err)
			require.ErrorIs(t, err, tt.want)
			assert.Contains(t, err.Error(), "line ")

			g, s := newGate(t, consent.GateConfig{})
			n, err := g.ImportLedger(ctx, strings.NewReader(in))
			require.ErrorAs(t, err, &le, "ImportLedger")
			assert.Equal(t, tt.line, le.Line)
			require.ErrorIs(t, err, tt.want)
			assert.Zero(t, n)
			assert.Zero(t, s.Len(), "a bad import applies nothing")
			// The Gate still works, from an empty ledger.
			r := record(t, g, ev(consent.Grant, subj, consent.PurposeMarketing, now))
			assert.Equal(t, uint64(1), r.Seq)
		})
	}
}

// tamperStore is a MemoryStore whose Scan shows an edited ledger, as if
// someone changed the database behind the Gate's back.
type tamperStore struct {
	*consent.MemoryStore
	edit func([]consent.Record) []consent.Record
}

func (s *tamperStore) Scan(ctx context.Context, subject string, after uint64, fn func(consent.Record) error) error {
	var all []consent.Record
	if err := s.MemoryStore.Scan(ctx, subject, after, func(r consent.Record) error { all = append(all, r); return nil }); err != nil {
		return err
	}
	if s.edit != nil {
		all = s.edit(all)
	}
	for _, r := range all {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func TestVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name string
		seq  uint64 // the record Verify must name
		edit func([]consent.Record) []consent.Record
	}{
		{"edit", 4, func(rs []consent.Record) []consent.Record {
			rs[3].Action = consent.Grant + consent.Deny - rs[3].Action
			return rs
		}},
		{"edit time", 4, func(rs []consent.Record) []consent.Record { rs[3].At = rs[3].At.Add(time.Second); return rs }},
		{"edit tombstone", 2, func(rs []consent.Record) []consent.Record {
			rs[1] = rs[1].Tombstone()
			rs[1].Sealed[0] ^= 1
			return rs
		}},
		{"disguise a withdrawal as a grant", 3, func(rs []consent.Record) []consent.Record {
			rs[2] = rs[2].Tombstone()
			rs[2].Action, rs[2].Purpose, rs[2].At, rs[2].PolicyVersion = consent.Grant, "", time.Time{}, 0
			return rs
		}},
		{"delete", 4, func(rs []consent.Record) []consent.Record { return append(rs[:3], rs[4:]...) }},
		{"insert", 4, func(rs []consent.Record) []consent.Record {
			return append(rs[:3], append([]consent.Record{rs[1]}, rs[3:]...)...)
		}},
		{"reorder", 4, func(rs []consent.Record) []consent.Record { rs[3], rs[4] = rs[4], rs[3]; return rs }},
		{"truncate", 6, func(rs []consent.Record) []consent.Record { return rs[:5] }},
		{"rewrite the end", 6, func(rs []consent.Record) []consent.Record {
			// Re-chaining the last record consistently still differs from
			// what the Gate appended.
			rs[5].Evidence = "forged"
			return consentRechain(rs)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &tamperStore{MemoryStore: consent.NewMemoryStore()}
			g, err := consent.NewGate(consenttest.RetailPolicy(), s, consent.GateConfig{})
			require.NoError(t, err)
			record(t, g, ev(consent.Grant, "a", consent.PurposeMarketing, now))
			record(t, g, ev(consent.Grant, "b", consent.PurposeMarketing, now))
			record(t, g, ev(consent.Withdraw, "a", consent.PurposeMarketing, now))
			record(t, g, ev(consent.Deny, "b", consent.PurposeSharing, now))
			record(t, g, ev(consent.Grant, "c", consent.PurposePersonalize, now))
			record(t, g, ev(consent.Grant, "c", consent.PurposeAdvertising, now))
			_, err = g.Verify(ctx)
			require.NoError(t, err)
			s.edit = tt.edit
			_, err = g.Verify(ctx)
			require.ErrorIs(t, err, consent.ErrTampered)
			var ce *consent.ChainError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.seq, ce.Seq, "%v", err)
		})
	}
}

// swapStore is a Store whose backing store can be replaced, as when a
// database is restored from an older backup.
type swapStore struct{ consent.Store }

func TestTruncationStaysDetected(t *testing.T) {
	for _, call := range []string{"Record", "Import", "Erase"} {
		t.Run(call, func(t *testing.T) {
			full := consent.NewMemoryStore()
			s := &swapStore{full}
			g, err := consent.NewGate(consenttest.RetailPolicy(), s, consent.GateConfig{})
			require.NoError(t, err)
			record(t, g, ev(consent.Grant, "a", consent.PurposeMarketing, now))
			record(t, g, ev(consent.Grant, "b", consent.PurposeMarketing, now))
			record(t, g, ev(consent.Withdraw, "a", consent.PurposeMarketing, now))
			var recs []consent.Record
			require.NoError(t, full.Scan(ctx, "", 0, func(r consent.Record) error { recs = append(recs, r); return nil }))

			// The last record, a withdrawal, is cut off the store.
			short := consent.NewMemoryStore()
			require.NoError(t, short.Append(ctx, recs[:2]))
			s.Store = short
			switch call {
			case "Record":
				_, err = g.Record(ctx, ev(consent.Grant, "c", consent.PurposeMarketing, now))
			case "Import":
				_, err = g.ImportLedger(ctx, strings.NewReader(""))
			case "Erase":
				_, err = g.Erase(ctx, "b", now)
			}
			require.ErrorIs(t, err, consent.ErrTampered, "the Gate does not write over a ledger that lost records it appended")
			assert.Equal(t, 2, short.Len(), "nothing appended")
			_, err = g.Verify(ctx)
			require.ErrorIs(t, err, consent.ErrTampered, "and Verify still says so")
			assert.True(t, decide(t, g, "a", consent.PurposeMarketingEmail, now, consent.Signals{}).Allowed,
				"(the store's state, which the Gate reports but cannot repair)")
		})
	}
}

// consentRechain re-chains records from the first, as a forger who knows the
// scheme would: it records their events again through a scratch Gate, which
// yields a self-consistent chain.
func consentRechain(rs []consent.Record) []consent.Record {
	g, err := consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{})
	if err != nil {
		panic(err)
	}
	out := make([]consent.Record, len(rs))
	for i, r := range rs {
		nr, err := g.Record(context.Background(), r.Event)
		if err != nil {
			panic(err)
		}
		out[i] = nr
	}
	return out
}

// TestChainProperty: over many random ledgers, every single change to a
// record — any field, a deletion, an insertion, a swap — is detected.
func TestChainProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	pol := consenttest.RetailPolicy()
	var purposes []consent.Purpose
	for _, s := range pol.Purposes {
		if s.Basis.NeedsConsent() {
			purposes = append(purposes, s.Purpose)
		}
	}
	iterations := 300
	if testing.Short() {
		iterations = 50
	}
	for it := 0; it < iterations; it++ {
		g, s := newGate(t, consent.GateConfig{})
		n := 3 + rng.IntN(20)
		at := now
		for i := 0; i < n; i++ {
			at = at.Add(time.Duration(rng.IntN(1e4)) * time.Second) // sometimes the same time
			e := ev(consent.Action(1+rng.IntN(3)), "s"+string(rune('a'+rng.IntN(4))), purposes[rng.IntN(len(purposes))], at)
			e.Evidence = []string{"", "sha256:x", "form 7"}[rng.IntN(3)]
			e.Actor = consent.Actor(rng.IntN(3))
			record(t, g, e)
		}
		if rng.IntN(2) == 0 {
			_, err := g.Erase(ctx, "sa", at)
			require.NoError(t, err)
		}
		var recs []consent.Record
		require.NoError(t, s.Scan(ctx, "", 0, func(r consent.Record) error { recs = append(recs, r); return nil }))
		_, err := consent.VerifyRecords(recs)
		require.NoError(t, err)

		bad := append([]consent.Record(nil), recs...)
		i := rng.IntN(len(bad))
		r := &bad[i]
		var what string
		switch k := rng.IntN(12); k {
		case 0:
			what, r.Action = "action", consent.Action(1+(int(r.Action)%3))
		case 1:
			what, r.Subject = "subject", r.Subject+"x"
		case 2:
			what, r.Purpose = "purpose", purposes[(indexOf(purposes, r.Purpose)+1)%len(purposes)]
		case 3:
			what, r.At = "time", r.At.Add(time.Nanosecond)
		case 4:
			what, r.Channel = "channel", consent.ChannelPost
			if bad[i].Erased {
				what, r.Sealed[3] = "sealed", r.Sealed[3]^0x40
			}
		case 5:
			what, r.PolicyVersion = "version", r.PolicyVersion+1
		case 6:
			what, r.Hash[31] = "hash", r.Hash[31]^1
		case 7:
			what, r.Prev[0] = "prev", r.Prev[0]^1
		case 8:
			what, r.Seq = "seq", r.Seq+1
		case 9:
			what = "delete"
			bad = append(bad[:i], bad[i+1:]...)
		case 10:
			what = "insert"
			bad = append(bad[:i], append([]consent.Record{recs[rng.IntN(len(recs))]}, bad[i:]...)...)
		case 11:
			if len(bad) < 2 {
				continue
			}
			j := (i + 1 + rng.IntN(len(bad)-1)) % len(bad)
			what = "swap"
			bad[i], bad[j] = bad[j], bad[i]
		}
		if what == "delete" && i == len(recs)-1 {
			continue // cutting off the end is only detectable against a checkpoint (see TestVerifyDetectsTampering)
		}
		_, err = consent.VerifyRecords(bad)
		require.Error(t, err, "iteration %d: %s of record %d not detected", it, what, i+1)
		require.True(t, errors.Is(err, consent.ErrTampered), "%v", err)
	}
}

func indexOf(ps []consent.Purpose, p consent.Purpose) int {
	for i, q := range ps {
		if q == p {
			return i
		}
	}
	return 0
}

func TestExportErrors(t *testing.T) {
	g, _ := newGate(t, consent.GateConfig{})
	record(t, g, ev(consent.Grant, subj, consent.PurposeMarketing, now))
	_, err := g.ExportLedger(ctx, nil)
	require.ErrorIs(t, err, consent.ErrNilArgument)
	_, err = g.ExportLedger(ctx, failWriter{})
	require.ErrorIs(t, err, errWrite)
	_, err = g.ImportLedger(ctx, nil)
	require.ErrorIs(t, err, consent.ErrNilArgument)
	_, err = consent.VerifyJSONL(nil)
	require.ErrorIs(t, err, consent.ErrNilArgument)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = g.ExportLedger(cctx, &bytes.Buffer{})
	require.ErrorIs(t, err, context.Canceled)
}

var errWrite = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }
