package helm

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/airgapkit/airgap/store"
)

// MaxIndexSize caps index.yaml. The largest public repositories' (bitnami's) are about
// 20 MiB. A sync reads only its charts' entries (ReadIndex: a 44 MB index in 19 MiB of
// peak RSS); ParseIndex decodes the whole document (780 MiB for the same index,
// BenchmarkParseIndex).
const MaxIndexSize int64 = 64 << 20

// Index is a chart repository's index.yaml (apiVersion v1; YAML or JSON). Every field
// the upstream wrote is kept, known or not, so that the served index loses nothing but
// the versions the mirror does not hold.
type Index struct {
	// Entries lists each chart's versions in the upstream's order.
	Entries map[string][]*Version
	// fields are the top-level fields other than apiVersion and entries (generated,
	// serverInfo, annotations, ...).
	fields map[string]any
}

// Version is one entry of an index: a chart version, its archive URLs and digest.
type Version struct {
	Name, Version string
	// URLs are as the index wrote them: relative to the repository or absolute.
	URLs []string
	// Digest is the hex sha256 of the archive; "" when the index gives none.
	Digest string
	// fields are every field of the entry as upstream wrote it (created, annotations,
	// deprecated, dependencies, ...).
	fields map[string]any
}

// ParseIndex decodes a whole index.yaml or index.json (ReadIndex reads only some
// charts, in memory that follows them). It must say apiVersion v1; entries
// without a name or version, or naming another chart than their key, are refused
// (ErrMalformed), as is input over MaxIndexSize (store.ErrTooLarge).
func ParseIndex(b []byte) (*Index, error) {
	if int64(len(b)) > MaxIndexSize {
		return nil, fmt.Errorf("%w: index of %d bytes (max %d)", store.ErrTooLarge, len(b), MaxIndexSize)
	}
	var top map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("%w: index: %v", ErrMalformed, err)
	}
	idx := &Index{Entries: map[string][]*Version{}, fields: map[string]any{}}
	if err := setFields(idx, top); err != nil {
		return nil, err
	}
	entries, ok := top["entries"].(map[string]any)
	if !ok && top["entries"] != nil {
		return nil, fmt.Errorf("%w: index: entries is not a map", ErrMalformed)
	}
	for name, list := range entries {
		if err := addChart(idx, name, list); err != nil {
			return nil, err
		}
	}
	return idx, nil
}

// setFields checks the top-level fields (apiVersion v1) and keeps those other than
// apiVersion and entries.
func setFields(idx *Index, top map[string]any) error {
	if v, _ := top["apiVersion"].(string); v != "v1" {
		return fmt.Errorf("%w: index: apiVersion %v, want v1", ErrMalformed, top["apiVersion"])
	}
	for k, v := range top {
		if k != "apiVersion" && k != "entries" {
			idx.fields[k] = v
		}
	}
	return nil
}

// addChart adds the versions of one chart's entries list.
func addChart(idx *Index, name string, list any) error {
	vs, ok := list.([]any)
	if !ok && list != nil {
		return fmt.Errorf("%w: index: entries.%s is not a list", ErrMalformed, name)
	}
	for i, e := range vs {
		m, ok := e.(map[string]any)
		if !ok {
			return fmt.Errorf("%w: index: entries.%s[%d] is not a map", ErrMalformed, name, i)
		}
		v, err := versionOf(name, m)
		if err != nil {
			return fmt.Errorf("%w: index: entries.%s[%d]: %v", ErrMalformed, name, i, err)
		}
		idx.Entries[name] = append(idx.Entries[name], v)
	}
	return nil
}

func versionOf(key string, m map[string]any) (*Version, error) {
	v := &Version{fields: m}
	v.Name, _ = m["name"].(string)
	v.Version = scalar(m["version"])
	v.Digest, _ = m["digest"].(string)
	if v.Name != key {
		return nil, fmt.Errorf("name %q under key %q", v.Name, key)
	}
	if v.Version == "" {
		return nil, fmt.Errorf("no version")
	}
	urls, _ := m["urls"].([]any)
	for _, u := range urls {
		s, ok := u.(string)
		if !ok || s == "" {
			return nil, fmt.Errorf("version %s: url %v is not a string", v.Version, u)
		}
		v.URLs = append(v.URLs, s)
	}
	if len(v.URLs) == 0 {
		return nil, fmt.Errorf("version %s: no urls", v.Version)
	}
	if v.Digest != "" && !isHex64(v.Digest) {
		return nil, fmt.Errorf("version %s: digest %q is not a hex sha256", v.Version, v.Digest)
	}
	return v, nil
}

// scalar is a YAML scalar as text: a version written unquoted (1.0) decodes as a number.
func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// servedIndex is the index a mirror serves: the upstream's fields, only the held
// versions, each with one relative URL (its archive in the mirror) and its digest.
func servedIndex(up *Index, held map[string][]heldVersion) ([]byte, error) {
	top := map[string]any{}
	for k, v := range up.fields {
		top[k] = v
	}
	top["apiVersion"] = "v1"
	entries := map[string]any{}
	for name, hs := range held {
		list := make([]any, 0, len(hs))
		for _, h := range hs {
			m := make(map[string]any, len(h.v.fields))
			for k, f := range h.v.fields {
				m[k] = f
			}
			m["urls"] = []any{h.File}
			m["digest"] = h.Digest.Hex()
			list = append(list, m)
		}
		entries[name] = list
	}
	top["entries"] = entries
	b, err := yaml.Marshal(top)
	if err != nil {
		return nil, fmt.Errorf("helm: writing index: %w", err)
	}
	return b, nil
}

// ResolveURL resolves an index's chart URL as helm does: an absolute URL as it is, a
// relative one against the repository URL with a trailing slash, carrying the
// repository URL's query.
func ResolveURL(repo, ref string) (string, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("%w: chart url %q: %v", ErrMalformed, ref, err)
	}
	if r.IsAbs() {
		return ref, nil
	}
	base, err := url.Parse(repo)
	if err != nil {
		return "", fmt.Errorf("%w: repository url %q: %v", store.ErrConfig, repo, err)
	}
	base.RawPath = strings.TrimSuffix(base.RawPath, "/") + "/"
	base.Path = strings.TrimSuffix(base.Path, "/") + "/"
	u := base.ResolveReference(r)
	u.RawQuery = base.RawQuery
	return u.String(), nil
}

// IndexURL is where a repository's index.yaml is: index.yaml below the repository URL,
// its query kept.
func IndexURL(repo string) (string, error) { return ResolveURL(repo, "index.yaml") }

// NormalizeURL is the form two repository URLs are compared in: scheme and host lower
// case, no default port, no user information, no trailing slash or index.yaml.
func NormalizeURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return raw
	}
	u.Scheme = strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" && !(u.Scheme == "https" && p == "443") && !(u.Scheme == "http" && p == "80") {
		host += ":" + p
	}
	u.Host, u.User, u.Fragment = host, nil, ""
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/index.yaml"), "/")
	u.RawPath = ""
	return u.String()
}
