// Package consenttest helps test code that uses package consent: a
// conformance suite for [consent.Store] implementations ([Run]) and fixtures
// for users' own tests — a retail policy over the default taxonomy
// ([RetailPolicy]), shoppers in typical states ([Shoppers]) and a seeded
// Gate ([NewGate]).
//
// Run is to consent.Store what testing/slogtest is to slog.Handler:
//
//	func TestPostgresStore(t *testing.T) {
//		consenttest.Run(t, func(t *testing.T) consent.Store { return newTestStore(t) })
//	}
package consenttest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
)

// Run checks that the stores newStore makes keep the [consent.Store]
// contract. newStore is called once per subtest and must return an empty
// store. Run uses t.Run for each part of the contract, so failures name the
// rule broken.
func Run(t *testing.T, newStore func(t *testing.T) consent.Store) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, newStore(t))
		})
	}
}

var cases = []struct {
	name string
	run  func(t testing.TB, s consent.Store)
}{
	{"Empty", testEmpty},
	{"AppendSequence", testAppendSequence},
	{"AppendBatchAllOrNone", testAppendBatch},
	{"AppendCopies", testAppendCopies},
	{"AppendChecksSubjectLinks", testAppendLinks},
	{"LatestExactKey", testLatestExact},
	{"LatestIsLastAppended", testLatestLastAppended},
	{"ScanOrderAndFilter", testScan},
	{"ScanStopsOnError", testScanStop},
	{"ScanCallbackMayUseStore", testScanReentrant},
	{"Redact", testRedact},
	{"RedactRejects", testRedactRejects},
	{"Concurrent", testConcurrent},
	{"Standings", testStandings},
	{"WithGate", testWithGate},
}

var ctx = context.Background()

// mk returns n records numbered from first, for subjects and purposes
// cycling through the given lists, chained and hashed as a Gate would (so
// that a store may check what it reads with consent.Record.Check), each
// linked back to its subject's record before it in the batch (so they
// continue a store that holds no records of these subjects).
func mk(first uint64, n int, subjects []string, purposes []consent.Purpose) []consent.Record {
	recs := make([]consent.Record, n)
	for i := range recs {
		seq := first + uint64(i)
		r := consent.Record{Seq: seq}
		r.Action = consent.Grant
		if i%3 == 2 {
			r.Action = consent.Withdraw
		}
		r.Subject = subjects[i%len(subjects)]
		r.Purpose = purposes[i%len(purposes)]
		r.At = Now().Add(time.Duration(seq) * time.Minute)
		r.Channel = consent.ChannelWeb
		r.PolicyVersion = 1
		// Every field a store keeps takes more than its zero value.
		switch i % 5 {
		case 1:
			r.OverridesGPC = r.Action == consent.Grant
			r.Evidence = "shown: the GPC conflict"
		case 3:
			r.Actor, r.Source, r.Channel = consent.ActorGuardian, consent.SourceImport, consent.ChannelApp
		}
		recs[i] = r
	}
	return relink(recs)
}

// relink re-chains recs after a test changed their fields: each record's
// Back becomes the Seq of its subject's record before it in recs (0 for the
// first), its Prev the Hash of the record before (an arbitrary hash before
// the first), and its Hash what consent.Chain computes.
func relink(recs []consent.Record) []consent.Record {
	last := map[string]uint64{}
	var prev consent.Hash
	for i := range recs {
		r := &recs[i]
		if i == 0 {
			prev[0], prev[1] = byte(r.Seq-1), byte((r.Seq-1)>>8)
		}
		back := last[r.Subject]
		last[r.Subject] = r.Seq
		var salt consent.Salt
		salt[0], salt[1], salt[15] = byte(r.Seq), byte(r.Seq>>8), 1
		*r = consent.Chain(prev, r.Seq, back, salt, r.Event)
		prev = r.Hash
	}
	return recs
}

func mustAppend(t testing.TB, s consent.Store, recs []consent.Record) {
	t.Helper()
	if err := s.Append(ctx, recs); err != nil {
		t.Fatalf("Append(seq %d..): %v", recs[0].Seq, err)
	}
}

