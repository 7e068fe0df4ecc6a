package site

import (
	"context"
	"fmt"
	"io"
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
	h := NewServer(cfg, cfg.Env(s, nil, nil))
	h.AccessLog = io.Discard
	srv := httptest.NewServer(h)
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

// BenchmarkServeHandlerSmallFile is the server's own share of BenchmarkServeSmallFile:
// the handler chain `airgap serve` runs for one GET of a small published file (stall
// guard, mux, metrics, access log, tree handler, store), without the network or a client.
func BenchmarkServeHandlerSmallFile(b *testing.B) {
	dir := b.TempDir()
	s, err := store.Open(filepath.Join(dir, "store"))
	if err != nil {
		b.Fatal(err)
	}
	files := map[string]string{}
	for i := 0; i < 100; i++ {
		files[fmt.Sprintf("f%d", i)] = fmt.Sprintf("%01024d", i)
	}
	publishTree(b, s, "files/small", files)
	cfg, err := Parse(filepath.Join(dir, "airgap.yaml"), []byte("files:\n  - {name: small, insecure: true, urls: [\"http://x/f\"]}\n"))
	if err != nil {
		b.Fatal(err)
	}
	srv := NewServer(cfg, cfg.Env(s, nil, nil))
	srv.AccessLog = io.Discard
	h := NewHTTPServer(srv, ServeOptions{}).Handler
	reqs := make([]*http.Request, 100)
	for i := range reqs {
		reqs[i] = httptest.NewRequest("GET", fmt.Sprintf("/files/small/f%d", i), nil)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		i := 0
		for pb.Next() {
			clear(w.h)
			h.ServeHTTP(w, reqs[i%len(reqs)])
			if w.n != 1024 {
				b.Fatalf("wrote %d bytes", w.n)
			}
			w.n = 0
			i++
		}
	})
}

type discardWriter struct {
	h http.Header
	n int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }
