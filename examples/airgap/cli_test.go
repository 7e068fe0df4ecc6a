package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/site"
	"github.com/airgapkit/airgap/store"
)

// run runs the CLI in-process and returns its stdout; the test fails on error unless
// wantErr is set.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&syncWriter{w: &errOut})
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	if err != nil {
		t.Logf("airgap %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), err
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := run(t, args...)
	require.NoError(t, err)
	return out
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

func get(t *testing.T, h http.Handler, host, path string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Host = host
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b)
}

// TestAcrossTheGap drives the store-level commands: sync a files mirror outside, export a
// signed bundle, import it inside with only the public key, serve it, and carry an
// incremental bundle after the upstream changes.
func TestAcrossTheGap(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "upstream", "tool.txt")
	writeFile(t, src, "tool v1")
	mustRun(t, "keys", "generate", "--out", filepath.Join(dir, "keys", "signing.asc"))

	outside := filepath.Join(dir, "outside.yaml")
	writeFile(t, outside, "store: out-store\nsigning_key: keys/signing.asc\nfiles:\n  - {name: tools, insecure: true, urls: [\""+src+"\"]}\n")
	inside := filepath.Join(dir, "inside.yaml")
	writeFile(t, inside, "store: in-store\ntrusted_keys: [keys/signing.pub.asc]\nhosts: {downloads.example.org: files/tools}\nfiles:\n  - {name: tools, insecure: true, urls: [\""+src+"\"]}\n")

	dry := mustRun(t, "--config", outside, "sync", "--dry-run")
	assert.Contains(t, dry, src)
	// a local path's size is its size on disk
	assert.Contains(t, dry, fmt.Sprintf("files/tools: 1 items: fetch 1 (%d B), held 0 (0 B)", len("tool v1")))
	assert.Contains(t, dry, fmt.Sprintf("store after gc (keep 1): %d B\n", len("tool v1")))

	mustRun(t, "--config", outside, "sync")
	var rep site.StatusReport
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--config", outside, "status", "--json", "--url", "http://mirror.internal:8080")), &rep))
	require.Len(t, rep.Mirrors, 1)
	assert.Equal(t, "files/tools", rep.Mirrors[0].Ref)
	assert.Equal(t, 1, rep.Mirrors[0].Items)
	require.NotNil(t, rep.Mirrors[0].LastSync, "the outside recorded its sync")
	assert.True(t, rep.Mirrors[0].LastSync.OK)
	require.NotEmpty(t, rep.Mirrors[0].Snippets)
	assert.Contains(t, rep.Mirrors[0].Snippets[0].Text, "curl -fO http://mirror.internal:8080/files/tools/tool.txt")
	plan := mustRun(t, "--config", outside, "export", "--dry-run", "--split", "1024", "--out", filepath.Join(dir, "b1.tar"))
	out := mustRun(t, "--config", outside, "export", "--out", filepath.Join(dir, "b1.tar"))
	fi, err := os.Stat(filepath.Join(dir, "b1.tar"))
	require.NoError(t, err)
	assert.Contains(t, plan, fmt.Sprintf("(%d bytes) in %d part(s)", fi.Size(), (fi.Size()+1023)/1024))
	assert.Contains(t, out, "exported 1 mirrors")

	mustRun(t, "--config", inside, "import", filepath.Join(dir, "b1.tar"))
	status := mustRun(t, "--config", inside, "status")
	assert.Regexp(t, `files/tools\s+\d{4}-\d\d-\d\d`, status)
	rep = site.StatusReport{}
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--config", inside, "status", "--json")), &rep))
	require.Len(t, rep.Mirrors, 1)
	assert.Nil(t, rep.Mirrors[0].LastSync, "the sync record stays outside")
	assert.Equal(t, "http://127.0.0.1:8080", rep.URL, "listen's default")

	cfg, err := site.Load(inside)
	require.NoError(t, err)
	s, err := cfg.OpenStore(context.Background())
	require.NoError(t, err)
	srv := site.NewServer(cfg, cfg.Env(s, nil, discardLogger()))
	code, body := get(t, srv, "mirror", "/files/tools/tool.txt")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "tool v1", body)
	code, body = get(t, srv, "downloads.example.org", "/tool.txt")
	assert.Equal(t, http.StatusOK, code, "Host routing serves at the upstream's own paths")
	assert.Equal(t, "tool v1", body)
	_, metrics := get(t, srv, "mirror", "/metrics")
	assert.Contains(t, metrics, `airgap_http_requests_total{code="200",method="GET",mirror="files/tools"} 2`)

	// Upstream changes; the incremental bundle carries only what is new.
	writeFile(t, src, "tool v2")
	mustRun(t, "--config", outside, "sync")
	out = mustRun(t, "--config", outside, "export", "--out", filepath.Join(dir, "b2.tar"), "--since", filepath.Join(dir, "b1.tar.manifest.json"), "--split", "1k")
	assert.Contains(t, out, "3 blobs", "new file, snapshot manifest, generation record")
	vols, _ := filepath.Glob(filepath.Join(dir, "b2.tar.*[0-9]"))
	require.NotEmpty(t, vols)
	mustRun(t, append([]string{"--config", inside, "import"}, vols...)...)
	_, body = get(t, srv, "mirror", "/files/tools/tool.txt")
	assert.Equal(t, "tool v2", body)

	// A bundle signed by someone else is refused and changes nothing.
	mustRun(t, "keys", "generate", "--out", filepath.Join(dir, "other", "k.asc"))
	writeFile(t, src, "evil")
	evil := filepath.Join(dir, "evil.yaml")
	writeFile(t, evil, "store: evil-store\nsigning_key: other/k.asc\nfiles:\n  - {name: tools, insecure: true, urls: [\""+src+"\"]}\n")
	mustRun(t, "--config", evil, "sync")
	mustRun(t, "--config", evil, "export", "--out", filepath.Join(dir, "evil.tar"))
	_, err = run(t, "--config", inside, "import", filepath.Join(dir, "evil.tar"))
	require.Error(t, err)
	_, body = get(t, srv, "mirror", "/files/tools/tool.txt")
	assert.Equal(t, "tool v2", body)

	inv := mustRun(t, "--config", inside, "inventory")
	var bom struct {
		BOMFormat  string `json:"bomFormat"`
		Components []struct {
			Name   string `json:"name"`
			Hashes []struct{ Alg, Content string }
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal([]byte(inv), &bom))
	assert.Equal(t, "CycloneDX", bom.BOMFormat)
	require.Len(t, bom.Components, 1)
	assert.Equal(t, "tool.txt", bom.Components[0].Name)
	assert.Equal(t, store.DigestOf([]byte("tool v2")).Hex(), bom.Components[0].Hashes[0].Content)

	out = mustRun(t, "--config", inside, "verify")
	assert.Contains(t, out, "0 corrupt")
	out = mustRun(t, "--config", inside, "gc", "--keep", "1")
	assert.Contains(t, out, "removed")
	_, body = get(t, srv, "mirror", "/files/tools/tool.txt")
	assert.Equal(t, "tool v2", body)
}

