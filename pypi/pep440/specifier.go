package pep440

import (
	"errors"
	"sort"
	"strconv"
	"strings"
)

// ErrInvalidSpecifier is returned (wrapped in a *ParseError) for a malformed version
// specifier.
var ErrInvalidSpecifier = errors.New("pep440: invalid specifier")

// Operator is a specifier's comparison operator.
type Operator string

// The PEP 440 operators.
const (
	OpCompatible Operator = "~="
	OpEqual      Operator = "=="
	OpNotEqual   Operator = "!="
	OpLessEq     Operator = "<="
	OpGreaterEq  Operator = ">="
	OpLess       Operator = "<"
	OpGreater    Operator = ">"
	OpArbitrary  Operator = "==="
)

// Specifier is one clause such as ">=1.2" or "==1.4.*".
type Specifier struct {
	Op Operator
	// Version is the parsed operand; unset for === (see Raw).
	Version Version
	// Wildcard is true for "==V.*" and "!=V.*".
	Wildcard bool
	// Raw is the operand as written (after trimming), used by === and String.
	Raw string
}

// ParseSpecifier reads one clause ("~=1.4.2", "== 1.*", "===foo").
func ParseSpecifier(s string) (Specifier, error) {
	in := s
	s = strings.TrimSpace(s)
	var sp Specifier
	for _, op := range []Operator{OpArbitrary, OpCompatible, OpEqual, OpNotEqual, OpLessEq, OpGreaterEq, OpLess, OpGreater} {
		if strings.HasPrefix(s, string(op)) {
			sp.Op = op
			s = strings.TrimSpace(s[len(op):])
			break
		}
	}
	fail := func(reason string) (Specifier, error) {
		return Specifier{}, &ParseError{Input: in, Reason: reason, Err: ErrInvalidSpecifier}
	}
	if sp.Op == "" {
		return fail("no operator")
	}
	if s == "" {
		return fail("no version")
	}
	sp.Raw = s
	if sp.Op == OpArbitrary {
		if strings.ContainsAny(s, " \t,;") {
			return fail("white space in arbitrary version")
		}
		return sp, nil
	}
	if strings.HasSuffix(s, ".*") {
		if sp.Op != OpEqual && sp.Op != OpNotEqual {
			return fail("wildcard only with == and !=")
		}
		sp.Wildcard = true
		s = s[:len(s)-2]
	}
	v, err := Parse(s)
	if err != nil {
		return fail(err.Error())
	}
	if v.Local != "" && sp.Op != OpEqual && sp.Op != OpNotEqual {
		return fail("local version only with == and !=")
	}
	if sp.Wildcard && (v.Local != "" || v.HasDev) {
		return fail("wildcard after a local or dev version")
	}
	if sp.Op == OpCompatible && len(v.Release) < 2 {
		return fail("~= needs at least two release segments")
	}
	sp.Version = v
	return sp, nil
}

// String returns the clause in normalised form ("~=1.4.2", "==1.*").
func (sp Specifier) String() string {
	if sp.Op == OpArbitrary {
		return string(sp.Op) + sp.Raw
	}
	s := string(sp.Op) + sp.Version.String()
	if sp.Wildcard {
		s += ".*"
	}
	return s
}

// IsPrerelease reports whether the clause names a pre-release itself (">=2.0b1"), which
// lets a set admit pre-releases without being asked to.
func (sp Specifier) IsPrerelease() bool {
	switch sp.Op {
	case OpEqual, OpGreaterEq, OpLessEq, OpCompatible, OpArbitrary:
		if sp.Op == OpArbitrary {
			v, err := Parse(sp.Raw)
			return err == nil && v.IsPrerelease()
		}
		return sp.Version.IsPrerelease()
	}
	return false
}

// Matches reports whether v satisfies the clause, ignoring pre-release policy (see
// Specifiers.Allows for that).
func (sp Specifier) Matches(v Version) bool {
	switch sp.Op {
	case OpArbitrary:
		return strings.EqualFold(strings.TrimSpace(sp.Raw), v.String())
	case OpEqual:
		return sp.equal(v)
	case OpNotEqual:
		return !sp.equal(v)
	case OpLessEq:
		return Compare(v.Public(), sp.Version) <= 0
	case OpGreaterEq:
		return Compare(v.Public(), sp.Version) >= 0
	case OpLess:
		if Compare(v, sp.Version) >= 0 {
			return false
		}
		// <V excludes pre-releases of V itself unless V is a pre-release.
		if !sp.Version.IsPrerelease() && v.IsPrerelease() && Equal(v.Base(), sp.Version.Base()) {
			return false
		}
		return true
	case OpGreater:
		if Compare(v, sp.Version) <= 0 {
			return false
		}
		// >V excludes post-releases of V unless V is one, and local versions of V.
		if !sp.Version.IsPostrelease() && v.IsPostrelease() && Equal(v.Base(), sp.Version.Base()) {
			return false
		}
		if v.Local != "" && Equal(v.Public(), sp.Version) {
			return false
		}
		return true
	case OpCompatible:
		if Compare(v.Public(), sp.Version) < 0 {
			return false
		}
		prefix := Specifier{Op: OpEqual, Wildcard: true,
			Version: Version{Epoch: sp.Version.Epoch, Release: sp.Version.Release[:len(sp.Version.Release)-1]}}
		return prefix.equal(v)
	}
	return false
}

