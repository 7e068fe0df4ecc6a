package wheel

import "testing"

// FuzzParseMetadata: core metadata never panics, and its requirements parse or fail
// cleanly.
func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte("Metadata-Version: 2.2\nName: x\nRequires-Dist: a[b]>=1; extra == 'c'\n  continued\nDynamic: Requires-Dist\n\nbody"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMetadata(b)
		if err != nil {
			return
		}
		_, _ = m.Requirements()
		_ = m.DependenciesKnown()
	})
}
