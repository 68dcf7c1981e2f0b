package consent_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
)

func TestParsePurpose(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
		reason   string
	}{
		{"top", "marketing", true, "a single segment is a key"},
		{"nested", "personalize.history", true, "dotted keys are hierarchical"},
		{"digits underscore", "user.contact.email_2", true, "digits and underscores after the first letter"},
		{"empty", "", false, "an empty key names nothing"},
		{"upper", "Marketing", false, "keys are lower case so one purpose has one spelling"},
		{"leading dot", ".marketing", false, "empty first segment"},
		{"trailing dot", "marketing.", false, "empty last segment"},
		{"double dot", "marketing..email", false, "empty middle segment"},
		{"digit first", "2fa", false, "segments start with a letter"},
		{"underscore first", "user._x", false, "segments start with a letter"},
		{"space", "marketing email", false, "no spaces"},
		{"dash", "marketing-email", false, "no dashes"},
		{"unicode", "marketíng", false, "ASCII only"},
		{"too deep", "a.b.c.d.e.f.g.h.i", false, "at most MaxKeyDepth segments"},
		{"max depth", "a.b.c.d.e.f.g.h", true, "exactly MaxKeyDepth segments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := consent.ParsePurpose(tt.in)
			c, cerr := consent.ParseCategory(tt.in)
			if tt.ok {
				require.NoError(t, err, tt.reason)
				require.NoError(t, cerr, tt.reason)
				assert.Equal(t, tt.in, string(p))
				assert.Equal(t, tt.in, string(c))
				return
			}
			require.ErrorIs(t, err, consent.ErrMalformedKey, tt.reason)
			require.ErrorIs(t, cerr, consent.ErrMalformedKey, tt.reason)
			var ke *consent.KeyError
			require.True(t, errors.As(err, &ke))
			assert.Equal(t, "purpose", ke.Kind)
			assert.Equal(t, tt.in, ke.Key)
			assert.Empty(t, p)
		})
	}
}

func TestKeyTooLong(t *testing.T) {
	long := make([]byte, consent.MaxKeyLen+1)
	for i := range long {
		long[i] = 'a'
	}
	_, err := consent.ParseCategory(string(long))
	require.ErrorIs(t, err, consent.ErrMalformedKey)
	_, err = consent.ParseCategory(string(long[:consent.MaxKeyLen]))
	require.NoError(t, err)
}

func TestHierarchy(t *testing.T) {
	assert.Equal(t, consent.Purpose("marketing"), consent.PurposeMarketingEmail.Parent())
	assert.Equal(t, consent.Purpose(""), consent.PurposeMarketing.Parent())
	assert.Equal(t, consent.CategoryContact, consent.CategoryContactEmail.Parent())
	assert.True(t, consent.PurposeMarketing.Covers(consent.PurposeMarketingEmail))
	assert.True(t, consent.PurposeMarketingEmail.Covers(consent.PurposeMarketingEmail))
	assert.False(t, consent.PurposeMarketingEmail.Covers(consent.PurposeMarketing), "a child does not cover its parent")
	assert.False(t, consent.Purpose("market").Covers(consent.PurposeMarketing), "prefix of a segment is not an ancestor")
	assert.False(t, consent.Purpose("").Covers(consent.PurposeMarketing), "the empty key covers nothing")
	assert.Equal(t, 3, consent.CategoryContactEmail.Depth())
}

func TestTaxonomyKeysAreValid(t *testing.T) {
	for _, c := range consent.SensitiveCategories() {
		require.NoError(t, c.Validate())
		assert.True(t, c.Sensitive())
		assert.True(t, consent.Category(string(c)+".detail").Sensitive(), "descendants of %s are sensitive", c)
	}
	for _, c := range []consent.Category{consent.CategoryContactEmail, consent.CategoryBehaviorPurchaseHistory, consent.CategoryPreferenceDeclared, consent.CategoryLocationApp, consent.CategoryUser} {
		assert.False(t, c.Sensitive(), "%s", c)
	}
	s := consent.SensitiveCategories()
	s[0] = "user.contact"
	assert.False(t, consent.CategoryContact.Sensitive(), "SensitiveCategories returns a copy")
}

func TestEnumNamesRoundTrip(t *testing.T) {
	for a := consent.Grant; a <= consent.Withdraw; a++ {
		var back consent.Action
		require.NoError(t, back.UnmarshalText([]byte(a.String())))
		assert.Equal(t, a, back)
	}
	var a consent.Action
	require.ErrorIs(t, a.UnmarshalText([]byte("unknown")), consent.ErrInvalidEvent, "the zero action is never valid")
	for s := consent.SourceUser; s <= consent.SourceErasure; s++ {
		var back consent.Source
		require.NoError(t, back.UnmarshalText([]byte(s.String())))
		assert.Equal(t, s, back)
	}
	for v := consent.ActorSelf; v <= consent.ActorAgent; v++ {
		var back consent.Actor
		require.NoError(t, back.UnmarshalText([]byte(v.String())))
		assert.Equal(t, v, back)
	}
	assert.Equal(t, "unknown", consent.Action(9).String())
	assert.Equal(t, "unknown", consent.Source(9).String())
	assert.Equal(t, "unknown", consent.Actor(9).String())
	assert.Equal(t, "unknown", consent.Regime(9).String())
}
