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
// The published ref "snaps/<name>" holds, for each snap revision, the pair that
// `snap download` writes, NAME_REV.snap and NAME_REV.assert (assertions in the order
// `snap ack` needs them: account-keys, accounts, snap-declaration, snap-revision), a
// manifest.json, and install.sh which acks and installs everything in order: snapd, bases,
// content providers, applications (mapping `uname -m` to the dpkg architecture, with
// --classic or --devmode as the snap's confinement requires). NewHandler serves that tree;
// ReadOutput parses it back; Inventory lists its snaps as store.Items (an SBOM's entries).
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
