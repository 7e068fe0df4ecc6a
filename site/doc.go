// Package site is the porcelain over the protocol packages: one configuration (the
// airgap.yaml that drives both sides of the gap) whose mirrors of every kind sync into one
// store and are served by one handler.
//
// [Load] or [Parse] read and validate a config (errors name the key and line; they match
// store.ErrConfig). Each entry becomes a [Mirror]: an adapter over its library package
// (apt, simplestreams, oci, pypi, galaxy, snapproxy) or the files kind, which fetches
// arbitrary URLs verified by the checksum they carry. [Config.Env] gives mirrors the
// store, a fetch client, the operator key and a logger; [Env.SyncAll] syncs several at once,
// each publishing atomically on its own. [NewServer] serves every mirror under
// /<kind>/<name>/, the first OCI mirror's registry API at /v2/, and the transparent hosts
// of Config.Hosts at their upstream paths, by Host header or as an HTTP proxy (refusing any
// other host: the inside never fetches upstream), and, for snaps mirrors with connect:,
// CONNECT tunnels to api.snapcraft.io whose TLS it terminates with certificates of the
// local CA, so that snapd refreshes from the mirror with only proxy.https and
// store-certs set. [Config.Status], [WriteInventory],
// [Config.WriteDNS] and [WriteEndpoints] tell an operator what is held, what to renew and
// what to open or point where.
//
// [Env.SyncAll] records each mirror's outcome in the store ([SyncRecordRef]), so that the
// server, another process, can tell it. [Config.Report] gathers everything an operator
// and a client need per mirror (figures, signer, freshness, last sync, client snippets,
// DNS lines) as a [StatusReport]; the server renders it as an HTML status page at / and
// serves it as /status.json, and exposes request and store figures at /metrics
// (prometheus/client_golang).
//
// The CLI examples/airgap is wiring over this package; other Go tools can build "sync
// these mirrors and serve them" in a few lines (see the package example).
package site
