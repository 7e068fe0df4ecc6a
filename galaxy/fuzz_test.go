package galaxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/airgapkit/airgap/store"
)

// Every reader of untrusted input returns a value or a typed error, never panics.

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"", "*", ">=8.0.0,<9", "==1.2.3", "!=2.0.0", ">1.0", "1.2.3-rc.1+b", "=>1", ",", ">=1.0.0, <2.0.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRange(s)
		if err != nil {
			if !errors.Is(err, ErrVersion) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		// What a range prints parses again to the same clauses.
		r2, err := ParseRange(Range{Clauses: r.Clauses}.String())
		if err != nil || len(r2.Clauses) != len(r.Clauses) {
			t.Fatalf("%q: reprint does not parse: %v", s, err)
		}
		v, _ := ParseVersion("1.2.3")
		_ = r.Match(v, false)
	})
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"1.2.3", "0.0.0-alpha.1+build.5", "01.2.3", "1.2", "1.2.3-", "99999999999999999999.0.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			if !errors.Is(err, ErrVersion) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if v.String() != s {
			t.Fatalf("%q prints as %q", s, v.String())
		}
		if v.Compare(v) != 0 {
			t.Fatal("not equal to itself")
		}
	})
}

func FuzzParseRequirements(f *testing.F) {
	f.Add([]byte("collections:\n  - name: a.b\n    version: '>=1.0.0'\n  - c.d\nroles:\n  - src: x.y\n    version: 1.0\n"))
	f.Add([]byte("- a.b,1.0\n- src: c.d\n"))
	f.Add([]byte("collections: [\n"))
	f.Add([]byte("roles: {a: b}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRequirements(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrRequirements) && !errors.Is(err, ErrVersion) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for _, c := range r.Collections {
			if c.Type == "" {
				if _, _, err := splitName(c.Name); err != nil {
					t.Fatalf("accepted bad name %q", c.Name)
				}
			}
		}
	})
}

func FuzzDecodePage(f *testing.F) {
	f.Add([]byte(`{"meta":{"count":2},"links":{"next":"/api/v3/x/?offset=1"},"data":[{"version":"1.0.0"}]}`))
	f.Add([]byte(`{"count":1,"next_link":null,"results":[{"id":1,"name":"r","summary_fields":{"namespace":{"name":"o"}}}]}`))
	f.Add([]byte(`{"results":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, err := decodePage(bytes.NewReader(b), func(it json.RawMessage) error {
			if _, err := decodeVersionItem(it); err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			if _, err := decodeRoleVersion(it); err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			if _, err := decodeRole(it); err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			return nil
		})
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, store.ErrTooLarge) {
			t.Fatalf("untyped error %v", err)
		}
	})
}

func FuzzDecodeVersionDetail(f *testing.F) {
	f.Add([]byte(`{"version":"1.0.0","namespace":{"name":"a"},"collection":{"name":"b"},"download_url":"http://x/d.tar.gz",` +
		`"artifact":{"sha256":"` + string(bytes.Repeat([]byte("a"), 64)) + `","size":3},"metadata":{"dependencies":{"c.d":">=1"}},"signatures":[{"signature":"s"}]}`))
	f.Add([]byte(`{"version":"1.0.0","namespace":"a","name":"b","download_url":"x","metadata":null}`))
	f.Add([]byte(`{"metadata":{"dependencies":[]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decodeVersionDetail(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if !validNamePart(v.Namespace) || !validNamePart(v.Name) || v.Filename != ArtifactName(v.Namespace, v.Name, v.Version) {
			t.Fatalf("accepted %+v", v)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(v.Metadata, &m); err != nil || m["dependencies"] == nil {
			t.Fatalf("metadata not normalized: %s", v.Metadata)
		}
	})
}

func FuzzDecodeDiscoveryAndCollection(f *testing.F) {
	f.Add([]byte(`{"available_versions":{"v1":"v1/","v3":"v3/"}}`))
	f.Add([]byte(`{"namespace":"a","name":"b","updated_at":"2024","highest_version":{"version":"1.0.0"}}`))
	f.Add([]byte(`{"namespace":{"name":"a"}}`))
	f.Add([]byte(`{"available_versions":{"v3":"../x"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := decodeDiscovery(b); err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNoAPI) {
			t.Fatalf("untyped error %v", err)
		}
		if _, err := decodeCollection(b); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("untyped error %v", err)
		}
	})
}
