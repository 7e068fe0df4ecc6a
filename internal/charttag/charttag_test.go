package charttag

import "testing"

func TestVersion(t *testing.T) {
	for tag, want := range map[string]string{"1.2.3": "1.2.3", "1.2.3_build.4": "1.2.3+build.4", "v2.0.0-rc.1_a_b": "v2.0.0-rc.1+a+b"} {
		if got := Version(tag); got != want {
			t.Errorf("Version(%q) = %q, want %q", tag, got, want)
		}
	}
}
