package tlsutil

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// File names that WriteFiles uses inside its directory.
const (
	FileCA        = "ca.pem"
	FileCert      = "cert.pem"
	FileChain     = "chain.pem"
	FileFullchain = "fullchain.pem"
	FileKey       = "key.pem"
	FileCombined  = "combined.pem"
)

// maxPEMFile caps what the loaders read from one file.
const maxPEMFile = 4 << 20

// EncodeCertificates PEM-encodes certificates in order.
func EncodeCertificates(certs ...*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

// EncodePrivateKey PEM-encodes a key unencrypted: RSA as PKCS#1 "RSA PRIVATE KEY"
// (accepted by MAAS config-tls, HAProxy, nginx and OpenSSL alike), ECDSA as SEC1 "EC
// PRIVATE KEY", anything else as PKCS#8 "PRIVATE KEY".
func EncodePrivateKey(key crypto.Signer) ([]byte, error) {
	var blk *pem.Block
	switch k := key.(type) {
	case *rsa.PrivateKey:
		blk = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return nil, fmt.Errorf("tlsutil: encode key: %w", err)
		}
		blk = &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
	default:
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, fmt.Errorf("tlsutil: encode key: %w", err)
		}
		blk = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	}
	return pem.EncodeToMemory(blk), nil
}

// CertPEM is the certificate alone.
func (c *Certificate) CertPEM() []byte { return EncodeCertificates(c.Cert) }

// ChainPEM is the intermediates, the direct issuer first; empty when the root issued
// the certificate.
func (c *Certificate) ChainPEM() []byte { return EncodeCertificates(c.Chain...) }

// FullchainPEM is the certificate followed by its intermediates.
func (c *Certificate) FullchainPEM() []byte {
	return EncodeCertificates(append([]*x509.Certificate{c.Cert}, c.Chain...)...)
}

// RootPEM is the root certificate, empty when the root is unknown.
func (c *Certificate) RootPEM() []byte {
	if c.Root == nil {
		return nil
	}
	return EncodeCertificates(c.Root)
}

// KeyPEM is the unencrypted private key (see EncodePrivateKey).
func (c *Certificate) KeyPEM() ([]byte, error) { return EncodePrivateKey(c.Key) }

// CombinedPEM is certificate, intermediates and key in one PEM, the single file
// HAProxy's "crt" wants.
func (c *Certificate) CombinedPEM() ([]byte, error) {
	key, err := c.KeyPEM()
	if err != nil {
		return nil, err
	}
	return append(c.FullchainPEM(), key...), nil
}

// TLSCertificate is the certificate as crypto/tls serves it (leaf and intermediates).
func (c *Certificate) TLSCertificate() tls.Certificate {
	tc := tls.Certificate{PrivateKey: c.Key, Leaf: c.Cert}
	tc.Certificate = append(tc.Certificate, c.Cert.Raw)
	for _, i := range c.Chain {
		tc.Certificate = append(tc.Certificate, i.Raw)
	}
	return tc
}

// WriteFiles writes ca.pem (when the root is known), cert.pem, chain.pem,
// fullchain.pem, key.pem and combined.pem into dir (created 0755 if missing). Keys and
// the combined file get mode 0600, certificates 0644. Each file is written to a
// temporary name and renamed into place, so a Reloader never reads a half-written
// file; the key is renamed before the certificate.
func (c *Certificate) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("tlsutil: %w", err)
	}
	key, err := c.KeyPEM()
	if err != nil {
		return err
	}
	combined, err := c.CombinedPEM()
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{FileKey, key, 0o600},
		{FileCombined, combined, 0o600},
		{FileChain, c.ChainPEM(), 0o644},
		{FileFullchain, c.FullchainPEM(), 0o644},
		{FileCert, c.CertPEM(), 0o644},
	}
	if c.Root != nil {
		files = append(files, struct {
			name string
			data []byte
			mode os.FileMode
		}{FileCA, c.RootPEM(), 0o644})
	}
	for _, f := range files {
		if err := WriteFileAtomic(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return err
		}
	}
	return nil
}

// WriteFileAtomic writes data to a temporary file in path's directory with the given
// mode, syncs it and renames it over path.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("tlsutil: %w", err)
	}
	name := tmp.Name()
	fail := func(err error) error {
		_ = tmp.Close()
		_ = os.Remove(name)
		return fmt.Errorf("tlsutil: write %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return fail(err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(name, path); err != nil {
		_ = os.Remove(name)
		return fmt.Errorf("tlsutil: write %s: %w", path, err)
	}
	return nil
}

