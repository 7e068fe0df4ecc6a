package oci

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A program shares one fetch.Client between its mirrors (examples/airgap does). An oci
// Sync must neither change it (apt's plain-http downloads would then go through the
// registry's scheme guard) nor depend on it being untouched (a client that already made
// a request has fixed its HTTP: registry credentials set later would never be sent).
func TestSyncLeavesSharedFetchClientAlone(t *testing.T) {
	ctx := context.Background()
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "a file an apt mirror wants")
	}))
	defer files.Close()
	up := startUpstream(t)
	up.Faults.User.Store("alice")
	up.Faults.Password.Store("secret")
	mirror := func(s store.Store, fc *fetch.Client) *Mirror {
		m := newMirror(up, s, "library/alpine:3.19")
		m.Registries[0].Username, m.Registries[0].Password = "alice", "secret"
		m.Fetch = fc
		return m
	}

	t.Run("used before", func(t *testing.T) {
		s := store.NewMemory()
		shared := &fetch.Client{Store: s, Retries: -1}
		_, err := shared.Fetch(ctx, fetch.Request{URL: files.URL + "/one"})
		require.NoError(t, err)
		_, err = mirror(s, shared).Sync(ctx)
		require.NoError(t, err, "the blobs must carry the registry credentials")
	})
	t.Run("used after", func(t *testing.T) {
		s := store.NewMemory()
		shared := &fetch.Client{Store: s, Retries: -1}
		_, err := mirror(s, shared).Sync(ctx)
		require.NoError(t, err)
		assert.Nil(t, shared.HTTP, "Sync changed the caller's fetch.Client")
		_, err = shared.Fetch(ctx, fetch.Request{URL: files.URL + "/two"})
		require.NoError(t, err, "a plain-http download after an oci sync on the same client")
	})
}

// A cancelled sync must not poison the Mirror: the registry ping it aborted is asked again.
func TestSyncAfterCancelledSync(t *testing.T) {
	up := startUpstream(t)
	s := store.NewMemory()
	m := newMirror(up, s, "library/alpine:3.19")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := m.Sync(ctx)
	require.ErrorIs(t, err, context.Canceled)
	_, err = m.Sync(context.Background())
	require.NoError(t, err)
}

// A sync that finds nothing new publishes nothing: no new generation (gc --keep N keeps
// real history; incremental bundles carry no fresh snapshot).
func TestNoOpSyncPublishesNothing(t *testing.T) {
	ctx := context.Background()
	up := startUpstream(t)
	s := store.NewMemory()
	m := newMirror(up, s, "library/alpine:3.19", "library/multi:1.0", "tools/db:2")
	m.Referrers = true
	m.Platforms = []string{"linux/amd64"}
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.False(t, st.UpToDate)
	before, err := s.Ref(ctx, m.Ref())
	require.NoError(t, err)

	st, err = m.Sync(ctx)
	require.NoError(t, err)
	assert.True(t, st.UpToDate)
	assert.Equal(t, 3, st.Unchanged)
	after, err := s.Ref(ctx, m.Ref())
	require.NoError(t, err)
	assert.Equal(t, before, after, "a no-op sync published a new generation")
	hist, err := store.History(ctx, s, m.Ref(), 0)
	require.NoError(t, err)
	assert.Len(t, hist, 1)

	// A real change still publishes.
	m.Images = append(m.Images, up.Ref("library/app:1.0.0"))
	st, err = m.Sync(ctx)
	require.NoError(t, err)
	assert.False(t, st.UpToDate)
	hist, err = store.History(ctx, s, m.Ref(), 0)
	require.NoError(t, err)
	assert.Len(t, hist, 2)
}
