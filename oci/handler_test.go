package oci

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/airgapkit/airgap/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHandlerServesMirror(t *testing.T) {
	ctx := context.Background()
	up := startUpstream(t)
	s := store.NewMemory()
	m := newMirror(up, s, "library/alpine:3.19", "library/multi:1.0", "tools/db:2")
	_, err := m.Sync(ctx)
	require.NoError(t, err)

	srv := httptest.NewServer(NewHandler(s, m.Ref()))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	local := strings.ReplaceAll(up.Host, ":", "-")

	// Pull everything back through our own handler with our own client: same digests.
	m2 := &Mirror{Name: "again", Store: store.NewMemory(), Registries: []RegistryConfig{{Host: host, PlainHTTP: true}}}
	for _, r := range []string{"library/alpine:3.19", "library/multi:1.0", "tools/db:2"} {
		m2.Images = append(m2.Images, host+"/"+local+"/"+r)
	}
	_, err = m2.Sync(ctx)
	require.NoError(t, err)
	snap := published(t, m2.Store, m2.Ref())
	for _, r := range []string{"library/alpine:3.19", "library/multi:1.0", "tools/db:2"} {
		repo, tag, _ := strings.Cut(r, ":")
		f, ok := snap.Lookup(tagPath(strings.ReplaceAll(host, ":", "-")+"/"+local+"/"+repo, tag))
		require.True(t, ok, r)
		assert.Equal(t, up.Content[r].Digest, string(f.Digest))
	}

	get := func(method, path string) *http.Response {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := get("HEAD", "/v2/"+local+"/library/alpine/manifests/3.19")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, up.Content["library/alpine:3.19"].Digest, resp.Header.Get("Docker-Content-Digest"))
	assert.Equal(t, MediaTypeDockerManifest, resp.Header.Get("Content-Type"))

	resp = get("GET", "/v2/"+local+"/library/alpine/manifests/nope")
	assert.Equal(t, 404, resp.StatusCode)
	var e struct{ Errors []struct{ Code string } }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
	assert.Equal(t, "MANIFEST_UNKNOWN", e.Errors[0].Code)

	resp = get("GET", "/v2/nothing/here/tags/list")
	assert.Equal(t, 404, resp.StatusCode)

	resp = get("GET", "/v2/library/alpine/tags/list?ns="+url.QueryEscape(up.Host))
	assert.Equal(t, 200, resp.StatusCode)
	b, _ := io.ReadAll(resp.Body)
	assert.Contains(t, string(b), `"3.19"`)

	resp = get("DELETE", "/v2/"+local+"/library/alpine/manifests/3.19")
	assert.Equal(t, 405, resp.StatusCode)

	// Range on a blob.
	layer := up.Content["library/alpine:3.19"].Blobs[1]
	req, _ := http.NewRequest("GET", srv.URL+"/v2/"+local+"/library/alpine/blobs/"+layer.Digest, nil)
	req.Header.Set("Range", "bytes=0-9")
	rr, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer rr.Body.Close()
	assert.Equal(t, 206, rr.StatusCode)
	part, _ := io.ReadAll(rr.Body)
	assert.Equal(t, layer.Data[:10], part)
}

func TestHandlerReferrers(t *testing.T) {
	ctx := context.Background()
	up := startUpstream(t)
	s := store.NewMemory()
	m := newMirror(up, s, "tools/db:2")
	m.Referrers = true
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	srv := httptest.NewServer(NewHandler(s, m.Ref()))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	local := strings.ReplaceAll(up.Host, ":", "-")
	c := &Client{Registries: []RegistryConfig{{Host: host, PlainHTTP: true}}}
	db := up.Content["tools/db:2"]
	refs, err := c.Referrers(ctx, host, local+"/tools/db", store.Digest(db.Digest))
	require.NoError(t, err)
	require.Len(t, refs, 1)
	assert.Equal(t, "application/spdx+json", refs[0].ArtifactType)
	resp, err := http.Get(srv.URL + "/v2/" + local + "/tools/db/referrers/" + db.Digest + "?artifactType=other")
	require.NoError(t, err)
	defer resp.Body.Close()
	var idx Manifest
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&idx))
	assert.Empty(t, idx.Manifests)
	assert.Equal(t, "artifactType", resp.Header.Get("OCI-Filters-Applied"))
}

func TestHandlerDefaultNamespace(t *testing.T) {
	up := startUpstream(t)
	s := store.NewMemory()
	m := newMirror(up, s, "library/alpine:3.19")
	_, err := m.Sync(context.Background())
	require.NoError(t, err)
	h := NewHandler(s, m.Ref(), WithDefaultNamespace(up.Host))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/v2/library/alpine/manifests/3.19", nil))
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, up.Content["library/alpine:3.19"].Digest, rec.Header().Get("Docker-Content-Digest"))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v2/", nil))
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "registry/2.0", rec.Header().Get("Docker-Distribution-API-Version"))
}
