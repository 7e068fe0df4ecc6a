package pypitest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/pypi/wheel"
)

func TestUpstream(t *testing.T) {
	d := BuildWheel(WheelSpec{Name: "Demo_Pkg", Version: "1.0", RequiresDist: []string{`x; extra == "e"`}, ProvidesExtra: []string{"e"}})
	assert.Equal(t, "demo_pkg-1.0-py3-none-any.whl", d.Filename)
	meta, err := wheel.ReadMetadata(bytes.NewReader(d.Data), int64(len(d.Data)), "demo-pkg")
	require.NoError(t, err)
	assert.Equal(t, d.Metadata, meta)
	assert.Equal(t, d.Data, BuildWheel(WheelSpec{Name: "Demo_Pkg", Version: "1.0", RequiresDist: []string{`x; extra == "e"`}, ProvidesExtra: []string{"e"}}).Data, "deterministic")

	srv := httptest.NewServer(New(Project{Name: "Demo_Pkg", Dists: []Dist{d}}))
	defer srv.Close()
	get := func(path, accept string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	res, body := get("/simple/demo-pkg/", "application/vnd.pypi.simple.v1+json")
	assert.Equal(t, "application/vnd.pypi.simple.v1+json", res.Header.Get("Content-Type"))
	assert.Contains(t, body, `"core-metadata"`)
	res, body = get("/simple/demo-pkg/", "")
	assert.True(t, strings.HasPrefix(res.Header.Get("Content-Type"), "text/html"))
	assert.Contains(t, body, "demo_pkg-1.0-py3-none-any.whl#sha256=")
	res, _ = get("/files/demo-pkg/"+d.Filename+".metadata", "")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	res, _ = get("/simple/nope/", "")
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
}

func TestClosureAndRealWheels(t *testing.T) {
	ps := Closure(5)
	require.Len(t, ps, 5)
	assert.Contains(t, string(ps[0].Dists[1].Metadata), `Requires-Dist: gen-1[all]>=1.0; sys_platform == "linux"`)
	real, err := RealWheels(t.TempDir())
	require.NoError(t, err)
	assert.Empty(t, real)
}
