package fetch

import (
	"errors"
	"strconv"
	"strings"
)

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
