package snapproxy

import (
	"bytes"
	"strings"
	"testing"

	"github.com/airgapkit/airgap/snapproxy/snapproxytest"
)

// FuzzDecodeAssertion feeds arbitrary bytes to the assertion decoder and the verifier:
// they must return an error or a consistent assertion, never panic.
func FuzzDecodeAssertion(f *testing.F) {
	root := snapproxytest.NewKey("root", "canonical")
	store := snapproxytest.NewKey("store", "canonical")
	f.Add(store.AccountKey(root, "store"))
	f.Add(store.Sign("snap-revision", []snapproxytest.Header{{Name: "snap-sha3-384", Value: "x"}, {Name: "list", Value: []string{"a", "b"}}}, nil))
	f.Add([]byte("type: a\nauthority-id: x\nsign-key-sha3-384: k\nm:\n  k: v\n  l:\n    -\n      x: y\n\nAQ=="))
	// Canonical's real assertions, one by one and as one stream.
	real := snapproxytest.CanonicalChain()
	for _, b := range real {
		f.Add(b)
	}
	f.Add(bytes.Join(real, []byte("\n\n")))
	ra, _ := DecodeAssertion(root.AccountKey(root, "root"))
	rr, _ := DecodeAssertion(real[0])
	trust, _ := NewTrust(ra, rr)
	f.Fuzz(func(t *testing.T, b []byte) {
		as, err := DecodeAll(bytes.NewReader(b), 8)
		if err != nil {
			return
		}
		for _, a := range as {
			if a.Type() == "" || !bytes.HasPrefix(a.Raw(), a.Content()) {
				t.Fatalf("inconsistent assertion %q", a.Raw())
			}
			again, err := DecodeAssertion(a.Raw())
			if err != nil || !bytes.Equal(again.Raw(), a.Raw()) {
				t.Fatalf("re-decoding %q: %v", a.Raw(), err)
			}
		}
		_ = trust.Verify(as)
	})
}

// FuzzParseSnapYAML: any snap-yaml gives an error or valid dependency names.
func FuzzParseSnapYAML(f *testing.F) {
	f.Add([]byte("name: a\nbase: core22\nplugs:\n  p:\n    interface: content\n    default-provider: gtk-common-themes:gtk-3-themes\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		y, err := ParseSnapYAML(b)
		if err != nil {
			return
		}
		for _, d := range y.Dependencies() {
			if !validName(d) {
				t.Fatalf("invalid dependency %q from %q", d, b)
			}
		}
	})
}

// FuzzDecodeRefresh: any refresh answer gives an error or one valid result per action.
func FuzzDecodeRefresh(f *testing.F) {
	f.Add([]byte(`{"results":[{"result":"download","instance-key":"download-0","name":"a","snap":{"name":"a","snap-id":"x","revision":1,"download":{"url":"http://h/a","size":3,"sha3-384":"` + strings.Repeat("ab", 48) + `"}}},{"result":"error","instance-key":"download-1","name":"b","error":{"code":"revision-not-found","extra":{"releases":[{"architecture":"amd64","channel":"latest/stable"}]}}}]}`))
	f.Add([]byte(`{"error-list":[{"code":"x","message":"y"}]}`))
	actions := []Action{{Name: "a"}, {Name: "b", Channel: "edge"}}
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := decodeRefresh(b, "amd64", actions)
		if err != nil {
			return
		}
		if len(res) != len(actions) {
			t.Fatalf("%d results for %d actions", len(res), len(actions))
		}
		for i, r := range res {
			if r.Err == nil && (r.Snap.Name != actions[i].Name || r.Snap.Revision <= 0) {
				t.Fatalf("result %d: %+v", i, r)
			}
		}
	})
}
