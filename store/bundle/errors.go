package bundle

import (
	"fmt"

	"github.com/airgapkit/airgap/store"
)

var (
	// ErrFormat: the bundle is not laid out as this package writes it (manifest not first,
	// unexpected entry, unsafe or unknown path, truncated stream, bad manifest).
	ErrFormat = fmt.Errorf("bundle: malformed bundle%.0w", store.ErrMalformed)
	// ErrMissingBlob: a blob the refs need is neither in the bundle nor in the store (an
	// incremental bundle imported without its predecessor).
	ErrMissingBlob = fmt.Errorf("bundle: missing blob%.0w", store.ErrNotFound)
	// ErrRollback: the bundle would move a ref to a generation older than the one
	// published.
	ErrRollback = fmt.Errorf("bundle: older than what is published%.0w", store.ErrRollback)
	// ErrUnsigned: the bundle carries no signature and ImportOptions did not allow that.
	ErrUnsigned = fmt.Errorf("bundle: unsigned%.0w", store.ErrUnsigned)
)
