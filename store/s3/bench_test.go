package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/airgapkit/airgap/store"
)

const benchSize = 64 << 20

func benchContent() []byte {
	content := make([]byte, benchSize)
	rand.Read(content)
	return content
}

// benchmarkPut puts a fresh 64 MiB blob per iteration, with the Expect that expect gives.
func benchmarkPut(b *testing.B, expect func(content []byte) store.Expect) {
	s := open(b)
	content := benchContent()
	ctx := context.Background()
	b.SetBytes(benchSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		content[0], content[1] = byte(i), byte(i>>8)
		if _, err := s.Put(ctx, expect(content), bytes.NewReader(content)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutKnownDigest is the mirror's case: the index names the digest, so parts go
// straight to the final key and complete only after verification.
func BenchmarkPutKnownDigest(b *testing.B) {
	benchmarkPut(b, func(c []byte) store.Expect { return store.ExpectDigest(store.DigestOf(c), benchSize) })
}

// BenchmarkPutUnknownDigest stages and copies into place.
func BenchmarkPutUnknownDigest(b *testing.B) {
	benchmarkPut(b, func([]byte) store.Expect { return store.Expect{} })
}

// BenchmarkBaselinePutObject is a plain minio-go upload of the same bytes, unverified.
func BenchmarkBaselinePutObject(b *testing.B) {
	s := open(b)
	content := benchContent()
	ctx := context.Background()
	b.SetBytes(benchSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		content[0], content[1] = byte(i), byte(i>>8)
		_, err := s.client.PutObject(ctx, bucket, s.key("baseline", fmt.Sprint(i)), bytes.NewReader(content), benchSize,
			minio.PutObjectOptions{PartSize: uint64(s.cfg.PartSize)})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	s := open(b)
	content := benchContent()
	ctx := context.Background()
	info, err := s.Put(ctx, store.Expect{}, bytes.NewReader(content))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := s.Open(ctx, info.Digest)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}

func BenchmarkBaselineGetObject(b *testing.B) {
	s := open(b)
	content := benchContent()
	ctx := context.Background()
	key := s.key("baseline-get")
	if _, err := s.client.PutObject(ctx, bucket, key, bytes.NewReader(content), benchSize, minio.PutObjectOptions{}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := s.client.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}
