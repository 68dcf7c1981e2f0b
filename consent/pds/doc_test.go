package pds_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
	"github.com/tact-go/tact/consent/pds"
)

// docToken is the example token of doc.go.
const docToken = "eyJhbGciOiJFZERTQSIsImtpZCI6IjIwMjUtMDYiLCJ0eXAiOiJ0YWN0LWdyYW50K2p3dCJ9." +
	"eyJpc3MiOiJodHRwczovL3Bkcy5leGFtcGxlL2FsaWNlIiwic3ViIjoiYWxpY2UiLCJhdWQiOiJodHRwczovL3Nob3AuZXhhbXBsZSIsImp0aSI6ImctMSIsImlhdCI6MTc0ODc3OTIwMCwiZXhwIjoxNzQ5Mzg0MDAwLCJwdXJwb3NlIjoicGVyc29uYWxpemUuZGVjbGFyZWQiLCJzY29wZSI6InVzZXIucHJlZmVyZW5jZS5kZWNsYXJlZC5zaXplcyB1c2VyLnByZWZlcmVuY2UuZGVjbGFyZWQuZ29hbHMiLCJkYXRhIjp7InVzZXIucHJlZmVyZW5jZS5kZWNsYXJlZC5nb2FscyI6W3sidGV4dCI6InlvdSdyZSB0cmFpbmluZyBmb3IgYSBtYXJhdGhvbiIsInRhZ3MiOlsicnVubmluZyIsIm1hcmF0aG9uIl19XSwidXNlci5wcmVmZXJlbmNlLmRlY2xhcmVkLnNpemVzIjpbInNob2U6NDIiLCJ0b3A6TSJdfX0." +
	"yCtG69saJw0Qk7WAA5jEX5X3na4_tbbGAhsmM-zJI4yjIuMxem1dJ5ADB-Gh4_pv-tuX_lYxhGkDD5R3vsJ4BQ"

// TestDocToken keeps the example of the package documentation true: it
// is there, verbatim, and verifies with the key and claims it describes.
func TestDocToken(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.ReplaceAll(string(src), ".\n//\t", ".")
	if !strings.Contains(doc, docToken) {
		t.Error("doc.go does not show docToken")
	}
	pub := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	if !strings.Contains(string(src), "public key "+hex.EncodeToString(pub)) {
		t.Error("doc.go names another public key")
	}
	keys := new(pds.MemoryKeys)
	if err := keys.Add("https://pds.example/alice", "2025-06", pub); err != nil {
		t.Fatal(err)
	}
	gate := consenttest.NewGate(t, consent.GateConfig{})
	v, err := pds.NewVerifier(gate, keys, new(pds.MemoryRevocations), "https://shop.example", pds.Config{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	g, err := v.Verify(ctx, docToken, "alice", consent.PurposePersonalizeDeclared, at)
	if err != nil {
		t.Fatal(err)
	}
	if c := g.Claims(); c.ID != "g-1" || !c.Expires.Equal(at.Add(7*24*time.Hour)) || len(g.Declared().Goals) != 1 {
		t.Errorf("claims = %+v", c)
	}
}
