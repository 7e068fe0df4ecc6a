package rpm

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"

	"github.com/airgapkit/airgap/store"
)

// checksumKinds maps repodata's checksum types to a hash: the store verifies sha256,
// sha512 and md5 while it streams; the others are checked here.
var checksumKinds = map[string]struct {
	alg  store.Algorithm // "" when the store cannot verify it
	size int
	new  func() hash.Hash
}{
	"sha256": {store.SHA256, sha256.Size, sha256.New},
	"sha512": {store.SHA512, sha512.Size, sha512.New},
	"md5":    {store.MD5, 16, nil},
	"sha":    {"", sha1.Size, sha1.New},
	"sha1":   {"", sha1.Size, sha1.New},
	"sha224": {"", sha256.Size224, sha256.New224},
	"sha384": {"", sha512.Size384, sha512.New384},
}

// expect is the store.Expect of content with this checksum and size (<= 0: unknown);
// for a type the store does not verify only the size. It fails on an unknown type or a
// value that is not hex of the type's length.
func (c Checksum) expect(size int64) (store.Expect, error) {
	k, ok := checksumKinds[c.Type]
	if !ok {
		return store.Expect{}, fmt.Errorf("unknown checksum type %q", c.Type)
	}
	if b, err := hex.DecodeString(c.Value); err != nil || len(b) != k.size {
		return store.Expect{}, fmt.Errorf("%s checksum %q is not %d hex bytes", c.Type, c.Value, k.size)
	}
	e := store.Expect{Size: size}
	if k.alg != "" {
		e = e.With(k.alg, c.Value)
	}
	return e, nil
}

// checkedByStore reports whether the store verifies c while it streams.
func (c Checksum) checkedByStore() bool { return checksumKinds[c.Type].alg != "" }

// hasher returns a hash for c (nil for md5, which only the store checks).
func (c Checksum) hasher() hash.Hash {
	if k := checksumKinds[c.Type]; k.new != nil {
		return k.new()
	}
	return nil
}

// verifyReader hashes r with c's type and compares (ErrChecksum); n is the number of
// bytes read.
func (c Checksum) verifyReader(r io.Reader) (n int64, err error) {
	h := c.hasher()
	if h == nil {
		return io.Copy(io.Discard, r)
	}
	n, err = io.Copy(h, r)
	if err != nil {
		return n, err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != c.Value {
		return n, fmt.Errorf("%w: %s %s, expected %s", ErrChecksum, c.Type, got, c.Value)
	}
	return n, nil
}
