// Package tlsutil is a small local certificate authority for the inside of an air gap,
// where no public CA can reach the servers.
//
// It creates a root CA (and optionally an intermediate under it), issues server
// certificates that carry several DNS names and IP addresses as subject alternative
// names (one certificate for every region controller and the virtual IP of an HA MAAS,
// or for a mirror that answers to archive.ubuntu.com, images.maas.io and its own IP),
// and writes them as the PEM files that the consumers want:
//
//	ca.pem         the root certificate, for clients' trust stores (curl --cacert, MAAS --cacert)
//	cert.pem       the leaf certificate alone
//	chain.pem      the intermediates, nearest first (empty when the root issued the leaf)
//	fullchain.pem  leaf + intermediates (what most servers want as their certificate)
//	key.pem        the private key, unencrypted, mode 0600
//	combined.pem   leaf + intermediates + key in one file (HAProxy's crt), mode 0600
//
// Leaf keys are RSA-2048 by default because `maas config-tls enable` accepts RSA keys
// only; RSA keys are written as PKCS#1 "RSA PRIVATE KEY", ECDSA keys (P-256, an option)
// as SEC1 "EC PRIVATE KEY". Certificates are backdated by five minutes against clock
// skew, and leaves live at most 397 days.
//
// A HostIssuer issues leaves on demand, one per host name a client asks for (SNI), and
// caches them: for a proxy that terminates the TLS of CONNECT tunnels to names the
// devices already use (api.snapcraft.io) with certificates of the local CA.
//
// Fingerprint renders the SHA-256 fingerprint the way the MAAS UI shows it, and
// NeedsRenewal tells a renewal job when to issue again. A Reloader serves the current
// certificate files from a tls.Config and picks up renewed ones without a restart;
// ClientConfig trusts a local CA bundle on top of the system roots.
package tlsutil
