package sqlstore

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/tact-go/tact/consent"
)

// A subject's standing is one row of tact_consent_subjects: for each
// purpose the subject has a record of, the latest record and the Seq of the
// latest refusal, and under the empty key the subject's last record of any
// purpose. It is what a decision reads: one row, by primary key. It is
// kept in a compact binary form, version 1:
//
//	standing = 0x01, uvarint(count), entry*
//	entry    = str(key), uvarint(refused), record
//	record   = uvarint(seq), uvarint(back), action, source, actor,
//	           str(purpose), varint(at seconds), uvarint(at nanoseconds),
//	           uvarint(policy version), str(channel), str(evidence),
//	           prev[32], hash[32], salt[16]
//	str      = uvarint(length), bytes
//
// The subject is the row's key and is not repeated. Tombstones are never
// in a standing (an erased subject has no row).
type entry struct {
	key     consent.Purpose
	refused uint64
	rec     consent.Record
}

const standingVersion = 1

// overridesGPCBit marks, in the action byte of a standing's record, a grant
// confirmed over GPC (schema version 2; standings written before have it
// clear, as their records do).
const overridesGPCBit = 0x80

var errStanding = errors.New("not a valid standing")

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func encodeStanding(b []byte, es []entry) []byte {
	b = append(b, standingVersion)
	b = binary.AppendUvarint(b, uint64(len(es)))
	for i := range es {
		e := &es[i]
		r := &e.rec
		b = appendStr(b, string(e.key))
		b = binary.AppendUvarint(b, e.refused)
		b = binary.AppendUvarint(b, r.Seq)
		b = binary.AppendUvarint(b, r.Back)
		action := byte(r.Action)
		if r.OverridesGPC {
			action |= overridesGPCBit
		}
		b = append(b, action, byte(r.Source), byte(r.Actor))
		b = appendStr(b, string(r.Purpose))
		b = binary.AppendVarint(b, r.At.Unix())
		b = binary.AppendUvarint(b, uint64(r.At.Nanosecond()))
		b = binary.AppendUvarint(b, uint64(r.PolicyVersion))
		b = appendStr(b, string(r.Channel))
		b = appendStr(b, r.Evidence)
		b = append(b, r.Prev[:]...)
		b = append(b, r.Hash[:]...)
		b = append(b, r.Salt[:]...)
	}
	return b
}

// reader reads a standing. Its methods stop at the first error, which err
// holds.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errStanding
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errStanding
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errStanding
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) str() []byte { return r.bytes(r.uvarint()) }

// record decodes the record after an entry's key and refused. subject and
// purpose, when they match what is stored, are reused instead of
// allocated.
func (r *reader) record(subject string, purpose consent.Purpose) consent.Record {
	var rec consent.Record
	rec.Subject = subject
	rec.Seq = r.uvarint()
	rec.Back = r.uvarint()
	fixed := r.bytes(3)
	if r.err != nil {
		return rec
	}
	rec.Action, rec.Source, rec.Actor = consent.Action(fixed[0]&^overridesGPCBit), consent.Source(fixed[1]), consent.Actor(fixed[2])
	rec.OverridesGPC = fixed[0]&overridesGPCBit != 0
	if p := r.str(); string(p) == string(purpose) {
		rec.Purpose = purpose
	} else {
		rec.Purpose = consent.Purpose(p)
	}
	sec := r.varint()
	nsec := r.uvarint()
	if nsec >= 1e9 {
		r.err = errStanding
	}
	rec.At = time.Unix(sec, int64(nsec)).UTC()
	rec.PolicyVersion = int(r.uvarint())
	rec.Channel = consent.Channel(internChannel(r.str()))
	if ev := r.str(); len(ev) > 0 {
		rec.Evidence = string(ev)
	}
	copy(rec.Prev[:], r.bytes(32))
	copy(rec.Hash[:], r.bytes(32))
	copy(rec.Salt[:], r.bytes(16))
	return rec
}

// skipRecord moves past a record without decoding it.
func (r *reader) skipRecord() {
	r.uvarint()
	r.uvarint()
	r.bytes(3)
	r.str()
	r.varint()
	r.uvarint()
	r.uvarint()
	r.str()
	r.str()
	r.bytes(32 + 32 + 16)
}

// header reads the version and the number of entries.
func (r *reader) header() int {
	if v := r.bytes(1); r.err != nil || v[0] != standingVersion {
		r.err = errStanding
		return 0
	}
	n := r.uvarint()
	if n > uint64(len(r.b)) { // every entry takes more than a byte
		r.err = errStanding
		return 0
	}
	return int(n)
}

// lookup fills out[i] with the standing of purposes[i] from the encoded
// standing b of subject, checking each record it returns.
func lookup(b []byte, subject string, purposes []consent.Purpose, out []consent.Standing) error {
	r := reader{b: b}
	n := r.header()
	for range n {
		key := r.str()
		refused := r.uvarint()
		i := -1
		for j, p := range purposes {
			if string(p) == string(key) {
				i = j
				break
			}
		}
		if i < 0 {
			r.skipRecord()
			continue
		}
		rec := r.record(subject, purposes[i])
		if r.err != nil {
			break
		}
		if err := rec.Check(); err != nil {
			return &corruptError{seq: rec.Seq, why: err.Error(), err: err}
		}
		for j := i; j < len(purposes); j++ { // a purpose asked for twice
			if purposes[j] == purposes[i] {
				out[j] = consent.Standing{Record: rec, Refused: refused}
			}
		}
	}
	if r.err != nil || len(r.b) != 0 {
		return &corruptError{why: "a subject's standing does not decode"}
	}
	return nil
}

// decodeAll decodes every entry of the encoded standing b of subject.
func decodeAll(b []byte, subject string) ([]entry, error) {
	r := reader{b: b}
	n := r.header()
	es := make([]entry, 0, n+1)
	for range n {
		key := consent.Purpose(r.str())
		refused := r.uvarint()
		rec := r.record(subject, "")
		if r.err != nil {
			break
		}
		if err := rec.Check(); err != nil {
			return nil, &corruptError{seq: rec.Seq, why: err.Error(), err: err}
		}
		es = append(es, entry{key: key, refused: refused, rec: rec})
	}
	if r.err != nil || len(r.b) != 0 {
		return nil, &corruptError{why: "a subject's standing does not decode"}
	}
	return es, nil
}

// apply updates es with rec, a record of their subject appended after
// every record they hold.
func apply(es []entry, rec *consent.Record) []entry {
	set := func(key consent.Purpose, refused bool) {
		for i := range es {
			if es[i].key == key {
				es[i].rec = *rec
				if refused {
					es[i].refused = rec.Seq
				}
				return
			}
		}
		e := entry{key: key, rec: *rec}
		if refused {
			e.refused = rec.Seq
		}
		es = append(es, e)
	}
	set("", false)
	set(rec.Purpose, rec.Action == consent.Deny || rec.Action == consent.Withdraw)
	return es
}
