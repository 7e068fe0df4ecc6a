package storetest

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
)

// Factory returns a fresh, empty store for one subtest.
type Factory func(t *testing.T) store.Store

// Run runs the whole conformance suite against stores made by newStore.
func Run(t *testing.T, newStore Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"PutAndRead", testPutAndRead},
		{"PutAllChecksums", testPutAllChecksums},
		{"PutMismatchLeavesNothing", testPutMismatch},
		{"PutSizeMismatch", testPutSizeMismatch},
		{"PutReaderError", testPutReaderError},
		{"PutCancelled", testPutCancelled},
		{"PutExisting", testPutExisting},
		{"OpenSeek", testOpenSeek},
		{"NotFound", testNotFound},
		{"Delete", testDelete},
		{"Walk", testWalk},
		{"UploadResume", testUploadResume},
		{"UploadMismatchDiscards", testUploadMismatch},
		{"UploadAbort", testUploadAbort},
		{"UploadKeyInUse", testUploadInUse},
		{"RefCompareAndSwap", testRefCAS},
		{"RefConcurrentSwap", testRefConcurrent},
		{"RefUnsafeName", testRefUnsafe},
		{"Lock", testLock},
		{"SnapshotRoundTrip", testSnapshot},
		{"SnapshotMissingBlob", testSnapshotMissing},
		{"SnapshotFS", testSnapshotFS},
		{"PublishAndHistory", testPublish},
		{"PublishConflict", testPublishConflict},
		{"GCKeepsPublished", testGC},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func put(t *testing.T, s store.Store, content string) store.BlobInfo {
	t.Helper()
	info, err := s.Put(context.Background(), store.Expect{}, strings.NewReader(content))
	require.NoError(t, err)
	return info
}

func read(t *testing.T, s store.Store, d store.Digest) string {
	t.Helper()
	b, err := store.ReadBlob(context.Background(), s, d, 1<<30)
	require.NoError(t, err)
	return string(b)
}

func countBlobs(t *testing.T, s store.Store) int {
	t.Helper()
	n := 0
	require.NoError(t, s.Walk(context.Background(), func(store.BlobInfo) error { n++; return nil }))
	return n
}

func hexOf(h interface{ Sum([]byte) []byte }) string { return hex.EncodeToString(h.Sum(nil)) }

func testPutAndRead(t *testing.T, s store.Store) {
	ctx := context.Background()
	content := "hello, air gap\n"
	want := store.DigestOf([]byte(content))
	info, err := s.Put(ctx, store.ExpectDigest(want, int64(len(content))), strings.NewReader(content))
	require.NoError(t, err)
	assert.Equal(t, want, info.Digest)
	assert.Equal(t, int64(len(content)), info.Size)
	assert.Equal(t, content, read(t, s, want))
	st, err := s.Stat(ctx, want)
	require.NoError(t, err)
	assert.Equal(t, info, st)
	ok, err := s.Has(ctx, want)
	require.NoError(t, err)
	assert.True(t, ok)
}

func testPutAllChecksums(t *testing.T, s store.Store) {
	content := []byte(strings.Repeat("payload ", 10000))
	m, s5, s3 := md5.Sum(content), sha512.Sum512(content), sha3.Sum384(content)
	e := store.ExpectDigest(store.DigestOf(content), int64(len(content))).
		With(store.MD5, hex.EncodeToString(m[:])).
		With(store.SHA512, strings.ToUpper(hex.EncodeToString(s5[:]))).
		With(store.SHA3_384, hex.EncodeToString(s3[:]))
	info, err := s.Put(context.Background(), e, bytes.NewReader(content))
	require.NoError(t, err)
	assert.Equal(t, store.DigestOf(content), info.Digest)

	for _, alg := range []store.Algorithm{store.MD5, store.SHA512, store.SHA3_384} {
		other := append([]byte("x"), content...)
		bad := store.Expect{}.With(alg, e.Sums[alg])
		_, err := s.Put(context.Background(), bad, bytes.NewReader(other))
		require.ErrorIs(t, err, store.ErrDigestMismatch, "%s", alg)
		assert.Contains(t, err.Error(), string(alg))
	}
	assert.Equal(t, 1, countBlobs(t, s))
}

func testPutMismatch(t *testing.T, s store.Store) {
	want := store.DigestOf([]byte("expected"))
	_, err := s.Put(context.Background(), store.ExpectDigest(want, 0), strings.NewReader("tampered"))
	require.ErrorIs(t, err, store.ErrDigestMismatch)
	assert.Contains(t, err.Error(), want.String())
	assert.Contains(t, err.Error(), store.DigestOf([]byte("tampered")).String())
	assert.Equal(t, 0, countBlobs(t, s))
	ok, err := s.Has(context.Background(), store.DigestOf([]byte("tampered")))
	require.NoError(t, err)
	assert.False(t, ok)
}

