package minimize

import (
	"reflect"
	"sync"
	"time"
	"unsafe"

	"github.com/tact-go/tact/consent"
)

// Retention is a retention schedule for one purpose: for each category,
// how long data of it may be kept after it was collected. As with a
// [Policy], an entry covers the category's descendants unless a more
// specific entry exists, and a category with no entry (for itself or an
// ancestor) may not be kept at all: it is past retention at once.
//
// A Retention is immutable and safe for simultaneous use by multiple
// goroutines; it caches a plan per struct type it sweeps. The zero value
// has no entries and no purpose; [Sweep] rejects it.
type Retention struct {
	purpose consent.Purpose
	limits  map[consent.Category]time.Duration
	plans   sync.Map // reflect.Type → *planEntry
}

// NewRetention validates and copies the schedule for purpose p. A zero
// duration means "not beyond the moment of collection". The error is a
// [*RuleError] wrapping [ErrInvalidRetention] for a malformed purpose or
// category or a negative duration.
func NewRetention(p consent.Purpose, limits map[consent.Category]time.Duration) (*Retention, error) {
	if err := p.Validate(); err != nil {
		return nil, &RuleError{Index: -1, Target: string(p), Err: ErrInvalidRetention, Why: "malformed purpose", Cause: err}
	}
	r := &Retention{purpose: p, limits: make(map[consent.Category]time.Duration, len(limits))}
	for c, d := range limits {
		if err := c.Validate(); err != nil {
			return nil, &RuleError{Index: -1, Target: string(c), Err: ErrInvalidRetention, Why: "malformed category", Cause: err}
		}
		if d < 0 {
			return nil, &RuleError{Index: -1, Target: string(c), Err: ErrInvalidRetention, Why: "negative duration"}
		}
		r.limits[c] = d
	}
	return r, nil
}

// Purpose returns the purpose the schedule is for.
func (r *Retention) Purpose() consent.Purpose {
	if r == nil {
		return ""
	}
	return r.purpose
}

// MaxAge returns how long data of category c may be kept: the entry for c
// or its nearest ancestor with one. It returns false when there is none (the
// data may not be kept).
func (r *Retention) MaxAge(c consent.Category) (time.Duration, bool) {
	if r == nil {
		return 0, false
	}
	for ; c != ""; c = c.Parent() {
		if d, ok := r.limits[c]; ok {
			return d, true
		}
	}
	return 0, false
}

// Past reports whether data of category c collected at the time collected
// is past retention at time at: older than its maximum age, or of a
// category the schedule does not name. Data exactly as old as its maximum
// age is still within retention; data "collected" after at is not past.
func (r *Retention) Past(c consent.Category, collected, at time.Time) bool {
	d, ok := r.MaxAge(c)
	return !ok || at.Sub(collected) > d
}

// Swept is the result of a retention sweep.
type Swept[T any] struct {
	// Keep holds the records with nothing past retention, as given.
	Keep []T
	// Trim holds new copies of the records that have some categories past
	// retention and some not, with the expired fields zeroed (struct) or
	// removed (map). Store them in place of the originals.
	Trim []T
	// Purge holds the records, as given, whose every category is past
	// retention. Delete them.
	Purge []T
}

// Sweep splits recs into records to keep, trim and purge at time at, for a
// struct type T tagged as for [Struct]; collected returns when a record
// was collected. A record is purged when every category its type declares
// is past retention, trimmed when some are, kept when none is. Trimmed
// copies keep the record's untagged fields (such as ids and timestamps),
// except those of types the package cannot copy (maps, interfaces, ...),
// which are zeroed, and pointers and slices of structs whose every field
// expired, which are nil. A type with no tagged field is always kept.
//
// The errors are [ErrNoMinimizer] for a nil or zero r or a nil collected,
// [ErrNilRecord] for a nil pointer record that needs trimming, and plan
// errors as for [Struct] (malformed tags, tagged fields of unsupported
// types).
func Sweep[T any](r *Retention, recs []T, collected func(T) time.Time, at time.Time) (Swept[T], error) {
	var s Swept[T]
	if r == nil || r.purpose == "" || collected == nil {
		return s, ErrNoMinimizer
	}
	pe := loadPlan(&r.plans, reflect.TypeFor[T](), nil, true)
	if pe.err != nil {
		return s, pe.err
	}
	p := pe.p
	live := make(map[consent.Category]bool, len(p.cats))
	allowLive := AllowFunc(func(c consent.Category) bool { return live[c] })
	for i := range recs {
		when := collected(recs[i])
		expired := 0
		clear(live)
		for _, c := range p.cats {
			if r.Past(c, when, at) {
				expired++
			} else {
				live[c] = true
			}
		}
		switch {
		case expired == 0:
			s.Keep = append(s.Keep, recs[i])
		case expired == len(p.cats):
			s.Purge = append(s.Purge, recs[i])
		default:
			var out T
			var x exec
			x.setAllow(allowLive, p.cats)
			if p.root.code == nPtr && *(*unsafe.Pointer)(unsafe.Pointer(&recs[i])) == nil {
				return Swept[T]{}, ErrNilRecord
			}
			if err := x.runStruct(p, unsafe.Pointer(&out), unsafe.Pointer(&recs[i])); err != nil {
				return Swept[T]{}, err
			}
			s.Trim = append(s.Trim, out)
		}
	}
	return s, nil
}

// SweepMaps is [Sweep] for map records whose keys s maps to categories.
// The categories that count are those of the keys a record has; keys the
// schema does not name stay in trimmed copies. A record with no key the
// schema names is kept.
func SweepMaps(r *Retention, s *Schema, recs []map[string]any, collected func(map[string]any) time.Time, at time.Time) (Swept[map[string]any], error) {
	var out Swept[map[string]any]
	if r == nil || r.purpose == "" || s == nil || collected == nil {
		return out, ErrNoMinimizer
	}
	for _, rec := range recs {
		when := collected(rec)
		named, expired := 0, 0
		for k := range rec {
			if c, ok := s.fields[k]; ok {
				named++
				if r.Past(c, when, at) {
					expired++
				}
			}
		}
		switch {
		case expired == 0:
			out.Keep = append(out.Keep, rec)
		case expired == named:
			out.Purge = append(out.Purge, rec)
		default:
			trim := make(map[string]any, len(rec)-expired)
			for k, v := range rec {
				if c, ok := s.fields[k]; ok && r.Past(c, when, at) {
					continue
				}
				trim[k] = v
			}
			out.Trim = append(out.Trim, trim)
		}
	}
	return out, nil
}
