package pypi_test

import (
	"context"
	"github.com/airgapkit/airgap/pypi/simple"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/pypi"
	"github.com/airgapkit/airgap/pypi/pypitest"
	"github.com/airgapkit/airgap/store"
)

func do(h http.Handler, method, path string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHandler(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, pypitest.Project{Name: "Demo.Pkg", Dists: []pypitest.Dist{w("demo-pkg", "1.0")}})
	h := pypi.NewHandler(e.store, "pypi/python")
	assert.Equal(t, http.StatusNotFound, do(h, "GET", "/simple/", nil).Code, "nothing published yet")

	_, err := e.mirror("demo_pkg").Sync(ctx)
	require.NoError(t, err)

	// Redirects are relative so that they survive http.StripPrefix.
	for path, loc := range map[string]string{
		"/":                  "simple/",
		"/simple":            "simple/",
		"/simple/demo-pkg":   "demo-pkg/",
		"/simple/Demo.Pkg/":  "../demo-pkg/",
		"/simple/Demo_Pkg":   "demo-pkg/",
		"/simple/DEMO--PKG/": "../demo-pkg/",
	} {
		rec := do(h, "GET", path, nil)
		assert.Equal(t, http.StatusMovedPermanently, rec.Code, path)
		assert.Equal(t, loc, rec.Header().Get("Location"), path)
	}

	rec := do(h, "GET", "/simple/demo-pkg/", map[string]string{"Accept": simple.AcceptHeader})
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, simple.MediaTypeJSON, rec.Header().Get("Content-Type"))
	assert.Contains(t, rec.Header().Get("Vary"), "Accept")
	etag := rec.Header().Get("ETag")
	require.NotEmpty(t, etag)
	rec = do(h, "GET", "/simple/demo-pkg/", map[string]string{"Accept": simple.AcceptHeader, "If-None-Match": etag})
	assert.Equal(t, http.StatusNotModified, rec.Code)

	rec = do(h, "GET", "/simple/demo-pkg/", nil)
	assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	assert.NotEqual(t, etag, rec.Header().Get("ETag"), "each representation has its own ETag")
	rec = do(h, "GET", "/simple/demo-pkg/", map[string]string{"Accept": "application/vnd.pypi.simple.v1+html"})
	assert.Equal(t, simple.MediaTypeHTML, rec.Header().Get("Content-Type"))
	assert.Equal(t, http.StatusNotAcceptable, do(h, "GET", "/simple/demo-pkg/", map[string]string{"Accept": "application/json"}).Code)

	rec = do(h, "GET", "/simple/", map[string]string{"Accept": simple.MediaTypeJSON})
	assert.JSONEq(t, `{"meta":{"api-version":"1.1"},"projects":[{"name":"demo-pkg"}]}`, rec.Body.String())

	// Files: Range, ETag, HEAD.
	file := "/packages/demo-pkg/demo_pkg-1.0-py3-none-any.whl"
	full := do(h, "GET", file, nil)
	require.Equal(t, http.StatusOK, full.Code)
	rec = do(h, "GET", file, map[string]string{"Range": "bytes=2-9"})
	assert.Equal(t, http.StatusPartialContent, rec.Code)
	assert.Equal(t, full.Body.Bytes()[2:10], rec.Body.Bytes())
	rec = do(h, "HEAD", file, nil)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, rec.Body.Bytes())
	assert.Equal(t, http.StatusNotModified, do(h, "GET", file, map[string]string{"If-None-Match": full.Header().Get("ETag")}).Code)
	rec = do(h, "GET", file+".metadata", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.True(t, strings.HasPrefix(rec.Body.String(), "Metadata-Version:"))

	for _, p := range []string{"/simple/nope/", "/simple/demo-pkg/extra", "/packages/demo-pkg/nope.whl", "/upstream/demo-pkg", "/other"} {
		assert.Equal(t, http.StatusNotFound, do(h, "GET", p, nil).Code, p)
	}
	assert.Equal(t, http.StatusMethodNotAllowed, do(h, "POST", "/simple/", nil).Code)

	// Under a prefix.
	mux := http.NewServeMux()
	mux.Handle("/pypi/", http.StripPrefix("/pypi", h))
	rec = do(mux, "GET", "/pypi/simple/Demo_Pkg/", nil)
	assert.Equal(t, "../demo-pkg/", rec.Header().Get("Location"))

	// The handler follows the ref: a new publish is served at once.
	_, err = store.Current(ctx, e.store, "pypi/python")
	require.NoError(t, err)
	e.up.Update("demo-pkg", func(p *pypitest.Project) { p.Dists = append(p.Dists, w("demo-pkg", "2.0")) })
	_, err = e.mirror("demo_pkg").Sync(ctx)
	require.NoError(t, err)
	assert.Contains(t, do(h, "GET", "/simple/demo-pkg/", nil).Body.String(), "demo_pkg-2.0")
}
