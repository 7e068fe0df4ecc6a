package oci

import (
	"context"
	"encoding/json"
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
	assert.True(t, st.Changed)
	before, err := s.Ref(ctx, m.Ref())
	require.NoError(t, err)

	st, err = m.Sync(ctx)
	require.NoError(t, err)
	assert.False(t, st.Changed)
	assert.Equal(t, 3, st.Unchanged)
	// Only the cosign signature's manifest is fetched again (its tag is listed, not
	// HEADed); every other manifest and blob of the tree is found stored.
	assert.Equal(t, 1, st.Downloaded)
	stored := map[store.Digest]bool{}
	for p, f := range published(t, s, m.Ref()).Files {
		if _, kind, _, _ := parsePath(p); kind != "tag" {
			stored[f.Digest] = true
		}
	}
	assert.Equal(t, len(stored)-st.Downloaded, st.Reused)
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
	assert.True(t, st.Changed)
	hist, err = store.History(ctx, s, m.Ref(), 0)
	require.NoError(t, err)
	assert.Len(t, hist, 2)
}

// A sync under other trust settings verifies again: pointed at another endpoint for the
// same registry name, it does not take the one-HEAD shortcut for an unchanged image (the
// digests it would compare were believed from the old endpoint) but fetches every
// manifest, and publishes a generation that records the new settings, though the files
// are the same. Under the same settings again it is a no-op.
func TestTrustChangeReverifies(t *testing.T) {
	ctx := context.Background()
	up1, up2 := startUpstream(t), startUpstream(t) // the same images
	s := store.NewMemory()
	m := newMirror(up1, s, "library/alpine:3.19", "library/multi:1.0")
	m.Registries[0].Endpoint = up1.Host
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	require.True(t, st.Changed)
	before := published(t, s, m.Ref())

	m = newMirror(up1, s, "library/alpine:3.19", "library/multi:1.0") // a Mirror reads Registries once
	m.Registries[0].Endpoint = up2.Host
	up2.Requests()
	st, err = m.Sync(ctx)
	require.NoError(t, err)
	assert.True(t, st.Changed, "the new trust settings must be recorded")
	assert.Zero(t, st.Unchanged, "the one-HEAD shortcut was taken under changed trust")
	reqs := up2.Requests()
	for _, want := range []string{"GET /v2/library/alpine/manifests/3.19", "GET /v2/library/multi/manifests/1.0"} {
		assert.Contains(t, reqs, want)
	}
	g, err := store.Current(ctx, s, m.Ref())
	require.NoError(t, err)
	assert.Equal(t, up2.Host, g.Trust.Switches()["Registries[0].Endpoint"])
	assert.True(t, before.Equal(published(t, s, m.Ref())), "same images, same tree")

	st, err = m.Sync(ctx)
	require.NoError(t, err)
	assert.False(t, st.Changed)
	assert.Equal(t, 2, st.Unchanged)
}

// Mirror.Trust covers every registry setting that says whom a digest is believed from,
// including those of a Client the program sets, and no credentials.
func TestMirrorTrust(t *testing.T) {
	base := func() *Mirror {
		return &Mirror{Name: "x", Registries: []RegistryConfig{{Host: "r.example", Username: "u", Password: "secret"}}}
	}
	fp := base().Trust().Fingerprint()
	for name, change := range map[string]func(m *Mirror){
		"PlainHTTP": func(m *Mirror) { m.Registries[0].PlainHTTP = true },
		"Endpoint":  func(m *Mirror) { m.Registries[0].Endpoint = "mirror.example" },
		"Host":      func(m *Mirror) { m.Registries[0].Host = "other.example" },
		"registries": func(m *Mirror) {
			m.Registries = append(m.Registries, RegistryConfig{Host: "b.example", PlainHTTP: true})
		},
		"Client": func(m *Mirror) {
			m.Client = &Client{Registries: []RegistryConfig{{Host: "r.example", PlainHTTP: true}}}
		},
	} {
		m := base()
		change(m)
		assert.NotEqual(t, fp, m.Trust().Fingerprint(), name)
	}
	m := base()
	m.Registries[0].Password = "other"
	assert.Equal(t, fp, m.Trust().Fingerprint(), "credentials are not trust settings")
	b, err := json.Marshal(base().Trust())
	require.NoError(t, err)
	assert.NotContains(t, string(b), "secret")
}
