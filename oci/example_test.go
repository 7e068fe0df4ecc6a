package oci_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/airgapkit/airgap/oci"
	"github.com/airgapkit/airgap/oci/ocitest"
	"github.com/airgapkit/airgap/store"
)

// Mirror a multi-arch index from a registry into a store, byte for byte.
func Example() {
	ctx := context.Background()
	up, err := ocitest.Start()
	if err != nil {
		panic(err)
	}
	defer up.Close()

	s := store.NewMemory()
	m := &oci.Mirror{
		Name:       "demo",
		Images:     []string{up.Ref("library/multi:1.0"), up.Ref("library/alpine:3.19")},
		Registries: []oci.RegistryConfig{{Host: up.Host, PlainHTTP: true}},
		Store:      s,
	}
	st, err := m.Sync(ctx)
	if err != nil {
		panic(err)
	}
	snap, _, err := store.OpenPublished(ctx, s, m.Ref())
	if err != nil {
		panic(err)
	}
	for _, im := range oci.Tags(snap) {
		repo := im.Repository[strings.Index(im.Repository, "/")+1:]
		upstream := up.Content[repo+":"+im.Tag].Digest
		fmt.Println(repo, im.Tag, im.MediaType, string(im.Digest) == upstream)
	}
	fmt.Println("manifests:", st.Manifests, "blobs:", st.Blobs)
	// Output:
	// library/alpine 3.19 application/vnd.docker.distribution.manifest.v2+json true
	// library/multi 1.0 application/vnd.oci.image.index.v1+json true
	// manifests: 4 blobs: 9
}

// Name target repositories for a registry whose projects cannot nest.
func ExampleMapping_Target() {
	for _, mp := range []oci.Mapping{
		{Registry: "registry.internal"},
		{Registry: "registry.internal", Prefix: "mirror", StripRegistry: true},
		{Registry: "harbor.internal", Prefix: "mirror", Flatten: true},
	} {
		repo, _ := mp.Target("docker.io/library/nginx")
		fmt.Println(mp.Registry + "/" + repo)
	}
	// Output:
	// registry.internal/docker.io/library/nginx
	// registry.internal/mirror/library/nginx
	// harbor.internal/mirror/docker.io-library-nginx
}

// List what a published mirror holds: here one image, imported from an OCI image layout
// (which names digests but vouches for nothing, so VouchedBy stays empty).
func ExampleInventory() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "layout")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	w, err := oci.CreateLayout(dir)
	if err != nil {
		panic(err)
	}
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	manifest := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[]}`,
		oci.MediaTypeOCIManifest, store.DigestOf(config), len(config)))
	for _, b := range [][]byte{config, manifest} {
		if err := w.WriteBlob(store.DigestOf(b), int64(len(b)), bytes.NewReader(b)); err != nil {
			panic(err)
		}
	}
	w.SetRef("registry.example/tools/hello:1.0", oci.Descriptor{MediaType: oci.MediaTypeOCIManifest, Digest: store.DigestOf(manifest), Size: int64(len(manifest))})
	if err := w.Commit(); err != nil {
		panic(err)
	}
	w.Close()

	s := store.NewMemory()
	if _, err := oci.ImportLayout(ctx, s, "oci/tools", dir, ""); err != nil {
		panic(err)
	}
	items, err := oci.Inventory(ctx, s, "oci/tools")
	if err != nil {
		panic(err)
	}
	for _, it := range items {
		fmt.Println(it.Type, it.Name, it.Version, it.Path)
		fmt.Println(it.PURL == "pkg:oci/hello@"+string(it.Digest)+"?tag=1.0", it.VouchedBy == "")
	}
	// Output:
	// container registry.example/tools/hello 1.0 repositories/registry.example/tools/hello/_manifests/tags/1.0
	// true true
}
