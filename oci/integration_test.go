package oci

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airgapkit/airgap/internal/registrytest"
	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func TestIntegrationDockerRegistryAndSkopeo(t *testing.T) {
	skopeo := testutil.RequireBinary(t, "skopeo", "skopeo")
	target := registrytest.StartDockerRegistry(t)
	ctx := context.Background()
	up := startUpstream(t)
	s := store.NewMemory()
	m := newMirror(up, s, "library/alpine:3.19", "library/alpine-copy:3.19", "library/multi:1.0", "tools/db:2")
	m.Referrers = true
	_, err := m.Sync(ctx)
	require.NoError(t, err)

	// Store -> real registry.
	c := &Client{Registries: []RegistryConfig{{Host: target, PlainHTTP: true}}}
	to := Mapping{Registry: target, Prefix: "mirror", StripRegistry: true}
	st, err := Push(ctx, s, m.Ref(), to, PushOptions{Client: c, Concurrency: 1})
	require.NoError(t, err)
	assert.Positive(t, st.BlobsMounted, "alpine-copy shares every blob with alpine: mounted, not sent again")

	alpine := up.Content["library/alpine:3.19"].Digest
	sigTag := "sha256-" + store.Digest(alpine).Hex() + ".sig"
	for _, tc := range []struct{ ref, want string }{
		{"mirror/library/multi:1.0", up.Content["library/multi:1.0"].Digest},
		{"mirror/library/alpine:3.19", alpine},
		{"mirror/library/alpine-copy:3.19", alpine},
		{"mirror/library/alpine:" + sigTag, up.Content["library/alpine:"+sigTag].Digest},
	} {
		raw := testutil.Run(t, time.Minute, nil, skopeo, "inspect", "--raw", "--tls-verify=false", "docker://"+target+"/"+tc.ref)
		assert.Equal(t, tc.want, sha256Hex(raw), tc.ref)
	}
	// distribution 2.8 has no referrers API: the SBOM of tools/db is found through the
	// sha256-<hex> fallback tag index that Push maintained.
	db := up.Content["tools/db:2"].Digest
	refs, err := c.Referrers(ctx, target, "mirror/tools/db", store.Digest(db))
	require.NoError(t, err)
	require.Len(t, refs, 1)
	assert.Equal(t, "application/spdx+json", refs[0].ArtifactType)

	// Every child of the index is there by digest.
	for _, ch := range up.Content["library/multi:1.0"].Children {
		raw := testutil.Run(t, time.Minute, nil, skopeo, "inspect", "--raw", "--tls-verify=false", "docker://"+target+"/mirror/library/multi@"+ch.Digest)
		assert.Equal(t, ch.Digest, sha256Hex(raw))
	}

	// A second push changes nothing and sends nothing.
	st, err = Push(ctx, s, m.Ref(), to, PushOptions{Client: c})
	require.NoError(t, err)
	assert.Equal(t, st.Images, st.Unchanged)
	assert.Zero(t, st.BlobsUploaded)

	// skopeo copy from our read-only handler into an OCI layout, the whole index.
	srv := httptest.NewServer(NewHandler(s, m.Ref()))
	defer srv.Close()
	ours := strings.TrimPrefix(srv.URL, "http://")
	local := strings.ReplaceAll(up.Host, ":", "-")
	layout := filepath.Join(t.TempDir(), "layout")
	testutil.Run(t, 2*time.Minute, nil, skopeo, "copy", "--all", "--preserve-digests", "--src-tls-verify=false",
		"docker://"+ours+"/"+local+"/library/multi:1.0", "oci:"+layout+":multi")
	testutil.Run(t, 2*time.Minute, nil, skopeo, "copy", "--preserve-digests", "--src-tls-verify=false",
		"docker://"+ours+"/"+local+"/library/alpine:3.19", "oci:"+layout+":alpine")
	b, err := os.ReadFile(filepath.Join(layout, "index.json"))
	require.NoError(t, err)
	var idx struct{ Manifests []Descriptor }
	require.NoError(t, json.Unmarshal(b, &idx))
	got := map[string]string{}
	for _, d := range idx.Manifests {
		got[d.Annotations["org.opencontainers.image.ref.name"]] = string(d.Digest)
	}
	assert.Equal(t, up.Content["library/multi:1.0"].Digest, got["multi"])
	assert.Equal(t, alpine, got["alpine"])

	// The layout skopeo wrote imports back, bare tags placed in the default repository.
	s2 := store.NewMemory()
	ist, err := ImportLayout(ctx, s2, "oci/from-skopeo", layout, "imported/images")
	require.NoError(t, err)
	assert.Equal(t, 2, ist.Images)
	snap2 := published(t, s2, "oci/from-skopeo")
	f, ok := snap2.Lookup(tagPath("imported/images", "multi"))
	require.True(t, ok)
	assert.Equal(t, up.Content["library/multi:1.0"].Digest, string(f.Digest))

	// Registry -> registry directly into the real registry, flattened names.
	c2 := &Client{Registries: []RegistryConfig{{Host: target, PlainHTTP: true}, {Host: up.Host, PlainHTTP: true}}}
	_, err = Copy(ctx, Selection{Images: []string{up.Ref("library/multi:1.0"), up.Ref("library/alpine:3.19")}}, Mapping{Registry: target, Prefix: "flat", Flatten: true, StripRegistry: true}, PushOptions{Client: c2, Referrers: true})
	require.NoError(t, err)
	raw0 := testutil.Run(t, time.Minute, nil, skopeo, "inspect", "--raw", "--tls-verify=false", "docker://"+target+"/flat/library-alpine:"+sigTag)
	assert.Equal(t, up.Content["library/alpine:"+sigTag].Digest, sha256Hex(raw0), "cosign signature copied with Copy")
	raw := testutil.Run(t, time.Minute, nil, skopeo, "inspect", "--raw", "--tls-verify=false", "docker://"+target+"/flat/library-multi:1.0")
	assert.Equal(t, up.Content["library/multi:1.0"].Digest, sha256Hex(raw))
}
