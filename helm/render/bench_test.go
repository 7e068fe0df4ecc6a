package render

import (
	"context"
	"testing"
)

// BenchmarkImages renders the app chart (a subchart twice by alias, hooks, eight
// templates) and walks its manifests: the cost per chart version of a helm mirror's sync.
func BenchmarkImages(b *testing.B) {
	archive := pack(b, "app")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Images(context.Background(), archive, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWalk is the manifest walker alone over a large rendered stream.
func BenchmarkWalk(b *testing.B) {
	doc := "---\n# Source: a/templates/d.yaml\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - {name: a, image: nginx:1.25}\n        - {name: b, image: ghcr.io/x/y:2}\n      initContainers: [{name: c, image: busybox}]\n"
	var m string
	for range 500 {
		m += doc
	}
	b.SetBytes(int64(len(m)))
	b.ReportAllocs()
	for b.Loop() {
		if err := newCollector(nil).manifests(m); err != nil {
			b.Fatal(err)
		}
	}
}
