package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
)

// TestSyncSurvivesSIGKILL runs `airgap sync` as a subprocess and kills it with SIGKILL at
// random points, several times. After every kill the published mirror is either absent
// (never published) or complete: every file it lists is in the store and hashes to its
// name. The last run is left to finish and publishes.
func TestSyncSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI and runs it several times")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "airgap")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	archiveKey, err := pgp.GenerateKey("kill test archive", "", pgp.KeyOptions{})
	require.NoError(t, err)
	var pkgs []apttest.Package
	for i := range 40 {
		pkgs = append(pkgs, apttest.Package{Name: fmt.Sprintf("pkg%02d", i), Version: "1.0-1",
			Files: map[string]string{"/usr/share/doc/big": strings.Repeat(fmt.Sprint(i), 20000)}})
	}
	repo, err := apttest.Build(apttest.Options{Suites: []string{"stable"}, Signer: archiveKey}, pkgs)
	require.NoError(t, err)
	slow := apttest.NewServer(repo)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(15 * time.Millisecond) // long enough that kills land mid-sync
		slow.ServeHTTP(w, r)
	}))
	defer upstream.Close()
	pub, err := archiveKey.PublicKey(true)
	require.NoError(t, err)
	writeFile(t, filepath.Join(dir, "upstream.asc"), string(pub))
	mustRun(t, "keys", "generate", "--out", filepath.Join(dir, "keys", "signing.asc"))
	cfgPath := filepath.Join(dir, "airgap.yaml")
	writeFile(t, cfgPath, fmt.Sprintf(`store: store
signing_key: keys/signing.asc
apt:
  - {name: test, url: %q, keyring: upstream.asc, suites: [stable], components: [main], architectures: [amd64]}
`, upstream.URL))

	s, err := store.Open(filepath.Join(dir, "store"))
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	killRuns := func(n int) {
		for i := range n {
			cmd := exec.Command(bin, "--config", cfgPath, "--log-level", "error", "sync")
			require.NoError(t, cmd.Start())
			time.Sleep(time.Duration(50+rng.IntN(1200)) * time.Millisecond)
			_ = cmd.Process.Signal(syscall.SIGKILL)
			err := cmd.Wait()
			var exitErr *exec.ExitError
			t.Logf("run %d: killed=%v", i, errors.As(err, &exitErr) && !exitErr.Exited())
			assertConsistent(t, s, "apt/test")
		}
	}
	finish := func() *store.Snapshot {
		out, err := exec.Command(bin, "--config", cfgPath, "--log-level", "error", "sync").CombinedOutput()
		require.NoError(t, err, "%s", out)
		snap := assertConsistent(t, s, "apt/test")
		require.NotNil(t, snap, "the run after the kills publishes")
		return snap
	}
	killRuns(5)
	assert.Equal(t, 40, countDebs(finish(), "1.0-1"))

	// An update killed half-way leaves the previous mirror in place, whole.
	for i := range pkgs {
		pkgs[i].Version = "2.0-1"
	}
	repo2, err := apttest.Build(apttest.Options{Suites: []string{"stable"}, Signer: archiveKey}, pkgs)
	require.NoError(t, err)
	slow.Replace(repo2)
	killRuns(3)
	assert.Equal(t, 40, countDebs(finish(), "2.0-1"))
}

func countDebs(snap *store.Snapshot, version string) int {
	n := 0
	for p := range snap.Files {
		if strings.HasSuffix(p, "_"+version+"_amd64.deb") {
			n++
		}
	}
	return n
}

// assertConsistent checks that ref is unpublished or fully present and intact.
func assertConsistent(t *testing.T, s store.Store, ref string) *store.Snapshot {
	t.Helper()
	ctx := context.Background()
	snap, _, err := store.OpenPublished(ctx, s, ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	require.NoError(t, err)
	for p, f := range snap.Files {
		b, err := store.ReadBlob(ctx, s, f.Digest, 1<<30)
		require.NoError(t, err, p)
		require.Equal(t, f.Digest, store.DigestOf(b), "%s is intact", p)
	}
	_, hasRelease := snap.Lookup("dists/stable/InRelease")
	assert.True(t, hasRelease, "a published apt tree is complete")
	return snap
}
