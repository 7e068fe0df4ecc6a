// Package retry is the SDK's one HTTP retry policy: which failures are worth another
// attempt, how long to wait before it, and how long one request may go on retrying.
//
// Classify sorts a failure into Permanent (TLS and certificate errors, an unsupported
// scheme, 400, 401, 403, 404, 410 and every status not listed as transient), Transient
// (408, 425, 429, 500, 502, 503, 504, timeouts, connections reset or cut short) and
// Unreachable (connection refused, no route, connect timeout, DNS failure: retried once
// at most, so that a dead upstream fails fast). A Policy turns that into waits:
// exponential backoff with jitter, or the wait a server asks for with Retry-After (both
// forms, ParseRetryAfter; capped by MaxRetryAfter), every sleep ending when the context
// does, and a budget (MaxTime) on the total time one request spends retrying, after
// which it fails with an error matching ErrGaveUp and its last failure.
//
// store/fetch retries every download with it; clients with request loops of their own (a
// registry transport, an API client, a token exchange) use Policy.Do, or Attempts for
// loops that need more control, so that every part of the SDK gives up on the same
// failures. The package depends on the standard library only.
package retry
