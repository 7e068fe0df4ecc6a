package galaxy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// Sentinel errors that callers branch on with errors.Is. Digest mismatches of artifacts
// wrap store.ErrDigestMismatch; HTTP failures wrap *fetch.HTTPError.
var (
	// ErrConfig: the Mirror cannot work as configured (no Store, a bad name, a url and its
	// deprecated name upstream that disagree).
	ErrConfig = fmt.Errorf("galaxy: invalid configuration%.0w", store.ErrConfig)
	// ErrMalformed: an upstream answer is not the JSON the Galaxy API defines (bad
	// syntax, a missing or mistyped field, an unsafe name).
	ErrMalformed = fmt.Errorf("galaxy: malformed response%.0w", store.ErrMalformed)
	// ErrNoAPI: the upstream has no Galaxy API root (no available_versions), or lacks the
	// API version needed (v3 for collections, v1 for roles).
	ErrNoAPI = errors.New("galaxy: no Galaxy API")
	// ErrPaginationLoop: a links.next chain came back to a page already read, or a page
	// made no progress.
	ErrPaginationLoop = errors.New("galaxy: pagination loops")
	// ErrTooManyPages: a listing went on beyond the page cap.
	ErrTooManyPages = errors.New("galaxy: too many pages")
	// ErrNotFound: the upstream has no such collection, version or role.
	ErrNotFound = fmt.Errorf("galaxy: not found%.0w", store.ErrNotFound)
	// ErrNoChecksum: the upstream gives no sha256 for an artifact (refused unless
	// Mirror.AllowMissingChecksum).
	ErrNoChecksum = errors.New("galaxy: artifact without sha256")
	// ErrNoMatch: no upstream version satisfies a requested range.
	ErrNoMatch = errors.New("galaxy: no version matches")
	// ErrMissingDependency: a dependency cannot be satisfied from the upstream; the error
	// is a *MissingDependencyError with the chain that led to it.
	ErrMissingDependency = errors.New("galaxy: missing dependency")
)

// MissingDependencyError reports a collection dependency that the upstream cannot satisfy,
// with the chain of requirements that led to it.
type MissingDependencyError struct {
	// Chain runs from the requested collection version to the one that declares the
	// dependency, e.g. ["acme.app:1.0.0", "acme.lib:2.1.0"].
	Chain []string
	// Dependency is the collection name and Range the requirement that failed.
	Dependency string
	Range      string
	// Err says why: ErrNotFound (no such collection) or ErrNoMatch (no matching version).
	Err error
}

// Error names the dependency, the chain that required it and the reason.
func (e *MissingDependencyError) Error() string {
	return fmt.Sprintf("galaxy: missing dependency %s:%s (required by %s): %v",
		e.Dependency, e.Range, strings.Join(e.Chain, " -> "), e.Err)
}

// Is makes errors.Is(err, ErrMissingDependency) true.
func (e *MissingDependencyError) Is(target error) bool { return target == ErrMissingDependency }

// Unwrap returns the reason.
func (e *MissingDependencyError) Unwrap() error { return e.Err }
