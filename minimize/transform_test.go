package minimize_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/minimize"
)

var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// applyMap runs one transform over one map value under key "v".
func applyMap(t *testing.T, tr minimize.Transform, v any) (any, bool, error) {
	t.Helper()
	p, err := minimize.NewPolicy(consent.PurposeAnalyticsAggregate, minimize.ForField("v", tr))
	require.NoError(t, err)
	kr, err := minimize.NewKeyring(minimize.Key{ID: "k1", Secret: benchSecret()})
	require.NoError(t, err)
	m, err := minimize.New(p, minimize.Config{Keyring: kr, Now: func() time.Time { return testNow }})
	require.NoError(t, err)
	s, err := minimize.NewSchema(nil)
	require.NoError(t, err)
	out, err := m.Map(s, map[string]any{"v": v})
	if err != nil {
		return nil, false, err
	}
	got, ok := out["v"]
	return got, ok, nil
}

func TestTransformsOnMapValues(t *testing.T) {
	at := time.Date(2025, 5, 29, 18, 41, 7, 5, time.UTC) // a Thursday
	lisbon := time.FixedZone("WEST", 3600)
	tests := []struct {
		name   string
		tr     minimize.Transform
		in     any
		want   any
		reason string
	}{
		{"keep string", minimize.Keep(), "x", "x", "keep passes the value"},
		{"keep nil", minimize.Keep(), nil, nil, "nil passes every rule that keeps the key"},
		{"keep NaN", minimize.Keep(), math.NaN(), "NaN", "keep does not compute, so NaN passes"},
		{"redact", minimize.Redact(), "secret", minimize.Redacted, "fixed marker"},
		{"redact empty", minimize.Redact(), "", "", "no value stays no value"},
		{"mask middle", minimize.Mask(2, 2), "abcdefgh", "ab****gh", "ends kept, middle starred per character"},
		{"mask runes", minimize.Mask(1, 1), "żółwik", "ż****k", "characters, not bytes"},
		{"mask short", minimize.Mask(2, 2), "abcd", "****", "keeping both ends would keep everything"},
		{"mask zero", minimize.Mask(0, 0), "abc", "***", "mask all"},
		{"postal", minimize.PostalPrefix(3), "SW1A 1AA", "SW1", "first n characters"},
		{"postal short", minimize.PostalPrefix(5), "123", "123", "shorter codes pass whole"},
		{"postal runes", minimize.PostalPrefix(2), "ÅÄÖ", "ÅÄ", "characters, not bytes"},
		{"bucket int", minimize.Bucket(10), 37, 30, "lower bound, same type"},
		{"bucket negative int", minimize.Bucket(10), -3, -10, "floor, not truncation"},
		{"bucket int64", minimize.Bucket(5), int64(-5), int64(-5), "exact bound stays"},
		{"bucket uint8", minimize.Bucket(100), uint8(255), uint8(200), "unsigned"},
		{"bucket float", minimize.Bucket(0.5), 1.74, 1.5, "float widths"},
		{"bucket negative float", minimize.Bucket(10), -0.5, -10.0, "floor"},
		{"bucket float32", minimize.Bucket(2), float32(3.5), float32(2), "keeps float32"},
		{"edges middle", minimize.BucketEdges(0, 18, 25, 35, 50), 30, 25, "largest edge not above"},
		{"edges exact", minimize.BucketEdges(0, 18, 25), 18, 18, "an edge is its own bucket"},
		{"edges top", minimize.BucketEdges(0, 18, 25), 99, 25, "last bucket is open"},
		{"edges below", minimize.BucketEdges(18, 25), 3, 18, "below the first edge: first edge"},
		{"edges float", minimize.BucketEdges(0, 0.5, 1), 0.7, 0.5, "float edges"},
		{"edges uint", minimize.BucketEdges(0, 10, 100), uint(55), uint(10), "unsigned"},
		{"top code", minimize.TopBottom(0, 90), 97, 90, "above hi becomes hi"},
		{"bottom code", minimize.TopBottom(18, math.Inf(1)), 12, 18, "below lo becomes lo"},
		{"within", minimize.TopBottom(18, 90), 40, 40, "inside passes"},
		{"top code float", minimize.TopBottom(0, 1e6), 2.5e6, 1e6, "floats"},
		{"top code uint", minimize.TopBottom(-5, 10), uint16(11), uint16(10), "negative lo is no bound for unsigned"},
		{"geo 2", minimize.GeoPrecision(2), 38.722252, 38.72, "two decimals"},
		{"geo 0", minimize.GeoPrecision(0), -9.5, -10.0, "half away from zero"},
		{"geo huge", minimize.GeoPrecision(3), 1e300, 1e300, "already coarser than the precision"},
		{"truncate hour", minimize.Truncate(minimize.Hour), at, time.Date(2025, 5, 29, 18, 0, 0, 0, time.UTC), "start of hour"},
		{"truncate day", minimize.Truncate(minimize.Day), at, time.Date(2025, 5, 29, 0, 0, 0, 0, time.UTC), "midnight"},
		{"truncate week", minimize.Truncate(minimize.Week), at, time.Date(2025, 5, 26, 0, 0, 0, 0, time.UTC), "Monday"},
		{"truncate week sunday", minimize.Truncate(minimize.Week), time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC), time.Date(2025, 5, 26, 0, 0, 0, 0, time.UTC), "Sunday belongs to the week before (ISO)"},
		{"truncate month", minimize.Truncate(minimize.Month), at, time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC), "first of month"},
		{"truncate year", minimize.Truncate(minimize.Year), at, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), "January 1"},
		{"truncate local day", minimize.Truncate(minimize.Day), time.Date(2025, 5, 30, 0, 30, 0, 0, lisbon), time.Date(2025, 5, 30, 0, 0, 0, 0, lisbon), "the local day, not the UTC one"},
		{"truncate zero", minimize.Truncate(minimize.Day), time.Time{}, time.Time{}, "zero time is no value"},
		{"hour of day", minimize.Part(minimize.HourOfDay), at, 18, "int in maps"},
		{"day of week", minimize.Part(minimize.DayOfWeek), at, int(time.Thursday), "Sunday = 0"},
		{"age band", minimize.AgeBand(10), time.Date(1988, 9, 14, 0, 0, 0, 0, time.UTC), 30, "36 in band 30"},
		{"age band birthday today", minimize.AgeBand(5), time.Date(2005, 6, 1, 0, 0, 0, 0, time.UTC), 20, "20 today"},
		{"age band day before", minimize.AgeBand(5), time.Date(2005, 6, 2, 0, 0, 0, 0, time.UTC), 15, "still 19"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := applyMap(t, tt.tr, tt.in)
			require.NoError(t, err, tt.reason)
			require.True(t, ok, tt.reason)
			if s, isStr := tt.want.(string); isStr && s == "NaN" {
				assert.True(t, math.IsNaN(got.(float64)), tt.reason)
				return
			}
			assert.Equal(t, tt.want, got, tt.reason)
		})
	}
}

