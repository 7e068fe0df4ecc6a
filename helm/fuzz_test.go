package helm

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/airgapkit/airgap/helm/helmtest"
	"github.com/airgapkit/airgap/store"
)

func seeds(f *testing.F, names ...string) {
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzParseIndex: any input parses or fails with an error, never panics, and what
// parses is served again as an index that parses to the same versions.
func FuzzParseIndex(f *testing.F) {
	seeds(f, "index.yaml", "index.json")
	f.Add([]byte("apiVersion: v1\nentries: {a: [{name: a, version: 1, urls: [x]}]}\n"))
	f.Add([]byte("apiVersion: v1\nentries: &a {b: *a}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		idx, err := ParseIndex(b)
		if err != nil {
			return
		}
		held := map[string][]heldVersion{}
		for name, vs := range idx.Entries {
			for _, v := range vs {
				held[name] = append(held[name], heldVersion{Held: &Held{Name: v.Name, Version: v.Version, File: chartFile(v), Digest: store.DigestOf(nil)}, v: v})
			}
		}
		out, err := servedIndex(idx, held)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseIndex(out)
		if err != nil {
			t.Fatalf("served index does not parse: %v\n%s", err, out)
		}
		for name, vs := range idx.Entries {
			if len(again.Entries[name]) != len(vs) {
				t.Fatalf("%s: %d versions, served %d", name, len(vs), len(again.Entries[name]))
			}
		}
	})
}

// FuzzReadIndex: reading an index block by block (ReadIndex) gives what decoding it
// whole (ParseIndex) gives for the charts selected (sel: names separated by commas, "*"
// all): the same versions, fields and top-level fields; an index that does not parse
// whole may read (a malformed chart that is not selected goes unnoticed), or fail with
// a typed error, never panic.
func FuzzReadIndex(f *testing.F) {
	for _, n := range []string{"index.yaml", "index.json", "index-odd.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "*")
		f.Add(b, "cert-manager,lib")
		f.Add(b, "app")
	}
	f.Add([]byte("apiVersion: v1\nentries: {a: [{name: a, version: 1, urls: [x]}]}\n"), "a")
	f.Add([]byte("x: &x\n  a:\n  - {name: a, version: 1, urls: [u]}\napiVersion: v1\nentries:\n  <<: *x\n"), "a")
	f.Add([]byte("apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: '1'\n    description: \"two\n  b:\n  - lines\"\n    urls: [u]\n"), "b")
	f.Add([]byte("apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1\n    urls: [u]\n    notes: |\n      b:\n      - not a chart\n"), "a,b")
	f.Fuzz(func(t *testing.T, b []byte, sel string) {
		want := func(n string) bool { return sel == "*" || slices.Contains(strings.Split(sel, ","), n) }
		whole, werr := ParseIndex(b)
		got, gerr := ReadIndex(bytes.NewReader(b), want)
		if gerr != nil {
			if !errors.Is(gerr, store.ErrMalformed) && !errors.Is(gerr, store.ErrTooLarge) {
				t.Fatalf("untyped error %v", gerr)
			}
			if werr == nil {
				t.Fatalf("ReadIndex: %v; ParseIndex read it", gerr)
			}
			return
		}
		if werr != nil {
			return
		}
		if !reflect.DeepEqual(got.fields, whole.fields) {
			t.Fatalf("fields %v, whole %v", got.fields, whole.fields)
		}
		for name, vs := range whole.Entries {
			if !want(name) {
				continue
			}
			if !reflect.DeepEqual(got.Entries[name], vs) {
				t.Fatalf("%s: %+v, whole %+v", name, got.Entries[name], vs)
			}
		}
		for name := range got.Entries {
			if !want(name) || whole.Entries[name] == nil {
				t.Fatalf("%s read, not selected or not in the index", name)
			}
		}
	})
}

// FuzzParseProvenance: any body parses or fails with an error, never panics.
func FuzzParseProvenance(f *testing.F) {
	seeds(f, "prov-body.yaml")
	f.Add([]byte("name: a\nversion: 1\n...\nfiles: {a-1.tgz: 'sha256:xx'}\n...\nimages: {}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProvenance(b)
		if err != nil {
			return
		}
		if p.Name == "" || p.Version == "" || len(p.Files) == 0 {
			t.Fatalf("accepted an incomplete provenance: %+v", p)
		}
		for name := range p.Files {
			if s := p.Sum(name); s != "" && !isHex64(s) {
				t.Fatalf("sum %q", s)
			}
		}
	})
}

// FuzzReadChart: any archive reads or fails with an error, never panics.
func FuzzReadChart(f *testing.F) {
	f.Add([]byte{0x1f, 0x8b, 0x08, 0x00})
	tgz, err := helmtest.Package(&helmtest.Chart{Name: "app", Version: "1.0.0", Vendored: []*helmtest.Chart{{Name: "lib", Version: "2.0.0"}},
		Dependencies: []map[string]string{{"name": "lib", "version": "2.0.0"}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tgz)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ReadChart(bytes.NewReader(b))
	})
}
