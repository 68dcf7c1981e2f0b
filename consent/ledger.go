package consent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
)

// Checkpoint names a point in a ledger: the sequence number and hash of a
// record (zero for an empty ledger). A hash chain proves that nothing before
// a record changed unless every record after it was rewritten too, and it
// cannot show that records were cut off the end: a checkpoint kept outside
// the store (published, signed, in another database or a transparency log)
// detects both. [Gate.Checkpoint] returns the current one; [Gate.Verify],
// [VerifyJSONL], [VerifyRecords] and [Gate.ImportLedger] check a ledger
// against trusted ones. Its text form, "seq:hash", is what to sign or
// publish.
type Checkpoint struct {
	Seq  uint64 `json:"seq"`
	Hash Hash   `json:"hash"`
}

// String returns the checkpoint as "seq:hash", with the hash in hex.
func (c Checkpoint) String() string { return strconv.FormatUint(c.Seq, 10) + ":" + c.Hash.String() }

// MarshalText encodes the checkpoint as its String.
func (c Checkpoint) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText decodes the form String writes. Errors unwrap to
// [ErrMalformedRecord].
func (c *Checkpoint) UnmarshalText(b []byte) error {
	seq, h, ok := bytes.Cut(b, []byte{':'})
	n, err := strconv.ParseUint(string(seq), 10, 64)
	if !ok || err != nil || (len(seq) > 1 && seq[0] == '0') {
		return &recordFieldError{"checkpoint", `want "seq:hash"`}
	}
	var v Hash
	if err := v.UnmarshalText(h); err != nil {
		return err
	}
	*c = Checkpoint{Seq: n, Hash: v}
	return nil
}

// ParseCheckpoint parses the form [Checkpoint.String] writes.
func ParseCheckpoint(s string) (Checkpoint, error) {
	var c Checkpoint
	err := c.UnmarshalText([]byte(s))
	return c, err
}

