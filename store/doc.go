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
// # Syncing
//
// Every mirror publishes through Update, one transaction: it reads the current
// generation, hands it to the caller's build function (Prev), and publishes the result
// only when it differs in files or annotations from what is published, so a resync that
// changed nothing adds no generation (GC's history and incremental bundles stay real).
// Update records with each generation the Trust it was verified under: the trust roots
// (keyrings, the upstream) and every setting that loosens a check, which TrustOf finds by
// reflection in the mirror's configuration. A sync whose Trust differs from the recorded
// one is given no previous snapshot to reuse and cannot keep the published one: it
// verifies everything again. SyncResult is the part of every package's SyncStats that
// says what was published and what it cost.
//
// # Errors
//
// Besides the store's own sentinels (ErrDigestMismatch, ErrConflict, ErrLocked, ...),
// the package defines the SDK's error vocabulary: ErrConfig, ErrRollback, ErrSignature,
// ErrUnsigned, ErrMalformed, ErrNotFound, ErrTooLarge. Each protocol package's sentinels
// keep their own names and messages and match one of these with errors.Is, so a program
// can branch on the kind of failure whatever mirror kind reported it.
//
// Backends implement Store: the filesystem store (Open) is the embedded default, Memory is
// for tests, and store/s3 puts the same store on object storage. Every backend passes the
// conformance suite in store/storetest.
//
// One process writes to a store at a time (Lock, TryLock; ErrLocked); readers never block.
// Snapshot.FS exposes a snapshot as an io/fs.FS, and NewHandler and ServeFile serve
// published trees over HTTP with Range and ETag support.
package store
