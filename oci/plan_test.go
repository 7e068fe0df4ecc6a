package oci

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
)

// Plan reads every manifest as Sync does (platforms filtered, referrers followed) and
// lists the manifests and blobs with their descriptors' digests and sizes, fetching no
// blob; a Sync into an empty store publishes exactly those and fetches exactly those
// blobs, after handing the same plan to Preflight, and a Preflight that refuses stops it
// before any blob is fetched.
func TestPlanMatchesSync(t *testing.T) {
	ctx := context.Background()
	up := startUpstream(t)
	mirror := func(s store.Store) *Mirror {
		m := newMirror(up, s, "library/alpine:3.19", "library/alpine-copy:3.19", "library/multi:1.0", "tools/db:2")
		m.Referrers, m.Platforms = true, []string{"linux/amd64"}
		return m
	}
	planned := store.NewMemory()
	up.Requests()
	p, err := mirror(planned).Plan(ctx)
	require.NoError(t, err)
	for _, r := range up.Requests() {
		assert.NotContains(t, r, "/blobs/", "a plan fetches no blob")
	}
	var blobs int
	for _, it := range p.Items {
		require.NotEmpty(t, it.Digest, it.Name)
		require.Positive(t, it.Size, it.Name)
		if strings.Contains(it.Name, layersDir) {
			blobs++
			has, err := planned.Has(ctx, it.Digest)
			require.NoError(t, err)
			assert.False(t, has, "a plan stores no blob: %s", it.Name)
		}
	}
	assert.Positive(t, blobs)

	s := store.NewMemory()
	m := mirror(s)
	refuse := errors.New("no room")
	var handed []store.Plan
	m.Preflight = func(_ context.Context, p store.Plan) error {
		handed = append(handed, p)
		return refuse
	}
	_, err = m.Sync(ctx)
	require.ErrorIs(t, err, refuse)
	require.Len(t, handed, 1)
	assert.ElementsMatch(t, contents(p), contents(handed[0]), "Sync plans as Plan does")
	for _, r := range up.Requests() {
		assert.NotContains(t, r, "/blobs/", "refused before any blob")
	}
	_, _, err = store.OpenPublished(ctx, s, m.Ref())
	require.ErrorIs(t, err, store.ErrNotFound, "nothing published")

	s = store.NewMemory()
	m = mirror(s)
	var mu sync.Mutex
	var fetched []Event
	m.Progress = func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		if !e.Cached {
			fetched = append(fetched, e)
		}
	}
	_, err = m.Sync(ctx)
	require.NoError(t, err)
	var blobBytes int64
	for _, it := range p.Items {
		if strings.Contains(it.Name, layersDir) {
			blobBytes += it.Size
		}
	}
	var got []store.PlannedItem
	seen := map[store.Digest]bool{}
	snap := published(t, s, m.Ref())
	for _, path := range snap.Paths() {
		f := snap.Files[path]
		if (strings.Contains(path, revisionsDir) || strings.Contains(path, layersDir)) && !seen[f.Digest] {
			seen[f.Digest] = true
			got = append(got, store.PlannedItem{Digest: f.Digest, Size: f.Size})
		}
	}
	assert.ElementsMatch(t, contents(p), got, "the plan lists what the sync publishes")
	var n int64
	for _, e := range fetched {
		n += e.Size
	}
	assert.Len(t, fetched, blobs, "the sync fetches the planned blobs")
	assert.Equal(t, blobBytes, n)
}

// contents is p without the names (a blob two repositories share is named after either).
func contents(p store.Plan) []store.PlannedItem {
	out := make([]store.PlannedItem, len(p.Items))
	for i, it := range p.Items {
		out[i] = store.PlannedItem{Digest: it.Digest, Size: it.Size}
	}
	return out
}
