// Package rpm mirrors RPM (dnf/yum) repositories, such as Rocky's, RHEL's or CentOS's
// BaseOS and AppStream, into a store and publishes them for the inside of the gap: the
// repositories a CentOS, RHEL or Rocky machine deployed by an air-gapped MAAS installs
// from.
//
// # Verification
//
// Mirror.Sync reads each repository's repodata/repomd.xml and verifies it against
// repomd.xml.asc with the vendor's keyring (what dnf's repo_gpgcheck checks); its
// revision may not go backwards (ErrRollback). Every <data> file is then checked
// against repomd.xml: checksum (sha256, sha512, sha1 "sha", sha224, sha384) and size,
// and the open-checksum and open-size of its decompressed content (.gz, .xz, .bz2,
// .zst). Every package is checked against primary's checksum and size and stored byte
// for byte, so the vendor's header signatures stay valid. A location's href must be a
// safe relative path; an xml:base is fetched from and dropped (filtered mode) or
// refused (ErrXMLBase, pristine mode). A bad signature, checksum or missing file fails
// the sync and publishes nothing.
//
// # Pristine and filtered
//
// Pristine publishes the upstream's repodata byte for byte (every data type: sqlite
// databases, comps, updateinfo, modules, zchunk, unknown ones), so clients keep the
// vendor's key for both checks. Otherwise the mirror holds the Filter's selection and
// the closure over all its repositories (Requires of every kind, virtual provides,
// file provides found in primary and filelists, every branch a rich dependency may
// take, Recommends and Supplements unless Weak is false, the newest provider and an
// older version only where a versioned requirement needs it, dnf's modular filtering
// with the default streams), regenerates primary, filelists and other from the
// upstream's own elements, filters comps, updateinfo and modules.yaml to match, and
// signs the new repomd.xml with the operator's key (Mirror.Signer).
//
// # Serving
//
// The tree is published atomically under the ref "rpm/<name>" (store.Update), each
// repository at its upstream path, with the vendor's key at keys/upstream.asc (.gpg)
// and the operator's at keys/mirror.asc (.gpg). NewHandler serves it, and a ready
// /<name>.repo file (RepoDefs, RepoFile); Repos and Inventory tell what is published. An
// unchanged upstream costs one conditional GET of repomd.xml and one of repomd.xml.asc
// per repository.
//
// Parsers stream: primary, filelists, other and updateinfo are read one element at a
// time (MaxElementSize), so memory follows the largest package, not the repository.
package rpm
