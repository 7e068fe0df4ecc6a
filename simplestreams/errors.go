package simplestreams

import (
	"fmt"

	"github.com/airgapkit/airgap/store"
)

// Sentinel errors that callers branch on with errors.Is. Signature failures wrap the
// store/pgp sentinels (pgp.ErrSignature, pgp.ErrUnknownKey, ...); item paths that escape
// the mirror wrap store.ErrUnsafePath; items whose content does not match the index wrap
// store.ErrDigestMismatch.
var (
	// ErrInvalidDocument: a document is not well-formed JSON of the expected format
	// (index:1.0, products:1.0), is truncated, or breaks a structural rule (an object where
	// a string belongs, an item without a checksum, two items at one path that disagree).
	ErrInvalidDocument = fmt.Errorf("simplestreams: invalid document%.0w", store.ErrMalformed)
	// ErrUnsigned: the entry point was signed, or a keyring was configured, but a document
	// arrived without a signature (a plain .json without its .json.gpg, or an .sjson that
	// is not clearsigned).
	ErrUnsigned = fmt.Errorf("simplestreams: unsigned document%.0w", store.ErrUnsigned)
	// ErrFilter: a filter expression does not parse (see ParseFilter).
	ErrFilter = fmt.Errorf("simplestreams: invalid filter%.0w", store.ErrConfig)
	// ErrRollback: the upstream index is older than the one the published mirror was built
	// from (a replay of old metadata). Mirror.AllowRollback accepts it.
	ErrRollback = fmt.Errorf("simplestreams: upstream index is older than the published one%.0w", store.ErrRollback)
	// ErrConfig: the Mirror is missing something it needs (URL, Store, keyring).
	ErrConfig = fmt.Errorf("simplestreams: invalid configuration%.0w", store.ErrConfig)
)

// DocumentError reports which document (a path relative to the mirror root) failed and
// why. Err wraps one of the sentinels above or of store/pgp, store and store/fetch.
type DocumentError struct {
	Path string
	Err  error
}

// Error names the document and the cause.
func (e *DocumentError) Error() string { return fmt.Sprintf("simplestreams: %s: %v", e.Path, e.Err) }

// Unwrap returns the cause.
func (e *DocumentError) Unwrap() error { return e.Err }

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidDocument}, args...)...)
}
