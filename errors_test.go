package airgap_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/airgapkit/airgap/apt"
	"github.com/airgapkit/airgap/galaxy"
	"github.com/airgapkit/airgap/maasclient"
	"github.com/airgapkit/airgap/oci"
	"github.com/airgapkit/airgap/pypi"
	"github.com/airgapkit/airgap/pypi/simple"
	"github.com/airgapkit/airgap/pypi/wheel"
	"github.com/airgapkit/airgap/simplestreams"
	"github.com/airgapkit/airgap/snapproxy"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/bundle"
	"github.com/airgapkit/airgap/store/pgp"
)

// TestSentinelsMatchTheVocabulary checks that every package sentinel of a shared kind
// matches it with errors.Is, keeps its own message, and stays distinct from the others.
func TestSentinelsMatchTheVocabulary(t *testing.T) {
	kinds := []error{store.ErrConfig, store.ErrRollback, store.ErrSignature, store.ErrUnsigned,
		store.ErrMalformed, store.ErrNotFound, store.ErrTooLarge}
	for _, c := range []struct {
		err  error
		kind []error
	}{
		{apt.ErrMalformed, []error{store.ErrMalformed}},
		{apt.ErrRollback, []error{store.ErrRollback}},
		{apt.ErrUnsatisfied, []error{store.ErrNotFound}},
		{simplestreams.ErrInvalidDocument, []error{store.ErrMalformed}},
		{simplestreams.ErrUnsigned, []error{store.ErrUnsigned}},
		{simplestreams.ErrFilter, []error{store.ErrConfig}},
		{simplestreams.ErrRollback, []error{store.ErrRollback}},
		{simplestreams.ErrConfig, []error{store.ErrConfig}},
		{oci.ErrNotFound, []error{store.ErrNotFound}},
		{oci.ErrInvalidManifest, []error{store.ErrMalformed}},
		{pypi.ErrConfig, []error{store.ErrConfig}},
		{simple.ErrMalformedIndex, []error{store.ErrMalformed}},
		{wheel.ErrMalformedMetadata, []error{store.ErrMalformed}},
		{galaxy.ErrConfig, []error{store.ErrConfig}},
		{galaxy.ErrMalformed, []error{store.ErrMalformed}},
		{galaxy.ErrNotFound, []error{store.ErrNotFound}},
		{galaxy.ErrRequirements, []error{store.ErrConfig}},
		{galaxy.ErrBadArtifact, []error{store.ErrMalformed}},
		{snapproxy.ErrMalformedAssertion, []error{store.ErrMalformed}},
		{snapproxy.ErrMalformed, []error{store.ErrMalformed}},
		{snapproxy.ErrTooLarge, []error{store.ErrTooLarge}},
		{snapproxy.ErrSignature, []error{store.ErrSignature}},
		{snapproxy.ErrUntrustedKey, []error{store.ErrSignature}},
		{snapproxy.ErrUnsupportedKey, []error{store.ErrSignature}},
		{snapproxy.ErrNoTrustedKeys, []error{store.ErrConfig}},
		{snapproxy.ErrNameNotFound, []error{store.ErrNotFound}},
		{snapproxy.ErrRevisionNotFound, []error{store.ErrNotFound}},
		{snapproxy.ErrChannelNotFound, []error{store.ErrNotFound}},
		{snapproxy.ErrAssertionNotFound, []error{store.ErrNotFound}},
		{maasclient.ErrNotFound, []error{store.ErrNotFound}},
		{maasclient.ErrInvalidAPIKey, []error{store.ErrConfig}},
		{maasclient.ErrInvalidURL, []error{store.ErrConfig}},
		{bundle.ErrFormat, []error{store.ErrMalformed}},
		{bundle.ErrMissingBlob, []error{store.ErrNotFound}},
		{bundle.ErrRollback, []error{store.ErrRollback}},
		{bundle.ErrUnsigned, []error{store.ErrUnsigned}},
		{pgp.ErrSignature, []error{store.ErrSignature}},
		{pgp.ErrUnknownKey, []error{store.ErrSignature, pgp.ErrSignature}},
		{pgp.ErrWeakSignature, []error{store.ErrSignature, pgp.ErrSignature}},
		{pgp.ErrKeyExpired, []error{store.ErrSignature, pgp.ErrSignature}},
		{pgp.ErrKeyRevoked, []error{store.ErrSignature, pgp.ErrSignature}},
		{pgp.ErrSignatureExpired, []error{store.ErrSignature, pgp.ErrSignature}},
		{pgp.ErrFutureSignature, []error{store.ErrSignature, pgp.ErrSignature}},
		{pgp.ErrMalformed, []error{store.ErrSignature, pgp.ErrSignature, store.ErrMalformed}},
	} {
		t.Run(c.err.Error(), func(t *testing.T) {
			for _, k := range c.kind {
				if !errors.Is(c.err, k) {
					t.Errorf("errors.Is(%q, %q) = false", c.err, k)
				}
			}
			for _, k := range kinds {
				want := false
				for _, w := range c.kind {
					want = want || w == k
				}
				if got := errors.Is(c.err, k); got != want {
					t.Errorf("errors.Is(%q, %q) = %v, want %v", c.err, k, got, want)
				}
			}
			if strings.Contains(c.err.Error(), "store:") || strings.Contains(c.err.Error(), "%!") {
				t.Errorf("message %q carries the shared kind's text", c.err)
			}
			// Wrapped with a cause, both stay matchable.
			cause := errors.New("cause")
			w := fmt.Errorf("%w: %w", c.err, cause)
			if !errors.Is(w, c.err) || !errors.Is(w, c.kind[0]) || !errors.Is(w, cause) {
				t.Errorf("%q loses a match when wrapped", w)
			}
			if errors.Is(c.kind[0], c.err) {
				t.Errorf("the shared kind %q matches the package sentinel %q", c.kind[0], c.err)
			}
		})
	}
}
