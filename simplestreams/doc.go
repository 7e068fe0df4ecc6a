// Package simplestreams mirrors simplestreams trees, above all the MAAS boot-image streams
// of images.maas.io, into a store and publishes them re-signed with the operator's key or,
// pristine, with the upstream's signed documents kept verbatim: the replacement for
// sstream-mirror in an air-gapped MAAS.
//
// # Format
//
// The entry point is an index:1.0 document (streams/v1/index.sjson or index.json) that
// names products:1.0 documents by path, relative to the mirror root. A products document
// holds products -> versions -> items; string, number and boolean fields of the document, a
// product and a version are inherited by everything below (ItemRef.Get, ItemRef.Flat),
// printed as the simplestreams client prints them (Python's str(): "True", "False", "1.0"),
// and `_aliases` expands a field value into the fields it stands for. An item names a file
// (path, size, and any of sha512, sha256 and md5: every one listed is checked, since the
// client inside checks the one it prefers). ParseIndex and ParseProducts read both
// documents, validate every path with store.ValidatePath and keep unknown fields so that
// the documents can be written back.
//
// # Signatures
//
// A .sjson document is clearsigned JSON; a .json document may come with a detached
// .json.gpg signature. Mirror.Sync verifies every document against the configured
// keyring: an .sjson entry point (or a keyring) makes signatures mandatory for every
// document below it (ErrUnsigned otherwise). Only Mirror.InsecureSkipSignature turns this
// off. An index entry that lists a size or checksums binds the products document at its
// path (the file as served) to them.
//
// # Selection
//
// Filters are sstream-mirror's expressions on the flattened item: key=value, key!=value,
// key~regex, key!~regex (unanchored RE2; a missing key is ""), ANDed (ParseFilter).
// MAASSelection picks images the way a MAAS boot-source selection does (os, release,
// arches, subarches, labels) and always keeps the bootloaders (IsBootloader). Mirror.Max
// keeps the newest N versions of each product (version names compare as strings; MAAS only
// uses the newest) and the next sync prunes the rest.
//
// # Publishing
//
// By default Sync re-signs: it writes products documents that list exactly the items it
// mirrored (with every checksum verified, and their sha256 and size), regenerates the index
// with a fresh `updated`, signs every document with Mirror.Signer as .sjson (clearsigned)
// and as .json with a detached .json.gpg, and exports the public key as a binary keyring
// (what MAAS hands to gpgv as keyring_data) and armored (PublicKeyPath,
// ArmoredPublicKeyPath). Clients then trust the operator's key.
//
// With Mirror.Pristine, Sync keeps the upstream's documents byte for byte, as
// sstream-mirror does, and holds only the selected items: clients keep verifying with the
// upstream's keyring (MAAS with its stock ubuntu-cloudimage-keyring), and select no more
// than the mirror holds. The upstream's signatures cannot be renewed; ReadUpstreamState
// tells when they were made and when they expire, if ever (simplestreams has no
// Valid-Until; only OpenPGP signature and key expiry apply).
//
// Every path in the tree is relative to the upstream mirror root, so the tree can be served
// at the upstream's own URL path. The new tree is published atomically through the store
// ref "simplestreams/<name>" (store.Update); a sync that fails at any point publishes
// nothing, and the last verified tree stays served. Each generation records the trust
// settings it was verified under (InsecureSkipSignature, AllowRollback and the upstream
// keyring's digest): a sync under other settings reuses nothing of it, neither validators
// nor checksums, and reads and verifies every document again. NewHandler serves the
// published tree; Inventory lists the items it holds.
package simplestreams
