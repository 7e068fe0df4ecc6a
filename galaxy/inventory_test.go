package galaxy

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/galaxy/galaxytest"
	"github.com/airgapkit/airgap/store"
)

// TestInventory: every collection artifact and role archive the tree holds, from the
// mirror's records, with what vouched for it as the generation's trust settings say.
func TestInventory(t *testing.T) {
	ctx := context.Background()
	up, u := upstream(t, galaxytest.Options{})
	s := store.NewMemory()
	m := testMirror(s, u)
	m.Collections = []CollectionSpec{{Name: "acme.app", Version: "==1.0.0"}}
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	items, err := Inventory(ctx, s, m.Ref())
	require.NoError(t, err)
	snap, _, err := store.OpenPublished(ctx, s, m.Ref())
	require.NoError(t, err)
	var got []string
	for _, it := range items {
		f, ok := snap.Lookup(it.Path)
		require.True(t, ok, it.Path)
		assert.Equal(t, f.Digest, it.Digest)
		assert.Equal(t, f.Size, it.Size)
		assert.Equal(t, "library", it.Type)
		got = append(got, it.Path+" "+it.Name+" "+it.Version+" "+it.PURL)
	}
	assert.Equal(t, []string{
		"artifacts/acme-app-1.0.0.tar.gz acme.app 1.0.0 pkg:ansible/acme/app@1.0.0?repository_url=" + purlEscaped(u),
		"artifacts/acme-lib-1.1.0.tar.gz acme.lib 1.1.0 pkg:ansible/acme/lib@1.1.0?repository_url=" + purlEscaped(u),
		"roles/jdoe/web/1.1.0.tar.gz jdoe.web 1.1.0 ",
		"roles/jdoe/web/2.0.0.tar.gz jdoe.web 2.0.0 ",
	}, got)
	assert.Equal(t, u+"/download/acme-app-1.0.0.tar.gz", items[0].Upstream)
	assert.Equal(t, "artifact sha256 from "+u+" and the artifact's FILES.json", items[0].VouchedBy)
	assert.Equal(t, u+"/roles/jdoe/web/2.0.0.tar.gz", items[3].Upstream)
	assert.Empty(t, items[3].VouchedBy, "Galaxy has no checksum for roles")

	// Without the content check, and with an upstream that gives no sha256.
	m.SkipArtifactCheck = true
	_, err = m.Sync(ctx)
	require.NoError(t, err)
	items, err = Inventory(ctx, s, m.Ref())
	require.NoError(t, err)
	assert.Equal(t, "artifact sha256 from "+u, items[0].VouchedBy)
	up.SetFaults(galaxytest.Faults{NoSHA256: true})
	m.AllowMissingChecksum, m.SkipArtifactCheck = true, false
	m.Collections = []CollectionSpec{{Name: "acme.many", Latest: 1}}
	_, err = m.Sync(ctx)
	require.NoError(t, err)
	items, err = Inventory(ctx, s, m.Ref())
	require.NoError(t, err)
	assert.Equal(t, "acme.many", items[0].Name)
	assert.Equal(t, "the artifact's own MANIFEST.json and FILES.json only ("+u+" gave no sha256)", items[0].VouchedBy)
}

// TestInventoryDefaultRepository: collections from galaxy.ansible.com carry no
// repository_url; a generation without recorded trust claims no content check.
func TestInventoryDefaultRepository(t *testing.T) {
	ctx := context.Background()
	_, u := upstream(t, galaxytest.Options{})
	s := store.NewMemory()
	m := testMirror(s, u)
	m.Collections, m.Roles = []CollectionSpec{{Name: "acme.lib", Version: "==1.0.0"}}, nil
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	snap, _, err := store.OpenPublished(ctx, s, m.Ref())
	require.NoError(t, err)
	snap.Annotations[annUpstream] = "https://galaxy.ansible.com/"
	d, err := store.WriteSnapshot(ctx, s, snap)
	require.NoError(t, err)
	_, err = store.Publish(ctx, s, "galaxy/public", "", d)
	require.NoError(t, err)
	items, err := Inventory(ctx, s, "galaxy/public")
	require.NoError(t, err)
	require.Len(t, items, 1)
	assert.Equal(t, "pkg:ansible/acme/lib@1.0.0", items[0].PURL)
	assert.Equal(t, "artifact sha256 from https://galaxy.ansible.com/", items[0].VouchedBy)
}

func purlEscaped(s string) string {
	return store.PURL("x", "", "x", "", map[string]string{"q": s})[len("pkg:x/x?q="):]
}
