package tlsutil

import (
	"path/filepath"
	"testing"
)

func benchIssue(b *testing.B, kt KeyType) {
	root, err := NewCA(CAOptions{KeyType: ECDSAP256})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := root.Issue(LeafOptions{Hosts: []string{"a.internal", "10.0.0.1"}, KeyType: kt}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIssueRSA2048(b *testing.B)   { benchIssue(b, RSA2048) }
func BenchmarkIssueECDSAP256(b *testing.B) { benchIssue(b, ECDSAP256) }

// BenchmarkReloaderCurrent is the cost added to each handshake by the file check.
func BenchmarkReloaderCurrent(b *testing.B) {
	root, _ := NewCA(CAOptions{KeyType: ECDSAP256})
	leaf, _ := root.Issue(LeafOptions{Hosts: []string{"a"}, KeyType: ECDSAP256})
	dir := b.TempDir()
	if err := leaf.WriteFiles(dir); err != nil {
		b.Fatal(err)
	}
	r, err := NewReloader(filepath.Join(dir, FileCert), filepath.Join(dir, FileKey), ReloaderOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if r.Current() == nil {
			b.Fatal("nil")
		}
	}
}

// BenchmarkHostIssuerCached is what a tunnel's handshake pays for its certificate once
// the host's leaf is cached.
func BenchmarkHostIssuerCached(b *testing.B) {
	root, _ := NewCA(CAOptions{KeyType: ECDSAP256})
	h := &HostIssuer{CA: root, KeyType: ECDSAP256}
	for b.Loop() {
		if _, err := h.Certificate("api.snapcraft.io"); err != nil {
			b.Fatal(err)
		}
	}
}
