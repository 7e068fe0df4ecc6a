package store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Small blobs are served from open files that concurrent readers share, each at its own
// offset; an entry in use survives eviction until its last reader closes; Delete drops it.
func TestOpenCache(t *testing.T) {
	defer func(n int) { openCacheEntries = n }(openCacheEntries)
	openCacheEntries = 8
	ctx := context.Background()
	f, err := Open(t.TempDir(), WithoutSync())
	require.NoError(t, err)
	info, err := PutBytes(ctx, f, Expect{}, []byte("0123456789"))
	require.NoError(t, err)

	a, err := f.Open(ctx, info.Digest)
	require.NoError(t, err)
	b, err := f.Open(ctx, info.Digest)
	require.NoError(t, err)
	buf := make([]byte, 4)
	_, err = io.ReadFull(a, buf)
	require.NoError(t, err)
	assert.Equal(t, "0123", string(buf))
	rest, err := io.ReadAll(b)
	require.NoError(t, err)
	assert.Equal(t, "0123456789", string(rest), "each reader has its own offset")
	_, err = a.Seek(-2, io.SeekEnd)
	require.NoError(t, err)
	tail, _ := io.ReadAll(a)
	assert.Equal(t, "89", string(tail))
	assert.EqualValues(t, 10, a.Size())

	// Fill the cache past its size while a still reads: a's file stays open.
	for i := 0; i < openCacheEntries+10; i++ {
		o, err := PutBytes(ctx, f, Expect{}, []byte(fmt.Sprint(i)))
		require.NoError(t, err)
		r, err := f.Open(ctx, o.Digest)
		require.NoError(t, err)
		require.NoError(t, r.Close())
	}
	_, err = a.Seek(0, io.SeekStart)
	require.NoError(t, err)
	again, err := io.ReadAll(a)
	require.NoError(t, err, "an evicted entry in use stays readable")
	assert.Equal(t, "0123456789", string(again))
	require.NoError(t, a.Close())
	require.NoError(t, b.Close())
	require.NoError(t, b.Close(), "closing twice is harmless")
	assert.LessOrEqual(t, len(f.open.entries), openCacheEntries)

	// Concurrent readers of one blob.
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := f.Open(ctx, info.Digest)
			if !assert.NoError(t, err) {
				return
			}
			defer r.Close()
			got, _ := io.ReadAll(r)
			assert.Equal(t, "0123456789", string(got))
		}()
	}
	wg.Wait()

	require.NoError(t, f.Delete(ctx, info.Digest))
	_, err = f.Open(ctx, info.Digest)
	assert.ErrorIs(t, err, ErrNotFound, "a deleted blob is not served from the cache")
}

// A ref answered from its held-open file sees every change at once, by this process or
// another: a new file renamed over it (also when the old one has a second link, as a
// hard-link backup leaves), a write in place, a removal.
func TestRefSeesOutsideChanges(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f, err := Open(dir, WithoutSync())
	require.NoError(t, err)
	a, b, c := DigestOf([]byte("a")), DigestOf([]byte("b")), DigestOf([]byte("c"))
	require.NoError(t, f.SwapRef(ctx, "files/x", "", a))
	got, err := f.Ref(ctx, "files/x")
	require.NoError(t, err)
	assert.Equal(t, a, got)

	p := filepath.Join(dir, "refs", "files", "x")
	require.NoError(t, os.Link(p, filepath.Join(dir, "backup")))
	tmp := filepath.Join(dir, "tmp", "other")
	require.NoError(t, os.WriteFile(tmp, []byte(string(b)+"\n"), 0o644))
	require.NoError(t, os.Rename(tmp, p)) // as another process's SwapRef
	got, err = f.Ref(ctx, "files/x")
	require.NoError(t, err)
	assert.Equal(t, b, got, "renamed over")

	require.NoError(t, os.WriteFile(p, []byte(string(c)+"\n"), 0o644))
	got, err = f.Ref(ctx, "files/x")
	require.NoError(t, err)
	assert.Equal(t, c, got, "written in place")

	require.NoError(t, os.Remove(p))
	_, err = f.Ref(ctx, "files/x")
	assert.ErrorIs(t, err, ErrNotFound, "removed")
}

// ServeFile answers the same bytes whichever way the filesystem store holds a blob for
// reading: in memory (small), a shared open file (up to openCacheMaxSize), a file of its
// own (larger); the first request and the cached ones alike, and HEAD with no body.
func TestServeFileFromEachCache(t *testing.T) {
	ctx := context.Background()
	f, err := Open(t.TempDir(), WithoutSync())
	require.NoError(t, err)
	for _, size := range []int{0, 1, openCacheMemSize, openCacheMemSize + 1, openCacheMaxSize, openCacheMaxSize + 1} {
		content := make([]byte, size)
		for i := range content {
			content[i] = byte(i*7 + size)
		}
		info, err := PutBytes(ctx, f, Expect{}, content)
		require.NoError(t, err)
		file := File{Digest: info.Digest, Size: info.Size}
		for round := range 2 {
			w := httptest.NewRecorder()
			ServeFile(w, httptest.NewRequest("GET", "/f.bin", nil), f, "f.bin", file)
			assert.Equal(t, http.StatusOK, w.Code)
			assert.Equal(t, strconv.Itoa(size), w.Header().Get("Content-Length"))
			assert.True(t, bytes.Equal(content, w.Body.Bytes()), "size %d, request %d", size, round+1)
			w = httptest.NewRecorder()
			ServeFile(w, httptest.NewRequest("HEAD", "/f.bin", nil), f, "f.bin", file)
			assert.Zero(t, w.Body.Len(), "HEAD, size %d", size)
		}
	}
}
