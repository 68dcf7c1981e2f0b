package consent

import (
	"context"
	"hash/maphash"
	"sync"
)

// Store holds the consent ledger for a [Gate]: the chained [Record]s, in
// sequence order, and an index of each subject's latest record per purpose.
// The embedding service implements it over its own database; [MemoryStore]
// is the in-memory implementation for tests, examples and small services,
// and consenttest.Run checks any implementation against this contract.
//
// A Store is a dumb, durable list: the Gate numbers, chains and verifies
// records, the Store keeps them. Implementations must be safe for concurrent
// use and linearizable: once Append or Redact returns nil, every Latest and
// Scan that starts afterwards, from any goroutine, sees the change. That is
// what makes a withdrawal take effect at once. Implementations may return
// ctx.Err() when the context is done.
type Store interface {
	// Append adds recs at the end of the ledger, in order, all or none.
	// recs[0].Seq must be one more than the Seq of the last stored record (1
	// for an empty store) and each following record's Seq one more than the
	// one before; and each record that holds a subject must have as Back the
	// Seq of that subject's record before it: its last stored record, or
	// the one before it in recs (0 if none). Otherwise Append stores
	// nothing and returns a [*ConflictError] holding the last stored
	// record, so that a writer that lost a race (to another append, or to
	// an erasure of the subject) can re-chain and retry. Append does not
	// check hashes. An empty recs is a no-op. The store must not keep recs
	// itself (copy).
	Append(ctx context.Context, recs []Record) error

	// Latest returns the record appended last for exactly this subject and
	// purpose (not a parent's or a child's), and ok false if there is none.
	// With purpose "", it returns the subject's record appended last,
	// whatever its purpose. Tombstones are never returned. The Gate calls
	// Latest for the purpose and each of its ancestors on every decision,
	// so it should be fast.
	// (When two or more of those records are grants, the Gate also scans
	// the subject's records after the older grant, for a denial or
	// withdrawal that a later grant of the same purpose has replaced.)
	Latest(ctx context.Context, subject string, purpose Purpose) (rec Record, ok bool, err error)

	// Scan calls fn for each record whose Seq is greater than after, in
	// sequence order. With subject "" it visits the whole ledger, tombstones
	// included; with a subject, only that subject's records (tombstones,
	// which hold no subject, are not visited). If fn returns an error, Scan
	// stops and returns it. fn may call the store; records appended during
	// the scan may or may not be visited.
	Scan(ctx context.Context, subject string, after uint64, fn func(Record) error) error

	// Redact replaces stored records by their tombstones (see
	// [Record.Tombstone]), all or none, for erasing whole subjects: the
	// tombstones must stand for every record of each subject they touch.
	// Each tombstone must have Erased set and the Seq, Prev, Hash and Back of
	// a stored record; otherwise Redact changes nothing and returns an
	// error: [ErrNoRecord] for a Seq that is not stored, [ErrMalformedRecord]
	// for anything else, and a [*ConflictError] (holding the last stored
	// record) when a subject they touch has a record they do not replace,
	// such as one another writer appended since the caller read the
	// subject's records. Afterwards Latest and Scan by subject no longer find
	// the replaced records. Redacting a tombstone again is a no-op.
	Redact(ctx context.Context, tombstones []Record) error
}

// Standing is what a store holds about one subject and one purpose: the
// record appended last, and the latest denial or withdrawal.
type Standing struct {
	// Record is the record appended last for the subject and purpose (as
	// [Store.Latest] returns it); its Seq is 0 if there is none.
	Record Record
	// Refused is the Seq of the subject's latest denial or withdrawal of
	// exactly this purpose, 0 if there is none. It differs from Record.Seq
	// when a later grant replaced the refusal: the Gate needs it to tell
	// whether an ancestor's grant came before the refusal.
	Refused uint64
}

