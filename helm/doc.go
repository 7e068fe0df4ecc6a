// Package helm mirrors Helm chart repositories (a classic one, an index.yaml and the
// chart archives it lists: chartmuseum, GitHub pages, chart-releaser on GitHub
// releases; or charts in an OCI registry, oci://host/path) into a store and serves them
// inside the gap as a chart repository that unmodified helm (v3 and v4) adds, pulls
// from with --verify, and builds dependencies from.
//
// # Selection
//
// The upstream index is stored as fetched and read with ReadIndex: only the configured
// charts' entries are decoded (a dependency's chart is read from the stored index when
// a held archive names it), so memory follows the charts held, not the index.
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
// # OCI repositories
//
// With Mirror.URL oci://host/path, chart <c> is the registry repository host/path/<c>
// (what `helm push <c>.tgz oci://host/path` makes). Its tags are listed (every page,
// following the Link header) and read as versions, "_" as "+" (OCI tags allow no "+";
// helm push writes it so), tags that are not versions skipped; Charts selects among
// them exactly as among an index's versions. Each selected tag's manifest must have the
// helm config (MediaTypeChartConfig) and one chart layer (MediaTypeChart); every blob
// is checked against its descriptor's digest and size (ErrDigest). The provenance layer
// (MediaTypeProvenance) is a .prov and is verified as one: signature, the chart layer's
// sha256, name and version; a version without one is logged, or refused under Required
// (ErrUnsigned). The archive's own Chart.yaml must name the tag's version (ErrMetadata).
// A dependency on the same oci:// URL is added to the mirror, as for an index
// repository. The registry is asked over https unless PlainHTTP, with the credentials
// of Mirror.Keychain (docker config.json and credential helpers by default; site gives
// the oci mirrors' registries: entries for the host, and their plain_http). An unknown
// chart (the registry's 404 NAME_UNKNOWN) is ErrNoChart. There is no index to ask
// conditionally: every sync lists the tags and reads the manifests (a few small
// requests per chart); blobs already held are not downloaded again.
//
// Such a mirror is served like any other, as a classic repository (below): its index
// is built from the charts' config blobs (their Chart.yaml, what helm itself writes
// into an index entry) with the manifest's creation time, so that `helm repo add`,
// `helm search` and `dependency build` with an https:// repository work inside though
// the upstream was a registry. The archives are the chart layers, byte for byte. To
// keep oci:// references working unchanged inside (a chart's oci:// dependencies,
// pipelines that `helm pull oci://`), mirror the same repositories with an oci mirror
// as well: the registry at /v2/ then serves the upstream's manifests with their
// digests and provenance layers (helm pull --verify works), and the store holds each
// blob once for both.
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
