// Package oci carries container images and OCI artifacts into and out of an air gap.
//
// A Mirror copies a selection (references by tag or digest, whole repositories filtered
// by regex, semver range and latest N, image lists from text files and from Kubernetes
// or Helm YAML) from registries into the common store and publishes it as the ref
// "oci/<name>". Manifests are kept byte for byte, so every digest survives the copy;
// each manifest and blob is verified against its sha256 before it is stored. Multi-arch
// indexes are copied whole unless a platform filter is set; a filtered index is the
// mirror's own manifest and records the upstream digest it came from (Mirror.Platforms).
// Cosign signature tags and OCI 1.1 referrers travel with their images when asked, to
// any depth (referrers of index children, referrers of referrers). Non-distributable
// and foreign layers (with urls) are not copied. Every walk of a manifest tree (Sync,
// ImportLayout, Push, Copy) expands each manifest once however often indexes list it,
// refuses chains deeper than MaxManifestDepth (ErrTooDeep) and trees that list more than
// Mirror.MaxDescriptors descriptors (ErrTooManyDescriptors); both match store.ErrTooLarge.
// A sync publishes through store.Update:
// an image whose upstream digest did not change costs one HEAD, provided the tree was
// synced under the same trust (Mirror.Trust: the registries' Host, Endpoint and
// PlainHTTP); a sync that changes nothing publishes nothing. Inventory lists a published
// mirror's images and referrers as store.Items.
//
// The published snapshot is laid out like a registry's storage (see LocalName and the
// layout comment in layout.go): tags and manifests are files of the snapshot, so GC,
// bundles and history work as for every other mirror.
//
// Push copies a published mirror into a target registry under a Mapping (prefix or
// flattened names), skipping blobs the target has and mounting blobs across
// repositories; Copy does registry to registry directly. NewHandler serves the published
// mirror as a read-only distribution registry. ExportLayout and ImportLayout move images
// through OCI image layout directories. HostsToml and RegistriesConf write client
// configuration for the mapping.
//
// Network behaviour: https unless RegistryConfig.PlainHTTP is set for the host (never
// inferred from the address); credentials from RegistryConfig or the docker keychain;
// 429 answers and transient failures are retried by the SDK's retry policy
// (store/fetch/retry), waiting as Retry-After and RateLimit-* headers ask, within bounds
// (RateLimitTransport).
package oci
