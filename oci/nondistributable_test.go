package oci

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airgapkit/airgap/oci/ocitest"
	"github.com/airgapkit/airgap/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Non-distributable (OCI) and foreign (Docker) layers are not in any registry: clients
// fetch them from their urls. Sync, push, export and the handler skip them.
func TestNondistributableLayersAreSkipped(t *testing.T) {
	ctx := context.Background()
	up := startUpstream(t)
	oci := ocitest.Image(ocitest.ImageSpec{Seed: 40, Layers: 1, LayerSize: 256, Nondistributable: true})
	docker := ocitest.Image(ocitest.ImageSpec{Seed: 41, Layers: 1, LayerSize: 256, Nondistributable: true, Docker: true})
	require.NoError(t, up.PushManifest(ctx, "win/oci", "1", oci))
	require.NoError(t, up.PushManifest(ctx, "win/docker", "1", docker))
	s := store.NewMemory()
	m := newMirror(up, s, "win/oci:1", "win/docker:1")
	_, err := m.Sync(ctx)
	require.NoError(t, err, "a non-distributable layer must not be fetched")

	snap := published(t, s, m.Ref())
	local := strings.ReplaceAll(up.Host, ":", "-")
	for repo, im := range map[string]ocitest.Manifest{"win/oci": oci, "win/docker": docker} {
		mf, err := ParseManifest("", im.Data)
		require.NoError(t, err)
		foreign := mf.Layers[len(mf.Layers)-1]
		require.NotEmpty(t, foreign.URLs)
		_, ok := snap.Lookup(layerPath(local+"/"+repo, foreign.Digest))
		assert.False(t, ok, "%s: the non-distributable layer is not in the snapshot", repo)
		rec := serve(NewHandler(s, m.Ref()), http.MethodGet, "/v2/"+local+"/"+repo+"/blobs/"+string(foreign.Digest))
		assert.Equal(t, http.StatusNotFound, rec.Code)
	}

	target, err := ocitest.StartEmpty()
	require.NoError(t, err)
	defer target.Close()
	c := &Client{Registries: []RegistryConfig{{Host: target.Host, PlainHTTP: true}}}
	_, err = Push(ctx, s, m.Ref(), Mapping{Registry: target.Host, StripRegistry: true}, PushOptions{Client: c})
	require.NoError(t, err)
	d, err := c.Head(ctx, Reference{Registry: target.Host, Repository: "win/oci", Tag: "1"})
	require.NoError(t, err)
	assert.Equal(t, oci.Digest, string(d.Digest))

	_, err = ExportLayout(ctx, s, m.Ref(), filepath.Join(t.TempDir(), "layout"))
	require.NoError(t, err)
}