func (sp Specifier) equal(v Version) bool {
	if sp.Wildcard {
		want := splitForPrefix(sp.Version)
		got := splitForPrefix(v.Public())
		// Pad the release parts so that 1.* matches 1 and 1.0.* matches 1.
		wr, gr := releaseLen(want), releaseLen(got)
		if wr > gr {
			got = append(got[:gr:gr], append(zeros(wr-gr), got[gr:]...)...)
		}
		if len(got) < len(want) {
			return false
		}
		for i := range want {
			if got[i] != want[i] {
				return false
			}
		}
		return true
	}
	if sp.Version.Local != "" {
		return Equal(v, sp.Version)
	}
	return Equal(v.Public(), sp.Version)
}

// splitForPrefix cuts a version into comparable components: the epoch, each release
// number, then the pre-, post- and dev-release parts.
func splitForPrefix(v Version) []string {
	out := []string{strconv.FormatUint(v.Epoch, 10)}
	for _, n := range v.Release {
		out = append(out, strconv.FormatUint(n, 10))
	}
	if v.Pre != "" {
		out = append(out, string(v.Pre)+strconv.FormatUint(v.PreN, 10))
	}
	if v.HasPost {
		out = append(out, "post"+strconv.FormatUint(v.Post, 10))
	}
	if v.HasDev {
		out = append(out, "dev"+strconv.FormatUint(v.Dev, 10))
	}
	return out
}

// releaseLen counts the epoch and release components at the start of a split.
func releaseLen(parts []string) int {
	n := 0
	for n < len(parts) && allDigits(parts[n]) {
		n++
	}
	return n
}

func zeros(n int) []string {
	z := make([]string, n)
	for i := range z {
		z[i] = "0"
	}
	return z
}

// Specifiers is a set of clauses that must all hold (a comma-separated list). The empty
// set matches every version.
type Specifiers []Specifier

// ParseSpecifiers reads a comma-separated set such as ">=1.0, !=1.3.*, <2". An empty or
// blank string gives the empty set.
func ParseSpecifiers(s string) (Specifiers, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out Specifiers
	for _, part := range strings.Split(s, ",") {
		sp, err := ParseSpecifier(part)
		if err != nil {
			return nil, err
		}
		out = append(out, sp)
	}
	return out, nil
}

// MustParseSpecifiers is ParseSpecifiers that panics on error.
func MustParseSpecifiers(s string) Specifiers {
	ss, err := ParseSpecifiers(s)
	if err != nil {
		panic(err)
	}
	return ss
}

// String joins the clauses with commas, sorted, so equal sets print the same.
func (ss Specifiers) String() string {
	parts := make([]string, len(ss))
	for i, sp := range ss {
		parts[i] = sp.String()
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// Matches reports whether v satisfies every clause (pre-release policy aside).
func (ss Specifiers) Matches(v Version) bool {
	for _, sp := range ss {
		if !sp.Matches(v) {
			return false
		}
	}
	return true
}

// IsPrerelease reports whether any clause names a pre-release, which admits pre-releases.
func (ss Specifiers) IsPrerelease() bool {
	for _, sp := range ss {
		if sp.IsPrerelease() {
			return true
		}
	}
	return false
}

// Allows is Matches with the installers' pre-release rule: a pre-release (or dev release)
// matches only when pre is true or a clause itself names a pre-release.
func (ss Specifiers) Allows(v Version, pre bool) bool {
	if v.IsPrerelease() && !pre && !ss.IsPrerelease() {
		return false
	}
	return ss.Matches(v)
}

// Filter returns the versions the set admits, in their original order. Pre-releases are
// admitted when pre is true or a clause names one; failing that, when no final release
// matches at all, the matching pre-releases are returned (as pip does).
func (ss Specifiers) Filter(vs []Version, pre bool) []Version {
	var final, preOnly []Version
	allowPre := pre || ss.IsPrerelease()
	for _, v := range vs {
		if !ss.Matches(v) {
			continue
		}
		if v.IsPrerelease() && !allowPre {
			preOnly = append(preOnly, v)
			continue
		}
		final = append(final, v)
	}
	if len(final) == 0 {
		return preOnly
	}
	return final
}
