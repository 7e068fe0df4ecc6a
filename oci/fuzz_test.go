package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
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

// FuzzHandler sends arbitrary paths, queries and Range headers to the read-only registry:
// it never fails with 500, and every refusal is distribution error JSON with a spec code
// (416 excepted: net/http writes its body; it always names the size in Content-Range).
func FuzzHandler(f *testing.F) {
	ctx := context.Background()
	s := store.NewMemory()
	layer := []byte("layer bytes")
	manifest := []byte(`{"schemaVersion":2,"mediaType":"` + MediaTypeOCIManifest + `","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"` + string(store.DigestOf(layer)) + `","size":11},"layers":[]}`)
	snap := store.NewSnapshot()
	for _, b := range [][]byte{layer, manifest} {
		if _, err := store.PutBytes(ctx, s, store.Expect{}, b); err != nil {
			f.Fatal(err)
		}
	}
	md := store.DigestOf(manifest)
	mf := store.File{Digest: md, Size: int64(len(manifest)), MediaType: MediaTypeOCIManifest}
	for p, file := range map[string]store.File{
		tagPath("r/x", "1"):                     mf,
		manifestPath("r/x", md):                 mf,
		layerPath("r/x", store.DigestOf(layer)): {Digest: store.DigestOf(layer), Size: int64(len(layer))},
	} {
		if err := snap.Add(p, file); err != nil {
			f.Fatal(err)
		}
	}
	sd, err := store.WriteSnapshot(ctx, s, snap)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := store.Publish(ctx, s, "oci/f", "", sd); err != nil {
		f.Fatal(err)
	}
	h := NewHandler(s, "oci/f")
	f.Add("GET", "/v2/r/x/manifests/1", "", "")
	f.Add("HEAD", "/v2/r/x/manifests/sha256:bad", "", "")
	f.Add("GET", "/v2/r/x/blobs/"+string(store.DigestOf(layer)), "", "bytes=3-1")
	f.Add("GET", "/v2/r/x/tags/list", "n=1&last=0", "")
	f.Add("GET", "/v2/_catalog", "n=-2", "")
	f.Add("GET", "/v2/r/x/referrers/"+string(md), "artifactType=a", "")
	f.Add("GET", "/v2/r/x/blobs/uploads/abc", "", "")
	f.Fuzz(func(t *testing.T, method, path, query, rng string) {
		if method != "GET" {
			method = "HEAD"
		}
		u := &url.URL{Path: path, RawQuery: query}
		req, err := http.NewRequest(method, "http://mirror"+u.RequestURI(), nil)
		if err != nil || req.URL.Path != path {
			return
		}
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch {
		case rec.Code >= 500:
			t.Fatalf("%s %q: %d", method, u, rec.Code)
		case rec.Code == http.StatusRequestedRangeNotSatisfiable:
			if !strings.HasPrefix(rec.Header().Get("Content-Range"), "bytes */") {
				t.Fatalf("416 without Content-Range for %q", rng)
			}
		case rec.Code >= 400 && method == "GET":
			var e struct{ Errors []struct{ Code string } }
			if json.Unmarshal(rec.Body.Bytes(), &e) != nil || len(e.Errors) != 1 || !specCodes[e.Errors[0].Code] {
				t.Fatalf("%s %q: %d %q", method, u, rec.Code, rec.Body.String())
			}
		case rec.Code < 300 && strings.Contains(path, "/manifests/") && rec.Header().Get("Docker-Content-Digest") == "":
			t.Fatalf("%s %q: manifest without Docker-Content-Digest", method, u)
		}
	})
}
