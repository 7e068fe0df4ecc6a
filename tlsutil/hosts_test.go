package tlsutil

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A HostIssuer answers each SNI name with a leaf for it that a client trusting only the
// CA accepts; leaves are cached, and issued again past two thirds of their life.
func TestHostIssuer(t *testing.T) {
	root, err := NewCA(CAOptions{KeyType: ECDSAP256, Now: clock})
	require.NoError(t, err)
	now := fixedNow
	h := &HostIssuer{CA: root, KeyType: ECDSAP256, Validity: 30 * 24 * time.Hour, Now: func() time.Time { return now }}

	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: h.GetCertificate})
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	pool := x509.NewCertPool()
	pool.AddCert(root.Cert)
	dial := func(name string) (*x509.Certificate, error) {
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{ServerName: name, RootCAs: pool, Time: func() time.Time { return now }})
		if err != nil {
			return nil, err
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0], nil
	}
	for _, name := range []string{"api.snapcraft.io", "canonical-lgw01.cdn.snapcraftcontent.com"} {
		leaf, err := dial(name)
		require.NoError(t, err, name)
		assert.Equal(t, []string{name}, leaf.DNSNames)
	}

	a, err := h.Certificate("API.snapcraft.io.")
	require.NoError(t, err)
	b, err := h.Certificate("api.snapcraft.io")
	require.NoError(t, err)
	assert.Same(t, a, b, "cached, case and trailing dot aside")
	now = now.Add(19 * 24 * time.Hour)
	c, err := h.Certificate("api.snapcraft.io")
	require.NoError(t, err)
	assert.Same(t, a, c, "a third of its life is still left")
	now = now.Add(2 * 24 * time.Hour)
	c, err = h.Certificate("api.snapcraft.io")
	require.NoError(t, err)
	assert.NotSame(t, a, c, "renewed")

	ip, err := h.Certificate("10.0.0.5")
	require.NoError(t, err)
	assert.True(t, ip.Leaf.IPAddresses[0].Equal(net.ParseIP("10.0.0.5")))
	_, err = h.Certificate("")
	require.ErrorIs(t, err, ErrInvalidOption)
	_, err = h.GetCertificate(&tls.ClientHelloInfo{})
	require.ErrorIs(t, err, ErrInvalidOption, "no SNI")

	small := &HostIssuer{CA: root, KeyType: ECDSAP256, CacheSize: 2, Now: clock}
	for _, n := range []string{"a.example", "b.example", "c.example"} {
		_, err := small.Certificate(n)
		require.NoError(t, err)
	}
	assert.LessOrEqual(t, len(small.cache), 2)
}
