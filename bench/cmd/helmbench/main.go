// Command helmbench builds and mirrors a chart repository for bench/helm.sh:
//
//	helmbench gen -n N -dir D      N signed versions of one chart into D (repo/, pubring.gpg)
//	helmbench sync -url U -key K -store S   cold sync then no-op resync; prints "cold <s> <versions>" and "noop <s> <requests>"
//	helmbench index -out F         a 44 MB index.yaml (150 charts of 400 versions) into F
//	helmbench parse -index F [-whole]   reads 2 of its charts (ReadIndex), or decodes it whole
//	                                    (ParseIndex); prints "parse <s> <peak RSS MiB>"
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

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
	out := fl.String("out", "", "output file")
	index := fl.String("index", "", "index.yaml to read")
	whole := fl.Bool("whole", false, "decode the index whole")
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
	case "index":
		f, err := os.Create(*out)
		must(err)
		must(helmtest.BigIndex(f, 150, 400))
		must(f.Close())
	case "parse":
		t0 := time.Now()
		var idx *helm.Index
		if *whole {
			b, err := os.ReadFile(*index)
			must(err)
			idx, err = helm.ParseIndex(b)
			must(err)
		} else {
			f, err := os.Open(*index)
			must(err)
			idx, err = helm.ReadIndex(f, func(n string) bool { return n == "chart007" || n == "chart140" })
			must(err)
			f.Close()
		}
		if len(idx.Entries["chart140"]) != 400 {
			log.Fatal("chart140 not read")
		}
		fmt.Printf("parse %.2f %d\n", time.Since(t0).Seconds(), peakRSS()>>20)
	default:
		log.Fatalf("unknown command %q", os.Args[1])
	}
}

// peakRSS is the process's peak resident set (VmHWM), in bytes.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	must(err)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			must(err)
			return kb << 10
		}
	}
	log.Fatal("no VmHWM in /proc/self/status")
	return 0
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
