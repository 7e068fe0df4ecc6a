package store

import "errors"

// Sentinel errors that callers branch on with errors.Is.
var (
	// ErrInvalidDigest: a digest string is not "sha256:<64 lower-case hex>".
	ErrInvalidDigest = errors.New("store: invalid digest")
	// ErrDigestMismatch: content did not hash (or measure) to what was expected.
	// Nothing was stored.
	ErrDigestMismatch = errors.New("store: digest mismatch")
	// ErrNotFound: no such blob, ref or snapshot path.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a compare-and-swap on a ref lost a race; the ref was not changed.
	ErrConflict = errors.New("store: conflict")
	// ErrLocked: another writer holds the store's writer lock.
	ErrLocked = errors.New("store: locked by another writer")
	// ErrUnsafePath: a path is absolute, climbs with "..", or holds NUL or other bytes that
	// could escape a tree.
	ErrUnsafePath = errors.New("store: unsafe path")
	// ErrTooLarge: content exceeded a size cap.
	ErrTooLarge = errors.New("store: content too large")
)
