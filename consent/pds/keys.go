package pds

import (
	"context"
	"crypto/ed25519"
	"slices"
	"sync"
)

// issuerID names a key or a grant of one issuer.
type issuerID struct{ issuer, id string }

// MemoryKeys is an in-memory [Keys] for tests, examples and small
// services. The zero value holds no key. It is safe for simultaneous use
// by multiple goroutines.
type MemoryKeys struct {
	mu sync.RWMutex
	m  map[issuerID]ed25519.PublicKey
}

var _ Keys = (*MemoryKeys)(nil)

// Add trusts pub as issuer's key under key id kid, replacing any key it
// had there. An empty issuer or kid, or a key that is not an Ed25519
// public key, is a [*GrantError] wrapping [ErrConfig], and nothing is
// added.
func (k *MemoryKeys) Add(issuer, kid string, pub ed25519.PublicKey) error {
	if issuer == "" || kid == "" || len(pub) != ed25519.PublicKeySize {
		return &GrantError{Claim: "kid", Why: "want an issuer, a key id and an Ed25519 public key", Err: ErrConfig}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = make(map[issuerID]ed25519.PublicKey)
	}
	k.m[issuerID{issuer, kid}] = slices.Clone(pub)
	return nil
}

// Remove stops trusting issuer's key kid; grants it signed no longer
// verify. Removing a key it does not hold does nothing.
func (k *MemoryKeys) Remove(issuer, kid string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, issuerID{issuer, kid})
}

// Key implements [Keys].
func (k *MemoryKeys) Key(_ context.Context, issuer, kid string) (ed25519.PublicKey, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if pub, ok := k.m[issuerID{issuer, kid}]; ok {
		return pub, nil
	}
	return nil, &GrantError{Claim: "kid", Why: "no key " + kid + " of issuer " + issuer, Err: ErrUnknownKey}
}

// MemoryRevocations is an in-memory [Revocations] for tests, examples and
// small services. The zero value has no grant revoked. It is safe for
// simultaneous use by multiple goroutines.
type MemoryRevocations struct {
	mu sync.RWMutex
	m  map[issuerID]struct{}
}

var _ Revocations = (*MemoryRevocations)(nil)

// Revoke records that issuer revoked its grant id (the "jti").
func (r *MemoryRevocations) Revoke(issuer, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[issuerID]struct{})
	}
	r.m[issuerID{issuer, id}] = struct{}{}
}

// Revoked implements [Revocations].
func (r *MemoryRevocations) Revoked(_ context.Context, issuer, id string) (bool, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.m[issuerID{issuer, id}]
	return ok, nil
}
