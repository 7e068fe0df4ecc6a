package oci

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/airgapkit/airgap/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// specCodes are the error codes of the distribution spec; nothing else may be answered.
var specCodes = map[string]bool{
	"BLOB_UNKNOWN": true, "BLOB_UPLOAD_INVALID": true, "BLOB_UPLOAD_UNKNOWN": true, "DIGEST_INVALID": true,
	"MANIFEST_BLOB_UNKNOWN": true, "MANIFEST_INVALID": true, "MANIFEST_UNKNOWN": true, "NAME_INVALID": true,
	"NAME_UNKNOWN": true, "SIZE_INVALID": true, "UNAUTHORIZED": true, "DENIED": true, "UNSUPPORTED": true,
	"TOOMANYREQUESTS": true,
}

// syncedHandler syncs images from a fresh upstream and returns the handler over them and
// the local name of the upstream registry.
func syncedHandler(t *testing.T, images ...string) (http.Handler, string, *Mirror) {
	t.Helper()
	up := startUpstream(t)
	s := store.NewMemory()
	m := newMirror(up, s, images...)
	_, err := m.Sync(context.Background())
	require.NoError(t, err)
	return NewHandler(s, m.Ref()), strings.ReplaceAll(up.Host, ":", "-"), m
}

func serve(h http.Handler, method, path string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// errorCode checks that an answer is distribution error JSON and returns its code.
func errorCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var e struct {
		Errors []struct{ Code, Message string }
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e), rec.Body.String())
	require.Len(t, e.Errors, 1)
	assert.True(t, specCodes[e.Errors[0].Code], "%q is not a distribution-spec error code", e.Errors[0].Code)
	return e.Errors[0].Code
}

func TestHandlerInvalidReferences(t *testing.T) {
	h, local, _ := syncedHandler(t, "library/alpine:3.19")
	base := "/v2/" + local + "/library/alpine/manifests/"
	for _, tc := range []struct {
		ref    string
		status int
		code   string
	}{
		{"sha256:bad", 400, "DIGEST_INVALID"},
		{"sha256:" + strings.Repeat("z", 64), 400, "DIGEST_INVALID"},
		{"-x", 404, "MANIFEST_UNKNOWN"},
		{strings.Repeat("a", 129), 404, "MANIFEST_UNKNOWN"},
		{"", 404, "MANIFEST_UNKNOWN"},
	} {
		rec := serve(h, http.MethodGet, base+tc.ref)
		assert.Equal(t, tc.status, rec.Code, "GET %q", tc.ref)
		assert.Equal(t, tc.code, errorCode(t, rec), tc.ref)
		assert.Empty(t, rec.Header().Get("Docker-Content-Digest"), tc.ref)
		rec = serve(h, http.MethodHead, base+tc.ref)
		assert.Equal(t, tc.status, rec.Code, "HEAD %q", tc.ref)
	}
	// A 128-character tag is valid (and unknown here).
	rec := serve(h, http.MethodGet, base+strings.Repeat("a", 128))
	assert.Equal(t, 404, rec.Code)
}