func testPutSizeMismatch(t *testing.T, s store.Store) {
	_, err := s.Put(context.Background(), store.Expect{Size: 3}, strings.NewReader("four"))
	require.ErrorIs(t, err, store.ErrDigestMismatch)
	_, err = s.Put(context.Background(), store.Expect{Size: 5}, strings.NewReader("four"))
	require.ErrorIs(t, err, store.ErrDigestMismatch)
	assert.Equal(t, 0, countBlobs(t, s))
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

func testPutReaderError(t *testing.T, s store.Store) {
	_, err := s.Put(context.Background(), store.Expect{}, &failingReader{n: 100000})
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, 0, countBlobs(t, s))
}

func testPutCancelled(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Put(ctx, store.Expect{}, strings.NewReader("x"))
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 0, countBlobs(t, s))
}

func testPutExisting(t *testing.T, s store.Store) {
	a := put(t, s, "same")
	b := put(t, s, "same")
	assert.Equal(t, a, b)
	assert.Equal(t, 1, countBlobs(t, s))
}

func testOpenSeek(t *testing.T, s store.Store) {
	info := put(t, s, "0123456789")
	b, err := s.Open(context.Background(), info.Digest)
	require.NoError(t, err)
	defer b.Close()
	assert.Equal(t, int64(10), b.Size())
	_, err = b.Seek(6, io.SeekStart)
	require.NoError(t, err)
	rest, err := io.ReadAll(b)
	require.NoError(t, err)
	assert.Equal(t, "6789", string(rest))
}

func testNotFound(t *testing.T, s store.Store) {
	ctx := context.Background()
	d := store.DigestOf([]byte("absent"))
	_, err := s.Open(ctx, d)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.Stat(ctx, d)
	require.ErrorIs(t, err, store.ErrNotFound)
	ok, err := s.Has(ctx, d)
	require.NoError(t, err)
	assert.False(t, ok)
	_, err = s.Ref(ctx, "apt/none")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.NoError(t, s.Delete(ctx, d))
}

func testDelete(t *testing.T, s store.Store) {
	info := put(t, s, "gone soon")
	require.NoError(t, s.Delete(context.Background(), info.Digest))
	ok, err := s.Has(context.Background(), info.Digest)
	require.NoError(t, err)
	assert.False(t, ok)
}

func testWalk(t *testing.T, s store.Store) {
	want := map[store.Digest]int64{}
	for _, c := range []string{"a", "bb", "ccc"} {
		info := put(t, s, c)
		want[info.Digest] = info.Size
	}
	got := map[store.Digest]int64{}
	require.NoError(t, s.Walk(context.Background(), func(b store.BlobInfo) error {
		got[b.Digest] = b.Size
		return nil
	}))
	assert.Equal(t, want, got)
}

func testUploadResume(t *testing.T, s store.Store) {
	ctx := context.Background()
	content := strings.Repeat("resumable ", 5000)
	e := store.ExpectDigest(store.DigestOf([]byte(content)), int64(len(content)))

	u, err := s.Begin(ctx, "https://example.invalid/big")
	require.NoError(t, err)
	assert.Equal(t, int64(0), u.Offset())
	_, err = io.WriteString(u, content[:1234])
	require.NoError(t, err)
	require.NoError(t, u.Close()) // interrupted: keep the partial

	u, err = s.Begin(ctx, "https://example.invalid/big")
	require.NoError(t, err)
	assert.Equal(t, int64(1234), u.Offset())
	_, err = io.WriteString(u, content[u.Offset():])
	require.NoError(t, err)
	info, err := u.Commit(ctx, e)
	require.NoError(t, err)
	assert.Equal(t, e.Digest(), info.Digest)
	assert.Equal(t, content, read(t, s, info.Digest))

	u, err = s.Begin(ctx, "https://example.invalid/big")
	require.NoError(t, err)
	assert.Equal(t, int64(0), u.Offset(), "a committed upload leaves no partial")
	require.NoError(t, u.Abort())
}

func testUploadMismatch(t *testing.T, s store.Store) {
	ctx := context.Background()
	u, err := s.Begin(ctx, "k")
	require.NoError(t, err)
	_, err = io.WriteString(u, "wrong bytes")
	require.NoError(t, err)
	_, err = u.Commit(ctx, store.ExpectDigest(store.DigestOf([]byte("right bytes")), 0))
	require.ErrorIs(t, err, store.ErrDigestMismatch)
	assert.Equal(t, 0, countBlobs(t, s))
	u, err = s.Begin(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, int64(0), u.Offset(), "a failed commit discards the partial")
	require.NoError(t, u.Abort())
}

