package wheel

import (
	"bytes"
	"testing"
)

func FuzzParseFilename(f *testing.F) {
	for _, s := range []string{"pip-23.0.1-py3-none-any.whl", "numpy-1.26.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "a-1-1b-py2.py3-none-any.whl"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseFilename(s)
		if err != nil {
			return
		}
		Target{Python: "3.11", Platform: "manylinux_2_28_x86_64"}.Supports(w.Tags)
		Target{Python: "3.12", Platform: "macosx_11_0_arm64"}.Supports(w.Tags)
	})
}

func FuzzReadMetadata(f *testing.F) {
	f.Add([]byte("PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ReadMetadata(bytes.NewReader(b), int64(len(b)), "demo")
	})
}
