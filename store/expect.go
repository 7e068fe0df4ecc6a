package store

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// Algorithm names an upstream checksum kind.
type Algorithm string

// The checksum kinds upstream indices carry.
const (
	SHA256   Algorithm = "sha256"
	SHA512   Algorithm = "sha512"
	MD5      Algorithm = "md5"      // legacy indices only; never trusted alone by protocols
	SHA3_384 Algorithm = "sha3-384" // snaps
)

// Expect is what content must match before it becomes a blob. Any set of checksums may be
// given (hex, case-insensitive); all are verified in the same pass. The zero Expect accepts
// any content: the blob is still named by its computed SHA-256.
type Expect struct {
	// Size is the exact length in bytes when positive; zero or negative means unknown
	// (an empty body is still bound by any checksum given).
	Size int64
	// Sums maps an algorithm to the expected hex digest.
	Sums map[Algorithm]string
}

// ExpectDigest expects the content named by d, of the given size (<= 0: unknown).
func ExpectDigest(d Digest, size int64) Expect {
	return Expect{Size: size, Sums: map[Algorithm]string{SHA256: d.Hex()}}
}

// With returns a copy of e that also expects hex under alg.
func (e Expect) With(alg Algorithm, hexsum string) Expect {
	sums := make(map[Algorithm]string, len(e.Sums)+1)
	for k, v := range e.Sums {
		sums[k] = v
	}
	sums[alg] = strings.ToLower(hexsum)
	return Expect{Size: e.Size, Sums: sums}
}

// Digest returns the expected sha256 Digest, or "" when e does not carry one.
func (e Expect) Digest() Digest {
	h, ok := e.Sums[SHA256]
	if !ok {
		return ""
	}
	d, err := DigestFromHex(h)
	if err != nil {
		return ""
	}
	return d
}

// Validate reports malformed checksums (unknown algorithm, wrong length, not hex).
func (e Expect) Validate() error {
	for alg, h := range e.Sums {
		n, ok := hashSize[alg]
		if !ok {
			return fmt.Errorf("store: unknown checksum algorithm %q", alg)
		}
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != n {
			return fmt.Errorf("%w: %s checksum %q is not %d hex bytes", ErrInvalidDigest, alg, h, n)
		}
	}
	return nil
}

var hashSize = map[Algorithm]int{SHA256: sha256.Size, SHA512: sha512.Size, MD5: md5.Size, SHA3_384: 48}

func newHash(alg Algorithm) hash.Hash {
	switch alg {
	case SHA512:
		return sha512.New()
	case MD5:
		return md5.New()
	case SHA3_384:
		return sha3.New384()
	default:
		return sha256.New()
	}
}

// Verifier hashes a stream once with every algorithm an Expect names (plus sha256, which
// names the blob) and checks the result. Backends feed it the bytes they write; it is the
// single home of the verification rule.
type Verifier struct {
	expect Expect
	sha256 hash.Hash
	others map[Algorithm]hash.Hash
	n      int64
}

// NewVerifier returns a Verifier for e. It fails on a malformed Expect.
func NewVerifier(e Expect) (*Verifier, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	v := &Verifier{expect: e, sha256: sha256.New()}
	for alg := range e.Sums {
		if alg == SHA256 {
			continue
		}
		if v.others == nil {
			v.others = make(map[Algorithm]hash.Hash, len(e.Sums))
		}
		v.others[alg] = newHash(alg)
	}
	return v, nil
}

// Write hashes p. It fails early, with ErrDigestMismatch, once more bytes than the
// expected size arrive, so an oversized stream is not read to its end.
func (v *Verifier) Write(p []byte) (int, error) {
	v.n += int64(len(p))
	if v.expect.Size > 0 && v.n > v.expect.Size {
		return 0, fmt.Errorf("%w: more than the expected %d bytes", ErrDigestMismatch, v.expect.Size)
	}
	v.sha256.Write(p)
	for _, h := range v.others {
		h.Write(p)
	}
	return len(p), nil
}

// Written returns the number of bytes hashed so far.
func (v *Verifier) Written() int64 { return v.n }

// Check compares what was written with the Expect and returns the content's Digest. A
// mismatch is ErrDigestMismatch with both values in the message.
func (v *Verifier) Check() (Digest, error) {
	got := Digest(digestPrefix + hex.EncodeToString(v.sha256.Sum(nil)))
	if v.expect.Size > 0 && v.n != v.expect.Size {
		return got, fmt.Errorf("%w: size: expected %d bytes, got %d", ErrDigestMismatch, v.expect.Size, v.n)
	}
	if want, ok := v.expect.Sums[SHA256]; ok && strings.ToLower(want) != got.Hex() {
		return got, fmt.Errorf("%w: expected sha256:%s, got %s", ErrDigestMismatch, strings.ToLower(want), got)
	}
	for alg, h := range v.others {
		sum := hex.EncodeToString(h.Sum(nil))
		if want := strings.ToLower(v.expect.Sums[alg]); want != sum {
			return got, fmt.Errorf("%w: expected %s:%s, got %s:%s", ErrDigestMismatch, alg, want, alg, sum)
		}
	}
	return got, nil
}
