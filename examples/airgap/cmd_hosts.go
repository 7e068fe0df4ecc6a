package main

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/airgapkit/airgap/site"
)

func (a *app) hostsCmd() *cobra.Command {
	var ips []string
	var format, proxy string
	cmd := &cobra.Command{
		Use:   "hosts [--ip ADDR...] [--format " + strings.Join(site.DNSFormats, "|") + "]",
		Short: "Print the DNS records that make the mirror transparent, and the proxy alternative",
		Long: "For every host name under hosts: in the config, the records to add to the inside's\n" +
			"resolver so that clients keep their stock URLs (archive.ubuntu.com, images.maas.io),\n" +
			"then the client-side alternative without DNS: apt's per-host proxy line and http_proxy.\n" +
			"The address defaults to external_url's host when that is an IP address.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			if len(cfg.Hosts) == 0 {
				return fmt.Errorf("no hosts: in the config: nothing is served transparently")
			}
			var addrs []net.IP
			for _, s := range ips {
				ip := net.ParseIP(s)
				if ip == nil {
					return fmt.Errorf("--ip %q is not an IP address", s)
				}
				addrs = append(addrs, ip)
			}
			if len(addrs) == 0 {
				if u, err := url.Parse(cfg.ExternalURL); err == nil {
					if ip := net.ParseIP(u.Hostname()); ip != nil {
						addrs = append(addrs, ip)
					}
				}
			}
			if len(addrs) == 0 {
				return fmt.Errorf("--ip is required (external_url does not name an IP address)")
			}
			w := cmd.OutOrStdout()
			if err := cfg.WriteDNS(w, format, addrs); err != nil {
				return err
			}
			if proxy == "" {
				_, port, err := net.SplitHostPort(cfg.Listen)
				if err != nil {
					return err
				}
				proxy = "http://" + net.JoinHostPort(addrs[0].String(), port)
			}
			fmt.Fprintln(w)
			fmt.Fprintln(w, "# or, without DNS: the mirror as the proxy for these hosts")
			cfg.WriteProxyConfig(w, proxy)
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&ips, "ip", nil, "the mirror's address(es) the names resolve to")
	cmd.Flags().StringVar(&format, "format", "dnsmasq", "resolver syntax: "+strings.Join(site.DNSFormats, ", "))
	cmd.Flags().StringVar(&proxy, "proxy", "", "the mirror's URL for the proxy lines (default http://IP:listen-port)")
	return cmd
}
