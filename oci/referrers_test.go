package oci

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/airgapkit/airgap/internal/registrytest"
	"github.com/airgapkit/airgap/oci/ocitest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/bundle"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// referrersOf asks a registry's referrers API (or fallback tag) for the digests that
// refer to subject, sorted.
func referrersOf(t *testing.T, c *Client, host, repo string, subject string) []string {
	t.Helper()
	refs, err := c.Referrers(context.Background(), host, repo, store.Digest(subject))
	require.NoError(t, err)
	var out []string
	for _, r := range refs {
		out = append(out, string(r.Digest))
	}
	sort.Strings(out)
	return out
}

func digests(ms ...ocitest.Manifest) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Digest)
	}
	sort.Strings(out)
	return out
}

// assertTreeReachable checks, through a registry's API, that every referrer of tree is
// listed under its subject.
func assertTreeReachable(t *testing.T, c *Client, host, repo string, tree ocitest.ReferrerTree) {
	t.Helper()
	assert.Equal(t, digests(tree.IndexSig), referrersOf(t, c, host, repo, tree.Index.Digest), "referrers of the index")
	assert.Equal(t, digests(tree.SigOfSig, tree.Loop), referrersOf(t, c, host, repo, tree.IndexSig.Digest), "referrers of a referrer")
	for i, child := range tree.Children {
		assert.Equal(t, digests(tree.ChildSBOMs[i]), referrersOf(t, c, host, repo, child.Digest), "referrers of index child %d", i)
	}
	d, err := c.Head(context.Background(), Reference{Registry: host, Repository: repo, Tag: tree.CosignTag})
	require.NoError(t, err)
	assert.Equal(t, tree.Cosign.Digest, string(d.Digest), "cosign tag of an index child")
}

// syncReferrerTree pushes a ReferrerTree as nest/app:1 to a fresh upstream and syncs it
// with referrers (and the platform filter) into a memory store.
func syncReferrerTree(t *testing.T, seed uint64, platforms ...string) (*ocitest.Registry, ocitest.ReferrerTree, *Mirror) {
	t.Helper()
	up := startUpstream(t)
	tree, err := up.PushReferrerTree(context.Background(), "nest/app", "1", seed)
	require.NoError(t, err)
	m := newMirror(up, store.NewMemory(), "nest/app:1")
	m.Referrers, m.Platforms = true, platforms
	_, err = m.Sync(context.Background())
	require.NoError(t, err)
	return up, tree, m
}

// Referrers travel with their images to any depth: referrers of index children (nested
// indexes too), referrers of referrers, cosign tags of children; a referrer index that
// lists its own subject does not loop. They survive sync, the handler, layout export and
// import, bundles, Push and Copy.
func TestNestedReferrersTravel(t *testing.T) {
	ctx := context.Background()
	up, tree, m := syncReferrerTree(t, 500)
	s := m.Store
	local := strings.ReplaceAll(up.Host, ":", "-") + "/nest/app"
	snap := published(t, s, m.Ref())
	for _, r := range tree.Referrers() {
		_, ok := snap.Lookup(manifestPath(local, store.Digest(r.Digest)))
		assert.True(t, ok, "referrer %s copied", r.Digest)
	}

	// The read-only handler answers the referrers API for every level.
	host, c := serveStore(t, s, m.Ref())
	assertTreeReachable(t, c, host, local, tree)

	// Layout export and import.
	dir := filepath.Join(t.TempDir(), "layout")
	_, err := ExportLayout(ctx, s, m.Ref(), dir)
	require.NoError(t, err)
	s2 := store.NewMemory()
	_, err = ImportLayout(ctx, s2, "oci/imported", dir, "")
	require.NoError(t, err)
	again, err := ImportLayout(ctx, s2, "oci/imported", dir, "")
	require.NoError(t, err)
	assert.False(t, again.Changed, "importing the same layout again publishes nothing")
	host2, c2 := serveStore(t, s2, "oci/imported")
	assertTreeReachable(t, c2, host2, local, tree)

	// A bundle.
	var buf bytes.Buffer
	_, _, err = bundle.Export(ctx, s, &buf, bundle.ExportOptions{Refs: []string{m.Ref()}})
	require.NoError(t, err)
	s3 := store.NewMemory()
	_, err = bundle.Import(ctx, s3, &buf, bundle.ImportOptions{InsecureSkipSignature: true})
	require.NoError(t, err)
	host3, c3 := serveStore(t, s3, m.Ref())
	assertTreeReachable(t, c3, host3, local, tree)

	// Push to a registry with the referrers API, and Copy registry to registry.
	target, err := ocitest.StartEmpty()
	require.NoError(t, err)
	defer target.Close()
	tc := &Client{Registries: []RegistryConfig{{Host: target.Host, PlainHTTP: true}, {Host: up.Host, PlainHTTP: true}}}
	_, err = Push(ctx, s, m.Ref(), Mapping{Registry: target.Host, Prefix: "pushed", StripRegistry: true}, PushOptions{Client: tc})
	require.NoError(t, err)
	assertTreeReachable(t, tc, target.Host, "pushed/nest/app", tree)
	_, err = Copy(ctx, Selection{Images: []string{up.Ref("nest/app:1")}}, Mapping{Registry: target.Host, Prefix: "copied", StripRegistry: true}, PushOptions{Client: tc, Referrers: true})
	require.NoError(t, err)
	assertTreeReachable(t, tc, target.Host, "copied/nest/app", tree)

	// Push to distribution 2.8 (no referrers API): found through the fallback tags.
	t.Run("docker-registry", func(t *testing.T) {
		dr := registrytest.StartDockerRegistry(t)
		dc := &Client{Registries: []RegistryConfig{{Host: dr, PlainHTTP: true}}}
		_, err := Push(ctx, s, m.Ref(), Mapping{Registry: dr, StripRegistry: true}, PushOptions{Client: dc})
		require.NoError(t, err)
		assertTreeReachable(t, dc, dr, "nest/app", tree)
	})
}

// A platform filter makes a new index (new digest); the referrers of the upstream index
// stay reachable from it, and those of the kept children travel, those of dropped ones
// do not.
func TestFilteredIndexKeepsReferrersReachable(t *testing.T) {
	ctx := context.Background()
	up, tree, m := syncReferrerTree(t, 600, "linux/amd64")
	s := m.Store
	local := strings.ReplaceAll(up.Host, ":", "-") + "/nest/app"
	snap := published(t, s, m.Ref())
	tag, ok := snap.Lookup(tagPath(local, "1"))
	require.True(t, ok)
	require.NotEqual(t, tree.Index.Digest, string(tag.Digest), "the filtered index is a new manifest")
	assert.Equal(t, tree.Index.Digest, snap.Annotations[annUpstream+local+":1"])

	host, c := serveStore(t, s, m.Ref())
	assert.Equal(t, digests(tree.IndexSig), referrersOf(t, c, host, local, string(tag.Digest)), "upstream index referrers, from the filtered index")
	assert.Equal(t, digests(tree.IndexSig), referrersOf(t, c, host, local, tree.Index.Digest), "and under the upstream digest")
	assert.Equal(t, digests(tree.ChildSBOMs[0]), referrersOf(t, c, host, local, tree.Children[0].Digest), "kept child")
	assert.Empty(t, referrersOf(t, c, host, local, tree.Children[1].Digest), "dropped child: not copied")

	// Pushed to a registry without the referrers API, the fallback tag of the filtered
	// index lists them too.
	t.Run("docker-registry", func(t *testing.T) {
		dr := registrytest.StartDockerRegistry(t)
		dc := &Client{Registries: []RegistryConfig{{Host: dr, PlainHTTP: true}}}
		_, err := Push(ctx, s, m.Ref(), Mapping{Registry: dr, StripRegistry: true}, PushOptions{Client: dc})
		require.NoError(t, err)
		assert.Equal(t, digests(tree.IndexSig), referrersOf(t, dc, dr, "nest/app", string(tag.Digest)))
		assert.Equal(t, digests(tree.IndexSig), referrersOf(t, dc, dr, "nest/app", tree.Index.Digest))
	})

	// Copy with the same filter does the same.
	t.Run("copy", func(t *testing.T) {
		dr := registrytest.StartDockerRegistry(t)
		dc := &Client{Registries: []RegistryConfig{{Host: dr, PlainHTTP: true}, {Host: up.Host, PlainHTTP: true}}}
		_, err := Copy(ctx, Selection{Images: []string{up.Ref("nest/app:1")}}, Mapping{Registry: dr, StripRegistry: true}, PushOptions{Client: dc, Referrers: true, Platforms: m.Platforms})
		require.NoError(t, err)
		assert.Equal(t, digests(tree.IndexSig), referrersOf(t, dc, dr, "nest/app", string(tag.Digest)))
		assert.Equal(t, digests(tree.ChildSBOMs[0]), referrersOf(t, dc, dr, "nest/app", tree.Children[0].Digest))
	})
}

// Without a referrers API each subject costs a HEAD of its fallback tag; a manifest GET
// (a pull on Docker Hub's quota) only when the tag exists.
func TestReferrersFallbackHeadsFirst(t *testing.T) {
	dr := registrytest.StartDockerRegistry(t)
	ctx := context.Background()
	c := &Client{Registries: []RegistryConfig{{Host: dr, PlainHTTP: true}}}
	var gets int
	c.HTTP = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/") {
			gets++
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	refs, err := c.Referrers(ctx, dr, "none/here", store.DigestOf([]byte("x")))
	require.NoError(t, err)
	assert.Empty(t, refs)
	assert.Zero(t, gets)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
