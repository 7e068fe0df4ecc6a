package oci

import (
	"context"
	"strings"
	"testing"

	"github.com/airgapkit/airgap/oci/ocitest"
	"github.com/airgapkit/airgap/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMappingTarget(t *testing.T) {
	for _, tc := range []struct {
		mp   Mapping
		in   string
		want string
	}{
		{Mapping{Registry: "r"}, "docker.io/library/nginx", "docker.io/library/nginx"},
		{Mapping{Registry: "r", Prefix: "mirror"}, "docker.io/library/nginx", "mirror/docker.io/library/nginx"},
		{Mapping{Registry: "r", Prefix: "proj", Flatten: true}, "docker.io/library/nginx", "proj/docker.io-library-nginx"},
		{Mapping{Registry: "r", StripRegistry: true}, "ghcr.io/a/b", "a/b"},
		{Mapping{Registry: "r", Prefix: "p", Flatten: true, Separator: "_", StripRegistry: true}, "quay.io/a/b", "p/a_b"},
	} {
		got, err := tc.mp.Target(tc.in)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got)
	}
	_, err := Mapping{Registry: "r", Prefix: "-bad"}.Target("docker.io/x")
	assert.ErrorIs(t, err, ErrInvalidReference)
}

func TestPushFromStore(t *testing.T) {
	ctx := context.Background()
	up := startUpstream(t)
	s := store.NewMemory()
	m := newMirror(up, s, "library/alpine:3.19", "library/multi:1.0", "tools/db:2")
	m.Referrers = true
	_, err := m.Sync(ctx)
	require.NoError(t, err)

	target, err := ocitest.StartEmpty()
	require.NoError(t, err)
	defer target.Close()
	c := &Client{Registries: []RegistryConfig{{Host: target.Host, PlainHTTP: true}}}
	to := Mapping{Registry: target.Host, Prefix: "mirror", StripRegistry: true}
	st, err := Push(ctx, s, m.Ref(), to, PushOptions{Client: c})
	require.NoError(t, err)
	assert.Positive(t, st.BlobsUploaded)
	for _, r := range []string{"library/alpine:3.19", "library/multi:1.0", "tools/db:2"} {
		repo, tag, _ := strings.Cut(r, ":")
		d, err := c.Head(ctx, Reference{Registry: target.Host, Repository: "mirror/" + repo, Tag: tag})
		require.NoError(t, err)
		assert.Equal(t, up.Content[r].Digest, string(d.Digest), r)
	}
	alpine := up.Content["library/alpine:3.19"]
	sig, err := c.Head(ctx, Reference{Registry: target.Host, Repository: "mirror/library/alpine", Tag: "sha256-" + store.Digest(alpine.Digest).Hex() + ".sig"})
	require.NoError(t, err)
	assert.Equal(t, up.Content["library/alpine:sha256-"+store.Digest(alpine.Digest).Hex()+".sig"].Digest, string(sig.Digest))

	// Again: nothing to do, one HEAD per root manifest.
	target.Requests()
	st, err = Push(ctx, s, m.Ref(), to, PushOptions{Client: c})
	require.NoError(t, err)
	assert.Equal(t, st.Images, st.Unchanged)
	assert.Zero(t, st.BlobsUploaded)
	for _, r := range target.Requests() {
		assert.True(t, strings.HasPrefix(r, "HEAD "), r)
	}
}

func TestCopyRegistryToRegistry(t *testing.T) {
	ctx := context.Background()
	up := startUpstream(t)
	target, err := ocitest.StartEmpty()
	require.NoError(t, err)
	defer target.Close()
	c := &Client{Registries: []RegistryConfig{{Host: target.Host, PlainHTTP: true}, {Host: up.Host, PlainHTTP: true}}}
	sel := Selection{Images: []string{up.Ref("library/multi:1.0")}, Repositories: []RepositorySelector{{Repository: up.Host + "/library/app", Semver: "^1"}}}
	to := Mapping{Registry: target.Host, Flatten: true, Prefix: "flat"}
	st, err := Copy(ctx, sel, to, PushOptions{Client: c})
	require.NoError(t, err)
	assert.Equal(t, 4, st.Images) // multi + app 1.0.0, 1.1.0, 1.2.3
	local := strings.ReplaceAll(up.Host, ":", "-")
	d, err := c.Head(ctx, Reference{Registry: target.Host, Repository: "flat/" + local + "-library-multi", Tag: "1.0"})
	require.NoError(t, err)
	assert.Equal(t, up.Content["library/multi:1.0"].Digest, string(d.Digest))

	up.Requests()
	target.Requests()
	st, err = Copy(ctx, sel, to, PushOptions{Client: c})
	require.NoError(t, err)
	assert.Equal(t, 4, st.Unchanged)
	for _, r := range target.Requests() {
		assert.True(t, strings.HasPrefix(r, "HEAD "), r)
	}
	var heads int
	for _, r := range up.Requests() {
		if strings.HasPrefix(r, "HEAD ") {
			heads++
		}
	}
	assert.Equal(t, 4, heads)
}

func TestCopyMappingCollision(t *testing.T) {
	sel := Selection{Images: []string{"example.com/a/b-c:1", "example.com/a-b/c:1"}}
	_, err := Copy(context.Background(), sel, Mapping{Registry: "target.example", Flatten: true}, PushOptions{})
	require.ErrorIs(t, err, ErrMappingCollision)
}

func TestCopyPlatformFilter(t *testing.T) {
	ctx := context.Background()
	up := startUpstream(t)
	target, err := ocitest.StartEmpty()
	require.NoError(t, err)
	defer target.Close()
	c := &Client{Registries: []RegistryConfig{{Host: target.Host, PlainHTTP: true}, {Host: up.Host, PlainHTTP: true}}}
	sel := Selection{Images: []string{up.Ref("library/multi:1.0")}}
	to := Mapping{Registry: target.Host, StripRegistry: true}
	opt := PushOptions{Client: c, Platforms: []string{"linux/amd64"}}
	_, err = Copy(ctx, sel, to, opt)
	require.NoError(t, err)
	d, b, err := c.Manifest(ctx, Reference{Registry: target.Host, Repository: "library/multi", Tag: "1.0"})
	require.NoError(t, err)
	m, err := ParseManifest(d.MediaType, b)
	require.NoError(t, err)
	require.Len(t, m.Manifests, 1)
	assert.Equal(t, up.Content["library/multi:1.0"].Children[0].Digest, string(m.Manifests[0].Digest))
	assert.Equal(t, up.Content["library/multi:1.0"].Digest, m.Annotations[AnnotationSourceDigest])
	st, err := Copy(ctx, sel, to, opt)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Unchanged, "the filtered index is deterministic")
}
