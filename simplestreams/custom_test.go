package simplestreams_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/simplestreams"
	"github.com/airgapkit/airgap/store"
)

// TestCustomImages: a custom image is published in the re-signed tree as a product of
// the centos-bases document, beside the upstream's products (which stay as they are),
// and Canonical's client (the strict one, gpgv with the operator's keyring) lists it and
// fetches its root-tgz and manifest, checked against the sha256 and size computed at
// sync. A changed file republishes; a pristine mirror refuses custom images.
func TestCustomImages(t *testing.T) {
	ctx := context.Background()
	img := filepath.Join(t.TempDir(), "rocky9.tar.gz")
	require.NoError(t, os.WriteFile(img, []byte("a packer-maas root tarball"), 0o644))
	custom := simplestreams.CustomImage{OS: "rocky", Release: "rocky9", Version: "9", ReleaseTitle: "Rocky Linux 9",
		Arch: "amd64", Ftype: "root-tgz", File: img}

	plain := newEnv(t, nil)
	_, err := plain.m.Sync(ctx)
	require.NoError(t, err)
	before, err := serveTree(t, plain, operatorKey, "").Items(ctx)
	require.NoError(t, err)

	e := newEnv(t, func(m *simplestreams.Mirror) { m.Custom = []simplestreams.CustomImage{custom} })
	st, err := e.m.Sync(ctx)
	require.NoError(t, err)
	require.True(t, st.Changed)
	c := serveTree(t, e, operatorKey, "")
	items, err := c.Items(ctx)
	require.NoError(t, err)
	require.Len(t, items, len(before)+2, "the upstream's items stay, two are added")
	got := map[string][]byte{}
	for _, it := range items {
		if it.Flat["product_name"] != "com.ubuntu.maas.stable:rocky-bases:9:amd64" {
			continue
		}
		require.Equal(t, simplestreams.CustomContentID, it.ContentID)
		require.Equal(t, "rocky", it.Flat["os"])
		require.Equal(t, "Rocky Linux 9", it.Flat["release_title"])
		b, err := c.Fetch(ctx, it)
		require.NoError(t, err)
		got[it.Flat["ftype"]] = b
	}
	require.Equal(t, []byte("a packer-maas root tarball"), got["root-tgz"])
	require.Contains(t, string(got["manifest"]), "root-tgz")

	st, err = e.m.Sync(ctx)
	require.NoError(t, err)
	require.False(t, st.Changed, "nothing changed")
	require.NoError(t, os.WriteFile(img, []byte("a newer root tarball"), 0o644))
	st, err = e.m.Sync(ctx)
	require.NoError(t, err)
	require.True(t, st.Changed, "a changed image republishes")

	p := newEnv(t, func(m *simplestreams.Mirror) { m.Pristine, m.Custom = true, []simplestreams.CustomImage{custom} })
	_, err = p.m.Sync(ctx)
	require.ErrorIs(t, err, store.ErrConfig)
	bad := custom
	bad.Ftype = "zip"
	b := newEnv(t, func(m *simplestreams.Mirror) { m.Custom = []simplestreams.CustomImage{bad} })
	_, err = b.m.Sync(ctx)
	require.ErrorIs(t, err, simplestreams.ErrConfig)
}
