package oci

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/airgapkit/airgap/oci/ocitest"
	"github.com/airgapkit/airgap/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// events counts the Progress events of a sync by digest.
type events struct {
	mu sync.Mutex
	n  map[store.Digest]int
}

func (e *events) add(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == nil {
		e.n = map[store.Digest]int{}
	}
	e.n[ev.Digest]++
}

func (e *events) total() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, c := range e.n {
		n += c
	}
	return n
}

// manifestHeads counts the HEAD requests for manifests among a registry's requests.
func manifestHeads(reqs []string) int {
	n := 0
	for _, r := range reqs {
		if strings.HasPrefix(r, "HEAD ") && strings.Contains(r, "/manifests/") {
			n++
		}
	}
	return n
}

// TestSyncWalksEachManifestOnce: an index that lists one child index 1000 times, which
// lists one image 1000 times (a million paths in 300 KiB), is copied by walking each
// manifest once: the image's two blobs are handled once each, not a million times, and
// pushing the mirror on asks the target about each child once.
func TestSyncWalksEachManifestOnce(t *testing.T) {
	ctx := context.Background()
	up, err := ocitest.StartEmpty()
	require.NoError(t, err)
	defer up.Close()
	fan := ocitest.FanOut(1000, false)
	require.NoError(t, up.PushManifest(ctx, "fan/out", "1", fan))

	s := store.NewMemory()
	var ev events
	m := newMirror(up, s, "fan/out:1")
	m.Progress = ev.add
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, st.Manifests)
	assert.Equal(t, 2, st.Blobs)
	assert.Equal(t, 2, ev.total(), "each blob handled once")

	target, err := ocitest.StartEmpty()
	require.NoError(t, err)
	defer target.Close()
	c := &Client{Registries: []RegistryConfig{{Host: target.Host, PlainHTTP: true}}}
	ps, err := Push(ctx, s, m.Ref(), Mapping{Registry: target.Host, StripRegistry: true}, PushOptions{Client: c})
	require.NoError(t, err)
	assert.Equal(t, 3, ps.Manifests)
	assert.LessOrEqual(t, manifestHeads(target.Requests()), 3, "the tag, the child index and the image: one HEAD each")
}

// TestSyncDescriptorLimit: 320 distinct child indexes that each list the same 320 images
// (103360 descriptors) are refused under the default limit, with nothing published; with
// MaxDescriptors raised they are copied, each manifest once.
func TestSyncDescriptorLimit(t *testing.T) {
	ctx := context.Background()
	up, err := ocitest.StartEmpty()
	require.NoError(t, err)
	defer up.Close()
	require.NoError(t, up.PushManifest(ctx, "fan/out", "1", ocitest.FanOut(320, true)))

	s := store.NewMemory()
	m := newMirror(up, s, "fan/out:1")
	_, err = m.Sync(ctx)
	require.ErrorIs(t, err, ErrTooManyDescriptors)
	require.ErrorIs(t, err, store.ErrTooLarge)
	assert.ErrorContains(t, err, "more than 100000")
	_, _, err = store.OpenPublished(ctx, s, m.Ref())
	require.ErrorIs(t, err, store.ErrNotFound, "nothing published")

	var ev events
	m = newMirror(up, s, "fan/out:1")
	m.MaxDescriptors, m.Progress = 200_000, ev.add
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1+320+320, st.Manifests)
	assert.Equal(t, 2*320, ev.total(), "the config and layer once per image, not once per path")
}

// chain returns an index over top whose first entry is shared (reached at depth 2) and
// whose second reaches the same manifest again at depth 2+links.
func chain(shared ocitest.Manifest, links int) ocitest.Manifest {
	m := shared
	for range links {
		m = ocitest.Index(false, m)
	}
	return ocitest.Index(false, shared, m)
}

// TestSyncDepthLimit: a tree may hold chains of MaxManifestDepth manifests, not one more,
// also when the long chain reaches a manifest that a short one expanded before; Copy and
// Push keep the same limit.
func TestSyncDepthLimit(t *testing.T) {
	ctx := context.Background()
	up, err := ocitest.StartEmpty()
	require.NoError(t, err)
	defer up.Close()
	shared := ocitest.Nested(3)
	for tag, m := range map[string]ocitest.Manifest{
		"8": ocitest.Nested(MaxManifestDepth), "9": ocitest.Nested(MaxManifestDepth + 1),
		"shared-8": chain(shared, 4), "shared-9": chain(shared, 5),
	} {
		require.NoError(t, up.PushManifest(ctx, "deep/x", tag, m))
	}
	for _, tag := range []string{"8", "shared-8"} {
		s := store.NewMemory()
		st, err := newMirror(up, s, "deep/x:"+tag).Sync(ctx)
		require.NoError(t, err, tag)
		assert.Positive(t, st.Manifests)
	}
	for _, tag := range []string{"9", "shared-9"} {
		s := store.NewMemory()
		m := newMirror(up, s, "deep/x:"+tag)
		_, err := m.Sync(ctx)
		require.ErrorIs(t, err, ErrTooDeep, tag)
		require.ErrorIs(t, err, store.ErrTooLarge, tag)
		assert.ErrorContains(t, err, "9 manifests deep (limit 8)")
		_, _, err = store.OpenPublished(ctx, s, m.Ref())
		require.ErrorIs(t, err, store.ErrNotFound, "nothing published")
	}

	target, err := ocitest.StartEmpty()
	require.NoError(t, err)
	defer target.Close()
	c := &Client{Registries: []RegistryConfig{{Host: up.Host, PlainHTTP: true}, {Host: target.Host, PlainHTTP: true}}}
	to := Mapping{Registry: target.Host, StripRegistry: true}
	_, err = Copy(ctx, Selection{Images: []string{up.Ref("deep/x:shared-8")}}, to, PushOptions{Client: c})
	require.NoError(t, err)
	to.Prefix = "fresh" // a target that holds part of a tree is not asked below it
	_, err = Copy(ctx, Selection{Images: []string{up.Ref("deep/x:9")}}, to, PushOptions{Client: c})
	require.ErrorIs(t, err, ErrTooDeep)
}

// TestCopyWalksEachManifestOnce: Copy of 100 distinct child indexes listing the same 100
// images asks the target about each manifest once (201 HEADs, not 10100), and
// MaxDescriptors holds for it as for Sync.
func TestCopyWalksEachManifestOnce(t *testing.T) {
	ctx := context.Background()
	up, err := ocitest.StartEmpty()
	require.NoError(t, err)
	defer up.Close()
	require.NoError(t, up.PushManifest(ctx, "fan/out", "1", ocitest.FanOut(100, true)))
	target, err := ocitest.StartEmpty()
	require.NoError(t, err)
	defer target.Close()
	c := &Client{Registries: []RegistryConfig{{Host: up.Host, PlainHTTP: true}, {Host: target.Host, PlainHTTP: true}}}
	to := Mapping{Registry: target.Host, StripRegistry: true}

	st, err := Copy(ctx, Selection{Images: []string{up.Ref("fan/out:1")}}, to, PushOptions{Client: c})
	require.NoError(t, err)
	assert.Equal(t, 1+100+100, st.Manifests)
	assert.LessOrEqual(t, manifestHeads(target.Requests()), 1+100+100)

	to.Prefix = "limited"
	_, err = Copy(ctx, Selection{Images: []string{up.Ref("fan/out:1")}}, to, PushOptions{Client: c, MaxDescriptors: 5000})
	require.ErrorIs(t, err, ErrTooManyDescriptors)
}
