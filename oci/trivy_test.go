package oci

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/airgapkit/airgap/oci/ocitest"
	"github.com/airgapkit/airgap/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTrivyDBs(t *testing.T) {
	ctx := context.Background()
	up := startUpstream(t)
	next := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, p := range []struct {
		repo string
		java bool
	}{{"aquasecurity/trivy-db", false}, {"aquasecurity/trivy-java-db", true}} {
		db, err := ocitest.TrivyDB(next, p.java)
		require.NoError(t, err)
		require.NoError(t, ocitest.Push(ctx, up.Server.Client(), up.Server.URL, p.repo, map[bool]string{false: "2", true: "1"}[p.java], db))
	}
	s := store.NewMemory()
	m := newMirror(up, s, "aquasecurity/trivy-db:2", "aquasecurity/trivy-java-db:1", "tools/db:2", "library/alpine:3.19")
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	dbs, err := TrivyDBs(ctx, s, m.Ref())
	require.NoError(t, err)
	local := strings.ReplaceAll(up.Host, ":", "-")
	require.Len(t, dbs, 2, "the example artifact and the image are no trivy databases")
	assert.Equal(t, local+"/aquasecurity/trivy-db", dbs[0].Repository)
	assert.Equal(t, "2", dbs[0].Tag)
	assert.Equal(t, 2, dbs[0].Version)
	assert.True(t, next.Equal(dbs[0].NextUpdate))
	assert.True(t, next.Add(-6*time.Hour).Equal(dbs[0].UpdatedAt))
	assert.Equal(t, local+"/aquasecurity/trivy-java-db", dbs[1].Repository)
	assert.Equal(t, 1, dbs[1].Version)
}

func tgz(t testing.TB, files map[string]string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, data := range files {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}))
		_, err := tw.Write([]byte(data))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestReadTrivyMetadataRefuses(t *testing.T) {
	for name, layer := range map[string][]byte{
		"not gzip":         []byte("plain"),
		"no metadata.json": tgz(t, map[string]string{"trivy.db": "x"}),
		"not JSON":         tgz(t, map[string]string{"metadata.json": "{"}),
		"no NextUpdate":    tgz(t, map[string]string{"metadata.json": `{"Version":2}`}),
		"bad time":         tgz(t, map[string]string{"metadata.json": `{"NextUpdate":"tomorrow"}`}),
	} {
		_, err := ReadTrivyMetadata(bytes.NewReader(layer))
		assert.ErrorIs(t, err, ErrInvalidManifest, name)
	}
	md, err := ReadTrivyMetadata(bytes.NewReader(tgz(t, map[string]string{"./metadata.json": `{"Version":2,"NextUpdate":"2026-12-01T00:00:00Z"}`})))
	require.NoError(t, err)
	assert.Equal(t, 2, md.Version)
}

func FuzzReadTrivyMetadata(f *testing.F) {
	f.Add(tgz(f, map[string]string{"metadata.json": `{"Version":2,"NextUpdate":"2026-12-01T00:00:00Z","UpdatedAt":"2026-11-30T18:00:00Z"}`}))
	f.Add(tgz(f, map[string]string{"trivy.db": "bolt", "metadata.json": `{"NextUpdate":null}`}))
	f.Add([]byte{0x1f, 0x8b, 8, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		md, err := ReadTrivyMetadata(bytes.NewReader(b))
		if err == nil && md.NextUpdate.IsZero() {
			t.Fatal("accepted metadata without NextUpdate")
		}
	})
}
