package store

import (
	"slices"
	"strconv"
	"strings"
)

// MaxRanges is how many ranges one request may ask for before ServeFile ignores its Range
// header and sends the whole file: every part of a multipart answer costs its own headers,
// so "bytes=0-0,1-1,..." would cost many times the file.
const MaxRanges = 8

// rangeVerdict is what ServeFile does with a Range header.
type rangeVerdict int

const (
	rangeServe         rangeVerdict = iota // let http.ServeContent answer it
	rangeIgnore                            // send the whole file (200), as RFC 9110 allows
	rangeUnsatisfiable                     // 416 with Content-Range: bytes */size
)

// judgeRange decides on a Range header for a file of size bytes, before
// http.ServeContent sees it. Units other than bytes (which RFC 9110 says to ignore), more
// than MaxRanges ranges, and ranges that overlap or together exceed the file are ignored
// (a whole 200 answer costs the file once); an ill-formed bytes range (9-3, x-y), or a
// header none of whose ranges is satisfiable (bytes=-0, a start past the end), is a 416,
// as net/http answers it too.
func judgeRange(header string, size int64) rangeVerdict {
	spec, ok := strings.CutPrefix(header, "bytes=")
	if !ok {
		return rangeIgnore
	}
	if strings.Count(spec, ",") >= MaxRanges {
		return rangeIgnore
	}
	parts := strings.Split(spec, ",")
	type span struct{ start, end int64 } // end exclusive
	var spans []span
	for _, p := range parts {
		p = strings.TrimSpace(p)
		first, last, ok := strings.Cut(p, "-")
		if !ok {
			return rangeUnsatisfiable
		}
		switch {
		case first == "": // suffix: the last n bytes
			n, err := parseRangeInt(last)
			if err != nil {
				return rangeUnsatisfiable
			}
			if n == 0 || size == 0 {
				continue // unsatisfiable
			}
			spans = append(spans, span{max(size-n, 0), size})
		default:
			a, err := parseRangeInt(first)
			if err != nil {
				return rangeUnsatisfiable
			}
			b := size - 1
			if last != "" {
				if b, err = parseRangeInt(last); err != nil || b < a {
					return rangeUnsatisfiable
				}
			}
			if a >= size {
				continue // unsatisfiable
			}
			spans = append(spans, span{a, min(b, size-1) + 1})
		}
	}
	if len(spans) == 0 {
		return rangeUnsatisfiable
	}
	slices.SortFunc(spans, func(x, y span) int {
		switch {
		case x.start < y.start:
			return -1
		case x.start > y.start:
			return 1
		}
		return 0
	})
	var total int64
	for i, s := range spans {
		if i > 0 && s.start < spans[i-1].end {
			return rangeIgnore // overlapping
		}
		total += s.end - s.start
	}
	if total > size {
		return rangeIgnore
	}
	return rangeServe
}

// parseRangeInt reads a non-negative decimal of a Range header.
func parseRangeInt(s string) (int64, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseInt(s, 10, 64)
}
