package jsonstream

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/airgapkit/airgap/store"
)

// FuzzDecoder: any input gives the list or a typed error; what it accepts is JSON that
// encoding/json accepts too, with the same list.
func FuzzDecoder(f *testing.F) {
	for _, s := range []string{`{"list": ["a", "b"], "x": {"y": [1, null, true]}}`, `{"list": null}`, `{"list": [], "list": []}`, `{"a": "` + "\u00e9" + `"} x`, `[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		list, err := read(string(b), 64)
		if err != nil {
			if !errors.Is(err, errBad) && !errors.Is(err, store.ErrTooLarge) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		var doc struct {
			List []string `json:"list"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("accepted what encoding/json refuses (%v): %q", err, b)
		}
		if len(doc.List) != len(list) {
			t.Fatalf("list %q, encoding/json reads %q", list, doc.List)
		}
		for i := range list {
			if list[i] != doc.List[i] {
				t.Fatalf("list %q, encoding/json reads %q", list, doc.List)
			}
		}
	})
}
