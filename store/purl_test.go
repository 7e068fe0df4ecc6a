package store

import "testing"

func TestPURL(t *testing.T) {
	for _, tc := range []struct {
		typ, ns, name, version string
		q                      map[string]string
		want                   string
	}{
		{"pypi", "", "django", "1.11.1", nil, "pkg:pypi/django@1.11.1"},
		{"pypi", "", "demo-lib", "1!2.0+ubuntu.1", nil, "pkg:pypi/demo-lib@1%212.0%2Bubuntu.1"},
		{"ansible", "community", "general", "6.0.0-beta+build.5", nil, "pkg:ansible/community/general@6.0.0-beta%2Bbuild.5"},
		{"ansible", "redhat", "rhel_system_roles", "1.20.0", map[string]string{"repository_url": "console.redhat.com/ansible/automation-hub"},
			"pkg:ansible/redhat/rhel_system_roles@1.20.0?repository_url=console.redhat.com/ansible/automation-hub"},
		{"deb", "debian", "curl", "7.50.3-1", map[string]string{"distro": "", "arch": "i386"}, "pkg:deb/debian/curl@7.50.3-1?arch=i386"},
		{"deb", "debian", "libc6", "2:2.36-9", map[string]string{"distro": "bookworm", "arch": "amd64"}, "pkg:deb/debian/libc6@2:2.36-9?arch=amd64&distro=bookworm"},
		{"generic", "a b/c", "n@me", "", nil, "pkg:generic/a%20b/c/n%40me"},
		{"generic", "", "ü", "", nil, "pkg:generic/%C3%BC"},
	} {
		if got := PURL(tc.typ, tc.ns, tc.name, tc.version, tc.q); got != tc.want {
			t.Errorf("PURL(%q, %q, %q, %q) = %s, want %s", tc.typ, tc.ns, tc.name, tc.version, got, tc.want)
		}
	}
}
