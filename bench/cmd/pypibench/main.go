// Command pypibench supports bench/pypi.sh and bench/scale.sh: it serves one project with
// a generated page of a given size (pypi/pypitest.BigPage), or many projects
// (pypitest.Closure), on 127.0.0.1 and syncs it with pypi.Mirror into a filesystem store,
// reporting the process's peak RSS, so that the memory a large page costs is measured in
// a process of its own.
//
//	pypibench serve -size BYTES -format json|html   prints the index URL on stdout
//	pypibench serve -projects N                     N projects gen-0 ... gen-<N-1>, two wheels each
//	pypibench sync -url URL -store DIR              prints "files N", "seconds S", "maxrss-kb K"
//	pypibench sync -url URL -store DIR -projects N  requires every gen-I, cold then no-op: prints
//	                                                "cold SECONDS FILES" and "noop SECONDS REQUESTS"
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/airgapkit/airgap/internal/reqcount"
	"github.com/airgapkit/airgap/pypi"
	"github.com/airgapkit/airgap/pypi/pypitest"
	"github.com/airgapkit/airgap/pypi/wheel"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

const project = "big"

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: pypibench serve|sync ...")
	}
	fl := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	size := fl.Int64("size", 60<<20, "serve: page size in bytes")
	format := fl.String("format", "json", "serve: json or html")
	url := fl.String("url", "", "sync: index URL")
	storeDir := fl.String("store", "", "sync: store directory")
	projects := fl.Int("projects", 0, "serve, sync: instead of one big page, this many projects")
	fl.Parse(os.Args[2:])
	var err error
	switch {
	case os.Args[1] == "serve" && *projects > 0:
		err = serve(pypitest.New(pypitest.Closure(*projects)...))
	case os.Args[1] == "serve":
		err = serve(&pypitest.BigPage{Name: project, Size: *size, Format: *format})
	case os.Args[1] == "sync" && *projects > 0:
		err = syncProjects(*url, *storeDir, *projects)
	case os.Args[1] == "sync":
		err = syncOnce(*url, *storeDir)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		log.Fatal(err)
	}
}

func serve(h http.Handler) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("http://%s/simple/\n", ln.Addr())
	return http.Serve(ln, h)
}

func syncOnce(url, dir string) error {
	s, err := store.Open(dir)
	if err != nil {
		return err
	}
	m := &pypi.Mirror{
		URL:          url,
		Requirements: []string{project},
		Targets:      []wheel.Target{{Python: "3.11", Platform: "manylinux_2_28_x86_64"}},
		Store:        s,
		Fetch:        &fetch.Client{Store: s, Retries: -1},
	}
	t0 := time.Now()
	st, err := m.Sync(context.Background())
	if err != nil {
		return err
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return err
	}
	fmt.Printf("files %d\nseconds %.2f\nmaxrss-kb %d\n", st.Files, time.Since(t0).Seconds(), ru.Maxrss)
	return nil
}

// syncProjects mirrors gen-0 ... gen-<n-1> (WithoutSync, as the peers) twice: cold, then
// a no-op, counting the requests of the second.
func syncProjects(url, dir string, n int) error {
	ctx := context.Background()
	s, err := store.Open(dir, store.WithoutSync())
	if err != nil {
		return err
	}
	hc, reqs := reqcount.Client()
	m := &pypi.Mirror{URL: url, Targets: []wheel.Target{{Python: "3.11", Platform: "manylinux_2_28_x86_64"}},
		Store: s, Fetch: (&fetch.Client{Store: s}).WithHTTP(hc)}
	for i := range n {
		m.Requirements = append(m.Requirements, fmt.Sprintf("gen-%d", i))
	}
	return reqcount.ColdThenNoop(os.Stdout, reqs, func() (int, bool, error) {
		st, err := m.Sync(ctx)
		return st.Files, st.Changed, err
	})
}
