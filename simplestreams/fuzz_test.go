package simplestreams

import (
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
)

// checkProducts asserts the invariants of a parsed document: every item path is safe,
// and writing it back gives a document that parses to the same items.
func checkProducts(t *testing.T, p *Products) {
	for _, it := range p.Items() {
		if path := it.Path(); path != "" {
			if err := store.ValidatePath(path); err != nil {
				t.Fatalf("unsafe path accepted: %q", path)
			}
			if err := it.Expect().Validate(); err != nil {
				t.Fatalf("malformed checksum accepted: %v", err)
			}
		}
		_ = it.Flat()
	}
	sel := p.Select(nil, 1)
	b, err := EncodeProducts(sel)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	again, err := ParseProducts(b)
	if err != nil {
		t.Fatalf("re-parse of our own output: %v\n%s", err, b)
	}
	if len(again.Items()) != len(sel.Items()) {
		t.Fatalf("round trip lost items")
	}
}

func FuzzParseProducts(f *testing.F) {
	f.Add([]byte(testProducts))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProducts(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		checkProducts(t, p)
	})
}

func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(testIndex))
	f.Fuzz(func(t *testing.T, b []byte) {
		ix, err := ParseIndex(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		for _, e := range ix.Entries {
			if store.ValidatePath(e.Path) != nil {
				t.Fatalf("unsafe path accepted: %q", e.Path)
			}
			if err := e.Expect().Validate(); err != nil {
				t.Fatalf("malformed checksum accepted: %v", err)
			}
		}
		if _, err := EncodeIndex(ix); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzParseFilter(f *testing.F) {
	f.Add("arch=amd64")
	f.Fuzz(func(t *testing.T, s string) {
		fl, err := ParseFilter(s)
		if err != nil {
			if !errors.Is(err, ErrFilter) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		// What String prints parses back to the same filter.
		again, err := ParseFilter(fl.String())
		if err != nil || again.Key != fl.Key || again.Op != fl.Op || again.Value != fl.Value {
			t.Fatalf("%q -> %q -> %+v, %v", s, fl.String(), again, err)
		}
		fl.MatchValue("amd64")
		fl.MatchValue("")
	})
}

// FuzzReadClearsigned feeds the .sjson reader (and the unverified reader used with
// InsecureSkipSignature) arbitrary bytes: typed errors, never a panic.
func FuzzReadClearsigned(f *testing.F) {
	key, err := os.ReadFile("testdata/fuzz-key.asc")
	if err != nil {
		f.Fatal(err)
	}
	signer, err := pgp.ReadSigner(strings.NewReader(string(key)), nil)
	if err != nil {
		f.Fatal(err)
	}
	kr := signer.Keyring()
	f.Fuzz(func(t *testing.T, b []byte) {
		content, err := ReadClearsigned(kr, b)
		if err != nil {
			if !errors.Is(err, ErrUnsigned) && !errors.Is(err, pgp.ErrSignature) {
				t.Fatalf("untyped error: %v", err)
			}
		} else if p, err := ParseProducts(content); err == nil {
			checkProducts(t, p)
		}
		if _, err := unwrapUnverified(b); err != nil && !errors.Is(err, ErrInvalidDocument) {
			t.Fatalf("untyped error: %v", err)
		}
	})
}

// FuzzPythonFloat: a number printed as Python prints a float reads back as the same float.
func FuzzPythonFloat(f *testing.F) {
	for _, s := range []string{"1.0", "1e16", "0.00001", "-0.0", "1e400", "2.5E-7", "123.456"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := strconv.ParseFloat(s, 64)
		if err != nil && !math.IsInf(want, 0) {
			return
		}
		got := pythonFloat(s)
		back, err := strconv.ParseFloat(got, 64)
		if err != nil || back != want || math.Signbit(back) != math.Signbit(want) {
			t.Fatalf("%q -> %q -> %v, want %v", s, got, back, want)
		}
	})
}
