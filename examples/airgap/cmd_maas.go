package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/airgapkit/airgap/apt"
	"github.com/airgapkit/airgap/maasclient"
	"github.com/airgapkit/airgap/site"
)

func (a *app) maasCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "maas", Short: "Point MAAS at the mirror"}
	var (
		conn                            maasFlags
		imagesURL, archiveURL, portsURL string
		archiveName, portsName          string
		osName, release                 string
		arches, subarches, labels       []string
		noImport                        bool
		poll                            time.Duration
	)
	configure := &cobra.Command{
		Use:   "configure --maas-url http://maas:5240/MAAS --api-key KEY",
		Short: "Set MAAS's boot source, selections and package archives to the mirror, then import",
		Long: "Points the (single) boot source at the image mirror with the operator's binary keyring,\n" +
			"makes the selections exactly the ones given (importing once first when MAAS does not\n" +
			"know the mirror's images yet), points main_archive (and ports_archive) at the apt\n" +
			"mirrors with the operator's key and only the pockets and components they hold, starts\n" +
			"the image import and waits until it is done, then makes the selected release MAAS's\n" +
			"commissioning and default release. Defaults come from the config: external_url plus\n" +
			"the first simplestreams and apt mirrors, and signing_key's public key; what an apt\n" +
			"mirror holds is read from its published tree in the store. The API key may come from\n" +
			"$MAAS_API_KEY.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := a.config()
			if err != nil {
				return err
			}
			signer, err := cfg.LoadSigner()
			if err != nil {
				return err
			}
			if signer == nil {
				return fmt.Errorf("signing_key is required: MAAS must trust the key the mirror is signed with")
			}
			base := strings.TrimSuffix(cfg.ExternalURL, "/")
			if imagesURL == "" && base != "" && len(cfg.Mirrors.Simplestreams) > 0 {
				imagesURL = base + "/" + site.Ref(cfg.Mirrors.Simplestreams[0]) + "/"
			}
			if imagesURL == "" {
				return fmt.Errorf("--images-url is required (or external_url and a simplestreams mirror in the config)")
			}
			if archiveName == "" && len(cfg.Mirrors.Apt) > 0 {
				archiveName = cfg.Mirrors.Apt[0].Name()
			}
			// Both targets are checked before either mirror is read.
			var targets [2]aptTarget // main_archive, ports_archive
			for i, t := range [][3]string{{"--archive", archiveName, archiveURL}, {"--ports", portsName, portsURL}} {
				if targets[i], err = resolveAptTarget(cfg, t[0], t[1], t[2]); err != nil {
					return err
				}
			}
			var archives [2]*maasclient.AptArchive
			for i, t := range targets {
				if archives[i], err = t.archive(ctx, cfg); err != nil {
					return err
				}
			}
			archive, ports := archives[0], archives[1]
			keyring, err := signer.PublicKey(false)
			if err != nil {
				return err
			}
			armored, err := signer.PublicKey(true)
			if err != nil {
				return err
			}
			client, err := conn.client(a.log)
			if err != nil {
				return err
			}
			ac := maasclient.AirgapConfig{
				ImageURL: imagesURL, ImageKeyring: keyring,
				Selections: []maasclient.Selection{{OS: osName, Release: release, Arches: arches, Subarches: subarches, Labels: labels}},
				Archive:    archive, Ports: ports,
				SkipImport: noImport, PollInterval: poll,
			}
			if archive != nil || ports != nil {
				ac.ArchiveKey = string(armored)
			}
			res, err := client.ConfigureAirgap(ctx, ac)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "boot source %d: %s\n", res.BootSource.ID, res.BootSource.URL)
			for _, s := range res.Selections {
				fmt.Fprintf(w, "selection: %s/%s %v\n", s.OS, s.Release, s.Arches)
			}
			for _, r := range res.Repositories {
				fmt.Fprintf(w, "package repository %s: %s (disabled pockets %v, components %v)\n", r.Name, r.URL, r.DisabledPockets, r.DisabledComponents)
			}
			if !noImport {
				fmt.Fprintf(w, "import done: %d boot resources\n", len(res.Resources))
			}
			return nil
		},
	}
	f := configure.Flags()
	conn.add(f, "")
	f.StringVar(&imagesURL, "images-url", "", "simplestreams mirror root MAAS reads")
	f.StringVar(&archiveName, "archive", "", "apt mirror (name in the config) for main_archive (default the first)")
	f.StringVar(&archiveURL, "archive-url", "", "URL MAAS reaches that mirror at (default external_url/apt/NAME/)")
	f.StringVar(&portsName, "ports", "", "apt mirror (name in the config) for ports_archive (default none)")
	f.StringVar(&portsURL, "ports-url", "", "URL MAAS reaches that mirror at (default external_url/apt/NAME/)")
	f.StringVar(&osName, "os", "ubuntu", "selection: os")
	f.StringVar(&release, "release", "noble", "selection: release")
	f.StringSliceVar(&arches, "arch", []string{"amd64"}, "selection: architectures")
	f.StringSliceVar(&subarches, "subarch", []string{"*"}, "selection: subarchitectures (kernels)")
	f.StringSliceVar(&labels, "label", []string{"*"}, "selection: labels")
	f.BoolVar(&noImport, "no-import", false, "configure only; do not start and wait for the import")
	f.DurationVar(&poll, "poll", 10*time.Second, "how often to ask whether the import is done")
	cmd.AddCommand(configure, a.maasYumReposCmd(), a.maasSnapProxyCmd())
	return cmd
}

