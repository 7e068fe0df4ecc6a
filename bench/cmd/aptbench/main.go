// Command aptbench supports bench/apt.sh: it generates a signed Debian repository of small
// packages (apt/apttest), serves it on 127.0.0.1, and times airgap's apt.Mirror
// syncing it into a filesystem store.
//
//	aptbench gen -n 3000 -dir DIR [-real-size]   writes DIR/repo/... and DIR/key.gpg (binary
//	                                   public key); -real-size: Packages stanzas of the size
//	                                   of Debian's (bookworm main amd64: 61 MB / 63,440)
//	aptbench replica -lists /var/lib/apt/lists -dir DIR [-recompress [-complete]]
//	                                   writes DIR/repo/<host>/<path>/... (apttest.LoadLists) and
//	                                   prints "archive ROOT SUITE..." per archive; -recompress
//	                                   adds .xz and .gz variants and re-signs every InRelease
//	                                   with a bench key (DIR/key.gpg); -complete lists only
//	                                   what is served and adds Release and Release.gpg
//	aptbench serve -dir DIR            serves DIR/repo, prints the URL on stdout
//	aptbench sync -url URL -key FILE -store DIR [-nosync]   prints "cold SECONDS" then "noop SECONDS REQUESTS"
//	aptbench plan -url URL -key FILE ...   prints "URL NAME=VERSION" per selected package (Mirror.Plan)
//
// sync and plan take -suites, -components, -filter, -deps, -formats (Mirror.IndexFormats),
// -allow-expired, -pristine (Mirror.Pristine) and -upstream 'URL|SUITE,...' (more archives
// into the same mirror, with the same keyring).
package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"time"

	"github.com/airgapkit/airgap/apt"
	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/pgp"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: aptbench gen|replica|serve|sync|plan ...")
	}
	fl := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	n := fl.Int("n", 3000, "packages to generate")
	realSize := fl.Bool("real-size", false, "gen: Packages stanzas of Debian's mean size (relations and descriptions)")
	dir := fl.String("dir", "", "repository directory")
	url := fl.String("url", "", "upstream URL")
	key := fl.String("key", "", "upstream public key")
	storeDir := fl.String("store", "", "store directory")
	noSync := fl.Bool("nosync", false, "open the store WithoutSync (no fsync per blob, as the peers)")
	lists := fl.String("lists", apttest.DefaultListsDir, "apt lists directory (replica)")
	recompress := fl.Bool("recompress", false, "replica: add .xz/.gz variants and re-sign")
	complete := fl.Bool("complete", false, "replica, with -recompress: list only what is served, add Release and Release.gpg")
	suites := fl.String("suites", "stable", "sync: suites, comma-separated")
	comps := fl.String("components", "main", "sync: components, comma-separated")
	filter := fl.String("filter", "", "sync: package names to select, comma-separated (default all)")
	deps := fl.Bool("deps", false, "sync: follow dependencies of the filter")
	formats := fl.String("formats", "", "sync: index formats in order of preference, comma-separated")
	allowExpired := fl.Bool("allow-expired", false, "sync: accept an expired upstream Release (aptly never checks)")
	pristine := fl.Bool("pristine", false, "sync: serve the upstream's metadata verbatim (Mirror.Pristine), no signer")
	var ups []apt.Upstream
	fl.Func("upstream", "sync: another archive, 'URL|SUITE,...' (repeatable)", func(v string) error {
		u, suites, ok := strings.Cut(v, "|")
		if !ok {
			return fmt.Errorf("want URL|SUITE,...")
		}
		ups = append(ups, apt.Upstream{URL: u, Suites: split(suites)})
		return nil
	})
	cpuProfile := fl.String("cpuprofile", "", "write a CPU profile of the sync")
	fl.Parse(os.Args[2:])
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(*n, *dir, *realSize)
	case "replica":
		err = replica(*lists, *dir, *recompress, *complete)
	case "serve":
		err = serve(*dir)
	case "sync", "plan":
		m := &apt.Mirror{Name: "bench", URL: *url, Suites: split(*suites), Upstreams: ups, Components: split(*comps),
			Architectures: []string{"amd64"}, Keyring: *key, Concurrency: 8, IndexFormats: split(*formats),
			AllowExpired: *allowExpired, Pristine: *pristine, Filter: apt.Filter{Packages: split(*filter), Dependencies: *deps}}
		if os.Args[1] == "plan" {
			err = planRun(m)
		} else {
			err = syncRun(m, *storeDir, *noSync)
		}
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		log.Print(err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func gen(n int, dir string, realSize bool) error {
	// RSA: aptly verifies with an older OpenPGP stack than apt's
	key, err := pgp.GenerateKey("Bench Upstream", "bench@example.invalid", pgp.KeyOptions{RSABits: 3072})
	if err != nil {
		return err
	}
	pkgs := make([]apttest.Package, n)
	for i := range pkgs {
		pkgs[i] = apttest.Package{Name: fmt.Sprintf("pkg%05d", i), Version: fmt.Sprintf("1.%d-1", i%10),
			Source: fmt.Sprintf("src%04d", i/3), Depends: fmt.Sprintf("pkg%05d", (i+1)%n)}
		if realSize { // what a typical stanza carries besides the generated fields
			p := &pkgs[i]
			p.Depends += fmt.Sprintf(" (>= 1.0), libc6 (>= 2.34), libgcc-s1 (>= 3.0), libstdc++6 (>= 12), zlib1g (>= 1:1.2.0), libssl3 (>= 3.0.0), pkg%05d (= 1.0-1)", (i+2)%n)
			p.PreDepends = "dpkg (>= 1.19.1)"
			p.Recommends = fmt.Sprintf("ca-certificates, pkg%05d | pkg%05d", (i+3)%n, (i+4)%n)
			p.Provides = fmt.Sprintf("virtual-%d (= 1.0), libpkg%05d-abi", i%97, i)
			p.MultiArch = "same"
			p.Description = fmt.Sprintf("synthetic package %d of a Debian-sized archive - its relations, description and checksums as long as a typical stanza's, its data one small file", i)
		}
	}
	repo, err := apttest.Build(apttest.Options{Suites: []string{"stable"}, Signer: key, ByHash: true}, pkgs)
	if err != nil {
		return err
	}
	for p, b := range repo.Files {
		f := filepath.Join(dir, "repo", filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(f, b, 0o644); err != nil {
			return err
		}
	}
	pub, err := key.PublicKey(false)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "key.gpg"), pub, 0o644)
}

// serve serves the generated tree through apttest.Server (ETag, Last-Modified, 304).
func serve(dir string) error {
	root := filepath.Join(dir, "repo")
	repo := &apttest.Repo{Files: map[string][]byte{}}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		repo.Files[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("http://%s\n", ln.Addr())
	os.Stdout.Sync()
	return http.Serve(ln, apttest.NewServer(repo))
}

type counting struct {
	rt http.RoundTripper
	n  atomic.Int64
}

func (c *counting) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.rt.RoundTrip(r)
}

// planRun prints the selection of m: what apt-get download needs to fill a replica's pool.
func planRun(m *apt.Mirror) error {
	m.Store = store.NewMemory()
	plan, err := m.Plan(context.Background())
	if err != nil {
		return err
	}
	urls := map[string]string{}
	for _, f := range plan.Files {
		urls[f.Path] = f.URL
	}
	for _, p := range plan.Packages {
		fmt.Printf("%s %s=%s\n", urls[p.Filename], p.Name, p.Version)
	}
	return nil
}

// operatorKey loads the operator key kept beside the store, or makes it: a later run on
// the same store signs with the same key, so that its configuration is unchanged.
func operatorKey(path string) (*pgp.Signer, error) {
	if _, err := os.Stat(path); err == nil {
		return pgp.LoadSigner(path, nil)
	}
	op, err := pgp.GenerateKey("Bench Operator", "op@example.invalid", pgp.KeyOptions{})
	if err != nil {
		return nil, err
	}
	b, err := op.ArmoredPrivateKey()
	if err != nil {
		return nil, err
	}
	return op, os.WriteFile(path, b, 0o600)
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// syncRun syncs m into a filesystem store twice: cold, then a no-op.
func syncRun(m *apt.Mirror, storeDir string, noSync bool) error {
	ctx := context.Background()
	var opts []store.Option
	if noSync {
		opts = append(opts, store.WithoutSync())
	}
	s, err := store.Open(storeDir, opts...)
	if err != nil {
		return err
	}
	op, err := operatorKey(filepath.Join(storeDir, "..", filepath.Base(storeDir)+".key.asc"))
	if err != nil {
		return err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16 // as fetch's own default transport: keep the connections
	rt := &counting{rt: tr}
	m.Store = s
	if !m.Pristine {
		m.Signer = op
	}
	m.Fetch = &fetch.Client{Store: s, HTTP: &http.Client{Transport: rt}}
	t0 := time.Now()
	st, err := m.Sync(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("cold %.3f files=%d downloaded=%d packages=%d requests=%d\n", time.Since(t0).Seconds(), st.Files, st.Downloaded, st.Packages, rt.n.Load())
	rt.n.Store(0)
	t0 = time.Now()
	st, err = m.Sync(ctx)
	if err != nil {
		return err
	}
	if st.Changed {
		return fmt.Errorf("no-op resync was not a no-op")
	}
	fmt.Printf("noop %.3f requests=%d\n", time.Since(t0).Seconds(), rt.n.Load())
	return nil
}
