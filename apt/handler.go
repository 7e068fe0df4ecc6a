package apt

import (
	"net/http"

	"github.com/airgapkit/airgap/store"
)

// NewHandler serves the apt tree that ref publishes (e.g. "apt/debian"): dists/, pool/
// and the exported public key, at the paths apt requests, straight from the store, with
// Range, a strong ETag, If-None-Match (304) and Content-Type. Every request is answered
// from one complete published snapshot; a sync that is running or failed is never seen.
// Mount it under a prefix with http.StripPrefix, or at "/" for Host-based mirroring.
func NewHandler(s store.Store, ref string) http.Handler {
	return store.NewHandler(s, ref)
}
