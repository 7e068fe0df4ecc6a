package pypi_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
)

// Plan resolves as Sync does and lists the distributions with the index's sha256 and
// PEP 700 size, downloading none: a file whose metadata is only inside it (nometa, and
// missingmeta whose .metadata answers 404) is not read, and its dependencies are said to
// be unknown. The Sync then downloads those two while resolving, hands Preflight the
// same distributions before fetching the rest, and fetches exactly what was planned; a
// Preflight that refuses stops it there, nothing published.
func TestPlanMatchesSync(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, demoProjects()...)
	m := e.mirror(demoRequirements...)
	p, err := m.Plan(ctx)
	require.NoError(t, err)
	var dists store.Plan
	var unknown []string
	for _, it := range p.Items {
		if it.Size == store.UnknownSize {
			unknown = append(unknown, it.Name)
			assert.Empty(t, it.Digest)
			continue
		}
		require.NotEmpty(t, it.Digest, it.Name)
		has, err := e.store.Has(ctx, it.Digest)
		require.NoError(t, err)
		assert.False(t, has, "a plan downloads no distribution: %s", it.Name)
		dists.Items = append(dists.Items, it)
	}
	assert.Equal(t, []string{"dependencies of missingmeta-1.0-py3-none-any.whl", "dependencies of nometa-1.0-py3-none-any.whl"}, unknown)
	_, _, requests, _ := e.up.Requests()
	assert.Positive(t, requests, "metadata files read")
	f, err := store.NewTally().Add(ctx, e.store, dists)
	require.NoError(t, err)
	assert.Equal(t, 13, f.Fetch)

	refuse := errors.New("no room")
	var handed []store.Plan
	m.Preflight = func(_ context.Context, p store.Plan) error {
		handed = append(handed, p)
		return refuse
	}
	_, err = m.Sync(ctx)
	require.ErrorIs(t, err, refuse)
	require.Len(t, handed, 1)
	assert.Equal(t, dists, handed[0], "Sync plans as Plan does")
	_, _, err = store.OpenPublished(ctx, e.store, m.Ref())
	require.ErrorIs(t, err, store.ErrNotFound, "nothing published")
	for _, it := range dists.Items {
		has, _ := e.store.Has(ctx, it.Digest)
		read := strings.Contains(it.Name, "/nometa-") || strings.Contains(it.Name, "/missingmeta-")
		assert.Equal(t, read, has, "only what resolution read is stored: %s", it.Name)
	}

	e.store = store.NewMemory()
	m = e.mirror(demoRequirements...)
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.Equal(t, f.Fetch, st.Downloaded)
	assert.Equal(t, f.FetchBytes, st.DownloadedBytes)
	assert.Equal(t, len(dists.Items), st.Files)

	// an HTML page gives no size (PEP 700 is JSON only): unknown, not guessed
	e.up.Format = "html"
	p, err = e.mirror(demoRequirements...).Plan(ctx)
	require.NoError(t, err)
	for _, it := range p.Items {
		assert.Equal(t, int64(store.UnknownSize), it.Size, it.Name)
	}
}