func TestTransformsLeaveMissingTimesOut(t *testing.T) {
	for _, tr := range []minimize.Transform{minimize.Part(minimize.HourOfDay), minimize.AgeBand(10)} {
		_, ok, err := applyMap(t, tr, time.Time{})
		require.NoError(t, err)
		assert.False(t, ok, "%s of the zero time leaves the key out: there is no value", tr)
	}
}

func TestTransformErrorsOnMapValues(t *testing.T) {
	tests := []struct {
		name   string
		tr     minimize.Transform
		in     any
		want   error
		reason string
	}{
		{"NaN bucket", minimize.Bucket(10), math.NaN(), minimize.ErrNotFinite, "NaN has no bucket"},
		{"Inf geo", minimize.GeoPrecision(2), math.Inf(1), minimize.ErrNotFinite, "Inf has no coordinate"},
		{"NaN float32 edges", minimize.BucketEdges(0, 1), float32(math.NaN()), minimize.ErrNotFinite, "float32 NaN too"},
		{"NaN top code", minimize.TopBottom(0, 1), math.NaN(), minimize.ErrNotFinite, "NaN is not above or below"},
		{"int8 bucket underflow", minimize.Bucket(100), int8(-128), minimize.ErrOutOfRange, "-200 does not fit an int8"},
		{"int64 bucket overflow", minimize.Bucket(3), int64(math.MinInt64), minimize.ErrOutOfRange, "the floor is below MinInt64"},
		{"birth in future", minimize.AgeBand(10), testNow.AddDate(1, 0, 0), minimize.ErrOutOfRange, "no age yet"},
		{"mask int", minimize.Mask(1, 1), 42, minimize.ErrTypeMismatch, "mask needs a string"},
		{"pseudonym number", minimize.Pseudonymize(), 1042, minimize.ErrTypeMismatch, "pseudonyms need strings"},
		{"bucket string", minimize.Bucket(10), "37", minimize.ErrTypeMismatch, "no parsing of numbers in strings"},
		{"geo int", minimize.GeoPrecision(2), 38, minimize.ErrTypeMismatch, "coordinates are floats"},
		{"truncate string", minimize.Truncate(minimize.Day), "2025-05-30", minimize.ErrTypeMismatch, "times are time.Time"},
		{"fractional width int", minimize.Bucket(2.5), 7, minimize.ErrTypeMismatch, "integer buckets need whole widths"},
		{"negative edges uint", minimize.BucketEdges(-10, 10), uint(3), minimize.ErrTypeMismatch, "unsigned values cannot take negative edges"},
		{"keep slice", minimize.Keep(), []string{"a"}, minimize.ErrTypeMismatch, "nested values would be shared with the input"},
		{"keep map", minimize.Keep(), map[string]any{}, minimize.ErrTypeMismatch, "flat records only"},
		{"keep struct", minimize.Keep(), struct{}{}, minimize.ErrTypeMismatch, "unsupported value type"},
		{"bool bucket", minimize.Bucket(1), true, minimize.ErrTypeMismatch, "bools are not numbers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := applyMap(t, tt.tr, tt.in)
			require.ErrorIs(t, err, tt.want, tt.reason)
			var fe *minimize.FieldError
			require.True(t, errors.As(err, &fe), "a FieldError names the key")
			assert.Equal(t, "v", fe.Field)
			assert.NotContains(t, err.Error(), "37", "errors never carry the value")
		})
	}
}

