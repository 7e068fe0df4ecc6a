package site

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/oci/ocitest"
	"github.com/airgapkit/airgap/store"
)

// Every oci mirror is reachable at one /v2/: real skopeo copies an image of each, a
// repository in two mirrors comes from the first configured, and status says which
// mirror serves which repository.
func TestServeEveryOCIMirror(t *testing.T) {
	skopeo := testutil.RequireBinary(t, "skopeo", "skopeo")
	ctx := context.Background()
	up, err := ocitest.Start()
	require.NoError(t, err)
	defer up.Close()
	cfg, err := Parse(filepath.Join(t.TempDir(), "airgap.yaml"), []byte(fmt.Sprintf(`
oci:
  - name: images
    images: [%[1]s/library/alpine:3.19, %[1]s/library/app:1.0.0]
    registries: [{host: "%[1]s", plain_http: true}]
  - name: tools
    images: [%[1]s/tools/db:2, %[1]s/library/app:1.1.0]
    registries: [{host: "%[1]s", plain_http: true}]
`, up.Host)))
	require.NoError(t, err)
	s := store.NewMemory()
	env := cfg.Env(s, nil, nil)
	require.NoError(t, env.SyncAll(ctx, cfg.Mirrors.All(), SyncOptions{}))
	srv := httptest.NewServer(NewServer(cfg, env))
	defer srv.Close()
	mirror := strings.TrimPrefix(srv.URL, "http://")
	local := strings.ReplaceAll(up.Host, ":", "-")

	dir := t.TempDir()
	for _, tc := range []struct{ repo, tag string }{{"library/alpine", "3.19"}, {"tools/db", "2"}} {
		src := "docker://" + mirror + "/" + local + "/" + tc.repo + ":" + tc.tag
		dst := "oci:" + filepath.Join(dir, strings.ReplaceAll(tc.repo, "/", "-")) + ":" + tc.tag
		testutil.Run(t, 2*time.Minute, nil, skopeo, "copy", "--preserve-digests", "--src-tls-verify=false", src, dst)
		b, err := os.ReadFile(filepath.Join(dir, strings.ReplaceAll(tc.repo, "/", "-"), "index.json"))
		require.NoError(t, err)
		var idx struct{ Manifests []struct{ Digest string } }
		require.NoError(t, json.Unmarshal(b, &idx))
		require.Len(t, idx.Manifests, 1)
		assert.Equal(t, up.Content[tc.repo+":"+tc.tag].Digest, idx.Manifests[0].Digest, src)
	}
	raw := testutil.Output(t, time.Minute, nil, skopeo, "inspect", "--raw", "--tls-verify=false", "docker://"+mirror+"/"+local+"/library/app:1.0.0")
	sum := sha256.Sum256([]byte(raw))
	assert.Equal(t, up.Content["library/app:1.0.0"].Digest, "sha256:"+hex.EncodeToString(sum[:]))
	out, err := testutil.RunErr(t, time.Minute, nil, skopeo, "inspect", "--raw", "--tls-verify=false", "docker://"+mirror+"/"+local+"/library/app:1.1.0")
	assert.Error(t, err, "library/app is the first mirror's, which has no 1.1.0: %s", out)
	tags := testutil.Output(t, time.Minute, nil, skopeo, "list-tags", "--tls-verify=false", "docker://"+mirror+"/"+local+"/library/app")
	assert.Contains(t, tags, `"1.0.0"`)
	assert.NotContains(t, tags, `"1.1.0"`)

	st, err := cfg.Status(ctx, s, time.Now())
	require.NoError(t, err)
	byRef := map[string]MirrorStatus{}
	for _, m := range st {
		byRef[m.Ref] = m
	}
	assert.Equal(t, []string{local + "/library/alpine", local + "/library/app"}, byRef["oci/images"].Repositories)
	assert.Equal(t, []string{local + "/tools/db"}, byRef["oci/tools"].Repositories)
	assert.Equal(t, []string{"repository " + local + "/library/app is served at /v2/ from oci/images (configured first), not from this mirror"}, byRef["oci/tools"].Warnings)
	assert.Empty(t, byRef["oci/images"].Warnings)
}