func scanAll(t testing.TB, s consent.Store, subject string, after uint64) []consent.Record {
	t.Helper()
	var out []consent.Record
	if err := s.Scan(ctx, subject, after, func(r consent.Record) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatalf("Scan(%q, %d): %v", subject, after, err)
	}
	return out
}

func seqs(recs []consent.Record) []uint64 {
	out := make([]uint64, len(recs))
	for i, r := range recs {
		out[i] = r.Seq
	}
	return out
}

func sameSeqs(got []consent.Record, want ...uint64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].Seq != want[i] {
			return false
		}
	}
	return true
}

func testEmpty(t testing.TB, s consent.Store) {
	if _, ok, err := s.Latest(ctx, "a", consent.PurposeMarketing); err != nil || ok {
		t.Errorf("Latest on an empty store = ok %v, err %v; want false, nil", ok, err)
	}
	if got := scanAll(t, s, "", 0); len(got) != 0 {
		t.Errorf("Scan on an empty store visited %d records", len(got))
	}
	if err := s.Append(ctx, nil); err != nil {
		t.Errorf("Append(nil) = %v; want nil (a no-op)", err)
	}
	err := s.Append(ctx, mk(2, 1, []string{"a"}, []consent.Purpose{consent.PurposeMarketing}))
	var ce *consent.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, consent.ErrConflict) {
		t.Fatalf("Append(seq 2) on an empty store = %v; want a *ConflictError", err)
	}
	if ce.Last.Seq != 0 {
		t.Errorf("ConflictError.Last.Seq = %d on an empty store; want 0", ce.Last.Seq)
	}
}

func testAppendSequence(t testing.TB, s consent.Store) {
	recs := mk(1, 3, []string{"a"}, []consent.Purpose{consent.PurposeMarketing})
	mustAppend(t, s, recs[:1])
	for _, seq := range []uint64{0, 1, 3, 100} {
		r := recs[1]
		r.Seq = seq
		err := s.Append(ctx, []consent.Record{r})
		var ce *consent.ConflictError
		if !errors.As(err, &ce) {
			t.Fatalf("Append(seq %d) after record 1 = %v; want a *ConflictError", seq, err)
		}
		if ce.Last.Seq != 1 || ce.Last.Hash != recs[0].Hash {
			t.Errorf("ConflictError.Last = record %d; want record 1 with its hash", ce.Last.Seq)
		}
	}
	mustAppend(t, s, recs[1:])
	if got := scanAll(t, s, "", 0); !sameSeqs(got, 1, 2, 3) {
		t.Errorf("Scan = records %v; want [1 2 3]", seqs(got))
	}
}

func testAppendBatch(t testing.TB, s consent.Store) {
	recs := mk(1, 5, []string{"a", "b"}, []consent.Purpose{consent.PurposeMarketing})
	mustAppend(t, s, recs[:2])
	bad := append([]consent.Record{}, recs[2:]...)
	bad[2].Seq = 9 // 3, 4, 9: not consecutive
	if err := s.Append(ctx, bad); !errors.Is(err, consent.ErrConflict) {
		t.Errorf("Append of a non-consecutive batch = %v; want ErrConflict", err)
	}
	if got := scanAll(t, s, "", 0); !sameSeqs(got, 1, 2) {
		t.Errorf("after a rejected batch Scan = %v; want [1 2]: a rejected batch stores nothing", seqs(got))
	}
	mustAppend(t, s, recs[2:])
	if got := scanAll(t, s, "", 0); !sameSeqs(got, 1, 2, 3, 4, 5) {
		t.Errorf("Scan = %v; want [1 2 3 4 5]", seqs(got))
	}
}

func testAppendCopies(t testing.TB, s consent.Store) {
	recs := mk(1, 1, []string{"a"}, []consent.Purpose{consent.PurposeMarketing})
	mustAppend(t, s, recs)
	recs[0].Subject, recs[0].Action = "mallory", consent.Deny
	r, ok, err := s.Latest(ctx, "a", consent.PurposeMarketing)
	if err != nil || !ok || r.Action != consent.Grant {
		t.Fatalf("Latest after the caller changed its slice = %v %v %v; the store must copy on Append", r.Action, ok, err)
	}
	r.Action = consent.Deny
	if r2, _, _ := s.Latest(ctx, "a", consent.PurposeMarketing); r2.Action != consent.Grant {
		t.Errorf("changing a returned record changed the store")
	}
}

