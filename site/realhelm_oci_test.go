package site

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/helm/helmtest"
	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/oci/ocitest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
)

// TestRealHelmOCI: charts an OCI registry holds, mirrored twice: by an oci: mirror
// (served at our /v2/, where real helm pulls oci:// with --verify and gets the
// upstream's archive byte for byte) and by a helm mirror with an oci:// url (served as a
// classic repository, where helm repo add and pull --verify work). The helm mirror
// takes plain http for the registry from the oci mirror's registries: entry.
func TestRealHelmOCI(t *testing.T) {
	bins := testutil.EnvBinaries(t, "make helm builds helm v4.3.2 and v3.21.4", "HELM4_BIN", "HELM3_BIN")
	ctx := context.Background()
	up, err := ocitest.StartEmpty()
	require.NoError(t, err)
	defer up.Close()
	// RSA: helm v3 verifies with golang.org/x/crypto/openpgp, which knows no Ed25519.
	vendor, err := pgp.GenerateKey("Chart Vendor", "charts@vendor.example", pgp.KeyOptions{RSABits: 3072})
	require.NoError(t, err)
	rogue, err := pgp.GenerateKey("Somebody Else", "else@example.org", pgp.KeyOptions{RSABits: 3072})
	require.NoError(t, err)
	dir := t.TempDir()
	keyring := func(name string, s *pgp.Signer) string {
		pub, err := s.PublicKey(false) // binary: helm v3's --keyring wants it so
		require.NoError(t, err)
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, pub, 0o644))
		return p
	}
	good, bad := keyring("vendor.gpg", vendor), keyring("rogue.gpg", rogue)
	upstream := map[string][]byte{}
	for _, ver := range []string{"1.0.0", "1.1.0+build.7"} {
		c := &helmtest.Chart{Name: "app", Version: ver}
		tgz, err := helmtest.Package(c)
		require.NoError(t, err)
		prov, err := helmtest.Prov(c, helmtest.File(c.Name, ver), tgz, vendor)
		require.NoError(t, err)
		require.NoError(t, up.PushManifest(ctx, "charts/app", strings.ReplaceAll(ver, "+", "_"), ocitest.Chart(helmtest.ChartJSON(c), tgz, prov)))
		upstream[ver] = tgz
	}
	cfg, err := Parse(filepath.Join(dir, "airgap.yaml"), []byte(fmt.Sprintf(`
oci:
  - name: charts
    repositories: [{repository: "%[1]s/charts/app", semver: ">=1.0.0"}]
    registries: [{host: "%[1]s", plain_http: true}]
helm:
  - name: ocicharts
    url: oci://%[1]s/charts
    keyring: ./vendor.gpg
    required: true
    charts: [{name: app, version: ">=1.0.0"}]
`, up.Host)))
	require.NoError(t, err)
	s := store.NewMemory()
	env := cfg.Env(s, nil, nil)
	require.NoError(t, env.SyncAll(ctx, cfg.Mirrors.All(), SyncOptions{}))
	srv := httptest.NewServer(NewServer(cfg, env))
	defer srv.Close()
	ours := "oci://" + strings.TrimPrefix(srv.URL, "http://") + "/" + strings.ReplaceAll(up.Host, ":", "-") + "/charts/app"

	for envName, bin := range bins {
		t.Run(envName, func(t *testing.T) {
			home := t.TempDir()
			henv := []string{"HELM_CONFIG_HOME=" + filepath.Join(home, "config"), "HELM_CACHE_HOME=" + filepath.Join(home, "cache"),
				"HELM_DATA_HOME=" + filepath.Join(home, "data"), "HTTPS_PROXY=", "HTTP_PROXY=", "NO_PROXY=127.0.0.1"}
			run := func(args ...string) string { return testutil.Run(t, 2*time.Minute, henv, bin, args...) }
			t.Log(run("version", "--short"))
			for ver, tgz := range upstream {
				dest := t.TempDir()
				out := run("pull", ours, "--version", ver, "--plain-http", "--verify", "--keyring", good, "-d", dest)
				assert.Contains(t, out, "Signed by: Chart Vendor")
				got, err := os.ReadFile(filepath.Join(dest, helmtest.File("app", ver)))
				require.NoError(t, err, out)
				assert.Equal(t, tgz, got, "oci:// from our /v2/: the upstream's archive, byte for byte")
			}
			out, err := testutil.RunErr(t, time.Minute, henv, bin, "pull", ours, "--version", "1.0.0", "--plain-http", "--verify", "--keyring", bad, "-d", t.TempDir())
			assert.Error(t, err, "a keyring without the vendor's key must fail --verify: %s", out)

			// The same charts from the helm mirror, as a classic repository.
			run("repo", "add", "ocicharts", srv.URL+"/helm/ocicharts")
			for ver, tgz := range upstream {
				dest := t.TempDir()
				out := run("pull", "ocicharts/app", "--version", ver, "--verify", "--keyring", good, "-d", dest)
				assert.Contains(t, out, "Signed by: Chart Vendor")
				got, err := os.ReadFile(filepath.Join(dest, helmtest.File("app", ver)))
				require.NoError(t, err, out)
				assert.Equal(t, tgz, got, "helm repo of an oci:// upstream: the chart layer, byte for byte")
			}
		})
	}
}
