package rpm

import (
	"errors"
	"fmt"

	"github.com/airgapkit/airgap/store"
)

// Errors a sync returns, each also matching one of the store's kinds (store.ErrMalformed,
// store.ErrSignature, ...), so that errors.Is works with either.
var (
	// ErrMalformed: repomd.xml, primary, filelists, other, comps, updateinfo or
	// modules.yaml does not parse, or a dependency or EVR is ill-formed.
	ErrMalformed = fmt.Errorf("rpm: malformed metadata%.0w", store.ErrMalformed)
	// ErrChecksum: a metadata file or package does not match the checksum or size its
	// signed repomd.xml (or primary) lists.
	ErrChecksum = fmt.Errorf("rpm: checksum mismatch%.0w", store.ErrDigestMismatch)
	// ErrSignature: repomd.xml.asc (or a package header signature) does not verify with
	// the keyring.
	ErrSignature = fmt.Errorf("rpm: bad signature%.0w", store.ErrSignature)
	// ErrUnsigned: repomd.xml has no repomd.xml.asc.
	ErrUnsigned = fmt.Errorf("rpm: repomd.xml is not signed%.0w", store.ErrUnsigned)
	// ErrRollback: an upstream repomd.xml's revision is older than the published one.
	ErrRollback = fmt.Errorf("rpm: repomd.xml revision went backwards%.0w", store.ErrRollback)
	// ErrMissing: a file the metadata lists is not served upstream, or a repository
	// lacks primary.
	ErrMissing = fmt.Errorf("rpm: listed file missing%.0w", store.ErrNotFound)
	// ErrXMLBase: a pristine mirror met a package whose location has an xml:base (its
	// metadata would have to be rewritten to serve it).
	ErrXMLBase = fmt.Errorf("rpm: location with xml:base in a pristine mirror%.0w", store.ErrConfig)
	// ErrUnsatisfied: Filter.Strict and a filter package or a dependency has no provider.
	ErrUnsatisfied = errors.New("rpm: unsatisfied")
)