func testAppendLinks(t testing.TB, s consent.Store) {
	p := consent.PurposeMarketing
	recs := mk(1, 4, []string{"a", "b"}, []consent.Purpose{p}) // a: 1, 3; b: 2, 4
	mustAppend(t, s, recs[:2])
	for _, back := range []uint64{0, 2, 3} {
		r := recs[2]
		r.Back = back
		var ce *consent.ConflictError
		if err := s.Append(ctx, []consent.Record{r}); !errors.As(err, &ce) || ce.Last.Seq != 2 {
			t.Errorf("Append(record 3 of a, linked back to %d; a's last record is 1) = %v; want a *ConflictError holding record 2", back, err)
		}
	}
	bad := append([]consent.Record(nil), recs[2:]...)
	bad[1].Back = 1 // b's record 4 linked to a's record 1
	if err := s.Append(ctx, bad); !errors.Is(err, consent.ErrConflict) {
		t.Errorf("Append of a batch whose second record links to another subject's = %v; want ErrConflict", err)
	}
	if got := scanAll(t, s, "", 0); !sameSeqs(got, 1, 2) {
		t.Fatalf("after rejected appends the ledger holds %v; want [1 2]", seqs(got))
	}
	mustAppend(t, s, recs[2:])
	if r, ok, err := s.Latest(ctx, "a", ""); err != nil || !ok || r.Seq != 3 {
		t.Errorf(`Latest(a, "") = record %d, %v, %v; want record 3, a's last`, r.Seq, ok, err)
	}
	if r, ok, err := s.Latest(ctx, "b", ""); err != nil || !ok || r.Seq != 4 || r.Back != 2 {
		t.Errorf(`Latest(b, "") = record %d (back %d), %v, %v; want record 4, linked back to 2`, r.Seq, r.Back, ok, err)
	}
	// After a subject is erased, its next record starts a new chain.
	if err := s.Redact(ctx, []consent.Record{recs[0].Tombstone(), recs[2].Tombstone()}); err != nil {
		t.Fatalf("Redact(a): %v", err)
	}
	next := mk(5, 1, []string{"a"}, []consent.Purpose{p})
	next[0].Back = 3
	if err := s.Append(ctx, next); !errors.Is(err, consent.ErrConflict) {
		t.Errorf("Append of a record linked to an erased one = %v; want ErrConflict", err)
	}
	next[0].Back = 0
	mustAppend(t, s, next)
}

// testStandings checks the optional consent.StandingReader against Latest
// and the refusals Scan shows.
func testStandings(t testing.TB, s consent.Store) {
	sr, ok := s.(consent.StandingReader)
	if !ok {
		t.Skip("the store does not implement consent.StandingReader (optional)")
	}
	ps := []consent.Purpose{consent.PurposeMarketing, consent.PurposeMarketingEmail, consent.PurposeAdvertising}
	recs := mk(1, 14, []string{"a", "b"}, ps) // every third is a withdrawal
	recs[7].Action = consent.Deny
	// 13 and 14 come later: a withdrawal of sharing by a, then a grant.
	recs[12].Subject, recs[12].Purpose, recs[12].Action = "a", consent.PurposeSharing, consent.Withdraw
	recs[13].Subject, recs[13].Purpose, recs[13].Action = "a", consent.PurposeSharing, consent.Grant
	relink(recs)
	mustAppend(t, s, recs[:12])
	query := append([]consent.Purpose{"", consent.PurposeSharing}, ps...)
	for _, subject := range []string{"a", "b", "nobody"} {
		out := make([]consent.Standing, len(query))
		if err := sr.Standings(ctx, subject, query, out); err != nil {
			t.Fatalf("Standings(%s): %v", subject, err)
		}
		for i, p := range query {
			want := consent.Standing{}
			if r, ok, _ := s.Latest(ctx, subject, p); ok {
				want.Record = r
			}
			if p != "" {
				for _, r := range scanAll(t, s, subject, 0) {
					if r.Purpose == p && r.Action != consent.Grant {
						want.Refused = r.Seq
					}
				}
			}
			if out[i] != want {
				t.Errorf("Standings(%s)[%q] = record %d refused %d; want record %d refused %d", subject, p, out[i].Record.Seq, out[i].Refused, want.Record.Seq, want.Refused)
			}
		}
	}
	// A refusal replaced by a later grant of the same purpose is still the
	// latest refusal.
	mustAppend(t, s, recs[12:])
	out := make([]consent.Standing, 1)
	if err := sr.Standings(ctx, "a", []consent.Purpose{consent.PurposeSharing}, out); err != nil || out[0].Record.Seq != 14 || out[0].Refused != 13 {
		t.Errorf("Standings(a, sharing) = record %d refused %d (%v); want record 14 refused 13", out[0].Record.Seq, out[0].Refused, err)
	}
}

