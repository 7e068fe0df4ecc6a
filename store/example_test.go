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

// A sync publishes through Update: a resync that arrives at the same tree publishes no
// generation, and one whose trust settings differ gets nothing to reuse.
func ExampleUpdate() {
	ctx := context.Background()
	s := store.NewMemory()
	type Mirror struct {
		URL                   string
		InsecureSkipSignature bool
	}
	m := Mirror{URL: "https://deb.example/"}
	sync := func() {
		trust := store.TrustOf(m).WithRoot("keyring", "sha256:1234")
		gen, changed, err := store.Update(ctx, s, "apt/example", trust, func(prev store.Prev) (*store.Snapshot, error) {
			if prev.TrustChanged != nil {
				fmt.Println("verifying everything again:", prev.TrustChanged)
			}
			if prev.Snapshot != nil && prev.Snapshot.Annotations["etag"] == `"v1"` {
				return nil, nil // upstream answered 304: keep what is published
			}
			snap := store.NewSnapshot()
			info, err := store.PutBytes(ctx, s, store.Expect{}, []byte("Origin: Example\n"))
			if err != nil {
				return nil, err
			}
			snap.Annotations["etag"] = `"v1"`
			return snap, snap.Add("dists/stable/Release", store.File{Digest: info.Digest, Size: info.Size})
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("changed:", changed, "parent:", gen.Parent != "")
	}
	sync()
	sync()
	m.InsecureSkipSignature = true
	sync()
	// Output:
	// changed: true parent: false
	// changed: false parent: false
	// verifying everything again: [InsecureSkipSignature: false -> true]
	// changed: true parent: true
}

// A dry run's figures: two plans naming one blob count it once, and a blob the store
// holds is counted as held, not to fetch.
func ExampleTally() {
	ctx := context.Background()
	s := store.NewMemory()
	held, _ := store.PutBytes(ctx, s, store.Expect{}, []byte("already here"))
	shared := store.DigestOf([]byte("in both mirrors"))
	t := store.NewTally()
	a, _ := t.Add(ctx, s, store.Plan{Items: []store.PlannedItem{
		{Name: "a.deb", Digest: shared, Size: 15},
		{Name: "held.deb", Digest: held.Digest, Size: held.Size},
	}})
	b, _ := t.Add(ctx, s, store.Plan{Items: []store.PlannedItem{
		{Name: "a.whl", Digest: shared, Size: 15},
		{Name: "nosize.tar", Size: store.UnknownSize},
	}})
	fmt.Printf("first: fetch %d (%d B), held %d (%d B)\n", a.Fetch, a.FetchBytes, a.Held, a.HeldBytes)
	fmt.Printf("second: fetch %d (%d B), %d of unknown size\n", b.Fetch, b.FetchBytes, b.Unknown)
	// Output:
	// first: fetch 1 (15 B), held 1 (12 B)
	// second: fetch 1 (0 B), 1 of unknown size
}
