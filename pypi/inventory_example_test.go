package pypi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/airgapkit/airgap/pypi"
	"github.com/airgapkit/airgap/store"
)

// List the distributions a mirror holds, with the page that vouched for each, after
// mirroring a one-wheel project from a PEP 503 page on 127.0.0.1.
func ExampleInventory() {
	var whl bytes.Buffer
	zw := zip.NewWriter(&whl)
	for name, body := range map[string]string{
		"demo/__init__.py":                 "",
		"demo-1.0.dist-info/METADATA":      "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
		"demo-1.0.dist-info/WHEEL":         "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
		"demo-1.0.dist-info/RECORD":        "",
		"demo-1.0.dist-info/top_level.txt": "demo\n",
	} {
		f, _ := zw.Create(name)
		_, _ = f.Write([]byte(body))
	}
	_ = zw.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/simple/demo/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<a href="/files/demo-1.0-py3-none-any.whl#sha256=%x">demo-1.0-py3-none-any.whl</a>`, sha256.Sum256(whl.Bytes()))
	})
	mux.HandleFunc("/files/demo-1.0-py3-none-any.whl", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(whl.Bytes()) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	s := store.NewMemory()
	m := &pypi.Mirror{URL: srv.URL + "/simple/", Requirements: []string{"demo"}, Store: s}
	if _, err := m.Sync(context.Background()); err != nil {
		panic(err)
	}
	items, err := pypi.Inventory(context.Background(), s, m.Ref())
	if err != nil {
		panic(err)
	}
	for _, it := range items {
		fmt.Println(it.PURL, it.Path)
		fmt.Println(it.VouchedBy == "sha256 in the simple index of "+srv.URL+"/simple/demo/")
	}
	// Output:
	// pkg:pypi/demo@1.0 packages/demo/demo-1.0-py3-none-any.whl
	// true
}
