package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Digest names a blob by the SHA-256 of its content, written "sha256:<64 lower-case hex>".
// The zero Digest is "no digest".
type Digest string

const digestPrefix = "sha256:"

// ParseDigest validates s and returns it as a Digest. Upper-case hex is refused so that one
// blob has exactly one name.
func ParseDigest(s string) (Digest, error) {
	d := Digest(s)
	if err := d.Validate(); err != nil {
		return "", err
	}
	return d, nil
}

// DigestFromHex turns a bare SHA-256 hex string (as upstream indices carry it) into a Digest.
// Upper-case hex is accepted and lowered.
func DigestFromHex(h string) (Digest, error) {
	return ParseDigest(digestPrefix + strings.ToLower(h))
}

// DigestOf returns the Digest of b.
func DigestOf(b []byte) Digest {
	sum := sha256.Sum256(b)
	return Digest(digestPrefix + hex.EncodeToString(sum[:]))
}

// Validate reports whether d is a well-formed sha256 digest.
func (d Digest) Validate() error {
	s := string(d)
	if !strings.HasPrefix(s, digestPrefix) {
		return fmt.Errorf("%w: %q: want sha256:<hex>", ErrInvalidDigest, s)
	}
	h := s[len(digestPrefix):]
	if len(h) != sha256.Size*2 {
		return fmt.Errorf("%w: %q: want 64 hex digits, have %d", ErrInvalidDigest, s, len(h))
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("%w: %q: not lower-case hex", ErrInvalidDigest, s)
		}
	}
	return nil
}

// Hex returns the hex part of d ("" for a malformed digest).
func (d Digest) Hex() string {
	if !strings.HasPrefix(string(d), digestPrefix) {
		return ""
	}
	return string(d[len(digestPrefix):])
}

// String returns d as written.
func (d Digest) String() string { return string(d) }

// IsZero reports whether d is the empty digest.
func (d Digest) IsZero() bool { return d == "" }
