package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/airgapkit/airgap/maasclient"
	"github.com/airgapkit/airgap/site"
	"github.com/airgapkit/airgap/snapproxy"
	"github.com/airgapkit/airgap/store"
)

// maasSnapProxyCmd points the machines MAAS deploys (and prints what points its own
// controllers) at a snaps mirror's store API.
func (a *app) maasSnapProxyCmd() *cobra.Command {
	var (
		conn       maasFlags
		userData   string
		registered bool
	)
	cmd := &cobra.Command{
		Use:   "snap-proxy [SNAPS-MIRROR]",
		Short: "Point the machines MAAS deploys at a snaps mirror's store API",
		Long: "Through the mirror as HTTPS proxy (the mirror has connect:): sets MAAS's http_proxy to\n" +
			"external_url's host (enable_http_proxy, use_peer_proxy off, boot images still direct).\n" +
			"With --registered (the mirror holds a store assertion): the proxy store way, which MAAS\n" +
			"has no setting for. Either way the MAAS API cannot give snapd the CA or the store\n" +
			"assertion: the cloud-init user data that does is written to --user-data (pass it at\n" +
			"deploy), and the commands for the region and rack controllers' own snapd are printed.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, s, err := a.open(ctx)
			if err != nil {
				return err
			}
			m, err := pickSnapsMirror(cfg, args)
			if err != nil {
				return err
			}
			if cfg.ExternalURL == "" {
				return fmt.Errorf("external_url is required: the URL the machines reach the mirror at")
			}
			d, err := m.DeviceSetup(ctx, s, cfg.Env(s, nil, a.log), cfg.ExternalURL)
			if err != nil {
				return err
			}
			var p maasclient.SnapProxy
			switch {
			case registered && d.StoreID == "":
				return fmt.Errorf("%s: --registered: the published mirror holds no store assertion (store_assertion: in the config, then sync)", site.Ref(m))
			case registered:
				p = maasclient.SnapProxy{StoreID: d.StoreID}
				if p.StoreAssertion, err = readPublished(cmd, s, site.Ref(m), snapproxy.StoreFile); err != nil {
					return err
				}
			case d.ProxyURL == "":
				return fmt.Errorf("%s: no connect: in the config, so the mirror is no HTTPS proxy for snapd (or use --registered)", site.Ref(m))
			default:
				p = maasclient.SnapProxy{ProxyURL: d.ProxyURL}
				if p.CACert, err = os.ReadFile(cfg.Path(m.Connect.CACert)); err != nil {
					return err
				}
			}
			client, err := conn.client(a.log)
			if err != nil {
				return err
			}
			res, err := client.ConfigureSnapProxy(ctx, p)
			if err != nil {
				return err
			}
			if err := os.WriteFile(userData, res.UserData, 0o644); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			for _, kv := range res.Config {
				fmt.Fprintf(w, "maas config %s=%s\n", kv[0], kv[1])
			}
			fmt.Fprintf(w, "user data for deployed machines: %s\n", userData)
			fmt.Fprintln(w, "on each region and rack controller (as root):")
			for _, c := range res.RegionCommands {
				fmt.Fprintln(w, "  "+c)
			}
			return nil
		},
	}
	f := cmd.Flags()
	conn.add(f, "")
	f.BoolVar(&registered, "registered", false, "the registered proxy store way (the mirror's store assertion)")
	f.StringVar(&userData, "user-data", "snap-proxy.user-data", "where to write the cloud-init user data for deployed machines")
	return cmd
}

// pickSnapsMirror is the snaps mirror named (or the only one).
func pickSnapsMirror(cfg *site.Config, args []string) (*site.SnapsMirror, error) {
	ms := cfg.Mirrors.Snaps
	if len(args) == 0 {
		if len(ms) != 1 {
			return nil, fmt.Errorf("the config has %d snaps mirrors: name one", len(ms))
		}
		return ms[0], nil
	}
	for _, m := range ms {
		if args[0] == m.Name() || args[0] == site.Ref(m) {
			return m, nil
		}
	}
	return nil, fmt.Errorf("no snaps mirror %q in the config", args[0])
}

// readPublished reads one file of the tree published under ref.
func readPublished(cmd *cobra.Command, s store.Store, ref, name string) ([]byte, error) {
	snap, _, err := store.OpenPublished(cmd.Context(), s, ref)
	if err != nil {
		return nil, fmt.Errorf("%s: not published yet (airgap sync first): %w", ref, err)
	}
	f, ok := snap.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("%s: no %s in the published tree", ref, name)
	}
	return store.ReadBlob(cmd.Context(), s, f.Digest, 1<<20)
}
