package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/simplestreams/simplestreamstest"
	"github.com/airgapkit/airgap/site"
	"github.com/airgapkit/airgap/store/pgp"
)

// TestTransparentPristine is issue #15's proof: clients with their stock configuration
// and stock keys (no signed-by, no operator key) use the inside mirror through DNS or a
// proxy. Upstreams on 127.0.0.1 stand in for deb.debian.org/debian and
// images.maas.io/ephemeral-v3/stable, each signed by its own key (standing in for the
// stock keyrings); the mirror is pristine, transparent for those two host names, and
// reached as apt's Acquire::http::Proxy and through http_proxy=.
func TestTransparentPristine(t *testing.T) {
	testutil.RequireBinary(t, "apt-get", "apt")
	gpgv := testutil.RequireBinary(t, "gpgv", "gpgv")
	curl := testutil.RequireBinary(t, "curl", "curl")
	dir := t.TempDir()

	archiveKey, err := pgp.GenerateKey("Debian Stable Release Key, a stand-in", "", pgp.KeyOptions{})
	require.NoError(t, err)
	repo, err := apttest.Build(apttest.Options{Suites: []string{"bookworm"}, Origin: "Debian", Label: "Debian",
		Signer: archiveKey, ByHash: true, NoPlain: true, Translations: true}, []apttest.Package{
		{Name: "hello", Version: "2.10-3", Depends: "libc6 (>= 2.34)"},
		{Name: "libc6", Version: "2.36-9", Section: "libs"},
		{Name: "unheld", Version: "1.0"},
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/debian/", http.StripPrefix("/debian", apttest.NewServer(repo)))
	streams, err := simplestreamstest.New(simplestreamstest.Options{IndexChecksums: true, AllChecksums: true})
	require.NoError(t, err)
	mux.Handle("/ephemeral-v3/stable/", http.StripPrefix("/ephemeral-v3/stable", streams))
	upstream := httptest.NewServer(mux)
	defer upstream.Close()

	keys := filepath.Join(dir, "keys")
	archivePub, err := archiveKey.PublicKey(false)
	require.NoError(t, err)
	writeFile(t, filepath.Join(keys, "debian-archive-keyring.gpg"), string(archivePub))
	writeFile(t, filepath.Join(keys, "ubuntu-cloudimage-keyring.gpg"), string(streams.Keyring()))

	cfg := filepath.Join(dir, "airgap.yaml")
	writeFile(t, cfg, `store: store
apt:
  - name: debian
    url: `+upstream.URL+`/debian
    keyring: keys/debian-archive-keyring.gpg
    suites: [bookworm]
    components: [main]
    architectures: [amd64]
    pristine: true
    filter: {packages: [hello], dependencies: true}
simplestreams:
  - name: maas
    url: `+upstream.URL+`/ephemeral-v3/stable/
    keyring: keys/ubuntu-cloudimage-keyring.gpg
    pristine: true
    filters: ["release=noble", "arch=amd64"]
hosts:
  deb.debian.org: apt/debian
  images.maas.io: simplestreams/maas
`)
	mustRun(t, "--config", cfg, "sync")
	upstream.Close() // the inside is offline from here on

	c, err := site.Load(cfg)
	require.NoError(t, err)
	s, err := c.OpenStore(context.Background())
	require.NoError(t, err)
	mirror := httptest.NewServer(site.NewServer(c, c.Env(s, nil, discardLogger())))
	defer mirror.Close()

	// apt, stock: its sources line and its keyring; only the proxy line is added.
	aptDir := filepath.Join(dir, "apt")
	env, err := apttest.ClientConfig(aptDir, "deb http://deb.debian.org/debian bookworm main")
	require.NoError(t, err)
	writeFile(t, filepath.Join(aptDir, "etc/trusted.gpg.d/debian-archive-bookworm-stable.gpg"), string(archivePub))
	writeFile(t, filepath.Join(aptDir, "etc/apt.conf.d/80airgap-proxy"), "Acquire::http::Proxy \""+mirror.URL+"\";\n")
	out := testutil.Run(t, 2*time.Minute, env, "apt-get", "update")
	assert.NotContains(t, out, "W: ")
	assert.NotContains(t, out, "Err:")
	out = testutil.Run(t, time.Minute, env, "apt-cache", "policy", "hello", "unheld")
	assert.Contains(t, out, "hello:\n  Installed: (none)\n  Candidate: 2.10-3")
	assert.Contains(t, out, "unheld:\n  Installed: (none)\n  Candidate: 1.0", "the upstream's own Packages list everything")
	testutil.Run(t, 2*time.Minute, env, "apt-get", "install", "--download-only", "-y", "hello")
	debs, _ := filepath.Glob(filepath.Join(aptDir, "cache/archives/*.deb"))
	var names []string
	for _, d := range debs {
		names = append(names, filepath.Base(d))
	}
	sort.Strings(names)
	assert.Equal(t, []string{"hello_2.10-3_amd64.deb", "libc6_2.36-9_amd64.deb"}, names)
	for _, n := range names {
		got, err := os.ReadFile(filepath.Join(aptDir, "cache/archives", n))
		require.NoError(t, err)
		assert.Equal(t, string(repo.Files["pool/main/"+poolDir(n)+"/"+n]), string(got), "%s byte for byte", n)
	}
	out, err = testutil.RunErr(t, time.Minute, env, "apt-get", "install", "--download-only", "-y", "unheld")
	require.Error(t, err)
	assert.Contains(t, out, "404", "what the mirror does not hold is a 404, not a fetch upstream")

	// The simplestreams client reads images.maas.io through http_proxy: each signed
	// document verifies with the stock keyring (gpgv), every selected item is there.
	proxy := []string{"http_proxy=" + mirror.URL, "no_proxy="}
	for _, p := range []string{"streams/v1/index.sjson", "streams/v1/com.ubuntu.maas:stable:v3:download.sjson"} {
		f := filepath.Join(dir, strings.ReplaceAll(p, "/", "_"))
		testutil.Run(t, time.Minute, proxy, curl, "-fsS", "-o", f, "http://images.maas.io/ephemeral-v3/stable/"+p)
		testutil.Run(t, time.Minute, nil, gpgv, "--keyring", filepath.Join(keys, "ubuntu-cloudimage-keyring.gpg"), f)
	}
	proxyURL, _ := url.Parse(mirror.URL)
	client := &simplestreamstest.Client{URL: "http://images.maas.io/ephemeral-v3/stable/", GPGV: gpgv,
		Keyring: filepath.Join(keys, "ubuntu-cloudimage-keyring.gpg"),
		HTTP:    &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}}}
	items, err := client.Items(context.Background())
	require.NoError(t, err)
	held := 0
	for _, it := range items {
		if it.Path() == "" {
			continue
		}
		if it.Flat["release"] == "noble" && it.Flat["arch"] == "amd64" {
			_, err := client.Fetch(context.Background(), it)
			require.NoError(t, err, "selected item %s", it.Path())
			held++
		} else {
			_, code, err := client.Get(context.Background(), it.Path())
			require.NoError(t, err)
			assert.Equal(t, http.StatusNotFound, code, "unselected item %s is advertised but not held", it.Path())
		}
	}
	assert.NotZero(t, held)

	// Any other host, through the proxy, is refused: the mirror never fetches upstream.
	out, err = testutil.RunErr(t, time.Minute, proxy, curl, "-fsS", "http://archive.ubuntu.com/ubuntu/dists/noble/InRelease")
	require.Error(t, err)
	assert.Contains(t, out, "403")

	// The DNS records to make it transparent without a proxy.
	dns := mustRun(t, "--config", cfg, "hosts", "--ip", "10.0.0.5", "--format", "dnsmasq")
	assert.Contains(t, dns, "address=/deb.debian.org/10.0.0.5\n")
	assert.Contains(t, dns, "address=/images.maas.io/10.0.0.5\n")
	assert.Contains(t, dns, `Acquire::http::Proxy::deb.debian.org "http://10.0.0.5:8080/";`)
}

// poolDir is the pool directory of a package file: first letter, or lib + letter.
func poolDir(file string) string {
	name, _, _ := strings.Cut(file, "_")
	if strings.HasPrefix(name, "lib") && len(name) > 3 {
		return name[:4] + "/" + name
	}
	return name[:1] + "/" + name
}
