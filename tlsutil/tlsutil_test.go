package tlsutil

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var fixedNow = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

func clock() time.Time { return fixedNow }

// newChain makes root -> intermediate -> leaf with several SANs.
func newChain(t testing.TB) (root, inter *CA, leaf *Certificate) {
	t.Helper()
	root, err := NewCA(CAOptions{CommonName: "test root", Organization: "airgap tests", KeyType: ECDSAP256, Now: clock})
	require.NoError(t, err)
	inter, err = root.NewIntermediate(CAOptions{KeyType: ECDSAP256, Now: clock})
	require.NoError(t, err)
	leaf, err = inter.Issue(LeafOptions{
		Hosts: []string{"maas.example.internal", "region1.example.internal", "10.0.0.5", "10.0.0.6", "[fd00::5]", "Region2.example.internal"},
		IPs:   []net.IP{net.ParseIP("10.0.0.5"), net.ParseIP("10.0.0.100")},
		Now:   clock,
	})
	require.NoError(t, err)
	return root, inter, leaf
}

func TestIssueFields(t *testing.T) {
	root, inter, leaf := newChain(t)
	c := leaf.Cert
	assert.Equal(t, "maas.example.internal", c.Subject.CommonName)
	assert.Equal(t, []string{"maas.example.internal", "region1.example.internal", "region2.example.internal"}, c.DNSNames)
	var ips []string
	for _, ip := range c.IPAddresses {
		ips = append(ips, ip.String())
	}
	assert.Equal(t, []string{"10.0.0.5", "10.0.0.6", "fd00::5", "10.0.0.100"}, ips)
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, c.ExtKeyUsage)
	assert.False(t, c.IsCA)
	assert.Equal(t, fixedNow.Add(-5*time.Minute), c.NotBefore)
	assert.Equal(t, fixedNow.Add(MaxLeafValidity), c.NotAfter)
	assert.NotZero(t, c.KeyUsage&x509.KeyUsageKeyEncipherment, "RSA leaf allows key encipherment")
	_, isRSA := leaf.Key.(*rsa.PrivateKey)
	assert.True(t, isRSA, "default leaf key is RSA")
	assert.Equal(t, 2048, leaf.Key.(*rsa.PrivateKey).N.BitLen())
	assert.Equal(t, []*x509.Certificate{inter.Cert}, leaf.Chain)
	assert.Equal(t, root.Cert, leaf.Root)
	assert.Equal(t, inter.Cert.SubjectKeyId, c.AuthorityKeyId)

	// CA path lengths: root allows one intermediate, the intermediate none.
	assert.True(t, root.Cert.IsCA)
	assert.Equal(t, 1, root.Cert.MaxPathLen)
	assert.False(t, root.Cert.MaxPathLenZero)
	assert.Equal(t, 0, inter.Cert.MaxPathLen)
	assert.True(t, inter.Cert.MaxPathLenZero)
	assert.Nil(t, inter.Chain)

	// Go's verifier accepts the chain for every name.
	roots := x509.NewCertPool()
	roots.AddCert(root.Cert)
	inters := x509.NewCertPool()
	inters.AddCert(inter.Cert)
	for _, name := range []string{"region2.example.internal", "10.0.0.100", "fd00::5"} {
		_, err := c.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: inters, CurrentTime: fixedNow})
		assert.NoError(t, err, name)
	}
	_, err := c.Verify(x509.VerifyOptions{DNSName: "10.0.0.7", Roots: roots, Intermediates: inters, CurrentTime: fixedNow})
	assert.Error(t, err)
}

