package galaxy

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ErrVersion reports a version or a version range that cannot be parsed.
var ErrVersion = errors.New("galaxy: invalid version")

// maxVersionLen caps the length of a version string or a range; Galaxy's own limit is far
// below it.
const maxVersionLen = 256

// Version is a collection version: semantic versioning 2.0 (MAJOR.MINOR.PATCH with an
// optional -prerelease and +build), which Galaxy requires of every collection.
type Version struct {
	Major, Minor, Patch uint64
	// Pre holds the dot-separated pre-release identifiers ("rc.1" -> ["rc", "1"]).
	Pre []string
	// Build is the build metadata after '+'; it takes no part in ordering.
	Build string
}

// ParseVersion parses a strict semantic version such as "1.2.3" or "2.0.0-rc.1+build.5".
func ParseVersion(s string) (Version, error) {
	return parseVersion(s, false)
}

// parseLoose also accepts "1" and "1.2" (padded with zeros), as ansible-galaxy does for
// the version in a requirement.
func parseVersion(s string, loose bool) (Version, error) {
	var v Version
	if s == "" || len(s) > maxVersionLen {
		return v, fmt.Errorf("%w: %q", ErrVersion, s)
	}
	core := s
	if i := strings.IndexByte(core, '+'); i >= 0 {
		v.Build = core[i+1:]
		core = core[:i]
		if v.Build == "" || !validIdents(v.Build, false) {
			return Version{}, fmt.Errorf("%w: %q: bad build metadata", ErrVersion, s)
		}
	}
	if i := strings.IndexByte(core, '-'); i >= 0 {
		pre := core[i+1:]
		core = core[:i]
		if pre == "" || !validIdents(pre, true) {
			return Version{}, fmt.Errorf("%w: %q: bad pre-release", ErrVersion, s)
		}
		v.Pre = strings.Split(pre, ".")
	}
	parts := strings.Split(core, ".")
	if len(parts) != 3 && !(loose && len(parts) < 3) {
		return Version{}, fmt.Errorf("%w: %q: want MAJOR.MINOR.PATCH", ErrVersion, s)
	}
	nums := [3]uint64{}
	for i, p := range parts {
		n, err := parseNumeric(p)
		if err != nil {
			return Version{}, fmt.Errorf("%w: %q: %v", ErrVersion, s, err)
		}
		nums[i] = n
	}
	v.Major, v.Minor, v.Patch = nums[0], nums[1], nums[2]
	return v, nil
}

func parseNumeric(p string) (uint64, error) {
	if p == "" {
		return 0, errors.New("empty number")
	}
	if len(p) > 1 && p[0] == '0' {
		return 0, errors.New("leading zero")
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return 0, fmt.Errorf("%q is not a number", p)
		}
	}
	return strconv.ParseUint(p, 10, 64)
}

// validIdents checks dot-separated identifiers of [0-9A-Za-z-]; pre-release numeric
// identifiers may not have leading zeros.
func validIdents(s string, pre bool) bool {
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return false
		}
		numeric := true
		for i := 0; i < len(id); i++ {
			c := id[i]
			switch {
			case c >= '0' && c <= '9':
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-':
				numeric = false
			default:
				return false
			}
		}
		if pre && numeric && len(id) > 1 && id[0] == '0' {
			return false
		}
	}
	return true
}

// String formats v in canonical form.
func (v Version) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if len(v.Pre) > 0 {
		s += "-" + strings.Join(v.Pre, ".")
	}
	if v.Build != "" {
		s += "+" + v.Build
	}
	return s
}

// IsPrerelease reports whether v carries a pre-release part.
func (v Version) IsPrerelease() bool { return len(v.Pre) > 0 }

