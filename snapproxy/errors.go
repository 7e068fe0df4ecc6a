package snapproxy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// Sentinel errors that callers branch on with errors.Is. Digest mismatches of snap files
// wrap store.ErrDigestMismatch; HTTP failures wrap *fetch.HTTPError.
var (
	// ErrMalformedAssertion: assertion text that does not follow the format (headers,
	// body-length, blank lines, signature), or is truncated.
	ErrMalformedAssertion = fmt.Errorf("snapproxy: malformed assertion%.0w", store.ErrMalformed)
	// ErrTooLarge: an assertion or a stream of them exceeds the size caps.
	ErrTooLarge = fmt.Errorf("snapproxy: assertion too large%.0w", store.ErrTooLarge)
	// ErrSignature: a signature does not verify with the key that the assertion names.
	ErrSignature = fmt.Errorf("snapproxy: bad assertion signature%.0w", store.ErrSignature)
	// ErrUntrustedKey: an assertion is signed by a key that is neither trusted nor
	// certified (through an account-key assertion) by a trusted key.
	ErrUntrustedKey = fmt.Errorf("snapproxy: assertion signed by an untrusted key%.0w", store.ErrSignature)
	// ErrAssertionMismatch: the assertions do not describe the snap file they come with
	// (another snap-id, name, revision, size or sha3-384), or one is missing.
	ErrAssertionMismatch = errors.New("snapproxy: assertions do not match the snap")
	// ErrUnsupportedKey: an account-key holds a key that is not RSA, the only kind snapd
	// accepts (Ed25519, ECDSA, ... keys are refused, trusted or not).
	ErrUnsupportedKey = fmt.Errorf("snapproxy: account-key is not an RSA key%.0w", store.ErrSignature)
	// ErrConfig: a Mirror configuration cannot work (no Store, a bad name, url and its
	// deprecated name store_url disagreeing).
	ErrConfig = fmt.Errorf("snapproxy: invalid mirror configuration%.0w", store.ErrConfig)
	// ErrNoTrustedKeys: verification was asked for without any trusted root key.
	ErrNoTrustedKeys = fmt.Errorf("snapproxy: no trusted root account-key configured%.0w", store.ErrConfig)
	// ErrMalformed: a Store API answer is not the JSON the API defines.
	ErrMalformed = fmt.Errorf("snapproxy: malformed store response%.0w", store.ErrMalformed)
	// ErrNameNotFound: the store has no snap of that name (code name-not-found).
	ErrNameNotFound = fmt.Errorf("snapproxy: snap not found%.0w", store.ErrNotFound)
	// ErrRevisionNotFound: the snap exists but not at the requested revision, channel or
	// architecture (code revision-not-found). The *StoreError lists the releases that
	// exist.
	ErrRevisionNotFound = fmt.Errorf("snapproxy: revision not found%.0w", store.ErrNotFound)
	// ErrChannelNotFound: a revision-not-found answer to a request by channel (or by
	// neither channel nor revision: the default channel): the snap has nothing released
	// there for that architecture.
	ErrChannelNotFound = fmt.Errorf("snapproxy: channel not found%.0w", store.ErrNotFound)
	// ErrAssertionNotFound: the store has no assertion with those primary keys.
	ErrAssertionNotFound = fmt.Errorf("snapproxy: assertion not found%.0w", store.ErrNotFound)
)

// Release names one channel and architecture in which a snap is released.
type Release struct {
	Architecture string `json:"architecture"`
	Channel      string `json:"channel"`
}

// StoreError is an error result of the Store API for one snap (refresh "error" results
// and error-list entries). errors.Is matches ErrNameNotFound, ErrRevisionNotFound and
// ErrChannelNotFound according to Code and the request, and store.ErrNotFound for
// every code that says something does not exist.
type StoreError struct {
	// Name is the snap asked for.
	Name string
	// Code is the store's error code ("name-not-found", "revision-not-found", ...).
	Code string
	// Message is the store's human text.
	Message string
	// Channel and Revision repeat what was asked (neither: the default channel).
	Channel  string
	Revision int
	// Architecture is the device architecture of the request.
	Architecture string
	// Releases lists where the snap is released (revision-not-found only).
	Releases []Release
}

// Error describes the failure with what was asked and, for revision-not-found, where the
// snap is released.
func (e *StoreError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "snapproxy: %s", e.Name)
	switch {
	case e.Revision > 0:
		fmt.Fprintf(&b, " revision %d", e.Revision)
	case e.Channel != "":
		fmt.Fprintf(&b, " channel %s", e.Channel)
	case e.Code == "revision-not-found":
		b.WriteString(" default channel")
	}
	if e.Architecture != "" {
		fmt.Fprintf(&b, " (%s)", e.Architecture)
	}
	fmt.Fprintf(&b, ": %s", e.Code)
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if len(e.Releases) > 0 {
		rs := make([]string, len(e.Releases))
		for i, r := range e.Releases {
			rs[i] = r.Channel + "/" + r.Architecture
		}
		fmt.Fprintf(&b, " (released: %s)", strings.Join(rs, ", "))
	}
	return b.String()
}

// Is matches the sentinel for Code.
func (e *StoreError) Is(target error) bool {
	switch target {
	case ErrNameNotFound:
		return e.Code == "name-not-found" || e.Code == "snap-not-found"
	case ErrRevisionNotFound:
		return e.Code == "revision-not-found"
	case ErrChannelNotFound:
		return e.Code == "invalid-channel" || e.Code == "revision-not-found" && e.Revision == 0
	case store.ErrNotFound:
		return e.Is(ErrNameNotFound) || e.Is(ErrRevisionNotFound) || e.Is(ErrChannelNotFound) || e.Code == "id-not-found"
	}
	return false
}
