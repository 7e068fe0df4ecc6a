// Package store is the core every airgap mirror stands on: content-addressed blobs named by
// their SHA-256, verified before they become visible, immutable snapshots of path trees,
// and refs that publish a snapshot in one atomic compare-and-swap.
//
// A blob is written by Put (or a resumable Upload): the bytes stream into a temporary file
// while every checksum the caller expects (sha256, sha512, md5, sha3-384) and the size are
// checked in one pass; only content that matched is renamed into place. A mismatch is
// ErrDigestMismatch and leaves nothing behind.
//
// A Snapshot maps paths to blobs. WriteSnapshot stores it as a manifest blob; Publish points
// a ref at it provided the ref has not moved since the caller read it (ErrConflict
// otherwise), so a sync that fails or is interrupted publishes nothing and readers always
// see either the old tree or the new one. Each publish is a Generation chained to the one
// before; GC keeps the newest N generations of every ref and deletes the blobs no kept
// generation references.
//
// Backends implement Store: the filesystem store (Open) is the embedded default, Memory is
// for tests, and store/s3 puts the same store on object storage. Every backend passes the
// conformance suite in store/storetest.
//
// One process writes to a store at a time (Lock, TryLock; ErrLocked); readers never block.
// Snapshot.FS exposes a snapshot as an io/fs.FS, and NewHandler and ServeFile serve
// published trees over HTTP with Range and ETag support.
package store
