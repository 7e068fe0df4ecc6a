// Package snapproxy carries snaps, with the assertions that make them installable, into
// an air-gapped network.
//
// On the connected side a Mirror asks the Snap Store API (POST /v2/snaps/refresh with
// download actions, per architecture) for the snaps it is configured with, pinned by
// channel or revision, sending the headers snapd sends (so that a snap asked for without
// a channel comes from its default track, as `snap install` gets it); it downloads each
// .snap through store/fetch, verified while streaming by the SHA3-384 and size the store
// announces (resumable, with retries, and without sending credentials to the CDN host the
// download redirects to); it fetches the account-key, account, snap-declaration and
// snap-revision assertions from /v2/assertions (with snapd's max-format), parses the
// assertion text format (headers, body-length, OpenPGP v4 signature), and verifies the
// signature chain up to a configured trusted root account-key as snapd does (keys named by
// sign-key-sha3-384, RSA only, the OpenPGP issuer not consulted), as well as the
// snap-revision's snap-sha3-384, size, snap-id and revision against the file. Canonical's
// real chain verifies from Canonical's real root. It follows what snapd would fetch before
// installing an application until the set is closed: the base from its snap.yaml ("core"
// when none is named, nothing for "none"), content plugs' default-providers, and snapd,
// which snapd >= 2.66 installs first on a classic system that lacks it.
//
// Several specs may name one snap (two channels, a pinned revision), and SnapSpec.Keep
// holds the last N revisions a channel had across syncs, taken from the published tree,
// so that a device on an older revision refreshes to the newest held one.
// Mirror.Assertions carries more assertions (validation sets, models, account-keys) with
// their chains; Mirror.StoreAssertion the Canonical-signed store assertion of a proxy
// store registered for the mirror.
//
// The published ref "snaps/<name>" holds, for each snap revision, the pair that
// `snap download` writes, NAME_REV.snap and NAME_REV.assert (assertions in the order
// `snap ack` needs them: account-keys, accounts, snap-declaration, snap-revision), a
// manifest.json (with each revision's channel releases, snap.yaml and the snaps' default
// tracks), install.sh which acks and installs everything in order: snapd, bases, content
// providers, applications (mapping `uname -m` to the dpkg architecture, with --classic or
// --devmode as the snap's confinement requires), and assertions.assert, store.assert and
// roots.assert when there is something to put in them. ReadOutput parses the tree back;
// Inventory lists its snaps as store.Items (an SBOM's entries).
//
// NewHandler serves that tree, and below /v2/ and /api/v1/ the Snap Store API that an
// unmodified snapd speaks (NewStoreHandler: refresh with install, refresh, download and
// fetch-assertions actions, info, find, assertions, downloads with Range, device
// sessions), answered from the published trees only, never upstream, with the error
// results the store gives for what is not held. A device points snapd at it either as a
// registered proxy store (snap ack the store assertion, snap set system
// proxy.store=ID) or through the mirror as HTTPS proxy for api.snapcraft.io with the
// local CA's certificates (site's connect:); DeviceSetup prints the commands.
//
// A sync publishes through store.Update: nothing when the tree is the one published
// under the same trust (the trusted root keys, Trust.Digest, and InsecureSkipSignature),
// a new generation that records it when the trust changed. Files already mirrored are not
// downloaded again, known by their sha3-384; their assertions are fetched and verified on
// every sync.
//
// Not covered: the export tarball of Snap Store Proxy's store-admin (its format is
// undocumented); the output here is what `snap ack` and `snap install` take, and what
// `snap download` writes.
//
// The package implements the wire protocol and the assertion format from their public
// documentation; it does not use snapd's code.
package snapproxy
