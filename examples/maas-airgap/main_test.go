package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/maasclient"
	"github.com/airgapkit/airgap/maasclient/maastest"
	"github.com/airgapkit/airgap/simplestreams/simplestreamstest"
	"github.com/airgapkit/airgap/store/pgp"
)

// fixture is a local Ubuntu archive, image stream and fake MAAS, with an operator key.
type fixture struct {
	cfg      config
	maas     *maastest.Server
	operator *pgp.Signer
	ready    chan string
	write    func(name string, b []byte) string
}

func newFixture(t *testing.T) *fixture {
	dir := t.TempDir()
	f := &fixture{ready: make(chan string, 1)}
	f.write = func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return p
	}

	archiveKey, err := pgp.GenerateKey("Test Archive Signing Key", "", pgp.KeyOptions{})
	require.NoError(t, err)
	repo, err := apttest.Build(apttest.Options{Suites: []string{"noble"}, Signer: archiveKey}, []apttest.Package{
		{Name: "openssh-server", Version: "1:9.6p1-3", Depends: "libssl3 (>= 3.0)"},
		{Name: "libssl3", Version: "3.0.13-0ubuntu3", Section: "libs"},
		{Name: "unwanted", Version: "1.0-1"},
	})
	require.NoError(t, err)
	archive := httptest.NewServer(apttest.NewServer(repo))
	t.Cleanup(archive.Close)
	archivePub, err := archiveKey.PublicKey(true)
	require.NoError(t, err)

	streams, err := simplestreamstest.New(simplestreamstest.Options{})
	require.NoError(t, err)
	images := httptest.NewServer(streams)
	t.Cleanup(images.Close)

	f.operator, err = pgp.GenerateKey("Mirror Operator", "", pgp.KeyOptions{})
	require.NoError(t, err)
	priv, err := f.operator.ArmoredPrivateKey()
	require.NoError(t, err)

	f.maas = maastest.New(t)
	f.maas.SetImportPolls(2) // the import is still running at the first two checks
	// The served image tree (its port known once it listens) carries noble for amd64.
	f.maas.SetImagesFunc(func(url string) []maastest.Image {
		if strings.HasPrefix(url, "http://127.0.0.1:") && strings.HasSuffix(url, "/maas/") {
			return maastest.UbuntuImages("noble", "amd64")
		}
		return nil
	})
	f.cfg = config{
		StoreDir: filepath.Join(dir, "store"), Listen: "127.0.0.1:0", SigningKey: f.write("signing.asc", priv),
		ArchiveURL: archive.URL, ArchiveKeyring: f.write("archive.asc", archivePub),
		Suites: []string{"noble"}, Components: []string{"main"}, Packages: []string{"openssh-server"},
		ImagesURL: images.URL + "/", ImagesKeyring: f.write("images.gpg", streams.Keyring()),
		Release: "noble", Arches: []string{"amd64"},
		MAASURL: f.maas.URL, APIKey: maastest.APIKey, Poll: 10 * time.Millisecond,
		Out: io.Discard, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Ready: func(u string) { f.ready <- u },
	}
	return f
}

// TestRun drives the whole pipeline against local upstreams and a fake MAAS, then checks
// what MAAS was told and that what is served verifies with the operator key in gpgv.
func TestRun(t *testing.T) {
	f := newFixture(t)
	cfg, maas, ready, write := f.cfg, f.maas, f.ready, f.write
	operatorPub, err := f.operator.PublicKey(false)
	require.NoError(t, err)
	operatorArmored, err := f.operator.PublicKey(true)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg) }()
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("run returned before serving: %v", err)
	}

	// MAAS's boot source is the served image tree, trusted through the operator's key.
	srcs := maas.BootSources()
	require.Len(t, srcs, 1)
	assert.Equal(t, base+"/maas/", srcs[0].URL)
	keyring, err := base64.StdEncoding.DecodeString(srcs[0].KeyringData)
	require.NoError(t, err)
	assert.Equal(t, operatorPub, keyring, "keyring_data is the operator's binary public key")
	sels := maas.Selections(srcs[0].ID)
	require.Len(t, sels, 1)
	assert.Equal(t, "noble", sels[0].Release)
	assert.Equal(t, []string{"amd64"}, sels[0].Arches)
	assert.Equal(t, 2, maas.Imports(), "one to refresh MAAS's cache of the new source, one to import")

	// main_archive is the served apt tree, with the operator's armored key.
	var mainArchive *maastest.Repo
	for _, r := range maas.Repos() {
		if r.Name == maasclient.MainArchive {
			mainArchive = &r
		}
	}
	require.NotNil(t, mainArchive)
	assert.Equal(t, base+"/ubuntu/", mainArchive.URL)
	assert.Equal(t, string(operatorArmored), mainArchive.Key)
	assert.Equal(t, []string{"deb " + base + "/ubuntu/ noble main"}, maas.SourcesList("amd64", "noble"), "only the suite mirrored")
	assert.Equal(t, "noble", maas.Config("commissioning_distro_series"))
	assert.Empty(t, maas.Violations())

	// What is served verifies with gpgv: InRelease against the operator key, and the
	// image index against exactly the keyring MAAS was given.
	gpgv := testutil.RequireBinary(t, "gpgv", "gpgv")
	env := []string{"GNUPGHOME=" + t.TempDir(), "LC_ALL=C"}
	keyFile := write("maas-keyring.gpg", keyring)
	inRelease := write("InRelease", get(t, base+"/ubuntu/dists/noble/InRelease"))
	testutil.Run(t, time.Minute, env, gpgv, "--keyring", keyFile, inRelease)
	index := write("index.sjson", get(t, srcs[0].URL+"streams/v1/index.sjson"))
	testutil.Run(t, time.Minute, env, gpgv, "--keyring", keyFile, index)

	// The package filter kept the named package and its dependency, nothing else.
	pkgs := string(get(t, base+"/ubuntu/dists/noble/main/binary-amd64/Packages"))
	assert.Contains(t, pkgs, "Package: openssh-server\n")
	assert.Contains(t, pkgs, "Package: libssl3\n")
	assert.NotContains(t, pkgs, "Package: unwanted\n")

	cancel()
	require.NoError(t, <-done)

	// A second run over the same store finds both upstreams unchanged and leaves MAAS
	// with one boot source, now at the new address.
	var out bytes.Buffer
	cfg.Out = &out
	ctx, cancel = context.WithCancel(context.Background())
	go func() { done <- run(ctx, cfg) }()
	select {
	case base = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("second run returned before serving: %v", err)
	}
	cancel()
	require.NoError(t, <-done)
	assert.Contains(t, out.String(), "apt: upstream unchanged")
	assert.Contains(t, out.String(), "images: upstream unchanged")
	srcs = maas.BootSources()
	require.Len(t, srcs, 1)
	assert.Equal(t, base+"/maas/", srcs[0].URL)
	assert.Empty(t, maas.Violations())
}

func get(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, url)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

// TestRunBadUpstreamKey: an image stream that the configured keyring does not vouch for
// stops the run before MAAS is touched.
func TestRunBadUpstreamKey(t *testing.T) {
	f := newFixture(t)
	f.cfg.ImagesKeyring = f.cfg.ArchiveKeyring // the wrong key
	before := f.maas.BootSources()
	err := run(context.Background(), f.cfg)
	require.Error(t, err)
	assert.ErrorIs(t, err, pgp.ErrSignature)
	assert.Contains(t, err.Error(), "image mirror")
	assert.Equal(t, before, f.maas.BootSources(), "MAAS's boot source is left alone")
	assert.Zero(t, f.maas.Imports())
	assert.Empty(t, f.ready)
}
