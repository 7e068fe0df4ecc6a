package purl

import "testing"

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"1.2.3":                    "1.2.3",
		"sha256:ab":                "sha256:ab",
		"docker.io/library/debian": "docker.io/library/debian",
		"2.0+git~1":                "2.0%2Bgit~1",
		"a b?&=#@%":                "a%20b%3F%26%3D%23%40%25",
		"é":                        "%C3%A9",
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestQualifiers(t *testing.T) {
	if got := Qualifiers("a", "x y", "b", "", "c", "z"); got != "?a=x%20y&c=z" {
		t.Errorf("got %q", got)
	}
	if got := Qualifiers("a", ""); got != "" {
		t.Errorf("got %q", got)
	}
}
