package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/internal/miniotest"
	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/site"
	"github.com/airgapkit/airgap/store/pgp"
)

// TestAptThroughMinIO: an apt mirror synced into one MinIO bucket, exported, imported into
// a second bucket, served from there by `airgap serve`'s handler, and installed from by the
// real apt client.
func TestAptThroughMinIO(t *testing.T) {
	srv := miniotest.Start(t)
	require.NoError(t, srv.Bucket("outside"))
	require.NoError(t, srv.Bucket("inside"))
	for _, kv := range miniotest.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	dir := t.TempDir()

	archiveKey, err := pgp.GenerateKey("s3 test archive", "", pgp.KeyOptions{})
	require.NoError(t, err)
	repo, err := apttest.Build(apttest.Options{Suites: []string{"stable"}, Signer: archiveKey, ByHash: true}, []apttest.Package{
		{Name: "hello", Version: "2.10-3", Depends: "libhello"},
		{Name: "libhello", Version: "1.1-1"},
		{Name: "other", Version: "1.0"},
	})
	require.NoError(t, err)
	upstream := httptest.NewServer(apttest.NewServer(repo))
	defer upstream.Close()
	pub, err := archiveKey.PublicKey(true)
	require.NoError(t, err)
	writeFile(t, filepath.Join(dir, "upstream.asc"), string(pub))
	mustRun(t, "keys", "generate", "--out", filepath.Join(dir, "keys", "signing.asc"))

	mirrors := fmt.Sprintf(`apt:
  - {name: ubuntu, url: %q, keyring: upstream.asc, suites: [stable], components: [main], architectures: [amd64], filter: {packages: [hello], dependencies: true}}
`, upstream.URL)
	outside := filepath.Join(dir, "outside.yaml")
	writeFile(t, outside, "store: "+srv.URL("outside", "site")+"\nsigning_key: keys/signing.asc\n"+mirrors)
	inside := filepath.Join(dir, "inside.yaml")
	writeFile(t, inside, "store: "+srv.URL("inside", "site")+"\ntrusted_keys: [keys/signing.pub.asc]\n"+mirrors)

	mustRun(t, "--config", outside, "sync")
	mustRun(t, "--config", outside, "export", "--out", filepath.Join(dir, "bundle.tar"))
	mustRun(t, "--config", inside, "import", filepath.Join(dir, "bundle.tar"))
	assert.Contains(t, mustRun(t, "--config", inside, "verify"), "0 corrupt")

	cfg, err := site.Load(inside)
	require.NoError(t, err)
	s, err := cfg.OpenStore(context.Background())
	require.NoError(t, err)
	mirror := httptest.NewServer(site.NewServer(cfg, cfg.Env(s, nil, discardLogger())))
	defer mirror.Close()

	aptGet := testutil.RequireBinary(t, "apt-get", "apt")
	client := filepath.Join(dir, "apt-client")
	env, err := apttest.ClientConfig(client, fmt.Sprintf("deb [signed-by=%s] %s/apt/ubuntu stable main", filepath.Join(dir, "keys", "signing.pub.asc"), mirror.URL))
	require.NoError(t, err)
	testutil.Run(t, 2*time.Minute, env, aptGet, "update")
	policy := testutil.Run(t, time.Minute, env, "apt-cache", "policy", "hello")
	assert.Contains(t, policy, "Candidate: 2.10-3")
	testutil.Run(t, 2*time.Minute, env, aptGet, "install", "--download-only", "-y", "hello")
	debs, _ := filepath.Glob(filepath.Join(client, "cache", "archives", "*.deb"))
	assert.Len(t, debs, 2, "hello and its dependency, served from the inside bucket")
}
