package minimize

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// Transform says how a field passes through a [Policy]: dropped, kept as
// is, or changed by one transform. Build one with the functions below
// ([Keep], [Mask], [Bucket], [Pseudonymize], ...); parameters are checked by
// [NewPolicy], not by these functions, so a policy with a bad parameter
// fails in one place with a [*RuleError].
//
// The zero value is [Drop].
//
// # Values and types
//
// A transform keeps the Go type of a struct field: the field gets the
// generalized value in its own type (a bucket's lower bound, a truncated
// time, a rounded coordinate). Map records have no declared types, so the
// transforms that naturally change a value's type do so there: [Part] and
// [AgeBand] give an int. The documentation of each constructor says what
// it accepts and gives. Transforms that need a string (redact, mask, postal
// prefix, pseudonymize) are checked against struct field types when the
// plan is built and against map values when the record is minimized.
//
// The numeric transforms ([Bucket], [BucketEdges], [TopBottom],
// [GeoPrecision]) follow one rule for every integer and floating-point
// type, in struct fields and map values alike: the result is the exact
// generalized value in the value's own type (rounded to it, for floats).
// Parameters no value of the type can use are [ErrTypeMismatch]: a
// fractional width, edge or bound for an integer, an edge outside the
// type's range, a tail coded wholly outside it. A result the type cannot
// hold is [ErrOutOfRange], and a NaN or infinite value is [ErrNotFinite].
// A generalized float that is zero is +0, never -0, which would tell which
// side of zero the value was on.
//
// Missing values stay missing: the empty string passes every string
// transform unchanged (a token or marker for "nothing" would make every
// record without the field look alike and say there was something), and the
// zero [time.Time] passes every time transform unchanged (in a map record,
// [Part] and [AgeBand] of a zero time leave the key out).
type Transform struct {
	// Unexported, so a Transform cannot change once made: copies may share
	// edges, which BucketEdges cloned from its argument.
	op     op
	n, m   int // mask first/last; postal prefix n; geo decimals n; age band width n
	unit   TimeUnit
	part   TimePart
	width  float64
	edges  []float64
	lo, hi float64
}

type op uint8

const (
	opDrop op = iota
	opKeep
	opRedact
	opMask
	opBucket
	opEdges
	opAgeBand
	opTruncate
	opPart
	opGeo
	opPostal
	opTopBottom
	opPseudonymize
	opCount
)

// Redacted is the marker [Redact] puts in place of a string.
const Redacted = "[redacted]"

// Drop removes the field: a struct field gets its zero value (nil for
// pointers and slices), a map key is left out. Any type.
func Drop() Transform { return Transform{op: opDrop} }

// Keep passes the value unchanged. Any supported type. Slices and pointers
// are copied, never shared with the input.
func Keep() Transform { return Transform{op: opKeep} }

// Redact replaces a non-empty string with [Redacted]. Strings only.
func Redact() Transform { return Transform{op: opRedact} }

// Mask keeps the first `first` and last `last` characters (runes) of a
// string and replaces each character between them with '*'. A string of at
// most first+last characters is masked entirely, since keeping both ends
// would keep all of it. Strings only; first, last ≥ 0.
func Mask(first, last int) Transform { return Transform{op: opMask, n: first, m: last} }

// Bucket generalizes a number to the lower bound of its bucket of the given
// width: floor(x/width)*width, so 37 with width 10 gives 30. Integer and
// floating-point values; width must be finite and > 0, and a whole number
// for integer values (of any size: a width wider than the type's range puts
// every non-negative value in bucket 0). A bound the value's type cannot
// hold (-200 for an int8 of -128 with width 100) is [ErrOutOfRange]; a
// float so large that floats around it are further apart than the width is
// its own bucket. NaN and infinities are rejected with [ErrNotFinite]; see
// [Transform] for the rule all numeric transforms share.
func Bucket(width float64) Transform { return Transform{op: opBucket, width: width} }

// BucketEdges generalizes a number to the largest edge not above it: with
// edges 0, 18, 25, 35, 50, the value 30 gives 25 and 70 gives 50. Values
// below the first edge give the first edge (the first bucket absorbs them,
// as bottom-coding would), so start the edges at the smallest value the
// field can hold. Edges must be finite and strictly increasing, at least
// one, and values the field's type can hold: whole numbers in its range for
// an integer type, within ±math.MaxFloat32 for float32 (else
// [ErrTypeMismatch]). NaN and infinities are rejected with [ErrNotFinite].
func BucketEdges(edges ...float64) Transform {
	return Transform{op: opEdges, edges: slices.Clone(edges)}
}

