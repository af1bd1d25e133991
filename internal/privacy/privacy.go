// Package privacy pseudonymises personal data (the caller's phone number)
// before anything stores, logs or labels it, as the PIPL requires.
package privacy

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
)

// MinKeyBytes is the shortest HMAC key accepted.
const MinKeyBytes = 16

// Hasher computes the keyed hash (HMAC-SHA-256, hex) of a phone number. The
// same key always gives the same hash, so repeat callers can be recognised
// without the number. A Hasher is not safe for concurrent use.
type Hasher struct {
	key []byte
	mac hash.Hash
	buf []byte
}

// NewHasher returns a Hasher for key, which must be at least MinKeyBytes long.
func NewHasher(key []byte) (*Hasher, error) {
	if len(key) < MinKeyBytes {
		return nil, errors.New("caller hash key must be at least 16 bytes")
	}
	key = bytes.Clone(key)
	return &Hasher{key: key, mac: hmac.New(sha256.New, key)}, nil
}

// Ephemeral returns a Hasher with a random key that lives only in this
// process: callers are told apart within one run (repeat calls in
// `compute`, the demo) and no hash can be matched to anything stored.
func Ephemeral() *Hasher {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	h, _ := NewHasher(key)
	return h
}

// Clone returns a Hasher with the same key, for another goroutine.
func (h *Hasher) Clone() *Hasher { return &Hasher{key: h.key, mac: hmac.New(sha256.New, h.key)} }

// Hash returns the hex HMAC-SHA-256 of number.
func (h *Hasher) Hash(number string) string {
	h.mac.Reset()
	h.mac.Write([]byte(number))
	h.buf = h.mac.Sum(h.buf[:0])
	return hex.EncodeToString(h.buf)
}
