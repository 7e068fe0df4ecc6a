package fetch

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/airgapkit/airgap/store"
)

// BenchmarkFetchParallel downloads 16 files of 8 MiB each, in parallel, from a loopback
// server into a filesystem store (no fsync): the MB/s figure is what store/fetch adds on
// top of the network and sha256.
func BenchmarkFetchParallel(b *testing.B) {
	const n, size = 16, 8 << 20
	files := make(map[string][]byte, n)
	var reqs []Request
	for i := range n {
		content := randomBytes(size)
		name := fmt.Sprintf("/f%d", i)
		files[name] = content
		reqs = append(reqs, Request{Expect: store.ExpectDigest(store.DigestOf(content), size)})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		content, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), bytes.NewReader(content))
	}))
	defer srv.Close()
	for i := range reqs {
		reqs[i].URL = fmt.Sprintf("%s/f%d", srv.URL, i)
	}
	b.SetBytes(n * size)
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		s, err := store.Open(b.TempDir(), store.WithoutSync())
		if err != nil {
			b.Fatal(err)
		}
		c := &Client{Store: s, PerHost: n}
		b.StartTimer()
		g, ctx := errgroup.WithContext(context.Background())
		for _, r := range reqs {
			g.Go(func() error {
				_, err := c.Fetch(ctx, r)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
	}
}
