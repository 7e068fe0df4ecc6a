package rpm_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
)

// Plan reads the metadata as Sync does and lists the selected packages with the size and
// sha256 primary gives, downloading none; a Sync hands Preflight the same list before it
// fetches a package (a refusing one stops it there, nothing published), then publishes
// and fetches exactly those packages.
func TestPlanMatchesSync(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	m := e.mirror(false)
	m.Filter = httpdFilter
	p, err := m.Plan(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, p.Items)
	var bytes int64
	for _, it := range p.Items {
		require.NotEmpty(t, it.Digest, it.Name)
		require.Positive(t, it.Size, it.Name)
		assert.True(t, strings.HasSuffix(it.Name, ".rpm"), it.Name)
		has, err := e.store.Has(ctx, it.Digest)
		require.NoError(t, err)
		assert.False(t, has, "a plan downloads no package: %s", it.Name)
		bytes += it.Size
	}

	refuse := errors.New("no room")
	var handed []store.Plan
	m.Preflight = func(_ context.Context, p store.Plan) error {
		handed = append(handed, p)
		return refuse
	}
	_, err = m.Sync(ctx)
	require.ErrorIs(t, err, refuse)
	require.Len(t, handed, 1)
	assert.Equal(t, p, handed[0], "Sync plans as Plan does")
	_, _, err = store.OpenPublished(ctx, e.store, m.Ref())
	require.ErrorIs(t, err, store.ErrNotFound, "nothing published")
	for _, it := range p.Items {
		has, _ := e.store.Has(ctx, it.Digest)
		assert.False(t, has, "refused before any package: %s", it.Name)
	}

	e.store = store.NewMemory()
	m = e.mirror(false)
	m.Filter = httpdFilter
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.Equal(t, len(p.Items), st.Packages)
	assert.Equal(t, bytes, st.Bytes)
	snap, _, err := store.OpenPublished(ctx, e.store, m.Ref())
	require.NoError(t, err)
	for _, it := range p.Items {
		f, ok := snap.Lookup(it.Name)
		if assert.True(t, ok, it.Name) {
			assert.Equal(t, it.Digest, f.Digest, it.Name)
		}
	}
}
