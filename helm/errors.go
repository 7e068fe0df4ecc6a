package helm

import (
	"fmt"

	"github.com/airgapkit/airgap/store"
)

// Errors a sync returns, each also matching one of the store's kinds, so that errors.Is
// works with either.
var (
	// ErrMalformed: index.yaml, a chart archive, its Chart.yaml or a .prov does not parse.
	ErrMalformed = fmt.Errorf("helm: malformed%.0w", store.ErrMalformed)
	// ErrDigest: a chart archive's sha256 is not the digest its index lists, or not the
	// one its .prov lists.
	ErrDigest = fmt.Errorf("helm: chart digest mismatch%.0w", store.ErrDigestMismatch)
	// ErrSignature: a .prov does not verify with the mirror's keyring.
	ErrSignature = fmt.Errorf("helm: bad provenance signature%.0w", store.ErrSignature)
	// ErrUnsigned: Required and a chart version has no .prov.
	ErrUnsigned = fmt.Errorf("helm: chart has no provenance%.0w", store.ErrUnsigned)
	// ErrMetadata: the name or version in a chart's own Chart.yaml, or in its .prov, is
	// not the one the index lists.
	ErrMetadata = fmt.Errorf("helm: chart metadata does not match the index%.0w", store.ErrMalformed)
	// ErrDependency: a chart needs a chart from a repository no mirror is configured for,
	// a file:// dependency that is not vendored, or a version the mirror that serves its
	// repository does not hold.
	ErrDependency = fmt.Errorf("helm: unresolved dependency%.0w", store.ErrConfig)
	// ErrNoChart: a configured chart is not in the index, or no version satisfies its
	// constraint.
	ErrNoChart = fmt.Errorf("helm: no such chart version%.0w", store.ErrNotFound)
)