func TestCAOptions(t *testing.T) {
	root, err := NewCA(CAOptions{NoIntermediates: true, KeyType: ECDSAP256})
	require.NoError(t, err)
	assert.Equal(t, 0, root.Cert.MaxPathLen)
	assert.True(t, root.Cert.MaxPathLenZero)
	assert.Equal(t, "airgap local CA", root.Cert.Subject.CommonName)

	unl, err := NewCA(CAOptions{MaxPathLen: -1, KeyType: ECDSAP256})
	require.NoError(t, err)
	assert.Equal(t, -1, unl.Cert.MaxPathLen)
	deep, err := unl.NewIntermediate(CAOptions{MaxPathLen: 2, KeyType: ECDSAP256})
	require.NoError(t, err)
	assert.Equal(t, 2, deep.Cert.MaxPathLen, "under an unlimited root any limit goes")

	// Path lengths: a root with pathlen 0 issues no intermediates; a child's limit is
	// lowered below its parent's.
	_, err = root.NewIntermediate(CAOptions{KeyType: ECDSAP256})
	assert.ErrorIs(t, err, ErrInvalidOption)
	two, err := NewCA(CAOptions{MaxPathLen: 2, KeyType: ECDSAP256})
	require.NoError(t, err)
	mid, err := two.NewIntermediate(CAOptions{MaxPathLen: -1, KeyType: ECDSAP256})
	require.NoError(t, err)
	assert.Equal(t, 1, mid.Cert.MaxPathLen)
	low, err := mid.NewIntermediate(CAOptions{MaxPathLen: 5, KeyType: ECDSAP256})
	require.NoError(t, err)
	assert.Equal(t, 0, low.Cert.MaxPathLen)
	assert.True(t, low.Cert.MaxPathLenZero)
	assert.Equal(t, []*x509.Certificate{mid.Cert}, low.Chain, "chain: nearest issuer first, root excluded")
	leaf3, err := low.Issue(LeafOptions{Hosts: []string{"deep.internal"}, KeyType: ECDSAP256})
	require.NoError(t, err)
	assert.Equal(t, []*x509.Certificate{low.Cert, mid.Cert}, leaf3.Chain)
	pool, inters := x509.NewCertPool(), x509.NewCertPool()
	pool.AddCert(two.Cert)
	inters.AddCert(mid.Cert)
	inters.AddCert(low.Cert)
	_, err = leaf3.Cert.Verify(x509.VerifyOptions{DNSName: "deep.internal", Roots: pool, Intermediates: inters})
	require.NoError(t, err)

	// A leaf directly under the root has an empty chain.
	leaf, err := root.Issue(LeafOptions{Hosts: []string{"127.0.0.1"}, KeyType: ECDSAP256, ClientAuth: true, Validity: time.Hour})
	require.NoError(t, err)
	assert.Empty(t, leaf.Chain)
	assert.Equal(t, "127.0.0.1", leaf.Cert.Subject.CommonName)
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, leaf.Cert.ExtKeyUsage)
	assert.Zero(t, leaf.Cert.KeyUsage&x509.KeyUsageKeyEncipherment)
	_, isEC := leaf.Key.(*ecdsa.PrivateKey)
	assert.True(t, isEC)

	_, err = root.Issue(LeafOptions{Hosts: []string{"a"}, KeyType: ECDSAP256, Validity: MaxLeafValidity + time.Hour})
	assert.ErrorIs(t, err, ErrInvalidOption)
	_, err = root.Issue(LeafOptions{KeyType: ECDSAP256})
	assert.ErrorIs(t, err, ErrInvalidOption)
	_, err = root.Issue(LeafOptions{Hosts: []string{"a"}, KeyType: KeyType(42)})
	assert.ErrorIs(t, err, ErrInvalidOption)

	// A leaf is no CA.
	_, err = (&CA{*leaf}).Issue(LeafOptions{Hosts: []string{"a"}, KeyType: ECDSAP256})
	assert.ErrorIs(t, err, ErrNotCA)

	// A leaf never outlives its issuer.
	short, err := NewCA(CAOptions{KeyType: ECDSAP256, Validity: 48 * time.Hour, Now: clock})
	require.NoError(t, err)
	l2, err := short.Issue(LeafOptions{Hosts: []string{"x"}, KeyType: ECDSAP256, Now: clock})
	require.NoError(t, err)
	assert.Equal(t, short.Cert.NotAfter, l2.Cert.NotAfter)
}

