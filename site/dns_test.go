package site

import (
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
)

func TestWriteDNS(t *testing.T) {
	_, cfg := transparentSite(t)
	addrs := []net.IP{net.ParseIP("10.0.0.5"), net.ParseIP("fd00::5")}
	want := map[string][]string{
		"dnsmasq": {"address=/deb.debian.org/10.0.0.5", "address=/images.maas.io/fd00::5"},
		"unbound": {`local-zone: "deb.debian.org." redirect`, `local-data: "images.maas.io. AAAA fd00::5"`, `local-data: "deb.debian.org. A 10.0.0.5"`},
		"bind":    {"deb.debian.org\tIN\tA\t10.0.0.5", "images.maas.io\tIN\tAAAA\tfd00::5"},
		"hosts":   {"10.0.0.5\tdeb.debian.org images.maas.io", "fd00::5\tdeb.debian.org images.maas.io"},
	}
	for _, format := range DNSFormats {
		var b strings.Builder
		require.NoError(t, cfg.WriteDNS(&b, format, addrs))
		for _, line := range want[format] {
			assert.Contains(t, b.String(), line+"\n", format)
		}
	}
	assert.ErrorIs(t, cfg.WriteDNS(&strings.Builder{}, "powerdns", addrs), store.ErrConfig)
	assert.ErrorIs(t, cfg.WriteDNS(&strings.Builder{}, "dnsmasq", nil), store.ErrConfig)

	var b strings.Builder
	cfg.WriteProxyConfig(&b, "http://10.0.0.5:8080")
	assert.Contains(t, b.String(), `Acquire::http::Proxy::deb.debian.org "http://10.0.0.5:8080/";`)
	assert.Contains(t, b.String(), `Acquire::http::Proxy::images.maas.io "http://10.0.0.5:8080/";`)
	assert.Contains(t, b.String(), "export http_proxy=http://10.0.0.5:8080/")
}
