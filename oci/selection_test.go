package oci

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airgapkit/airgap/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseReference(t *testing.T) {
	for in, want := range map[string]Reference{
		"nginx":                           {Registry: "docker.io", Repository: "library/nginx", Tag: "latest"},
		"nginx:1.25":                      {Registry: "docker.io", Repository: "library/nginx", Tag: "1.25"},
		"index.docker.io/x/y:2":           {Registry: "docker.io", Repository: "x/y", Tag: "2"},
		"registry-1.docker.io/nginx:1":    {Registry: "docker.io", Repository: "library/nginx", Tag: "1"},
		"127.0.0.1:5000/a/b":              {Registry: "127.0.0.1:5000", Repository: "a/b", Tag: "latest"},
		"ghcr.io/o/r@" + string(dgst1):    {Registry: "ghcr.io", Repository: "o/r", Digest: dgst1},
		"ghcr.io/o/r:v1@" + string(dgst1): {Registry: "ghcr.io", Repository: "o/r", Tag: "v1", Digest: dgst1},
	} {
		got, err := ParseReference(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "UPPER/case", "a@sha256:xyz", "a:b:c:d"} {
		_, err := ParseReference(bad)
		assert.ErrorIs(t, err, ErrInvalidReference, bad)
	}
}

var dgst1 = store.DigestOf([]byte("one"))

func TestFilterTags(t *testing.T) {
	tags := []string{"1.0.0", "1.1.0", "1.2.3", "v1.3.0", "2.0.0", "2.1.0-rc.1", "latest", "1.2.3-alpine", "nightly"}
	for _, tc := range []struct {
		rs   RepositorySelector
		want []string
	}{
		{RepositorySelector{Semver: "^1.1"}, []string{"v1.3.0", "1.2.3", "1.1.0"}},
		{RepositorySelector{Semver: ">=1.2, <2"}, []string{"v1.3.0", "1.2.3"}},
		{RepositorySelector{Latest: 2}, []string{"2.1.0-rc.1", "2.0.0"}},
		{RepositorySelector{Latest: 2, Exclude: ".*-.*"}, []string{"2.0.0", "v1.3.0"}},
		{RepositorySelector{Match: `1\..*`}, []string{"1.0.0", "1.1.0", "1.2.3", "1.2.3-alpine"}},
		{RepositorySelector{Match: `.*-alpine`, Semver: "1.x"}, nil},
	} {
		got, err := tc.rs.FilterTags(tags)
		require.NoError(t, err)
		if tc.want == nil {
			tc.want = []string{}
		}
		assert.Equal(t, tc.want, got, "%+v", tc.rs)
	}
	// Helm chart tags: build metadata's "+" written "_".
	for _, tc := range []struct {
		rs   RepositorySelector
		want []string
	}{
		{RepositorySelector{Semver: ">=1.2.0 <2"}, []string{"1.2.0_build.2"}},
		{RepositorySelector{Latest: 1}, []string{"2.0.0_build.1"}},
	} {
		got, err := tc.rs.FilterTags([]string{"1.1.0", "1.2.0_build.2", "2.0.0_build.1"})
		require.NoError(t, err)
		if tc.want == nil {
			tc.want = []string{}
		}
		assert.Equal(t, tc.want, got, "%+v", tc.rs)
	}
	_, err := RepositorySelector{Match: "("}.FilterTags(tags)
	assert.Error(t, err)
	_, err = RepositorySelector{Semver: "not a range"}.FilterTags(tags)
	assert.Error(t, err)
}

func TestImagesFromYAML(t *testing.T) {
	in := `apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      initContainers:
      - name: init
        image: busybox:1.36
      containers:
      - name: web
        image: nginx:1.25
      - name: side
        image: "ghcr.io/o/side@sha256:` + dgst1.Hex() + `"
---
# Helm values
image:
  registry: quay.io
  repository: prometheus/node-exporter
  tag: v1.7.0
other:
  image: "{{ .Values.image }}"
  again:
    image: nginx:1.25
---
`
	got, err := ImagesFromYAML(strings.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, []string{"busybox:1.36", "nginx:1.25", "ghcr.io/o/side@" + string(dgst1), "quay.io/prometheus/node-exporter:v1.7.0"}, got)
	_, err = ImagesFromYAML(strings.NewReader("a: [unclosed"))
	assert.Error(t, err)
}

func TestSelectionResolveDedupes(t *testing.T) {
	up := startUpstream(t)
	dir := t.TempDir()
	list := filepath.Join(dir, "images.txt")
	require.NoError(t, os.WriteFile(list, []byte("# images\n"+up.Ref("library/app:1.0.0")+"\n\n"+up.Ref("library/alpine:3.19")+"  # again\n"), 0o644))
	yml := filepath.Join(dir, "deploy.yaml")
	require.NoError(t, os.WriteFile(yml, []byte("spec:\n  containers:\n  - image: "+up.Ref("library/app:1.0.0")+"\n"), 0o644))
	sel := Selection{
		Images:       []string{up.Ref("library/alpine:3.19")},
		ImageLists:   []string{list},
		YAMLFiles:    []string{yml},
		Repositories: []RepositorySelector{{Repository: up.Host + "/library/app", Latest: 2, Exclude: ".*-rc.*"}},
	}
	c := &Client{Registries: []RegistryConfig{{Host: up.Host, PlainHTTP: true}}}
	refs, err := sel.Resolve(context.Background(), c)
	require.NoError(t, err)
	var got []string
	for _, r := range refs {
		got = append(got, strings.TrimPrefix(r.String(), up.Host+"/"))
	}
	assert.Equal(t, []string{"library/alpine:3.19", "library/app:1.0.0", "library/app:2.0.0", "library/app:1.2.3"}, got)
}

func TestSyncPlatformFilter(t *testing.T) {
	ctx := context.Background()
	up := startUpstream(t)
	s := store.NewMemory()
	m := newMirror(up, s, "library/multi:1.0")
	m.Platforms = []string{"linux/arm64"}
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	snap := published(t, s, m.Ref())
	local := strings.ReplaceAll(up.Host, ":", "-") + "/library/multi"
	f, ok := snap.Lookup(tagPath(local, "1.0"))
	require.True(t, ok)
	upstream := up.Content["library/multi:1.0"]
	assert.NotEqual(t, upstream.Digest, string(f.Digest), "filtered index is a new manifest")
	assert.Equal(t, upstream.Digest, snap.Annotations[annUpstream+local+":1.0"])
	b, err := store.ReadBlob(ctx, s, f.Digest, 1<<20)
	require.NoError(t, err)
	im, err := ParseManifest(f.MediaType, b)
	require.NoError(t, err)
	require.Len(t, im.Manifests, 1)
	assert.Equal(t, "arm64", im.Manifests[0].Platform.Architecture)
	assert.Equal(t, upstream.Children[1].Digest, string(im.Manifests[0].Digest), "platform manifest keeps its digest")
	assert.Equal(t, upstream.Digest, im.Annotations[AnnotationSourceDigest])
	_, ok = snap.Lookup(manifestPath(local, store.Digest(upstream.Children[0].Digest)))
	assert.False(t, ok, "amd64 image not copied")

	// Unchanged upstream: one HEAD, nothing fetched.
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Unchanged)
	assert.Zero(t, st.Downloaded)

	m2 := newMirror(up, s, "library/multi:1.0")
	m2.Name = "none"
	m2.Platforms = []string{"windows/amd64"}
	_, err = m2.Sync(ctx)
	assert.ErrorIs(t, err, ErrNoPlatform)
}

