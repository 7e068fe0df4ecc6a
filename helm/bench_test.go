package helm

import (
	"bytes"
	"testing"

	"github.com/airgapkit/airgap/helm/helmtest"
	"github.com/airgapkit/airgap/internal/testutil"
)

// bigIndex is a 44 MB index (150 charts of 400 versions), twice the size of bitnami's.
func bigIndex(b *testing.B) []byte {
	var buf bytes.Buffer
	if err := helmtest.BigIndex(&buf, 150, 400); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkParseIndex decodes the whole index: memory follows the document.
func BenchmarkParseIndex(b *testing.B) {
	in := bigIndex(b)
	testutil.AllocPerMiB(b, int64(len(in)), func() error {
		_, err := ParseIndex(in)
		return err
	})
}

// BenchmarkReadIndex reads two charts of the 150, as a sync with two configured charts
// does: memory follows those charts' entries.
func BenchmarkReadIndex(b *testing.B) {
	in := bigIndex(b)
	want := func(n string) bool { return n == "chart007" || n == "chart140" }
	testutil.AllocPerMiB(b, int64(len(in)), func() error {
		idx, err := ReadIndex(bytes.NewReader(in), want)
		if err == nil && len(idx.Entries["chart140"]) != 400 {
			b.Fatalf("read %d versions of chart140", len(idx.Entries["chart140"]))
		}
		return err
	})
}
