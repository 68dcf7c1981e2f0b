package consent

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/tact-go/tact/internal/jsonkey"
)

// Hash is a SHA-256 digest. It encodes as 64 lower-case hex digits.
type Hash [sha256.Size]byte

// String returns h as 64 lower-case hex digits.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zeros (the Prev of the first record).
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalText encodes h as hex.
func (h Hash) MarshalText() ([]byte, error) {
	b := make([]byte, hex.EncodedLen(len(h)))
	hex.Encode(b, h[:])
	return b, nil
}

// UnmarshalText decodes 64 hex digits.
func (h *Hash) UnmarshalText(b []byte) error {
	if len(b) != hex.EncodedLen(len(h)) {
		return &recordFieldError{"hash", "want 64 hex digits"}
	}
	var v Hash
	if _, err := hex.Decode(v[:], b); err != nil {
		return &recordFieldError{"hash", "not hex"}
	}
	*h = v
	return nil
}

// Salt is random bytes the Gate mixes into the personal part of each record
// it appends (see [Record]). It encodes as 32 lower-case hex digits.
type Salt [16]byte

// String returns s as 32 lower-case hex digits.
func (s Salt) String() string { return hex.EncodeToString(s[:]) }

// IsZero reports whether s is all zeros (a tombstone holds no salt).
func (s Salt) IsZero() bool { return s == Salt{} }

// MarshalText encodes s as hex.
func (s Salt) MarshalText() ([]byte, error) {
	b := make([]byte, hex.EncodedLen(len(s)))
	hex.Encode(b, s[:])
	return b, nil
}

// UnmarshalText decodes 32 hex digits.
func (s *Salt) UnmarshalText(b []byte) error {
	if len(b) != hex.EncodedLen(len(s)) {
		return &recordFieldError{"salt", "want 32 hex digits"}
	}
	var v Salt
	if _, err := hex.Decode(v[:], b); err != nil {
		return &recordFieldError{"salt", "not hex"}
	}
	*s = v
	return nil
}

// Record is an [Event] as the ledger holds it: numbered, linked to the
// subject's record before it, and chained to the ledger's record before it by
// SHA-256.
//
// The chain: each record is hashed over a canonical binary encoding of its
// fields (not over its JSON), in nested parts:
//
//	personal = SHA-256(subject, channel, evidence, actor, salt)
//	facts    = SHA-256(purpose, time, policy version, source, personal[, 1 if OverridesGPC])
//	Hash     = SHA-256(Prev, Seq, action, Back, facts)
//
// Prev is the Hash of the record before (zeros for the first) and Back the
// Seq of the same subject's record before (0 for the subject's first).
// Changing, removing, inserting or reordering any record changes a Hash that
// every later record depends on, which verification detects. What a hash
// chain cannot show on its own is a rewrite of a record together with every
// record after it: compare the ledger with a [Checkpoint] kept elsewhere for
// that.
//
// The nesting is what lets a subject be erased without breaking the chain
// ([Gate.Erase]): a record is replaced by a tombstone (Erased set) that keeps
// its Seq, Prev, Hash, Back and action and replaces the fields it drops by
// their digest in Sealed. A denial or withdrawal keeps its purpose, time,
// policy version and source, and seals only the personal part; a grant
// seals the facts too. Every tombstone still verifies, and its action is
// still covered by the hash, so the ledger still proves that each
// withdrawal happened and was never altered or disguised, without holding
// who made it. Salt is random and a tombstone drops it, so nobody can test a
// guessed subject id against a Sealed digest; the person, whose receipt or
// access export keeps the whole record, still can show a tombstone is theirs.
//
// Back links each subject's records into a chain of their own, which a
// tombstone keeps, so verification can tell that tombstones stand for whole
// erased subjects: the records before a tombstone in its subject's chain are
// tombstones, and no live record follows one. A tombstone therefore cannot
// hide a withdrawal while the grant it ended stays. (The links reveal that
// tombstones were one person's records, not whose.)
type Record struct {
	Event
	// Seq is the record's position in the ledger, from 1.
	Seq uint64
	// Prev is the Hash of the record before, zeros for the first.
	Prev Hash
	// Hash chains the record: SHA-256 over Prev, Seq, Back and the
	// record's digest.
	Hash Hash
	// Back is the Seq of the subject's record before this one, 0 for the
	// subject's first (or first since the subject was erased).
	Back uint64
	// Salt is random bytes in the personal part of the hash; zero in a
	// tombstone.
	Salt Salt
	// Erased marks a tombstone: the subject was erased and the fields the
	// tombstone no longer holds are zero.
	Erased bool
	// Sealed is, for a tombstone, the digest of the fields it no longer
	// holds (the personal part for a denial or withdrawal, the facts for a
	// grant); zero otherwise.
	Sealed Hash
}

