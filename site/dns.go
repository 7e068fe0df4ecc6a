package site

import (
	"fmt"
	"io"
	"net"
	"slices"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// DNSFormats are the resolvers WriteDNS writes records for.
var DNSFormats = []string{"dnsmasq", "unbound", "bind", "hosts"}

// HostNames lists the transparent host names (Config.Hosts), sorted.
func (c *Config) HostNames() []string {
	names := make([]string, 0, len(c.Hosts))
	for h := range c.Hosts {
		names = append(names, strings.ToLower(h))
	}
	slices.Sort(names)
	return names
}

// WriteDNS writes the records that point every transparent host name at the mirror's
// addresses, in a resolver's syntax (one of DNSFormats): clients then keep their stock
// URLs (deb http://archive.ubuntu.com/ubuntu, MAAS's http://images.maas.io/...).
func (c *Config) WriteDNS(w io.Writer, format string, addrs []net.IP) error {
	if len(addrs) == 0 {
		return fmt.Errorf("%w: no address to point the host names at", store.ErrConfig)
	}
	names := c.HostNames()
	switch format {
	case "dnsmasq":
		fmt.Fprintln(w, "# dnsmasq.conf (or a file in /etc/dnsmasq.d/)")
		for _, n := range names {
			for _, a := range addrs {
				fmt.Fprintf(w, "address=/%s/%s\n", n, a)
			}
		}
	case "unbound":
		fmt.Fprintln(w, "# unbound.conf, in the server: clause")
		for _, n := range names {
			fmt.Fprintf(w, "local-zone: %q redirect\n", n+".")
			for _, a := range addrs {
				fmt.Fprintf(w, "local-data: \"%s. %s %s\"\n", n, recordType(a), a)
			}
		}
	case "bind":
		fmt.Fprintln(w, "; a response-policy zone: options { response-policy { zone \"rpz.airgap\"; }; };")
		fmt.Fprintln(w, "; zone \"rpz.airgap\" { type master; file \"db.rpz.airgap\"; }; and in db.rpz.airgap:")
		for _, n := range names {
			for _, a := range addrs {
				fmt.Fprintf(w, "%s\tIN\t%s\t%s\n", n, recordType(a), a)
			}
		}
	case "hosts":
		fmt.Fprintln(w, "# /etc/hosts on each client")
		for _, a := range addrs {
			fmt.Fprintf(w, "%s\t%s\n", a, strings.Join(names, " "))
		}
	default:
		return fmt.Errorf("%w: DNS format %q: want one of %s", store.ErrConfig, format, strings.Join(DNSFormats, ", "))
	}
	return nil
}

func recordType(ip net.IP) string {
	if ip.To4() != nil {
		return "A"
	}
	return "AAAA"
}

// WriteProxyConfig writes the client-side alternative to DNS records: the mirror as an
// HTTP proxy for the transparent host names only (proxyURL, e.g. http://10.0.0.5:8080).
// apt takes a proxy per host, so other sources still go direct; tools that read
// http_proxy send every http request to the mirror, which refuses other hosts.
func (c *Config) WriteProxyConfig(w io.Writer, proxyURL string) {
	proxyURL = strings.TrimSuffix(proxyURL, "/") + "/"
	fmt.Fprintln(w, "# apt: /etc/apt/apt.conf.d/80airgap-proxy")
	for _, n := range c.HostNames() {
		fmt.Fprintf(w, "Acquire::http::Proxy::%s %q;\n", n, proxyURL)
	}
	fmt.Fprintln(w, "# other clients (sstream-mirror, curl, pip): the environment")
	fmt.Fprintf(w, "export http_proxy=%s\n", proxyURL)
}
