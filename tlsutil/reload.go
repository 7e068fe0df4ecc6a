package tlsutil

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Reloader serves a certificate from files and picks up new files when they change,
// so that a renewal job can replace them under a running server. Use its
// ServerConfig, or its GetCertificate in your own tls.Config with Certificates left
// empty: crypto/tls consults GetCertificate for clients without SNI (those that
// connect by IP address) only when Certificates is empty.
//
// Before a handshake it compares the files' identity, size and modification time with
// those it loaded (at most once per CheckInterval); when they differ it loads them
// again. A load that fails (a half-renewed pair whose key does not match yet) keeps
// the previous certificate and is tried again at the next check.
type Reloader struct {
	certFile, keyFile string
	interval          time.Duration
	logger            *slog.Logger
	now               func() time.Time

	mu        sync.Mutex
	current   *tls.Certificate
	stamp     [2]os.FileInfo
	lastCheck time.Time
}

// ReloaderOptions tune a Reloader. The zero value checks the files before every
// handshake (two stat calls) and logs nowhere.
type ReloaderOptions struct {
	// CheckInterval is the least time between two looks at the files; zero means
	// before every handshake.
	CheckInterval time.Duration
	// Logger receives reloads and failed reloads; nil discards.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// NewReloader loads certFile (the certificate, then its intermediates) and keyFile
// (may be empty or the same file for a combined PEM) and fails when they do not load.
func NewReloader(certFile, keyFile string, opts ReloaderOptions) (*Reloader, error) {
	if keyFile == "" {
		keyFile = certFile
	}
	r := &Reloader{
		certFile: certFile,
		keyFile:  keyFile,
		interval: opts.CheckInterval,
		logger:   opts.Logger,
		now:      nowFunc(opts.Now),
	}
	if r.logger == nil {
		r.logger = slog.New(slog.DiscardHandler)
	}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload loads the files now. On failure the previous certificate stays in use.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reloadLocked()
}

func (r *Reloader) reloadLocked() error {
	var st [2]os.FileInfo
	for i, p := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("tlsutil: %w", err)
		}
		st[i] = fi
	}
	c, err := LoadCertificate(r.certFile, r.keyFile)
	if err != nil {
		return err
	}
	tc := c.TLSCertificate()
	r.current = &tc
	r.stamp = st
	r.logger.Info("tls certificate loaded", "file", r.certFile,
		"subject", c.Cert.Subject.CommonName, "serial", c.Cert.SerialNumber.String(),
		"not_after", c.Cert.NotAfter, "fingerprint", Fingerprint(c.Cert))
	return nil
}

// changedLocked reports whether the files differ from those loaded.
func (r *Reloader) changedLocked() bool {
	for i, p := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(p)
		if err != nil {
			return false // keep serving what we have; a missing file is likely mid-rename
		}
		old := r.stamp[i]
		if old == nil || !os.SameFile(old, fi) || !old.ModTime().Equal(fi.ModTime()) || old.Size() != fi.Size() {
			return true
		}
	}
	return false
}

// Current returns the certificate served now, after a check of the files.
func (r *Reloader) Current() *tls.Certificate {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if r.interval <= 0 || now.Sub(r.lastCheck) >= r.interval {
		r.lastCheck = now
		if r.changedLocked() {
			if err := r.reloadLocked(); err != nil {
				r.logger.Warn("tls certificate reload failed; serving the previous one", "file", r.certFile, "err", err)
			}
		}
	}
	return r.current
}

// GetCertificate is for tls.Config.GetCertificate.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.Current(), nil
}

// ServerConfig is a TLS 1.2+ server configuration that serves the Reloader's
// certificate to every client, with or without SNI.
func (r *Reloader) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.GetCertificate,
	}
}

// ClientConfig is a TLS 1.2+ client configuration that trusts the system roots plus
// the certificates in caPEM (a local CA bundle). Empty caPEM trusts the system roots
// only.
func ClientConfig(caPEM []byte) (*tls.Config, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if len(caPEM) > 0 {
		certs, err := ParseCertificatesPEM(caPEM)
		if err != nil {
			return nil, err
		}
		for _, c := range certs {
			pool.AddCert(c)
		}
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}, nil
}

// ClientConfigFile is ClientConfig with the bundle read from a file.
func ClientConfigFile(caFile string) (*tls.Config, error) {
	data, err := readCapped(caFile)
	if err != nil {
		return nil, err
	}
	return ClientConfig(data)
}