func testLatestExact(t testing.TB, s consent.Store) {
	p, child := consent.PurposeMarketing, consent.PurposeMarketingEmail
	recs := mk(1, 4, []string{"a"}, []consent.Purpose{p})
	recs[1].Purpose = child
	recs[2].Subject = "b"
	recs[2].Action = consent.Deny
	recs[3].Subject = "a-longer"
	mustAppend(t, s, relink(recs))
	if r, ok, _ := s.Latest(ctx, "a", p); !ok || r.Seq != 1 {
		t.Errorf("Latest(a, marketing) = record %d, %v; want record 1", r.Seq, ok)
	}
	if r, ok, _ := s.Latest(ctx, "a", child); !ok || r.Seq != 2 {
		t.Errorf("Latest(a, marketing.email) = record %d, %v; want record 2 (exact purpose, not the parent)", r.Seq, ok)
	}
	if _, ok, _ := s.Latest(ctx, "a", consent.PurposeMarketingDirect); ok {
		t.Errorf("Latest(a, marketing.direct) found a record; a parent's record is not the child's")
	}
	if r, ok, _ := s.Latest(ctx, "b", p); !ok || r.Seq != 3 || r.Action != consent.Deny {
		t.Errorf("Latest(b, marketing) = record %d; want record 3", r.Seq)
	}
	if _, ok, _ := s.Latest(ctx, "c", p); ok {
		t.Errorf("Latest for an unknown subject found a record")
	}
	if r, _, _ := s.Latest(ctx, "a-longer", p); r.Seq != 4 {
		t.Errorf("Latest(a-longer) = record %d; want 4", r.Seq)
	}
}

func testLatestLastAppended(t testing.TB, s consent.Store) {
	recs := mk(1, 3, []string{"a"}, []consent.Purpose{consent.PurposeMarketing})
	// The last appended wins even if its time is earlier: the ledger order,
	// not the event time, is the order in which choices take effect.
	recs[2].At = recs[0].At.Add(-time.Hour)
	recs[2].Action = consent.Withdraw
	relink(recs)
	for i := range recs {
		mustAppend(t, s, recs[i:i+1])
		r, ok, err := s.Latest(ctx, "a", consent.PurposeMarketing)
		if err != nil || !ok || r.Seq != recs[i].Seq {
			t.Fatalf("after appending record %d Latest = record %d, %v, %v", recs[i].Seq, r.Seq, ok, err)
		}
		if !r.At.Equal(recs[i].At) || r.Action != recs[i].Action || r.Hash != recs[i].Hash || r.Channel != recs[i].Channel {
			t.Errorf("Latest returned record %d with different fields than appended", r.Seq)
		}
	}
}

