package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/airgapkit/airgap/maasclient"
)

func (a *app) maasCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "maas", Short: "Point MAAS at the mirror"}
	var (
		maasURL, apiKey, caFile         string
		imagesURL, archiveURL, portsURL string
		osName, release                 string
		arches, subarches, labels       []string
		insecure, noImport              bool
		poll                            time.Duration
	)
	configure := &cobra.Command{
		Use:   "configure --maas-url http://maas:5240/MAAS --api-key KEY",
		Short: "Set MAAS's boot source, selections and package archives to the mirror, then import",
		Long: "Points the (single) boot source at the image mirror with the operator's binary keyring,\n" +
			"makes the selections exactly the ones given, points main_archive (and ports_archive) at\n" +
			"the apt mirror with the operator's key, starts the image import and waits until it is\n" +
			"done. Defaults come from the config: external_url plus the first simplestreams and apt\n" +
			"mirrors, and signing_key's public key. The API key may come from $MAAS_API_KEY.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(a.configPath)
			if err != nil {
				return err
			}
			signer, err := loadSigner(cfg)
			if err != nil {
				return err
			}
			if signer == nil {
				return fmt.Errorf("signing_key is required: MAAS must trust the key the mirror is signed with")
			}
			if apiKey == "" {
				apiKey = os.Getenv("MAAS_API_KEY")
			}
			base := strings.TrimSuffix(cfg.ExternalURL, "/")
			if imagesURL == "" && base != "" && len(cfg.Mirrors.Simplestreams) > 0 {
				imagesURL = base + "/" + ref(cfg.Mirrors.Simplestreams[0]) + "/"
			}
			if archiveURL == "" && base != "" && len(cfg.Mirrors.Apt) > 0 {
				archiveURL = base + "/" + ref(cfg.Mirrors.Apt[0]) + "/"
			}
			if imagesURL == "" {
				return fmt.Errorf("--images-url is required (or external_url and a simplestreams mirror in the config)")
			}
			keyring, err := signer.PublicKey(false)
			if err != nil {
				return err
			}
			armored, err := signer.PublicKey(true)
			if err != nil {
				return err
			}
			opts := maasclient.Options{InsecureSkipVerify: insecure, Logger: a.log}
			if caFile != "" {
				if opts.CACertPEM, err = os.ReadFile(caFile); err != nil {
					return err
				}
			}
			client, err := maasclient.New(maasURL, apiKey, opts)
			if err != nil {
				return err
			}
			ac := maasclient.AirgapConfig{
				ImageURL: imagesURL, ImageKeyring: keyring,
				Selections: []maasclient.Selection{{OS: osName, Release: release, Arches: arches, Subarches: subarches, Labels: labels}},
				ArchiveURL: archiveURL, PortsURL: portsURL,
				SkipImport: noImport, PollInterval: poll,
			}
			if archiveURL != "" || portsURL != "" {
				ac.ArchiveKey = string(armored)
			}
			res, err := client.ConfigureAirgap(cmd.Context(), ac)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "boot source %d: %s\n", res.BootSource.ID, res.BootSource.URL)
			for _, s := range res.Selections {
				fmt.Fprintf(w, "selection: %s/%s %v\n", s.OS, s.Release, s.Arches)
			}
			for _, r := range res.Repositories {
				fmt.Fprintf(w, "package repository %s: %s\n", r.Name, r.URL)
			}
			if !noImport {
				fmt.Fprintf(w, "import finished: %d boot resources\n", len(res.Resources))
			}
			return nil
		},
	}
	f := configure.Flags()
	f.StringVar(&maasURL, "maas-url", "http://localhost:5240/MAAS", "MAAS URL (with or without /api/2.0/)")
	f.StringVar(&apiKey, "api-key", "", "MAAS API key consumer:token:secret (default $MAAS_API_KEY)")
	f.StringVar(&caFile, "ca", "", "PEM CA bundle that signs MAAS's TLS certificate")
	f.BoolVar(&insecure, "insecure", false, "do not verify MAAS's TLS certificate")
	f.StringVar(&imagesURL, "images-url", "", "simplestreams mirror root MAAS reads")
	f.StringVar(&archiveURL, "archive-url", "", "apt mirror for main_archive")
	f.StringVar(&portsURL, "ports-url", "", "apt mirror for ports_archive")
	f.StringVar(&osName, "os", "ubuntu", "selection: os")
	f.StringVar(&release, "release", "noble", "selection: release")
	f.StringSliceVar(&arches, "arch", []string{"amd64"}, "selection: architectures")
	f.StringSliceVar(&subarches, "subarch", []string{"*"}, "selection: subarchitectures")
	f.StringSliceVar(&labels, "label", []string{"*"}, "selection: labels")
	f.BoolVar(&noImport, "no-import", false, "configure only; do not start and wait for the import")
	f.DurationVar(&poll, "poll", 10*time.Second, "how often to ask whether the import is done")
	cmd.AddCommand(configure)
	return cmd
}
