package consent

import (
	"cmp"
	"slices"
	"strconv"
	"time"
)

// VerifyRecords verifies a whole ledger held in memory, from record 1: what
// [Gate.Verify] checks in a store. It returns the checkpoint of the last
// record, and a [*ChainError] (unwrapping to [ErrTampered]) naming the
// first record that does not verify, or the first trusted checkpoint the
// ledger does not match or reach.
func VerifyRecords(recs []Record, trusted ...Checkpoint) (Checkpoint, error) {
	v := newVerifier(trusted)
	for i := range recs {
		if err := v.add(&recs[i]); err != nil {
			return v.end, err
		}
	}
	return v.end, v.finish()
}

// A verifier checks a ledger record by record, from the first, in order:
//
//   - each record's fields are in range, its Seq follows the record before
//     and its Hash covers its fields and the Hash of the record before;
//   - subject links: a record's Back is the Seq of the same subject's
//     record before (0 for its first), and a tombstone's Back is 0 or a
//     tombstone: tombstones stand for whole erased subjects, so none can
//     hide a withdrawal while the grant it ended stays;
//   - time order: no record is dated before a record of the same subject
//     about a purpose that covers it or that it covers (the rule
//     [Gate.Record] enforces, which makes ledger order decide);
//   - trusted checkpoints: the record at each one's Seq has its Hash, and
//     the ledger reaches the last of them.
//
// It keeps, per subject, the Seq of its last record and the time of its
// latest record per purpose, and one bit per record.
type verifier struct {
	end      Checkpoint // the last record verified
	subjects map[string]*trail
	tombs    []uint64 // bit seq is set when record seq is a tombstone
	trusted  []Checkpoint
}

// trail is what a verifier remembers of one subject's live records.
type trail struct {
	last uint64
	at   []stamp // the latest record per purpose
}

type stamp struct {
	purpose Purpose
	seq     uint64
	at      time.Time
}

func newVerifier(trusted []Checkpoint) *verifier {
	// A checkpoint at 0 names the empty ledger, which every ledger extends.
	t := slices.DeleteFunc(slices.Clone(trusted), func(c Checkpoint) bool { return c.Seq == 0 })
	slices.SortFunc(t, func(a, b Checkpoint) int { return cmp.Compare(a.Seq, b.Seq) })
	return &verifier{subjects: make(map[string]*trail), trusted: t}
}

func (v *verifier) tomb(seq uint64) bool {
	i := seq / 64
	return i < uint64(len(v.tombs)) && v.tombs[i]&(1<<(seq%64)) != 0
}

func (v *verifier) setTomb(seq uint64) {
	i := seq / 64
	for uint64(len(v.tombs)) <= i {
		v.tombs = append(v.tombs, 0)
	}
	v.tombs[i] |= 1 << (seq % 64)
}

// add verifies r, the record after v.end.
func (v *verifier) add(r *Record) error {
	seq := v.end.Seq + 1
	if err := r.check(); err != nil {
		return &ChainError{Seq: seq, Why: "malformed: " + err.Error()}
	}
	if err := r.verifyLink(v.end.Hash, seq); err != nil {
		return err
	}
	for len(v.trusted) > 0 && v.trusted[0].Seq <= seq {
		if c := v.trusted[0]; c.Seq == seq && c.Hash != r.Hash {
			return &ChainError{Seq: seq, Why: "differs from the trusted checkpoint " + c.String()}
		}
		v.trusted = v.trusted[1:]
	}
	if r.Erased {
		if r.Back != 0 && !v.tomb(r.Back) {
			return &ChainError{Seq: seq, Why: "tombstone of a subject whose record " + strconv.FormatUint(r.Back, 10) +
				" is not erased: a tombstone must stand for a whole erased subject", Err: ErrPartialErasure}
		}
		v.setTomb(seq)
		v.end = Checkpoint{Seq: seq, Hash: r.Hash}
		return nil
	}
	t := v.subjects[r.Subject]
	if t == nil {
		t = &trail{}
		v.subjects[r.Subject] = t
	}
	if r.Back != t.last {
		why := "links to record " + strconv.FormatUint(r.Back, 10) + " as its subject's record before, but that is record " + strconv.FormatUint(t.last, 10)
		if r.Back != 0 && v.tomb(r.Back) {
			why += " (the subject's earlier records were erased and this one was not: a tombstone must stand for a whole erased subject)"
			return &ChainError{Seq: seq, Why: why, Err: ErrPartialErasure}
		}
		return &ChainError{Seq: seq, Why: why}
	}
	for _, s := range t.at {
		if related(s.purpose, r.Purpose) && r.At.Before(s.at) {
			return &ChainError{Seq: seq, Why: "dated before record " + strconv.FormatUint(s.seq, 10) +
				" of the same subject about " + string(s.purpose), Err: ErrOutOfOrder}
		}
	}
	t.last = seq
	if i := slices.IndexFunc(t.at, func(s stamp) bool { return s.purpose == r.Purpose }); i >= 0 {
		t.at[i] = stamp{r.Purpose, seq, r.At}
	} else {
		t.at = append(t.at, stamp{r.Purpose, seq, r.At})
	}
	v.end = Checkpoint{Seq: seq, Hash: r.Hash}
	return nil
}

// finish reports a trusted checkpoint beyond the end of the ledger.
func (v *verifier) finish() error {
	if len(v.trusted) > 0 {
		c := v.trusted[len(v.trusted)-1]
		return &ChainError{Seq: v.end.Seq + 1, Why: "missing: the ledger ends at record " + strconv.FormatUint(v.end.Seq, 10) +
			" but the trusted checkpoint " + c.String() + " is beyond it"}
	}
	return nil
}

// related reports whether a and b are the same purpose or one covers the
// other: the purposes whose records must be in time order.
func related(a, b Purpose) bool { return a.Covers(b) || b.Covers(a) }

// verifyLink checks r against the hash of the record before it.
func (r *Record) verifyLink(prev Hash, seq uint64) error {
	if r.Seq != seq {
		return &ChainError{Seq: seq, Why: "found record " + strconv.FormatUint(r.Seq, 10) + " in its place (a record was deleted, inserted or moved)"}
	}
	if r.Prev != prev {
		return &ChainError{Seq: r.Seq, Why: "previous hash does not match the record before"}
	}
	if r.link() != r.Hash {
		return &ChainError{Seq: r.Seq, Why: "hash does not match the record's contents"}
	}
	return nil
}
