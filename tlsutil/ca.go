package tlsutil

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"strings"
	"time"
)

// KeyType selects the algorithm and size of a generated private key.
type KeyType int

// Key types. The zero value is RSA-2048, the widest accepted (MAAS config-tls takes RSA
// keys only).
const (
	RSA2048 KeyType = iota
	RSA3072
	RSA4096
	ECDSAP256
)

// String names the key type.
func (k KeyType) String() string {
	switch k {
	case RSA2048:
		return "rsa2048"
	case RSA3072:
		return "rsa3072"
	case RSA4096:
		return "rsa4096"
	case ECDSAP256:
		return "ecdsa-p256"
	}
	return fmt.Sprintf("KeyType(%d)", int(k))
}

// ParseKeyType reads the names String returns ("rsa2048", "rsa3072", "rsa4096",
// "ecdsa-p256"; "rsa" means rsa2048 and "ecdsa"/"p256" mean ecdsa-p256).
func ParseKeyType(s string) (KeyType, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "rsa", "rsa2048", "rsa-2048":
		return RSA2048, nil
	case "rsa3072", "rsa-3072":
		return RSA3072, nil
	case "rsa4096", "rsa-4096":
		return RSA4096, nil
	case "ecdsa", "p256", "ecdsa-p256", "ec":
		return ECDSAP256, nil
	}
	return 0, fmt.Errorf("%w: key type %q", ErrInvalidOption, s)
}

// Defaults and limits.
const (
	// DefaultBackdate is how far NotBefore is set before the issuing time, against
	// clock skew between the CA and the clients.
	DefaultBackdate = 5 * time.Minute
	// MaxLeafValidity is the longest validity a leaf may have (and its default): 397
	// days, inside the 398-day limit that browsers and public CAs keep.
	MaxLeafValidity = 397 * 24 * time.Hour
	// DefaultCAValidity is the default validity of a root CA: ten years.
	DefaultCAValidity = 10 * 365 * 24 * time.Hour
	// DefaultIntermediateValidity is the default validity of an intermediate CA: five years.
	DefaultIntermediateValidity = 5 * 365 * 24 * time.Hour
)

// Errors callers branch on with errors.Is.
var (
	// ErrInvalidOption: an option is out of range (validity, key type, empty name list).
	ErrInvalidOption = errors.New("tlsutil: invalid option")
	// ErrNotCA: a certificate used to issue is not a CA certificate.
	ErrNotCA = errors.New("tlsutil: certificate is not a CA")
	// ErrKeyMismatch: a private key does not belong to the certificate it came with.
	ErrKeyMismatch = errors.New("tlsutil: private key does not match certificate")
	// ErrNoCertificate: PEM input holds no certificate.
	ErrNoCertificate = errors.New("tlsutil: no certificate in PEM input")
	// ErrNoKey: PEM input holds no supported private key.
	ErrNoKey = errors.New("tlsutil: no private key in PEM input")
)

// Certificate is a certificate with its private key and the chain up to its root.
type Certificate struct {
	// Cert is the certificate itself.
	Cert *x509.Certificate
	// Key is its private key (*rsa.PrivateKey or *ecdsa.PrivateKey).
	Key crypto.Signer
	// Chain holds the intermediate CAs, the direct issuer first. It never holds the
	// self-signed root.
	Chain []*x509.Certificate
	// Root is the self-signed trust anchor, nil when unknown. For a root CA it is Cert.
	Root *x509.Certificate
}

// CA is a certificate authority that issues intermediates and leaves.
type CA struct {
	Certificate
}

// CAOptions describe a CA certificate. The zero value makes an RSA-2048 root named
// "airgap local CA" valid for ten years.
type CAOptions struct {
	// CommonName of the subject; default "airgap local CA" (root) or
	// "airgap intermediate CA".
	CommonName string
	// Organization of the subject; optional.
	Organization string
	// Validity from the issuing time; default DefaultCAValidity (root) or
	// DefaultIntermediateValidity. An intermediate never outlives its issuer.
	Validity time.Duration
	// KeyType of the CA key; default RSA2048.
	KeyType KeyType
	// MaxPathLen is how many intermediates may follow this CA. Zero means the
	// default: 1 for a root (one intermediate allowed), 0 for an intermediate (it
	// issues leaves only). Negative means no limit. Use NoIntermediates for a root
	// that may issue leaves only.
	MaxPathLen int
	// NoIntermediates makes a root with path length zero.
	NoIntermediates bool
	// Now is the issuing time; default time.Now.
	Now func() time.Time
}

