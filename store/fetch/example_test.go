package fetch_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

// Fetch a file whose digest an index promised, then fetch an index conditionally.
func Example() {
	content := []byte("Package: hello\nVersion: 2.10\n")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"idx-1"`)
		if r.Header.Get("If-None-Match") == `"idx-1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write(content)
	}))
	defer srv.Close()

	ctx := context.Background()
	c := &fetch.Client{Store: store.NewMemory()}

	// Verified while streaming; a second call would make no request at all.
	res, err := c.Fetch(ctx, fetch.Request{
		URL:    srv.URL + "/pool/hello.deb",
		Expect: store.ExpectDigest(store.DigestOf(content), int64(len(content))),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("stored", res.Blob.Size, "bytes as", res.Blob.Digest == store.DigestOf(content))

	// An index of unknown size, remembered by its validators.
	b, res, err := c.FetchBytes(ctx, fetch.Request{URL: srv.URL + "/Packages"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("index: %d bytes, ETag %s\n", len(b), res.Validators.ETag)
	_, res, err = c.FetchBytes(ctx, fetch.Request{URL: srv.URL + "/Packages", Validators: res.Validators})
	fmt.Println("unchanged:", res.NotModified, err)
	// Output:
	// stored 29 bytes as true
	// index: 29 bytes, ETag "idx-1"
	// unchanged: true <nil>
}

// Send a token to the index's origin only: the download link it gives names a CDN on
// another origin, which gets the request without it.
func ExampleRequest_credentials() {
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("cdn: Authorization %q\n", r.Header.Get("Authorization"))
		_, _ = w.Write([]byte("artifact"))
	}))
	defer cdn.Close()
	index := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("index: Authorization %q\n", r.Header.Get("Authorization"))
		_, _ = fmt.Fprint(w, cdn.URL+"/artifact.tar.gz")
	}))
	defer index.Close()

	ctx := context.Background()
	c := &fetch.Client{Store: store.NewMemory()}
	token := http.Header{"Authorization": {"Token s3cret"}}
	link, _, err := c.FetchBytes(ctx, fetch.Request{URL: index.URL + "/api/", Credentials: token})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = c.Fetch(ctx, fetch.Request{URL: string(link), Credentials: token, CredentialOrigins: []string{index.URL}})
	fmt.Println(err)
	// Output:
	// index: Authorization "Token s3cret"
	// cdn: Authorization ""
	// <nil>
}
