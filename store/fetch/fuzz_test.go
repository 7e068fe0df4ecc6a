package fetch

import (
	"net/url"
	"testing"
)

func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-99/100", "bytes 100-199/*", "bytes */100", "bytes 5-4/10",
		"bytes 0-9/5", "BYTES 1-1/2", "items 0-1/2", "bytes 0-9223372036854775807/*", "bytes -1-2/3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		first, last, complete, err := parseContentRange(s)
		if err != nil {
			return
		}
		if first < 0 || last < first || (complete >= 0 && last >= complete) || complete < -1 {
			t.Fatalf("%q: accepted inconsistent range %d-%d/%d", s, first, last, complete)
		}
	})
}

func TestParseContentRange(t *testing.T) {
	first, last, complete, err := parseContentRange("bytes 100-199/200")
	if err != nil || first != 100 || last != 199 || complete != 200 {
		t.Fatalf("got %d %d %d %v", first, last, complete, err)
	}
	if _, _, c, err := parseContentRange("bytes 0-0/*"); err != nil || c != -1 {
		t.Fatalf("unknown length: %d %v", c, err)
	}
	for _, bad := range []string{"bytes */200", "bytes 5-4/10", "bytes 0-10/10", "items 0-1/2", "bytes 0-1", "bytes a-b/c", "bytes +1-2/3"} {
		if _, _, _, err := parseContentRange(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestHostKey(t *testing.T) {
	for in, want := range map[string]string{
		"http://Example.com/x":       "example.com:80",
		"https://example.com/x":      "example.com:443",
		"https://example.com:443/x":  "example.com:443",
		"http://example.com:8080/":   "example.com:8080",
		"http://[::1]:8080/":         "[::1]:8080",
		"https://user:pw@127.0.0.1/": "127.0.0.1:443",
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := hostKey(u); got != want {
			t.Errorf("hostKey(%s) = %s, want %s", in, got, want)
		}
	}
}

// FuzzOrigin: an origin is "" or an http(s) origin that is its own origin, and two URLs
// that differ in scheme, host or port never share one.
func FuzzOrigin(f *testing.F) {
	for _, s := range []string{"https://Hub.Example/api/", "http://hub.example:443/", "https://[::1]:8443/x",
		"https://user:pw@127.0.0.1/", "ftp://x/", "//host/path", "http://:80/", "https://h%2fx/", "HTTPS://H:0443/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := url.Parse(s)
		if err != nil {
			return
		}
		o := Origin(u)
		if o == "" {
			return
		}
		v, err := url.Parse(o)
		if err != nil {
			t.Fatalf("Origin(%q) = %q does not parse: %v", s, o, err)
		}
		if Origin(v) != o || (v.Scheme != "http" && v.Scheme != "https") || v.Path != "" {
			t.Fatalf("Origin(%q) = %q is not an origin (its own is %q)", s, o, Origin(v))
		}
	})
}
