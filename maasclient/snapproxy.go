package maasclient

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ConfigBootImagesNoProxy makes MAAS fetch boot images from its boot sources directly,
// not through http_proxy.
const ConfigBootImagesNoProxy = "boot_images_no_proxy"

// SnapProxy says how the machines MAAS commissions and deploys reach snaps in an air
// gap: through an airgap mirror's Snap Store API, in one of two ways.
//
// Way 2, ProxyURL: the mirror is the machines' HTTP(S) proxy and answers CONNECT to
// api.snapcraft.io with a certificate of the local CA. MAAS has this setting: with
// enable_http_proxy and http_proxy set (use_peer_proxy off), the cloud-init it gives a
// machine runs `snap set system proxy.http=... proxy.https=...` (and points apt's proxy
// there too; the mirror answers proxy requests for the hosts it mirrors and refuses the
// others). MAAS has no setting for the CA, which the machines' snapd must trust: UserData
// carries it.
//
// Way 1, StoreID: the mirror is a proxy store registered with Canonical, whose store
// assertion devices ack before `snap set system proxy.store=ID`. MAAS has no setting for
// either: UserData carries them.
//
// The region and rack controllers' own snapd (the maas snap) is not configured through
// the MAAS API either: RegionCommands are run on each of them.
type SnapProxy struct {
	// ProxyURL is the mirror as HTTP(S) proxy, e.g. http://mirror.internal:8080/.
	ProxyURL string
	// CACert is the PEM of the CA that signs the mirror's tunnels (way 2).
	CACert []byte
	// StoreID is the id of the registered proxy store (way 1).
	StoreID string
	// StoreAssertion is the store assertion with its chain, as `snap ack` takes it (the
	// mirror serves it at <store url>/v2/auth/store/assertions).
	StoreAssertion []byte
}

// SnapProxyResult is what ConfigureSnapProxy set, and what is left to do where the MAAS
// API does not reach.
type SnapProxyResult struct {
	// Config are the MAAS settings set, in order.
	Config [][2]string
	// UserData is cloud-init user-data that completes a deployed machine's snapd (the CA,
	// or the store assertion and proxy.store): pass it at deploy, e.g.
	// `maas $PROFILE machine deploy $ID user_data=$(base64 -w0 user-data)`.
	UserData []byte
	// RegionCommands configure the snapd of a region or rack controller (as root, in a
	// directory holding ca.pem for way 2 or store.assert for way 1).
	RegionCommands []string
}

// ConfigureSnapProxy sets what MAAS offers for p in one call: for way 2 its HTTP proxy
// (enable_http_proxy true, http_proxy, use_peer_proxy false, and boot_images_no_proxy
// true so that images still come from the boot source directly); for way 1 nothing,
// MAAS having no such setting. The result says what the API cannot do.
func (c *Client) ConfigureSnapProxy(ctx context.Context, p SnapProxy) (*SnapProxyResult, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	res := &SnapProxyResult{UserData: p.userData(), RegionCommands: p.commands(regionFile[p.StoreID != ""])}
	if p.ProxyURL != "" {
		for _, kv := range [][2]string{
			{ConfigEnableHTTPProxy, "true"}, {ConfigHTTPProxy, p.ProxyURL}, {ConfigUsePeerProxy, "false"}, {ConfigBootImagesNoProxy, "true"},
		} {
			if err := c.SetConfig(ctx, kv[0], kv[1]); err != nil {
				return res, fmt.Errorf("maas: snap proxy: %s: %w", kv[0], err)
			}
			res.Config = append(res.Config, kv)
		}
	}
	return res, nil
}

func (p SnapProxy) check() error {
	switch {
	case (p.ProxyURL == "") == (p.StoreID == ""):
		return errors.New("maas: snap proxy: give ProxyURL (the mirror as HTTPS proxy) or StoreID (a registered proxy store), one of them")
	case p.ProxyURL != "" && len(p.CACert) == 0:
		return errors.New("maas: snap proxy: CACert is required with ProxyURL: snapd must trust the CA of the mirror's tunnels")
	case p.StoreID != "" && len(p.StoreAssertion) == 0:
		return errors.New("maas: snap proxy: StoreAssertion is required with StoreID: snapd accepts proxy.store only for an acked store assertion")
	case strings.ContainsAny(p.StoreID, " \t\n'\"$`\\;&|"):
		return fmt.Errorf("maas: snap proxy: store id %q", p.StoreID)
	}
	if p.ProxyURL != "" {
		u, err := url.Parse(p.ProxyURL)
		if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || strings.ContainsAny(p.ProxyURL, " \t\n'\"$`\\") {
			return fmt.Errorf("maas: snap proxy: ProxyURL %q is not an http(s) URL", p.ProxyURL)
		}
	}
	return nil
}

// regionFile names the file RegionCommands read, in the directory they run in: the CA
// (way 2) or the store assertion (way 1) as the operator has it.
var regionFile = map[bool]string{false: "ca.pem", true: "store.assert"}

// File paths the user-data writes on a machine.
const (
	snapCAFile    = "/usr/local/share/airgap/snap-store-ca.pem"
	snapStoreFile = "/usr/local/share/airgap/snap-store.assert"
)

// commands are what a device runs (as root), file being where it holds the CA (way 2)
// or the store assertion (way 1).
func (p SnapProxy) commands(file string) []string {
	if p.StoreID != "" {
		return []string{"snap ack " + file, "snap set system proxy.store=" + p.StoreID}
	}
	return []string{
		`snap set system store-certs.airgap="$(cat ` + file + `)"`,
		"snap set system proxy.http=" + p.ProxyURL + " proxy.https=" + p.ProxyURL,
	}
}

// file is where the device keeps what the commands read, and its content.
func (p SnapProxy) file() (string, []byte) {
	if p.StoreID != "" {
		return snapStoreFile, p.StoreAssertion
	}
	return snapCAFile, p.CACert
}

// userData is cloud-init user-data: the file the commands need, then the commands (the
// proxy settings are MAAS's own for way 2, and harmless to repeat).
func (p SnapProxy) userData() []byte {
	path, content := p.file()
	var b strings.Builder
	b.WriteString("#cloud-config\nwrite_files:\n  - path: " + path + "\n    permissions: '0644'\n    content: |\n")
	for _, line := range strings.Split(strings.TrimRight(string(content), "\n"), "\n") {
		b.WriteString("      " + line + "\n")
	}
	b.WriteString("snap:\n  commands:\n")
	for _, c := range p.commands(path) {
		b.WriteString("    - " + yamlQuote(c) + "\n")
	}
	return []byte(b.String())
}

// yamlQuote writes s as a single-quoted YAML scalar.
func yamlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
