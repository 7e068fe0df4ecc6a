// Command ocibench is the helper of bench/oci.sh and bench/scale.sh: it fills a registry
// with generated images, copies images between registries with package oci, and syncs
// every tag of one repository into a store. It is not part of the SDK.
//
//	ocibench gen  -to HOST:PORT -images 20 -mb 150
//	ocibench gen  -to HOST:PORT -tags 500 -repo bench/many   500 small images, tags 1.0.0 ... of one repo
//	ocibench copy -from HOST:PORT -to HOST:PORT [-via-store DIR] REPO:TAG...
//	ocibench sync -from HOST:PORT -repo bench/many -store DIR   oci.Mirror of every tag, cold then
//	                                   no-op: prints "cold SECONDS IMAGES" and "noop SECONDS REQUESTS"
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/airgapkit/airgap/internal/reqcount"
	"github.com/airgapkit/airgap/oci"
	"github.com/airgapkit/airgap/oci/ocitest"
	"github.com/airgapkit/airgap/store"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: ocibench gen|copy ...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "copy":
		err = copyCmd(os.Args[2:])
	case "sync":
		err = syncCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ocibench:", err)
		os.Exit(1)
	}
}

// gen pushes n images bench/imgNN:1 of 3-10 layers, about mb MiB in all.
func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	to := fs.String("to", "", "registry host:port (plain http)")
	n := fs.Int("images", 20, "images")
	mb := fs.Int("mb", 150, "total MiB")
	tags := fs.Int("tags", 0, "instead of -images: this many tags of one repository, one small image each")
	repo := fs.String("repo", "bench/many", "the repository of -tags")
	_ = fs.Parse(args)
	c := &http.Client{Timeout: 5 * time.Minute}
	for i := range *tags {
		im := ocitest.Image(ocitest.ImageSpec{Seed: uint64(5000 + i), Layers: 1, LayerSize: 1024})
		if err := ocitest.Push(context.Background(), c, "http://"+*to, *repo, tagName(i), im); err != nil {
			return err
		}
	}
	if *tags > 0 {
		return nil
	}
	layersTotal := 0
	for i := range *n {
		layersTotal += 3 + i%8
	}
	per := *mb << 20 / layersTotal
	for i := range *n {
		im := ocitest.Image(ocitest.ImageSpec{Seed: uint64(1000 + i), Layers: 3 + i%8, LayerSize: per})
		if err := ocitest.Push(context.Background(), c, "http://"+*to, fmt.Sprintf("bench/img%02d", i+1), "1", im); err != nil {
			return err
		}
	}
	return nil
}

func copyCmd(args []string) error {
	fs := flag.NewFlagSet("copy", flag.ExitOnError)
	from := fs.String("from", "", "source registry host:port (plain http)")
	to := fs.String("to", "", "target registry host:port (plain http)")
	via := fs.String("via-store", "", "copy through a filesystem store in this directory (sync, then push)")
	_ = fs.Parse(args)
	ctx := context.Background()
	c := &oci.Client{Registries: []oci.RegistryConfig{{Host: *from, PlainHTTP: true}, {Host: *to, PlainHTTP: true}}}
	var images []string
	for _, a := range fs.Args() {
		images = append(images, *from+"/"+a)
	}
	mp := oci.Mapping{Registry: *to, StripRegistry: true}
	if *via == "" {
		_, err := oci.Copy(ctx, oci.Selection{Images: images}, mp, oci.PushOptions{Client: c})
		return err
	}
	s, err := store.Open(*via)
	if err != nil {
		return err
	}
	m := &oci.Mirror{Name: "bench", Images: images, Store: s, Client: c}
	if _, err := m.Sync(ctx); err != nil {
		return err
	}
	_, err = oci.Push(ctx, s, m.Ref(), mp, oci.PushOptions{Client: c})
	return err
}

func tagName(i int) string { return fmt.Sprintf("1.%d.%d", i/100, i%100) }

// syncCmd mirrors every tag of one repository into a filesystem store (WithoutSync, as
// the peers), twice: cold, then a no-op, counting the requests of the second.
func syncCmd(args []string) error {
	fs := flag.NewFlagSet("sync", flag.ExitOnError)
	from := fs.String("from", "", "registry host:port (plain http)")
	repo := fs.String("repo", "bench/many", "repository")
	dir := fs.String("store", "", "store directory")
	_ = fs.Parse(args)
	ctx := context.Background()
	s, err := store.Open(*dir, store.WithoutSync())
	if err != nil {
		return err
	}
	hc, reqs := reqcount.Client()
	m := &oci.Mirror{Name: "bench", Store: s, Repositories: []oci.RepositorySelector{{Repository: *from + "/" + *repo}},
		Client: &oci.Client{HTTP: hc, Registries: []oci.RegistryConfig{{Host: *from, PlainHTTP: true}}}}
	return reqcount.ColdThenNoop(os.Stdout, reqs, func() (int, bool, error) {
		st, err := m.Sync(ctx)
		return st.Images, st.Changed, err
	})
}
