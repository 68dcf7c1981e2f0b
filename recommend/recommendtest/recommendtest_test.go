package recommendtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/recommendtest"
)

func TestMemoryStoreConformance(t *testing.T) {
	recommendtest.Run(t, func(*testing.T) recommendtest.ProfileStore { return new(recommend.MemoryStore) })
}

func TestGenerateIsDeterministic(t *testing.T) {
	a := recommendtest.Generate(recommendtest.Options{Seed: 1})
	b := recommendtest.Generate(recommendtest.Options{Seed: 1})
	c := recommendtest.Generate(recommendtest.Options{Seed: 2})
	assert.Equal(t, a.Interactions, b.Interactions)
	assert.Equal(t, a.Shoppers, b.Shoppers)
	assert.NotEqual(t, a.Interactions, c.Interactions)
	assert.Equal(t, 500, a.Catalog.Len())
	assert.Len(t, a.Shoppers, 200)
	var sensitive, promo, known int
	for _, it := range a.Items {
		if it.Sensitive {
			sensitive++
		}
		if it.Promotional {
			promo++
		}
	}
	for _, s := range a.Shoppers {
		if s.Relationship.Known {
			known++
		}
	}
	assert.Positive(t, sensitive)
	assert.Positive(t, promo)
	assert.Positive(t, known)
	assert.Less(t, known, len(a.Shoppers), "some shoppers are strangers")
	m := a.Model()
	assert.Same(t, a.Catalog, m.Catalog())
	// Co-occurrence carries the department structure: an item's nearest
	// neighbour is mostly from its own department.
	same, total := 0, 0
	dept := map[string]string{}
	for d, ids := range a.ByDepartment {
		for _, id := range ids {
			dept[id] = d
		}
	}
	for _, it := range a.Items[:100] {
		if nb := m.ItemItem().Neighbors(it.ID); len(nb) > 0 {
			total++
			if dept[nb[0].Item] == dept[it.ID] {
				same++
			}
		}
	}
	assert.Greater(t, float64(same)/float64(total), 0.5)
}

func TestWorldStore(t *testing.T) {
	w := recommendtest.Generate(recommendtest.Options{Seed: 5, Shoppers: 10})
	s := w.Store()
	assert.Equal(t, 10, s.Persons())
	p, err := s.Export(context.Background(), w.Shoppers[3].ID)
	require.NoError(t, err)
	assert.Equal(t, w.Shoppers[3].History, p.History)
}

func TestConsents(t *testing.T) {
	c := recommendtest.NewConsents()
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	decide := func(s string, p consent.Purpose) consent.Decision {
		d, err := c.Decide(context.Background(), s, p, at, consent.Signals{})
		require.NoError(t, err)
		return d
	}
	assert.False(t, decide("a", consent.PurposePersonalizeHistory).Allowed, "nothing granted")
	assert.Equal(t, consent.ReasonNoConsent, decide("a", consent.PurposePersonalizeHistory).Reason)
	c.Allow("a", consent.PurposePersonalize)
	assert.True(t, decide("a", consent.PurposePersonalizeHistory).Allowed, "a parent grant covers children")
	assert.False(t, decide("b", consent.PurposePersonalizeHistory).Allowed, "per subject")
	c.Withdraw("a", consent.PurposePersonalizeHistory)
	d := decide("a", consent.PurposePersonalizeHistory)
	assert.False(t, d.Allowed)
	assert.Equal(t, consent.ReasonWithdrawn, d.Reason)
	assert.True(t, decide("a", consent.PurposePersonalizeDeclared).Allowed, "siblings unaffected")
	c.Allow("a", consent.PurposePersonalizeHistory)
	assert.True(t, decide("a", consent.PurposePersonalizeHistory).Allowed, "granted again")
	c.Fail(nil)
	_, err := c.Decide(context.Background(), "a", consent.PurposePersonalize, at, consent.Signals{})
	assert.ErrorIs(t, err, recommendtest.ErrUnavailable)
	c.Recover()
	assert.True(t, decide("a", consent.PurposePersonalizeHistory).Allowed)
	assert.Equal(t, 9, c.Calls())
	var zero recommendtest.Consents
	d, err = zero.Decide(context.Background(), "a", consent.PurposePersonalize, at, consent.Signals{})
	require.NoError(t, err)
	assert.False(t, d.Allowed, "the zero value denies everything")
}

// The fake's policy is valid, declares for each source's purpose exactly the
// categories the source reads, and can be replaced; decisions report the
// version in force.
func TestConsentsPolicy(t *testing.T) {
	p := recommendtest.Policy()
	require.NoError(t, p.Validate())
	for s := recommend.SourceContext; s <= recommend.SourceHistory; s++ {
		spec, ok := p.Spec(s.Purpose())
		require.True(t, ok, s)
		assert.Equal(t, s.Categories(), spec.Categories, s)
	}
	var c recommendtest.Consents
	assert.Equal(t, p, c.Policy(), "the zero value applies Policy()")
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	d, err := c.Decide(context.Background(), "a", consent.PurposePersonalize, at, consent.Signals{})
	require.NoError(t, err)
	assert.Equal(t, 1, d.PolicyVersion)
	p.Version = 7
	c.SetPolicy(p)
	p.Version = 8
	assert.Equal(t, 7, c.Policy().Version, "SetPolicy keeps a copy")
	c.Policy().Version = 9
	assert.Equal(t, 7, c.Policy().Version, "Policy returns a copy")
	d, err = c.Decide(context.Background(), "a", consent.PurposePersonalize, at, consent.Signals{})
	require.NoError(t, err)
	assert.Equal(t, 7, d.PolicyVersion)
	c.SetPolicy(nil)
	assert.Equal(t, 1, c.Policy().Version, "nil restores Policy()")
}

// A catalog smaller than the list of departments stocks only some of them;
// shoppers then shop in those (Generate used to loop forever looking for a
// second or third stocked department).
func TestGenerateTinyCatalog(t *testing.T) {
	for _, n := range []int{1, 2, 3, len(recommendtest.Departments) - 1} {
		w := recommendtest.Generate(recommendtest.Options{Seed: 1, Items: n, Shoppers: 30})
		require.Equal(t, n, w.Catalog.Len())
		assert.NotEmpty(t, w.Interactions, "%d items", n)
		for _, s := range w.Shoppers {
			assert.LessOrEqual(t, len(s.Departments), n, "%d items", n)
		}
		assert.NotNil(t, w.Model())
	}
}
