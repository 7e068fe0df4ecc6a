// Package maasclient is a client for the MAAS REST API 2.0 with what an air-gapped
// MAAS needs: pointing the boot source at a local image mirror with its keyring,
// choosing the images, pointing the package repositories at a local apt mirror,
// setting the configuration, importing the images and waiting for the import, plus
// users, SSH keys, machines and zones.
//
// A Client is made by New from the MAAS URL (http://host:5240/MAAS or
// https://host:5443/MAAS, with or without the trailing api/2.0/) and an API key
// "consumer_key:token_key:token_secret" (from `maas apikey --username admin`, or from
// Authenticate with a user name and password), or by Login, which keeps a session
// cookie instead. Every request is signed with OAuth 1.0a PLAINTEXT, with a fresh
// nonce and timestamp each time, retries and redirects included. Every call takes a
// context. Over https, Options.CACertPEM trusts a local CA (see package tlsutil);
// Options.InsecureSkipVerify is the explicit, logged way out; Options.HTTPClient
// injects a client of your own.
//
// Writes are POST/PUT/DELETE with multipart bodies: lists go as repeated keys, files
// (the boot source keyring_data) as file parts. A 503, a 429, or a 409 with
// Retry-After is retried after the time the server asks for, by the SDK's retry policy
// (store/fetch/retry; bounded by Options.MaxRetries and MaxRetryWait); other failures
// come back as *APIError, with the field errors of a 400 decoded, and match
// ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrNotFound (and store.ErrNotFound),
// ErrConflict or ErrUnavailable with errors.Is.
//
// ConfigureAirgap does the whole air-gap setup in one call, in the order MAAS needs:
// the boot source is updated in place (its keyring_filename cleared when keyring_data
// is uploaded), an import refreshes MAAS's boot source cache when MAAS does not know
// the mirror's images yet (MAAS 3.4-3.7 do not refresh it when boot source 1 changes),
// selections list "*" for what is not given (MAAS would store an empty list, which
// imports nothing), main_archive and ports_archive get only the pockets and components
// the apt mirror holds (AptArchive.Disabled), the import is waited for, and only then
// do the commissioning and default releases move and the selections not asked for go
// (MAAS up to 3.6 refuses to remove the commissioning release's selection).
//
// ConfigureSnapProxy points the machines' snapd at an airgap mirror's Snap Store API with
// what MAAS offers: its HTTP proxy settings, which the cloud-init MAAS gives a machine
// turns into `snap set system proxy.http/proxy.https`. MAAS has no setting for snapd's
// trusted CA, for a proxy store (proxy.store) or for the controllers' own snapd; the
// call returns the cloud-init user-data and the commands that do those.
package maasclient
