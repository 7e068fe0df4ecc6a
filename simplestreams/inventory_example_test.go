package simplestreams_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/airgapkit/airgap/simplestreams"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
)

// List what a mirror holds, with what vouched for each item, after mirroring a one-item
// stream served on 127.0.0.1.
func ExampleInventory() {
	upstream, err := pgp.GenerateKey("Upstream", "upstream@example.invalid", pgp.KeyOptions{})
	if err != nil {
		panic(err)
	}
	operator, err := pgp.GenerateKey("Operator", "ops@example.invalid", pgp.KeyOptions{})
	if err != nil {
		panic(err)
	}
	squashfs := []byte("a root filesystem")
	sum := sha256.Sum256(squashfs)
	products := fmt.Sprintf(`{"format": "products:1.0", "content_id": "com.example:stable:download",
	  "products": {"com.example.stable:24.04:amd64": {"arch": "amd64", "release": "noble",
	    "versions": {"20260301": {"items": {"squashfs": {"ftype": "squashfs",
	      "path": "noble/amd64/20260301/squashfs", "size": %d, "sha256": "%s"}}}}}}}`, len(squashfs), hex.EncodeToString(sum[:]))
	index := `{"format": "index:1.0", "updated": "Mon, 02 Mar 2026 10:00:00 +0000",
	  "index": {"com.example:stable:download": {"format": "products:1.0",
	    "path": "streams/v1/com.example:stable:download.sjson", "products": ["com.example.stable:24.04:amd64"]}}}`
	files := map[string][]byte{"/noble/amd64/20260301/squashfs": squashfs}
	for p, doc := range map[string]string{"/streams/v1/index.sjson": index, "/streams/v1/com.example:stable:download.sjson": products} {
		if files[p], err = upstream.Clearsign([]byte(doc)); err != nil {
			panic(err)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(b)
	}))
	defer srv.Close()

	s := store.NewMemory()
	m := &simplestreams.Mirror{Name: "example", URL: srv.URL, UpstreamKeyring: upstream.Keyring(), Signer: operator, Store: s}
	if _, err := m.Sync(context.Background()); err != nil {
		panic(err)
	}
	items, err := simplestreams.Inventory(context.Background(), s, m.Ref())
	if err != nil {
		panic(err)
	}
	keys := strings.NewReplacer(upstream.Fingerprint(), "UPSTREAM-KEY", operator.Fingerprint(), "OPERATOR-KEY")
	for _, it := range items {
		fmt.Println(it.Type, it.Name, it.Version, it.Path, it.Size)
		fmt.Println(keys.Replace(it.VouchedBy))
	}
	// Output:
	// operating-system com.example.stable:24.04:amd64/squashfs 20260301 noble/amd64/20260301/squashfs 17
	// sha256 in products com.example:stable:download, signed by UPSTREAM-KEY (upstream), re-signed by OPERATOR-KEY (operator)
}
