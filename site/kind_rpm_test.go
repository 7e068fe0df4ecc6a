package site

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/rpm/rpmtest"
	"github.com/airgapkit/airgap/store"
)

// TestRPMKind: an rpm: entry parses with the words (repos, keyring, pristine,
// filter with weak), a pristine mirror syncs without a signing key while a filtered one
// asks for it, and the server answers /rpm/<name>/ with the tree and its .repo file, and
// at the upstream's path on a transparent host; Inventory lists rpm purls.
func TestRPMKind(t *testing.T) {
	tree := rpmtest.Default(t)
	up := httptest.NewServer(apttest.NewServer(&apttest.Repo{Files: tree.Files}))
	t.Cleanup(up.Close)
	dir := t.TempDir()
	key := tree.Key
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "keys"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "keys", "RPM-GPG-KEY-test"), key, 0o644))
	cfg, err := Parse(filepath.Join(dir, "airgap.yaml"), []byte(`
rpm:
  - name: rocky9
    url: `+up.URL+`/pub/rocky/9/
    repos: [BaseOS/x86_64/os, AppStream/x86_64/os]
    keyring: ./keys/RPM-GPG-KEY-test
    vendor: rocky
    pristine: true
  - name: rocky9-web
    url: `+up.URL+`/
    repos: [BaseOS/x86_64/os, AppStream/x86_64/os]
    keyring: ./keys/RPM-GPG-KEY-test
    filter: {packages: [httpd], dependencies: true, weak: true}
hosts:
  dl.rockylinux.org: rpm/rocky9
`))
	require.NoError(t, err)
	require.Len(t, cfg.Mirrors.RPM, 2)
	require.True(t, *cfg.Mirrors.RPM[1].Filter.Weak)
	s := store.NewMemory()
	env := cfg.Env(s, nil, nil)
	ctx := context.Background()
	_, err = cfg.Mirrors.RPM[1].Sync(ctx, env)
	require.ErrorContains(t, err, "signing_key is required")

	// the upstream serves the tree under /pub/rocky/9 too
	files := map[string][]byte{}
	for p, b := range tree.Files {
		files["pub/rocky/9/"+p] = b
	}
	up.Config.Handler = apttest.NewServer(&apttest.Repo{Files: files})
	res, err := cfg.Mirrors.RPM[0].Sync(ctx, env)
	require.NoError(t, err)
	require.True(t, res.Changed)
	require.Contains(t, res.Summary, "2 repos")

	items, err := cfg.Mirrors.RPM[0].Inventory(ctx, s)
	require.NoError(t, err)
	require.Len(t, items, len(tree.Packages))
	require.Contains(t, items[0].PURL, "pkg:rpm/rocky/")

	srv := httptest.NewServer(NewServer(cfg, env))
	t.Cleanup(srv.Close)
	get := func(host, p string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+p, nil)
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get("", "/rpm/rocky9/"+rpmtest.BaseOS+"/repodata/repomd.xml")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, string(tree.Files[rpmtest.BaseOS+"/repodata/repomd.xml"]), body)
	code, body = get("", "/rpm/rocky9/rocky9.repo")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "baseurl="+srv.URL+"/rpm/rocky9/BaseOS/x86_64/os/")
	require.True(t, strings.Contains(body, "gpgkey="+srv.URL+"/rpm/rocky9/keys/upstream.asc\n"), body)
	code, _ = get("dl.rockylinux.org", "/pub/rocky/9/"+rpmtest.AppStream+"/repodata/repomd.xml")
	require.Equal(t, http.StatusOK, code)
}
