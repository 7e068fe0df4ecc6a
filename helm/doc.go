// Package helm mirrors classic Helm chart repositories (an index.yaml and the chart
// archives it lists: chartmuseum, GitHub pages, chart-releaser on GitHub releases) into
// a store and serves them inside the gap as a chart repository that unmodified helm (v3
// and v4) adds, pulls from with --verify, and builds dependencies from.
//
// # Selection
//
// Mirror.Charts names charts and versions: a Masterminds/semver constraint as helm's
// --version takes it (prereleases only when it names one) and Latest N. The closure
// follows each held archive's Chart.yaml dependencies (Chart.lock's exact versions when
// present) that the archive does not vendor under charts/: one in the same repository
// is added to the mirror; one in another repository must be held by the helm mirror
// configured for that URL (Mirror.Repositories, by NormalizeURL): that mirror is synced
// first, and a version it does not hold is an error (ErrDependency) asking for it to be
// added there; an oci:// one is recorded for the oci mirror that holds that repository
// (Mirror.OCIRepositories), an error when none does. A file:// or unvendored local
// dependency, or one in a repository no mirror is configured for, is an error naming
// the chart, the dependency and the URL.
//
// # Verification
//
// Helm does not check an index's digest when it pulls; a sync does: the archive's
// sha256 must be the index's digest (ErrDigest). Its .prov (the archive URL + ".prov",
// as helm fetches it) must be clearsigned by a key of Mirror.Keyring (ErrSignature), list
// the archive's sha256 (ErrDigest) and name the chart and version the index lists, as
// must the archive's own Chart.yaml (ErrMetadata). A version without a .prov is logged,
// or refused under Required (ErrUnsigned). Every check runs on every changed index, so
// a held version whose upstream digest changes is fetched and verified again: a valid
// re-release replaces it, anything else fails the mirror and keeps the published tree.
// Any failure publishes nothing.
//
// # Serving
//
// The tree is published atomically under "helm/<name>" (store.Update): index.yaml,
// <chart>-<version>.tgz and <chart>-<version>.tgz.prov. The served index lists only the
// held versions, each with one relative URL (so it works under any prefix) and its
// digest, and keeps every other field the upstream wrote, known or not (created,
// annotations, deprecated, dependencies, generated, serverInfo). An unchanged upstream
// costs one conditional GET of index.yaml. Charts and Inventory list what is held,
// including for each version the fingerprint of the key that signed it and the
// dependencies other mirrors serve: what rendering a chart's images needs (its archive
// is in the store under Held.Digest).
package helm
