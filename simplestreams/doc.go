// Package simplestreams mirrors simplestreams trees, above all the MAAS boot-image streams
// of images.maas.io, into a store and publishes them re-signed with the operator's key:
// the replacement for sstream-mirror in an air-gapped MAAS.
//
// # Format
//
// The entry point is an index:1.0 document (streams/v1/index.sjson or index.json) that
// names products:1.0 documents by path, relative to the mirror root. A products document
// holds products -> versions -> items; string and number fields of the document, a product
// and a version are inherited by everything below (ItemRef.Get, ItemRef.Flat), and
// `_aliases` expands a field value into the fields it stands for. An item names a file
// (path, size, and sha256, sha512 or md5: the strongest is checked). ParseIndex and
// ParseProducts read both documents, validate every path with store.ValidatePath and keep
// unknown fields so that the documents can be written back.
//
// # Signatures
//
// A .sjson document is clearsigned JSON; a .json document may come with a detached
// .json.gpg signature. Mirror.Sync verifies every document against the configured
// keyring: an .sjson entry point (or a keyring) makes signatures mandatory for every
// document below it (ErrUnsigned otherwise). Only Mirror.InsecureSkipSignature turns this
// off.
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
// Unlike sstream-mirror, which copies the upstream metadata verbatim and so advertises
// products it does not hold, Sync writes products documents that list exactly the items
// it mirrored (with their sha256 and size), regenerates the index with a fresh `updated`,
// signs every document with Mirror.Signer as .sjson (clearsigned) and as .json with a
// detached .json.gpg, and exports the public key as a binary keyring (what MAAS hands to
// gpgv as keyring_data) and armored (PublicKeyPath, ArmoredPublicKeyPath). The new tree
// is published atomically through the store ref "simplestreams/<name>"; a sync that fails
// at any point publishes nothing. NewHandler serves the published tree.
package simplestreams
