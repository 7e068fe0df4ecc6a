package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/miniotest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/storetest"
)

var (
	server   *miniotest.Server
	bucket   = "airgap-test"
	prefixes atomic.Int64
)

// TestMain shares one MinIO server across the package's tests.
func TestMain(m *testing.M) {
	code := func() int {
		if miniotest.Binary() == "" {
			return m.Run() // each test skips (or fails under CI) through miniotest.Require
		}
		dir, err := os.MkdirTemp("", "airgap-minio-")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		server, err = miniotest.Launch(dir)
		if err != nil {
			panic(err)
		}
		defer server.Stop()
		if err := server.Bucket(bucket); err != nil {
			panic(err)
		}
		return m.Run()
	}()
	os.Exit(code)
}

// open returns a store on a fresh prefix of the shared MinIO server.
func open(t testing.TB) *Store {
	t.Helper()
	miniotest.Require(t)
	cfg := Config{
		Endpoint: server.Endpoint, Bucket: bucket, Insecure: true,
		Prefix:     fmt.Sprintf("p%d", prefixes.Add(1)),
		Creds:      credentials.NewStaticV4(miniotest.AccessKey, miniotest.SecretKey, ""),
		PartSize:   5 << 20, // the S3 minimum, so multipart paths run with small blobs
		StagingDir: t.TempDir(),
		LeaseTTL:   2 * time.Second,
	}
	s, err := Open(context.Background(), cfg)
	require.NoError(t, err)
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func TestMultipartVerifiedBeforeVisible(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	big := make([]byte, 12<<20) // three parts
	rand.Read(big)
	want := store.DigestOf(big)

	bad := bytes.Clone(big)
	bad[len(bad)-1] ^= 1
	_, err := s.Put(ctx, store.ExpectDigest(want, int64(len(big))), bytes.NewReader(bad))
	require.ErrorIs(t, err, store.ErrDigestMismatch)
	ok, err := s.Has(ctx, want)
	require.NoError(t, err)
	assert.False(t, ok, "a mismatching upload is aborted, never completed")
	assertNoUploadsLeft(t, s, want)

	// Unknown digest: staged, then copied into place.
	info, err := s.Put(ctx, store.Expect{}, bytes.NewReader(big))
	require.NoError(t, err)
	assert.Equal(t, want, info.Digest)
	b, err := s.Open(ctx, want)
	require.NoError(t, err)
	defer b.Close()
	_, err = b.Seek(10<<20, 0)
	require.NoError(t, err)
	tail := make([]byte, 16)
	_, err = b.Read(tail)
	require.NoError(t, err)
	assert.Equal(t, big[10<<20:10<<20+16], tail, "ranged read")
	var tmp []string
	for oi := range s.client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: s.key("tmp"), Recursive: true}) {
		tmp = append(tmp, oi.Key)
	}
	assert.Empty(t, tmp, "staging objects are removed")
}

// incompleteUploads lists unfinished multipart uploads of key (MinIO lists them per
// object, so the key must be exact).
func incompleteUploads(t *testing.T, s *Store, key string) []string {
	t.Helper()
	var ids []string
	for u := range s.client.ListIncompleteUploads(context.Background(), bucket, key, true) {
		require.NoError(t, u.Err)
		ids = append(ids, u.UploadID)
	}
	return ids
}

func assertNoUploadsLeft(t *testing.T, s *Store, d store.Digest) {
	t.Helper()
	key, err := s.blobKey(d)
	require.NoError(t, err)
	assert.Empty(t, incompleteUploads(t, s, key), "no incomplete multipart uploads are left behind")
}

