// Package airgap is an SDK for carrying software into air-gapped data centres.
//
// It mirrors what an air-gapped MAAS, Kubernetes or OpenStack site needs — Debian and Ubuntu
// packages (apt), MAAS boot images (simplestreams), container images (oci), Python packages
// (pypi), Ansible collections and roles (galaxy) and snaps (snapproxy) — verifies every
// byte against the upstream's signatures and checksums, stores it once in a
// content-addressed store (store), carries it across the gap as a signed bundle
// (store/bundle) and serves it on the inside so that unmodified clients work.
//
// The packages compose around one core:
//
//	store         verified content-addressed blobs, snapshots, atomic publish, GC, locking
//	store/fetch   HTTP downloads into the store: verify while streaming, resume, retry, limits
//	store/pgp     OpenPGP keyrings, verification and (re-)signing
//	apt, simplestreams, oci, pypi, galaxy, snapproxy   one package per protocol
//	maasclient    the MAAS REST API, to point MAAS at the mirror
//	tlsutil       a local CA and hot-reloaded server certificates
//
// examples/airgap is a complete command-line tool built on these packages.
package airgap