func TestVerifyFindsCorruption(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(filepath.Join(dir, "store"))
	require.NoError(t, err)
	info, err := s.Put(context.Background(), store.Expect{}, strings.NewReader("precious"))
	require.NoError(t, err)
	p := filepath.Join(dir, "store", "blobs", "sha256", info.Digest.Hex()[:2], info.Digest.Hex())
	require.NoError(t, os.Chmod(p, 0o644))
	require.NoError(t, os.WriteFile(p, []byte("rotten!!"), 0o644))
	writeFile(t, filepath.Join(dir, "airgap.yaml"), "store: store\n")
	out, err := run(t, "--config", filepath.Join(dir, "airgap.yaml"), "verify")
	require.Error(t, err)
	assert.Contains(t, out, "CORRUPT "+info.Digest.String())
	assert.Contains(t, out, "1 corrupt")
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestSyncFailureIsolated: a mirror whose upstream fails makes sync exit non-zero and keeps
// what it published before, while the other mirrors still publish.
func TestSyncFailureIsolated(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "up", "good.txt")
	writeFile(t, good, "fine")
	bad := filepath.Join(dir, "up", "bad.txt")
	writeFile(t, bad, "v1")
	cfg := filepath.Join(dir, "airgap.yaml")
	writeFile(t, cfg, "files:\n  - {name: bad, insecure: true, urls: [\""+bad+"\"]}\n  - {name: good, insecure: true, urls: [\""+good+"\"]}\n")
	mustRun(t, "--config", cfg, "sync")
	require.NoError(t, os.Remove(bad))
	writeFile(t, good, "fine v2")

	_, err := run(t, "--config", cfg, "sync")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1 of 2 mirrors failed: files/bad")

	c, err := site.Load(cfg)
	require.NoError(t, err)
	s, err := c.OpenStore(context.Background())
	require.NoError(t, err)
	srv := site.NewServer(c, c.Env(s, nil, discardLogger()))
	_, body := get(t, srv, "mirror", "/files/good/good.txt")
	assert.Equal(t, "fine v2", body, "the healthy mirror published")
	_, body = get(t, srv, "mirror", "/files/bad/bad.txt")
	assert.Equal(t, "v1", body, "the failed mirror kept its previous publication")
}
func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"": 0, "1024": 1024, "700M": 700 << 20, "4G": 4 << 30, "4GiB": 4 << 30, "2k": 2 << 10} {
		got, err := parseSize(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"-1", "G", "1.5G", "12Q", "0"} {
		_, err := parseSize(bad)
		assert.Error(t, err, bad)
	}
}
