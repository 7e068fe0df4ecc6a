package site_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/airgapkit/airgap/site"
)

// Sync the mirrors of a config and serve them: the whole of `airgap sync` and `airgap
// serve` in a few lines. The upstream here is a local web server with one file.
func Example() {
	ctx := context.Background()
	notes := []byte("carried across the gap\n")
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(notes) }))
	defer upstream.Close()

	dir, _ := os.MkdirTemp("", "site-example-")
	defer os.RemoveAll(dir)
	config := fmt.Sprintf(`store: store
files:
  - name: tools
    urls: ["%s/notes.txt?checksum=sha256:%x"]
`, upstream.URL, sha256.Sum256(notes))
	cfg, err := site.Parse(filepath.Join(dir, "airgap.yaml"), []byte(config))
	if err != nil {
		log.Fatal(err)
	}
	s, err := cfg.OpenStore(ctx)
	if err != nil {
		log.Fatal(err)
	}
	env := cfg.Env(s, nil, nil)
	err = env.SyncAll(ctx, cfg.Mirrors.All(), site.SyncOptions{
		Done: func(ref string, res site.Result, err error) { fmt.Println(ref, res.Changed, err) },
	})
	if err != nil {
		log.Fatal(err)
	}

	mirror := httptest.NewServer(site.NewServer(cfg, env))
	defer mirror.Close()
	resp, err := http.Get(mirror.URL + "/files/tools/notes.txt")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(string(body))
	// Output:
	// files/tools true <nil>
	// carried across the gap
}

// What a site holds, and how clients use it: the report /status.json serves.
func ExampleConfig_Report() {
	ctx := context.Background()
	notes := []byte("carried across the gap\n")
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(notes) }))
	defer upstream.Close()
	dir, _ := os.MkdirTemp("", "site-example-")
	defer os.RemoveAll(dir)
	cfg, err := site.Parse(filepath.Join(dir, "airgap.yaml"), fmt.Appendf(nil,
		"files:\n  - {name: tools, urls: [\"%s/notes.txt?checksum=sha256:%x\"]}\n", upstream.URL, sha256.Sum256(notes)))
	if err != nil {
		log.Fatal(err)
	}
	s, err := cfg.OpenStore(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if err := cfg.Env(s, nil, nil).SyncAll(ctx, cfg.Mirrors.All(), site.SyncOptions{}); err != nil {
		log.Fatal(err)
	}

	rep, err := cfg.Report(ctx, s, site.ReportOptions{URL: "http://mirror.internal:8080"})
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range rep.Mirrors {
		fmt.Println(m.Ref, m.Items, "items,", m.Bytes, "bytes; last sync ok:", m.LastSync.OK)
		for _, sn := range m.Snippets {
			fmt.Print(sn.Text)
		}
	}
	// Output:
	// files/tools 1 items, 23 bytes; last sync ok: true
	// curl -fO http://mirror.internal:8080/files/tools/notes.txt
}
