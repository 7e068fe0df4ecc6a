package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/airgapkit/airgap/site"
	"github.com/airgapkit/airgap/store"
)

func (a *app) gcCmd() *cobra.Command {
	var dryRun bool
	var keep int
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Delete blobs that no kept snapshot references",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withWriter(cmd.Context(), func(cfg *site.Config, s store.Store) error {
				if !cmd.Flags().Changed("keep") {
					keep = cfg.Keep
				}
				st, err := store.GC(cmd.Context(), s, store.GCOptions{Keep: keep, DryRun: dryRun, PartialsOlderThan: 7 * 24 * time.Hour})
				if err != nil {
					return err
				}
				verb := "removed"
				if dryRun {
					verb = "would remove"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "kept %d blobs (%s), %s %d blobs (%s), %d stale partial uploads\n",
					st.Kept, site.HumanBytes(st.KeptBytes), verb, st.Removed, site.HumanBytes(st.RemovedBytes), st.Partials)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only count what would be removed")
	cmd.Flags().IntVar(&keep, "keep", 0, "generations to keep per mirror (default: the config's keep; 0 = all)")
	return cmd
}

func (a *app) verifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Re-hash every blob in the store and report any that no longer match their name",
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, s, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			n, bad, err := site.Verify(cmd.Context(), s, func(d store.Digest, err error) {
				fmt.Fprintf(cmd.OutOrStdout(), "CORRUPT %s: %v\n", d, err)
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d blobs checked, %d corrupt\n", n, bad)
			if bad > 0 {
				return fmt.Errorf("%d corrupt blobs", bad)
			}
			return nil
		},
	}
}

func (a *app) statusCmd() *cobra.Command {
	var asJSON bool
	var base string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each mirror's published snapshot: when, how many files, how large, what to act on",
		Long: "--json prints what serve's /status.json serves (site.StatusReport), offline from the\n" +
			"store, with client snippets for the mirror at --url (default: external_url, else\n" +
			"http://<listen>, an unspecified listen address replaced by this host's name).",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, s, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			if !asJSON {
				st, err := cfg.Status(cmd.Context(), s, time.Now())
				if err != nil {
					return err
				}
				printStatus(cmd.OutOrStdout(), st)
				return nil
			}
			if base == "" {
				base = listenURL(cfg.Listen)
			}
			rep, err := cfg.Report(cmd.Context(), s, site.ReportOptions{URL: base})
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status report as JSON (the fields of /status.json)")
	cmd.Flags().StringVar(&base, "url", "", "the mirror's URL as clients reach it, for the snippets")
	return cmd
}

// listenURL is the URL serve answers at when listening on addr (host:port, validated by
// the config).
func listenURL(addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host, _ = os.Hostname()
	}
	return "http://" + net.JoinHostPort(host, port)
}

func printStatus(w io.Writer, list []site.MirrorStatus) {
	fmt.Fprintf(w, "%-28s %-20s %8s %10s %s\n", "MIRROR", "PUBLISHED", "FILES", "SIZE", "GENERATIONS")
	for _, st := range list {
		note := ""
		if !st.Configured {
			note = " (not in config)"
		}
		if st.Published.IsZero() {
			fmt.Fprintf(w, "%-28s %-20s%s\n", st.Ref, "never synced", note)
		} else {
			fmt.Fprintf(w, "%-28s %-20s %8d %10s %d%s\n", st.Ref, st.Published.Format("2006-01-02 15:04:05"), st.Files, site.HumanBytes(st.Bytes), st.Generations, note)
		}
		for _, repo := range st.Repositories {
			fmt.Fprintf(w, "  /v2/%s\n", repo)
		}
		for _, warn := range st.Warnings {
			fmt.Fprintf(w, "  WARNING: %s\n", warn)
		}
	}
}
