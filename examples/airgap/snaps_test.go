package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/snapproxy/snapproxytest"
)

// TestServeSnapStore: serve prints, per snaps mirror, the commands that point a device's
// snapd at it; through the mirror as HTTPS proxy, real curl trusting only the local CA
// reaches api.snapcraft.io's API, answered from the mirror.
func TestServeSnapStore(t *testing.T) {
	curl := testutil.RequireBinary(t, "curl", "curl")
	up := snapproxytest.New(snapproxytest.Options{})
	t.Cleanup(up.Close)
	up.AddDemo()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "keys", "root.assert"), string(up.TrustedKeys()))
	mustRun(t, "tls", "ca", "--dir", filepath.Join(dir, "tls", "ca"), "--key-type", "ecdsa-p256")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	cfg := filepath.Join(dir, "airgap.yaml")
	writeFile(t, cfg, "listen: "+addr+"\nsnaps:\n  - name: maas\n    url: "+up.URL()+"\n    trusted_keys: keys/root.assert\n"+
		"    snaps: [{name: maas, channel: 3.5/stable, keep: 2}]\n    architectures: [amd64]\n"+
		"    connect: {ca_cert: tls/ca/cert.pem, ca_key: tls/ca/key.pem}\n")
	mustRun(t, "--config", cfg, "sync")

	ctx, cancel := context.WithCancel(context.Background())
	var buf bytes.Buffer
	out := &syncWriter{w: &buf}
	printedSoFar := func() string {
		out.mu.Lock()
		defer out.mu.Unlock()
		return buf.String()
	}
	done := make(chan error, 1)
	go func() {
		root := newRoot()
		root.SetOut(out)
		root.SetArgs([]string{"--config", cfg, "--log-level", "error", "serve"})
		done <- root.ExecuteContext(ctx)
	}()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()
	require.Eventually(t, func() bool { return strings.Contains(printedSoFar(), "proxy.https") }, 30*time.Second, 50*time.Millisecond)
	printed := printedSoFar()
	assert.Contains(t, printed, "snaps/maas: snapd refreshes from http://"+addr+"/snaps/maas")
	assert.Contains(t, printed, `snap set system store-certs.airgap="$(cat ca.pem)"`)
	assert.Contains(t, printed, "snap set system proxy.https=http://"+addr+"\n")
	assert.NotContains(t, printed, "proxy.store", "no store assertion is published")

	ca := filepath.Join(dir, "ca.pem")
	b, err := os.ReadFile(filepath.Join(dir, "tls", "ca", "cert.pem"))
	require.NoError(t, err)
	writeFile(t, ca, string(b))
	body, err := testutil.RunErr(t, 10*time.Second, nil, curl, "-fsS", "--proxy", "http://"+addr, "--cacert", ca,
		"-H", "Snap-Device-Series: 16", "https://api.snapcraft.io/v2/snaps/info/maas?architecture=amd64")
	require.NoError(t, err, body)
	assert.Contains(t, body, `"revision":100`)
	assert.Contains(t, body, `"url":"https://api.snapcraft.io/api/v1/snaps/download/`)
	// The same API below /snaps/maas/, for a registered proxy store.
	body, err = testutil.RunErr(t, 10*time.Second, nil, curl, "-fsS", "-H", "Snap-Device-Series: 16",
		"http://"+addr+"/snaps/maas/v2/snaps/info/maas")
	require.NoError(t, err, body)
	assert.Contains(t, body, `"url":"http://`+addr+`/snaps/maas/api/v1/snaps/download/`)
}
