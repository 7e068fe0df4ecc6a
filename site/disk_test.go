package site

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDiskPreflight(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	const gib = 1 << 30
	freeOf := func(n int64) FreeSpace { return func(string) (int64, error) { return n, nil } }

	need := int64(100 * gib)
	require.NoError(t, DiskPreflight("/store", need, freeOf(need+Margin(need)), log))
	err := DiskPreflight("/store", need, freeOf(need+Margin(need)-1), log)
	var ns *NoSpaceError
	require.ErrorAs(t, err, &ns)
	assert.ErrorIs(t, err, ErrNoSpace)
	assert.Equal(t, NoSpaceError{Path: "/store", Need: need, Margin: 5 * gib, Free: need + 5*gib - 1}, *ns)
	assert.Contains(t, err.Error(), "need 100.0 GiB + margin 5.0 GiB, free 105.0 GiB")

	// small syncs keep at least 1 GiB free
	assert.Equal(t, int64(MinMargin), Margin(10))
	require.ErrorIs(t, DiskPreflight("/store", 10, freeOf(gib), log), ErrNoSpace)
	// S3 is not asked
	require.NoError(t, DiskPreflight("s3://bucket/p", need, freeOf(0), log))

	// the real file system answers for a real directory
	n, err := StatfsFree(t.TempDir())
	require.NoError(t, err)
	assert.Positive(t, n)
	_, err = StatfsFree("/nonexistent/dir")
	require.Error(t, err)
}

func TestImportPreflight(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "b.tar.000"), filepath.Join(dir, "b.tar.001")
	require.NoError(t, os.WriteFile(a, make([]byte, 700), 0o644))
	require.NoError(t, os.WriteFile(b, make([]byte, 300), 0o644))
	var ns *NoSpaceError
	err := ImportPreflight("/store", []string{a, b}, func(string) (int64, error) { return MinMargin, nil }, log)
	require.ErrorAs(t, err, &ns)
	assert.Equal(t, int64(1000), ns.Need)
	require.NoError(t, ImportPreflight("/store", []string{a, b}, func(string) (int64, error) { return MinMargin + 1000, nil }, log))
	require.ErrorIs(t, ImportPreflight("/store", []string{filepath.Join(dir, "absent")}, nil, log), os.ErrNotExist)
}
