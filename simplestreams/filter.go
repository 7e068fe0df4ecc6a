package simplestreams

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Op is a filter operator.
type Op string

// The operators of sstream-mirror filter expressions.
const (
	OpEqual    Op = "="  // the value equals
	OpNotEqual Op = "!=" // the value differs
	OpMatch    Op = "~"  // the regular expression matches somewhere in the value
	OpNoMatch  Op = "!~" // the regular expression matches nowhere in the value
)

// Filter is one expression on a flattened item, as sstream-mirror takes them:
// "key=value", "key!=value", "key~regex" or "key!~regex". A key the item lacks has the
// value "". Regular expressions are RE2 and unanchored (write ^...$ to anchor).
type Filter struct {
	Key   string
	Op    Op
	Value string
	re    *regexp.Regexp
}

// ParseFilter parses one expression. The key is made of letters, digits, '_', '-' and
// '|'; spaces around the operator are ignored, and so are spaces before the value, but
// spaces after it are part of it (as sstream-mirror reads them). Errors wrap ErrFilter.
func ParseFilter(s string) (Filter, error) {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == '|') {
			break
		}
		i += size
	}
	key := s[:i]
	if key == "" {
		return Filter{}, fmt.Errorf("%w: %q: expected key then one of = != ~ !~", ErrFilter, s)
	}
	rest := strings.TrimLeft(s[i:], " ")
	var f Filter
	switch {
	case strings.HasPrefix(rest, "!="):
		f.Op = OpNotEqual
	case strings.HasPrefix(rest, "!~"):
		f.Op = OpNoMatch
	case strings.HasPrefix(rest, "="):
		f.Op = OpEqual
	case strings.HasPrefix(rest, "~"):
		f.Op = OpMatch
	default:
		return Filter{}, fmt.Errorf("%w: %q: expected one of = != ~ !~ after %q", ErrFilter, s, key)
	}
	f.Key = key
	f.Value = strings.TrimLeft(rest[len(f.Op):], " ") // trailing spaces are part of the value, as in sstream-mirror
	if f.Op == OpMatch || f.Op == OpNoMatch {
		re, err := regexp.Compile(f.Value)
		if err != nil {
			return Filter{}, fmt.Errorf("%w: %q: %v", ErrFilter, s, err)
		}
		f.re = re
	}
	return f, nil
}

// String returns the expression in the form ParseFilter reads.
func (f Filter) String() string { return f.Key + string(f.Op) + f.Value }

// MatchValue reports whether a value (the item's value for f.Key, "" when it has none)
// passes the filter.
func (f Filter) MatchValue(v string) bool {
	switch f.Op {
	case OpEqual:
		return v == f.Value
	case OpNotEqual:
		return v != f.Value
	case OpMatch:
		return f.re.MatchString(v)
	case OpNoMatch:
		return !f.re.MatchString(v)
	}
	return false
}

// Match reports whether the item passes the filter.
func (f Filter) Match(it ItemRef) bool {
	v, _ := it.Get(f.Key)
	return f.MatchValue(v)
}

// Filters are ANDed: an item passes when it passes every one. No filters pass everything.
type Filters []Filter

// ParseFilters parses several expressions.
func ParseFilters(exprs []string) (Filters, error) {
	out := make(Filters, 0, len(exprs))
	for _, e := range exprs {
		f, err := ParseFilter(e)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// Match reports whether the item passes every filter.
func (fs Filters) Match(it ItemRef) bool {
	for _, f := range fs {
		if !f.Match(it) {
			return false
		}
	}
	return true
}
