package minimize_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/minimize"
)

func TestNewPolicyRejects(t *testing.T) {
	tests := []struct {
		name    string
		purpose consent.Purpose
		rules   []minimize.Rule
		want    error
		index   int
		reason  string
	}{
		{"bad purpose", "Marketing", nil, minimize.ErrInvalidPolicy, -1, "purposes are validated"},
		{"empty purpose", "", nil, minimize.ErrInvalidPolicy, -1, "a policy is for a purpose"},
		{"no target", "analytics", []minimize.Rule{{Transform: minimize.Keep()}}, minimize.ErrInvalidPolicy, 0, "a rule names something"},
		{"both targets", "analytics", []minimize.Rule{{Category: "user", Field: "x"}}, minimize.ErrInvalidPolicy, 0, "one or the other"},
		{"bad category", "analytics", []minimize.Rule{minimize.ForCategory("user..email", minimize.Keep())}, minimize.ErrInvalidPolicy, 0, "keys are validated"},
		{"control field", "analytics", []minimize.Rule{minimize.ForField("a\nb", minimize.Keep())}, minimize.ErrInvalidPolicy, 0, "field names are printable"},
		{"long field", "analytics", []minimize.Rule{minimize.ForField(strings.Repeat("a", 257), minimize.Keep())}, minimize.ErrInvalidPolicy, 0, "field names are bounded"},
		{"dup category", "analytics", []minimize.Rule{minimize.ForCategory("user", minimize.Keep()), minimize.ForCategory("user", minimize.Drop())}, minimize.ErrDuplicateRule, 1, "one rule per category"},
		{"dup field", "analytics", []minimize.Rule{minimize.ForField("x", minimize.Keep()), minimize.ForField("x", minimize.Keep())}, minimize.ErrDuplicateRule, 1, "one rule per field"},
		{"mask negative", "analytics", []minimize.Rule{minimize.ForField("x", minimize.Mask(-1, 2))}, minimize.ErrInvalidPolicy, 0, "lengths ≥ 0"},
		{"bucket zero", "analytics", []minimize.Rule{minimize.ForField("x", minimize.Bucket(0))}, minimize.ErrInvalidPolicy, 0, "width > 0"},
		{"bucket NaN", "analytics", []minimize.Rule{minimize.ForField("x", minimize.Bucket(math.NaN()))}, minimize.ErrInvalidPolicy, 0, "width finite"},
		{"bucket Inf", "analytics", []minimize.Rule{minimize.ForField("x", minimize.Bucket(math.Inf(1)))}, minimize.ErrInvalidPolicy, 0, "width finite"},
		{"edges none", "analytics", []minimize.Rule{minimize.ForField("x", minimize.BucketEdges())}, minimize.ErrInvalidPolicy, 0, "at least one edge"},
		{"edges unsorted", "analytics", []minimize.Rule{minimize.ForField("x", minimize.BucketEdges(1, 1))}, minimize.ErrInvalidPolicy, 0, "strictly increasing"},
		{"edges NaN", "analytics", []minimize.Rule{minimize.ForField("x", minimize.BucketEdges(0, math.NaN()))}, minimize.ErrInvalidPolicy, 0, "finite edges"},
		{"age band 0", "analytics", []minimize.Rule{minimize.ForField("x", minimize.AgeBand(0))}, minimize.ErrInvalidPolicy, 0, "width ≥ 1"},
		{"unit", "analytics", []minimize.Rule{minimize.ForField("x", minimize.Truncate(0))}, minimize.ErrInvalidPolicy, 0, "known units"},
		{"part", "analytics", []minimize.Rule{minimize.ForField("x", minimize.Part(9))}, minimize.ErrInvalidPolicy, 0, "known parts"},
		{"geo", "analytics", []minimize.Rule{minimize.ForField("x", minimize.GeoPrecision(11))}, minimize.ErrInvalidPolicy, 0, "0–10 decimals"},
		{"postal", "analytics", []minimize.Rule{minimize.ForField("x", minimize.PostalPrefix(0))}, minimize.ErrInvalidPolicy, 0, "n ≥ 1"},
		{"top bottom", "analytics", []minimize.Rule{minimize.ForField("x", minimize.TopBottom(5, 1))}, minimize.ErrInvalidPolicy, 0, "lo ≤ hi"},
		{"top bottom NaN", "analytics", []minimize.Rule{minimize.ForField("x", minimize.TopBottom(math.NaN(), 1))}, minimize.ErrInvalidPolicy, 0, "no NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := minimize.NewPolicy(tt.purpose, tt.rules...)
			require.ErrorIs(t, err, tt.want, tt.reason)
			assert.Nil(t, p)
			var re *minimize.RuleError
			require.True(t, errors.As(err, &re))
			assert.Equal(t, tt.index, re.Index, "the error says which rule")
		})
	}
	_, err := minimize.NewPolicy("analytics", minimize.ForCategory("User", minimize.Keep()))
	var ke *consent.KeyError
	assert.True(t, errors.As(err, &ke), "the consent key error is reachable through Unwrap")
}