// LeafOptions describe a server certificate.
type LeafOptions struct {
	// CommonName of the subject; default the first DNS name or IP.
	CommonName string
	// Hosts are DNS names and IP addresses, sorted into DNS and IP SANs. IP
	// addresses (v4 and v6) become IP SANs only: clients that connect by IP match IP
	// SANs, never DNS SANs.
	Hosts []string
	// DNSNames and IPs are added to what Hosts gives.
	DNSNames []string
	IPs      []net.IP
	// Validity from the issuing time; default and maximum MaxLeafValidity. A leaf
	// never outlives its issuer.
	Validity time.Duration
	// KeyType of the leaf key; default RSA2048.
	KeyType KeyType
	// ClientAuth adds the clientAuth extended key usage to serverAuth.
	ClientAuth bool
	// Now is the issuing time; default time.Now.
	Now func() time.Time
}

// NewCA creates a self-signed root CA.
func NewCA(opts CAOptions) (*CA, error) {
	key, tmpl, err := caTemplate(opts, true)
	if err != nil {
		return nil, err
	}
	tmpl.AuthorityKeyId = tmpl.SubjectKeyId
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("tlsutil: create root: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Certificate{Cert: cert, Key: key, Root: cert}}, nil
}

// NewIntermediate issues an intermediate CA under ca. Its chain is ca's chain with ca
// in front (unless ca is the root).
//
// The parent's path length bounds the intermediate's: a CA with path length zero
// issues no intermediates (ErrInvalidOption), and a limit the parent does not allow is
// lowered to what it allows.
func (ca *CA) NewIntermediate(opts CAOptions) (*CA, error) {
	if ca != nil && ca.Cert != nil && ca.Cert.MaxPathLen == 0 && ca.Cert.MaxPathLenZero {
		return nil, fmt.Errorf("%w: %q has path length 0 and may not issue intermediates", ErrInvalidOption, ca.Cert.Subject.CommonName)
	}
	key, tmpl, err := caTemplate(opts, false)
	if err != nil {
		return nil, err
	}
	if ca.Cert != nil && ca.Cert.MaxPathLen > 0 && (tmpl.MaxPathLen < 0 || tmpl.MaxPathLen >= ca.Cert.MaxPathLen) {
		tmpl.MaxPathLen = ca.Cert.MaxPathLen - 1
		tmpl.MaxPathLenZero = tmpl.MaxPathLen == 0
	}
	cert, err := ca.sign(tmpl, key.Public())
	if err != nil {
		return nil, err
	}
	return &CA{Certificate{Cert: cert, Key: key, Chain: ca.childChain(), Root: ca.Root}}, nil
}

// Issue creates a server certificate (serverAuth) for the hosts in opts.
func (ca *CA) Issue(opts LeafOptions) (*Certificate, error) {
	if opts.Validity == 0 {
		opts.Validity = MaxLeafValidity
	}
	if opts.Validity < 0 || opts.Validity > MaxLeafValidity {
		return nil, fmt.Errorf("%w: leaf validity %v (max %v)", ErrInvalidOption, opts.Validity, MaxLeafValidity)
	}
	dns, ips := SplitHosts(opts.Hosts)
	dns = append(dns, opts.DNSNames...)
	ips = append(ips, opts.IPs...)
	if len(dns) == 0 && len(ips) == 0 {
		return nil, fmt.Errorf("%w: a server certificate needs at least one DNS name or IP", ErrInvalidOption)
	}
	cn := opts.CommonName
	if cn == "" {
		if len(dns) > 0 {
			cn = dns[0]
		} else {
			cn = ips[0].String()
		}
	}
	key, err := GenerateKey(opts.KeyType)
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	now := nowFunc(opts.Now)()
	usage := x509.KeyUsageDigitalSignature
	if _, ok := key.(*rsa.PrivateKey); ok {
		usage |= x509.KeyUsageKeyEncipherment
	}
	eku := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	if opts.ClientAuth {
		eku = append(eku, x509.ExtKeyUsageClientAuth)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-DefaultBackdate),
		NotAfter:              now.Add(opts.Validity),
		KeyUsage:              usage,
		ExtKeyUsage:           eku,
		BasicConstraintsValid: true,
		DNSNames:              dedupStrings(dns),
		IPAddresses:           dedupIPs(ips),
		SubjectKeyId:          keyID(key.Public()),
	}
	cert, err := ca.sign(tmpl, key.Public())
	if err != nil {
		return nil, err
	}
	return &Certificate{Cert: cert, Key: key, Chain: ca.childChain(), Root: ca.Root}, nil
}

