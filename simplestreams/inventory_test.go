package simplestreams_test

import (
	"context"
	"crypto/md5"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/simplestreams"
	"github.com/airgapkit/airgap/simplestreams/simplestreamstest"
	"github.com/airgapkit/airgap/store"
)

// TestInventory: the items a tree holds, one per product version item with a file, as the
// published documents name them, with what vouched for each.
func TestInventory(t *testing.T) {
	for _, pristine := range []bool{false, true} {
		t.Run(map[bool]string{false: "resigned", true: "pristine"}[pristine], func(t *testing.T) {
			e := newEnv(t, func(m *simplestreams.Mirror) { m.Pristine = pristine })
			stats := e.sync(t)
			items, err := simplestreams.Inventory(context.Background(), e.st, e.m.Ref())
			require.NoError(t, err)
			// The noble squashfs and its manifest belong to the ga and the hwe product.
			require.Len(t, items, 24)
			snap := e.published(t)
			var paths []string
			for _, it := range items {
				f, ok := snap.Lookup(it.Path)
				require.True(t, ok, "%s is held", it.Path)
				assert.Equal(t, f.Digest, it.Digest)
				assert.Equal(t, f.Size, it.Size)
				assert.Equal(t, e.srv.URL+"/"+it.Path, it.Upstream)
				paths = append(paths, it.Path)
			}
			assert.Len(t, slices.Compact(paths), stats.Items, "sorted by path; every held item is listed")

			kernel := find(t, items, "com.ubuntu.maas.stable:v3:boot:24.04:amd64:ga-24.04/boot-kernel")
			assert.Equal(t, "20261115", kernel.Version)
			assert.Equal(t, "noble/amd64/20261115/ga-24.04/generic/boot-kernel", kernel.Path)
			assert.Equal(t, "operating-system", kernel.Type)
			want := "sha256 in products " + simplestreamstest.ImagesID + ", signed by " + upstreamKey.Fingerprint() + " (upstream)"
			if !pristine {
				want += ", re-signed by " + operatorKey.Fingerprint() + " (operator)"
			}
			assert.Equal(t, want, kernel.VouchedBy)
			assert.Equal(t, "data", find(t, items, "com.ubuntu.maas.stable:v3:boot:24.04:amd64:hwe-24.04/manifest").Type)
			bl := find(t, items, "com.ubuntu.maas.stable:1:grub-efi-signed:uefi:amd64/grub2-signed")
			assert.Equal(t, "bootloaders/uefi/amd64/20210819.0/grub2-signed.tar.xz", bl.Path)
			assert.Contains(t, bl.VouchedBy, "in products "+simplestreamstest.BootloadersID+",")
			for _, it := range items {
				assert.NotContains(t, it.Path, "focal/", "not held, though a pristine document lists it")
			}
		})
	}
}

// TestInventoryNamesTheUpstreamChecksum: a re-signed document lists the sha256 computed
// here; the inventory names the checksum the upstream vouched with.
func TestInventoryNamesTheUpstreamChecksum(t *testing.T) {
	e := newEnv(t, nil)
	swapRootTgzChecksum(t, e, "md5", md5.New())
	e.sync(t)
	items, err := simplestreams.Inventory(context.Background(), e.st, e.m.Ref())
	require.NoError(t, err)
	root := find(t, items, "com.ubuntu.maas.stable:centos-bases:7.0:amd64/root-tgz")
	assert.True(t, strings.HasPrefix(root.VouchedBy, "md5 in products "+simplestreamstest.CentOSID+", signed by "), root.VouchedBy)
}

func TestInventoryUnverified(t *testing.T) {
	e := newEnv(t, func(m *simplestreams.Mirror) {
		m.InsecureSkipSignature, m.UpstreamKeyring, m.Signer = true, nil, nil
	})
	e.sync(t)
	items, err := simplestreams.Inventory(context.Background(), e.st, e.m.Ref())
	require.NoError(t, err)
	require.NotEmpty(t, items)
	for _, it := range items {
		assert.True(t, strings.HasSuffix(it.VouchedBy, " (upstream signature not verified)"), it.VouchedBy)
	}
	_, err = simplestreams.Inventory(context.Background(), e.st, "simplestreams/none")
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func find(t *testing.T, items []store.Item, name string) store.Item {
	t.Helper()
	for _, it := range items {
		if it.Name == name {
			return it
		}
	}
	require.Failf(t, "not listed", "%s", name)
	return store.Item{}
}
