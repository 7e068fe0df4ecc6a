package apt

import (
	"errors"
	"fmt"

	"github.com/airgapkit/airgap/store"
)

// Sentinel errors that callers branch on with errors.Is. Signature failures are store/pgp's
// errors (pgp.ErrSignature and the errors that match it); an unsafe path from an index is
// store.ErrUnsafePath; a download that does not match its index is also
// store.ErrDigestMismatch.
var (
	// ErrMalformed: a Release, Packages or Sources file, a dependency field or a .deb is
	// not well-formed.
	ErrMalformed = fmt.Errorf("apt: malformed input%.0w", store.ErrMalformed)
	// ErrExpired: the upstream Release is past its Valid-Until (see Mirror.AllowExpired).
	ErrExpired = errors.New("apt: Release expired (Valid-Until is past)")
	// ErrFutureDate: the upstream Release's Date lies in the future (see
	// Mirror.AllowFutureDate).
	ErrFutureDate = errors.New("apt: Release Date is in the future")
	// ErrRollback: the upstream Release is older than the one this store already
	// published for that suite (see Mirror.AllowRollback).
	ErrRollback = fmt.Errorf("apt: Release is older than the one already mirrored (rollback)%.0w", store.ErrRollback)
	// ErrWeakChecksums: a Release or an index entry carries only MD5 or SHA1 sums.
	ErrWeakChecksums = errors.New("apt: only weak checksums (MD5/SHA1)")
	// ErrIndexChecksum: an index file does not match what the signed Release says about
	// it (size or hash, compressed or after decompression). Also matches
	// store.ErrDigestMismatch when the download itself failed verification.
	ErrIndexChecksum = errors.New("apt: index does not match the signed Release")
	// ErrMissingIndex: the Release does not list an index the configuration needs (a
	// component, architecture or suite that upstream does not carry).
	ErrMissingIndex = errors.New("apt: index not listed in Release")
	// ErrPoolConflict: two upstreams of a pristine mirror carry different files at one
	// pool path; a pristine index cannot be rewritten to move one (see Mirror.Pristine).
	ErrPoolConflict = errors.New("apt: two upstreams carry different files at one pool path")
	// ErrUnsatisfied: a package named in the filter does not exist in any configured
	// suite (only with Filter.Strict).
	ErrUnsatisfied = fmt.Errorf("apt: package not found%.0w", store.ErrNotFound)
)
