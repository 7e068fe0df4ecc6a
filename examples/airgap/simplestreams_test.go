package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/simplestreams/simplestreamstest"
	"github.com/airgapkit/airgap/site"
)

// TestSimplestreamsPristine: `pristine: true` mirrors without a signing key and serves the
// upstream's signed index byte for byte.
func TestSimplestreamsPristine(t *testing.T) {
	up, err := simplestreamstest.New(simplestreamstest.Options{})
	require.NoError(t, err)
	srv := httptest.NewServer(up)
	defer srv.Close()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "upstream.gpg"), up.Keyring(), 0o644))
	cfg := filepath.Join(dir, "airgap.yaml")
	writeFile(t, cfg, `store: ./store
simplestreams:
  - name: maas
    url: `+srv.URL+`/
    keyring: ./upstream.gpg
    pristine: true
    maas: [{os: ubuntu, release: noble, arches: [amd64]}]
    max: 1
`)
	mustRun(t, "--config", cfg, "sync")

	c, err := site.Load(cfg)
	require.NoError(t, err)
	s, err := c.OpenStore(context.Background())
	require.NoError(t, err)
	h := site.NewServer(c, c.Env(s, nil, discardLogger()))
	code, body := get(t, h, "mirror", "/simplestreams/maas/streams/v1/index.sjson")
	require.Equal(t, http.StatusOK, code)
	want, _ := up.File("streams/v1/index.sjson")
	assert.Equal(t, string(want), body)
	code, _ = get(t, h, "mirror", "/simplestreams/maas/noble/amd64/20261115/squashfs")
	assert.Equal(t, http.StatusOK, code)
	code, _ = get(t, h, "mirror", "/simplestreams/maas/focal/amd64/20261115/squashfs")
	assert.Equal(t, http.StatusNotFound, code, "advertised, not selected, not held")
}