// Compare orders versions by semantic versioning precedence: -1, 0 or +1. Build metadata
// is ignored.
func (v Version) Compare(o Version) int {
	for _, d := range [3][2]uint64{{v.Major, o.Major}, {v.Minor, o.Minor}, {v.Patch, o.Patch}} {
		if d[0] != d[1] {
			if d[0] < d[1] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(v.Pre) == 0 && len(o.Pre) == 0:
		return 0
	case len(v.Pre) == 0:
		return 1
	case len(o.Pre) == 0:
		return -1
	}
	for i := 0; i < len(v.Pre) && i < len(o.Pre); i++ {
		if c := compareIdent(v.Pre[i], o.Pre[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(v.Pre) < len(o.Pre):
		return -1
	case len(v.Pre) > len(o.Pre):
		return 1
	}
	return 0
}

func compareIdent(a, b string) int {
	an, aerr := strconv.ParseUint(a, 10, 64)
	bn, berr := strconv.ParseUint(b, 10, 64)
	switch {
	case aerr == nil && berr == nil:
		switch {
		case an < bn:
			return -1
		case an > bn:
			return 1
		}
		return 0
	case aerr == nil:
		return -1 // numeric identifiers sort before alphanumeric ones
	case berr == nil:
		return 1
	}
	return strings.Compare(a, b)
}

// Op is a comparison in a version range.
type Op string

// The operators a requirement may use, as ansible-galaxy spells them. A bare version
// means OpEq.
const (
	OpAny Op = "*"
	OpEq  Op = "=="
	OpNe  Op = "!="
	OpGe  Op = ">="
	OpGt  Op = ">"
	OpLe  Op = "<="
	OpLt  Op = "<"
)

// Clause is one comparison of a Range.
type Clause struct {
	Op      Op
	Version Version // unset for OpAny
}

// Range is a version requirement as written in requirements.yml or on the
// ansible-galaxy command line: comma-separated clauses that must all hold, such as
// ">=8.0.0,<9", "==1.2.3", "!=2.0.0" or "*". The zero Range (and "" or "*") matches every
// release.
type Range struct {
	Clauses []Clause
	raw     string
}

// ParseRange parses a version requirement. Versions in a range may be loose ("<9",
// ">=1.2"): missing parts count as zero, as in ansible-galaxy.
func ParseRange(s string) (Range, error) {
	s = strings.TrimSpace(s)
	r := Range{raw: s}
	if len(s) > maxVersionLen {
		return Range{}, fmt.Errorf("%w: range of %d bytes", ErrVersion, len(s))
	}
	if s == "" || s == "*" {
		return r, nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return Range{}, fmt.Errorf("%w: %q: empty clause", ErrVersion, s)
		}
		if part == "*" {
			r.Clauses = append(r.Clauses, Clause{Op: OpAny})
			continue
		}
		op := OpEq
		for _, cand := range []Op{OpEq, OpNe, OpGe, OpLe, OpGt, OpLt, "="} {
			if strings.HasPrefix(part, string(cand)) {
				op = cand
				part = strings.TrimSpace(part[len(cand):])
				break
			}
		}
		if op == "=" {
			op = OpEq
		}
		v, err := parseVersion(part, true)
		if err != nil {
			return Range{}, fmt.Errorf("%w: in range %q", err, s)
		}
		r.Clauses = append(r.Clauses, Clause{Op: op, Version: v})
	}
	return r, nil
}

// MustParseRange is ParseRange for constants; it panics on error.
func MustParseRange(s string) Range {
	r, err := ParseRange(s)
	if err != nil {
		panic(err)
	}
	return r
}

// String returns the range as it was written.
func (r Range) String() string {
	if r.raw == "" && len(r.Clauses) > 0 {
		parts := make([]string, len(r.Clauses))
		for i, c := range r.Clauses {
			if c.Op == OpAny {
				parts[i] = "*"
			} else {
				parts[i] = string(c.Op) + c.Version.String()
			}
		}
		return strings.Join(parts, ",")
	}
	if r.raw == "" {
		return "*"
	}
	return r.raw
}

// Exact returns the version of a range that pins one version with "==" (or a bare
// version), and whether it does.
func (r Range) Exact() (Version, bool) {
	if len(r.Clauses) == 1 && r.Clauses[0].Op == OpEq {
		return r.Clauses[0].Version, true
	}
	return Version{}, false
}

// Match reports whether v satisfies every clause. Pre-releases match only when the range
// pins them exactly or pre is true, as ansible-galaxy installs them only on request.
func (r Range) Match(v Version, pre bool) bool {
	if v.IsPrerelease() && !pre {
		if e, ok := r.Exact(); !ok || e.Compare(v) != 0 {
			return false
		}
	}
	for _, c := range r.Clauses {
		cmp := v.Compare(c.Version)
		ok := true
		switch c.Op {
		case OpAny:
		case OpEq:
			ok = cmp == 0
		case OpNe:
			ok = cmp != 0
		case OpGe:
			ok = cmp >= 0
		case OpGt:
			ok = cmp > 0
		case OpLe:
			ok = cmp <= 0
		case OpLt:
			ok = cmp < 0
		}
		if !ok {
			return false
		}
	}
	return true
}

// SortVersions sorts version strings newest first. Strings that are not semantic
// versions sort last, in reverse lexical order.
func SortVersions(vs []string) {
	sort.SliceStable(vs, func(i, j int) bool {
		a, aerr := ParseVersion(vs[i])
		b, berr := ParseVersion(vs[j])
		switch {
		case aerr == nil && berr == nil:
			return a.Compare(b) > 0
		case aerr == nil:
			return true
		case berr == nil:
			return false
		}
		return vs[i] > vs[j]
	})
}

// compareLoose orders role versions, which are free-form ("v1.2", "1.0", "master"):
// numeric runs compare as numbers, everything else as text, like Python's LooseVersion.
func compareLoose(a, b string) int {
	ta, tb := looseTokens(a), looseTokens(b)
	for i := 0; i < len(ta) && i < len(tb); i++ {
		if c := compareIdent(ta[i], tb[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(ta) < len(tb):
		return -1
	case len(ta) > len(tb):
		return 1
	}
	return 0
}

func looseTokens(s string) []string {
	var out []string
	cur := ""
	digit := false
	flush := func() {
		if cur != "" {
			out = append(out, cur)
			cur = ""
		}
	}
	for _, c := range s {
		isDigit := c >= '0' && c <= '9'
		if c == '.' || c == '-' || c == '_' || c == '+' {
			flush()
			continue
		}
		if cur != "" && isDigit != digit {
			flush()
		}
		digit = isDigit
		cur += string(c)
	}
	flush()
	return out
}