// ParseCertificatesPEM reads every CERTIFICATE block of PEM input in order, skipping
// other blocks (keys, parameters). It fails with ErrNoCertificate when there is none.
func ParseCertificatesPEM(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("tlsutil: certificate %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, ErrNoCertificate
	}
	return out, nil
}

// ParsePrivateKeyPEM reads the first private key of PEM input: PKCS#1 "RSA PRIVATE
// KEY", SEC1 "EC PRIVATE KEY" or PKCS#8 "PRIVATE KEY" (RSA, ECDSA or Ed25519).
// Encrypted keys are not supported. It fails with ErrNoKey when there is none.
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			return nil, ErrNoKey
		}
		switch blk.Type {
		case "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("tlsutil: RSA key: %w", err)
			}
			return k, nil
		case "EC PRIVATE KEY":
			k, err := x509.ParseECPrivateKey(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("tlsutil: EC key: %w", err)
			}
			return k, nil
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("tlsutil: PKCS#8 key: %w", err)
			}
			switch s := k.(type) {
			case *rsa.PrivateKey:
				return s, nil
			case *ecdsa.PrivateKey:
				return s, nil
			case ed25519.PrivateKey:
				return s, nil
			}
			return nil, fmt.Errorf("%w: unsupported PKCS#8 key %T", ErrNoKey, k)
		case "ENCRYPTED PRIVATE KEY":
			return nil, fmt.Errorf("%w: encrypted keys are not supported", ErrNoKey)
		}
	}
}

// ParseCertificate reads a certificate, its chain and its key from PEM: certPEM holds
// the certificate first, then any intermediates and optionally the root; keyPEM holds
// the key (it may be the same bytes as certPEM, as in HAProxy's combined file). The
// key must match the certificate.
func ParseCertificate(certPEM, keyPEM []byte) (*Certificate, error) {
	certs, err := ParseCertificatesPEM(certPEM)
	if err != nil {
		return nil, err
	}
	key, err := ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, err
	}
	if !publicKeysEqual(certs[0].PublicKey, key.Public()) {
		return nil, ErrKeyMismatch
	}
	c := &Certificate{Cert: certs[0], Key: key}
	if isSelfSigned(certs[0]) {
		c.Root = certs[0]
		return c, nil
	}
	for _, x := range certs[1:] {
		if isSelfSigned(x) {
			c.Root = x
			break
		}
		c.Chain = append(c.Chain, x)
	}
	return c, nil
}

// LoadCertificate reads a certificate (with chain) and key from files. keyFile may be
// empty or equal to certFile when the key is in the same file.
func LoadCertificate(certFile, keyFile string) (*Certificate, error) {
	certPEM, err := readCapped(certFile)
	if err != nil {
		return nil, err
	}
	keyPEM := certPEM
	if keyFile != "" && keyFile != certFile {
		if keyPEM, err = readCapped(keyFile); err != nil {
			return nil, err
		}
	}
	c, err := ParseCertificate(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", certFile, err)
	}
	return c, nil
}

// LoadCA reads a CA certificate and its key from files, so that a CLI can issue from a
// CA it made earlier. When the CA is an intermediate, certFile should hold its chain
// (and may hold the root) after it; rootFile, if not empty, names the root.
func LoadCA(certFile, keyFile, rootFile string) (*CA, error) {
	c, err := LoadCertificate(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	if !c.Cert.IsCA || c.Cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("%s: %w", certFile, ErrNotCA)
	}
	if rootFile != "" && c.Root == nil {
		data, err := readCapped(rootFile)
		if err != nil {
			return nil, err
		}
		roots, err := ParseCertificatesPEM(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rootFile, err)
		}
		c.Root = roots[0]
	}
	return &CA{*c}, nil
}

func readCapped(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tlsutil: %w", err)
	}
	defer f.Close()
	var b bytes.Buffer
	n, err := b.ReadFrom(io.LimitReader(f, maxPEMFile+1))
	if err != nil {
		return nil, fmt.Errorf("tlsutil: read %s: %w", path, err)
	}
	if n > maxPEMFile {
		return nil, fmt.Errorf("tlsutil: %s is larger than %d bytes", path, maxPEMFile)
	}
	return b.Bytes(), nil
}

type equaler interface{ Equal(crypto.PublicKey) bool }

func publicKeysEqual(a, b crypto.PublicKey) bool {
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}
