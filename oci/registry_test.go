package oci

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/airgapkit/airgap/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// One /v2/ over several mirrors: each repository from the first mirror holding it, the
// catalog of all, the refusals of one registry.
func TestRegistryHandler(t *testing.T) {
	ctx := context.Background()
	up := startUpstream(t)
	s := store.NewMemory()
	a := newMirror(up, s, "library/alpine:3.19", "library/app:1.0.0")
	a.Name = "a"
	b := newMirror(up, s, "tools/db:2", "library/app:1.1.0")
	b.Name = "b"
	for _, m := range []*Mirror{a, b} {
		_, err := m.Sync(ctx)
		require.NoError(t, err)
	}
	srv := httptest.NewServer(NewRegistryHandler(s, []string{"oci/never", a.Ref(), b.Ref()}))
	defer srv.Close()
	local := strings.ReplaceAll(up.Host, ":", "-")
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		var body struct {
			Repositories []string
			Tags         []string
			Errors       []struct{ Code string }
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		switch {
		case len(body.Errors) > 0:
			return resp.StatusCode, body.Errors[0].Code
		case body.Tags != nil:
			return resp.StatusCode, strings.Join(body.Tags, ",")
		}
		return resp.StatusCode, strings.Join(body.Repositories, ",")
	}
	code, cat := get("/v2/_catalog")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, local+"/library/alpine,"+local+"/library/app,"+local+"/tools/db", cat)
	code, cat = get("/v2/_catalog?n=1&last=" + local + "/library/alpine")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, local+"/library/app", cat, "the union is paged as one list")

	code, tags := get("/v2/" + local + "/tools/db/tags/list")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "2", tags, "from the second mirror")
	code, tags = get("/v2/" + local + "/library/app/tags/list")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "1.0.0", tags, "a repository in two mirrors is the first one's")
	code, e := get("/v2/" + local + "/library/app/manifests/1.1.0")
	assert.Equal(t, http.StatusNotFound, code)
	assert.Equal(t, "MANIFEST_UNKNOWN", e, "mirrors are not merged within a repository")

	resp, err := http.Get(srv.URL + "/v2/" + local + "/tools/db/manifests/2")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, up.Content["tools/db:2"].Digest, resp.Header.Get("Docker-Content-Digest"))

	code, e = get("/v2/nope/manifests/1")
	assert.Equal(t, http.StatusNotFound, code)
	assert.Equal(t, "NAME_UNKNOWN", e)
	code, _ = get("/v2/")
	assert.Equal(t, http.StatusOK, code)
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/v2/"+local+"/tools/db/manifests/2", nil)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	none := httptest.NewServer(NewRegistryHandler(s, []string{"oci/never", "oci/nor"}))
	defer none.Close()
	resp, err = http.Get(none.URL + "/v2/x/tags/list")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}
