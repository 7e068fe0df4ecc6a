// Command fetchbench downloads files in parallel with store/fetch into a filesystem store
// and prints the elapsed seconds: the "ours" side of bench/fetch.sh. The expected digests
// are computed from the served directory first (not timed), as a mirror knows them from
// its signed indices.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

func main() {
	base := flag.String("base", "", "base URL of the file server")
	dir := flag.String("dir", "", "the served directory (for the expected digests)")
	dst := flag.String("store", "", "filesystem store directory")
	noSync := flag.Bool("nosync", false, "open the store WithoutSync (no fsync per blob)")
	flag.Parse()
	if *base == "" || *dir == "" || *dst == "" {
		log.Fatal("usage: fetchbench -base URL -dir DIR -store DIR [-nosync]")
	}
	entries, err := os.ReadDir(*dir)
	if err != nil {
		log.Fatal(err)
	}
	var reqs []fetch.Request
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		sum, size := hashFile(filepath.Join(*dir, e.Name()))
		reqs = append(reqs, fetch.Request{
			URL:    *base + "/" + e.Name(),
			Expect: store.Expect{Size: size, Sums: map[store.Algorithm]string{store.SHA256: sum}},
		})
	}
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].URL < reqs[j].URL })
	var opts []store.Option
	if *noSync {
		opts = append(opts, store.WithoutSync())
	}
	s, err := store.Open(*dst, opts...)
	if err != nil {
		log.Fatal(err)
	}
	c := &fetch.Client{Store: s, PerHost: len(reqs)}
	start := time.Now()
	g, ctx := errgroup.WithContext(context.Background())
	for _, r := range reqs {
		g.Go(func() error {
			_, err := c.Fetch(ctx, r)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.3f\n", time.Since(start).Seconds())
}

func hashFile(p string) (string, int64) {
	f, err := os.Open(p)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		log.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}
