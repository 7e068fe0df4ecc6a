package pep440

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalidVersion is returned (wrapped in a *ParseError) for a string that is not a
// PEP 440 version.
var ErrInvalidVersion = errors.New("pep440: invalid version")

// ParseError tells which string failed to parse and why. It wraps ErrInvalidVersion or
// ErrInvalidSpecifier.
type ParseError struct {
	Input  string
	Reason string
	Err    error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%v %q: %s", e.Err, e.Input, e.Reason)
}

// Unwrap returns the sentinel: ErrInvalidVersion or ErrInvalidSpecifier.
func (e *ParseError) Unwrap() error { return e.Err }

// maxVersionLen caps the input Parse accepts; real versions are short.
const maxVersionLen = 256

// PreKind is the kind of a pre-release: alpha, beta or release candidate.
type PreKind string

// The pre-release kinds in their normalised spelling, in ascending order.
const (
	Alpha PreKind = "a"
	Beta  PreKind = "b"
	RC    PreKind = "rc"
)

func (k PreKind) rank() int {
	switch k {
	case Alpha:
		return 0
	case Beta:
		return 1
	default:
		return 2
	}
}

// Version is a parsed PEP 440 version. The zero Version is not valid; use Parse.
type Version struct {
	// Epoch is the N of "N!"; 0 when absent.
	Epoch uint64
	// Release is the dotted release segment, e.g. [1 2 0] for 1.2.0.
	Release []uint64
	// Pre is the pre-release kind, "" when the version is not a pre-release.
	Pre PreKind
	// PreN is the pre-release number (1 in 1.0rc1).
	PreN uint64
	// HasPost and Post describe a post-release (1.0.post2).
	HasPost bool
	Post    uint64
	// HasDev and Dev describe a development release (1.0.dev3).
	HasDev bool
	Dev    uint64
	// Local is the local version label after "+", normalised to lower case with "."
	// separators; "" when absent.
	Local string
}

// Parse reads a PEP 440 version in any spelling the specification allows (case,
// separators, implicit numbers, "alpha"/"pre"/"rev" synonyms, a leading "v", surrounding
// white space) and returns it in normalised form.
func Parse(s string) (Version, error) {
	p := verParser{in: s, s: strings.ToLower(strings.TrimSpace(s))}
	if len(s) > maxVersionLen {
		return Version{}, &ParseError{Input: s[:32] + "...", Reason: "too long", Err: ErrInvalidVersion}
	}
	v, err := p.parse()
	if err != nil {
		return Version{}, err
	}
	return v, nil
}

// MustParse is Parse that panics on error, for constants in programs and tests.
func MustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

type verParser struct {
	in  string
	s   string
	i   int
	err error
}

func (p *verParser) fail(reason string) error {
	return &ParseError{Input: p.in, Reason: reason, Err: ErrInvalidVersion}
}

