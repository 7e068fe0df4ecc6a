package helm_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/testutil"
)

// helmBinaries are the real helm CLIs built from the module proxy (make helm), by the
// env var that names each.
func helmBinaries(t *testing.T) map[string]string {
	return testutil.EnvBinaries(t, "make helm builds helm v4.3.2 and v3.21.4", "HELM4_BIN", "HELM3_BIN")
}

// Real helm from the mirror: repo add, pull --verify --keyring for a chart whose
// upstream archives are on another host and that depends on a chart of a second
// repository; dependency build and template of a chart that depends on mirrored charts.
func TestRealHelm(t *testing.T) {
	bins := helmBinaries(t)
	f := newFixture(t)
	libs, main := f.mirrors()
	sync2(t, libs, main)
	base := serve(t, f.s, "libs", "main")
	for env, bin := range bins {
		t.Run(env, func(t *testing.T) {
			home := t.TempDir()
			henv := []string{"HELM_CONFIG_HOME=" + filepath.Join(home, "config"), "HELM_CACHE_HOME=" + filepath.Join(home, "cache"),
				"HELM_DATA_HOME=" + filepath.Join(home, "data"), "HTTPS_PROXY=", "HTTP_PROXY=", "NO_PROXY=127.0.0.1"}
			run := func(args ...string) string { return testutil.Run(t, 2*time.Minute, henv, bin, args...) }
			run("repo", "add", "main", base+"/helm/main")
			run("repo", "add", "libs", base+"/helm/libs")
			out := run("search", "repo", "main/app", "--versions")
			require.Contains(t, out, "1.1.0")
			require.Contains(t, out, "1.0.0")
			dest := t.TempDir()
			out = run("pull", "main/app", "--version", "1.1.0", "--verify", "--keyring", f.keyring, "-d", dest)
			require.FileExists(t, filepath.Join(dest, "app-1.1.0.tgz"))
			require.FileExists(t, filepath.Join(dest, "app-1.1.0.tgz.prov"))
			require.Contains(t, out, "Signed by: Chart Vendor")
			run("pull", "libs/lib", "--version", "^2", "--verify", "--keyring", f.keyring, "-d", dest)
			require.FileExists(t, filepath.Join(dest, "lib-2.1.0.tgz"))

			// A keyring without the vendor's key: helm refuses, so --verify means something.
			_, rogueKey := signers(t)
			_, err := testutil.RunErr(t, time.Minute, henv, bin, "pull", "main/app", "--version", "1.0.0", "--verify", "--keyring", keyringFile(t, rogueKey), "-d", t.TempDir())
			require.Error(t, err)

			// A chart of the user's that depends on mirrored charts.
			chart := filepath.Join(t.TempDir(), "site")
			require.NoError(t, os.MkdirAll(filepath.Join(chart, "templates"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(chart, "Chart.yaml"), []byte(`apiVersion: v2
name: site
version: 0.1.0
dependencies:
  - name: lib
    version: "~2.1"
    repository: `+base+`/helm/libs
  - name: common
    version: "1.0.0"
    repository: `+base+`/helm/main/
`), 0o644))
			run("dependency", "build", chart)
			require.FileExists(t, filepath.Join(chart, "charts", "lib-2.1.0.tgz"))
			out = run("template", "rel", chart)
			require.Contains(t, out, `image: "registry.example/lib:2.1.0"`)
			require.Contains(t, out, `image: "registry.example/common:1.0.0"`)
			require.True(t, strings.Contains(out, "name: rel-lib"), out)
		})
	}
}