// Domain-separation prefixes of the canonical encoding (version 2). They
// are short so that each part fits in as few SHA-256 blocks as possible.
const (
	tagPersonal = "tact/p2"
	tagFacts    = "tact/f2"
	tagLink     = "tact/l2"
)

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func personalDigest(e *Event, salt *Salt) Hash {
	var buf [384]byte
	b := append(buf[:0], tagPersonal...)
	b = appendString(b, e.Subject)
	b = appendString(b, string(e.Channel))
	b = appendString(b, e.Evidence)
	b = append(b, byte(e.Actor))
	b = append(b, salt[:]...)
	return sha256.Sum256(b)
}

func factsDigest(e *Event, personal Hash) Hash {
	var buf [256]byte
	b := append(buf[:0], tagFacts...)
	b = appendString(b, string(e.Purpose))
	b = binary.BigEndian.AppendUint64(b, uint64(e.At.Unix()))
	b = binary.BigEndian.AppendUint32(b, uint32(e.At.Nanosecond()))
	b = binary.BigEndian.AppendUint64(b, uint64(e.PolicyVersion))
	b = append(b, byte(e.Source))
	b = append(b, personal[:]...)
	if e.OverridesGPC {
		b = append(b, 1) // only when set: records without it hash as before
	}
	return sha256.Sum256(b)
}

func linkHash(prev Hash, seq uint64, a Action, back uint64, facts Hash) Hash {
	var buf [112]byte
	b := append(buf[:0], tagLink...)
	b = append(b, prev[:]...)
	b = binary.BigEndian.AppendUint64(b, seq)
	b = append(b, byte(a))
	b = binary.BigEndian.AppendUint64(b, back)
	b = append(b, facts[:]...)
	return sha256.Sum256(b)
}

// facts computes the digest of the record's facts from the fields it holds.
func (r *Record) facts() Hash {
	switch {
	case !r.Erased:
		return factsDigest(&r.Event, personalDigest(&r.Event, &r.Salt))
	case r.Action == Grant:
		return r.Sealed
	default:
		return factsDigest(&r.Event, r.Sealed)
	}
}

// link computes the record's Hash from Prev, Seq and its fields.
func (r *Record) link() Hash { return linkHash(r.Prev, r.Seq, r.Action, r.Back, r.facts()) }

// Chain returns the record the ledger holds for ev at position seq, after
// a record whose Hash is prev, linked back to the subject's record back and
// salted with salt: the hashing a [Gate] does when it appends. It is for
// tests of stores, tools that rebuild or audit ledgers, and forensics;
// services record events with [Gate.Record], which also picks the Seq, Back
// and a random salt, and enforces the ledger's rules.
func Chain(prev Hash, seq, back uint64, salt Salt, ev Event) Record {
	r := Record{Event: ev, Seq: seq, Prev: prev, Back: back, Salt: salt}
	r.Hash = r.link()
	return r
}

