package tlsutil

import (
	"crypto/sha256"
	"crypto/x509"
	"strings"
	"time"
)

// Fingerprint is the SHA-256 fingerprint of a certificate's DER encoding as upper-case
// hex pairs separated by colons, the form the MAAS UI and `openssl x509 -fingerprint
// -sha256` show.
func Fingerprint(cert *x509.Certificate) string {
	return FingerprintDER(cert.Raw)
}

// FingerprintDER is Fingerprint of raw DER bytes.
func FingerprintDER(der []byte) string {
	sum := sha256.Sum256(der)
	const hexdig = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(sum) * 3)
	for i, x := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteByte(hexdig[x>>4])
		b.WriteByte(hexdig[x&0x0f])
	}
	return b.String()
}

// NeedsRenewal reports whether cert should be renewed at now: it expires within before
// (or has expired), or is not valid yet. A nil certificate needs renewal.
func NeedsRenewal(cert *x509.Certificate, before time.Duration, now time.Time) bool {
	if cert == nil {
		return true
	}
	if now.Before(cert.NotBefore) {
		return true
	}
	return !now.Add(before).Before(cert.NotAfter)
}
