package render

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzManifests feeds helm-shaped manifest streams to the walker: it never panics, and
// what it collects is normalised (normalising again changes nothing).
func FuzzManifests(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/charts/app/templates/*.yaml")
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add("---\n# Source: " + p + "\n" + string(b))
	}
	f.Add("kind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers: [{image: a}]\n")
	f.Add("x: &a {image: b}\ny: [*a, *a]\n")
	f.Fuzz(func(t *testing.T, m string) {
		c := newCollector([]string{"docker.io/library/nginx", "quay.io/*"})
		if err := c.manifests(m); err != nil {
			return
		}
		for _, im := range c.out {
			if n, err := Normalize(im.Ref); err != nil || n != im.Ref {
				t.Fatalf("collected %q, which normalises to %q, %v", im.Ref, n, err)
			}
		}
	})
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"nginx", "ghcr.io/a/b:v1", "127.0.0.1:5000/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "a:b:c", "UP/x", "index.docker.io/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Normalize(s)
		if err != nil {
			return
		}
		if n2, err := Normalize(n); err != nil || n2 != n {
			t.Fatalf("%q -> %q -> %q, %v", s, n, n2, err)
		}
	})
}
