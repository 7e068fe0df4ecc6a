package main

import (
	"encoding/base64"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/maasclient"
	"github.com/airgapkit/airgap/maasclient/maastest"
	"github.com/airgapkit/airgap/snapproxy/snapproxytest"
	"github.com/airgapkit/airgap/store/pgp"
)

// maasSite is a config with a synced apt mirror of a local archive (noble and
// noble-updates, main) and an image mirror, and a fake MAAS in its stock state that
// can reach the image mirror.
func maasSite(t *testing.T) (cfg, dir string, fake *maastest.Server) {
	dir = t.TempDir()
	archiveKey, err := pgp.GenerateKey("Test Archive", "", pgp.KeyOptions{})
	require.NoError(t, err)
	repo, err := apttest.Build(apttest.Options{Suites: []string{"noble", "noble-updates"}, Signer: archiveKey}, []apttest.Package{
		{Name: "openssh-server", Version: "1:9.6p1-3"},
		{Name: "openssh-server", Version: "1:9.6p1-3ubuntu1", Suite: "noble-updates"},
	})
	require.NoError(t, err)
	upstream := httptest.NewServer(apttest.NewServer(repo))
	t.Cleanup(upstream.Close)
	pub, err := archiveKey.PublicKey(true)
	require.NoError(t, err)
	writeFile(t, filepath.Join(dir, "archive.asc"), string(pub))
	mustRun(t, "keys", "generate", "--out", filepath.Join(dir, "keys", "signing.asc"))
	cfg = filepath.Join(dir, "airgap.yaml")
	writeFile(t, cfg, fmt.Sprintf(`signing_key: keys/signing.asc
external_url: http://mirror.internal:8080
simplestreams:
  - {name: maas, url: "http://images.maas.io/ephemeral-v3/stable/"}
apt:
  - {name: ubuntu, url: %q, keyring: archive.asc, suites: [noble, noble-updates], components: [main], architectures: [amd64]}
`, upstream.URL))
	fake = maastest.New(t)
	fake.SetImages("http://mirror.internal:8080/simplestreams/maas/", maastest.UbuntuImages("noble", "amd64")...)
	return cfg, dir, fake
}

// TestMaasConfigure: `airgap maas configure` takes a stock MAAS (images.maas.io with a
// keyring file, nothing cached, jammy selected and commissioning) to the mirror the
// config describes and "import done": the boot source with the operator's binary
// keyring, noble as the only selection and the commissioning release, main_archive at
// the apt mirror with only the pockets and components it holds, so that every source
// a deployed machine gets exists.
func TestMaasConfigure(t *testing.T) {
	cfg, dir, fake := maasSite(t)
	mustRun(t, "--config", cfg, "sync", "ubuntu")
	out := mustRun(t, "--config", cfg, "maas", "configure", "--maas-url", fake.URL, "--api-key", maastest.APIKey,
		"--release", "noble", "--arch", "amd64", "--poll", "1ms")
	assert.Contains(t, out, "boot source 1: http://mirror.internal:8080/simplestreams/maas/")
	assert.Contains(t, out, "selection: ubuntu/noble [amd64]\n")
	assert.NotContains(t, out, "jammy")
	assert.Contains(t, out, "package repository main_archive: http://mirror.internal:8080/apt/ubuntu/ (disabled pockets [security backports], components [restricted universe multiverse])")
	assert.Contains(t, out, "import done: 2 boot resources")
	assert.Empty(t, fake.Violations())

	sources := fake.BootSources()
	require.Len(t, sources, 1)
	signer, err := pgp.LoadSigner(filepath.Join(dir, "keys", "signing.asc"), nil)
	require.NoError(t, err)
	binary, err := signer.PublicKey(false)
	require.NoError(t, err)
	assert.Equal(t, base64.StdEncoding.EncodeToString(binary), sources[0].KeyringData, "MAAS gets the binary keyring gpgv needs")
	assert.Empty(t, sources[0].KeyringFilename)
	sels := fake.Selections(1)
	require.Len(t, sels, 1)
	assert.Equal(t, "noble", sels[0].Release)
	assert.Equal(t, "noble", fake.Config("commissioning_distro_series"))
	assert.Equal(t, "noble", fake.Config("default_distro_series"))

	lines := fake.SourcesList("amd64", "noble")
	assert.Equal(t, []string{
		"deb http://mirror.internal:8080/apt/ubuntu/ noble main",
		"deb http://mirror.internal:8080/apt/ubuntu/ noble-updates main",
	}, lines, "only what the mirror holds")
}

