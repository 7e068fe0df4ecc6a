// Package galaxy mirrors Ansible collections and roles from a Galaxy server
// (galaxy.ansible.com, a galaxy_ng / Automation Hub with a token, or another airgap mirror)
// into a store, and serves them back as a Galaxy API that ansible-galaxy (ansible-core
// 2.14 and later) uses unchanged.
//
// Reading an upstream (Client): API discovery at /api/ (available_versions), the v3
// collection endpoints with pagination (links.next, absolute or root-relative, items
// under "data" or "results"; loops and runaway listings are errors; a page is read as a
// stream, one item at a time, so an upstream that ignores limit= costs no more memory),
// version details (download_url, artifact sha256 and size, metadata.dependencies,
// signatures), and the v1 role endpoints (roles/?owner__username=&name=,
// roles/{id}/versions/). The token goes to the upstream's origin only (scheme, host and
// port): a download_url or role archive elsewhere, or a redirect there, is fetched without
// it, and the SSO exchange (AuthURL) does not follow a redirect off its origin.
//
// Choosing (Mirror): collections by name with version ranges as requirements.yml writes
// them (">=8.0.0,<9", "==1.2.3", "!=2.0.0", "*"), the newest N, or whole requirements.yml
// files (collections and roles); dependencies are followed until the set is closed, and a
// dependency the upstream cannot satisfy fails the sync with a MissingDependencyError that
// shows the chain. Roles are chosen by owner.name and version.
//
// Mirroring: every artifact is verified against the upstream's sha256 while it streams into
// the store (signatures are kept and served); only versions the store lacks are fetched, and
// an unchanged upstream updated_at spares even the version listing. A sync publishes the ref
// "galaxy/<name>" atomically through store.Update: nothing when it fails, and no new
// generation when the result is what is published. Each artifact's content is checked as
// ansible-galaxy does (SkipArtifactCheck turns that off) unless the published tree
// vouches for it under the same trust settings: turning a check back on, or another
// upstream, checks everything again.
//
// Serving (NewHandler): /api/ discovery, /api/v3/collections/{ns}/{name}/ with an
// updated_at that changes whenever the version list does (ansible-galaxy caches version
// lists by it), /versions/ paginated with root-relative links.next (an absolute one breaks
// ansible-core 2.14), version details with an absolute download_url (from WithExternalURL,
// else the address of the listener the request came in on and the mount prefix; never the
// request's Host header), the artifacts with Range and ETag, and the v1
// role endpoints with the query strings the client sends. WriteStatic writes the collection
// part as a tree of files for a plain web server. Inventory lists what a published tree
// holds (collections as pkg:ansible package URLs, roles) from the mirror's records.
package galaxy
