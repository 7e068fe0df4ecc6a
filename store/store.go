package store

import (
	"context"
	"io"
	"time"
)

// BlobInfo describes a stored blob.
type BlobInfo struct {
	Digest Digest
	Size   int64
}

// Blob is an open blob: seekable, so that HTTP handlers can answer Range requests.
type Blob interface {
	io.ReadSeekCloser
	// Size is the blob's length in bytes.
	Size() int64
}

// Store is a backend: verified content-addressed blobs, refs with compare-and-swap, and a
// writer lock. Snapshots, publishing and GC are built once on top of it (see Publish,
// WriteSnapshot, GC), so every backend gets them for free. The conformance suite in
// store/storetest defines the contract.
//
// All methods are safe for concurrent use.
type Store interface {
	// Put streams r into the store, verifying every checksum and the size in e on the way.
	// The blob becomes visible only after it matched; on any error nothing is left behind.
	// Putting content that is already stored is cheap and returns the same BlobInfo.
	Put(ctx context.Context, e Expect, r io.Reader) (BlobInfo, error)
	// Begin starts or resumes an upload identified by key (any string; the same key on the
	// next run resumes the same partial upload). One upload of a key at a time: while one
	// is open (not yet closed, committed or aborted), Begin fails with ErrLocked. See
	// Upload.
	Begin(ctx context.Context, key string) (Upload, error)
	// Open opens a blob for reading. ErrNotFound when absent.
	Open(ctx context.Context, d Digest) (Blob, error)
	// Stat describes a blob. ErrNotFound when absent.
	Stat(ctx context.Context, d Digest) (BlobInfo, error)
	// Has reports whether a blob is stored.
	Has(ctx context.Context, d Digest) (bool, error)
	// Delete removes a blob. Deleting an absent blob is not an error.
	Delete(ctx context.Context, d Digest) error
	// Walk calls fn for every stored blob, in no particular order.
	Walk(ctx context.Context, fn func(BlobInfo) error) error

	// Ref returns the digest a ref points at. ErrNotFound when the ref does not exist.
	Ref(ctx context.Context, name string) (Digest, error)
	// SwapRef sets ref name to new if it currently points at old ("" = does not exist);
	// new "" deletes it. ErrConflict when the current value is not old.
	SwapRef(ctx context.Context, name string, old, new Digest) error
	// Refs lists every ref name, sorted.
	Refs(ctx context.Context) ([]string, error)

	// Lock takes the store's single writer lock, waiting until ctx is done. TryLock fails
	// at once with ErrLocked. The returned func releases the lock.
	Lock(ctx context.Context) (unlock func() error, err error)
	TryLock(ctx context.Context) (unlock func() error, err error)
}

// Upload is a resumable write of one blob. Offset tells how many bytes a previous attempt
// already holds: write the rest (e.g. with an HTTP Range request) and Commit. Commit
// verifies the whole content against the Expect; on a mismatch the partial data is
// discarded. Close without Commit keeps the partial data for a later Begin with the same
// key; Abort discards it.
type Upload interface {
	io.Writer
	Offset() int64
	Commit(ctx context.Context, e Expect) (BlobInfo, error)
	Abort() error
	Close() error
}

// PartialLister is implemented by backends that keep partial uploads; PurgePartials lets GC
// remove those older than a cutoff.
type PartialLister interface {
	PurgePartials(ctx context.Context, olderThan time.Time) (int, error)
}
