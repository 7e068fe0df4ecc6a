package pep508

import (
	"strings"
	"testing"
)

// FuzzParseRequirementsFile: requirements files never panic.
func FuzzParseRequirementsFile(f *testing.F) {
	f.Add("a>=1 # c\nb \\\n  --hash=sha256:00\n-r x\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParseRequirementsFile(strings.NewReader(s))
	})
}
