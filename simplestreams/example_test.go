package simplestreams_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/airgapkit/airgap/simplestreams"
	"github.com/airgapkit/airgap/simplestreams/simplestreamstest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
)

func ExampleParseProducts() {
	doc := []byte(`{
	  "format": "products:1.0", "content_id": "com.ubuntu.maas:stable:v3:download",
	  "products": {
	    "com.ubuntu.maas.stable:v3:boot:24.04:amd64:ga-24.04": {
	      "os": "ubuntu", "release": "noble", "arch": "amd64", "subarch": "ga-24.04",
	      "versions": {"20261115": {"items": {
	        "squashfs": {"ftype": "squashfs", "path": "noble/amd64/20261115/squashfs", "size": 3,
	          "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}}}}}}}`)
	p, err := simplestreams.ParseProducts(doc)
	if err != nil {
		panic(err)
	}
	filters, err := simplestreams.ParseFilters([]string{"arch=amd64", "release~(jammy|noble)"})
	if err != nil {
		panic(err)
	}
	for _, it := range p.Select(filters.Match, 1).Items() {
		flat := it.Flat()
		fmt.Println(it.Path(), flat["release"], flat["ftype"], it.Size())
	}
	// Output:
	// noble/amd64/20261115/squashfs noble squashfs 3
}

// Mirror noble amd64 boot images (and the bootloaders) from a MAAS-shaped upstream,
// keeping the newest version, re-signed with the operator's key.
func ExampleMirror_Sync() {
	upstream, err := simplestreamstest.New(simplestreamstest.Options{})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(upstream)
	defer srv.Close()
	operator, err := pgp.GenerateKey("Mirror operator", "ops@example.invalid", pgp.KeyOptions{})
	if err != nil {
		panic(err)
	}
	m := &simplestreams.Mirror{
		Name:            "maas",
		URL:             srv.URL,
		UpstreamKeyring: upstream.Signer.Keyring(),
		MAAS:            []simplestreams.MAASSelection{{OS: "ubuntu", Release: "noble", Arches: []string{"amd64"}}},
		Max:             1,
		Store:           store.NewMemory(),
		Signer:          operator,
	}
	stats, err := m.Sync(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d products, %d versions, %d files fetched\n", stats.Products, stats.Versions, stats.Downloaded)
	stats, err = m.Sync(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Printf("again: changed %v, %d of %d documents not modified\n", stats.Changed, stats.NotModified, stats.Documents)
	// Output:
	// 5 products, 5 versions, 9 files fetched
	// again: changed false, 4 of 4 documents not modified
}

// Mirror pristine: the upstream's signed documents are served byte for byte (MAAS verifies
// them with its stock keyring) and only the selected items are held. The published tree
// records when the upstream signed it and when, if ever, those signatures expire.
func ExampleMirror_Sync_pristine() {
	upstream, err := simplestreamstest.New(simplestreamstest.Options{})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(upstream)
	defer srv.Close()
	s := store.NewMemory()
	m := &simplestreams.Mirror{
		Name:            "maas",
		URL:             srv.URL,
		UpstreamKeyring: upstream.Signer.Keyring(),
		MAAS:            []simplestreams.MAASSelection{{OS: "ubuntu", Release: "noble", Arches: []string{"amd64"}}},
		Max:             1,
		Pristine:        true,
		Store:           s,
	}
	stats, err := m.Sync(context.Background())
	if err != nil {
		panic(err)
	}
	snap, _, err := store.OpenPublished(context.Background(), s, m.Ref())
	if err != nil {
		panic(err)
	}
	u, _, err := simplestreams.ReadUpstreamState(snap)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d items held, pristine %v, index updated %s, signatures expire: %v\n", stats.Items, u.Pristine, u.Updated, !u.Expires.IsZero())
	// Output:
	// 9 items held, pristine true, index updated Sun, 01 Nov 2026 01:00:00 +0000, signatures expire: false
}
