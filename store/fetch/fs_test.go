package fetch

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
)

func openFS(t *testing.T, dir string) store.Store {
	t.Helper()
	s, err := store.Open(dir, store.WithoutSync())
	require.NoError(t, err)
	return s
}

// Each "run" opens the store directory afresh, as a new process would.
func TestResumeAcrossRunsFilesystem(t *testing.T) {
	dir := t.TempDir()
	testResumeAcrossRuns(t, func() store.Store { return openFS(t, dir) })
	left, err := os.ReadDir(filepath.Join(dir, "uploads"))
	require.NoError(t, err)
	assert.Empty(t, left, "the partial is gone once committed")
}

func TestDigestMismatchLeavesNothingFilesystem(t *testing.T) {
	dir := t.TempDir()
	s := openFS(t, dir)
	up, srv := newUpstream(t, randomBytes(200_000))
	up.cutN, up.cutAt = 1, 50_000 // the mismatch is found after a resume
	c, _ := newClient(s)
	bad := randomBytes(200_000)
	e := store.ExpectDigest(store.DigestOf(bad), int64(len(bad)))
	_, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: e})
	require.ErrorIs(t, err, store.ErrDigestMismatch)
	assert.Empty(t, blobs(t, s))
	for _, sub := range []string{"uploads", "tmp"} {
		left, err := os.ReadDir(filepath.Join(dir, sub))
		require.NoError(t, err)
		assert.Empty(t, left, sub)
	}
	// Resumed content that failed is fetched once more from scratch, then it fails.
	r := up.reqs()
	require.Len(t, r, 3)
	assert.Empty(t, r[0].Get("Range"))
	assert.NotEmpty(t, r[1].Get("Range"))
	assert.Empty(t, r[2].Get("Range"))
}

func TestFetchIntoFilesystem(t *testing.T) {
	s := openFS(t, t.TempDir())
	up, srv := newUpstream(t, randomBytes(3<<20))
	c, _ := newClient(s)
	b, res, err := c.FetchBytes(t.Context(), Request{URL: srv.URL + "/f", Expect: up.expect()})
	require.NoError(t, err)
	assert.Equal(t, up.content, b)
	assert.Equal(t, store.DigestOf(up.content), res.Blob.Digest)
	assert.Len(t, blobs(t, s), 1)
}

// Another process holds the partial upload: wait (as for a 503), and take its result.
func TestPartialLockedByAnotherWriter(t *testing.T) {
	dir := t.TempDir()
	up, srv := newUpstream(t, randomBytes(100_000))
	other := openFS(t, dir)
	held, err := other.Begin(t.Context(), uploadKey(srv.URL+"/f", up.expect()))
	require.NoError(t, err)

	c := &Client{Store: openFS(t, dir)}
	var waits int
	c.Sleep = func(ctx context.Context, d time.Duration) error {
		waits++
		if waits == 2 { // the other writer finishes while we wait
			if _, err := held.Write(up.content); err != nil {
				return err
			}
			if _, err := held.Commit(ctx, up.expect()); err != nil {
				return err
			}
		}
		return nil
	}
	res, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f", Expect: up.expect()})
	require.NoError(t, err)
	assert.Equal(t, store.DigestOf(up.content), res.Blob.Digest)
	assert.Equal(t, 2, waits)
	assert.Empty(t, up.reqs(), "the other writer's download was used")
}