// sign issues tmpl with ca's key, clamping NotAfter to the CA's own.
func (ca *CA) sign(tmpl *x509.Certificate, pub crypto.PublicKey) (*x509.Certificate, error) {
	if ca == nil || ca.Cert == nil || ca.Key == nil {
		return nil, fmt.Errorf("%w: CA has no certificate or key", ErrInvalidOption)
	}
	if !ca.Cert.IsCA || ca.Cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, ErrNotCA
	}
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		tmpl.NotAfter = ca.Cert.NotAfter
	}
	tmpl.AuthorityKeyId = ca.Cert.SubjectKeyId
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("tlsutil: sign %q: %w", tmpl.Subject.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

// childChain is the chain of a certificate that ca issues.
func (ca *CA) childChain() []*x509.Certificate {
	if isSelfSigned(ca.Cert) {
		return nil
	}
	return append([]*x509.Certificate{ca.Cert}, ca.Chain...)
}

// caTemplate makes a CA key and the template of its certificate.
func caTemplate(opts CAOptions, root bool) (crypto.Signer, *x509.Certificate, error) {
	maxPath, zero := opts.MaxPathLen, false
	switch {
	case opts.NoIntermediates || (maxPath == 0 && !root):
		maxPath, zero = 0, true
	case maxPath == 0:
		maxPath = 1
	case maxPath < 0:
		maxPath = -1
	}
	if opts.CommonName == "" {
		opts.CommonName = "airgap intermediate CA"
		if root {
			opts.CommonName = "airgap local CA"
		}
	}
	if opts.Validity == 0 {
		opts.Validity = DefaultIntermediateValidity
		if root {
			opts.Validity = DefaultCAValidity
		}
	}
	if opts.Validity < 0 {
		return nil, nil, fmt.Errorf("%w: CA validity %v", ErrInvalidOption, opts.Validity)
	}
	key, err := GenerateKey(opts.KeyType)
	if err != nil {
		return nil, nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	now := nowFunc(opts.Now)()
	subj := pkix.Name{CommonName: opts.CommonName}
	if opts.Organization != "" {
		subj.Organization = []string{opts.Organization}
	}
	return key, &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subj,
		NotBefore:             now.Add(-DefaultBackdate),
		NotAfter:              now.Add(opts.Validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            maxPath,
		MaxPathLenZero:        zero,
		SubjectKeyId:          keyID(key.Public()),
	}, nil
}

// GenerateKey makes a new private key of the given type.
func GenerateKey(t KeyType) (crypto.Signer, error) {
	switch t {
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case RSA4096:
		return rsa.GenerateKey(rand.Reader, 4096)
	case ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	return nil, fmt.Errorf("%w: key type %v", ErrInvalidOption, t)
}

// SplitHosts sorts host strings into DNS names and IP addresses. Empty strings are
// dropped; surrounding brackets of IPv6 literals are removed.
func SplitHosts(hosts []string) (dns []string, ips []net.IP) {
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")); err == nil {
			ips = append(ips, net.IP(a.Unmap().AsSlice()))
			continue
		}
		dns = append(dns, strings.ToLower(h))
	}
	return dns, ips
}

func newSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 127)
	n, err := rand.Int(rand.Reader, limit)
	if err != nil {
		return nil, fmt.Errorf("tlsutil: serial: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

// keyID is the subject key identifier: SHA-1 of the marshalled public key (RFC 5280
// method 1 in spirit; any unique value serves).
func keyID(pub crypto.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil
	}
	sum := sha1.Sum(der)
	return sum[:]
}

func isSelfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
}

func nowFunc(f func() time.Time) func() time.Time {
	if f == nil {
		return time.Now
	}
	return f
}

func dedupStrings(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func dedupIPs(in []net.IP) []net.IP {
	seen := map[string]bool{}
	var out []net.IP
	for _, ip := range in {
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		if !seen[string(ip)] {
			seen[string(ip)] = true
			out = append(out, ip)
		}
	}
	return out
}