// AgeBand turns a birth date into an age band of the given width in whole
// years, the age taken at the time [Config.Now] returns when the record is
// minimized. time.Time values only; width ≥ 1.
//
// In a map record the result is the band's lower bound as an int (34 with
// width 10 gives 30). A struct field keeps its type: it gets the birth date
// of someone whose age at that time is exactly the lower bound (midnight of
// that date, in the birth date's location), so computing an age from the
// result at the same time gives the lower bound. A birth date after the
// time is rejected with [ErrOutOfRange].
func AgeBand(width int) Transform { return Transform{op: opAgeBand, n: width} }

// TimeUnit is a unit [Truncate] rounds down to.
type TimeUnit uint8

// Time units.
const (
	Hour  TimeUnit = iota + 1 // start of the hour
	Day                       // midnight
	Week                      // midnight of the Monday on or before (ISO 8601 weeks)
	Month                     // midnight of the first of the month
	Year                      // midnight of January 1
)

var unitNames = [...]string{Hour: "hour", Day: "day", Week: "week", Month: "month", Year: "year"}

// String returns the unit's name ("day").
func (u TimeUnit) String() string {
	if u >= Hour && u <= Year {
		return unitNames[u]
	}
	return "TimeUnit(" + strconv.Itoa(int(u)) + ")"
}

// Truncate rounds a time down to the start of its hour, day, ISO week
// (Monday), month or year, in the time's own location (so a day is the
// local day the time was recorded in). time.Time values only.
func Truncate(u TimeUnit) Transform { return Transform{op: opTruncate, unit: u} }

// TimePart is the part of a time [Part] keeps.
type TimePart uint8

// Time parts.
const (
	HourOfDay TimePart = iota + 1 // 0–23
	DayOfWeek                     // time.Sunday (0) to time.Saturday (6)
)

// String returns the part's name ("hour_of_day").
func (p TimePart) String() string {
	switch p {
	case HourOfDay:
		return "hour_of_day"
	case DayOfWeek:
		return "day_of_week"
	}
	return "TimePart(" + strconv.Itoa(int(p)) + ")"
}

// Part keeps only the hour of the day or the day of the week of a time, in
// the time's own location. time.Time values only.
//
// In a map record the result is an int (the hour 0–23, or the weekday with
// Sunday = 0 as in [time.Weekday]). A struct field keeps its type: it gets a
// time in UTC in the first week of year 1 (which starts on a Monday) that
// has the same hour or weekday and nothing else, so calling Hour or Weekday
// on the result gives the part.
func Part(p TimePart) Transform { return Transform{op: opPart, part: p} }

// GeoPrecision rounds a coordinate (latitude or longitude in degrees) to
// the given number of decimal places, half away from zero: 1 decimal is
// about 11 km, 2 about 1.1 km, 3 about 110 m. Floating-point values only;
// decimals 0–10. NaN and infinities are rejected with [ErrNotFinite].
func GeoPrecision(decimals int) Transform { return Transform{op: opGeo, n: decimals} }

// PostalPrefix keeps the first n characters (runes) of a postal code
// ("SW1A 1AA" with n = 3 gives "SW1"). Strings only; n ≥ 1.
func PostalPrefix(n int) Transform { return Transform{op: opPostal, n: n} }

// TopBottom codes the tails of a number: values above hi become hi and
// values below lo become lo (90 for every age above 90, for one). Use
// math.Inf(-1) for lo or math.Inf(1) for hi to leave that tail alone.
// lo ≤ hi, neither NaN, lo below +Inf and hi above -Inf ([NewPolicy]
// rejects the others: they would code every value to NaN or an infinity).
//
// Integer and floating-point values, with one rule for every type: the
// result is the value clamped to [lo, hi], in the value's type. For integer
// types the bounds must be whole numbers or infinities. A bound beyond the
// type's range leaves that tail alone (hi = 1000 codes no int8), so the
// same transform serves fields of every size; a coded tail wholly outside
// the range (lo above the type's largest value, hi below its smallest: lo
// = 300 for a uint8, hi = -1 for any unsigned type) would give every value
// a result the type cannot hold and is [ErrTypeMismatch] for that type.
// NaN and infinite values are rejected with [ErrNotFinite].
func TopBottom(lo, hi float64) Transform { return Transform{op: opTopBottom, lo: lo, hi: hi} }