// aptTarget is a configured apt mirror as MAAS is to use it; the zero value is none.
type aptTarget struct{ ref, url string }

// resolveAptTarget finds the apt mirror name of the config and the URL MAAS reaches it
// at (default external_url/apt/name/).
func resolveAptTarget(cfg *site.Config, flag, name, url string) (aptTarget, error) {
	if name == "" {
		if url != "" {
			return aptTarget{}, fmt.Errorf("%s-url needs an apt mirror in the config (%s NAME): MAAS must be told which suites it holds", flag, flag)
		}
		return aptTarget{}, nil
	}
	i := slices.IndexFunc(cfg.Mirrors.Apt, func(m *site.AptMirror) bool { return m.Name() == name })
	if i < 0 {
		return aptTarget{}, fmt.Errorf("%s %s: no apt mirror of that name in the config", flag, name)
	}
	t := aptTarget{ref: site.Ref(cfg.Mirrors.Apt[i]), url: url}
	if t.url == "" {
		if cfg.ExternalURL == "" {
			return aptTarget{}, fmt.Errorf("%s-url is required (or external_url in the config)", flag)
		}
		t.url = strings.TrimSuffix(cfg.ExternalURL, "/") + "/" + t.ref + "/"
	}
	return t, nil
}

// archive reads what the mirror's published tree holds; none: nil.
func (t aptTarget) archive(ctx context.Context, cfg *site.Config) (*maasclient.AptArchive, error) {
	if t.ref == "" {
		return nil, nil
	}
	s, err := cfg.OpenStore(ctx)
	if err != nil {
		return nil, err
	}
	held, err := apt.Suites(ctx, s, t.ref)
	if err != nil {
		return nil, fmt.Errorf("%s: not published yet (airgap sync first): %w", t.ref, err)
	}
	suites := map[string][]string{}
	for _, ps := range held {
		suites[ps.Name] = ps.Components
	}
	return &maasclient.AptArchive{URL: t.url, Suites: suites}, nil
}

// maasFlags are how a command reaches MAAS: --maas-url, --api-key (default
// $MAAS_API_KEY), --ca, --insecure.
type maasFlags struct {
	url, apiKey, caFile string
	insecure            bool
}

func (m *maasFlags) add(f *pflag.FlagSet, when string) {
	f.StringVar(&m.url, "maas-url", "http://localhost:5240/MAAS", when+"MAAS URL (with or without /api/2.0/)")
	f.StringVar(&m.apiKey, "api-key", "", when+"MAAS API key consumer:token:secret (default $MAAS_API_KEY)")
	f.StringVar(&m.caFile, "ca", "", when+"PEM CA bundle that signs MAAS's TLS certificate")
	f.BoolVar(&m.insecure, "insecure", false, when+"do not verify MAAS's TLS certificate")
}

func (m *maasFlags) client(log *slog.Logger) (*maasclient.Client, error) {
	key := m.apiKey
	if key == "" {
		key = os.Getenv("MAAS_API_KEY")
	}
	opts := maasclient.Options{InsecureSkipVerify: m.insecure, Logger: log}
	if m.caFile != "" {
		var err error
		if opts.CACertPEM, err = os.ReadFile(m.caFile); err != nil {
			return nil, err
		}
	}
	return maasclient.New(m.url, key, opts)
}