func testScan(t testing.TB, s consent.Store) {
	recs := mk(1, 9, []string{"a", "b", "c"}, []consent.Purpose{consent.PurposeMarketing, consent.PurposeAdvertising})
	mustAppend(t, s, recs[:4])
	mustAppend(t, s, recs[4:])
	if got := scanAll(t, s, "", 0); !sameSeqs(got, 1, 2, 3, 4, 5, 6, 7, 8, 9) {
		t.Errorf("Scan(all) = %v", seqs(got))
	}
	if got := scanAll(t, s, "", 6); !sameSeqs(got, 7, 8, 9) {
		t.Errorf("Scan(all, after 6) = %v; want [7 8 9]", seqs(got))
	}
	if got := scanAll(t, s, "b", 0); !sameSeqs(got, 2, 5, 8) {
		t.Errorf("Scan(b) = %v; want [2 5 8]", seqs(got))
	}
	if got := scanAll(t, s, "b", 2); !sameSeqs(got, 5, 8) {
		t.Errorf("Scan(b, after 2) = %v; want [5 8]", seqs(got))
	}
	if got := scanAll(t, s, "nobody", 0); len(got) != 0 {
		t.Errorf("Scan(nobody) = %v", seqs(got))
	}
	if got := scanAll(t, s, "", 9); len(got) != 0 {
		t.Errorf("Scan(after the end) = %v", seqs(got))
	}
	for _, r := range scanAll(t, s, "c", 0) {
		if r.Subject != "c" {
			t.Errorf("Scan(c) visited record %d of %q", r.Seq, r.Subject)
		}
	}
}

func testScanStop(t testing.TB, s consent.Store) {
	mustAppend(t, s, mk(1, 5, []string{"a"}, []consent.Purpose{consent.PurposeMarketing}))
	stop := errors.New("stop")
	for _, subject := range []string{"", "a"} {
		n := 0
		err := s.Scan(ctx, subject, 0, func(consent.Record) error {
			n++
			if n == 2 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 2 {
			t.Errorf("Scan(%q) with fn failing at the 2nd record: err %v after %d calls; want fn's error after 2", subject, err, n)
		}
	}
}

func testScanReentrant(t testing.TB, s consent.Store) {
	recs := mk(1, 4, []string{"a"}, []consent.Purpose{consent.PurposeMarketing})
	mustAppend(t, s, recs[:2])
	done := make(chan error, 1)
	go func() {
		done <- s.Scan(ctx, "", 0, func(r consent.Record) error {
			if _, _, err := s.Latest(ctx, "a", consent.PurposeMarketing); err != nil {
				return err
			}
			if r.Seq == 1 {
				return s.Append(ctx, recs[2:3])
			}
			return nil
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Scan with fn calling Latest and Append: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Scan with fn calling the store did not return: does Scan hold a lock while calling fn?")
	}
}

func testRedact(t testing.TB, s consent.Store) {
	p := consent.PurposeMarketing
	recs := mk(1, 5, []string{"a", "b"}, []consent.Purpose{p})
	// a: 1 grant, 3 withdraw, 5 grant; b: 2 grant, 4 grant
	recs[2].Action = consent.Withdraw
	mustAppend(t, s, recs)

	if err := s.Redact(ctx, []consent.Record{recs[0].Tombstone(), recs[2].Tombstone(), recs[4].Tombstone()}); err != nil {
		t.Fatalf("Redact(1, 3, 5), all of a's records: %v", err)
	}
	if _, ok, _ := s.Latest(ctx, "a", p); ok {
		t.Errorf("Latest(a) found a record after all of a's were redacted")
	}
	if _, ok, _ := s.Latest(ctx, "a", ""); ok {
		t.Errorf(`Latest(a, "") found a record after all of a's were redacted`)
	}
	if got := scanAll(t, s, "a", 0); len(got) != 0 {
		t.Errorf("Scan(a) = %v after all of a's were redacted", seqs(got))
	}
	all := scanAll(t, s, "", 0)
	if !sameSeqs(all, 1, 2, 3, 4, 5) {
		t.Fatalf("Scan(all) after Redact = %v; tombstones stay in the ledger", seqs(all))
	}
	for _, i := range []int{0, 2, 4} {
		if tomb := all[i]; !tomb.Erased || tomb.Subject != "" || tomb != recs[i].Tombstone() {
			t.Errorf("record %d after Redact = %+v; want its tombstone", i+1, tomb)
		}
	}
	if r, ok, _ := s.Latest(ctx, "b", p); !ok || r.Seq != 4 {
		t.Errorf("Latest(b) = record %d, %v; redacting a must not touch b", r.Seq, ok)
	}
	// Again: a no-op.
	if err := s.Redact(ctx, []consent.Record{recs[0].Tombstone()}); err != nil {
		t.Errorf("redacting a tombstone again = %v; want nil", err)
	}
	// Appending continues after tombstones; the subject starts afresh.
	mustAppend(t, s, mk(6, 1, []string{"a"}, []consent.Purpose{p}))
	if r, ok, _ := s.Latest(ctx, "a", p); !ok || r.Seq != 6 {
		t.Errorf("Latest(a) after a new record = %d, %v; want 6", r.Seq, ok)
	}
	if r, ok, _ := s.Latest(ctx, "a", ""); !ok || r.Seq != 6 {
		t.Errorf(`Latest(a, "") after a new record = %d, %v; want 6`, r.Seq, ok)
	}
}

func testRedactRejects(t testing.TB, s consent.Store) {
	p := consent.PurposeMarketing
	recs := mk(1, 4, []string{"a", "a", "a", "b"}, []consent.Purpose{p})
	mustAppend(t, s, recs)
	unknown := recs[0].Tombstone()
	unknown.Seq = 99
	notTomb := recs[1]
	forged := recs[1].Tombstone()
	forged.Hash[5] ^= 1
	relinked := recs[1].Tombstone()
	relinked.Back++
	whole := []consent.Record{recs[0].Tombstone(), recs[1].Tombstone(), recs[2].Tombstone()}
	for _, tc := range []struct {
		name string
		in   []consent.Record
		want error
	}{
		{"unknown seq", append(whole[:2:2], unknown), consent.ErrNoRecord},
		{"seq 0", []consent.Record{{Erased: true}}, consent.ErrNoRecord},
		{"not a tombstone", append(whole[:2:2], notTomb), consent.ErrMalformedRecord},
		{"different hash", []consent.Record{whole[0], forged, whole[2]}, consent.ErrMalformedRecord},
		{"different back", []consent.Record{whole[0], relinked, whole[2]}, consent.ErrMalformedRecord},
		{"part of a subject: its latest record", whole[2:], consent.ErrConflict},
		{"part of a subject: all but its latest", whole[:2], consent.ErrConflict},
		{"part of a subject: one repeated", []consent.Record{whole[0], whole[1], whole[1]}, consent.ErrConflict},
		{"a whole subject and part of another", []consent.Record{recs[3].Tombstone(), whole[0]}, consent.ErrConflict},
	} {
		if err := s.Redact(ctx, tc.in); !errors.Is(err, tc.want) {
			t.Errorf("Redact(%s) = %v; want %v", tc.name, err, tc.want)
		}
	}
	if got := scanAll(t, s, "a", 0); !sameSeqs(got, 1, 2, 3) {
		t.Errorf("after rejected Redacts Scan(a) = %v; want [1 2 3]: a rejected Redact changes nothing", seqs(got))
	}
	if got := scanAll(t, s, "b", 0); !sameSeqs(got, 4) {
		t.Errorf("after rejected Redacts Scan(b) = %v; want [4]: a rejected Redact changes nothing", seqs(got))
	}
	var ce *consent.ConflictError
	if err := s.Redact(ctx, whole[:1]); !errors.As(err, &ce) || ce.Last.Seq != 4 {
		t.Errorf("Redact(part of a subject) = %v; want a *ConflictError holding the last record (4)", err)
	}
}

// testConcurrent checks linearizability under concurrency: a reader that
// starts after an Append returned sees it.
func testConcurrent(t testing.TB, s consent.Store) {
	const n = 200
	recs := mk(1, n, []string{"w"}, []consent.Purpose{consent.PurposeMarketing})
	var published atomic.Uint64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for published.Load() < n {
				want := published.Load()
				r, ok, err := s.Latest(ctx, "w", consent.PurposeMarketing)
				if err != nil {
					errs <- err
					return
				}
				if want > 0 && (!ok || r.Seq < want) {
					errs <- fmt.Errorf("a reader saw record %d after Append of record %d returned", r.Seq, want)
					return
				}
			}
		}()
	}
	for i := range recs {
		if err := s.Append(ctx, recs[i:i+1]); err != nil {
			t.Fatal(err)
		}
		published.Store(recs[i].Seq)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// testWithGate runs the store under a real Gate: record, decide, verify,
// erase.
func testWithGate(t testing.TB, s consent.Store) {
	g, err := consent.NewGate(RetailPolicy(), s, consent.GateConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := Seed(ctx, g); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	now := Now()
	for _, c := range []struct {
		subject string
		p       consent.Purpose
		allowed bool
		reason  consent.Reason
	}{
		{SubjectGranted, consent.PurposePersonalizeHistory, true, consent.ReasonGranted},
		{SubjectWithdrawn, consent.PurposePersonalizeHistory, false, consent.ReasonWithdrawn},
		{SubjectDenied, consent.PurposeMarketingEmail, false, consent.ReasonDenied},
		{SubjectNew, consent.PurposePersonalize, false, consent.ReasonNoConsent},
	} {
		d, err := g.Decide(ctx, c.subject, c.p, now, consent.Signals{})
		if err != nil || d.Allowed != c.allowed || d.Reason != c.reason {
			t.Errorf("Decide(%s, %s) = %v %v, %v; want %v %v", c.subject, c.p, d.Allowed, d.Reason, err, c.allowed, c.reason)
		}
	}
	// A refusal that a later grant of the same purpose replaced still ends
	// the grants before it: the Gate finds it with Scan(subject, after).
	for _, e := range []consent.Event{
		{Action: consent.Grant, Subject: "on-off", Purpose: PurposeWellness, At: now.Add(-3 * time.Hour), Channel: consent.ChannelApp},
		{Action: consent.Withdraw, Subject: "on-off", Purpose: consent.PurposePersonalize, At: now.Add(-2 * time.Hour), Channel: consent.ChannelApp},
		{Action: consent.Grant, Subject: "on-off", Purpose: consent.PurposePersonalize, At: now.Add(-time.Hour), Channel: consent.ChannelApp},
	} {
		if _, err := g.Record(ctx, e); err != nil {
			t.Fatalf("Record: %v", err)
		}
	}
	if d, err := g.Decide(ctx, "on-off", PurposeWellness, now, consent.Signals{}); err != nil || d.Allowed {
		t.Errorf("Decide(wellness) after its grant, a withdrawal of personalize and a new grant of personalize = %v, %v; want not allowed (the withdrawal ended the explicit grant)", d.Reason, err)
	}
	if _, err := g.Verify(ctx); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if _, err := g.Erase(ctx, SubjectGranted, now); err != nil {
		t.Fatalf("Erase: %v", err)
	}
	if d, _ := g.Decide(ctx, SubjectGranted, consent.PurposePersonalizeHistory, now, consent.Signals{}); d.Allowed {
		t.Errorf("Decide after Erase allowed: %v", d.Reason)
	}
	if _, err := g.Verify(ctx); err != nil {
		t.Errorf("Verify after Erase: %v", err)
	}
	// A second Gate over the same store continues the same chain.
	g2, err := consent.NewGate(RetailPolicy(), s, consent.GateConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g2.Record(ctx, consent.Event{Action: consent.Grant, Subject: SubjectNew, Purpose: consent.PurposeMarketing, At: now, Channel: consent.ChannelWeb}); err != nil {
		t.Fatalf("Record through a second Gate: %v", err)
	}
	if _, err := g.Record(ctx, consent.Event{Action: consent.Withdraw, Subject: SubjectNew, Purpose: consent.PurposeMarketing, At: now, Channel: consent.ChannelWeb}); err != nil {
		t.Fatalf("Record through the first Gate after the second appended: %v", err)
	}
	if _, err := g2.Verify(ctx); err != nil {
		t.Errorf("Verify after two Gates appended: %v", err)
	}
	if d, _ := g2.Decide(ctx, SubjectNew, consent.PurposeMarketingEmail, now, consent.Signals{}); d.Allowed || d.Reason != consent.ReasonWithdrawn {
		t.Errorf("second Gate does not see the first Gate's withdrawal: %v %v", d.Allowed, d.Reason)
	}
}
