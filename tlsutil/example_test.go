package tlsutil_test

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/airgapkit/airgap/tlsutil"
)

// Issue one certificate for every region controller of an HA MAAS and its virtual IP.
func ExampleCA_Issue() {
	root, err := tlsutil.NewCA(tlsutil.CAOptions{CommonName: "site CA", KeyType: tlsutil.ECDSAP256})
	if err != nil {
		panic(err)
	}
	leaf, err := root.Issue(tlsutil.LeafOptions{
		Hosts: []string{"maas.site.internal", "region1.site.internal", "region2.site.internal", "10.0.0.10", "10.0.0.11", "10.0.0.12"},
	})
	if err != nil {
		panic(err)
	}
	key, _ := leaf.KeyPEM()
	fmt.Println("CN:", leaf.Cert.Subject.CommonName)
	fmt.Println("DNS:", strings.Join(leaf.Cert.DNSNames, ", "))
	fmt.Println("IPs:", leaf.Cert.IPAddresses)
	fmt.Println("key:", strings.SplitN(string(key), "\n", 2)[0])
	fmt.Println("days:", leaf.Cert.NotAfter.Sub(leaf.Cert.NotBefore).Round(time.Hour).Hours()/24)
	// Output:
	// CN: maas.site.internal
	// DNS: maas.site.internal, region1.site.internal, region2.site.internal
	// IPs: [10.0.0.10 10.0.0.11 10.0.0.12]
	// key: -----BEGIN RSA PRIVATE KEY-----
	// days: 397
}

func ExampleFingerprintDER() {
	fmt.Println(tlsutil.FingerprintDER([]byte("not really DER")))
	// Output:
	// 47:65:B9:90:E2:73:23:6D:89:41:86:64:D5:18:37:B9:F0:D0:76:6B:7B:A1:29:C6:98:A3:CB:22:25:EB:9C:C6
}

func ExampleNeedsRenewal() {
	root, _ := tlsutil.NewCA(tlsutil.CAOptions{KeyType: tlsutil.ECDSAP256})
	issued := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	leaf, _ := root.Issue(tlsutil.LeafOptions{
		Hosts: []string{"mirror.internal"}, KeyType: tlsutil.ECDSAP256,
		Validity: 90 * 24 * time.Hour, Now: func() time.Time { return issued },
	})
	renewBefore := 30 * 24 * time.Hour
	fmt.Println(tlsutil.NeedsRenewal(leaf.Cert, renewBefore, issued.Add(59*24*time.Hour)))
	fmt.Println(tlsutil.NeedsRenewal(leaf.Cert, renewBefore, issued.Add(61*24*time.Hour)))
	// Output:
	// false
	// true
}

// Write the PEM files a server, HAProxy and clients need, and serve them with hot
// reload: a renewal job that rewrites the files is picked up at the next handshake.
func ExampleNewReloader() {
	dir, err := os.MkdirTemp("", "tls")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	ca, _ := tlsutil.NewCA(tlsutil.CAOptions{KeyType: tlsutil.ECDSAP256})
	issue := func(cn string) {
		leaf, err := ca.Issue(tlsutil.LeafOptions{CommonName: cn, Hosts: []string{"mirror.internal", "10.0.0.20"}, KeyType: tlsutil.ECDSAP256})
		if err != nil {
			panic(err)
		}
		if err := leaf.WriteFiles(dir); err != nil {
			panic(err)
		}
	}
	issue("first")
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		fi, _ := e.Info()
		fmt.Println(fi.Mode().Perm(), e.Name())
	}

	r, err := tlsutil.NewReloader(filepath.Join(dir, tlsutil.FileFullchain), filepath.Join(dir, tlsutil.FileKey), tlsutil.ReloaderOptions{})
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Addr: ":8443", TLSConfig: r.ServerConfig()} // then srv.ListenAndServeTLS("", "")
	_ = srv
	fmt.Println("serving:", r.Current().Leaf.Subject.CommonName)
	issue("renewed")
	fmt.Println("serving:", r.Current().Leaf.Subject.CommonName)
	// Output:
	// -rw-r--r-- ca.pem
	// -rw-r--r-- cert.pem
	// -rw-r--r-- chain.pem
	// -rw------- combined.pem
	// -rw-r--r-- fullchain.pem
	// -rw------- key.pem
	// serving: first
	// serving: renewed
}

// Terminate TLS for whatever host a client names (SNI), with a leaf issued on demand by
// the local CA and cached: what a CONNECT proxy for api.snapcraft.io needs.
func ExampleHostIssuer() {
	root, err := tlsutil.NewCA(tlsutil.CAOptions{CommonName: "site CA", KeyType: tlsutil.ECDSAP256})
	if err != nil {
		panic(err)
	}
	issuer := &tlsutil.HostIssuer{CA: root, KeyType: tlsutil.ECDSAP256}
	cfg := &tls.Config{GetCertificate: issuer.GetCertificate, NextProtos: []string{"http/1.1"}}
	leaf, err := issuer.Certificate("api.snapcraft.io")
	if err != nil {
		panic(err)
	}
	fmt.Println(leaf.Leaf.DNSNames, cfg.GetCertificate != nil)
	// Output: [api.snapcraft.io] true
}
