package main

import (
	"github.com/spf13/cobra"

	"github.com/airgapkit/airgap/site"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

func (a *app) syncCmd() *cobra.Command {
	var dryRun, force bool
	var concurrency int
	cmd := &cobra.Command{
		Use:   "sync [MIRROR...]",
		Short: "Fetch, verify and publish the configured mirrors (all by default)",
		Long: "Each mirror publishes atomically: a mirror whose sync fails keeps what it published\n" +
			"before, and the others still publish. Exits non-zero if any mirror failed.\n" +
			"--dry-run lists every upstream URL and host a sync would contact, then reads the\n" +
			"upstreams' metadata only (indices, no packages) and prints per mirror and in total the\n" +
			"items and bytes to fetch, the bytes already held and the store's size after gc.\n" +
			"Before its downloads each mirror's sync checks the plan its metadata round made against\n" +
			"the store's free space (plus a margin of 5%, at least 1 GiB) and fails, having\n" +
			"published nothing, when it does not fit; --force skips the check (an S3 store is\n" +
			"not checked).",
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			ms, err := cfg.Mirrors.Select(args)
			if err != nil {
				return err
			}
			return a.withWriter(cmd.Context(), func(cfg *site.Config, s store.Store) error {
				signer, err := cfg.LoadSigner()
				if err != nil {
					return err
				}
				if dryRun {
					site.WriteEndpoints(cmd.OutOrStdout(), ms)
					r, err := cfg.Env(s, signer, a.log).PlanAll(cmd.Context(), ms)
					if err != nil {
						return err
					}
					site.WritePlan(cmd.OutOrStdout(), r)
					return nil
				}
				var disk *site.DiskCheck
				if !force {
					disk = site.NewDiskCheck(s, cfg.StoreLocation(), nil, a.log)
				}
				p := newProgress(cmd.ErrOrStderr())
				trackers := map[string]*tracker{}
				for _, m := range ms {
					trackers[site.Ref(m)] = p.track(site.Ref(m))
				}
				err = cfg.Env(s, signer, a.log).SyncAll(cmd.Context(), ms, site.SyncOptions{
					Concurrency: concurrency,
					Progress:    func(ref string) func(fetch.Event) { return trackers[ref].event },
					Done:        func(ref string, res site.Result, err error) { trackers[ref].finish(res.Summary, err) },
					Disk:        disk,
				})
				p.wait()
				return err
			})
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list the upstreams and what a sync would fetch, from metadata only")
	cmd.Flags().BoolVar(&force, "force", false, "sync even when the disk preflight finds too little free space")
	cmd.Flags().IntVar(&concurrency, "concurrency", 4, "mirrors synced at once")
	return cmd
}