func testUploadAbort(t *testing.T, s store.Store) {
	ctx := context.Background()
	u, err := s.Begin(ctx, "k")
	require.NoError(t, err)
	_, err = io.WriteString(u, "partial")
	require.NoError(t, err)
	require.NoError(t, u.Abort())
	u, err = s.Begin(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, int64(0), u.Offset())
	require.NoError(t, u.Abort())
}

// One upload of a key at a time: two fetches of the same content would write one
// partial twice. The next Begin waits for Close, Commit or Abort, and an upload that
// has ended never releases the key another one holds since.
func testUploadInUse(t *testing.T, s store.Store) {
	ctx := context.Background()
	u, err := s.Begin(ctx, "k")
	require.NoError(t, err)
	_, err = io.WriteString(u, "part")
	require.NoError(t, err)
	_, err = s.Begin(ctx, "k")
	require.ErrorIs(t, err, store.ErrLocked, "while the first is open")
	other, err := s.Begin(ctx, "another key")
	require.NoError(t, err)
	require.NoError(t, other.Abort())
	require.NoError(t, u.Close())

	u, err = s.Begin(ctx, "k")
	require.NoError(t, err, "after Close")
	assert.Equal(t, int64(4), u.Offset())
	_, err = io.WriteString(u, "ial")
	require.NoError(t, err)
	_, err = u.Commit(ctx, store.ExpectDigest(store.DigestOf([]byte("partial")), 7))
	require.NoError(t, err)
	next, err := s.Begin(ctx, "k")
	require.NoError(t, err, "after Commit")
	require.NoError(t, u.Close()) // the committed upload's late Close
	_, err = s.Begin(ctx, "k")
	require.ErrorIs(t, err, store.ErrLocked, "next still holds the key")
	require.NoError(t, next.Abort())
	u, err = s.Begin(ctx, "k")
	require.NoError(t, err, "after Abort")
	require.NoError(t, u.Abort())
}

func testRefCAS(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := put(t, s, "a").Digest, put(t, s, "b").Digest
	require.NoError(t, s.SwapRef(ctx, "apt/ubuntu", "", a))
	require.ErrorIs(t, s.SwapRef(ctx, "apt/ubuntu", "", b), store.ErrConflict)
	require.ErrorIs(t, s.SwapRef(ctx, "apt/ubuntu", b, b), store.ErrConflict)
	got, err := s.Ref(ctx, "apt/ubuntu")
	require.NoError(t, err)
	assert.Equal(t, a, got)
	require.NoError(t, s.SwapRef(ctx, "apt/ubuntu", a, b))
	require.NoError(t, s.SwapRef(ctx, "pypi", "", a))
	names, err := s.Refs(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"apt/ubuntu", "pypi"}, names)
	require.NoError(t, s.SwapRef(ctx, "pypi", a, ""))
	_, err = s.Ref(ctx, "pypi")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func testRefConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	base := put(t, s, "base").Digest
	require.NoError(t, s.SwapRef(ctx, "r", "", base))
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := store.DigestOf([]byte{byte(i)})
			err := s.SwapRef(ctx, "r", base, d)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, store.ErrConflict):
				conflicts++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, wins)
	assert.Equal(t, n-1, conflicts)
}

func testRefUnsafe(t *testing.T, s store.Store) {
	d := put(t, s, "x").Digest
	for _, name := range []string{"../escape", "/abs", "a/../../b", "", "a\x00b"} {
		require.ErrorIs(t, s.SwapRef(context.Background(), name, "", d), store.ErrUnsafePath, "%q", name)
	}
}

func testLock(t *testing.T, s store.Store) {
	ctx := context.Background()
	unlock, err := s.TryLock(ctx)
	require.NoError(t, err)
	_, err = s.TryLock(ctx)
	require.ErrorIs(t, err, store.ErrLocked)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.Lock(cctx)
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, unlock())

	unlock, err = s.Lock(ctx)
	require.NoError(t, err)
	require.NoError(t, unlock())
}

func snapshotOf(t *testing.T, s store.Store, files map[string]string) *store.Snapshot {
	t.Helper()
	snap := store.NewSnapshot()
	for p, c := range files {
		info := put(t, s, c)
		require.NoError(t, snap.Add(p, store.File{Digest: info.Digest, Size: info.Size}))
	}
	return snap
}

func testSnapshot(t *testing.T, s store.Store) {
	ctx := context.Background()
	snap := snapshotOf(t, s, map[string]string{"dists/x/Release": "r", "pool/a.deb": "deb"})
	snap.Annotations["apt.date"] = "Sat, 01 Jan 2026 00:00:00 UTC"
	d, err := store.WriteSnapshot(ctx, s, snap)
	require.NoError(t, err)
	got, err := store.ReadSnapshot(ctx, s, d)
	require.NoError(t, err)
	assert.Equal(t, snap.Paths(), got.Paths())
	assert.Equal(t, "Sat, 01 Jan 2026 00:00:00 UTC", got.Annotations["apt.date"])
	f, ok := got.Lookup("pool/a.deb")
	require.True(t, ok)
	assert.Equal(t, "deb", read(t, s, f.Digest))
	require.ErrorIs(t, snap.Add("../../etc/passwd", f), store.ErrUnsafePath)
}

