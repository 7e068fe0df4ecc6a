package bundle_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/bundle"
	"github.com/airgapkit/airgap/store/pgp"
)

// Carry a published mirror from the outside store to the inside one.
func Example() {
	ctx := context.Background()
	operator, _ := pgp.GenerateKey("operator", "ops@example.invalid", pgp.KeyOptions{})

	outside := store.NewMemory()
	info, _ := outside.Put(ctx, store.Expect{}, strings.NewReader("hello from outside"))
	snap := store.NewSnapshot()
	_ = snap.Add("files/hello.txt", store.File{Digest: info.Digest, Size: info.Size})
	d, _ := store.WriteSnapshot(ctx, outside, snap)
	_, _ = store.Publish(ctx, outside, "files/demo", "", d)

	var carried bytes.Buffer
	m, _, _ := bundle.Export(ctx, outside, &carried, bundle.ExportOptions{Signer: operator})
	fmt.Println("blobs carried:", len(m.Blobs))

	inside := store.NewMemory()
	_, err := bundle.Import(ctx, inside, &carried, bundle.ImportOptions{Keyring: operator.Keyring()})
	fmt.Println("import:", err)

	published, _, _ := store.OpenPublished(ctx, inside, "files/demo")
	f, _ := published.Lookup("files/hello.txt")
	b, _ := store.ReadBlob(ctx, inside, f.Digest, 1024)
	fmt.Println(string(b))
	// Output:
	// blobs carried: 3
	// import: <nil>
	// hello from outside
}
