package oci

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/airgapkit/airgap/store"
)

func FuzzParseManifest(f *testing.F) {
	f.Add(MediaTypeOCIManifest, []byte(`{"schemaVersion":2,"config":{"mediaType":"a","digest":"sha256:`+strings.Repeat("a", 64)+`","size":2},"layers":[]}`))
	f.Add(MediaTypeOCIIndex, []byte(`{"schemaVersion":2,"manifests":[{"mediaType":"`+MediaTypeOCIManifest+`","digest":"sha256:`+strings.Repeat("b", 64)+`","size":3,"platform":{"os":"linux","architecture":"arm64"}}]}`))
	f.Add("", []byte(`{"mediaType":"x"}`))
	f.Fuzz(func(t *testing.T, mt string, b []byte) {
		m, err := ParseManifest(mt, b)
		if err != nil {
			return
		}
		for _, d := range m.descriptors() {
			if d.Digest.Validate() != nil || d.Size < 0 {
				t.Fatalf("accepted bad descriptor %+v", d)
			}
		}
		if IsIndex(m.MediaType) {
			out, _, err := filterIndex(b, store.Digest("sha256:"+strings.Repeat("0", 64)), []Platform{{OS: "linux", Architecture: "arm64"}})
			if err == nil {
				if _, err := ParseManifest(m.MediaType, out); err != nil {
					t.Fatalf("filtered index does not parse: %v", err)
				}
			}
		}
	})
}

func FuzzParseReference(f *testing.F) {
	for _, s := range []string{"nginx", "ghcr.io/a/b:v1", "127.0.0.1:5000/x@sha256:" + strings.Repeat("c", 64), "a:b:c", "UP/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReference(s)
		if err != nil {
			return
		}
		if r.Registry == "" || r.Repository == "" || (r.Tag == "" && r.Digest == "") {
			t.Fatalf("incomplete reference %+v from %q", r, s)
		}
		r2, err := ParseReference(r.String())
		if err != nil || r2 != r {
			t.Fatalf("round trip %q -> %q -> %+v, %v", s, r.String(), r2, err)
		}
	})
}

func FuzzImagesFromYAML(f *testing.F) {
	f.Add([]byte("spec:\n  containers:\n  - image: nginx:1.25\n---\nimage:\n  repository: a/b\n  tag: '1'\n"))
	f.Add([]byte("a: [x"))
	f.Add([]byte("&a [*a, *a]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		refs, err := ImagesFromYAML(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, r := range refs {
			if _, err := ParseReference(r); err != nil {
				t.Fatalf("returned unparsable %q", r)
			}
		}
	})
}

func FuzzReadImageList(f *testing.F) {
	f.Add([]byte("nginx\n# c\n\nghcr.io/a/b:1 # x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ReadImageList(bytes.NewReader(b))
	})
}

func FuzzParseChallenge(f *testing.F) {
	f.Add(`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:x:pull"`)
	f.Add(`Basic realm="r"`)
	f.Add(`Bearer realm="a\"b", error=insufficient_scope`)
	f.Fuzz(func(t *testing.T, h string) {
		_, _ = parseChallenge(h)
	})
}

func FuzzRetryWait(f *testing.F) {
	f.Add("120", "", "")
	f.Add("Wed, 21 Oct 2015 07:28:00 GMT", "", "")
	f.Add("", "30", "0;w=21600")
	f.Fuzz(func(t *testing.T, ra, reset, remaining string) {
		h := http.Header{}
		h.Set("Retry-After", ra)
		h.Set("RateLimit-Reset", reset)
		h.Set("RateLimit-Remaining", remaining)
		if d, _ := retryWait(h, time.Unix(1700000000, 0)); d < 0 {
			t.Fatalf("negative wait %v", d)
		}
		_, _ = rateLimitHeaders(h)
	})
}

func FuzzParseLayoutIndex(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":2,"manifests":[{"mediaType":"` + MediaTypeOCIIndex + `","digest":"sha256:` + strings.Repeat("d", 64) + `","size":1,"annotations":{"org.opencontainers.image.ref.name":"a/b:1"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		idx, err := parseLayoutIndex(b)
		if err != nil {
			return
		}
		for _, d := range idx.Manifests {
			repo, tag, err := splitLayoutName(d.Annotations[AnnotationRefName], "default/repo")
			if err == nil && (repo == "" || !validTag(tag)) {
				t.Fatalf("bad split %q %q", repo, tag)
			}
		}
	})
}
