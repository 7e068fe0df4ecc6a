package store

import "testing"

func TestPURL(t *testing.T) {
	for _, tc := range []struct{ typ, ns, name, version, want string }{
		{"pypi", "", "django", "1.11.1", "pkg:pypi/django@1.11.1"},
		{"pypi", "", "demo-lib", "1!2.0+ubuntu.1", "pkg:pypi/demo-lib@1%212.0%2Bubuntu.1"},
		{"ansible", "community", "general", "6.0.0-beta+build.5", "pkg:ansible/community/general@6.0.0-beta%2Bbuild.5"},
		{"deb", "debian", "curl", "7.50.3-1", "pkg:deb/debian/curl@7.50.3-1"},
		{"deb", "debian", "libc6", "2:2.36-9", "pkg:deb/debian/libc6@2:2.36-9"},
		{"generic", "a b/c", "n@me", "", "pkg:generic/a%20b/c/n%40me"},
		{"generic", "", "ü", "", "pkg:generic/%C3%BC"},
	} {
		if got := PURL(tc.typ, tc.ns, tc.name, tc.version); got != tc.want {
			t.Errorf("PURL(%q, %q, %q, %q) = %s, want %s", tc.typ, tc.ns, tc.name, tc.version, got, tc.want)
		}
	}
}
