package pep508

import (
	"sort"
	"strings"

	"github.com/airgapkit/airgap/pypi/pep440"
)

// NormalizeName returns the PEP 503 normal form of a project or extra name: runs of
// "-", "_" and "." become one "-", and letters are lower-cased ("Foo.Bar_baz" ->
// "foo-bar-baz").
func NormalizeName(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	sep := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '-' || c == '_' || c == '.' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// ValidName reports whether name is a valid distribution name: ASCII letters and digits,
// with ".", "_" and "-" allowed inside.
func ValidName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if alnum {
			continue
		}
		if (c == '.' || c == '_' || c == '-') && i > 0 && i < len(name)-1 {
			continue
		}
		return false
	}
	return true
}

// Requirement is one parsed dependency specification, e.g.
// `requests[socks]>=2.8.1,<3; python_version >= "3.8"`.
type Requirement struct {
	// Name is the project name as written; Normalized gives its PEP 503 form.
	Name string
	// Extras are the requested extras, normalised and sorted.
	Extras []string
	// Specifiers constrain the version; empty matches every version.
	Specifiers pep440.Specifiers
	// URL is set for a direct reference ("name @ https://...").
	URL string
	// Marker limits the environments the requirement applies to; nil means all.
	Marker *Marker
}

// Normalized returns the PEP 503 normal form of the requirement's name.
func (r Requirement) Normalized() string { return NormalizeName(r.Name) }

// ParseRequirement parses a PEP 508 dependency specification.
func ParseRequirement(s string) (Requirement, error) {
	in := s
	if len(s) > maxInput {
		return Requirement{}, &SyntaxError{Input: s[:64] + "...", Reason: "input too long"}
	}
	fail := func(off int, reason string) (Requirement, error) {
		return Requirement{}, &SyntaxError{Input: in, Offset: off, Reason: reason}
	}
	i := skipSpace(s, 0)
	start := i
	for i < len(s) && (isAlnum(s[i]) || s[i] == '.' || s[i] == '_' || s[i] == '-') {
		i++
	}
	var r Requirement
	r.Name = s[start:i]
	if !ValidName(r.Name) {
		return fail(start, "invalid project name")
	}
	i = skipSpace(s, i)
	if i < len(s) && s[i] == '[' {
		end := strings.IndexByte(s[i:], ']')
		if end < 0 {
			return fail(i, "unterminated extras")
		}
		seen := map[string]bool{}
		for _, e := range strings.Split(s[i+1:i+end], ",") {
			e = strings.TrimSpace(e)
			if e == "" {
				continue
			}
			if !ValidName(e) {
				return fail(i, "invalid extra "+e)
			}
			if n := NormalizeName(e); !seen[n] {
				seen[n] = true
				r.Extras = append(r.Extras, n)
			}
		}
		sort.Strings(r.Extras)
		i = skipSpace(s, i+end+1)
	}
	markerAt := -1
	switch {
	case i < len(s) && s[i] == '@':
		i = skipSpace(s, i+1)
		start := i
		for i < len(s) && s[i] != ' ' && s[i] != '\t' {
			i++
		}
		r.URL = s[start:i]
		if r.URL == "" || !strings.Contains(r.URL, ":") {
			return fail(start, "invalid URL")
		}
		i = skipSpace(s, i)
		if i < len(s) {
			if s[i] != ';' || i == start+len(r.URL) {
				return fail(i, "';' after white space expected after URL")
			}
			markerAt = i + 1
		}
	default:
		rest := s[i:]
		specEnd := strings.IndexByte(rest, ';')
		if specEnd < 0 {
			specEnd = len(rest)
		} else {
			markerAt = i + specEnd + 1
		}
		spec := strings.TrimSpace(rest[:specEnd])
		if strings.HasPrefix(spec, "(") {
			if !strings.HasSuffix(spec, ")") {
				return fail(i, "')' expected")
			}
			spec = spec[1 : len(spec)-1]
		}
		ss, err := pep440.ParseSpecifiers(spec)
		if err != nil {
			return fail(i, err.Error())
		}
		r.Specifiers = ss
	}
	if markerAt >= 0 {
		m, err := ParseMarker(s[markerAt:])
		if err != nil {
			return Requirement{}, &SyntaxError{Input: in, Offset: markerAt, Reason: "marker: " + err.Error()}
		}
		r.Marker = m
	}
	return r, nil
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

func isAlnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// String renders the requirement in canonical form.
func (r Requirement) String() string {
	var b strings.Builder
	b.WriteString(r.Name)
	if len(r.Extras) > 0 {
		b.WriteString("[" + strings.Join(r.Extras, ",") + "]")
	}
	if r.URL != "" {
		b.WriteString(" @ " + r.URL)
		if r.Marker != nil {
			b.WriteString(" ")
		}
	} else {
		b.WriteString(r.Specifiers.String())
	}
	if r.Marker != nil {
		b.WriteString("; " + r.Marker.String())
	}
	return b.String()
}

// Applies reports whether the requirement applies in env when the dependent was asked for
// the given extras: the marker is evaluated with extra set to "" and to each requested
// extra, and the requirement applies if any of them holds.
func (r Requirement) Applies(env Environment, extras []string) (bool, error) {
	if r.Marker == nil {
		return true, nil
	}
	e := make(Environment, len(env)+1)
	for k, v := range env {
		e[k] = v
	}
	e["extra"] = ""
	ok, err := r.Marker.Evaluate(e)
	if err != nil || ok || !r.Marker.MentionsExtra() {
		return ok, err
	}
	for _, x := range extras {
		e["extra"] = x
		ok, err := r.Marker.Evaluate(e)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}
