package site

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/airgapkit/airgap/store"
)

// FuzzParse: any config text is accepted or refused with a store.ErrConfig error, never a
// panic.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("../examples/airgap/airgap.example.yaml"); err == nil {
		f.Add(string(b))
	}
	for _, s := range []string{
		"hosts:\n  a: [apt/x, apt/y]\napt:\n  - {name: x, url: http://a/x, suites: [s]}\n  - {name: y, url: http://a/y, suites: [t]}\n",
		"files:\n  - {name: f, insecure: true, urls: [\"http://h/a\"]}\nserve: {idle_timeout: 5s, max_conns: 3}\n",
		"keep: -1\n", "listen: \"[::1]:80\"\n", "hosts: {a: []}\n", "&a [*a]", "store: s3://b/p?endpoint=h:1\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		_, err := Parse("/etc/airgap/airgap.yaml", []byte(text))
		if err != nil && !errors.Is(err, store.ErrConfig) {
			t.Fatalf("error not matching store.ErrConfig: %v", err)
		}
	})
}

// FuzzRoute: whatever the Host, path and proxy form, the server answers without a panic
// and never with a 5xx, and a proxy request for an unknown host is refused.
func FuzzRoute(f *testing.F) {
	srv, _ := transparentSite(f)
	for _, s := range [][2]string{
		{"deb.debian.org", "/debian/dists/bookworm/InRelease"}, {"images.maas.io:80", "/ephemeral-v3/stable/streams/v1/index.sjson"},
		{"[::1]:8080", "/apt/debian/dists/bookworm/InRelease"}, {"", "/"}, {"deb.debian.org", "/debian-security/../debian/x"},
		{"x", "http://archive.ubuntu.com/ubuntu/dists/noble/InRelease"}, {"deb.debian.org", "/debian%2f..%2fetc"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, host, target string) {
		r, err := http.NewRequest("GET", target, nil)
		if err != nil {
			return
		}
		r.Host = host
		if r.URL.Host != "" {
			r.Host = r.URL.Host
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %s: %d", host, target, w.Code)
		}
		if r.URL.IsAbs() && w.Code == http.StatusOK {
			if _, ok := srv.hosts[hostOnly(r.Host)]; !ok && !srv.self[hostOnly(r.Host)] {
				t.Fatalf("proxy request for %s answered 200", r.Host)
			}
		}
	})
}
