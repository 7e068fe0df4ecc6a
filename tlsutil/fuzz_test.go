package tlsutil

import (
	"testing"
)

func FuzzParsePrivateKeyPEM(f *testing.F) {
	f.Add([]byte("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIA==\n-----END EC PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParsePrivateKeyPEM(data)
		if err == nil && k == nil {
			t.Fatal("nil key without error")
		}
		if err == nil {
			if _, err := EncodePrivateKey(k); err != nil {
				t.Fatalf("parsed key does not encode: %v", err)
			}
		}
	})
}

func FuzzParseCertificatesPEM(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := ParseCertificatesPEM(data)
		if err == nil && len(certs) == 0 {
			t.Fatal("no certificates without error")
		}
		for _, c := range certs {
			_ = Fingerprint(c)
		}
		_, _ = ParseCertificate(data, data)
	})
}

func FuzzSplitHosts(f *testing.F) {
	f.Add("maas.internal")
	f.Add("[fd00::1]")
	f.Add("10.0.0.1")
	f.Fuzz(func(t *testing.T, h string) {
		dns, ips := SplitHosts([]string{h})
		if len(dns)+len(ips) > 1 {
			t.Fatalf("one host became %d", len(dns)+len(ips))
		}
		for _, ip := range ips {
			if ip.To16() == nil {
				t.Fatalf("bad IP %v", ip)
			}
		}
	})
}
