// Package bundle carries published mirrors across the air gap as one tar stream (optionally
// split into fixed-size volumes).
//
// A bundle holds, in this order: manifest.json (which refs it publishes, at which
// generation and snapshot, and every blob it carries), manifest.json.asc (the operator's
// detached OpenPGP signature over the manifest's exact bytes) and then the blobs, each as
// blobs/sha256/<hex>, in the order the manifest lists them.
//
// Export writes the blobs that the chosen refs' current generations need: generation
// records, snapshot manifests and every file. With a previous bundle's manifest it writes
// only what that bundle did not already bring inside (incremental).
//
// Import refuses anything it did not expect: a manifest that is not first or not signed by
// a trusted key, an entry that is not the next blob the manifest lists, a path that is not
// blobs/sha256/<hex>, a blob whose bytes do not hash to its name, a truncated stream, a
// generation older than the one already published. Every blob is verified as it is stored
// and every blob the refs need is checked to be present before any ref moves, so a bad
// bundle changes no published mirror.
package bundle
