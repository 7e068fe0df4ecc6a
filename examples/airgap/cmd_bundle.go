package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/airgapkit/airgap/site"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/bundle"
)

func (a *app) exportCmd() *cobra.Command {
	var out, since, split string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "export --out FILE [--since PREVIOUS.manifest.json] [--split SIZE] [MIRROR...]",
		Short: "Write published mirrors to a signed bundle to carry across the gap",
		Long: "Writes FILE (or FILE.000, FILE.001, ... with --split) and FILE.manifest.json. Keep the\n" +
			"manifest: the next export with --since carries only what this one did not.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("--out is required")
			}
			volume, err := parseSize(split)
			if err != nil {
				return fmt.Errorf("--split: %w", err)
			}
			return a.withWriter(cmd.Context(), func(cfg *site.Config, s store.Store) error {
				signer, err := cfg.LoadSigner()
				if err != nil {
					return err
				}
				if signer == nil {
					return fmt.Errorf("signing_key is required to export: the inside trusts only signed bundles")
				}
				opt := bundle.ExportOptions{Signer: signer}
				if len(args) == 0 { // every mirror's ref; the outside's sync record stays outside
					refs, err := s.Refs(cmd.Context())
					if err != nil {
						return err
					}
					opt.Refs = slices.DeleteFunc(refs, func(r string) bool { return r == site.SyncRecordRef })
				} else {
					ms, err := cfg.Mirrors.Select(args)
					if err != nil {
						return err
					}
					for _, m := range ms {
						opt.Refs = append(opt.Refs, site.Ref(m))
					}
				}
				if since != "" {
					if opt.Since, opt.SinceDigest, err = bundle.ReadManifestFile(since); err != nil {
						return fmt.Errorf("--since: %w", err)
					}
				}
				if dryRun {
					n, m, err := bundle.Size(cmd.Context(), s, opt)
					if err != nil {
						return err
					}
					parts := int64(1)
					if volume > 0 {
						parts = max(1, (n+volume-1)/volume)
					}
					fmt.Fprintf(cmd.OutOrStdout(), "would export %d mirrors, %d blobs: %s (%d bytes) in %d part(s)\n",
						len(m.Refs), len(m.Blobs), site.HumanBytes(n), n, parts)
					return nil
				}
				vw := bundle.CreateVolumes(out, volume)
				m, raw, err := bundle.Export(cmd.Context(), s, vw, opt)
				if cerr := vw.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					for _, p := range vw.Paths() {
						os.Remove(p)
					}
					return err
				}
				if err := os.WriteFile(out+".manifest.json", raw, 0o644); err != nil {
					return err
				}
				var size int64
				for _, b := range m.Blobs {
					size += b.Size
				}
				fmt.Fprintf(cmd.OutOrStdout(), "exported %d mirrors, %d blobs (%s) to %s\n", len(m.Refs), len(m.Blobs), site.HumanBytes(size), strings.Join(vw.Paths(), " "))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "bundle file (prefix of the volumes with --split)")
	cmd.Flags().StringVar(&since, "since", "", "manifest of the previous bundle: carry only what it lacks")
	cmd.Flags().StringVar(&split, "split", "", "volume size, e.g. 4G, 700M (default: one file)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the bundle's size and number of parts, write nothing")
	return cmd
}

func (a *app) importCmd() *cobra.Command {
	var keyrings []string
	var insecure, allowRollback, force bool
	cmd := &cobra.Command{
		Use:   "import FILE...",
		Short: "Verify a bundle (all its volumes, in order) and publish its mirrors",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withWriter(cmd.Context(), func(cfg *site.Config, s store.Store) error {
				kr, err := cfg.ImportKeyring(keyrings...)
				if err != nil {
					return err
				}
				if !force {
					if err := site.ImportPreflight(cfg.StoreLocation(), args, nil, a.log); err != nil {
						return err
					}
				}
				r, err := bundle.OpenVolumes(args...)
				if err != nil {
					return err
				}
				defer r.Close()
				m, err := bundle.Import(cmd.Context(), s, r, bundle.ImportOptions{
					Keyring: kr, InsecureSkipSignature: insecure, AllowRollback: allowRollback, Logger: a.log,
				})
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "imported %d blobs; published:", len(m.Blobs))
				for name := range m.Refs {
					fmt.Fprintf(cmd.OutOrStdout(), " %s", name)
				}
				fmt.Fprintln(cmd.OutOrStdout())
				return nil
			})
		},
	}
	cmd.Flags().StringSliceVar(&keyrings, "keyring", nil, "operator public keys to trust (default: the config's trusted_keys, else signing_key's public key)")
	cmd.Flags().BoolVar(&insecure, "insecure-skip-signature", false, "import without a valid signature (logged)")
	cmd.Flags().BoolVar(&allowRollback, "allow-rollback", false, "let a bundle move a mirror back to an older generation")
	cmd.Flags().BoolVar(&force, "force", false, "import even when the disk preflight finds too little free space")
	return cmd
}

// parseSize reads sizes such as 700M, 4G, 4GiB, 1024 (bytes). Empty is 0.
func parseSize(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "B"), "I")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult, t = 1<<10, t[:n-1]
		case 'M':
			mult, t = 1<<20, t[:n-1]
		case 'G':
			mult, t = 1<<30, t[:n-1]
		case 'T':
			mult, t = 1<<40, t[:n-1]
		}
	}
	var v int64
	if _, err := fmt.Sscanf(t, "%d", &v); err != nil || v <= 0 || fmt.Sprint(v) != t {
		return 0, fmt.Errorf("%q is not a size such as 700M or 4G", s)
	}
	return v * mult, nil
}
