package galaxy

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/galaxy/galaxytest"
	"github.com/airgapkit/airgap/store"
)

// Plan lists the artifacts a sync publishes with the sizes and sha256 Galaxy gives,
// downloading none; roles are of unknown size; after the sync the artifacts are held.
func TestPlan(t *testing.T) {
	ctx := context.Background()
	_, u := upstream(t, galaxytest.Options{PageSize: 4})
	s := store.NewMemory()
	m := testMirror(s, u)
	p, err := m.Plan(ctx)
	require.NoError(t, err)
	before, err := store.NewTally().Add(ctx, s, p)
	require.NoError(t, err)

	st, err := m.Sync(ctx)
	require.NoError(t, err)
	snap, _, err := store.OpenPublished(ctx, s, m.Ref())
	require.NoError(t, err)
	var n int
	var size int64
	for _, path := range snap.Paths() {
		if strings.HasPrefix(path, "artifacts/") {
			n++
			size += snap.Files[path].Size
		}
	}
	require.Equal(t, st.Versions, n)
	roles := len(m.Roles)
	assert.Equal(t, store.PlanFigures{Items: n + roles, Fetch: n + roles, FetchBytes: size, Unknown: roles}, before)

	p, err = m.Plan(ctx)
	require.NoError(t, err)
	after, err := store.NewTally().Add(ctx, s, p)
	require.NoError(t, err)
	assert.Equal(t, store.PlanFigures{Items: n + roles, Held: n, HeldBytes: size, Fetch: roles, Unknown: roles}, after)
}
