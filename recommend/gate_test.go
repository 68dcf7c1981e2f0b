package recommend_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
	"github.com/tact-go/tact/recommend"
)

var _ recommend.Decider = (*consent.Gate)(nil)

// The real consent.Gate is a Decider: a withdrawal recorded through it
// takes effect on the very next request.
func TestWithTheConsentGate(t *testing.T) {
	gate, err := consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{})
	require.NoError(t, err)
	r0, _, store := shop()
	r, err := recommend.New(r0.Model(), gate, store, recommend.Config{})
	require.NoError(t, err)
	at := now.Add(-24 * time.Hour)
	_, err = gate.Record(ctx, consent.Event{Action: consent.Grant, Subject: "zoe", Purpose: consent.PurposePersonalize, At: at, Channel: consent.ChannelWeb})
	require.NoError(t, err)
	require.NoError(t, store.AddEvents(ctx, "zoe", recommend.Event{Item: "trail-shoes", At: now.AddDate(0, -1, 0)}))
	req := recommend.Request{Subject: "zoe", At: now, VisitStart: visit, K: 3, Relationship: established}
	resp, err := r.Recommend(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, recommend.Established, resp.Tier)
	assert.True(t, hasSource(resp, recommend.SourceHistory))

	_, err = gate.Record(ctx, consent.Event{Action: consent.Withdraw, Subject: "zoe", Purpose: consent.PurposePersonalize, At: now, Channel: consent.ChannelWeb})
	require.NoError(t, err)
	req.At = now.Add(time.Second)
	resp, err = r.Recommend(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, recommend.Anonymous, resp.Tier)
	assert.NotContains(t, resp.Used, consent.CategoryBehaviorPurchaseHistory)
	assert.False(t, hasSource(resp, recommend.SourceHistory))
	w, ok := withheld(resp, recommend.SourceHistory)
	require.True(t, ok)
	assert.Equal(t, recommend.WithheldConsent, w.Reason)
	assert.Equal(t, consent.ReasonWithdrawn, w.Decision.Reason)
}
