// Package apt mirrors, filters, builds and re-signs Debian and Ubuntu repositories on the
// airgap store.
//
// A Mirror reads an upstream archive: it fetches InRelease (or Release and Release.gpg),
// verifies it against the configured keyring with store/pgp, refuses an expired
// Valid-Until (ErrExpired), a Date in the future (ErrFutureDate) and a Date older than
// the one already published (ErrRollback), then fetches every index it needs (by hash
// when the Release offers it) and checks each against the signed SHA256 or SHA512 sums
// (ErrIndexChecksum; only MD5/SHA1 is ErrWeakChecksums). Indices may be plain or
// compressed with xz, gzip, bzip2 or zstd; they are parsed as streams (Reader) with
// per-field size caps.
//
// A Filter picks packages by name or glob, section and priority, and follows Depends and
// Pre-Depends (optionally Recommends), alternatives and virtual packages (Provides)
// across every suite and component of the mirror, honouring version constraints
// (Universe.Closure). Every selected file is downloaded into the store, verified against
// its Packages entry; files already stored are never fetched again, and an unchanged
// upstream costs one conditional request per suite.
//
// The Publisher regenerates Packages, Sources and Translation indices (plain, .gz and
// .xz, all listed in Release), by-hash copies (keeping older generations for clients in
// the middle of an update), a Release with SHA256 and SHA512, Date and Valid-Until, and
// signs InRelease and Release.gpg with the operator's key; the public key is exported
// into the tree. Origin, Label, Suite and Codename are kept from upstream. Publishing
// switches the mirror's ref in one step: a failed or interrupted sync publishes nothing.
//
// ReadDeb reads a .deb and produces its Packages stanza; Repository builds a signed
// repository from local .deb files (as reprepro includedeb does). NewHandler serves a
// published tree to apt.
package apt
