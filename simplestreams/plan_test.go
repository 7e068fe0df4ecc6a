package simplestreams_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
)

// Plan reads the documents as Sync does and lists the selected items with the sizes and
// sha256 the documents give, downloading none; a Sync then fetches exactly that, after
// handing the same plan to Preflight, and a Preflight that refuses stops it before any
// item is fetched, with nothing published.
func TestPlanMatchesSync(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	p, err := e.m.Plan(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, p.Items)
	for _, it := range p.Items {
		require.NotEmpty(t, it.Digest, it.Name)
		require.Positive(t, it.Size, it.Name)
		has, err := e.st.Has(ctx, it.Digest)
		require.NoError(t, err)
		assert.False(t, has, "a plan downloads no item: %s", it.Name)
	}
	f, err := store.NewTally().Add(ctx, e.st, p)
	require.NoError(t, err)

	refuse := errors.New("no room")
	var handed []store.Plan
	e.m.Preflight = func(_ context.Context, p store.Plan) error {
		handed = append(handed, p)
		return refuse
	}
	_, err = e.m.Sync(ctx)
	require.ErrorIs(t, err, refuse)
	require.Len(t, handed, 1)
	assert.Equal(t, p, handed[0], "Sync plans as Plan does")
	_, _, err = store.OpenPublished(ctx, e.st, e.m.Ref())
	require.ErrorIs(t, err, store.ErrNotFound, "nothing published")
	for _, it := range p.Items {
		has, _ := e.st.Has(ctx, it.Digest)
		assert.False(t, has, "refused before any download: %s", it.Name)
	}

	e.m.Preflight = func(_ context.Context, p store.Plan) error {
		handed = append(handed, p)
		return nil
	}
	st := e.sync(t)
	assert.Equal(t, f.Fetch, st.Downloaded)
	assert.Equal(t, f.FetchBytes, st.DownloadedBytes)
	assert.Equal(t, len(p.Items), st.Items)

	// a no-op sync has nothing to check; a plan of the synced mirror holds everything
	handed = nil
	st = e.sync(t)
	assert.False(t, st.Changed)
	assert.Empty(t, handed)
	p, err = e.m.Plan(ctx)
	require.NoError(t, err)
	f, err = store.NewTally().Add(ctx, e.st, p)
	require.NoError(t, err)
	assert.Equal(t, store.PlanFigures{Items: len(p.Items), Held: len(p.Items), HeldBytes: sumSizes(p)}, f)
}

func sumSizes(p store.Plan) (n int64) {
	for _, it := range p.Items {
		n += it.Size
	}
	return n
}
