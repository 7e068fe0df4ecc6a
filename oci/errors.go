package oci

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/airgapkit/airgap/store"
)

// Sentinel errors that callers branch on with errors.Is. Digest mismatches are
// store.ErrDigestMismatch and size caps store.ErrTooLarge, as everywhere in the SDK.
var (
	// ErrNotFound: the registry has no such repository, tag, manifest or blob (404).
	ErrNotFound = fmt.Errorf("oci: not found%.0w", store.ErrNotFound)
	// ErrUnauthorized: the registry refused the credentials, or none were given (401/403).
	ErrUnauthorized = errors.New("oci: unauthorized")
	// ErrRateLimited: the registry kept answering 429 Too Many Requests.
	ErrRateLimited = errors.New("oci: rate limited")
	// ErrPlainHTTP: a request would have used plain http to a registry not configured
	// with PlainHTTP (or https to one that is).
	ErrPlainHTTP = errors.New("oci: scheme not allowed for this registry")
	// ErrInvalidReference: an image reference, repository or tag is malformed.
	ErrInvalidReference = errors.New("oci: invalid reference")
	// ErrUnsupportedMediaType: a manifest of a kind this package does not copy (schema 1).
	ErrUnsupportedMediaType = errors.New("oci: unsupported manifest media type")
	// ErrNoPlatform: a platform filter matched no entry of an index.
	ErrNoPlatform = errors.New("oci: no manifest for the requested platforms")
	// ErrMappingCollision: two source repositories map to the same target repository.
	ErrMappingCollision = errors.New("oci: two repositories map to the same target")
	// ErrInvalidManifest: a manifest is not valid JSON of the shape its media type says.
	ErrInvalidManifest = fmt.Errorf("oci: invalid manifest%.0w", store.ErrMalformed)
)

// RegistryError is a registry's error answer: the HTTP status and the distribution
// error codes from the JSON body, if any. errors.Is maps it to ErrNotFound and
// store.ErrNotFound (404), ErrUnauthorized (401, 403) and ErrRateLimited (429).
type RegistryError struct {
	Method     string
	URL        string
	StatusCode int
	Codes      []string // e.g. MANIFEST_UNKNOWN, BLOB_UNKNOWN, DENIED
	Message    string
}

// Error describes the failed request and the registry's error codes.
func (e *RegistryError) Error() string {
	s := fmt.Sprintf("oci: %s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if len(e.Codes) > 0 {
		s += " " + strings.Join(e.Codes, ",")
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is maps the status code to the package's sentinels.
func (e *RegistryError) Is(target error) bool {
	switch target {
	case ErrNotFound, store.ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	}
	return false
}

// RateLimitError is returned by RateLimitTransport when a registry still answers 429
// after the allowed retries, or asks for a wait longer than MaxWait. errors.Is(err,
// ErrRateLimited) holds.
type RateLimitError struct {
	URL      string
	Attempts int
	// Wait is how long the registry asked to wait (Retry-After or RateLimit-Reset), 0 if
	// it did not say.
	Wait time.Duration
	// Remaining and Limit are from RateLimit-Remaining / RateLimit-Limit (-1 if absent).
	Remaining, Limit int
}

// Error describes the request, the attempts and what the registry asked for.
func (e *RateLimitError) Error() string {
	s := fmt.Sprintf("oci: %s: 429 Too Many Requests after %d attempts", e.URL, e.Attempts)
	if e.Wait > 0 {
		s += fmt.Sprintf(" (registry asks to wait %s)", e.Wait)
	}
	if e.Limit >= 0 {
		s += fmt.Sprintf(" (quota %d, remaining %d)", e.Limit, e.Remaining)
	}
	return s
}

// Unwrap makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Unwrap() error { return ErrRateLimited }