func (p *verParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isSep(c byte) bool   { return c == '.' || c == '-' || c == '_' }

// number reads a run of digits.
func (p *verParser) number() (uint64, bool, error) {
	start := p.i
	for p.i < len(p.s) && isDigit(p.s[p.i]) {
		p.i++
	}
	if p.i == start {
		return 0, false, nil
	}
	n, err := strconv.ParseUint(p.s[start:p.i], 10, 64)
	if err != nil {
		return 0, true, p.fail("number out of range")
	}
	return n, true, nil
}

// word reports whether one of words starts at p.i and consumes the longest.
func (p *verParser) word(words ...string) (string, bool) {
	best := ""
	for _, w := range words {
		if strings.HasPrefix(p.s[p.i:], w) && len(w) > len(best) {
			best = w
		}
	}
	if best == "" {
		return "", false
	}
	p.i += len(best)
	return best, true
}

func (p *verParser) parse() (Version, error) {
	var v Version
	if p.peek() == 'v' {
		p.i++
	}
	n, ok, err := p.number()
	if err != nil {
		return v, err
	}
	if !ok {
		return v, p.fail("no release number")
	}
	if p.peek() == '!' {
		p.i++
		v.Epoch = n
		if n, ok, err = p.number(); err != nil {
			return v, err
		} else if !ok {
			return v, p.fail("no release number after epoch")
		}
	}
	v.Release = append(v.Release, n)
	for p.peek() == '.' && p.i+1 < len(p.s) && isDigit(p.s[p.i+1]) {
		p.i++
		n, _, err := p.number()
		if err != nil {
			return v, err
		}
		if len(v.Release) >= 64 {
			return v, p.fail("too many release segments")
		}
		v.Release = append(v.Release, n)
	}
	// Pre-release: [sep] kind [sep] [N]
	save := p.i
	if isSep(p.peek()) {
		p.i++
	}
	if w, ok := p.word("alpha", "a", "beta", "b", "preview", "pre", "rc", "c"); ok {
		switch w {
		case "alpha", "a":
			v.Pre = Alpha
		case "beta", "b":
			v.Pre = Beta
		default:
			v.Pre = RC
		}
		p.optNumber(&v.PreN)
		if err := p.err; err != nil {
			return v, err
		}
	} else {
		p.i = save
	}
	// Post-release: "-N" or [sep] (post|rev|r) [sep] [N]
	save = p.i
	if p.peek() == '-' && p.i+1 < len(p.s) && isDigit(p.s[p.i+1]) {
		p.i++
		n, _, err := p.number()
		if err != nil {
			return v, err
		}
		v.HasPost, v.Post = true, n
	} else {
		if isSep(p.peek()) {
			p.i++
		}
		if _, ok := p.word("post", "rev", "r"); ok {
			v.HasPost = true
			p.optNumber(&v.Post)
			if err := p.err; err != nil {
				return v, err
			}
		} else {
			p.i = save
		}
	}
	// Development release: [sep] dev [sep] [N]
	save = p.i
	if isSep(p.peek()) {
		p.i++
	}
	if _, ok := p.word("dev"); ok {
		v.HasDev = true
		p.optNumber(&v.Dev)
		if err := p.err; err != nil {
			return v, err
		}
	} else {
		p.i = save
	}
	// Local: + alnum ([sep] alnum)*
	if p.peek() == '+' {
		p.i++
		parts := []string{}
		for {
			start := p.i
			for p.i < len(p.s) && (isDigit(p.s[p.i]) || (p.s[p.i] >= 'a' && p.s[p.i] <= 'z')) {
				p.i++
			}
			if p.i == start {
				return v, p.fail("empty local version segment")
			}
			parts = append(parts, p.s[start:p.i])
			if !isSep(p.peek()) {
				break
			}
			p.i++
		}
		v.Local = strings.Join(parts, ".")
	}
	if p.i != len(p.s) {
		return v, p.fail(fmt.Sprintf("unexpected %q", p.s[p.i:]))
	}
	return v, nil
}

// optNumber reads "[sep] N" when present, leaving *n as 0 (the implicit number) when not.
func (p *verParser) optNumber(n *uint64) {
	save := p.i
	if isSep(p.peek()) {
		p.i++
	}
	x, ok, err := p.number()
	if err != nil {
		p.err = err
		return
	}
	if !ok {
		p.i = save
		return
	}
	*n = x
}

// String returns the normalised form, e.g. "1!2.0rc1.post3.dev4+ubuntu.1".
func (v Version) String() string {
	var b strings.Builder
	if v.Epoch != 0 {
		b.WriteString(strconv.FormatUint(v.Epoch, 10))
		b.WriteByte('!')
	}
	b.WriteString(v.releaseString())
	if v.Pre != "" {
		b.WriteString(string(v.Pre))
		b.WriteString(strconv.FormatUint(v.PreN, 10))
	}
	if v.HasPost {
		b.WriteString(".post")
		b.WriteString(strconv.FormatUint(v.Post, 10))
	}
	if v.HasDev {
		b.WriteString(".dev")
		b.WriteString(strconv.FormatUint(v.Dev, 10))
	}
	if v.Local != "" {
		b.WriteByte('+')
		b.WriteString(v.Local)
	}
	return b.String()
}

func (v Version) releaseString() string {
	parts := make([]string, len(v.Release))
	for i, n := range v.Release {
		parts[i] = strconv.FormatUint(n, 10)
	}
	return strings.Join(parts, ".")
}

// IsPrerelease reports whether v is a pre-release or a development release.
func (v Version) IsPrerelease() bool { return v.Pre != "" || v.HasDev }

// IsPostrelease reports whether v is a post-release.
func (v Version) IsPostrelease() bool { return v.HasPost }

// Public returns v without its local label.
func (v Version) Public() Version {
	v.Local = ""
	return v
}

// Base returns the epoch and release segment only ("1!2.0" of "1!2.0rc1.post1+x").
func (v Version) Base() Version {
	return Version{Epoch: v.Epoch, Release: v.Release}
}

// Compare orders versions as PEP 440 does: -1 when a < b, 0 when equal, +1 when a > b.
// Trailing zeros of the release do not matter (1.0 == 1.0.0); 1.0.dev1 < 1.0a1 < 1.0 <
// 1.0.post1; a local version sorts after its public version.
func Compare(a, b Version) int {
	if c := cmpU(a.Epoch, b.Epoch); c != 0 {
		return c
	}
	n := max(len(a.Release), len(b.Release))
	for i := range n {
		var x, y uint64
		if i < len(a.Release) {
			x = a.Release[i]
		}
		if i < len(b.Release) {
			y = b.Release[i]
		}
		if c := cmpU(x, y); c != 0 {
			return c
		}
	}
	if c := cmpPre(a, b); c != 0 {
		return c
	}
	// post: absent sorts first
	if c := cmpOpt(a.HasPost, a.Post, b.HasPost, b.Post, -1); c != 0 {
		return c
	}
	// dev: absent sorts last
	if c := cmpOpt(a.HasDev, a.Dev, b.HasDev, b.Dev, +1); c != 0 {
		return c
	}
	return cmpLocal(a.Local, b.Local)
}

// preKey places a version's pre-release part: a bare dev release (1.0.dev1) sorts before
// every pre-release, a final release after every pre-release.
func preKey(v Version) (int, uint64) {
	switch {
	case v.Pre != "":
		return v.Pre.rank(), v.PreN
	case v.HasDev && !v.HasPost:
		return -1, 0
	default:
		return 3, 0
	}
}

func cmpPre(a, b Version) int {
	ka, na := preKey(a)
	kb, nb := preKey(b)
	if ka != kb {
		if ka < kb {
			return -1
		}
		return 1
	}
	return cmpU(na, nb)
}

func cmpOpt(ha bool, a uint64, hb bool, b uint64, absent int) int {
	switch {
	case ha && hb:
		return cmpU(a, b)
	case ha:
		return -absent
	case hb:
		return absent
	}
	return 0
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpLocal compares local labels segment by segment: numeric segments compare as numbers
// and sort after alphanumeric ones; a shorter label that is a prefix sorts first.
func cmpLocal(a, b string) int {
	if a == b {
		return 0
	}
	if a == "" {
		return -1
	}
	if b == "" {
		return 1
	}
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		da, db := allDigits(pa[i]), allDigits(pb[i])
		switch {
		case da && db:
			x, y := strings.TrimLeft(pa[i], "0"), strings.TrimLeft(pb[i], "0")
			if len(x) != len(y) {
				return cmpU(uint64(len(x)), uint64(len(y)))
			}
			if c := strings.Compare(x, y); c != 0 {
				return c
			}
		case da:
			return 1
		case db:
			return -1
		default:
			if c := strings.Compare(pa[i], pb[i]); c != 0 {
				return c
			}
		}
	}
	return cmpU(uint64(len(pa)), uint64(len(pb)))
}

// Equal reports whether a and b are the same version (Compare == 0).
func Equal(a, b Version) bool { return Compare(a, b) == 0 }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}
