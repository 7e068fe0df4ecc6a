package simplestreams

import (
	"net/http"

	"github.com/airgapkit/airgap/store"
)

// NewHandler serves the tree that the ref (Mirror.Ref: "simplestreams/<name>") publishes,
// at the paths MAAS asks for: streams/v1/index.sjson, the products documents, the items
// and the exported keys, with Range, ETag and If-None-Match. Mount it at the boot-source
// URL's path (with http.StripPrefix) or at "/".
func NewHandler(s store.Store, ref string) http.Handler {
	return store.NewHandler(s, ref)
}