func TestClientSnippets(t *testing.T) {
	mp := Mapping{Registry: "mirror.internal:5000", Prefix: "mirror"}
	h, err := HostsToml("docker.io", mp, ClientOptions{CAFile: "/etc/ca.crt"})
	require.NoError(t, err)
	assert.Contains(t, h, `server = "https://registry-1.docker.io"`)
	assert.Contains(t, h, `[host."https://mirror.internal:5000/v2/mirror/docker.io"]`)
	assert.Contains(t, h, "override_path = true")
	assert.Contains(t, h, `ca = "/etc/ca.crt"`)
	rc, err := RegistriesConf([]string{"quay.io", "docker.io"}, mp, ClientOptions{PlainHTTP: true})
	require.NoError(t, err)
	assert.Contains(t, rc, "prefix = \"docker.io\"\nlocation = \"docker.io\"")
	assert.Contains(t, rc, `location = "mirror.internal:5000/mirror/quay.io"`)
	assert.Contains(t, rc, "insecure = true")
	assert.Less(t, strings.Index(rc, "docker.io"), strings.Index(rc, "quay.io"))
	_, err = HostsToml("docker.io", Mapping{Registry: "m", Flatten: true}, ClientOptions{})
	assert.ErrorIs(t, err, ErrInvalidReference)
}
