package fetch

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP-date (RFC 9110
// 10.2.3). A date in the past is a zero wait. Huge values saturate; the caller caps them.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		// Anything over a day is as good as infinite: the caller caps it anyway.
		if len(v) > 6 {
			return 24 * time.Hour, true
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, false
		}
		return min(time.Duration(n)*time.Second, 24*time.Hour), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	if d < 0 {
		d = 0
	}
	return min(d, 24*time.Hour), true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

var errContentRange = errors.New("fetch: malformed Content-Range")

// parseContentRange reads "bytes first-last/complete" (complete may be "*", then -1) of a
// 206 response (RFC 9110 14.4). Unsatisfied ranges ("bytes */n") are an error here.
func parseContentRange(v string) (first, last, complete int64, err error) {
	unit, rest, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || !strings.EqualFold(unit, "bytes") {
		return 0, 0, 0, errContentRange
	}
	rng, size, ok := strings.Cut(strings.TrimLeft(rest, " "), "/")
	if !ok {
		return 0, 0, 0, errContentRange
	}
	a, b, ok := strings.Cut(rng, "-")
	if !ok || !isDigits(a) || !isDigits(b) {
		return 0, 0, 0, errContentRange
	}
	if first, err = strconv.ParseInt(a, 10, 64); err != nil {
		return 0, 0, 0, errContentRange
	}
	if last, err = strconv.ParseInt(b, 10, 64); err != nil || last < first {
		return 0, 0, 0, errContentRange
	}
	complete = -1
	if size != "*" {
		if !isDigits(size) {
			return 0, 0, 0, errContentRange
		}
		if complete, err = strconv.ParseInt(size, 10, 64); err != nil || last >= complete {
			return 0, 0, 0, errContentRange
		}
	}
	return first, last, complete, nil
}
