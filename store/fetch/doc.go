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
//   - Retries with exponential backoff and jitter on network errors, idle reads
//     (Client.ReadTimeout), 5xx, 408 and 429, honouring Retry-After up to
//     Client.MaxRetryAfter. Other statuses fail at once with *HTTPError.
//   - Conditional GET: Request.Validators become If-None-Match / If-Modified-Since; a 304
//     gives Result.NotModified, so an unchanged index costs one small request.
//   - Limits: Client.PerHost concurrent requests per host:port, Client.RateLimit bytes per
//     second over all downloads.
//   - Redirects: at most MaxRedirects; headers from Request.Header (Authorization, tokens)
//     and cookies are never sent to another host:port.
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
// Errors: errors.As(err, new(*HTTPError)) for a status, errors.Is with
// store.ErrDigestMismatch (wrong content, or a Content-Length contradicting Expect.Size),
// store.ErrTooLarge, ErrUnsupportedURL, ErrTooManyRedirects, and ctx's error when the
// context ends.
package fetch
