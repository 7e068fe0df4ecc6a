package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/fetch/getter"
)

func (a *app) syncCmd() *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "sync [MIRROR...]",
		Short: "Fetch, verify and publish the configured mirrors (all by default)",
		Long: "Each mirror publishes atomically: a mirror whose sync fails keeps what it published\n" +
			"before, and the others still publish. Exits non-zero if any mirror failed.\n" +
			"--dry-run lists every upstream URL and host a sync would contact, and contacts none.",
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(a.configPath)
			if err != nil {
				return err
			}
			ms, err := cfg.Mirrors.selectMirrors(args)
			if err != nil {
				return err
			}
			if dryRun {
				printEndpoints(cmd.OutOrStdout(), ms)
				return nil
			}
			return a.withWriter(cmd.Context(), func(cfg *Config, s store.Store) error {
				signer, err := loadSigner(cfg)
				if err != nil {
					return err
				}
				return syncAll(cmd.Context(), a.runtime(cfg, s, signer), ms, newProgress(cmd.ErrOrStderr()))
			})
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list the upstream URLs and hosts that would be contacted")
	return cmd
}

// syncAll syncs each mirror with its own fetch client (so progress is per mirror) and
// reports every failure at the end.
func syncAll(ctx context.Context, base *runtime, ms []mirror, p *progress) error {
	var failed []string
	for _, m := range ms {
		if ctx.Err() != nil {
			failed = append(failed, ref(m))
			continue
		}
		t := p.track(ref(m))
		rt := *base
		rt.fetch = &fetch.Client{Store: base.store, Getter: getter.New(), Progress: t.event, Logger: base.log}
		summary, err := m.Sync(ctx, &rt)
		t.finish(summary, err)
		if err != nil {
			failed = append(failed, ref(m))
		}
	}
	p.wait()
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d mirrors failed: %s", len(failed), len(ms), strings.Join(failed, ", "))
	}
	return nil
}

// printEndpoints lists each mirror's upstream URLs, then the distinct hosts (for firewall
// rules).
func printEndpoints(w io.Writer, ms []mirror) {
	hosts := map[string]bool{}
	for _, m := range ms {
		fmt.Fprintf(w, "%s:\n", ref(m))
		for _, e := range m.Endpoints() {
			fmt.Fprintf(w, "  %s\n", e)
			raw := e
			if i := strings.Index(raw, "::"); i >= 0 {
				raw = raw[i+2:]
			}
			if u, err := url.Parse(raw); err == nil && u.Host != "" {
				port := u.Port()
				if port == "" {
					port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
				}
				hosts[u.Hostname()+":"+port] = true
			}
		}
	}
	list := make([]string, 0, len(hosts))
	for h := range hosts {
		list = append(list, h)
	}
	sort.Strings(list)
	fmt.Fprintln(w, "hosts:")
	for _, h := range list {
		fmt.Fprintf(w, "  %s\n", h)
	}
}
