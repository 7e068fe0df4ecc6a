// Command image-mirror copies the container images a cluster needs into a private
// registry and writes the containerd configuration that makes the nodes pull them from
// there, in three steps:
//
//  1. the images: image lists (-list, one reference per line, "#" comments; see
//     oci.ReadImageList) and Kubernetes or Helm YAML (-yaml: manifests, `helm template`
//     output or values files; see oci.ImagesFromYAML). "-" reads standard input;
//  2. the copy: every image goes registry to registry (oci.Copy) under a prefix mapping,
//     docker.io/library/nginx -> registry.internal/mirror/docker.io/library/nginx.
//     Manifests are copied byte for byte, so every digest stays what upstream
//     published; blobs the target already has are not sent again;
//  3. the clients: one hosts.toml per upstream registry (oci.HostsToml) in -out, laid out
//     as containerd's /etc/containerd/certs.d/<registry>/hosts.toml, sending pulls of
//     docker.io/library/nginx to the mirror unchanged in the pod specs.
//
// For example:
//
//	helm template ingress-nginx ingress-nginx/ingress-nginx > rendered.yaml
//	image-mirror -list images.txt -yaml rendered.yaml -target registry.internal:5000 -out certs.d
//	sudo cp -r certs.d /etc/containerd/    # with config_path = "/etc/containerd/certs.d"
//
// Registries are spoken to over https; -plain-http names the hosts (upstream or target)
// that speak plain http. Credentials come from the docker config.json and its credential
// helpers.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/airgapkit/airgap/oci"
)

// config is everything the flags set.
type config struct {
	Lists, YAMLs []string // files; "-" is Stdin
	Target       string   // registry host[:port]
	Prefix       string
	PlainHTTP    []string // registry hosts reached over http
	CAFile       string   // CA file the nodes trust the target with (hosts.toml "ca")
	OutDir       string
	Concurrency  int

	Stdin  io.Reader
	Out    io.Writer
	Logger *slog.Logger
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := config{Stdin: os.Stdin, Out: os.Stdout, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	flag.Var((*listFlag)(&cfg.Lists), "list", "image list file, one reference per line (repeatable; - for stdin)")
	flag.Var((*listFlag)(&cfg.YAMLs), "yaml", "Kubernetes manifests, Helm output or values file (repeatable; - for stdin)")
	flag.StringVar(&cfg.Target, "target", "", "private registry host[:port] to copy into (required)")
	flag.StringVar(&cfg.Prefix, "prefix", "mirror", "repository prefix on the target")
	flag.Var((*listFlag)(&cfg.PlainHTTP), "plain-http", "registry host[:port] spoken to over http, upstream or target (repeatable)")
	flag.StringVar(&cfg.CAFile, "ca-file", "", "CA certificate path on the nodes for the target (hosts.toml ca)")
	flag.StringVar(&cfg.OutDir, "out", "certs.d", "directory for <registry>/hosts.toml")
	flag.IntVar(&cfg.Concurrency, "concurrency", 8, "parallel uploads")
	flag.Parse()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "image-mirror:", err)
		os.Exit(1)
	}
}

// run reads the image references, copies them to the target and writes hosts.toml files.
func run(ctx context.Context, cfg config) error {
	if cfg.Target == "" {
		return errors.New("-target is required")
	}
	var images []string
	for _, src := range []struct {
		files []string
		read  func(io.Reader) ([]string, error)
	}{{cfg.Lists, oci.ReadImageList}, {cfg.YAMLs, oci.ImagesFromYAML}} {
		for _, name := range src.files {
			refs, err := readFile(name, cfg.Stdin, src.read)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			images = append(images, refs...)
		}
	}
	if len(images) == 0 {
		return errors.New("no images: give -list or -yaml")
	}

	client := &oci.Client{Logger: cfg.Logger}
	plain := map[string]bool{}
	for _, h := range cfg.PlainHTTP {
		plain[h] = true
		client.Registries = append(client.Registries, oci.RegistryConfig{Host: h, PlainHTTP: true})
	}
	to := oci.Mapping{Registry: cfg.Target, Prefix: cfg.Prefix}
	st, err := oci.Copy(ctx, oci.Selection{Images: images}, to, oci.PushOptions{Client: client, Concurrency: cfg.Concurrency, Logger: cfg.Logger})
	if err != nil {
		return err
	}
	fmt.Fprintf(cfg.Out, "%d images to %s: %d unchanged, %d manifests written, %d blobs uploaded (%d bytes), %d mounted, %d already there\n",
		st.Images, cfg.Target, st.Unchanged, st.Manifests, st.BlobsUploaded, st.BytesUploaded, st.BlobsMounted, st.BlobsExisting)

	// One hosts.toml per upstream registry the images came from.
	written := map[string]bool{}
	for _, img := range images {
		ref, err := oci.ParseReference(img)
		if err != nil {
			return err
		}
		if written[ref.Registry] {
			continue
		}
		written[ref.Registry] = true
		toml, err := oci.HostsToml(ref.Registry, to, oci.ClientOptions{PlainHTTP: plain[cfg.Target], CAFile: cfg.CAFile})
		if err != nil {
			return err
		}
		path := filepath.Join(cfg.OutDir, ref.Registry, "hosts.toml")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(toml), 0o644); err != nil {
			return err
		}
		fmt.Fprintln(cfg.Out, "wrote", path)
	}
	return nil
}

// readFile reads the references in the named file ("-": stdin) with read.
func readFile(name string, stdin io.Reader, read func(io.Reader) ([]string, error)) ([]string, error) {
	if name == "-" {
		return read(stdin)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return read(f)
}

// listFlag is a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }
