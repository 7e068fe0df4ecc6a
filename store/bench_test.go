package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
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

// BenchmarkUpdateNoop measures a resync that arrives at the published tree (100,000
// files, as a large apt mirror): read the current generation and snapshot, compare,
// publish nothing.
func BenchmarkUpdateNoop(b *testing.B) {
	ctx := context.Background()
	s := store.NewMemory()
	info, err := store.PutBytes(ctx, s, store.Expect{}, []byte("x"))
	if err != nil {
		b.Fatal(err)
	}
	tree := func() *store.Snapshot {
		snap := store.NewSnapshot()
		for i := range 100_000 {
			snap.Files[fmt.Sprintf("pool/main/p%06d.deb", i)] = store.File{Digest: info.Digest, Size: info.Size}
		}
		return snap
	}
	trust := store.TrustOf(struct{ InsecureSkipSignature bool }{}).WithRoot("keyring", "sha256:1")
	if _, _, err := store.Update(ctx, s, "apt/big", trust, func(store.Prev) (*store.Snapshot, error) { return tree(), nil }); err != nil {
		b.Fatal(err)
	}
	next := tree()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_, changed, err := store.Update(ctx, s, "apt/big", trust, func(store.Prev) (*store.Snapshot, error) { return next, nil })
		if err != nil || changed {
			b.Fatal(err, changed)
		}
	}
}
