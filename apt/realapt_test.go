package apt_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airgapkit/airgap/apt"
	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
	"github.com/stretchr/testify/require"
)

// aptEnv writes an isolated apt configuration under dir and returns its environment.
func aptEnv(t *testing.T, dir, sourcesList string) []string {
	t.Helper()
	env, err := apttest.ClientConfig(dir, sourcesList)
	require.NoError(t, err)
	return env
}

// TestRealApt mirrors a signed upstream with a filter and dependency closure,
// re-signs it, serves it, and lets the real apt client update, show candidates and
// download the closure; gpgv and sqv check InRelease and Release.gpg.
func TestRealApt(t *testing.T) {
	testutil.RequireBinary(t, "apt-get", "apt")
	ctx := context.Background()
	e := newEnv(t, apttest.Options{ByHash: true})
	m := e.mirror()
	m.Filter = apt.Filter{Packages: []string{"hello", "cowsay"}, Dependencies: true}
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	require.Empty(t, st.Unsatisfied)

	srv := httptest.NewServer(apt.NewHandler(e.store, m.Ref()))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	snap, _, err := store.OpenPublished(ctx, e.store, m.Ref())
	require.NoError(t, err)
	get := func(p string) []byte {
		f, ok := snap.Lookup(p)
		require.True(t, ok, p)
		b, err := store.ReadBlob(ctx, e.store, f.Digest, 1<<30)
		require.NoError(t, err)
		return b
	}
	keyFile := filepath.Join(dir, "archive-key.gpg")
	require.NoError(t, os.WriteFile(keyFile, get("archive-key.gpg"), 0o644))
	ascFile := filepath.Join(dir, "archive-key.asc")
	require.NoError(t, os.WriteFile(ascFile, get("archive-key.asc"), 0o644))

	aptDir := filepath.Join(dir, "apt")
	envv := aptEnv(t, aptDir, "deb [signed-by="+keyFile+"] "+srv.URL+"/ stable main\ndeb [signed-by="+keyFile+"] "+srv.URL+"/ stable-updates main")
	out := testutil.Run(t, 2*time.Minute, envv, "apt-get", "update", "-o", "Debug::Acquire::http=false")
	t.Log(out)
	require.NotContains(t, out, "W: ")
	require.NotContains(t, out, "Err:")

	out = testutil.Run(t, time.Minute, envv, "apt-cache", "policy", "hello", "libc6", "cowsay", "perl", "unrelated", "greeting-english", "fallback-data", "hello-doc")
	t.Log(out)
	require.Contains(t, out, "hello:\n  Installed: (none)\n  Candidate: 2.10-4")
	require.Contains(t, out, "libc6:\n  Installed: (none)\n  Candidate: 2.36-9")
	require.Contains(t, out, "cowsay:\n  Installed: (none)\n  Candidate: 3.03+dfsg2-8")
	require.Contains(t, out, "perl:\n  Installed: (none)\n  Candidate: 5.36.0-7")
	// the virtual greeting-data comes from its provider, the first alternative; the second
	// alternative, Recommends (not asked for) and unrelated packages stay out
	require.Contains(t, out, "greeting-english:\n  Installed: (none)\n  Candidate: 1.0")
	require.NotContains(t, out, "unrelated:")
	require.Contains(t, out, "fallback-data:\n  Installed: (none)\n  Candidate: (none)")
	require.Contains(t, out, "hello-doc:\n  Installed: (none)\n  Candidate: (none)")

	out = testutil.Run(t, 2*time.Minute, envv, "apt-get", "install", "--download-only", "-y", "--no-install-recommends", "hello", "cowsay")
	t.Log(out)
	debs, err := filepath.Glob(filepath.Join(aptDir, "cache/archives/*.deb"))
	require.NoError(t, err)
	var names []string
	for _, d := range debs {
		names = append(names, filepath.Base(d))
	}
	require.ElementsMatch(t, []string{"hello_2.10-4_amd64.deb", "libc6_2.36-9_amd64.deb", "libgcc-s1_12.2.0-14_amd64.deb",
		"cowsay_3.03+dfsg2-8_all.deb", "perl_5.36.0-7_amd64.deb"}, names)

	// the signatures, by the verifiers apt itself uses
	inRelease := filepath.Join(dir, "InRelease")
	release := filepath.Join(dir, "Release")
	releaseGPG := filepath.Join(dir, "Release.gpg")
	require.NoError(t, os.WriteFile(inRelease, get("dists/stable/InRelease"), 0o644))
	require.NoError(t, os.WriteFile(release, get("dists/stable/Release"), 0o644))
	require.NoError(t, os.WriteFile(releaseGPG, get("dists/stable/Release.gpg"), 0o644))
	if testutil.RequireBinary(t, "gpgv", "gpgv") != "" {
		testutil.Run(t, time.Minute, nil, "gpgv", "--keyring", keyFile, inRelease)
		testutil.Run(t, time.Minute, nil, "gpgv", "--keyring", keyFile, releaseGPG, release)
	}
	if testutil.RequireBinary(t, "sqv", "sqv") != "" {
		testutil.Run(t, time.Minute, nil, "sqv", "--keyring", keyFile, releaseGPG, release)
		testutil.Run(t, time.Minute, nil, "sqv", "--keyring", ascFile, releaseGPG, release)
		// sqv reads detached signatures only: split InRelease as apt does before calling it
		text, sig := splitClearsigned(t, get("dists/stable/InRelease"))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "in.txt"), text, 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "in.sig"), sig, 0o644))
		testutil.Run(t, time.Minute, nil, "sqv", "--keyring", keyFile, filepath.Join(dir, "in.sig"), filepath.Join(dir, "in.txt"))
	}
}