// StandingReader is an optional interface of a [Store]: a store that
// implements it answers for several purposes of one subject in one call,
// which for a database is one round trip instead of one per purpose. The
// Gate uses it, when its store has it, for every decision (the purpose and
// its ancestors, or in [Gate.DecideMany] several purposes at once) and
// before every append.
//
// Standings fills out[i] with the subject's standing for purposes[i]; out
// has the length of purposes. Purpose "" stands for the subject's last
// record of any purpose (as Latest with purpose ""), with Refused 0.
// Tombstones are never returned. Like the Store's other methods, it sees
// every Append and Redact that returned before it was called.
type StandingReader interface {
	Standings(ctx context.Context, subject string, purposes []Purpose, out []Standing) error
}

var (
	_ Store          = (*MemoryStore)(nil)
	_ StandingReader = (*MemoryStore)(nil)
)

// MemoryStore is a [Store] in memory. The zero value is an empty store ready
// to use. A MemoryStore is safe for concurrent use by multiple goroutines;
// lookups by subject take one of many read locks, so decisions scale across
// cores. It keeps every record for the life of the process (tombstones
// replace erased ones in place).
type MemoryStore struct {
	once sync.Once
	seed maphash.Seed

	mu       sync.RWMutex // guards chunks, n and purposes; taken before a shard lock
	chunks   []*recordChunk
	n        uint64
	purposes map[Purpose]Purpose // interned purpose keys

	shards [storeShards]storeShard
}

const (
	storeShards = 256 // a power of two
	chunkSize   = 256 // records per chunk; chunks never move, so pointers into them stay valid
)

type recordChunk [chunkSize]Record

type storeShard struct {
	mu       sync.RWMutex
	subjects map[string]subjectIndex
	_        [32]byte // keep shards on separate cache lines
}

// subjectIndex is what the store knows about one subject: its latest record
// per purpose and the sequence numbers of all its records.
type subjectIndex struct {
	latest latestSet
	seqs   []uint64
}

// latestSet is a subject's latest record per purpose. The first entries live
// in the map slot itself, so that a decision for a typical subject touches
// the slot and the decisive record and nothing else.
type latestSet struct {
	n      int
	inline [2]latestEntry
	more   []latestEntry
}

type latestEntry struct {
	purpose Purpose
	rec     *Record // the latest record; points into a chunk
	refused uint64  // the Seq of the latest denial or withdrawal, 0 if none
}

func (l *latestSet) entry(p Purpose) *latestEntry {
	for i := range min(l.n, len(l.inline)) {
		if l.inline[i].purpose == p {
			return &l.inline[i]
		}
	}
	for i := range l.more {
		if l.more[i].purpose == p {
			return &l.more[i]
		}
	}
	return nil
}

// set records r as the latest record of its purpose.
func (l *latestSet) set(r *Record) {
	e := l.entry(r.Purpose)
	if e == nil {
		if l.n < len(l.inline) {
			e = &l.inline[l.n]
		} else {
			l.more = append(l.more, latestEntry{})
			e = &l.more[len(l.more)-1]
		}
		l.n++
		e.purpose = r.Purpose
	}
	e.rec = r
	if r.Action.refuses() {
		e.refused = r.Seq
	}
}

// NewMemoryStore returns an empty store. It is the same as new(MemoryStore).
func NewMemoryStore() *MemoryStore { return new(MemoryStore) }

func (s *MemoryStore) init() { s.seed = maphash.MakeSeed() }

func (s *MemoryStore) shard(subject string) *storeShard {
	s.once.Do(s.init)
	return &s.shards[maphash.String(s.seed, subject)&(storeShards-1)]
}

// at returns the slot of record seq (1-based); s.mu must be held.
func (s *MemoryStore) at(seq uint64) *Record {
	i := seq - 1
	return &s.chunks[i/chunkSize][i%chunkSize]
}

// Len returns the number of records in the ledger.
func (s *MemoryStore) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return int(s.n)
}

func (s *MemoryStore) last() Record {
	if s.n == 0 {
		return Record{}
	}
	return *s.at(s.n)
}

