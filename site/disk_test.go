package site

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
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

// A DiskCheck counts each mirror's plan against the store and the mirrors still
// syncing: a blob held or planned by another counts once, a plan that fetches nothing
// passes, a mirror's share is released when it is done; an S3 store is not checked.
func TestDiskCheck(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory()
	held, err := store.PutBytes(ctx, s, store.Expect{}, []byte("held"))
	require.NoError(t, err)
	free := int64(MinMargin + 1000)
	c := NewDiskCheck(s, "/store", func(string) (int64, error) { return free, nil }, nil)
	item := func(name string, size int64) store.PlannedItem {
		return store.PlannedItem{Name: name, Digest: store.DigestOf([]byte(name)), Size: size}
	}
	require.NoError(t, c.check(ctx, "a", store.Plan{Items: []store.PlannedItem{item("x", 600), {Name: "held", Digest: held.Digest, Size: held.Size}}}))
	// b needs 500 more, but a's 600 are still to come
	err = c.check(ctx, "b", store.Plan{Items: []store.PlannedItem{item("x", 600), item("y", 500)}})
	var ns *NoSpaceError
	require.ErrorAs(t, err, &ns)
	assert.Equal(t, NoSpaceError{Path: "/store", Need: 1100, Margin: MinMargin, Free: free}, *ns)
	// nothing to fetch (x is a's, unknown sizes are not counted): no check
	require.NoError(t, c.check(ctx, "c", store.Plan{Items: []store.PlannedItem{item("x", 600), {Name: "z", Size: store.UnknownSize}}}))
	// a is done: its bytes are on the disk, in free
	c.done("a")
	free -= 600
	require.NoError(t, c.check(ctx, "d", store.Plan{Items: []store.PlannedItem{item("w", 400)}}))

	assert.Nil(t, NewDiskCheck(s, "s3://bucket/prefix", nil, nil), "an S3 store is not checked")
}

// A mirror that plans but does not preflight its own sync (files) is planned before it
// syncs, and refused before it downloads.
func TestDiskCheckPlansFirst(t *testing.T) {
	ctx := context.Background()
	body := bytes.Repeat([]byte("f"), 5000)
	var gets int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			gets++
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	defer srv.Close()
	s := store.NewMemory()
	m := &FilesMirror{FileSet{Name: "tools", URLs: []string{srv.URL + "/f.bin?checksum=" + string(store.DigestOf(body))}}}
	env := (&Config{}).Env(s, nil, nil)
	full := NewDiskCheck(s, "/store", func(string) (int64, error) { return MinMargin + 4999, nil }, nil)
	err := env.SyncAll(ctx, []Mirror{m}, SyncOptions{Disk: full})
	require.ErrorIs(t, err, ErrNoSpace)
	assert.Zero(t, gets, "refused before the download")
	roomy := NewDiskCheck(s, "/store", func(string) (int64, error) { return MinMargin + 5000, nil }, nil)
	require.NoError(t, env.SyncAll(ctx, []Mirror{m}, SyncOptions{Disk: roomy}))
	assert.Equal(t, 1, gets)
}
