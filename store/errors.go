package store

import "errors"

// Sentinel errors that callers branch on with errors.Is.
var (
	// ErrInvalidDigest: a digest string is not "sha256:<64 lower-case hex>".
	ErrInvalidDigest = errors.New("store: invalid digest")
	// ErrDigestMismatch: content did not hash (or measure) to what was expected.
	// Nothing was stored.
	ErrDigestMismatch = errors.New("store: digest mismatch")
	// ErrConflict: a compare-and-swap on a ref lost a race; the ref was not changed.
	ErrConflict = errors.New("store: conflict")
	// ErrLocked: another writer holds the store's writer lock.
	ErrLocked = errors.New("store: locked by another writer")
	// ErrUnsafePath: a path is absolute, climbs with "..", or holds NUL or other bytes that
	// could escape a tree.
	ErrUnsafePath = errors.New("store: unsafe path")
)

// The SDK's error vocabulary: the kinds of failure every package reports. A package's
// own sentinels keep their names and messages (apt.ErrRollback, pgp.ErrSignature,
// galaxy.ErrMalformed, ...) and also match one of these, so a program can ask
// errors.Is(err, store.ErrRollback) whatever mirror kind failed. The store itself returns
// ErrNotFound and ErrTooLarge.
var (
	// ErrConfig: a configuration cannot work (a missing field, a bad URL, a filter that
	// does not parse, a keyring that is not given).
	ErrConfig = errors.New("store: invalid configuration")
	// ErrRollback: upstream offers metadata older than what is already published (a
	// replay); refused unless the package's AllowRollback says otherwise.
	ErrRollback = errors.New("store: older than what is published (rollback)")
	// ErrSignature: a signature does not verify, or is by a key that is not trusted.
	ErrSignature = errors.New("store: bad signature")
	// ErrUnsigned: something that must be signed carries no signature.
	ErrUnsigned = errors.New("store: unsigned")
	// ErrMalformed: input (an index, a document, an API answer, a bundle) is not
	// well-formed.
	ErrMalformed = errors.New("store: malformed input")
	// ErrNotFound: no such blob, ref or snapshot path; for packages, no such package,
	// image, collection or resource upstream.
	ErrNotFound = errors.New("store: not found")
	// ErrTooLarge: content exceeded a size cap.
	ErrTooLarge = errors.New("store: content too large")
)