func TestHandlerSpecErrors(t *testing.T) {
	h, local, _ := syncedHandler(t, "library/alpine:3.19")
	repo := "/v2/" + local + "/library/alpine"
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/v2/" + local + "/library/alpine/nothing", 404, "UNSUPPORTED"},
		{"GET", "/elsewhere", 404, "UNSUPPORTED"},
		{"GET", "/v2/no/such/repo/manifests/1", 404, "NAME_UNKNOWN"},
		{"GET", repo + "/blobs/sha256:" + strings.Repeat("0", 64), 404, "BLOB_UNKNOWN"},
		{"GET", repo + "/blobs/not-a-digest", 400, "DIGEST_INVALID"},
		{"GET", repo + "/blobs/uploads/", 404, "BLOB_UPLOAD_UNKNOWN"},
		{"GET", repo + "/blobs/uploads/0b7e5c1a-upload", 404, "BLOB_UPLOAD_UNKNOWN"},
		{"POST", repo + "/blobs/uploads/", 405, "UNSUPPORTED"},
		{"PATCH", repo + "/blobs/uploads/0b7e5c1a-upload", 405, "UNSUPPORTED"},
		{"PUT", repo + "/manifests/3.19", 405, "UNSUPPORTED"},
		{"DELETE", repo + "/blobs/sha256:" + strings.Repeat("0", 64), 405, "UNSUPPORTED"},
		{"GET", repo + "/tags/list?n=abc", 400, "UNSUPPORTED"},
		{"GET", repo + "/tags/list?n=-1", 400, "UNSUPPORTED"},
		{"GET", "/v2/_catalog?n=x", 400, "UNSUPPORTED"},
		{"GET", repo + "/referrers/sha256:bad", 400, "DIGEST_INVALID"},
	} {
		rec := serve(h, tc.method, tc.path)
		assert.Equal(t, tc.status, rec.Code, "%s %s", tc.method, tc.path)
		assert.Equal(t, tc.code, errorCode(t, rec), "%s %s", tc.method, tc.path)
	}
}

func TestHandlerUnsatisfiableRange(t *testing.T) {
	h, local, m := syncedHandler(t, "library/alpine:3.19")
	snap := published(t, m.Store, m.Ref())
	var layer store.File
	for p, f := range snap.Files {
		if _, kind, _, _ := parsePath(p); kind == "blob" && f.Size > 100 {
			layer = f
		}
	}
	require.NotEmpty(t, layer.Digest)
	path := "/v2/" + local + "/library/alpine/blobs/" + string(layer.Digest)
	for _, rng := range []string{fmt.Sprintf("bytes=%d-", layer.Size), "bytes=9-3", "bytes=x-y", "bytes=-0"} {
		rec := serve(h, http.MethodGet, path, "Range", rng)
		assert.Equal(t, http.StatusRequestedRangeNotSatisfiable, rec.Code, rng)
		assert.Equal(t, fmt.Sprintf("bytes */%d", layer.Size), rec.Header().Get("Content-Range"), rng)
	}
	// A unit the server does not know is ignored (RFC 9110 14.2): the whole blob.
	rec := serve(h, http.MethodGet, path, "Range", "pages=1-2")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.EqualValues(t, layer.Size, rec.Body.Len())
	rec = serve(h, http.MethodGet, path, "Range", "bytes=0-9")
	assert.Equal(t, http.StatusPartialContent, rec.Code)
	assert.Equal(t, fmt.Sprintf("bytes 0-9/%d", layer.Size), rec.Header().Get("Content-Range"))
}

func TestHandlerCatalog(t *testing.T) {
	h, local, _ := syncedHandler(t, "library/alpine:3.19", "library/multi:1.0", "tools/db:2")
	all := []string{local + "/library/alpine", local + "/library/multi", local + "/tools/db"}
	list := func(q string) ([]string, string) {
		rec := serve(h, http.MethodGet, "/v2/_catalog"+q)
		require.Equal(t, 200, rec.Code, rec.Body.String())
		assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		var body struct{ Repositories []string }
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		require.NotNil(t, body.Repositories, "repositories is a list, never null")
		return body.Repositories, rec.Header().Get("Link")
	}
	got, link := list("")
	assert.Equal(t, all, got)
	assert.Empty(t, link)
	got, link = list("?n=2")
	assert.Equal(t, all[:2], got)
	assert.Equal(t, `</v2/_catalog?last=`+strings.ReplaceAll(all[1], "/", "%2F")+`&n=2>; rel="next"`, link)
	got, link = list("?n=2&last=" + all[1])
	assert.Equal(t, all[2:], got)
	assert.Empty(t, link)
	got, _ = list("?n=0")
	assert.Empty(t, got)
	got, _ = list("?last=zzz")
	assert.Empty(t, got)
}
