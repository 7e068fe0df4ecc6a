package store

import (
	"fmt"
	"io/fs"
	"strings"
)

// ValidatePath checks that p is a safe relative slash-separated path inside a tree: not
// empty, not absolute, no "." or ".." elements, no empty elements, no backslash, no NUL or
// other control characters. Violations wrap ErrUnsafePath. Every path that arrives from an
// upstream index goes through here before it names anything.
func ValidatePath(p string) error {
	if !fs.ValidPath(p) || p == "." {
		return fmt.Errorf("%w: %q", ErrUnsafePath, p)
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return fmt.Errorf("%w: %q: control character or backslash", ErrUnsafePath, p)
		}
	}
	return nil
}

// JoinPath joins validated elements with "/" and validates the result.
func JoinPath(elem ...string) (string, error) {
	p := strings.Join(elem, "/")
	return p, ValidatePath(p)
}
