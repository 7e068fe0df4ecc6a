package tlsutil

import (
	"crypto/tls"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Defaults of a HostIssuer.
const (
	// DefaultHostValidity is how long the leaves of a HostIssuer live.
	DefaultHostValidity = 30 * 24 * time.Hour
	// DefaultHostCacheSize caps the leaves a HostIssuer keeps.
	DefaultHostCacheSize = 256
)

// HostIssuer issues server certificates on demand, one per host name, from a CA, and
// caches them until a third of their life is left: for a server that learns the names
// it must answer for at run time, such as a proxy that terminates the TLS of a CONNECT
// tunnel with a certificate for the host the client asked for. Safe for concurrent use.
type HostIssuer struct {
	// CA issues the leaves. Required.
	CA *CA
	// Validity of each leaf (default DefaultHostValidity, at most MaxLeafValidity).
	Validity time.Duration
	// KeyType of the leaf keys (default RSA2048). ECDSAP256 keys are quicker to make on
	// demand; RSA2048 takes tens of milliseconds per host.
	KeyType KeyType
	// CacheSize caps the cached leaves (default DefaultHostCacheSize); past it the cache
	// starts over.
	CacheSize int
	// Now is the time (default time.Now).
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]*tls.Certificate
}

// Certificate returns the leaf for host (a DNS name, lower-cased; an IP address gets an
// IP SAN), issuing it when none is cached or the cached one is past two thirds of its
// life.
func (h *HostIssuer) Certificate(host string) (*tls.Certificate, error) {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "" {
		return nil, fmt.Errorf("%w: no host name", ErrInvalidOption)
	}
	now := nowFunc(h.Now)()
	h.mu.Lock()
	defer h.mu.Unlock()
	if c := h.cache[host]; c != nil && !NeedsRenewal(c.Leaf, c.Leaf.NotAfter.Sub(c.Leaf.NotBefore)/3, now) {
		return c, nil
	}
	validity := h.Validity
	if validity == 0 {
		validity = DefaultHostValidity
	}
	leaf, err := h.CA.Issue(LeafOptions{Hosts: []string{host}, Validity: validity, KeyType: h.KeyType, Now: func() time.Time { return now }})
	if err != nil {
		return nil, err
	}
	tc := leaf.TLSCertificate()
	size := h.CacheSize
	if size <= 0 {
		size = DefaultHostCacheSize
	}
	if h.cache == nil || len(h.cache) >= size {
		h.cache = map[string]*tls.Certificate{}
	}
	h.cache[host] = &tc
	return &tc, nil
}

// GetCertificate is for tls.Config.GetCertificate: the leaf for the client's SNI name.
// A client that sends none gets an error (the handshake fails).
func (h *HostIssuer) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if hello.ServerName == "" {
		return nil, fmt.Errorf("%w: the client sent no server name", ErrInvalidOption)
	}
	return h.Certificate(hello.ServerName)
}
