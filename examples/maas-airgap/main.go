// Command maas-airgap sets up the two mirrors an air-gapped MAAS needs and points MAAS at
// them, in one run:
//
//  1. apt: the Ubuntu archive's suites are mirrored with a package filter (the packages
//     named by -packages and everything they depend on), verified against the Ubuntu
//     archive keyring and re-signed with the operator's key (package apt);
//  2. images: the MAAS boot-image stream is mirrored for one release and its
//     architectures, newest version only, verified against the cloud-image keyring and
//     re-signed with the operator's key (package simplestreams);
//  3. both are served from the filesystem store on one listener: the archive under
//     /ubuntu/, the image stream under /maas/;
//  4. MAAS is configured through its API (package maasclient): the boot source points at
//     /maas/ with the operator's public key as keyring_data, the selections are the
//     release and architectures mirrored (and the release becomes MAAS's commissioning
//     and default release), main_archive points at /ubuntu/ with the armored key and
//     only the pockets and components mirrored, and the image import is started and
//     waited for.
//
// The server keeps running until interrupted: MAAS's machines install from /ubuntu/.
// Snaps (the MAAS snap itself, for example) come from the snapproxy package, which this
// program does not use.
//
//	maas-airgap -signing-key keys/signing.asc -maas-url http://maas:5240/MAAS \
//	    -api-key "$(sudo maas apikey --username admin)" -external-url http://mirror.internal:8080
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/airgapkit/airgap/apt"
	"github.com/airgapkit/airgap/maasclient"
	"github.com/airgapkit/airgap/simplestreams"
	"github.com/airgapkit/airgap/site"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
)

// config is everything the flags set.
type config struct {
	StoreDir, Listen, ExternalURL, SigningKey string

	ArchiveURL, ArchiveKeyring string
	Suites, Components         []string
	Packages                   []string

	ImagesURL, ImagesKeyring string
	Release                  string
	Arches                   []string

	MAASURL, APIKey string
	Poll            time.Duration

	Out    io.Writer // what was done, for the operator
	Logger *slog.Logger
	// Ready is called once MAAS is configured, with the base URL being served.
	Ready func(baseURL string)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var cfg config
	var suites, components, packages, arches string
	flag.StringVar(&cfg.StoreDir, "store", "./mirror", "filesystem store directory")
	flag.StringVar(&cfg.Listen, "listen", ":8080", "address to serve /ubuntu/ and /maas/ on")
	flag.StringVar(&cfg.ExternalURL, "external-url", "", "base URL MAAS reaches this server at (default http://<hostname>:<port>)")
	flag.StringVar(&cfg.SigningKey, "signing-key", "signing.asc", "operator's private key (armored) that re-signs both mirrors; passphrase from $AIRGAP_KEY_PASSPHRASE")
	flag.StringVar(&cfg.ArchiveURL, "archive-url", "http://archive.ubuntu.com/ubuntu", "upstream Ubuntu archive")
	flag.StringVar(&cfg.ArchiveKeyring, "archive-keyring", "/usr/share/keyrings/ubuntu-archive-keyring.gpg", "keyring that signs the upstream archive")
	flag.StringVar(&suites, "suites", "noble,noble-updates,noble-security", "archive suites, comma-separated")
	flag.StringVar(&components, "components", "main", "archive components, comma-separated")
	flag.StringVar(&packages, "packages", "openssh-server", "packages to carry (with their dependencies), comma-separated")
	flag.StringVar(&cfg.ImagesURL, "images-url", "http://images.maas.io/ephemeral-v3/stable/", "upstream MAAS image stream")
	flag.StringVar(&cfg.ImagesKeyring, "images-keyring", "/usr/share/keyrings/ubuntu-cloudimage-keyring.gpg", "keyring that signs the image stream")
	flag.StringVar(&cfg.Release, "release", "noble", "Ubuntu release of the boot images")
	flag.StringVar(&arches, "arches", "amd64", "architectures of packages and images, comma-separated")
	flag.StringVar(&cfg.MAASURL, "maas-url", "http://localhost:5240/MAAS", "MAAS URL")
	flag.StringVar(&cfg.APIKey, "api-key", "", "MAAS API key consumer:token:secret (default $MAAS_API_KEY)")
	flag.DurationVar(&cfg.Poll, "poll", maasclient.DefaultPollInterval, "how often to ask MAAS whether the image import is done")
	flag.Parse()
	if cfg.APIKey == "" {
		cfg.APIKey = os.Getenv("MAAS_API_KEY")
	}
	cfg.Suites, cfg.Components, cfg.Packages, cfg.Arches = split(suites), split(components), split(packages), split(arches)
	cfg.Out, cfg.Logger = os.Stdout, slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg.Ready = func(u string) {
		fmt.Fprintf(cfg.Out, "MAAS configured; serving %s/ubuntu/ and %s/maas/ until interrupted\n", u, u)
	}
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "maas-airgap:", err)
		os.Exit(1)
	}
}

