package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/registrytest"
	"github.com/airgapkit/airgap/oci"
	"github.com/airgapkit/airgap/oci/ocitest"
	"github.com/airgapkit/airgap/site"
	"github.com/airgapkit/airgap/store"
)

// TestOCIConformance carries a repository with nested referrers, a non-distributable
// layer, the empty blob and 26 tags across the gap (sync, signed bundle, import) and runs
// the OCI distribution-spec conformance suite in read-only mode against what `airgap
// serve` serves, beside another oci mirror. Zero failures allowed.
func TestOCIConformance(t *testing.T) {
	ctx := context.Background()
	up, err := ocitest.Start()
	require.NoError(t, err)
	defer up.Close()
	content, err := up.PushConformance(ctx, "conformance/repo1")
	require.NoError(t, err)

	dir := t.TempDir()
	mustRun(t, "keys", "generate", "--out", filepath.Join(dir, "keys", "signing.asc"))
	// The repository is in the second of two oci mirrors: the suite runs through the /v2/
	// that serves them all.
	mirror := "oci:\n  - name: first\n    images: [" + up.Host + "/library/alpine:3.19]\n" +
		"    registries: [{host: \"" + up.Host + "\", plain_http: true}]\n" +
		"  - name: conf\n    referrers: true\n    repositories: [{repository: " + up.Host + "/conformance/repo1}]\n" +
		"    registries: [{host: \"" + up.Host + "\", plain_http: true}]\n"
	outside := filepath.Join(dir, "outside.yaml")
	writeFile(t, outside, "store: out-store\nsigning_key: keys/signing.asc\n"+mirror)
	inside := filepath.Join(dir, "inside.yaml")
	writeFile(t, inside, "store: in-store\ntrusted_keys: [keys/signing.pub.asc]\n"+mirror)
	mustRun(t, "--config", outside, "sync")
	mustRun(t, "--config", outside, "export", "--out", filepath.Join(dir, "b.tar"))
	mustRun(t, "--config", inside, "import", filepath.Join(dir, "b.tar"))

	cfg, err := site.Load(inside)
	require.NoError(t, err)
	s, err := cfg.OpenStore(ctx)
	require.NoError(t, err)
	srv := httptest.NewServer(site.NewServer(cfg, cfg.Env(s, nil, discardLogger())))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	repo := strings.ReplaceAll(up.Host, ":", "-") + "/conformance/repo1"

	// What the suite's read-only mode does not check: the referrers themselves, the
	// tags, the layer left where its urls say.
	c := &oci.Client{Registries: []oci.RegistryConfig{{Host: host, PlainHTTP: true}}}
	tags, err := c.Tags(ctx, host, repo)
	require.NoError(t, err)
	assert.Equal(t, content.Tags, tags)
	tree := content.Tree
	for subject, want := range map[string][]ocitest.Manifest{
		tree.Index.Digest:       {tree.IndexSig},
		tree.IndexSig.Digest:    {tree.SigOfSig, tree.Loop},
		tree.Children[2].Digest: {tree.ChildSBOMs[2]},
	} {
		refs, err := c.Referrers(ctx, host, repo, store.Digest(subject))
		require.NoError(t, err)
		var got, wantD []string
		for _, r := range refs {
			got = append(got, string(r.Digest))
		}
		for _, m := range want {
			wantD = append(wantD, m.Digest)
		}
		sort.Strings(got)
		sort.Strings(wantD)
		assert.Equal(t, wantD, got, "referrers of %s", subject)
	}
	nd, err := oci.ParseManifest("", up.Content["conformance/repo1:nondistributable"].Data)
	require.NoError(t, err)
	code, _ := get(t, srv.Config.Handler, host, "/v2/"+repo+"/blobs/"+string(nd.Layers[len(nd.Layers)-1].Digest))
	assert.Equal(t, http.StatusNotFound, code)

	bin := registrytest.ConformanceBinary(t)
	res := registrytest.RunConformance(t, bin, host, repo, registrytest.ReadOnlyData{
		Tags: content.Tags, Manifests: content.Manifests, Blobs: content.Blobs, Referrers: content.Subjects,
	})
	t.Logf("OCI conformance (read-only): %d passed, %d failed, %d errors, %d skipped, %d disabled",
		res.Passed, res.Failed, res.Errors, res.Skipped, res.Disabled)
	if res.Status != "Pass" || res.Failed > 0 || res.Errors > 0 || res.Passed == 0 {
		t.Fatalf("conformance failures:\n%s", res.Output)
	}
}
