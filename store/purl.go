package store

import (
	"maps"
	"slices"
	"strings"
)

// PURL returns the package URL pkg:<typ>/<namespace>/<name>@<version>?<qualifiers>
// (namespace, version and qualifiers optional), each part percent-encoded as the purl
// specification requires: every byte but ASCII letters, digits, ".-_~" and ":" (so a
// PEP 440 local version's "+" becomes "%2B"); the slashes between a namespace's segments
// are kept, and so are slashes in qualifier values. Qualifiers with an empty value are left out, the others sorted by key. Type
// and name rules of a purl type (lower-casing, name normalization) are the caller's.
func PURL(typ, namespace, name, version string, qualifiers map[string]string) string {
	var b strings.Builder
	b.WriteString("pkg:" + typ + "/")
	if namespace != "" {
		for i, seg := range strings.Split(namespace, "/") {
			if i > 0 {
				b.WriteByte('/')
			}
			purlEscape(&b, seg, 0)
		}
		b.WriteByte('/')
	}
	purlEscape(&b, name, 0)
	if version != "" {
		b.WriteByte('@')
		purlEscape(&b, version, 0)
	}
	sep := byte('?')
	for _, k := range slices.Sorted(maps.Keys(qualifiers)) {
		if qualifiers[k] == "" {
			continue
		}
		b.WriteByte(sep)
		b.WriteString(k + "=")
		purlEscape(&b, qualifiers[k], '/')
		sep = '&'
	}
	return b.String()
}

// purlEscape writes s percent-encoded; keep is one more byte left as it is ('/' in
// qualifier values such as repository_url=docker.io/library/debian, as the spec writes
// them), 0 for none.
func purlEscape(b *strings.Builder, s string, keep byte) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(".-_~:", c) >= 0 || (keep != 0 && c == keep) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
}
