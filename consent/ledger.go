package consent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
)

// Checkpoint names the end of a ledger: the sequence number and hash of its
// last record (zero for an empty ledger). A hash chain proves that nothing
// before a record changed, but not that nothing was cut off the end: keep
// checkpoints outside the store (in logs, another database, a transparency
// log) and compare them with later ones to detect truncation.
type Checkpoint struct {
	Seq  uint64 `json:"seq"`
	Hash Hash   `json:"hash"`
}

// Verify checks the whole ledger in the store: every record's fields and its
// link to the record before, from the first to the last. It also checks that
// the ledger still reaches the last record this Gate appended or imported
// (it was not cut short). It returns the ledger's checkpoint, and a
// [*ChainError] (unwrapping to [ErrTampered]) naming the first record that
// does not verify, or the store's error.
func (g *Gate) Verify(ctx context.Context) (Checkpoint, error) {
	if g.policy.Load() == nil {
		return Checkpoint{}, ErrUninitialized
	}
	g.mu.Lock()
	known, head := g.headKnown, g.head
	g.mu.Unlock()
	var cp Checkpoint
	err := g.store.Scan(ctx, "", 0, func(r Record) error {
		if err := r.check(); err != nil {
			return &ChainError{Seq: cp.Seq + 1, Why: "malformed: " + err.Error()}
		}
		if err := r.verifyLink(cp.Hash, cp.Seq+1); err != nil {
			return err
		}
		if known && r.Seq == head.Seq && r.Hash != head.Hash {
			return &ChainError{Seq: r.Seq, Why: "differs from the record this Gate appended"}
		}
		cp = Checkpoint{Seq: r.Seq, Hash: r.Hash}
		return nil
	})
	if err != nil {
		return cp, err
	}
	if known && cp.Seq < head.Seq {
		return cp, &ChainError{Seq: cp.Seq + 1, Why: "missing: the ledger ends at record " + strconv.FormatUint(cp.Seq, 10) + " but this Gate appended up to " + strconv.FormatUint(head.Seq, 10)}
	}
	return cp, nil
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
// stored record (Seq 1 and a zero Prev for an empty store). It decodes and
// verifies every line first and appends the records only if all of them are
// good, at once; so a malformed, truncated or tampered import changes
// nothing. The error then is a [*LineError] naming the first bad line and
// unwrapping to [ErrMalformedRecord] or [ErrTampered]; a [*ChainError] if
// the store lost records this Gate appended (see [Gate.Record]). Imported
// records are
// checked for form and chain, not against the policy: they are history.
// It returns the number of records imported.
func (g *Gate) ImportLedger(ctx context.Context, r io.Reader) (int, error) {
	if g.policy.Load() == nil {
		return 0, ErrUninitialized
	}
	if r == nil {
		return 0, ErrNilArgument
	}
	g.mu.Lock()
	n, head, err := g.importLocked(ctx, r)
	g.mu.Unlock()
	if err != nil || n == 0 {
		return 0, err
	}
	g.logImport(ctx, n, head.Seq)
	return n, nil
}

// importLocked does ImportLedger's work under g.mu and returns the number
// of records imported and the new end of the ledger.
func (g *Gate) importLocked(ctx context.Context, r io.Reader) (int, Checkpoint, error) {
	// Ask the store where the ledger ends: another Gate may have appended
	// since this one last did.
	if err := g.syncHead(ctx); err != nil {
		return 0, Checkpoint{}, err
	}
	var recs []Record
	if _, err := readLedger(r, g.head, func(rec Record) { recs = append(recs, rec) }); err != nil {
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
// verifies every record and link. It returns the checkpoint of the last
// record, and a [*LineError] naming the first bad line, unwrapping to
// [ErrMalformedRecord] or [ErrTampered]. An auditor can run it on an export
// without a Gate or a store.
func VerifyJSONL(r io.Reader) (Checkpoint, error) {
	if r == nil {
		return Checkpoint{}, ErrNilArgument
	}
	return readLedger(r, Checkpoint{}, nil)
}

// readLedger decodes and verifies JSON Lines records that follow after,
// calling keep (if not nil) for each good record.
func readLedger(r io.Reader, after Checkpoint, keep func(Record)) (Checkpoint, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLedgerLine)
	cp := after
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSuffix(sc.Bytes(), []byte{'\r'})
		if len(bytes.TrimSpace(b)) == 0 {
			return cp, &LineError{Line: line, Err: &recordFieldError{"line", "empty"}}
		}
		var rec Record
		if err := json.Unmarshal(b, &rec); err != nil {
			if !errors.Is(err, ErrMalformedRecord) {
				err = &recordFieldError{"json", err.Error()}
			}
			return cp, &LineError{Line: line, Err: err}
		}
		if err := rec.verifyLink(cp.Hash, cp.Seq+1); err != nil {
			return cp, &LineError{Line: line, Err: err}
		}
		cp = Checkpoint{Seq: rec.Seq, Hash: rec.Hash}
		if keep != nil {
			keep(rec)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return cp, &LineError{Line: line + 1, Err: &recordFieldError{"line", "longer than " + strconv.Itoa(MaxLedgerLine) + " bytes"}}
		}
		return cp, err
	}
	return cp, nil
}
