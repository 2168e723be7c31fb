// Package secret makes and hashes the long random secrets of Touchpoint (API
// tokens, write keys, webhook secrets).
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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