// Pseudonymize replaces a string with a keyed pseudonym: HMAC-SHA-256 of
// the value under a key derived from the [Keyring]'s current key and the
// policy's purpose, with the key id carried in the token (see
// [Pseudonymizer]). The same value gives the same token in every record and
// table for one key and purpose, and different tokens for different
// purposes. A token never equals or contains its input. Strings only.
//
// There is deliberately no unkeyed hash: a plain or publicly salted hash of
// an e-mail address or phone number is reversed by hashing every candidate
// (the known weakness of Presidio's "hash" operator); without the key, a
// token cannot be tested against a guess.
func Pseudonymize() Transform { return Transform{op: opPseudonymize} }

// outcome classifies the transform for reports.
func (t Transform) outcome() Outcome {
	switch t.op {
	case opDrop:
		return Dropped
	case opKeep:
		return Kept
	}
	return Transformed
}

// String describes the transform: "drop", "keep", "mask(2,3)",
// "bucket(10)", "edges(0,18,65)", "age_band(10)", "truncate(day)",
// "part(hour_of_day)", "geo(2)", "postal_prefix(3)", "top_bottom(0,90)",
// "pseudonymize", "redact".
func (t Transform) String() string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	switch t.op {
	case opDrop:
		return "drop"
	case opKeep:
		return "keep"
	case opRedact:
		return "redact"
	case opMask:
		return "mask(" + strconv.Itoa(t.n) + "," + strconv.Itoa(t.m) + ")"
	case opBucket:
		return "bucket(" + f(t.width) + ")"
	case opEdges:
		parts := make([]string, len(t.edges))
		for i, e := range t.edges {
			parts[i] = f(e)
		}
		return "edges(" + strings.Join(parts, ",") + ")"
	case opAgeBand:
		return "age_band(" + strconv.Itoa(t.n) + ")"
	case opTruncate:
		return "truncate(" + t.unit.String() + ")"
	case opPart:
		return "part(" + t.part.String() + ")"
	case opGeo:
		return "geo(" + strconv.Itoa(t.n) + ")"
	case opPostal:
		return "postal_prefix(" + strconv.Itoa(t.n) + ")"
	case opTopBottom:
		return "top_bottom(" + f(t.lo) + "," + f(t.hi) + ")"
	case opPseudonymize:
		return "pseudonymize"
	}
	return "invalid"
}

// maxGeoDecimals bounds GeoPrecision.
const maxGeoDecimals = 10

// validate checks the parameters; the message says what is wrong.
func (t Transform) validate() string {
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch t.op {
	case opDrop, opKeep, opRedact, opPseudonymize:
	case opMask:
		if t.n < 0 || t.m < 0 {
			return "mask lengths must be ≥ 0"
		}
	case opBucket:
		if !finite(t.width) || t.width <= 0 {
			return "bucket width must be finite and > 0"
		}
	case opEdges:
		if len(t.edges) == 0 {
			return "bucket edges: need at least one"
		}
		for i, e := range t.edges {
			if !finite(e) {
				return "bucket edges must be finite"
			}
			if i > 0 && e <= t.edges[i-1] {
				return "bucket edges must be strictly increasing"
			}
		}
	case opAgeBand:
		if t.n < 1 {
			return "age band width must be ≥ 1"
		}
	case opTruncate:
		if t.unit < Hour || t.unit > Year {
			return "unknown time unit"
		}
	case opPart:
		if t.part != HourOfDay && t.part != DayOfWeek {
			return "unknown time part"
		}
	case opGeo:
		if t.n < 0 || t.n > maxGeoDecimals {
			return "geo precision must be 0–10 decimals"
		}
	case opPostal:
		if t.n < 1 {
			return "postal prefix length must be ≥ 1"
		}
	case opTopBottom:
		if math.IsNaN(t.lo) || math.IsNaN(t.hi) || t.lo > t.hi {
			return "top/bottom coding needs lo ≤ hi, neither NaN"
		}
		if math.IsInf(t.lo, 1) || math.IsInf(t.hi, -1) {
			return "top/bottom coding to an infinity: lo must be below +Inf, hi above -Inf"
		}
	default:
		return "unknown transform"
	}
	return ""
}
