//go:build demo

package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/store"
)

// debianPackage names where each client comes from, for the skip message.
var debianPackage = map[string]string{
	"apt-get": "apt", "apt-cache": "apt", "pip": "python3-pip", "ansible-galaxy": "ansible-core",
	"skopeo": "skopeo", "curl": "curl", "gpgv": "gpgv",
}

// TestDemoWithRealClients is the CLI end to end: the demo's config is synced, exported,
// imported into a second store and served; then every command the demo prints runs with
// the real client against the inside mirror.
func TestDemoWithRealClients(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	a := &app{logLevel: "warn", log: discardLogger()}
	d, err := startDemo(context.Background(), a, dir, "127.0.0.1:0", demoSizes["tour"], &out)
	require.NoError(t, err, out.String())
	defer d.Close()
	assert.Contains(t, out.String(), "exported 7 mirrors")
	assert.Contains(t, out.String(), "imported")
	counts := fetchText(t, d.RequestsURL)
	for _, want := range []string{"apt", "/dists/stable/InRelease", "oci", "/v2/library/alpine/manifests/3.19", "snaps", "/v2/snaps/refresh", "files", "/install-notes.txt"} {
		if strings.HasPrefix(want, "/") {
			assert.Regexp(t, `(?m) [1-9][0-9]* `+regexp.QuoteMeta(want)+`$`, counts, "the sync's requests, by upstream and path")
		} else {
			assert.Regexp(t, `(?m)^`+want+` `, counts)
		}
	}
	assert.Empty(t, fetchText(t, d.RequestsURL), "each GET answers the requests since the previous one")

	for _, c := range d.Commands {
		t.Run(c.What, func(t *testing.T) {
			bin := testutil.RequireBinary(t, c.Argv[0], debianPackage[c.Argv[0]])
			var got string
			if c.Argv[0] == "skopeo" {
				got = testutil.Output(t, 3*time.Minute, c.Env, bin, c.Argv[1:]...)
			} else {
				got = testutil.Run(t, 3*time.Minute, c.Env, bin, c.Argv[1:]...)
			}
			switch {
			case c.Argv[0] == "apt-cache":
				assert.Contains(t, got, "Candidate: 2.10-3")
				assert.Contains(t, got, d.URL+"/apt/demo stable/main amd64 Packages")
			case c.Argv[0] == "apt-get" && c.Argv[1] == "install":
				debs, _ := filepath.Glob(filepath.Join(dir, "apt-client", "cache", "archives", "*.deb"))
				names := strings.Join(debs, " ")
				assert.Contains(t, names, "hello_2.10-3_amd64.deb")
				assert.Contains(t, names, "libhello_1.1-1_amd64.deb", "the dependency the mirror followed")
			case c.Argv[0] == "pip":
				assert.DirExists(t, filepath.Join(dir, "pip-target", "demo_app-1.0.dist-info"))
				assert.DirExists(t, filepath.Join(dir, "pip-target", "demo_lib-1.1.dist-info"))
			case c.Argv[0] == "ansible-galaxy":
				assert.FileExists(t, filepath.Join(dir, "collections", "ansible_collections", "demo", "tools", "MANIFEST.json"))
				assert.FileExists(t, filepath.Join(dir, "collections", "ansible_collections", "demo", "base", "MANIFEST.json"))
			case c.Argv[0] == "skopeo":
				assert.Equal(t, d.ImageDigest, store.DigestOf([]byte(got)).String(), "byte-for-byte the upstream manifest")
			case c.Argv[0] == "gpgv":
				assert.Contains(t, got, "Good signature")
			case c.Argv[0] == "curl" && strings.HasSuffix(c.Argv[len(c.Argv)-1], "install.sh"):
				assert.Contains(t, got, "snap ack")
				assert.Less(t, strings.Index(got, "snapd_"), strings.Index(got, "maas_"), "snapd before the app")
			case c.Argv[0] == "curl" && strings.HasSuffix(c.Argv[len(c.Argv)-1], ".txt"):
				assert.Equal(t, "Carried across the gap by airgap.\n", got)
			}
		})
	}
	inv := mustRun(t, "--config", filepath.Join(dir, "inside", "airgap.yaml"), "inventory")
	assert.Regexp(t, `"purl": "pkg:deb/[a-z]+/hello@2.10-3\?arch=amd64"`, inv, "namespace: the archive's Origin")
	for _, want := range []string{`"purl": "pkg:pypi/demo-lib@1.1"`,
		`"purl": "pkg:oci/alpine@sha256`, `"name": "demo.tools"`, `"name": "maas"`, `"name": "install-notes.txt"`} {
		assert.Contains(t, inv, want)
	}
	for _, want := range []string{"listed by InRelease signed by", "sha256 in the simple index of", "chained to root key", "manifest digest from", "in products", "in the config"} {
		assert.Contains(t, inv, want, "says what vouched for the bytes")
	}

	b, err := os.ReadFile(filepath.Join(dir, "index.sjson"))
	if err == nil {
		assert.True(t, bytes.HasPrefix(b, []byte("-----BEGIN PGP SIGNED MESSAGE-----")))
	}
}

func fetchText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return string(b)
}
