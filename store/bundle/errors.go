package bundle

import "errors"

var (
	// ErrFormat: the bundle is not laid out as this package writes it (manifest not first,
	// unexpected entry, unsafe or unknown path, truncated stream, bad manifest).
	ErrFormat = errors.New("bundle: malformed bundle")
	// ErrMissingBlob: a blob the refs need is neither in the bundle nor in the store (an
	// incremental bundle imported without its predecessor).
	ErrMissingBlob = errors.New("bundle: missing blob")
	// ErrRollback: the bundle would move a ref to a generation older than the one
	// published.
	ErrRollback = errors.New("bundle: older than what is published")
	// ErrUnsigned: the bundle carries no signature and ImportOptions did not allow that.
	ErrUnsigned = errors.New("bundle: unsigned")
)
