package main

import (
	"encoding/base64"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/maastest"
	"github.com/airgapkit/airgap/store/pgp"
)

// TestMaasConfigure points a (fake, strict) MAAS at the mirror the config describes: the
// boot source gets the operator's binary keyring, the archives the mirror's URL.
func TestMaasConfigure(t *testing.T) {
	fake := maastest.New(t)
	dir := t.TempDir()
	mustRun(t, "keys", "generate", "--out", filepath.Join(dir, "keys", "signing.asc"))
	cfg := filepath.Join(dir, "airgap.yaml")
	writeFile(t, cfg, `signing_key: keys/signing.asc
external_url: http://mirror.internal:8080
simplestreams:
  - {name: maas, url: "http://images.maas.io/ephemeral-v3/stable/"}
apt:
  - {name: ubuntu, url: "http://archive.ubuntu.com/ubuntu", suites: [noble]}
`)
	out := mustRun(t, "--config", cfg, "maas", "configure", "--maas-url", fake.URL, "--api-key", maastest.APIKey,
		"--release", "noble", "--arch", "amd64", "--poll", "1ms")
	assert.Contains(t, out, "http://mirror.internal:8080/simplestreams/maas/")
	assert.Contains(t, out, "import finished")
	assert.Empty(t, fake.Violations())

	sources := fake.BootSources()
	require.Len(t, sources, 1)
	assert.Equal(t, "http://mirror.internal:8080/simplestreams/maas/", sources[0].URL)
	signer, err := pgp.LoadSigner(filepath.Join(dir, "keys", "signing.asc"), nil)
	require.NoError(t, err)
	binary, err := signer.PublicKey(false)
	require.NoError(t, err)
	assert.Equal(t, base64.StdEncoding.EncodeToString(binary), sources[0].KeyringData, "MAAS gets the binary keyring gpgv needs")
	var main bool
	for _, r := range fake.Repos() {
		if r.Name == "main_archive" {
			main = true
			assert.Equal(t, "http://mirror.internal:8080/apt/ubuntu/", r.URL)
		}
	}
	assert.True(t, main)
}
