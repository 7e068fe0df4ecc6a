package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/airgapkit/airgap/site"
)

func (a *app) inventoryCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "inventory [MIRROR...]",
		Short: "Write a CycloneDX JSON SBOM of everything published",
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, s, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			ms, err := cfg.Mirrors.Select(args)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if out != "" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			return site.WriteInventory(cmd.Context(), w, s, ms)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write (default: stdout)")
	return cmd
}
