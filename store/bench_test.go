package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"

	"github.com/airgapkit/airgap/store"
)

func benchmarkPut(b *testing.B, s store.Store, size int) {
	content := make([]byte, size)
	rand.Read(content)
	ctx := context.Background()
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		content[0] = byte(i) // a new blob each time: no already-stored shortcut
		content[1] = byte(i >> 8)
		if _, err := s.Put(ctx, store.Expect{Size: int64(size)}, bytes.NewReader(content)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPutFS64MiB(b *testing.B) {
	s, err := store.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	benchmarkPut(b, s, 64<<20)
}

func BenchmarkPutFSNoSync64MiB(b *testing.B) {
	s, err := store.Open(b.TempDir(), store.WithoutSync())
	if err != nil {
		b.Fatal(err)
	}
	benchmarkPut(b, s, 64<<20)
}

func BenchmarkPutFS16KiB(b *testing.B) {
	s, err := store.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	benchmarkPut(b, s, 16<<10)
}
