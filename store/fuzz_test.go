package store_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/airgapkit/airgap/store"
)

func FuzzParseDigest(f *testing.F) {
	f.Add("sha256:" + strings.Repeat("ab", 32))
	f.Add("sha256:" + strings.Repeat("AB", 32))
	f.Add("sha512:00")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := store.ParseDigest(s)
		if err != nil {
			if !errors.Is(err, store.ErrInvalidDigest) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if d.String() != s || len(d.Hex()) != 64 {
			t.Fatalf("accepted %q as %q", s, d)
		}
	})
}

func FuzzValidatePath(f *testing.F) {
	for _, s := range []string{"pool/main/a/a.deb", "../../etc/passwd", "/abs", "a//b", "a\\b", "a\x00b", ".", "a/./b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if store.ValidatePath(p) != nil {
			return
		}
		for _, elem := range strings.Split(p, "/") {
			if elem == ".." || elem == "." || elem == "" {
				t.Fatalf("accepted %q", p)
			}
		}
		if strings.ContainsAny(p, "\x00\\") || strings.HasPrefix(p, "/") {
			t.Fatalf("accepted %q", p)
		}
	})
}

func FuzzDecodeSnapshot(f *testing.F) {
	f.Add([]byte(`{"created":"2026-01-01T00:00:00Z","files":{"a/b":{"digest":"sha256:` + strings.Repeat("0", 64) + `","size":3}}}`))
	f.Add([]byte(`{"files":{"../x":{"digest":"sha256:` + strings.Repeat("0", 64) + `","size":3}}}`))
	f.Add([]byte(`{"files":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		snap, err := store.DecodeSnapshot(b)
		if err != nil {
			return
		}
		for p, file := range snap.Files {
			if store.ValidatePath(p) != nil || file.Digest.Validate() != nil || file.Size < 0 {
				t.Fatalf("accepted bad entry %q %+v", p, file)
			}
		}
	})
}

// FuzzGenerationRecord reads generation records (as Current does, from a store a bundle
// may have filled): the recorded Trust reads back to the same fingerprint.
func FuzzGenerationRecord(f *testing.F) {
	d := `"sha256:` + strings.Repeat("0", 64) + `"`
	f.Add([]byte(`{"snapshot":` + d + `,"published":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"snapshot":` + d + `,"published":"2026-01-01T00:00:00Z","trust":{"roots":{"keyring":"sha256:1"},"switches":{"InsecureSkipSignature":"false"}}}`))
	f.Add([]byte(`{"snapshot":` + d + `,"trust":null}`))
	f.Add([]byte(`{"snapshot":` + d + `,"trust":{"switches":[]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var g store.Generation
		if json.Unmarshal(b, &g) != nil {
			return
		}
		out, err := json.Marshal(g)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var again store.Generation
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("re-read %s: %v", out, err)
		}
		if g.Trust.Fingerprint() != again.Trust.Fingerprint() || g.Trust.IsZero() != again.Trust.IsZero() {
			t.Fatalf("trust changed over a round trip: %s", out)
		}
	})
}
