package maasclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// Sentinels that *APIError matches with errors.Is, by status code.
var (
	ErrBadRequest   = errors.New("maas: bad request")                      // 400
	ErrUnauthorized = errors.New("maas: unauthorized")                     // 401
	ErrForbidden    = errors.New("maas: forbidden")                        // 403
	ErrNotFound     = fmt.Errorf("maas: not found%.0w", store.ErrNotFound) // 404
	ErrConflict     = errors.New("maas: conflict")                         // 409
	ErrUnavailable  = errors.New("maas: service unavailable")              // 503
)

// Other errors.
var (
	// ErrInvalidAPIKey: an API key is not three non-empty parts separated by colons.
	ErrInvalidAPIKey = fmt.Errorf("maas: invalid API key%.0w", store.ErrConfig)
	// ErrInvalidURL: the MAAS URL is not an absolute http(s) URL.
	ErrInvalidURL = fmt.Errorf("maas: invalid MAAS URL%.0w", store.ErrConfig)
	// ErrLoginFailed: the user name and password were refused.
	ErrLoginFailed = errors.New("maas: login failed")
	// ErrImportIncomplete: the import finished but a selected image is missing.
	ErrImportIncomplete = errors.New("maas: boot resource import incomplete")
	// ErrImageUnavailable: MAAS refused a selection because its boot source does not
	// offer the image (the os/release, or an architecture, subarchitecture or label),
	// even after an import refreshed MAAS's cache of the source.
	ErrImageUnavailable = errors.New("maas: image not offered by the boot source")
	// ErrArchiveIncomplete: an apt mirror lacks a release that machines would deploy
	// from it, or holds no release at all.
	ErrArchiveIncomplete = errors.New("maas: apt mirror lacks a release")
)

// APIError is a response from MAAS with a status other than 2xx.
type APIError struct {
	Method     string
	URL        string
	StatusCode int
	// Body is the response body (capped at 64 KiB).
	Body string
	// Fields holds the field errors of a 400 response: field name -> messages.
	// MAAS sends them as a JSON object; "__all__" holds errors of the whole form.
	Fields map[string][]string
}

// Error describes the failure with the field errors, or the body.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "maas: %s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if len(e.Fields) > 0 {
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			sep := "; "
			if i == 0 {
				sep = ": "
			}
			fmt.Fprintf(&b, "%s%s: %s", sep, k, strings.Join(e.Fields[k], " "))
		}
		return b.String()
	}
	if body := strings.TrimSpace(e.Body); body != "" {
		if len(body) > 512 {
			body = body[:512] + "..."
		}
		b.WriteString(": ")
		b.WriteString(body)
	}
	return b.String()
}

// Is matches the sentinel of the status code (for 404 also store.ErrNotFound, the SDK's
// not-found).
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound, store.ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrUnavailable:
		return e.StatusCode == http.StatusServiceUnavailable
	}
	return false
}

// ParseFieldErrors decodes the body of a MAAS 400 response: a JSON object whose values
// are lists of messages (a single string or other JSON values are accepted and kept as
// text). It returns nil and an error when the body is not such an object (MAAS also
// answers 400 with plain text).
func ParseFieldErrors(body []byte) (map[string][]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("maas: field errors: %w", err)
	}
	if raw == nil {
		return nil, errors.New("maas: field errors: not an object")
	}
	out := make(map[string][]string, len(raw))
	for k, v := range raw {
		var list []string
		var one string
		var anyList []json.RawMessage
		switch {
		case json.Unmarshal(v, &list) == nil && list != nil:
			out[k] = list
		case json.Unmarshal(v, &one) == nil:
			out[k] = []string{one}
		case json.Unmarshal(v, &anyList) == nil && anyList != nil:
			for _, x := range anyList {
				var s string
				if json.Unmarshal(x, &s) == nil {
					out[k] = append(out[k], s)
				} else {
					out[k] = append(out[k], string(x))
				}
			}
			if out[k] == nil {
				out[k] = []string{}
			}
		default:
			out[k] = []string{string(v)}
		}
	}
	return out, nil
}
