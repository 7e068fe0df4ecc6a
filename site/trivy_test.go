package site

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/oci/ocitest"
	"github.com/airgapkit/airgap/store"
)

// status warns when a held Trivy database is past its NextUpdate by more than the grace.
func TestStatusWarnsOfStaleTrivyDB(t *testing.T) {
	ctx := context.Background()
	up, err := ocitest.StartEmpty()
	require.NoError(t, err)
	defer up.Close()
	next := time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)
	db, err := ocitest.TrivyDB(next, false)
	require.NoError(t, err)
	javaDB, err := ocitest.TrivyDB(next.Add(5*24*time.Hour), true)
	require.NoError(t, err)
	require.NoError(t, ocitest.Push(ctx, up.Server.Client(), up.Server.URL, "aquasecurity/trivy-db", "2", db))
	require.NoError(t, ocitest.Push(ctx, up.Server.Client(), up.Server.URL, "aquasecurity/trivy-java-db", "1", javaDB))
	parse := func(extra string) *Config {
		cfg, err := Parse(filepath.Join(t.TempDir(), "airgap.yaml"), []byte(fmt.Sprintf(`
oci:
  - name: trivy
    images: [%[1]s/aquasecurity/trivy-db:2, %[1]s/aquasecurity/trivy-java-db:1]
    registries: [{host: "%[1]s", plain_http: true}]
%[2]s`, up.Host, extra)))
		require.NoError(t, err)
		return cfg
	}
	cfg := parse("")
	s := store.NewMemory()
	require.NoError(t, cfg.Env(s, nil, nil).SyncAll(ctx, cfg.Mirrors.All(), SyncOptions{}))
	local := strings.ReplaceAll(up.Host, ":", "-")

	warnings := func(cfg *Config, now time.Time) []string {
		st, err := cfg.Status(ctx, s, now)
		require.NoError(t, err)
		require.Len(t, st, 1)
		return st[0].Warnings
	}
	assert.Empty(t, warnings(cfg, next.Add(6*24*time.Hour)), "within the default grace of 7 days")
	assert.Equal(t, []string{"trivy database " + local + "/aquasecurity/trivy-db:2 is 192h0m0s past its NextUpdate (2026-11-20T06:00:00Z): " +
		"trivy downloads it again at scans (hourly at most, the java DB daily) and finds no newer one; sync it from upstream and carry it across"},
		warnings(cfg, next.Add(8*24*time.Hour)), "the java DB's NextUpdate is 5 days later: still in grace")
	assert.Len(t, warnings(cfg, next.Add(13*24*time.Hour)), 2)
	longer := parse("    trivy_db_grace: 720h\n")
	assert.Empty(t, warnings(longer, next.Add(13*24*time.Hour)))

	_, err = Parse(filepath.Join(t.TempDir(), "airgap.yaml"), []byte("oci:\n  - {name: x, images: [a], trivy_db_grace: -1h}\n"))
	assert.ErrorIs(t, err, store.ErrConfig)
}