// splitClearsigned returns the signed text (dash-unescaped, without the final line break,
// as RFC 9580 hashes it) and the armored signature of a clearsigned message.
func splitClearsigned(t *testing.T, msg []byte) ([]byte, []byte) {
	s := string(msg)
	i := strings.Index(s, "\n\n")
	j := strings.Index(s, "\n-----BEGIN PGP SIGNATURE-----")
	require.True(t, i > 0 && j > i)
	var lines []string
	for _, l := range strings.Split(s[i+2:j], "\n") {
		lines = append(lines, strings.TrimPrefix(l, "- "))
	}
	return []byte(strings.Join(lines, "\n")), []byte(s[j+1:])
}

// TestRealAptRepository builds a repository from local .deb files (one written by
// apttest, one by dpkg-deb with zstd) and lets apt update from it and download them.
func TestRealAptRepository(t *testing.T) {
	testutil.RequireBinary(t, "apt-get", "apt")
	dpkgDeb := testutil.RequireBinary(t, "dpkg-deb", "dpkg")
	ctx := context.Background()
	dir := t.TempDir()
	root := filepath.Join(dir, "pkg")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "usr/share/doc/zpkg"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "usr/share/doc/zpkg/README"), []byte("z\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "DEBIAN/control"), []byte("Package: zpkg\nVersion: 1:3.0-1\nArchitecture: all\nMaintainer: T <t@example.invalid>\nDepends: tool\nDescription: built by dpkg-deb\n"), 0o644))
	zdeb := filepath.Join(dir, "zpkg.deb")
	testutil.Run(t, time.Minute, nil, dpkgDeb, "--root-owner-group", "-Zzstd", "--build", root, zdeb)
	zf, err := os.Open(zdeb)
	require.NoError(t, err)
	defer zf.Close()

	key, err := pgp.GenerateKey("Local Repo", "local@example.invalid", pgp.KeyOptions{})
	require.NoError(t, err)
	s := store.NewMemory()
	r := &apt.Repository{Name: "local", Origin: "Local", Label: "Local", Store: s, Signer: key, ValidFor: 24 * time.Hour}
	_, _, err = r.Include(ctx, "bookworm", "main", bytes.NewReader(apttest.BuildDeb(apttest.Package{Name: "tool", Version: "2.0-1"})), zf)
	require.NoError(t, err)

	srv := httptest.NewServer(apt.NewHandler(s, r.Ref()))
	t.Cleanup(srv.Close)
	pub, err := key.PublicKey(false)
	require.NoError(t, err)
	keyFile := filepath.Join(dir, "key.gpg")
	require.NoError(t, os.WriteFile(keyFile, pub, 0o644))
	aptDir := filepath.Join(dir, "apt")
	envv := aptEnv(t, aptDir, "deb [signed-by="+keyFile+"] "+srv.URL+"/ bookworm main")
	out := testutil.Run(t, 2*time.Minute, envv, "apt-get", "update")
	require.NotContains(t, out, "W: ")
	out = testutil.Run(t, time.Minute, envv, "apt-cache", "policy", "zpkg", "tool")
	require.Contains(t, out, "zpkg:\n  Installed: (none)\n  Candidate: 1:3.0-1")
	require.Contains(t, out, "tool:\n  Installed: (none)\n  Candidate: 2.0-1")
	testutil.Run(t, 2*time.Minute, envv, "apt-get", "install", "--download-only", "-y", "zpkg")
	debs, err := filepath.Glob(filepath.Join(aptDir, "cache/archives/*.deb"))
	require.NoError(t, err)
	require.Len(t, debs, 2)
}