func TestPolicyDecide(t *testing.T) {
	p, err := minimize.NewPolicy(consent.PurposeMarketingEmail,
		minimize.ForCategory(consent.CategoryContact, minimize.Keep()),
		minimize.ForCategory(consent.CategoryContactPhone, minimize.Drop()),
		minimize.ForCategory(consent.CategoryContactEmail, minimize.Mask(1, 3)),
		minimize.ForField("Backup", minimize.Redact()),
		minimize.ForCategory(consent.CategoryLocation, minimize.Keep()),
		minimize.ForCategory(consent.CategoryUser, minimize.Drop()),
		minimize.ForCategory(consent.CategoryHealth, minimize.Redact()),
		minimize.ForField("Diag", minimize.Keep()),
	)
	require.NoError(t, err)
	tests := []struct {
		name, field string
		cat         consent.Category
		want        string // rule string, "" for none
		reason      string
	}{
		{"exact category", "", consent.CategoryContactEmail, `category "user.contact.email" mask(1,3)`, "a rule for the category itself"},
		{"parent", "", consent.CategoryContactAddress, `category "user.contact" keep`, "inherits from the parent"},
		{"grandchild", "", "user.contact.email.work", `category "user.contact.email" mask(1,3)`, "nearest ancestor with a rule"},
		{"child drop", "", consent.CategoryContactPhone, `category "user.contact.phone" drop`, "a child rule can drop within a kept parent"},
		{"field wins", "Backup", consent.CategoryContactEmail, `field "Backup" redact`, "field rules win over categories"},
		{"unrelated", "", consent.CategoryBehavior, `category "user" drop`, "the root rule"},
		{"parent of rule", "", "other", "", "rules do not apply upwards or sideways"},
		{"untagged", "Other", "", "", "no category, no field rule"},
		{"sensitive not inherited", "", consent.CategoryLocationPrecise, "", "user.location keep must not pass precise location"},
		{"sensitive named", "", "user.health.diagnosis", `category "user.health" redact`, "a sensitive ancestor's rule applies"},
		{"sensitive by field", "Diag", "user.health.diagnosis", `field "Diag" keep`, "field rules name fields explicitly"},
		{"sensitive under user", "", consent.CategoryGovernmentID, "", "the root rule does not reach sensitive data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := p.Decide(tt.field, tt.cat)
			if tt.want == "" {
				assert.False(t, ok, tt.reason)
				return
			}
			require.True(t, ok, tt.reason)
			assert.Equal(t, tt.want, r.String(), tt.reason)
		})
	}
	assert.Len(t, p.Rules(), 8)
	assert.Equal(t, consent.PurposeMarketingEmail, p.Purpose())
}

func TestNewNeedsKeyringToPseudonymize(t *testing.T) {
	p, err := minimize.NewPolicy("analytics", minimize.ForField("id", minimize.Pseudonymize()))
	require.NoError(t, err)
	_, err = minimize.New(p, minimize.Config{})
	assert.ErrorIs(t, err, minimize.ErrNoKeyring, "no key, no pseudonyms")
	_, err = minimize.New(p, minimize.Config{Keyring: &minimize.Keyring{}})
	assert.ErrorIs(t, err, minimize.ErrNoKeyring, "the zero keyring holds no key")
	_, err = minimize.New(nil, minimize.Config{})
	assert.ErrorIs(t, err, minimize.ErrInvalidPolicy, "nil policy")
	_, err = minimize.New(&minimize.Policy{}, minimize.Config{})
	assert.ErrorIs(t, err, minimize.ErrInvalidPolicy, "zero policy")
}

func TestZeroMinimizerErrors(t *testing.T) {
	var m *minimize.Minimizer
	_, err := minimize.Struct(m, benchInput())
	assert.ErrorIs(t, err, minimize.ErrNoMinimizer)
	_, err = minimize.Struct(&minimize.Minimizer{}, benchInput())
	assert.ErrorIs(t, err, minimize.ErrNoMinimizer)
	_, err = m.Map(nil, map[string]any{})
	assert.ErrorIs(t, err, minimize.ErrNoMinimizer)
	_, _, err = minimize.StructBatch(m, []benchRec{{}})
	assert.ErrorIs(t, err, minimize.ErrNoMinimizer)
	_, err = minimize.Explain[benchRec](m)
	assert.ErrorIs(t, err, minimize.ErrNoMinimizer)
	assert.Equal(t, consent.Purpose(""), m.Purpose())
	assert.Nil(t, m.Narrow(minimize.AllowFunc(func(consent.Category) bool { return true })))
}
