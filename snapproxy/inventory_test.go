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

// Inventory names each snap file from manifest.json, with the root key its assertions
// chain to, and says so when the chain was not verified.
func TestInventory(t *testing.T) {
	ctx := context.Background()
	srv := newStore(t, snapproxytest.Options{})
	s := store.NewMemory()
	m := newMirror(t, srv, s)
	m.Snaps = []SnapSpec{{Name: "hello", Channel: "latest/stable", Architectures: []string{"amd64"}}}
	m.NoDependencies = true
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	items, err := Inventory(ctx, s, m.Ref())
	require.NoError(t, err)
	require.Len(t, items, 1)
	out, err := ReadOutput(ctx, s, m.Ref())
	require.NoError(t, err)
	ms := out.Manifest.Snaps[0]
	f, _ := out.Snapshot.Lookup("hello_7.snap")
	assert.Equal(t, store.Item{
		Type: "application", Name: "hello", Version: "1.7",
		PURL:      "pkg:generic/hello@1.7?checksum=sha3-384:" + ms.SHA3_384,
		Path:      "hello_7.snap",
		Digest:    f.Digest,
		Size:      f.Size,
		Upstream:  srv.URL(),
		VouchedBy: "snap-revision assertion (sha3-384 " + ms.SHA3_384 + ") chained to root key " + srv.Root.ID,
	}, items[0])

	m.Trust, m.InsecureSkipSignature = nil, true
	_, err = m.Sync(ctx)
	require.NoError(t, err)
	items, err = Inventory(ctx, s, m.Ref())
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(items[0].VouchedBy, "signatures not verified (insecure_skip_signature)"), items[0].VouchedBy)
}

func TestChainRoots(t *testing.T) {
	set, _ := canonicalChain(t)
	assert.Equal(t, []string{snapproxytest.CanonicalRootKeyID}, chainRoots(set))
}