func TestStructFieldsKeepTheirType(t *testing.T) {
	type rec struct {
		Birth   time.Time  `tact:"user.demographic.birth_date"`
		Leap    time.Time  `tact:"user.demographic.age"`
		At      time.Time  `tact:"user.behavior.session"`
		Weekday *time.Time `tact:"user.behavior.search"`
		Score   int8       `tact:"user.preference.feedback"`
		Lat     float32    `tact:"user.location.approximate"`
	}
	p, err := minimize.NewPolicy(consent.PurposeAnalytics,
		minimize.ForCategory(consent.CategoryDemographicBirthDate, minimize.AgeBand(10)),
		minimize.ForCategory(consent.CategoryDemographicAge, minimize.AgeBand(1)),
		minimize.ForCategory(consent.CategoryBehaviorSession, minimize.Part(minimize.HourOfDay)),
		minimize.ForCategory(consent.CategoryBehaviorSearch, minimize.Part(minimize.DayOfWeek)),
		minimize.ForCategory(consent.CategoryPreferenceFeedback, minimize.TopBottom(-1, 1)),
		minimize.ForCategory(consent.CategoryLocationApp, minimize.GeoPrecision(1)),
	)
	require.NoError(t, err)
	leapNow := time.Date(2024, 2, 29, 15, 0, 0, 0, time.UTC)
	m, err := minimize.New(p, minimize.Config{Now: func() time.Time { return leapNow }})
	require.NoError(t, err)
	sunday := time.Date(2025, 6, 1, 21, 5, 0, 0, time.UTC)
	in := rec{
		Birth:   time.Date(1988, 9, 14, 0, 0, 0, 0, time.UTC),
		Leap:    time.Date(1994, 2, 28, 0, 0, 0, 0, time.UTC),
		At:      time.Date(2025, 5, 29, 18, 41, 7, 0, time.UTC),
		Weekday: &sunday,
		Score:   -7,
		Lat:     38.7222,
	}
	out, err := minimize.Struct(m, in)
	require.NoError(t, err)
	ageAt := func(b time.Time) int {
		a := leapNow.Year() - b.Year()
		if leapNow.YearDay() < b.YearDay() {
			a--
		}
		return a
	}
	assert.Equal(t, 30, ageAt(out.Birth), "age at Now of the generalized birth date is the band's lower bound")
	assert.Equal(t, time.Date(1994, 2, 28, 0, 0, 0, 0, time.UTC), out.Leap, "29 February in a common year becomes the 28th, so the age is still exact")
	assert.Equal(t, 18, out.At.Hour(), "Hour() gives the part")
	assert.Equal(t, time.Date(1, 1, 1, 18, 0, 0, 0, time.UTC), out.At, "and nothing else is left")
	assert.Equal(t, time.Sunday, out.Weekday.Weekday(), "Weekday() gives the part")
	assert.Equal(t, 1, out.Weekday.Year(), "in the first week of year 1")
	assert.Equal(t, int8(-1), out.Score, "bottom-coded in its own type")
	assert.InDelta(t, 38.7, out.Lat, 1e-5, "rounded in float32")
	assert.Equal(t, time.Monday, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Weekday(), "the epoch week starts on Monday")
}

func TestTransformString(t *testing.T) {
	assert.Equal(t, "drop", minimize.Transform{}.String(), "the zero Transform is Drop")
	assert.Equal(t, "edges(0,18,65)", minimize.BucketEdges(0, 18, 65).String())
	assert.Equal(t, "top_bottom(-Inf,90)", minimize.TopBottom(math.Inf(-1), 90).String())
	assert.Equal(t, "part(day_of_week)", minimize.Part(minimize.DayOfWeek).String())
	edges := []float64{0, 10}
	tr := minimize.BucketEdges(edges...)
	edges[1] = -1
	assert.Equal(t, "edges(0,10)", tr.String(), "BucketEdges copies its argument")
}
