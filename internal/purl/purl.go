// Package purl writes the parts of package URLs (https://github.com/package-url/purl-spec)
// that the protocol packages' Inventory functions need.
package purl

import (
	"fmt"
	"strings"
)

// Escape percent-encodes s for a purl name, version or qualifier value: everything but
// ASCII letters, digits and ".-_~", ":" (which the spec forbids encoding) and "/" (which
// a qualifier value keeps; a name or version never holds one).
func Escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte(".-_~:/", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// Qualifiers writes "?k=v&..." from key, value pairs in the order given (callers pass
// them sorted by key, as the canonical form wants), leaving out empty values; "" when
// none is left.
func Qualifiers(kv ...string) string {
	var q []string
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q = append(q, kv[i]+"="+Escape(kv[i+1]))
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + strings.Join(q, "&")
}