// Tombstone returns the erased form of r: see [Record]. It returns r
// unchanged if r is already a tombstone.
func (r Record) Tombstone() Record {
	if r.Erased {
		return r
	}
	t := Record{Seq: r.Seq, Prev: r.Prev, Hash: r.Hash, Back: r.Back, Erased: true}
	t.Action = r.Action
	p := personalDigest(&r.Event, &r.Salt)
	if r.Action == Grant {
		t.Sealed = factsDigest(&r.Event, p)
		return t
	}
	t.Purpose, t.At, t.PolicyVersion, t.Source = r.Purpose, r.At, r.PolicyVersion, r.Source
	t.Sealed = p
	return t
}

// Check reports whether r is well formed and its Hash covers its fields,
// Seq, Back and Prev: what a store can check of one record it reads,
// without the record before it (to catch a row edited in the database). It
// returns nil, an error unwrapping to [ErrMalformedRecord] for fields out
// of range, or a [*ChainError] (unwrapping to [ErrTampered]) for a hash
// that does not match. Whether Prev is the Hash of the record before is
// for [Gate.Verify] to check.
func (r *Record) Check() error {
	if err := r.check(); err != nil {
		return err
	}
	if r.link() != r.Hash {
		return &ChainError{Seq: r.Seq, Why: "hash does not match the record's contents"}
	}
	return nil
}

// check verifies the record's fields are in range: what an imported line
// must satisfy before its hash is even considered.
func (r *Record) check() error {
	if r.Seq == 0 {
		return &recordFieldError{"seq", "must be 1 or more"}
	}
	if r.Back >= r.Seq {
		return &recordFieldError{"back", "must be before the record"}
	}
	if !r.Erased {
		if !r.Sealed.IsZero() {
			return &recordFieldError{"sealed", "only tombstones have sealed fields"}
		}
		if r.Salt.IsZero() {
			return &recordFieldError{"salt", "required"}
		}
		if r.PolicyVersion < 1 {
			return &recordFieldError{"policy_version", "must be 1 or more"}
		}
		if err := r.Event.validate(); err != nil {
			return asRecordError(err)
		}
		return nil
	}
	if r.Sealed.IsZero() {
		return &recordFieldError{"sealed", "a tombstone seals the fields it dropped"}
	}
	if r.Subject != "" || r.Channel != "" || r.Evidence != "" || r.Actor != ActorSelf || !r.Salt.IsZero() || r.OverridesGPC {
		return &recordFieldError{"erased", "a tombstone holds no subject, channel, evidence, actor or salt"}
	}
	switch r.Action {
	case Grant:
		if r.Purpose != "" || !r.At.IsZero() || r.PolicyVersion != 0 || r.Source != SourceUser || r.OverridesGPC {
			return &recordFieldError{"erased", "an erased grant keeps only its action"}
		}
	case Deny, Withdraw:
		if err := r.Purpose.Validate(); err != nil {
			return asRecordError(err)
		}
		if r.At.IsZero() {
			return &recordFieldError{"at", "required"}
		}
		if y := r.At.UTC().Year(); y < 1 || y > 9999 {
			return &recordFieldError{"at", "year out of range 1-9999"}
		}
		if r.PolicyVersion < 1 {
			return &recordFieldError{"policy_version", "must be 1 or more"}
		}
		if int(r.Source) >= len(sourceNames) {
			return &recordFieldError{"source", "unknown source"}
		}
	default:
		return &recordFieldError{"action", "must be grant, deny or withdraw"}
	}
	return nil
}

// asRecordError turns an event or key error into a malformed-record error.
func asRecordError(err error) error {
	var ee *EventError
	if errors.As(err, &ee) {
		return &recordFieldError{ee.Field, strings.TrimPrefix(ee.Error(), "consent: invalid event: "+ee.Field+": ")}
	}
	return &recordFieldError{"purpose", strings.TrimPrefix(err.Error(), "consent: ")}
}

// recordFieldError is the detail of a malformed record; it unwraps to
// ErrMalformedRecord.
type recordFieldError struct{ field, why string }

