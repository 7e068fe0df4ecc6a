package snapproxy

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/snapproxy/snapproxytest"
	"github.com/airgapkit/airgap/store"
)

// Plan lists the .snap files a sync publishes with the store's sizes, downloading
// nothing; after the sync every one of them counts as held.
func TestPlan(t *testing.T) {
	ctx := context.Background()
	srv := newStore(t, snapproxytest.Options{})
	s := store.NewMemory()
	m := newMirror(t, srv, s)
	p, err := m.Plan(ctx)
	require.NoError(t, err)
	assert.Zero(t, srv.Downloads(), "a plan downloads nothing")
	before, err := store.NewTally().Add(ctx, s, p)
	require.NoError(t, err)

	_, err = m.Sync(ctx)
	require.NoError(t, err)
	snap, _, err := store.OpenPublished(ctx, s, m.Ref())
	require.NoError(t, err)
	var files int
	var bytes int64
	for _, path := range snap.Paths() {
		if strings.HasSuffix(path, ".snap") {
			files++
			bytes += snap.Files[path].Size
		}
	}
	require.Positive(t, files)
	assert.Equal(t, store.PlanFigures{Items: files, Fetch: files, FetchBytes: bytes}, before)
	for _, it := range p.Items {
		f, ok := snap.Lookup(it.Name)
		require.True(t, ok, it.Name)
		assert.Equal(t, f.Size, it.Size, it.Name)
	}

	p, err = m.Plan(ctx)
	require.NoError(t, err)
	after, err := store.NewTally().Add(ctx, s, p)
	require.NoError(t, err)
	assert.Equal(t, store.PlanFigures{Items: files, Held: files, HeldBytes: bytes}, after)
}
