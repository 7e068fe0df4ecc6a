// Package fetch downloads URLs into a store.Store: the one HTTP downloader that every
// protocol package uses.
//
// A Client verifies content while it streams (the store's Put and Upload do the hashing,
// once), so nothing unverified ever becomes a blob. Around that it adds what mirroring
// across an unreliable network needs:
//
//   - No request at all when the expected sha256 is already stored.
//   - Resume: when Request.Expect pins both the size and a checksum, the body is written to
//     a resumable store.Upload whose key is derived from the URL and the expected content.
//     An interrupted attempt (or run) continues with "Range: bytes=N-" and If-Range; a 206
//     appends, a 200 starts over. If resumed content fails verification it is discarded
//     and downloaded once more from scratch. Bodies of unknown size (indices) are not
//     resumed; they are capped by Request.MaxSize (store.ErrTooLarge), never truncated.
//   - Retries by the SDK's one policy (store/fetch/retry): exponential backoff with
//     jitter on what can succeed later (timeouts, idle reads past Client.ReadTimeout,
//     resets, 408, 425, 429, 500, 502, 503, 504), honouring Retry-After in both forms up
//     to Client.MaxRetryAfter; a refused connection or failed DNS lookup is retried once
//     at most, and TLS/certificate errors, unsupported schemes and other statuses fail at
//     once (*HTTPError). One Fetch spends at most Client.MaxRetryTime retrying
//     (retry.ErrGaveUp after). Cancelling ctx ends a wait at once; the error then matches
//     both ctx's error and the failure being retried.
//   - Conditional GET: Request.Validators become If-None-Match / If-Modified-Since; a 304
//     gives Result.NotModified, so an unchanged index costs one small request.
//   - Limits: Client.PerHost concurrent requests per host:port, Client.RateLimit bytes per
//     second over all downloads.
//   - Credentials stay on their origin (Origin: scheme, host and port): Request.Credentials
//     go only to the origins Request.CredentialOrigins allows (the request's own by
//     default), on the first request and on every redirect hop, so a download link or a
//     redirect to another origin, https to http on one host and port included, goes
//     without them. ScopeCredentials applies the same rule to a transport that
//     authenticates by itself (a registry's token exchange).
//   - Redirects: at most MaxRedirects; headers from Request.Header and any Authorization
//     or Cookie are not sent to another origin than the first request's.
//   - Progress events to Client.Progress, throttled, with one final Done event per Fetch.
//
// Plain Fetch accepts http and https URLs only. Request.Generic (or FetchGeneric) routes an
// URL through the Client's Getter instead — store/fetch/getter wraps hashicorp/go-getter:
// local paths, file://, s3::, gcs::, git:: and "?checksum=type:hex" URLs, for the generic
// "files" mirror kind; it is a separate package so that only programs that want those
// forms link go-getter's cloud SDKs. The file lands
// in a temporary directory and is then put into the store, verified against Expect and the
// checksum parameter; generic fetches do not resume or retry.
//
// A Client is configuration read once, at its first use: a package that needs another
// transport derives one with WithHTTP (sharing the limits) rather than changing a shared
// Client, which Fetch refuses (ErrClientModified). HTTPClient and RetryPolicy hand the
// same transport and retry policy to a protocol's requests that are not downloads.
//
// Errors: errors.As(err, new(*HTTPError)) for a status, errors.Is with
// store.ErrDigestMismatch (wrong content, or a Content-Length contradicting Expect.Size),
// store.ErrTooLarge, ErrUnsupportedURL, ErrTooManyRedirects, retry.ErrGaveUp,
// ErrClientModified, and ctx's error when the context ends.
package fetch