// Append implements [Store.Append].
func (s *MemoryStore) Append(ctx context.Context, recs []Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range recs {
		if recs[i].Seq != s.n+1+uint64(i) {
			return &ConflictError{Last: s.last()}
		}
	}
	if !s.linked(recs) {
		return &ConflictError{Last: s.last()}
	}
	if s.purposes == nil {
		s.purposes = make(map[Purpose]Purpose)
	}
	for i := range recs {
		seq := s.n + 1
		if need := int((seq-1)/chunkSize) + 1; len(s.chunks) < need {
			s.chunks = append(s.chunks, new(recordChunk))
		}
		slot := s.at(seq)
		*slot = recs[i]
		if p, ok := s.purposes[slot.Purpose]; ok {
			slot.Purpose = p // share one copy of each key
		} else if slot.Purpose != "" {
			s.purposes[slot.Purpose] = slot.Purpose
		}
		s.n = seq
		if slot.Erased || slot.Subject == "" {
			continue
		}
		sh := s.shard(slot.Subject)
		sh.mu.Lock()
		if sh.subjects == nil {
			sh.subjects = make(map[string]subjectIndex)
		}
		idx := sh.subjects[slot.Subject]
		idx.latest.set(slot)
		idx.seqs = append(idx.seqs, seq)
		sh.subjects[slot.Subject] = idx
		sh.mu.Unlock()
	}
	return nil
}

// linked reports whether every record of recs that holds a subject links
// back to that subject's record before it. s.mu must be held.
func (s *MemoryStore) linked(recs []Record) bool {
	var inBatch map[string]uint64 // the subject's last record in recs so far
	if len(recs) > 1 {
		inBatch = make(map[string]uint64)
	}
	for i := range recs {
		r := &recs[i]
		if r.Erased || r.Subject == "" {
			continue
		}
		want, ok := inBatch[r.Subject]
		if !ok {
			want = s.lastOf(r.Subject)
		}
		if r.Back != want {
			return false
		}
		if inBatch != nil {
			inBatch[r.Subject] = r.Seq
		}
	}
	return true
}

// lastOf returns the Seq of the subject's last stored record, 0 if none.
func (s *MemoryStore) lastOf(subject string) uint64 {
	sh := s.shard(subject)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if seqs := sh.subjects[subject].seqs; len(seqs) > 0 {
		return seqs[len(seqs)-1]
	}
	return 0
}

// Latest implements [Store.Latest]. It does not allocate. It returns
// [ErrEmptySubject] for an empty subject and a [*KeyError] for a malformed
// purpose.
func (s *MemoryStore) Latest(_ context.Context, subject string, purpose Purpose) (Record, bool, error) {
	if subject == "" {
		return Record{}, false, ErrEmptySubject
	}
	if purpose == "" {
		s.mu.RLock()
		defer s.mu.RUnlock()
		sh := s.shard(subject)
		sh.mu.RLock()
		defer sh.mu.RUnlock()
		seqs := sh.subjects[subject].seqs
		if len(seqs) == 0 {
			return Record{}, false, nil
		}
		return *s.at(seqs[len(seqs)-1]), true, nil
	}
	if err := purpose.Validate(); err != nil {
		return Record{}, false, err
	}
	sh := s.shard(subject)
	sh.mu.RLock()
	idx := sh.subjects[subject]
	if e := idx.latest.entry(purpose); e != nil {
		rec := *e.rec
		sh.mu.RUnlock()
		return rec, true, nil
	}
	sh.mu.RUnlock()
	return Record{}, false, nil
}

// decide evaluates the subject's records for purpose cp under one read lock
// and no copies but the decisive record: the Gate's fast path when its store
// is a MemoryStore. It does not allocate.
func (s *MemoryStore) decide(subject string, cp *compiledPurpose, d *Decision, age int) {
	sh := s.shard(subject)
	var recs [MaxKeyDepth]*Record
	var refused uint64
	sh.mu.RLock()
	idx := sh.subjects[subject]
	for i, p := range cp.path {
		if e := idx.latest.entry(p); e != nil {
			recs[i], refused = e.rec, max(refused, e.refused)
		}
	}
	evaluate(cp, recs[:len(cp.path)], refused, d, age)
	sh.mu.RUnlock()
}