func testSnapshotMissing(t *testing.T, s store.Store) {
	snap := store.NewSnapshot()
	require.NoError(t, snap.Add("a", store.File{Digest: store.DigestOf([]byte("never stored")), Size: 12}))
	_, err := store.WriteSnapshot(context.Background(), s, snap)
	require.ErrorIs(t, err, store.ErrNotFound)
}

func testSnapshotFS(t *testing.T, s store.Store) {
	files := map[string]string{"a/b/c.txt": "c", "a/d.txt": "dd", "top": "t"}
	snap := snapshotOf(t, s, files)
	fsys := snap.FS(context.Background(), s)
	require.NoError(t, fstest.TestFS(fsys, "a/b/c.txt", "a/d.txt", "top"))
	b, err := fs.ReadFile(fsys, "a/d.txt")
	require.NoError(t, err)
	assert.Equal(t, "dd", string(b))
	_, err = fsys.Open("missing")
	require.ErrorIs(t, err, fs.ErrNotExist)
}

func publish(t *testing.T, s store.Store, ref string, prev store.Digest, files map[string]string) store.Generation {
	t.Helper()
	d, err := store.WriteSnapshot(context.Background(), s, snapshotOf(t, s, files))
	require.NoError(t, err)
	g, err := store.Publish(context.Background(), s, ref, prev, d)
	require.NoError(t, err)
	return g
}

func testPublish(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := store.Current(ctx, s, "apt/u")
	require.ErrorIs(t, err, store.ErrNotFound)
	g1 := publish(t, s, "apt/u", "", map[string]string{"f": "v1"})
	g2 := publish(t, s, "apt/u", g1.Record, map[string]string{"f": "v2"})
	cur, err := store.Current(ctx, s, "apt/u")
	require.NoError(t, err)
	assert.Equal(t, g2.Record, cur.Record)
	hist, err := store.History(ctx, s, "apt/u", 0)
	require.NoError(t, err)
	require.Len(t, hist, 2)
	assert.Equal(t, g1.Snapshot, hist[1].Snapshot)
	snap, _, err := store.OpenPublished(ctx, s, "apt/u")
	require.NoError(t, err)
	f, _ := snap.Lookup("f")
	assert.Equal(t, "v2", read(t, s, f.Digest))
}

func testPublishConflict(t *testing.T, s store.Store) {
	ctx := context.Background()
	g1 := publish(t, s, "r", "", map[string]string{"f": "1"})
	publish(t, s, "r", g1.Record, map[string]string{"f": "2"})
	d, err := store.WriteSnapshot(ctx, s, snapshotOf(t, s, map[string]string{"f": "3"}))
	require.NoError(t, err)
	_, err = store.Publish(ctx, s, "r", g1.Record, d) // stale: someone published meanwhile
	require.ErrorIs(t, err, store.ErrConflict)
	snap, _, err := store.OpenPublished(ctx, s, "r")
	require.NoError(t, err)
	f, _ := snap.Lookup("f")
	assert.Equal(t, "2", read(t, s, f.Digest))
}

func testGC(t *testing.T, s store.Store) {
	ctx := context.Background()
	g1 := publish(t, s, "r", "", map[string]string{"old": "old", "shared": "shared"})
	g2 := publish(t, s, "r", g1.Record, map[string]string{"mid": "mid", "shared": "shared"})
	publish(t, s, "r", g2.Record, map[string]string{"new": "new", "shared": "shared"})
	orphan := put(t, s, "orphan")

	st, err := store.GC(ctx, s, store.GCOptions{Keep: 2, DryRun: true})
	require.NoError(t, err)
	assert.Positive(t, st.Removed)
	ok, _ := s.Has(ctx, orphan.Digest)
	assert.True(t, ok, "dry run removes nothing")

	st, err = store.GC(ctx, s, store.GCOptions{Keep: 2})
	require.NoError(t, err)
	for c, want := range map[string]bool{"old": false, "orphan": false, "mid": true, "new": true, "shared": true} {
		ok, err := s.Has(ctx, store.DigestOf([]byte(c)))
		require.NoError(t, err)
		assert.Equal(t, want, ok, c)
	}
	hist, err := store.History(ctx, s, "r", 0)
	require.NoError(t, err)
	assert.Len(t, hist, 2, "history ends where GC cut it")
	assert.Equal(t, 4, st.Removed, "orphan, old, generation 1's record and its manifest: %+v", st)
	assert.Equal(t, 7, st.Kept, "mid, new, shared and two records with their manifests")
}