func TestParseKeyType(t *testing.T) {
	for in, want := range map[string]KeyType{"": RSA2048, "rsa": RSA2048, "RSA3072": RSA3072, "rsa-4096": RSA4096, "ecdsa": ECDSAP256, "p256": ECDSAP256} {
		got, err := ParseKeyType(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		if in != "" {
			back, err := ParseKeyType(got.String())
			require.NoError(t, err)
			assert.Equal(t, got, back)
		}
	}
	_, err := ParseKeyType("dsa")
	assert.ErrorIs(t, err, ErrInvalidOption)
	assert.Equal(t, "KeyType(9)", KeyType(9).String())
}

func TestWriteAndLoad(t *testing.T) {
	root, inter, leaf := newChain(t)
	dir := t.TempDir()
	require.NoError(t, leaf.WriteFiles(dir))

	for name, mode := range map[string]os.FileMode{FileKey: 0o600, FileCombined: 0o600, FileCert: 0o644, FileChain: 0o644, FileFullchain: 0o644, FileCA: 0o644} {
		fi, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err, name)
		assert.Equal(t, mode, fi.Mode().Perm(), name)
	}
	key, err := os.ReadFile(filepath.Join(dir, FileKey))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(key), "-----BEGIN RSA PRIVATE KEY-----\n"), "PKCS#1 for RSA")

	combined, err := os.ReadFile(filepath.Join(dir, FileCombined))
	require.NoError(t, err)
	var types []string
	for rest := combined; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		types = append(types, b.Type)
	}
	assert.Equal(t, []string{"CERTIFICATE", "CERTIFICATE", "RSA PRIVATE KEY"}, types)

	// Back from files: the combined file alone, and fullchain + key.
	for _, pair := range [][2]string{{FileCombined, ""}, {FileFullchain, FileKey}} {
		got, err := LoadCertificate(filepath.Join(dir, pair[0]), filepath.Join(dir, pair[1]))
		if pair[1] == "" {
			got, err = LoadCertificate(filepath.Join(dir, pair[0]), "")
		}
		require.NoError(t, err)
		assert.True(t, got.Cert.Equal(leaf.Cert))
		assert.Len(t, got.Chain, 1)
		assert.True(t, got.Chain[0].Equal(inter.Cert))
	}

	// A CA loaded from files issues certificates that chain to the same root.
	cadir := t.TempDir()
	require.NoError(t, inter.WriteFiles(cadir))
	loaded, err := LoadCA(filepath.Join(cadir, FileFullchain), filepath.Join(cadir, FileKey), filepath.Join(cadir, FileCA))
	require.NoError(t, err)
	require.NotNil(t, loaded.Root)
	assert.True(t, loaded.Root.Equal(root.Cert))
	l2, err := loaded.Issue(LeafOptions{Hosts: []string{"mirror.internal"}, KeyType: ECDSAP256})
	require.NoError(t, err)
	assert.True(t, l2.Chain[0].Equal(inter.Cert))
	roots := x509.NewCertPool()
	roots.AddCert(root.Cert)
	inters := x509.NewCertPool()
	inters.AddCert(inter.Cert)
	_, err = l2.Cert.Verify(x509.VerifyOptions{DNSName: "mirror.internal", Roots: roots, Intermediates: inters})
	require.NoError(t, err)

	// A leaf is not loadable as a CA; a key of another certificate does not match.
	_, err = LoadCA(filepath.Join(dir, FileCert), filepath.Join(dir, FileKey), "")
	assert.ErrorIs(t, err, ErrNotCA)
	_, err = LoadCertificate(filepath.Join(dir, FileCert), filepath.Join(cadir, FileKey))
	assert.ErrorIs(t, err, ErrKeyMismatch)
	_, err = LoadCertificate(filepath.Join(dir, "missing.pem"), "")
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = LoadCertificate(filepath.Join(dir, FileKey), "")
	assert.ErrorIs(t, err, ErrNoCertificate)
	_, err = LoadCertificate(filepath.Join(dir, FileCert), "")
	assert.ErrorIs(t, err, ErrNoKey)
}

func TestParsePrivateKeyPEMForms(t *testing.T) {
	for _, kt := range []KeyType{RSA2048, ECDSAP256} {
		k, err := GenerateKey(kt)
		require.NoError(t, err)
		p1, err := EncodePrivateKey(k)
		require.NoError(t, err)
		der, err := x509.MarshalPKCS8PrivateKey(k)
		require.NoError(t, err)
		p8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		for _, p := range [][]byte{p1, p8} {
			got, err := ParsePrivateKeyPEM(append([]byte("junk\n-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n"), p...))
			require.NoError(t, err)
			assert.True(t, publicKeysEqual(k.Public(), got.Public()))
		}
	}
	_, err := ParsePrivateKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}))
	assert.ErrorIs(t, err, ErrNoKey)
	_, err = ParsePrivateKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte{1}}))
	assert.Error(t, err)
}

func TestFingerprintAndRenewal(t *testing.T) {
	fp := FingerprintDER([]byte("hello"))
	assert.Equal(t, "2C:F2:4D:BA:5F:B0:A3:0E:26:E8:3B:2A:C5:B9:E2:9E:1B:16:1E:5C:1F:A7:42:5E:73:04:33:62:93:8B:98:24", fp)

	c := &x509.Certificate{NotBefore: fixedNow.Add(-time.Hour), NotAfter: fixedNow.Add(30 * 24 * time.Hour)}
	assert.False(t, NeedsRenewal(c, 29*24*time.Hour, fixedNow))
	assert.True(t, NeedsRenewal(c, 30*24*time.Hour, fixedNow))
	assert.True(t, NeedsRenewal(c, 0, fixedNow.Add(31*24*time.Hour)))
	assert.True(t, NeedsRenewal(c, 0, fixedNow.Add(-2*time.Hour)), "not valid yet")
	assert.True(t, NeedsRenewal(nil, 0, fixedNow))
}

func TestSplitHosts(t *testing.T) {
	dns, ips := SplitHosts([]string{" A.example ", "", "::ffff:10.1.2.3", "[::1]", "fe80::1%eth0", "host:80"})
	assert.Equal(t, []string{"a.example", "host:80"}, dns)
	require.Len(t, ips, 3)
	assert.Equal(t, "10.1.2.3", ips[0].String())
	assert.Equal(t, "::1", ips[1].String())
}

func TestClientConfig(t *testing.T) {
	root, _, _ := newChain(t)
	cfg, err := ClientConfig(root.CertPEM())
	require.NoError(t, err)
	assert.NotNil(t, cfg.RootCAs)
	_, err = ClientConfig([]byte("not pem"))
	assert.True(t, errors.Is(err, ErrNoCertificate))
	f := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(f, root.CertPEM(), 0o644))
	_, err = ClientConfigFile(f)
	require.NoError(t, err)
}