// TestMaasConfigureArchiveErrors: MAAS is not pointed at an apt mirror whose content is
// unknown.
func TestMaasConfigureArchiveErrors(t *testing.T) {
	cfg, _, fake := maasSite(t)
	args := []string{"--config", cfg, "maas", "configure", "--maas-url", fake.URL, "--api-key", maastest.APIKey, "--poll", "1ms"}
	_, err := run(t, args...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "apt/ubuntu: not published yet")
	_, err = run(t, append(args, "--archive", "debian")...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no apt mirror of that name")
	_, err = run(t, append(args, "--ports-url", "http://mirror.internal/ports/")...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--ports-url needs an apt mirror")
	assert.Equal(t, "http://archive.ubuntu.com/ubuntu", fake.Repos()[0].URL)
	assert.True(t, strings.HasPrefix(fake.BootSources()[0].URL, "http://images.maas.io/"), "nothing changed")
}

// TestMaasSnapProxy: `airgap maas snap-proxy` sets a stock MAAS's proxy to the mirror
// of a snaps mirror with connect: (boot images still direct) and writes the user data
// that gives deployed machines' snapd the local CA; without a store assertion the
// registered way is refused, naming what is missing.
func TestMaasSnapProxy(t *testing.T) {
	up := snapproxytest.New(snapproxytest.Options{})
	t.Cleanup(up.Close)
	up.AddDemo()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "keys", "root.assert"), string(up.TrustedKeys()))
	mustRun(t, "tls", "ca", "--dir", filepath.Join(dir, "tls", "ca"), "--key-type", "ecdsa-p256")
	cfg := filepath.Join(dir, "airgap.yaml")
	writeFile(t, cfg, "external_url: http://mirror.internal:8080/\nsnaps:\n  - name: maas\n    url: "+up.URL()+
		"\n    trusted_keys: keys/root.assert\n    snaps: [{name: maas, channel: 3.5/stable}]\n    architectures: [amd64]\n"+
		"    connect: {ca_cert: tls/ca/cert.pem, ca_key: tls/ca/key.pem}\n")
	mustRun(t, "--config", cfg, "sync")
	fake := maastest.New(t)

	_, err := run(t, "--config", cfg, "maas", "snap-proxy", "--registered", "--maas-url", fake.URL, "--api-key", maastest.APIKey)
	require.ErrorContains(t, err, "holds no store assertion")
	assert.Equal(t, "", fake.Config(maasclient.ConfigHTTPProxy), "nothing set when refused")

	ud := filepath.Join(dir, "user-data")
	out := mustRun(t, "--config", cfg, "maas", "snap-proxy", "maas", "--maas-url", fake.URL, "--api-key", maastest.APIKey, "--user-data", ud)
	assert.Equal(t, true, fake.Config(maasclient.ConfigEnableHTTPProxy))
	assert.Equal(t, "http://mirror.internal:8080", fake.Config(maasclient.ConfigHTTPProxy))
	assert.Equal(t, false, fake.Config(maasclient.ConfigUsePeerProxy))
	assert.Equal(t, true, fake.Config(maasclient.ConfigBootImagesNoProxy))
	assert.Contains(t, out, "maas config http_proxy=http://mirror.internal:8080\n")
	assert.Contains(t, out, "  snap set system proxy.http=http://mirror.internal:8080 proxy.https=http://mirror.internal:8080\n")
	b, err := os.ReadFile(ud)
	require.NoError(t, err)
	ca, err := os.ReadFile(filepath.Join(dir, "tls", "ca", "cert.pem"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(b), "#cloud-config\n"))
	for _, line := range strings.Split(strings.TrimSpace(string(ca)), "\n") {
		assert.Contains(t, string(b), "      "+line+"\n", "the CA is in the user data")
	}
}
