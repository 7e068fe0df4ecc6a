package getter_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/fetch/getter"
)

func countBlobs(t *testing.T, s store.Store) int {
	n := 0
	require.NoError(t, s.Walk(context.Background(), func(store.BlobInfo) error { n++; return nil }))
	return n
}

func TestLocalPathAndFileURL(t *testing.T) {
	content := []byte("a generic file\n")
	dir := t.TempDir()
	p := filepath.Join(dir, "thing.tar.gz") // an archive name: must be stored raw, not unpacked
	require.NoError(t, os.WriteFile(p, content, 0o644))
	s := store.NewMemory()
	var mu sync.Mutex
	var last fetch.Event
	c := &fetch.Client{Store: s, Getter: getter.New(), Progress: func(e fetch.Event) { mu.Lock(); last = e; mu.Unlock() }}
	e := store.ExpectDigest(store.DigestOf(content), int64(len(content)))

	res, err := c.FetchGeneric(t.Context(), fetch.Request{URL: p, Expect: e})
	require.NoError(t, err)
	assert.Equal(t, store.DigestOf(content), res.Blob.Digest)
	require.NoError(t, s.Delete(t.Context(), res.Blob.Digest))

	res, err = c.Fetch(t.Context(), fetch.Request{URL: "file://" + p, Expect: e, Generic: true})
	require.NoError(t, err)
	assert.Equal(t, int64(len(content)), res.Blob.Size)
	assert.True(t, last.Done)
	assert.Equal(t, int64(len(content)), last.Bytes)

	got, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, content, got, "the source is untouched")

	require.NoError(t, s.Delete(t.Context(), res.Blob.Digest))
	_, err = c.FetchGeneric(t.Context(), fetch.Request{URL: p, Expect: store.ExpectDigest(store.DigestOf([]byte("no")), 0)})
	require.ErrorIs(t, err, store.ErrDigestMismatch)
	assert.Zero(t, countBlobs(t, s), "nothing stored")

	_, err = c.FetchGeneric(t.Context(), fetch.Request{URL: p, MaxSize: 4})
	require.ErrorIs(t, err, store.ErrTooLarge)

	_, err = c.FetchGeneric(t.Context(), fetch.Request{URL: filepath.Join(dir, "absent")})
	require.Error(t, err)
}

func TestHTTPWithChecksum(t *testing.T) {
	content := []byte("release tarball bytes")
	var mu sync.Mutex
	var agents []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents = append(agents, r.UserAgent())
		mu.Unlock()
		w.Write(content)
	}))
	defer srv.Close()
	sum := sha256.Sum256(content)
	s := store.NewMemory()
	c := &fetch.Client{Store: s, Getter: getter.New()}

	res, err := c.FetchGeneric(t.Context(), fetch.Request{URL: srv.URL + "/f?checksum=sha256:" + hex.EncodeToString(sum[:])})
	require.NoError(t, err)
	assert.Equal(t, store.DigestOf(content), res.Blob.Digest)
	assert.Equal(t, fetch.DefaultUserAgent, agents[len(agents)-1])
	require.NoError(t, s.Delete(t.Context(), res.Blob.Digest))

	wrong := sha256.Sum256([]byte("other"))
	_, err = c.FetchGeneric(t.Context(), fetch.Request{URL: srv.URL + "/f?checksum=sha256:" + hex.EncodeToString(wrong[:])})
	require.ErrorIs(t, err, store.ErrDigestMismatch)
	assert.Zero(t, countBlobs(t, s))

	// A checksum parameter that contradicts Expect fails before any request.
	n := len(agents)
	_, err = c.FetchGeneric(t.Context(), fetch.Request{
		URL:    srv.URL + "/f?checksum=sha256:" + hex.EncodeToString(wrong[:]),
		Expect: store.ExpectDigest(store.DigestOf(content), 0),
	})
	require.ErrorIs(t, err, store.ErrDigestMismatch)
	assert.Len(t, agents, n)
}

// The generic "files" kind: any URL form go-getter understands, here a local path with a
// checksum parameter, verified by go-getter and again by the store.
func Example() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	content := []byte("firmware blob\n")
	p := filepath.Join(dir, "firmware.bin")
	if err := os.WriteFile(p, content, 0o644); err != nil {
		fmt.Println(err)
		return
	}
	sum := sha256.Sum256(content)

	c := &fetch.Client{Store: store.NewMemory(), Getter: getter.New()}
	res, err := c.FetchGeneric(context.Background(), fetch.Request{
		URL: p + "?checksum=sha256:" + hex.EncodeToString(sum[:]),
	})
	fmt.Println(res.Blob.Size, res.Blob.Digest == store.DigestOf(content), err)
	// Output: 14 true <nil>
}
