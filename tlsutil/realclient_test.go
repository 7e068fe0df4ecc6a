package tlsutil

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/testutil"
)

const toolTimeout = 30 * time.Second

// TestOpenSSLAcceptsChain: openssl verifies root -> intermediate -> leaf and shows the
// SANs, the EKU and the CA constraints we set; its fingerprint equals ours; the key
// file is the certificate's key.
func TestOpenSSLAcceptsChain(t *testing.T) {
	openssl := testutil.RequireBinary(t, "openssl", "openssl")
	root, err := NewCA(CAOptions{CommonName: "airgap test root"})
	require.NoError(t, err)
	inter, err := root.NewIntermediate(CAOptions{})
	require.NoError(t, err)
	leaf, err := inter.Issue(LeafOptions{Hosts: []string{"maas.internal", "region1.internal", "region2.internal", "10.20.0.10", "10.20.0.11", "10.20.0.1", "fd00::10"}})
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, leaf.WriteFiles(dir))
	p := func(n string) string { return filepath.Join(dir, n) }

	out := testutil.Run(t, toolTimeout, nil, openssl, "verify", "-CAfile", p(FileCA), "-untrusted", p(FileChain), "-purpose", "sslserver", p(FileCert))
	assert.Contains(t, out, "cert.pem: OK")
	// The intermediate alone is not a trust anchor; without it the leaf fails.
	_, err = testutil.RunErr(t, toolTimeout, nil, openssl, "verify", "-CAfile", p(FileCA), p(FileCert))
	assert.Error(t, err, "leaf must not verify without the intermediate")

	text := testutil.Run(t, toolTimeout, nil, openssl, "x509", "-noout", "-text", "-in", p(FileCert))
	for _, want := range []string{
		"DNS:maas.internal", "DNS:region1.internal", "DNS:region2.internal",
		"IP Address:10.20.0.10", "IP Address:10.20.0.11", "IP Address:10.20.0.1", "IP Address:FD00:0:0:0:0:0:0:10",
		"TLS Web Server Authentication", "CA:FALSE", "Public-Key: (2048 bit)",
	} {
		assert.Contains(t, text, want)
	}
	interDir := t.TempDir()
	require.NoError(t, inter.WriteFiles(interDir))
	interText := testutil.Run(t, toolTimeout, nil, openssl, "x509", "-noout", "-text", "-in", filepath.Join(interDir, FileCert))
	assert.Contains(t, interText, "CA:TRUE, pathlen:0")
	rootText := testutil.Run(t, toolTimeout, nil, openssl, "x509", "-noout", "-text", "-in", p(FileCA))
	assert.Contains(t, rootText, "CA:TRUE, pathlen:1")

	fp := testutil.Run(t, toolTimeout, nil, openssl, "x509", "-noout", "-fingerprint", "-sha256", "-in", p(FileCert))
	assert.Equal(t, Fingerprint(leaf.Cert), strings.TrimSpace(fp[strings.Index(fp, "=")+1:]))

	// The key is the certificate's, and openssl reads the combined file's key too.
	certPub := testutil.Run(t, toolTimeout, nil, openssl, "x509", "-noout", "-pubkey", "-in", p(FileCert))
	keyPub := testutil.Run(t, toolTimeout, nil, openssl, "pkey", "-pubout", "-in", p(FileKey))
	combPub := testutil.Run(t, toolTimeout, nil, openssl, "pkey", "-pubout", "-in", p(FileCombined))
	assert.Equal(t, certPub, keyPub)
	assert.Equal(t, certPub, combPub)
	testutil.Run(t, toolTimeout, nil, openssl, "rsa", "-check", "-noout", "-in", p(FileKey))
}

// serve runs an HTTPS server on 127.0.0.1 with cfg until the test ends.
func serve(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hello over tls\n") }),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // clients that hang up mid-handshake are expected
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(tls.NewListener(ln, cfg))
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return ln.Addr().String()
}