// run syncs both mirrors, serves them, configures MAAS and serves until ctx is done.
func run(ctx context.Context, cfg config) error {
	if len(cfg.Components) == 0 {
		return errors.New("-components is required: MAAS is told which components the archive holds")
	}
	signer, err := pgp.LoadSigner(cfg.SigningKey, []byte(os.Getenv("AIRGAP_KEY_PASSPHRASE")))
	if err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	s, err := store.Open(cfg.StoreDir)
	if err != nil {
		return err
	}
	archive := &apt.Mirror{
		Name: "ubuntu", URL: cfg.ArchiveURL, Keyring: cfg.ArchiveKeyring,
		Suites: cfg.Suites, Components: cfg.Components, Architectures: cfg.Arches,
		Filter: apt.Filter{Packages: cfg.Packages, Dependencies: true},
		Store:  s, Signer: signer, Logger: cfg.Logger,
	}
	images := &simplestreams.Mirror{
		Name: "maas", URL: cfg.ImagesURL, Keyring: cfg.ImagesKeyring, Max: 1,
		MAAS:  []simplestreams.MAASSelection{{OS: "ubuntu", Release: cfg.Release, Arches: cfg.Arches}},
		Store: s, Signer: signer, Logger: cfg.Logger,
	}
	if err := syncAll(ctx, cfg.Out, s, archive, images); err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.Handle("/ubuntu/", http.StripPrefix("/ubuntu", apt.NewHandler(s, archive.Ref())))
	mux.Handle("/maas/", http.StripPrefix("/maas", simplestreams.NewHandler(s, images.Ref())))
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	srv := site.NewHTTPServer(mux, site.ServeOptions{}) // timeouts and connection caps, as airgap serve
	served := make(chan error, 1)
	go func() { served <- srv.Serve(site.Listen(ln, site.ServeOptions{})) }()
	defer srv.Close()

	base, err := externalURL(cfg.ExternalURL, ln.Addr())
	if err != nil {
		return err
	}
	if err := configureMAAS(ctx, cfg, signer, base); err != nil {
		return err
	}
	if cfg.Ready != nil {
		cfg.Ready(base)
	}
	select {
	case <-ctx.Done():
		return srv.Shutdown(context.WithoutCancel(ctx))
	case err := <-served:
		return err
	}
}

// syncAll syncs the mirrors one after the other, holding the store's writer lock.
func syncAll(ctx context.Context, out io.Writer, s store.Store, archive *apt.Mirror, images *simplestreams.Mirror) error {
	unlock, err := s.Lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	as, err := archive.Sync(ctx)
	if err != nil {
		return fmt.Errorf("apt mirror: %w", err)
	}
	is, err := images.Sync(ctx)
	if err != nil {
		return fmt.Errorf("image mirror: %w", err)
	}
	switch {
	case !as.Changed:
		fmt.Fprintln(out, "apt: upstream unchanged")
	default:
		fmt.Fprintf(out, "apt: %d packages, %d files (%d downloaded)\n", as.Packages, as.Files, as.Downloaded)
	}
	switch {
	case !is.Changed:
		fmt.Fprintln(out, "images: upstream unchanged")
	default:
		fmt.Fprintf(out, "images: %d products, %d items (%d downloaded)\n", is.Products, is.Items, is.Downloaded)
	}
	return nil
}

// configureMAAS points MAAS's boot source and main archive at the served mirrors.
func configureMAAS(ctx context.Context, cfg config, signer *pgp.Signer, base string) error {
	keyring, err := signer.PublicKey(false) // binary: what MAAS hands to gpgv
	if err != nil {
		return err
	}
	armored, err := signer.PublicKey(true) // armored: what apt's signed-by takes
	if err != nil {
		return err
	}
	client, err := maasclient.New(cfg.MAASURL, cfg.APIKey, maasclient.Options{Logger: cfg.Logger})
	if err != nil {
		return err
	}
	// The archive holds exactly the suites and components it was told to mirror.
	suites := map[string][]string{}
	for _, s := range cfg.Suites {
		suites[s] = cfg.Components
	}
	res, err := client.ConfigureAirgap(ctx, maasclient.AirgapConfig{
		ImageURL: base + "/maas/", ImageKeyring: keyring,
		Selections: []maasclient.Selection{{OS: "ubuntu", Release: cfg.Release, Arches: cfg.Arches}},
		Archive:    &maasclient.AptArchive{URL: base + "/ubuntu/", Suites: suites}, ArchiveKey: string(armored),
		PollInterval: cfg.Poll,
	})
	if err != nil {
		return fmt.Errorf("MAAS: %w", err)
	}
	fmt.Fprintf(cfg.Out, "MAAS boot source %s: %d boot resources imported\n", res.BootSource.URL, len(res.Resources))
	for _, r := range res.Repositories {
		fmt.Fprintf(cfg.Out, "MAAS %s: %s without pockets %v and components %v\n", r.Name, r.URL, r.DisabledPockets, r.DisabledComponents)
	}
	return nil
}

// externalURL is the base URL given, or one made of this host's name and the port.
func externalURL(given string, addr net.Addr) (string, error) {
	if given != "" {
		return strings.TrimSuffix(given, "/"), nil
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if host, err = os.Hostname(); err != nil {
			return "", errors.New("-external-url is required: no host name to tell MAAS")
		}
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
