// Command rpmbench builds and mirrors an RPM upstream for bench/rpm.sh:
//
//	rpmbench gen -n N -dir D     build DefaultPackages plus N filler rpms into D (tree/, key.asc)
//	rpmbench sync -url U -key K -store S [-filter]   cold sync then no-op resync; prints "cold <s>" and "noop <s> <requests>"
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/airgapkit/airgap/internal/reqcount"
	"github.com/airgapkit/airgap/rpm"
	"github.com/airgapkit/airgap/rpm/rpmtest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/pgp"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: rpmbench gen|sync ... (bench/cmd/fileserver serves what gen writes)")
	}
	fl := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	n := fl.Int("n", 200, "filler packages")
	dir := fl.String("dir", "", "directory")
	u := fl.String("url", "", "upstream URL")
	key := fl.String("key", "", "upstream key")
	st := fl.String("store", "", "store directory")
	filter := fl.Bool("filter", false, "filtered mirror of httpd (re-signed) instead of pristine")
	fl.Parse(os.Args[2:])
	switch os.Args[1] {
	case "gen":
		pkgs := append([]rpmtest.Package{}, rpmtest.DefaultPackages...)
		for i := range *n {
			pkgs = append(pkgs, rpmtest.Package{Repo: rpmtest.BaseOS, Name: fmt.Sprintf("filler%04d", i), Version: "1.0", Release: "1.el9",
				Arch: "noarch", Files: []string{fmt.Sprintf("/usr/share/filler/%d", i)}})
		}
		tr, err := rpmtest.Build(pkgs)
		if err != nil {
			log.Fatal(err)
		}
		for p, b := range tr.Files {
			f := filepath.Join(*dir, "tree", p)
			must(os.MkdirAll(filepath.Dir(f), 0o755))
			must(os.WriteFile(f, b, 0o644))
		}
		must(os.WriteFile(filepath.Join(*dir, "key.asc"), tr.Key, 0o644))
	case "sync":
		ctx := context.Background()
		s, err := store.Open(*st)
		must(err)
		keys, err := pgp.LoadKeyring(*key)
		must(err)
		op, err := pgp.GenerateKey("bench", "bench@example.invalid", pgp.KeyOptions{})
		must(err)
		hc, reqs := reqcount.Client()
		m := &rpm.Mirror{Name: "bench", URL: *u, Repos: []string{rpmtest.BaseOS, rpmtest.AppStream}, Pristine: !*filter,
			Store: s, Fetch: &fetch.Client{Store: s, HTTP: hc}, Keys: keys, Signer: op}
		if *filter {
			m.Filter = rpm.Filter{Packages: []string{"httpd", "webapp"}, Dependencies: true}
		}
		must(reqcount.ColdThenNoop(os.Stdout, reqs, func() (int, bool, error) {
			st, err := m.Sync(ctx)
			return st.Packages, st.Changed, err
		}))
	default:
		log.Fatal("unknown command")
	}
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