// Standings implements [StandingReader]. It returns [ErrEmptySubject] for
// an empty subject and a [*KeyError] for a malformed purpose.
func (s *MemoryStore) Standings(ctx context.Context, subject string, purposes []Purpose, out []Standing) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if subject == "" {
		return ErrEmptySubject
	}
	for _, p := range purposes {
		if p != "" {
			if err := p.Validate(); err != nil {
				return err
			}
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	sh := s.shard(subject)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	idx := sh.subjects[subject]
	for i, p := range purposes {
		out[i] = Standing{}
		if p == "" {
			if n := len(idx.seqs); n > 0 {
				out[i].Record = *s.at(idx.seqs[n-1])
			}
		} else if e := idx.latest.entry(p); e != nil {
			out[i] = Standing{Record: *e.rec, Refused: e.refused}
		}
	}
	return nil
}

// standing is the Gate's [Gate.standing] over a MemoryStore: the Seq of
// the subject's last record, and its latest record about any of purposes.
func (s *MemoryStore) standing(subject string, purposes []Purpose) (last uint64, bound Record) {
	sh := s.shard(subject)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	idx := sh.subjects[subject]
	if n := len(idx.seqs); n > 0 {
		last = idx.seqs[n-1]
	}
	for _, p := range purposes {
		if e := idx.latest.entry(p); e != nil && e.rec.At.After(bound.At) {
			bound = *e.rec
		}
	}
	return last, bound
}

// Scan implements [Store.Scan]. It holds no lock while fn runs.
func (s *MemoryStore) Scan(ctx context.Context, subject string, after uint64, fn func(Record) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if subject != "" {
		sh := s.shard(subject)
		sh.mu.RLock()
		seqs := append([]uint64(nil), sh.subjects[subject].seqs...)
		sh.mu.RUnlock()
		for _, seq := range seqs {
			if seq <= after {
				continue
			}
			s.mu.RLock()
			r := *s.at(seq)
			s.mu.RUnlock()
			if r.Erased || r.Subject != subject {
				continue
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
	const batch = 64
	buf := make([]Record, 0, batch)
	for next := after + 1; ; {
		if err := ctx.Err(); err != nil {
			return err
		}
		buf = buf[:0]
		s.mu.RLock()
		for ; next <= s.n && len(buf) < batch; next++ {
			buf = append(buf, *s.at(next))
		}
		s.mu.RUnlock()
		if len(buf) == 0 {
			return nil
		}
		for _, r := range buf {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
}

// Redact implements [Store.Redact]. It takes time linear in the number of
// tombstones.
func (s *MemoryStore) Redact(ctx context.Context, tombstones []Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	touched := make(map[string]int) // subject: how many of its records are replaced
	seen := make(map[uint64]struct{}, len(tombstones))
	for i := range tombstones {
		t := &tombstones[i]
		if t.Seq == 0 || t.Seq > s.n {
			return ErrNoRecord
		}
		cur := s.at(t.Seq)
		if !t.Erased || t.Prev != cur.Prev || t.Hash != cur.Hash || t.Back != cur.Back || t.Action != cur.Action {
			return &recordFieldError{"erased", "not a tombstone of the stored record"}
		}
		if _, dup := seen[t.Seq]; dup {
			continue
		}
		seen[t.Seq] = struct{}{}
		if !cur.Erased && cur.Subject != "" {
			touched[cur.Subject]++
		}
	}
	for subject, n := range touched {
		sh := s.shard(subject)
		sh.mu.RLock()
		all := len(sh.subjects[subject].seqs)
		sh.mu.RUnlock()
		if n != all {
			return &ConflictError{Last: s.last()}
		}
	}
	for subject := range touched {
		sh := s.shard(subject)
		sh.mu.Lock()
		delete(sh.subjects, subject)
		sh.mu.Unlock()
	}
	for i := range tombstones {
		if cur := s.at(tombstones[i].Seq); !cur.Erased {
			*cur = tombstones[i]
		}
	}
	return nil
}