func TestTwoWritersExactlyOnePublishes(t *testing.T) {
	a := open(t)
	b, err := Open(context.Background(), a.cfg) // a second process on the same prefix
	require.NoError(t, err)
	b.owner = "other-writer"
	ctx := context.Background()

	unlock, err := a.TryLock(ctx)
	require.NoError(t, err)
	_, err = b.TryLock(ctx)
	require.ErrorIs(t, err, store.ErrLocked)

	// Without the lock, the CAS still lets exactly one of two publishes win.
	snap := func(s store.Store, content string) store.Digest {
		info, err := s.Put(ctx, store.Expect{}, bytes.NewReader([]byte(content)))
		require.NoError(t, err)
		sn := store.NewSnapshot()
		require.NoError(t, sn.Add("f", store.File{Digest: info.Digest, Size: info.Size}))
		d, err := store.WriteSnapshot(ctx, s, sn)
		require.NoError(t, err)
		return d
	}
	da, db := snap(a, "from a"), snap(b, "from b")
	var wins, conflicts atomic.Int64
	var wg sync.WaitGroup
	for _, c := range []struct {
		s store.Store
		d store.Digest
	}{{a, da}, {b, db}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := store.Publish(ctx, c.s, "apt/ubuntu", "", c.d)
			if err == nil {
				wins.Add(1)
			} else if errors.Is(err, store.ErrConflict) {
				conflicts.Add(1)
			} else {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(1), wins.Load())
	assert.Equal(t, int64(1), conflicts.Load())
	require.NoError(t, unlock())

	unlockB, err := b.TryLock(ctx)
	require.NoError(t, err, "released lease can be taken")
	require.NoError(t, unlockB())
}

func TestCrashedWriterLeaseExpires(t *testing.T) {
	a := open(t)
	ctx := context.Background()
	// A writer that dies: its lease is written and never renewed nor released.
	require.NoError(t, a.putIf(ctx, a.key("lock"), a.leaseBody(), ""))
	b, err := Open(ctx, a.cfg)
	require.NoError(t, err)
	b.owner = "successor"
	_, err = b.TryLock(ctx)
	require.ErrorIs(t, err, store.ErrLocked)

	lctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	unlock, err := b.Lock(lctx) // waits for expiry (2 s TTL)
	require.NoError(t, err)
	require.NoError(t, unlock())
}

func TestLeaseIsRenewed(t *testing.T) {
	a := open(t)
	ctx := context.Background()
	unlock, err := a.TryLock(ctx)
	require.NoError(t, err)
	defer unlock()
	b, err := Open(ctx, a.cfg)
	require.NoError(t, err)
	b.owner = "impatient"
	time.Sleep(3 * a.cfg.LeaseTTL / 2) // past one TTL: only renewal keeps the lease
	_, err = b.TryLock(ctx)
	require.ErrorIs(t, err, store.ErrLocked)
}

func TestParseURL(t *testing.T) {
	cfg, err := ParseURL("s3://mirror/site-a/prod?endpoint=127.0.0.1:9000&region=eu-1&insecure=true")
	require.NoError(t, err)
	assert.Equal(t, Config{Bucket: "mirror", Prefix: "site-a/prod", Endpoint: "127.0.0.1:9000", Region: "eu-1", Insecure: true}, cfg)
	cfg, err = ParseURL("s3://mirror")
	require.NoError(t, err)
	assert.False(t, cfg.Insecure, "TLS unless the URL says otherwise")
	for _, bad := range []string{"http://x/y", "s3:///p", "s3://b/p?insecure=maybe", "s3://b/../x", "s3://b/p?endpoint=x&colour=red"} {
		_, err := ParseURL(bad)
		assert.Error(t, err, bad)
	}
}

// blockingReader yields n bytes and then blocks until its context ends, like an upstream
// that stops answering while a writer is mid-upload.
type blockingReader struct {
	ctx context.Context
	n   int
}

func (b *blockingReader) Read(p []byte) (int, error) {
	if b.n <= 0 {
		<-b.ctx.Done()
		return 0, b.ctx.Err()
	}
	k := min(len(p), b.n)
	b.n -= k
	return k, nil
}

// TestInterruptedUploadLeavesNothingVisible: a writer that dies after several parts went up
// leaves no object under the digest, and no incomplete upload once Put returns.
func TestInterruptedUploadLeavesNothingVisible(t *testing.T) {
	s := open(t)
	want := store.DigestOf([]byte("the blob that never finished"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.Put(ctx, store.ExpectDigest(want, 40<<20), &blockingReader{ctx: ctx, n: 12 << 20})
		done <- err
	}()
	// Wait until the upload is under way at the server, then "kill" the writer.
	key, err := s.blobKey(want)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(incompleteUploads(t, s, key)) > 0 }, 30*time.Second, 50*time.Millisecond)
	ok, err := s.Has(context.Background(), want)
	require.NoError(t, err)
	assert.False(t, ok, "mid-upload, nothing is visible under the digest")
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	ok, err = s.Has(context.Background(), want)
	require.NoError(t, err)
	assert.False(t, ok)
	assertNoUploadsLeft(t, s, want)
}
