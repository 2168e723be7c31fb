// Package secret makes and hashes the long random secrets of Touchpoint (API
// tokens, write keys, webhook secrets).
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"sync"
	"time"
)

// New returns prefix followed by 32 random bytes in URL-safe base64.
func New(prefix string) string {
	b := make([]byte, 32)
	rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// Hash is the stored form of a secret made by New. SHA-256 suffices: the
// secrets carry 256 bits of randomness, so there is nothing to brute-force, and
// a slow hash on every request would cap a server at a few dozen requests a second.
func Hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Hint keeps the last four characters so that people can tell secrets apart.
func Hint(s string) string {
	if len(s) < 8 {
		return "…"
	}
	return "…" + s[len(s)-4:]
}

// Cache remembers, for a few seconds, what a secret's hash stood for (or
// that it stood for nothing), so that the store is not asked on every
// request. It holds at most 10,000 entries: guessing keys cannot grow it.
type Cache[T any] struct {
	mu  sync.RWMutex
	ttl time.Duration
	m   map[string]cached[T]
}

type cached[T any] struct {
	v       T
	ok      bool
	expires time.Time
}

// NewCache makes a cache whose entries live for ttl.
func NewCache[T any](ttl time.Duration) *Cache[T] {
	return &Cache[T]{ttl: ttl, m: map[string]cached[T]{}}
}

// Get returns the value remembered for hash; fresh is false when nothing
// (current) is remembered, ok is false when the hash stood for nothing.
func (c *Cache[T]) Get(hash string, now time.Time) (v T, ok, fresh bool) {
	c.mu.RLock()
	e, found := c.m[hash]
	c.mu.RUnlock()
	if !found || !now.Before(e.expires) {
		return v, false, false
	}
	return e.v, e.ok, true
}

// Put remembers v (ok) or that hash stood for nothing (!ok).
func (c *Cache[T]) Put(hash string, v T, ok bool, now time.Time) {
	c.mu.Lock()
	if len(c.m) >= 10000 {
		clear(c.m)
	}
	c.m[hash] = cached[T]{v: v, ok: ok, expires: now.Add(c.ttl)}
	c.mu.Unlock()
}

// Clear forgets everything (after a revocation or a key rotation).
func (c *Cache[T]) Clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}
