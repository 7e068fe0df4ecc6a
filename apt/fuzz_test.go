package apt_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/airgapkit/airgap/apt"
	"github.com/airgapkit/airgap/store"
)

// typed reports whether err is one of the errors a parser promises.
func typed(err error) bool {
	return errors.Is(err, apt.ErrMalformed) || errors.Is(err, store.ErrTooLarge) ||
		errors.Is(err, store.ErrUnsafePath) || errors.Is(err, apt.ErrWeakChecksums)
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("Package: a\nDescription: x\n y\n\nPackage: b\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := apt.NewReader(bytes.NewReader(b))
		r.MaxFieldSize, r.MaxParagraphSize, r.MaxFields = 512, 1024, 16
		for i := 0; ; i++ {
			p, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				if !typed(err) {
					t.Fatalf("untyped error %v", err)
				}
				return
			}
			// the span it reports holds it: read alone, it gives the same fields
			if p.Offset < 0 || p.End > int64(len(b)) || p.Offset >= p.End {
				t.Fatalf("span [%d,%d) of %d bytes", p.Offset, p.End, len(b))
			}
			alone, err := apt.ReadParagraph(bytes.NewReader(b[p.Offset:p.End]))
			if err != nil || len(alone.Fields) != len(p.Fields) || alone.Raw != p.Raw {
				t.Fatalf("span [%d,%d) %q does not read as the paragraph: %v", p.Offset, p.End, b[p.Offset:p.End], err)
			}
			// what we read, written back, reads the same
			back, err := apt.ReadParagraph(bytes.NewReader([]byte(p.Raw)))
			if err != nil {
				t.Fatalf("raw of a parsed paragraph does not parse: %v\n%q", err, p.Raw)
			}
			if len(back.Fields) != len(p.Fields) {
				t.Fatalf("fields %d != %d", len(back.Fields), len(p.Fields))
			}
			for j := range p.Fields {
				if back.Fields[j] != p.Fields[j] {
					t.Fatalf("field %d: %q != %q", j, back.Fields[j], p.Fields[j])
				}
			}
			q := apt.Paragraph{Fields: p.Fields}
			if again, err := apt.ReadParagraph(bytes.NewReader(q.Bytes())); err != nil || len(again.Fields) != len(p.Fields) {
				t.Fatalf("rebuilt paragraph does not parse: %v\n%q", err, q.Bytes())
			}
		}
	})
}

func FuzzParseRelease(f *testing.F) {
	f.Add([]byte(sampleRelease))
	f.Fuzz(func(t *testing.T, b []byte) {
		rel, err := apt.ParseRelease(bytes.NewReader(b))
		if err != nil {
			if !typed(err) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for p, file := range rel.Files {
			if store.ValidatePath(p) != nil || file.Size < 0 {
				t.Fatalf("unsafe entry %q", p)
			}
		}
		if !hasStrong(rel) {
			return
		}
		back, err := apt.ParseRelease(bytes.NewReader(rel.Marshal()))
		if err != nil {
			t.Fatalf("marshalled Release does not parse: %v\n%s", err, rel.Marshal())
		}
		for p, file := range rel.Files {
			if file.Strong() && back.Files[p].SHA256 != file.SHA256 {
				t.Fatalf("entry %q lost", p)
			}
		}
	})
}

func hasStrong(rel *apt.Release) bool {
	for _, f := range rel.Files {
		if f.Strong() {
			return true
		}
	}
	return false
}

func FuzzParseRelations(f *testing.F) {
	f.Add("libc6 (>= 2.34), a | b:any (<< 2), c [amd64]")
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := apt.ParseRelations(s)
		if err != nil {
			if !errors.Is(err, apt.ErrMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for _, g := range rs {
			for _, r := range g {
				if r.Name == "" {
					t.Fatal("empty name")
				}
				r.Satisfied("1.0")
			}
		}
	})
}

func FuzzCompareVersions(f *testing.F) {
	f.Add("1:2.0~rc1-1", "2.0-1")
	f.Fuzz(func(t *testing.T, a, b string) {
		if x, y := apt.CompareVersions(a, b), apt.CompareVersions(b, a); sign(x) != -sign(y) {
			t.Fatalf("not antisymmetric: %q %q", a, b)
		}
	})
}

func FuzzReadDeb(f *testing.F) {
	f.Add([]byte("!<arch>\ndebian-binary   0           0     0     100644  4         `\n2.0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := apt.ReadDeb(bytes.NewReader(b))
		if err != nil && !typed(err) {
			t.Fatalf("untyped error %v", err)
		}
	})
}
