package consent_test

import (
	"testing"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
)

func TestMemoryStoreConformance(t *testing.T) {
	consenttest.Run(t, func(*testing.T) consent.Store { return consent.NewMemoryStore() })
}

func TestMemoryStoreZeroValue(t *testing.T) {
	consenttest.Run(t, func(*testing.T) consent.Store { return new(consent.MemoryStore) })
}