// servedSerial connects by IP (no SNI) and returns the serial of the leaf served.
func servedSerial(t *testing.T, addr string, caPEM []byte) string {
	t.Helper()
	cfg, err := ClientConfig(caPEM)
	require.NoError(t, err)
	d := tls.Dialer{Config: cfg}
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	st := conn.(*tls.Conn).ConnectionState()
	assert.Empty(t, st.ServerName, "dialled by IP: no SNI")
	return st.PeerCertificates[0].SerialNumber.String()
}

// TestReloaderWithCurl: curl trusts the local CA against a Go server that uses the
// Reloader, still does after the files are renewed (and the new serial is served),
// and fails with exit code 60 with another CA.
func TestReloaderWithCurl(t *testing.T) {
	curl := testutil.RequireBinary(t, "curl", "curl")
	openssl := testutil.RequireBinary(t, "openssl", "openssl")
	root, err := NewCA(CAOptions{KeyType: ECDSAP256})
	require.NoError(t, err)
	inter, err := root.NewIntermediate(CAOptions{KeyType: ECDSAP256})
	require.NoError(t, err)
	leaf, err := inter.Issue(LeafOptions{Hosts: []string{"127.0.0.1", "localhost"}})
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, leaf.WriteFiles(dir))

	r, err := NewReloader(filepath.Join(dir, FileFullchain), filepath.Join(dir, FileKey), ReloaderOptions{})
	require.NoError(t, err)
	cfg := r.ServerConfig()
	assert.Empty(t, cfg.Certificates, "Certificates must stay empty so that clients without SNI reach GetCertificate")
	addr := serve(t, cfg)
	url := "https://" + addr + "/"
	ca := filepath.Join(dir, FileCA)

	out := testutil.Run(t, toolTimeout, nil, curl, "-sS", "--cacert", ca, url)
	assert.Equal(t, "hello over tls\n", out)
	assert.Equal(t, leaf.Cert.SerialNumber.String(), servedSerial(t, addr, root.CertPEM()))

	// Renew: new leaf, same paths.
	renewed, err := inter.Issue(LeafOptions{Hosts: []string{"127.0.0.1", "localhost"}})
	require.NoError(t, err)
	require.NotEqual(t, leaf.Cert.SerialNumber, renewed.Cert.SerialNumber)
	require.NoError(t, renewed.WriteFiles(dir))

	out = testutil.Run(t, toolTimeout, nil, curl, "-sS", "--cacert", ca, url)
	assert.Equal(t, "hello over tls\n", out)
	assert.Equal(t, renewed.Cert.SerialNumber.String(), servedSerial(t, addr, root.CertPEM()))

	// openssl s_client sees the new serial as well.
	sc := exec.Command(openssl, "s_client", "-connect", addr, "-CAfile", ca, "-verify_return_error")
	sc.Stdin = strings.NewReader("")
	scOut, err := sc.CombinedOutput()
	require.NoError(t, err, string(scOut))
	assert.Contains(t, string(scOut), "Verify return code: 0 (ok)")
	certFile := filepath.Join(t.TempDir(), "served.pem")
	start := strings.Index(string(scOut), "-----BEGIN CERTIFICATE-----")
	end := strings.Index(string(scOut), "-----END CERTIFICATE-----")
	require.True(t, start >= 0 && end > start, string(scOut))
	require.NoError(t, os.WriteFile(certFile, append(scOut[start:end], []byte("-----END CERTIFICATE-----\n")...), 0o644))
	serial := testutil.Run(t, toolTimeout, nil, openssl, "x509", "-noout", "-serial", "-in", certFile)
	hexSerial, ok := strings.CutPrefix(strings.TrimSpace(serial), "serial=")
	require.True(t, ok, serial)
	got, ok := new(big.Int).SetString(hexSerial, 16)
	require.True(t, ok, serial)
	assert.Equal(t, renewed.Cert.SerialNumber.String(), got.String(), "openssl s_client sees the renewed serial")

	// A wrong CA: curl exits 60 (peer certificate cannot be authenticated).
	other, err := NewCA(CAOptions{KeyType: ECDSAP256})
	require.NoError(t, err)
	otherFile := filepath.Join(t.TempDir(), "other.pem")
	require.NoError(t, os.WriteFile(otherFile, other.CertPEM(), 0o644))
	_, err = testutil.RunErr(t, toolTimeout, nil, curl, "-sS", "--cacert", otherFile, url)
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "curl must fail: %v", err)
	assert.Equal(t, 60, ee.ExitCode(), "curl exit code")
}

