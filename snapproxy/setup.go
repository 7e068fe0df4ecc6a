package snapproxy

import "strings"

// DeviceSetup is how a device's unmodified snapd is pointed at a mirror's store API,
// one of two ways:
//
//  1. A registered proxy store: the device acks the Canonical-signed store assertion
//     whose url is the mirror (served at StoreURL/v2/auth/store/assertions), then
//     `snap set system proxy.store=ID`. Only Canonical signs store assertions: the
//     operator registers the proxy store with Canonical on the connected side and
//     configures the file as Mirror.StoreAssertion.
//  2. No registration: the mirror is the device's HTTPS proxy and answers CONNECT to
//     api.snapcraft.io with a certificate of the local CA, which the device trusts with
//     `snap set system store-certs.<name>`.
type DeviceSetup struct {
	// StoreURL is the store API's URL, e.g. http://mirror.internal:8080/snaps/maas.
	StoreURL string
	// StoreID is the id of the mirror's store assertion ("" : no way 1).
	StoreID string
	// ProxyURL is the mirror as HTTPS proxy, e.g. http://mirror.internal:8080 ("" : no
	// way 2).
	ProxyURL string
	// CAFile is the CA's PEM file as the device has it (default ca.pem).
	CAFile string
}

// Commands returns the commands of each way that the setup offers (as root on the
// device); nil for a way it does not.
func (d DeviceSetup) Commands() (registered, proxy []string) {
	if d.StoreID != "" && d.StoreURL != "" {
		registered = []string{
			"curl -sSf " + strings.TrimRight(d.StoreURL, "/") + "/v2/auth/store/assertions | snap ack /dev/stdin",
			"snap set system proxy.store=" + d.StoreID,
		}
	}
	if d.ProxyURL != "" {
		ca := d.CAFile
		if ca == "" {
			ca = "ca.pem"
		}
		proxy = []string{
			`snap set system store-certs.airgap="$(cat ` + ca + `)"`,
			"snap set system proxy.https=" + d.ProxyURL,
		}
	}
	return registered, proxy
}
