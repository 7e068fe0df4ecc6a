package main

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/testutil"
)

// TestServeTLS: `tls ca` and `tls issue` make what `serve` uses; real curl trusts it with
// the CA alone and refuses it without.
func TestServeTLS(t *testing.T) {
	curl := testutil.RequireBinary(t, "curl", "curl")
	dir := t.TempDir()
	mustRun(t, "tls", "ca", "--dir", filepath.Join(dir, "tls", "ca"))
	out := mustRun(t, "tls", "issue", "--ca", filepath.Join(dir, "tls", "ca"), "--out", filepath.Join(dir, "tls", "server"),
		"--dns", "mirror.internal", "--ip", "127.0.0.1")
	assert.Regexp(t, `SHA-256 fingerprint ([0-9A-F]{2}:){31}[0-9A-F]{2}`, out)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	cfg := filepath.Join(dir, "airgap.yaml")
	writeFile(t, cfg, "listen: "+addr+"\ntls: {cert: tls/server/cert.pem, key: tls/server/key.pem}\n")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		root := newRoot()
		root.SetArgs([]string{"--config", cfg, "--log-level", "error", "serve"})
		done <- root.ExecuteContext(ctx)
	}()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()
	url := "https://" + addr + "/healthz"
	var body string
	require.Eventually(t, func() bool {
		b, err := testutil.RunErr(t, 10*time.Second, nil, curl, "-fsS", "--cacert", filepath.Join(dir, "tls", "ca", "cert.pem"), url)
		body = b
		return err == nil
	}, 30*time.Second, 100*time.Millisecond)
	assert.Equal(t, "ok\n", body)
	_, err = testutil.RunErr(t, 10*time.Second, nil, curl, "-fsS", url)
	assert.Error(t, err, "the system roots do not trust the local CA")
}