func (e *recordFieldError) Error() string {
	return "consent: malformed ledger record: " + e.field + ": " + e.why
}
func (e *recordFieldError) Unwrap() error { return ErrMalformedRecord }

// recordJSON is the JSON Lines form of a Record.
type recordJSON struct {
	Seq           uint64  `json:"seq"`
	Prev          Hash    `json:"prev"`
	Hash          Hash    `json:"hash"`
	Back          uint64  `json:"back,omitempty"`
	Salt          *Salt   `json:"salt,omitempty"`
	Erased        bool    `json:"erased,omitempty"`
	Sealed        *Hash   `json:"sealed,omitempty"`
	Action        Action  `json:"action"`
	Subject       string  `json:"subject,omitempty"`
	Purpose       Purpose `json:"purpose,omitempty"`
	At            string  `json:"at,omitempty"`
	Channel       Channel `json:"channel,omitempty"`
	PolicyVersion int     `json:"policy_version,omitempty"`
	Source        *Source `json:"source,omitempty"`
	Evidence      string  `json:"evidence,omitempty"`
	Actor         *Actor  `json:"actor,omitempty"`
	OverridesGPC  bool    `json:"overrides_gpc,omitempty"`
}

// MarshalJSON encodes the record as one JSON object with snake_case names
// and the time in RFC 3339 UTC with nanoseconds; fields a tombstone does not
// hold are left out.
func (r Record) MarshalJSON() ([]byte, error) {
	j := recordJSON{
		Seq: r.Seq, Prev: r.Prev, Hash: r.Hash, Back: r.Back, Erased: r.Erased, Action: r.Action,
		Subject: r.Subject, Purpose: r.Purpose, Channel: r.Channel, PolicyVersion: r.PolicyVersion,
		Evidence: r.Evidence, OverridesGPC: r.OverridesGPC,
	}
	if r.Erased {
		s := r.Sealed
		j.Sealed = &s
	}
	if !r.At.IsZero() {
		j.At = r.At.UTC().Format(time.RFC3339Nano)
	}
	if !r.Erased || r.Action != Grant {
		s := r.Source
		j.Source = &s
	}
	if !r.Erased {
		a, salt := r.Actor, r.Salt
		j.Actor, j.Salt = &a, &salt
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes the form MarshalJSON writes. Unknown fields and
// repeated ones are an error; the result is checked for range
// ([ErrMalformedRecord]) but not for its place in a chain.
func (r *Record) UnmarshalJSON(data []byte) error {
	if k, dup := jsonkey.Duplicate(data); dup {
		return &recordFieldError{"json", "key " + strconv.Quote(k) + " appears more than once"}
	}
	var j recordJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		if errors.Is(err, ErrMalformedRecord) {
			return err
		}
		if errors.Is(err, ErrInvalidEvent) {
			return asRecordError(err)
		}
		return &recordFieldError{"json", err.Error()}
	}
	v := Record{
		Seq: j.Seq, Prev: j.Prev, Hash: j.Hash, Back: j.Back, Erased: j.Erased,
		Event: Event{
			Action: j.Action, Subject: j.Subject, Purpose: j.Purpose, Channel: j.Channel,
			PolicyVersion: j.PolicyVersion, Evidence: j.Evidence, OverridesGPC: j.OverridesGPC,
		},
	}
	if j.Sealed != nil {
		v.Sealed = *j.Sealed
	}
	if j.Salt != nil {
		v.Salt = *j.Salt
	}
	if j.Source != nil {
		v.Source = *j.Source
	}
	if j.Actor != nil {
		v.Actor = *j.Actor
	}
	if j.At != "" {
		t, err := time.Parse(time.RFC3339Nano, j.At)
		if err != nil {
			return &recordFieldError{"at", "not an RFC 3339 time"}
		}
		v.At = t.UTC()
	}
	if err := v.check(); err != nil {
		return err
	}
	*r = v
	return nil
}