// Checkpoint returns the end of the ledger in the store: publish or sign it,
// and pass it to [Gate.Verify] later, to detect a rewrite or a truncation
// that the hash chain alone cannot show. Errors: the store's, and a
// [*ChainError] if the store lost records this Gate appended.
func (g *Gate) Checkpoint(ctx context.Context) (Checkpoint, error) {
	if g.policy.Load() == nil {
		return Checkpoint{}, ErrUninitialized
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.syncHead(ctx); err != nil {
		return Checkpoint{}, err
	}
	return g.head, nil
}

// Verify checks the whole ledger in the store, from the first record to the
// last (see [VerifyRecords] for the rules): every record's fields and its
// link to the record before, the links between a subject's records, that
// tombstones stand for whole erased subjects, and that each subject's
// records are in time order. It also checks the ledger against each trusted
// checkpoint, and against the last record this Gate appended or imported
// (so it was not cut short behind the Gate's back). It returns the ledger's
// checkpoint, and a [*ChainError] (unwrapping to [ErrTampered]) naming the
// first record that does not verify, or the store's error.
//
// The hash chain alone detects any edit, deletion, insertion or reordering
// of records that leaves the records after it as they were; an edit whose
// every following record was re-chained verifies unless it is checked
// against a checkpoint taken before it.
func (g *Gate) Verify(ctx context.Context, trusted ...Checkpoint) (Checkpoint, error) {
	if g.policy.Load() == nil {
		return Checkpoint{}, ErrUninitialized
	}
	g.mu.Lock()
	if g.headKnown {
		trusted = append(slices.Clip(trusted), g.head)
	}
	g.mu.Unlock()
	v := newVerifier(trusted)
	err := g.store.Scan(ctx, "", 0, func(r Record) error { return v.add(&r) })
	if err != nil {
		return v.end, err
	}
	return v.end, v.finish()
}

// ExportLedger writes the whole ledger to w as JSON Lines: one record (see
// [Record.MarshalJSON]) per line, in sequence order. It returns the number of
// records written. The export can be checked with [VerifyJSONL] and restored
// with [Gate.ImportLedger].
func (g *Gate) ExportLedger(ctx context.Context, w io.Writer) (int, error) {
	if g.policy.Load() == nil {
		return 0, ErrUninitialized
	}
	if w == nil {
		return 0, ErrNilArgument
	}
	n := 0
	bw := bufio.NewWriter(w)
	err := g.store.Scan(ctx, "", 0, func(r Record) error {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		b = append(b, '\n')
		if _, err := bw.Write(b); err != nil {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// MaxLedgerLine is the longest JSON Lines record accepted, in bytes.
const MaxLedgerLine = 64 << 10

// ImportLedger reads records as JSON Lines (the form [Gate.ExportLedger]
// writes) that continue the store's ledger: the first must follow the last
// stored record (Seq 1 and a zero Prev for an empty store). It decodes every
// line and verifies the stored ledger and the imported records together, as
// [Gate.Verify] does, against the trusted checkpoints, and appends the
// records only if all of it is good, at once; so a malformed, truncated or
// tampered import changes nothing. Imported records are history, checked
// for form, chain and the ledger's rules but not against the policy, except
// that none may claim a policy version newer than the policy in force
// ([ErrUnknownVersion]): such a grant would escape re-consent. Blank lines
// at the end are ignored; a blank line before a record is an error.
//
// Errors: a [*LineError] naming the first bad line and unwrapping to
// [ErrMalformedRecord] (a JSON object with a repeated key is malformed),
// [ErrTampered] or [ErrUnknownVersion]; a [*ChainError] if the stored
// ledger does not verify or the store lost records this Gate appended; the
// store's errors. It returns the number of records imported.
func (g *Gate) ImportLedger(ctx context.Context, r io.Reader, trusted ...Checkpoint) (int, error) {
	pol := g.policy.Load()
	if pol == nil {
		return 0, ErrUninitialized
	}
	if r == nil {
		return 0, ErrNilArgument
	}
	g.mu.Lock()
	n, head, err := g.importLocked(ctx, pol, r, trusted)
	g.mu.Unlock()
	if err != nil || n == 0 {
		return 0, err
	}
	g.logImport(ctx, n, head.Seq)
	return n, nil
}

// importLocked does ImportLedger's work under g.mu and returns the number
// of records imported and the new end of the ledger.
func (g *Gate) importLocked(ctx context.Context, pol *compiledPolicy, r io.Reader, trusted []Checkpoint) (int, Checkpoint, error) {
	// Ask the store where the ledger ends: another Gate may have appended
	// since this one last did.
	if err := g.syncHead(ctx); err != nil {
		return 0, Checkpoint{}, err
	}
	var recs []Record // record i is on line i+1: blank lines come only at the end
	err := readLedger(r, func(rec *Record) error {
		if rec.PolicyVersion > pol.version {
			return &EventError{Field: "policy_version", Why: "newer than the policy in force (" + strconv.Itoa(pol.version) + ")", Err: ErrUnknownVersion}
		}
		recs = append(recs, *rec)
		return nil
	})
	if err != nil {
		return 0, Checkpoint{}, err
	}
	// The stored ledger and the import, verified as one.
	v := newVerifier(append(slices.Clip(trusted), g.head))
	if err := g.store.Scan(ctx, "", 0, func(r Record) error {
		if r.Seq > g.head.Seq {
			return nil // appended by another writer since: the Append below will conflict
		}
		return v.add(&r)
	}); err != nil {
		return 0, Checkpoint{}, err
	}
	for i := range recs {
		if err := v.add(&recs[i]); err != nil {
			return 0, Checkpoint{}, &LineError{Line: i + 1, Err: err}
		}
	}
	if err := v.finish(); err != nil {
		return 0, Checkpoint{}, err
	}
	if len(recs) == 0 {
		return 0, g.head, nil
	}
	if err := g.store.Append(ctx, recs); err != nil {
		var ce *ConflictError
		if errors.As(err, &ce) {
			if lerr := g.learnHead(ce.Last); lerr != nil {
				err = lerr
			}
		}
		return 0, Checkpoint{}, err
	}
	last := recs[len(recs)-1]
	g.head = Checkpoint{Seq: last.Seq, Hash: last.Hash}
	return len(recs), g.head, nil
}

// VerifyJSONL reads a whole exported ledger (JSON Lines, from record 1) and
// verifies it as [VerifyRecords] does, against the trusted checkpoints. It
// returns the checkpoint of the last record, and a [*LineError] naming the
// first bad line, unwrapping to [ErrMalformedRecord] or [ErrTampered], or a
// [*ChainError] for a trusted checkpoint beyond its end. An auditor can run
// it on an export without a Gate or a store.
func VerifyJSONL(r io.Reader, trusted ...Checkpoint) (Checkpoint, error) {
	if r == nil {
		return Checkpoint{}, ErrNilArgument
	}
	v := newVerifier(trusted)
	if err := readLedger(r, func(rec *Record) error { return v.add(rec) }); err != nil {
		return v.end, err
	}
	return v.end, v.finish()
}

// readLedger decodes JSON Lines records and calls fn for each; an error from
// fn stops it. Errors are [*LineError]s, or the reader's. Blank lines at the
// end are ignored.
func readLedger(r io.Reader, fn func(*Record) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLedgerLine)
	line, blank := 0, 0 // blank: the first of the blank lines just read
	for sc.Scan() {
		line++
		b := bytes.TrimSuffix(sc.Bytes(), []byte{'\r'})
		if len(bytes.TrimSpace(b)) == 0 {
			if blank == 0 {
				blank = line
			}
			continue
		}
		if blank != 0 {
			return &LineError{Line: blank, Err: &recordFieldError{"line", "empty"}}
		}
		var rec Record
		if err := json.Unmarshal(b, &rec); err != nil {
			if !errors.Is(err, ErrMalformedRecord) {
				err = &recordFieldError{"json", err.Error()}
			}
			return &LineError{Line: line, Err: err}
		}
		if err := fn(&rec); err != nil {
			return &LineError{Line: line, Err: err}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return &LineError{Line: line + 1, Err: &recordFieldError{"line", "longer than " + strconv.Itoa(MaxLedgerLine) + " bytes"}}
		}
		return err
	}
	return nil
}
