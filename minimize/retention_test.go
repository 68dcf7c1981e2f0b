package minimize_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/minimize"
)

const day = 24 * time.Hour

func TestNewRetentionRejects(t *testing.T) {
	_, err := minimize.NewRetention("Bad", nil)
	assert.ErrorIs(t, err, minimize.ErrInvalidRetention)
	_, err = minimize.NewRetention("analytics", map[consent.Category]time.Duration{"user..x": day})
	assert.ErrorIs(t, err, minimize.ErrInvalidRetention)
	_, err = minimize.NewRetention("analytics", map[consent.Category]time.Duration{"user": -day})
	assert.ErrorIs(t, err, minimize.ErrInvalidRetention)
}

func TestRetentionPast(t *testing.T) {
	r, err := minimize.NewRetention("analytics", map[consent.Category]time.Duration{
		consent.CategoryUser:         365 * day,
		consent.CategoryContact:      30 * day,
		consent.CategoryContactEmail: 0,
	})
	require.NoError(t, err)
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		cat       consent.Category
		collected time.Time
		want      bool
		reason    string
	}{
		{"young", consent.CategoryContactPhone, now.Add(-29 * day), false, "within 30 days"},
		{"exact", consent.CategoryContactPhone, now.Add(-30 * day), false, "as old as allowed is still allowed"},
		{"old", consent.CategoryContactPhone, now.Add(-30*day - time.Nanosecond), true, "a nanosecond over"},
		{"inherits root", consent.CategoryBehavior, now.Add(-300 * day), false, "user covers behavior"},
		{"zero duration", consent.CategoryContactEmail, now.Add(-time.Nanosecond), true, "not beyond collection"},
		{"zero duration now", consent.CategoryContactEmail, now, false, "at the moment of collection"},
		{"unnamed", "device.id", now, true, "not in the schedule: not retained"},
		{"future", consent.CategoryContactPhone, now.Add(day), false, "not yet collected is not past"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, r.Past(tt.cat, tt.collected, now), tt.name+": "+tt.reason)
	}
	d, ok := r.MaxAge("user.contact.address.line1")
	assert.True(t, ok)
	assert.Equal(t, 30*day, d, "nearest ancestor")
	var nilR *minimize.Retention
	assert.True(t, nilR.Past(consent.CategoryUser, now, now), "no schedule, nothing retained")
}

func TestSweepStructs(t *testing.T) {
	type Item struct {
		SKU  string
		Note string `tact:"user.preference.declared"`
	}
	type Rec struct {
		At    time.Time
		Email *string `tact:"user.contact.email"`
		Items []Item
		Tags  map[string]string // cannot be copied: zeroed in trims
	}
	r, err := minimize.NewRetention("analytics", map[consent.Category]time.Duration{
		consent.CategoryContact:    10 * day,
		consent.CategoryPreference: 100 * day,
	})
	require.NoError(t, err)
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	email := "a@x"
	recs := []*Rec{
		{At: now.Add(-1 * day), Email: &email, Items: []Item{{"A", "n1"}}},
		{At: now.Add(-50 * day), Email: &email, Items: []Item{{"B", "n2"}}, Tags: map[string]string{"k": "v"}},
		{At: now.Add(-500 * day), Email: &email, Items: []Item{{"C", "n3"}}},
	}
	s, err := minimize.Sweep(r, recs, func(x *Rec) time.Time { return x.At }, now)
	require.NoError(t, err)
	require.Len(t, s.Keep, 1)
	require.Len(t, s.Trim, 1)
	require.Len(t, s.Purge, 1)
	assert.Same(t, recs[0], s.Keep[0], "kept records are the originals")
	assert.Same(t, recs[2], s.Purge[0], "purged records are the originals, to find and delete")
	tr := s.Trim[0]
	assert.NotSame(t, recs[1], tr, "trimmed records are copies")
	assert.Nil(t, tr.Email, "contact expired")
	assert.Equal(t, []Item{{"B", "n2"}}, tr.Items, "untagged and live fields stay")
	assert.Equal(t, recs[1].At, tr.At)
	assert.Nil(t, tr.Tags)
	assert.Equal(t, "a@x", *recs[1].Email, "the original is untouched")

	type Plain struct{ ID int }
	ps, err := minimize.Sweep(r, []Plain{{1}}, func(Plain) time.Time { return time.Time{} }, now)
	require.NoError(t, err)
	assert.Len(t, ps.Keep, 1, "no personal data, nothing to expire")

	type Bad struct {
		M map[string]int `tact:"user.contact"`
	}
	_, err = minimize.Sweep(r, []Bad{{}}, func(Bad) time.Time { return now }, now)
	assert.ErrorIs(t, err, minimize.ErrUnsupported)
	_, err = minimize.Sweep[Plain](nil, nil, nil, now)
	assert.ErrorIs(t, err, minimize.ErrNoMinimizer)
}

func TestSweepMaps(t *testing.T) {
	r, err := minimize.NewRetention("analytics", map[consent.Category]time.Duration{
		consent.CategoryContact:  10 * day,
		consent.CategoryBehavior: 100 * day,
	})
	require.NoError(t, err)
	s := mustSchema(t, map[string]consent.Category{"email": consent.CategoryContactEmail, "viewed": consent.CategoryBehaviorBrowsingHistory})
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	recs := []map[string]any{
		{"at": now.Add(-day), "email": "a", "viewed": "x"},
		{"at": now.Add(-50 * day), "email": "b", "viewed": "y", "id": 2},
		{"at": now.Add(-500 * day), "email": "c", "viewed": "z"},
		{"at": now.Add(-500 * day), "id": 4},
	}
	sw, err := minimize.SweepMaps(r, s, recs, func(m map[string]any) time.Time { return m["at"].(time.Time) }, now)
	require.NoError(t, err)
	require.Len(t, sw.Keep, 2, "fresh, and one with no schema key")
	require.Len(t, sw.Trim, 1)
	require.Len(t, sw.Purge, 1)
	assert.Equal(t, map[string]any{"at": now.Add(-50 * day), "viewed": "y", "id": 2}, sw.Trim[0])
	assert.Equal(t, "b", recs[1]["email"], "the original is untouched")
}

// A trimmed copy leaves nil a pointer or slice of structs whose every
// field has expired, as if it had never been collected.
func TestSweepTrimLeavesExpiredContainersNil(t *testing.T) {
	type Contact struct {
		Email string `tact:"user.contact.email"`
		Phone string `tact:"user.contact.phone"`
	}
	type Rec struct {
		ID       string `tact:"user.unique_id"`
		Contact  *Contact
		Contacts []Contact
	}
	r, err := minimize.NewRetention("analytics", map[consent.Category]time.Duration{
		consent.CategoryUser:    365 * day,
		consent.CategoryContact: 10 * day,
	})
	require.NoError(t, err)
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	in := []Rec{{ID: "c1", Contact: &Contact{"a@x", "1"}, Contacts: []Contact{{"b@x", "2"}}}}
	s, err := minimize.Sweep(r, in, func(Rec) time.Time { return now.Add(-50 * day) }, now)
	require.NoError(t, err)
	require.Len(t, s.Trim, 1)
	assert.Equal(t, Rec{ID: "c1"}, s.Trim[0])
}
