package store_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// Put verifies content against what the upstream index promised before it is stored.
func ExampleStore_Put() {
	ctx := context.Background()
	s := store.NewMemory()
	content := "Package: hello\n"
	want := store.DigestOf([]byte(content))

	info, err := s.Put(ctx, store.ExpectDigest(want, int64(len(content))), strings.NewReader(content))
	fmt.Println(info.Size, err)

	_, err = s.Put(ctx, store.ExpectDigest(want, 0), strings.NewReader("Package: evil\n"))
	fmt.Println(errors.Is(err, store.ErrDigestMismatch))
	// Output:
	// 15 <nil>
	// true
}

// A sync builds a snapshot from verified blobs and publishes it in one atomic step.
func ExamplePublish() {
	ctx := context.Background()
	s := store.NewMemory()

	prev, err := store.Current(ctx, s, "apt/ubuntu")
	fmt.Println("first sync:", errors.Is(err, store.ErrNotFound))

	snap := store.NewSnapshot()
	info, _ := s.Put(ctx, store.Expect{}, strings.NewReader("Origin: Ubuntu\n"))
	_ = snap.Add("dists/noble/Release", store.File{Digest: info.Digest, Size: info.Size})
	d, _ := store.WriteSnapshot(ctx, s, snap)
	if _, err := store.Publish(ctx, s, "apt/ubuntu", prev.Record, d); err != nil {
		fmt.Println(err)
	}

	published, _, _ := store.OpenPublished(ctx, s, "apt/ubuntu")
	b, _ := fs.ReadFile(published.FS(ctx, s), "dists/noble/Release")
	fmt.Print(string(b))
	// Output:
	// first sync: true
	// Origin: Ubuntu
}
