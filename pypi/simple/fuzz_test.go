package simple

import (
	"bytes"
	"net/url"
	"testing"
)

var fuzzBase, _ = url.Parse("https://example.org/simple/demo/")

// FuzzParseHTML: any input gives a page or a typed error, and a parsed page survives a
// write and re-parse with the same files.
func FuzzParseHTML(f *testing.F) {
	f.Add([]byte(`<a href="../x/demo-1.0.tar.gz#sha256=00" data-requires-python="&gt;=3" data-yanked="" data-core-metadata="true">demo-1.0.tar.gz</a>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePage(bytes.NewReader(b), MediaTypeHTML, fuzzBase)
		if err != nil {
			return
		}
		roundTrip(t, p, func(b []byte) (*Page, error) { return ParsePage(bytes.NewReader(b), MediaTypeHTML, fuzzBase) }, func(w *bytes.Buffer, p *Page) error { return WritePageHTML(w, p) })
	})
}

// FuzzParseJSON: as FuzzParseHTML for PEP 691 pages.
func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`{"meta":{"api-version":"1.0"},"name":"demo","files":[{"filename":"demo-1.0.tar.gz","url":"x","hashes":{"sha256":"00"},"yanked":"r","core-metadata":{"sha256":"11"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePage(bytes.NewReader(b), MediaTypeJSON, fuzzBase)
		if err != nil {
			return
		}
		roundTrip(t, p, func(b []byte) (*Page, error) { return ParsePage(bytes.NewReader(b), MediaTypeJSON, fuzzBase) }, func(w *bytes.Buffer, p *Page) error { return WritePageJSON(w, p) })
	})
}

func roundTrip(t *testing.T, p *Page, parse func([]byte) (*Page, error), write func(w *bytes.Buffer, p *Page) error) {
	t.Helper()
	var buf bytes.Buffer
	if err := write(&buf, p); err != nil {
		t.Fatalf("write: %v", err)
	}
	back, err := parse(buf.Bytes())
	if err != nil {
		t.Fatalf("re-parse of written page: %v\n%s", err, buf.String())
	}
	// Anchors whose href resolves to no file name are dropped; every other file survives.
	if len(back.Files) > len(p.Files) {
		t.Fatalf("re-parse found %d files, had %d", len(back.Files), len(p.Files))
	}
}