// TestReloaderKeepsOldOnBadFiles: a half-renewed pair (new key, old certificate) keeps
// the old certificate in service; once the pair is whole again it is picked up.
func TestReloaderKeepsOldOnBadFiles(t *testing.T) {
	root, err := NewCA(CAOptions{KeyType: ECDSAP256})
	require.NoError(t, err)
	leaf, err := root.Issue(LeafOptions{Hosts: []string{"127.0.0.1"}, KeyType: ECDSAP256})
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, leaf.WriteFiles(dir))
	now := time.Unix(1000, 0)
	r, err := NewReloader(filepath.Join(dir, FileCert), filepath.Join(dir, FileKey), ReloaderOptions{CheckInterval: time.Minute, Now: func() time.Time { return now }})
	require.NoError(t, err)
	serialOf := func() string { return r.Current().Leaf.SerialNumber.String() }
	assert.Equal(t, leaf.Cert.SerialNumber.String(), serialOf())

	next, err := root.Issue(LeafOptions{Hosts: []string{"127.0.0.1"}, KeyType: ECDSAP256})
	require.NoError(t, err)
	key, err := next.KeyPEM()
	require.NoError(t, err)
	require.NoError(t, WriteFileAtomic(filepath.Join(dir, FileKey), key, 0o600))
	now = now.Add(2 * time.Minute)
	assert.Equal(t, leaf.Cert.SerialNumber.String(), serialOf(), "mismatched pair: old one served")

	require.NoError(t, WriteFileAtomic(filepath.Join(dir, FileCert), next.CertPEM(), 0o644))
	assert.Equal(t, leaf.Cert.SerialNumber.String(), serialOf(), "within the check interval: not looked at")
	now = now.Add(2 * time.Minute)
	assert.Equal(t, next.Cert.SerialNumber.String(), serialOf())

	// Missing files do not stop service.
	require.NoError(t, os.Remove(filepath.Join(dir, FileCert)))
	now = now.Add(2 * time.Minute)
	assert.Equal(t, next.Cert.SerialNumber.String(), serialOf())
	_, err = NewReloader(filepath.Join(dir, FileCert), "", ReloaderOptions{})
	assert.Error(t, err)
}

// TestReloaderConcurrentRenewal: handshakes from many goroutines while the files are
// renewed again and again (run with -race); every handshake succeeds.
func TestReloaderConcurrentRenewal(t *testing.T) {
	root, err := NewCA(CAOptions{KeyType: ECDSAP256})
	require.NoError(t, err)
	issue := func() *Certificate {
		c, err := root.Issue(LeafOptions{Hosts: []string{"127.0.0.1"}, KeyType: ECDSAP256})
		require.NoError(t, err)
		return c
	}
	dir := t.TempDir()
	require.NoError(t, issue().WriteFiles(dir))
	r, err := NewReloader(filepath.Join(dir, FileFullchain), filepath.Join(dir, FileKey), ReloaderOptions{})
	require.NoError(t, err)
	addr := serve(t, r.ServerConfig())
	cfg, err := ClientConfig(root.CertPEM())
	require.NoError(t, err)

	done := make(chan struct{})
	renewed := make(chan error, 1)
	go func() {
		defer close(renewed)
		for i := 0; i < 10; i++ {
			if err := issue().WriteFiles(dir); err != nil {
				renewed <- err
				return
			}
		}
		<-done
	}()
	errs := make(chan error, 8*10)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				conn, err := tls.Dial("tcp", addr, cfg)
				if err != nil {
					errs <- err
					continue
				}
				_ = conn.Close()
			}
		}()
	}
	wg.Wait()
	close(done)
	require.NoError(t, <-renewed)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
