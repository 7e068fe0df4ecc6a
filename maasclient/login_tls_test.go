package maasclient

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/maasclient/maastest"
	"github.com/airgapkit/airgap/tlsutil"
)

// TestLogin: user name and password through MAAS's login form, which answers with the
// session and CSRF cookies; reads and writes work on the session, writes echo
// X-CSRFToken.
func TestLogin(t *testing.T) {
	ctx := context.Background()
	fake := maastest.New(t)
	c, err := Login(ctx, fake.URL, maastest.Username, maastest.Password, Options{})
	require.NoError(t, err)
	me, err := c.WhoAmI(ctx)
	require.NoError(t, err)
	assert.Equal(t, "admin", me.Username)
	require.NoError(t, c.SetConfig(ctx, ConfigUpstreamDNS, "10.9.9.9"))
	assert.Equal(t, "10.9.9.9", fake.Config("upstream_dns"))
	for _, r := range fake.Requests() {
		assert.True(t, r.Session, "%s %s authenticated by session", r.Method, r.Path)
	}
	assert.Empty(t, fake.Violations())

	_, err = Login(ctx, fake.URL, maastest.Username, "wrong", Options{})
	require.ErrorIs(t, err, ErrLoginFailed)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Contains(t, apiErr.Fields["__all__"][0], "Please enter a correct username and password")

	// A client's own *http.Client works, and gets a cookie jar for the session.
	own := &http.Client{}
	c, err = Login(ctx, fake.URL, maastest.Username, maastest.Password, Options{HTTPClient: own})
	require.NoError(t, err)
	_, err = c.Version(ctx)
	require.NoError(t, err)
	assert.Nil(t, own.Jar, "the caller's client is not modified")

	_, err = Login(ctx, "http://127.0.0.1:1/MAAS/", "a", "b", Options{})
	assert.Error(t, err)
}

// TestLoginOverTLS: over https Django also wants a Referer on session writes.
func TestLoginOverTLS(t *testing.T) {
	ctx := context.Background()
	ca, err := tlsutil.NewCA(tlsutil.CAOptions{KeyType: tlsutil.ECDSAP256})
	require.NoError(t, err)
	leaf, err := ca.Issue(tlsutil.LeafOptions{Hosts: []string{"127.0.0.1"}})
	require.NoError(t, err)
	fake := maastest.NewTLS(t, leaf.TLSCertificate())
	c, err := Login(ctx, fake.URL, maastest.Username, maastest.Password, Options{CACertPEM: ca.CertPEM()})
	require.NoError(t, err)
	require.NoError(t, c.SetConfig(ctx, ConfigUpstreamDNS, "10.9.9.9"))
	assert.Equal(t, "10.9.9.9", fake.Config("upstream_dns"))
	assert.Empty(t, fake.Violations())
}

// TestTLSWithLocalCA: MAAS over https with a certificate from a local CA: trusted with
// CACertPEM, refused without it, accepted with the explicit InsecureSkipVerify.
func TestTLSWithLocalCA(t *testing.T) {
	ctx := context.Background()
	ca, err := tlsutil.NewCA(tlsutil.CAOptions{KeyType: tlsutil.ECDSAP256})
	require.NoError(t, err)
	leaf, err := ca.Issue(tlsutil.LeafOptions{Hosts: []string{"127.0.0.1", "maas.internal"}})
	require.NoError(t, err)
	fake := maastest.NewTLS(t, leaf.TLSCertificate())
	require.Contains(t, fake.URL, "https://")

	c, err := New(fake.URL, maastest.APIKey, Options{CACertPEM: ca.CertPEM()})
	require.NoError(t, err)
	v, err := c.Version(ctx)
	require.NoError(t, err)
	assert.Equal(t, "3.5.4", v.Version)

	plain, err := New(fake.URL, maastest.APIKey, Options{})
	require.NoError(t, err)
	_, err = plain.Version(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate")

	insecure, err := New(fake.URL, maastest.APIKey, Options{InsecureSkipVerify: true})
	require.NoError(t, err)
	_, err = insecure.Version(ctx)
	require.NoError(t, err)
	assert.Empty(t, fake.Violations())
}

// TestAuthenticate: a user name and password give an API key that then signs requests.
func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	fake := maastest.New(t)
	cr, err := Authenticate(ctx, fake.URL, maastest.Username, maastest.Password, "airgap@test", Options{})
	require.NoError(t, err)
	assert.Equal(t, maastest.APIKey, cr.String())
	c, err := New(fake.URL, cr.String(), Options{})
	require.NoError(t, err)
	_, err = c.WhoAmI(ctx)
	require.NoError(t, err)

	_, err = Authenticate(ctx, fake.URL, maastest.Username, "wrong", "airgap@test", Options{})
	assert.ErrorIs(t, err, ErrLoginFailed)
	assert.ErrorIs(t, err, ErrForbidden)
	assert.Empty(t, fake.Violations())
}
