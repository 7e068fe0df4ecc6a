// Package apt mirrors, filters, builds and re-signs Debian and Ubuntu repositories on the
// airgap store.
//
// A Mirror reads one or more upstream archives (URL and Suites, plus Upstreams: Debian's
// security archive has its own URL): for every suite it fetches InRelease (or Release and
// Release.gpg), verifies it against that upstream's keyring with store/pgp, refuses an
// expired Valid-Until (ErrExpired), a Date in the future (ErrFutureDate) and a Date older
// than the one already published (ErrRollback), then fetches every index it needs and
// checks each against the signed SHA256 or SHA512 sums (ErrIndexChecksum; only MD5/SHA1 is
// ErrWeakChecksums). Of the variants a Release lists (plain, zstd, gzip, xz, bzip2) it
// reads the cheapest to decode first (Mirror.IndexFormats), each by hash and then at its
// path, moving on when the upstream does not serve one. Each index is decoded and parsed
// once, as a stream (Reader) with per-field size caps; the regenerated index is copied
// from it by offset.
//
// A Filter picks packages by name or glob, section and priority, and follows Depends and
// Pre-Depends (optionally Recommends), alternatives and virtual packages (Provides)
// across every suite and component of every upstream together, honouring version
// constraints and choosing the newest version any of them offers (Universe.Closure).
// Every selected file is downloaded into the store, verified against its Packages entry;
// files already stored are never fetched again, and an unchanged upstream costs one
// conditional request per suite. Two upstreams that carry different files at one pool
// path are both published: the later one's under a path named by its checksum.
// Mirror.Plan reports what a sync would publish without fetching a pool file.
//
// The Publisher regenerates Packages, Sources and Translation indices (plain, .gz and
// .xz, all listed in Release), by-hash copies (keeping older generations for clients in
// the middle of an update), a Release with SHA256 and SHA512, Date and Valid-Until (never
// later than the upstream's), and signs InRelease and Release.gpg with the operator's
// key; the public key is exported into the tree. Origin, Label, Suite and Codename are
// kept from upstream. Publishing goes through store.Update, which switches the mirror's
// ref in one step: a failed or interrupted sync publishes nothing, and a sync that
// arrives at the published tree publishes no new generation. A change of what the tree
// was trusted with (a keyring, InsecureSkipSignature, an Allow switch) makes the next
// sync verify every Release again.
//
// With Mirror.Pristine the upstream's metadata is served instead, byte for byte:
// InRelease, Release and Release.gpg, and every index variant the upstream serves for the
// chosen components and architectures (Packages in each compression, by-hash copies,
// Translation, dep11, cnf, optionally Contents), each verified against the signed
// Release, so that clients keep trusting the upstream's own key. The filter still decides
// which pool files are held; the upstream's Valid-Until stays, and Suites reports it.
//
// Suites reads what a published tree holds per suite (components, architectures,
// upstream, signers, Valid-Until); Inventory lists every package file it holds as
// store.Items (name, version, PURL, digest, upstream URL, what vouched for it), from the
// tree's own indices. ReadDeb reads a .deb and produces its Packages stanza; Repository
// builds a signed repository from local .deb files (as reprepro includedeb does).
// NewHandler serves a published tree to apt.
package apt
