package fetch

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
)

func TestGenericLocalPathAndFileURL(t *testing.T) {
	content := []byte("a generic file\n")
	dir := t.TempDir()
	p := filepath.Join(dir, "thing.tar.gz") // an archive name: must be stored raw, not unpacked
	require.NoError(t, os.WriteFile(p, content, 0o644))
	s := store.NewMemory()
	ev := &events{}
	c := &Client{Store: s, Progress: ev.add}
	e := store.ExpectDigest(store.DigestOf(content), int64(len(content)))

	res, err := c.FetchGeneric(t.Context(), Request{URL: p, Expect: e})
	require.NoError(t, err)
	assert.Equal(t, store.DigestOf(content), res.Blob.Digest)
	require.NoError(t, s.Delete(t.Context(), res.Blob.Digest))

	res, err = c.Fetch(t.Context(), Request{URL: "file://" + p, Expect: e, Generic: true})
	require.NoError(t, err)
	assert.Equal(t, int64(len(content)), res.Blob.Size)
	last := ev.all()[len(ev.all())-1]
	assert.True(t, last.Done)
	assert.Equal(t, int64(len(content)), last.Bytes)

	// The source file is untouched and the temporary directory's symlink did not leak.
	got, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, content, got)

	// Wrong expectation: nothing stored.
	require.NoError(t, s.Delete(t.Context(), res.Blob.Digest))
	_, err = c.FetchGeneric(t.Context(), Request{URL: p, Expect: store.ExpectDigest(store.DigestOf([]byte("no")), 0)})
	require.ErrorIs(t, err, store.ErrDigestMismatch)
	assert.Empty(t, blobs(t, s))

	// Over MaxSize with unknown size.
	_, err = c.FetchGeneric(t.Context(), Request{URL: p, MaxSize: 4})
	require.ErrorIs(t, err, store.ErrTooLarge)

	// Missing file.
	_, err = c.FetchGeneric(t.Context(), Request{URL: filepath.Join(dir, "absent")})
	require.Error(t, err)
}

func TestGenericHTTPWithChecksum(t *testing.T) {
	up, srv := newUpstream(t, randomBytes(10_000))
	sum := sha256.Sum256(up.content)
	s := store.NewMemory()
	c := &Client{Store: s}

	// Without Generic a checksum parameter is just part of the URL: our downloader.
	_, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f?checksum=sha256:" + hex.EncodeToString(sum[:])})
	require.NoError(t, err)
	r := up.reqs()
	require.Len(t, r, 1)
	assert.Equal(t, DefaultUserAgent, r[0].Get("User-Agent"))
	require.NoError(t, s.Delete(t.Context(), store.DigestOf(up.content)))

	res, err := c.FetchGeneric(t.Context(), Request{URL: srv.URL + "/f?checksum=sha256:" + hex.EncodeToString(sum[:])})
	require.NoError(t, err)
	r = up.reqs()
	assert.Equal(t, DefaultUserAgent, r[len(r)-1].Get("User-Agent"))
	assert.Equal(t, store.DigestOf(up.content), res.Blob.Digest)
	require.NoError(t, s.Delete(t.Context(), res.Blob.Digest))

	// Wrong checksum parameter: refused by go-getter and the store.
	wrong := sha256.Sum256([]byte("other"))
	_, err = c.FetchGeneric(t.Context(), Request{URL: srv.URL + "/f?checksum=sha256:" + hex.EncodeToString(wrong[:])})
	require.ErrorIs(t, err, store.ErrDigestMismatch)
	assert.Empty(t, blobs(t, s))

	// A checksum parameter that contradicts Expect fails before any request.
	n := len(up.reqs())
	_, err = c.FetchGeneric(t.Context(), Request{
		URL:    srv.URL + "/f?checksum=sha256:" + hex.EncodeToString(wrong[:]),
		Expect: store.ExpectDigest(store.DigestOf(up.content), 0),
	})
	require.ErrorIs(t, err, store.ErrDigestMismatch)
	assert.Len(t, up.reqs(), n)
}

func TestChecksumParam(t *testing.T) {
	h := hex.EncodeToString(make([]byte, 32))
	e, err := checksumParam(store.Expect{}, "https://x/y?checksum=sha256:"+h)
	require.NoError(t, err)
	assert.Equal(t, h, e.Sums[store.SHA256])
	e, err = checksumParam(store.Expect{}, "https://x/y?checksum="+h)
	require.NoError(t, err)
	assert.Equal(t, h, e.Sums[store.SHA256])
	e, err = checksumParam(store.Expect{}, "https://x/y?checksum=sha1:0000000000000000000000000000000000000000")
	require.NoError(t, err)
	assert.Empty(t, e.Sums)
	_, err = checksumParam(store.Expect{}, "https://x/y?checksum=sha256:zz")
	require.ErrorIs(t, err, store.ErrInvalidDigest)
	_, err = checksumParam(store.Expect{}, "https://x/y?checksum=md5:00")
	require.ErrorIs(t, err, store.ErrInvalidDigest)
	e, err = checksumParam(store.Expect{}, "/plain/path")
	require.NoError(t, err)
	assert.Empty(t, e.Sums)
}
