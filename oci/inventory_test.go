package oci

import (
	"context"
	"strings"
	"testing"

	"github.com/airgapkit/airgap/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Inventory names each image as the mirror recorded it: the upstream repository from
// the sync, the platform filter and upstream index of a filtered one, referrers as data.
func TestInventory(t *testing.T) {
	ctx := context.Background()
	up := startUpstream(t)
	s := store.NewMemory()
	m := newMirror(up, s, "library/alpine:3.19", "library/multi:1.0", "tools/db:2")
	m.Referrers = true
	m.Platforms = []string{"linux/amd64"}
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	items, err := Inventory(ctx, s, m.Ref())
	require.NoError(t, err)

	local := strings.ReplaceAll(up.Host, ":", "-")
	byKey := map[string]store.Item{}
	for _, it := range items {
		byKey[strings.TrimPrefix(it.Name, local+"/")+" "+it.Version] = it
	}
	alpine := up.Content["library/alpine:3.19"].Digest
	it := byKey["library/alpine 3.19"]
	assert.Equal(t, store.Item{
		Type: "container", Name: local + "/library/alpine", Version: "3.19",
		PURL:     "pkg:oci/alpine@" + alpine + "?repository_url=" + up.Host + "/library/alpine&tag=3.19",
		Path:     tagPath(local+"/library/alpine", "3.19"),
		Digest:   store.Digest(alpine),
		Size:     it.Size,
		Upstream: "docker://" + up.Host + "/library/alpine:3.19", VouchedBy: "manifest digest from " + up.Host,
	}, it)
	assert.Positive(t, it.Size)

	sig := byKey["library/alpine sha256-"+store.Digest(alpine).Hex()+".sig"]
	assert.Equal(t, "data", sig.Type, "a cosign signature tag")

	multi := byKey["library/multi 1.0"]
	assert.Equal(t, "container", multi.Type)
	assert.NotEqual(t, up.Content["library/multi:1.0"].Digest, string(multi.Digest), "the filtered index is the mirror's")
	assert.Equal(t, "platform filter (linux/amd64) of the index "+up.Content["library/multi:1.0"].Digest+"; manifest digest from "+up.Host, multi.VouchedBy)

	var sbom store.Item
	for _, it := range items {
		if strings.HasSuffix(it.Name, "/tools/db") && it.Version != "2" {
			sbom = it
		}
	}
	assert.Equal(t, "data", sbom.Type)
	assert.Equal(t, "referrer of "+up.Content["tools/db:2"].Digest+"; manifest digest from "+up.Host, sbom.VouchedBy)
	assert.Equal(t, "pkg:oci/db@"+string(sbom.Digest)+"?repository_url="+up.Host+"/tools/db", sbom.PURL)

	// Imported from a layout over the synced tree: the tag no longer claims a registry.
	dir := t.TempDir()
	_, err = ExportLayout(ctx, s, m.Ref(), dir, local+"/library/alpine")
	require.NoError(t, err)
	_, err = ImportLayout(ctx, s, m.Ref(), dir, "")
	require.NoError(t, err)
	items, err = Inventory(ctx, s, m.Ref())
	require.NoError(t, err)
	for _, it := range items {
		if it.Name == local+"/library/alpine" && it.Version == "3.19" {
			assert.Empty(t, it.VouchedBy)
			assert.Empty(t, it.Upstream)
			assert.Equal(t, "pkg:oci/alpine@"+alpine+"?tag=3.19", it.PURL)
		}
	}
}

func TestOCIPURL(t *testing.T) {
	assert.Equal(t, "pkg:oci/debian@sha256:ab?repository_url=docker.io/library/debian&tag=latest",
		ociPURL("docker.io/library/Debian", "docker.io/library/debian", "latest", "sha256:ab"))
}

// Requested images join the selection under the mirror's platform filter, and the
// inventory names who asked for each; an image also selected directly is copied once.
func TestRequestedImages(t *testing.T) {
	ctx := context.Background()
	up := startUpstream(t)
	s := store.NewMemory()
	m := newMirror(up, s, "library/alpine:3.19")
	m.Platforms = []string{"linux/arm64/v8"}
	multi := up.Content["library/multi:1.0"]
	m.Requested = []RequestedImage{
		{Ref: up.Ref("library/alpine:3.19"), RequestedBy: "helm/charts web 1.0.0"},
		{Ref: up.Ref("library/multi:1.0"), RequestedBy: "helm/charts web 1.0.0"},
		{Ref: up.Ref("library/multi:1.0"), RequestedBy: "helm/charts api 2.0.0"},
		{Ref: up.Ref("library/multi:1.0"), RequestedBy: "helm/charts api 2.0.0"},
		{Ref: up.Ref("library/app@" + up.Content["library/app:1.0.0"].Digest), RequestedBy: "helm/charts db 0.1.0"},
	}
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, st.Images)
	items, err := Inventory(ctx, s, m.Ref())
	require.NoError(t, err)
	local := strings.ReplaceAll(up.Host, ":", "-")
	by := map[string][]string{}
	for _, it := range items {
		by[strings.TrimPrefix(it.Name, local+"/")+" "+it.Version] = it.RequestedBy
		if it.Version == "1.0" {
			assert.NotEqual(t, multi.Digest, string(it.Digest), "the platform filter applies to requested images")
		}
	}
	assert.Equal(t, map[string][]string{
		"library/alpine 3.19": {"helm/charts web 1.0.0"},
		"library/multi 1.0":   {"helm/charts api 2.0.0", "helm/charts web 1.0.0"},
		"library/app " + up.Content["library/app:1.0.0"].Digest: {"helm/charts db 0.1.0"},
	}, by)

	m.Requested = []RequestedImage{{Ref: "UPPER/case", RequestedBy: "helm/charts bad 0.0.1"}}
	_, err = m.Sync(ctx)
	assert.ErrorIs(t, err, ErrInvalidReference)
	assert.Contains(t, err.Error(), "helm/charts bad 0.0.1")
}
