package rpm

import (
	"fmt"
	"strconv"
	"strings"
)

// EVR is an rpm version: epoch, version and release. An empty Release (in a
// requirement such as "foo >= 1.2") matches any release.
type EVR struct {
	Epoch   int
	Version string
	Release string
}

// ParseEVR reads "[epoch:]version[-release]".
func ParseEVR(s string) (EVR, error) {
	var e EVR
	if i := strings.IndexByte(s, ':'); i >= 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 {
			return EVR{}, fmt.Errorf("%w: epoch of %q", ErrMalformed, s)
		}
		e.Epoch, s = n, s[i+1:]
	}
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		e.Version, e.Release = s[:i], s[i+1:]
	} else {
		e.Version = s
	}
	if e.Version == "" || strings.ContainsAny(s, ": \t") {
		return EVR{}, fmt.Errorf("%w: version %q", ErrMalformed, s)
	}
	return e, nil
}

// String writes the EVR as "epoch:version-release" (epoch always, release when set): the
// form of a PURL version and of modules.yaml's NEVRAs.
func (e EVR) String() string {
	s := strconv.Itoa(e.Epoch) + ":" + e.Version
	if e.Release != "" {
		s += "-" + e.Release
	}
	return s
}

// Compare orders two EVRs as rpm does: epoch, then version, then release with
// rpmvercmp; a release is compared only when both have one.
func (e EVR) Compare(o EVR) int {
	if e.Epoch != o.Epoch {
		if e.Epoch < o.Epoch {
			return -1
		}
		return 1
	}
	if c := Vercmp(e.Version, o.Version); c != 0 {
		return c
	}
	if e.Release == "" || o.Release == "" {
		return 0
	}
	return Vercmp(e.Release, o.Release)
}

// Vercmp compares two version or release strings as rpm's rpmvercmp: the strings are
// split into runs of digits and of letters (anything else separates); digit runs compare
// as numbers and beat letter runs; "~" sorts before everything, even the end of the
// string, and "^" after the end but before anything else.
func Vercmp(a, b string) int {
	if a == b {
		return 0
	}
	for len(a) > 0 || len(b) > 0 {
		a = strings.TrimLeftFunc(a, isSep)
		b = strings.TrimLeftFunc(b, isSep)
		// tilde: sorts before anything
		if strings.HasPrefix(a, "~") || strings.HasPrefix(b, "~") {
			if !strings.HasPrefix(a, "~") {
				return 1
			}
			if !strings.HasPrefix(b, "~") {
				return -1
			}
			a, b = a[1:], b[1:]
			continue
		}
		// caret: sorts after the end, before anything else
		if strings.HasPrefix(a, "^") || strings.HasPrefix(b, "^") {
			switch {
			case a == "":
				return -1
			case b == "":
				return 1
			case !strings.HasPrefix(a, "^"):
				return 1
			case !strings.HasPrefix(b, "^"):
				return -1
			}
			a, b = a[1:], b[1:]
			continue
		}
		if a == "" || b == "" {
			break
		}
		digits := isDigit(a[0])
		ra, rest := run(a, digits)
		rb, restB := run(b, digits)
		if rb == "" { // b has a run of the other kind here
			if digits {
				return 1
			}
			return -1
		}
		if digits {
			ra, rb = strings.TrimLeft(ra, "0"), strings.TrimLeft(rb, "0")
			if len(ra) != len(rb) {
				if len(ra) > len(rb) {
					return 1
				}
				return -1
			}
		}
		if c := strings.Compare(ra, rb); c != 0 {
			return c
		}
		a, b = rest, restB
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isSep(r rune) bool {
	return r < 0x80 && !isDigit(byte(r)) && !isAlpha(byte(r)) && r != '~' && r != '^' || r >= 0x80
}

// run splits off the leading run of digits (or of letters) of s.
func run(s string, digits bool) (string, string) {
	i := 0
	for i < len(s) && (digits && isDigit(s[i]) || !digits && isAlpha(s[i])) {
		i++
	}
	return s[:i], s[i:]
}
