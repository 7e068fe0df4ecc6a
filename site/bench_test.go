package site

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/airgapkit/airgap/store"
)

// BenchmarkServeSmallFile is one GET of a small published file through the whole serve
// path over loopback (mux, metrics, access log, the tree handler, the filesystem store):
// bench/serve.sh compares the same path with nginx.
func BenchmarkServeSmallFile(b *testing.B) {
	dir := b.TempDir()
	s, err := store.Open(filepath.Join(dir, "store"))
	if err != nil {
		b.Fatal(err)
	}
	files := map[string]string{}
	for i := 0; i < 100; i++ {
		files[fmt.Sprintf("f%d", i)] = fmt.Sprintf("%02048d", i)
	}
	publishTree(b, s, "files/small", files)
	cfg, err := Parse(filepath.Join(dir, "airgap.yaml"), []byte("files:\n  - {name: small, insecure: true, urls: [\"http://x/f\"]}\n"))
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(NewServer(cfg, cfg.Env(s, nil, log)))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/files/small/f%d", srv.URL, i%100), nil)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			i++
		}
	})
}
