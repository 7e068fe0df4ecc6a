package rpm_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/rpm/rpmtest"
)

// TestPristineByteIdentical: a pristine mirror holds the upstream's repodata and
// packages byte for byte, and a second sync of an unchanged upstream is one conditional
// GET of repomd.xml and one of repomd.xml.asc per repository, both 304, and publishes
// nothing.
func TestPristineByteIdentical(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	m := e.mirror(true)
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	require.True(t, st.Changed)
	require.Equal(t, len(e.tree.Packages), st.Packages)
	for p, want := range e.tree.Files {
		got, ok := e.published(t, m, p)
		require.True(t, ok, p)
		require.True(t, bytes.Equal(want, got), p)
	}

	e.upstream.ResetCounts()
	st, err = m.Sync(ctx)
	require.NoError(t, err)
	require.False(t, st.Changed)
	require.Equal(t, 4, e.upstream.Count(""), "two requests per repository")
	require.Equal(t, 4, e.upstream.NotModified())
	for _, r := range []string{rpmtest.BaseOS, rpmtest.AppStream} {
		require.Equal(t, 1, e.upstream.Count(r+"/repodata/repomd.xml"))
		require.Equal(t, 1, e.upstream.Count(r+"/repodata/repomd.xml.asc"))
	}
	require.Equal(t, len(e.tree.Packages), st.Packages)
}
