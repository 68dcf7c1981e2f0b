package minimize_test

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/minimize"
)

func TestNewSchemaRejects(t *testing.T) {
	tests := []struct {
		name   string
		fields map[string]consent.Category
		field  string
		reason string
	}{
		{"empty key", map[string]consent.Category{"": "user"}, "", "a key names a field"},
		{"bad category", map[string]consent.Category{"email": "user.Email"}, "email", "categories are validated"},
		{"empty category", map[string]consent.Category{"email": ""}, "email", "a schema entry has a category"},
		{"bad utf8", map[string]consent.Category{"a\xff": "user"}, "a\xff", "keys are text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := minimize.NewSchema(tt.fields)
			require.ErrorIs(t, err, minimize.ErrSchema, tt.reason)
			var fe *minimize.FieldError
			require.True(t, errors.As(err, &fe))
			assert.Equal(t, tt.field, fe.Field, "names the key")
		})
	}
	s := mustSchema(t, map[string]consent.Category{"b": "user", "a": "user.contact"})
	assert.Equal(t, []string{"a", "b"}, s.Keys())
	c, ok := s.Category("a")
	assert.True(t, ok)
	assert.Equal(t, consent.CategoryContact, c)
}

func TestMapRecords(t *testing.T) {
	m := benchMinimizer(t)
	s := benchSchema(t)
	in := benchMapInput()
	in["unknown"] = "dropped: not in schema nor a field rule"
	in["gender"] = nil
	snapshot := benchMapInput()
	snapshot["unknown"] = in["unknown"]
	snapshot["gender"] = nil

	out, rep, err := m.MapReport(s, in)
	require.NoError(t, err)
	assert.Equal(t, snapshot, in, "the input is not modified")
	assert.ElementsMatch(t, []string{"customer_id", "device_id", "placed_at", "total", "lat", "SKU", "qty", "channel", "gender", "feedback"}, keys(out))
	assert.Nil(t, out["gender"], "nil passes as nil")
	assert.Equal(t, 50.0, out["total"])
	assert.Equal(t, 2, out["qty"], "ints stay ints")
	assert.True(t, m.Pseudonymizer().Match(out["customer_id"].(string), "C-000104217"))
	require.Len(t, rep.Fields, len(in), "every key of the record is reported")
	for i := 1; i < len(rep.Fields); i++ {
		assert.Less(t, rep.Fields[i-1].Field, rep.Fields[i].Field, "sorted")
	}
	assert.Equal(t, len(in)-10, rep.Count(minimize.Dropped))

	_, err = m.Map(s, nil)
	assert.ErrorIs(t, err, minimize.ErrNilRecord)
	_, err = m.Map(nil, in)
	assert.ErrorIs(t, err, minimize.ErrNoMinimizer)
}

func TestMapErrors(t *testing.T) {
	m := benchMinimizer(t)
	s := benchSchema(t)
	tests := []struct {
		name   string
		key    string
		value  any
		want   error
		reason string
	}{
		{"number as id", "customer_id", 1042, minimize.ErrTypeMismatch, "pseudonyms need strings"},
		{"string total", "total", "73.40", minimize.ErrTypeMismatch, "no number parsing"},
		{"NaN total", "total", math.NaN(), minimize.ErrNotFinite, "NaN has no bucket"},
		{"Inf lat", "lat", math.Inf(-1), minimize.ErrNotFinite, "Inf has no coordinate"},
		{"string time", "placed_at", "2025-05-30", minimize.ErrTypeMismatch, "times are time.Time"},
		{"nested map kept", "channel", map[string]any{"a": 1}, minimize.ErrTypeMismatch, "nested values are not copied"},
		{"slice kept", "SKU", []any{"a"}, minimize.ErrTypeMismatch, "nested values are not copied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := benchMapInput()
			in[tt.key] = tt.value
			out, err := m.Map(s, in)
			require.ErrorIs(t, err, tt.want, tt.reason)
			assert.Nil(t, out, "nothing partial")
			var fe *minimize.FieldError
			require.True(t, errors.As(err, &fe))
			assert.Equal(t, tt.key, fe.Field)
		})
	}
	in := benchMapInput()
	in["note"] = []any{"dropped keys are never looked at"}
	_, err := m.Map(s, in)
	assert.NoError(t, err, "a dropped key may hold anything")
}

func TestMapBatch(t *testing.T) {
	m := benchMinimizer(t)
	s := benchSchema(t)
	bad := benchMapInput()
	bad["total"] = "x"
	recs := []map[string]any{benchMapInput(), bad, nil, {"qty": 1, "extra": true}}
	deny := minimize.AllowFunc(func(c consent.Category) bool { return c != consent.CategoryBehaviorSession })
	out, tally, err := m.Narrow(deny).MapBatch(s, recs)
	var be *minimize.BatchError
	require.True(t, errors.As(err, &be))
	require.Len(t, be.Failed, 2)
	assert.Equal(t, 1, be.Failed[0].Index)
	assert.Equal(t, 2, be.Failed[1].Index)
	assert.ErrorIs(t, err, minimize.ErrTypeMismatch)
	assert.ErrorIs(t, err, minimize.ErrNilRecord)
	require.Len(t, out, 4)
	assert.Nil(t, out[1])
	assert.Nil(t, out[2])
	assert.Empty(t, out[3], "qty denied by consent, extra not in the schema")
	assert.Equal(t, 2, tally.Records)
	assert.Equal(t, 2, tally.Failed)
	var qty minimize.FieldTally
	for _, f := range tally.Fields {
		if f.Field == "qty" {
			qty = f
		}
	}
	assert.Equal(t, 2, qty.Dropped)
	assert.Equal(t, 2, qty.NoConsent)
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
