// Command helmbench builds and mirrors a chart repository for bench/helm.sh:
//
//	helmbench gen -n N -dir D      N signed versions of one chart into D (repo/, pubring.gpg)
//	helmbench sync -url U -key K -store S   cold sync then no-op resync; prints "cold <s> <versions>" and "noop <s> <requests>"
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/airgapkit/airgap/helm"
	"github.com/airgapkit/airgap/helm/helmtest"
	"github.com/airgapkit/airgap/internal/reqcount"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/pgp"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: helmbench gen|sync ... (bench/cmd/fileserver serves what gen writes)")
	}
	fl := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	n := fl.Int("n", 300, "chart versions")
	dir := fl.String("dir", "", "directory")
	u := fl.String("url", "", "repository URL")
	key := fl.String("key", "", "keyring")
	st := fl.String("store", "", "store directory")
	fl.Parse(os.Args[2:])
	switch os.Args[1] {
	case "gen":
		// RSA: helm v3 verifies with an OpenPGP library that knows no Ed25519.
		signer, err := pgp.GenerateKey("Bench Vendor", "bench@example.org", pgp.KeyOptions{RSABits: 3072})
		must(err)
		var charts []*helmtest.Chart
		for i := range *n {
			charts = append(charts, &helmtest.Chart{Name: "app", Version: fmt.Sprintf("%d.%d.%d", 1+i/100, (i/10)%10, i%10)})
		}
		files, err := helmtest.Static(charts, signer)
		must(err)
		for p, b := range files {
			f := filepath.Join(*dir, "repo", p)
			must(os.MkdirAll(filepath.Dir(f), 0o755))
			must(os.WriteFile(f, b, 0o644))
		}
		pub, err := signer.PublicKey(false)
		must(err)
		must(os.WriteFile(filepath.Join(*dir, "pubring.gpg"), pub, 0o644))
	case "sync":
		s, err := store.Open(*st)
		must(err)
		hc, reqs := reqcount.Client()
		fc := (&fetch.Client{Store: s}).WithHTTP(hc)
		m := &helm.Mirror{Name: "bench", URL: *u, Keyring: *key, Required: true,
			Charts: []helm.ChartSpec{{Name: "app", Version: ">=0.0.0"}}, Store: s, Fetch: fc}
		must(reqcount.ColdThenNoop(os.Stdout, reqs, func() (int, bool, error) {
			st, err := m.Sync(context.Background())
			return st.Versions, st.Changed, err
		}))
	default:
		log.Fatalf("unknown command %q", os.Args[1])
	}
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
