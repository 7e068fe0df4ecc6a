package simple

import (
	"bytes"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/pypi/pypitest"
	"github.com/airgapkit/airgap/store"
)

// largePage is the size of the generated pages: that of the 60 MB page of issue #19.
const largePage = 60 << 20

var bigBase, _ = url.Parse("https://pypi.example/simple/big/")

func contentType(format string) string {
	if format == "json" {
		return MediaTypeJSON
	}
	return MediaTypeLegacyHTML
}

// TestScanPageLargeMemory reads a 60 MB page (HTML and JSON) from a file and checks that
// the heap in use never grows by more than maxGrowth: the parser holds one entry at a
// time, not the page. (Before the parsers streamed, the JSON page held 180 MiB.)
func TestScanPageLargeMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and parses 120 MB")
	}
	const maxGrowth = 16 << 20
	for _, format := range []string{"json", "html"} {
		t.Run(format, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "page")
			f, err := os.Create(path)
			require.NoError(t, err)
			want, err := (&pypitest.BigPage{Name: "big", Size: largePage, Format: format}).WritePage(f, "https://files.example/big/")
			require.NoError(t, err)
			require.NoError(t, f.Close())
			f, err = os.Open(path)
			require.NoError(t, err)
			defer f.Close()

			h := testutil.NewHeapWatch()
			n := 0
			page, err := ScanPage(f, contentType(format), bigBase, func(f File) error {
				if n++; n%2048 == 0 {
					h.Sample()
				}
				if f.Hashes["sha256"] == "" || !strings.HasPrefix(f.URL, "https://files.example/big/big-") {
					return errors.New("file without its hash or URL: " + f.Filename)
				}
				return nil
			})
			h.Sample()
			require.NoError(t, err)
			assert.Equal(t, want, n)
			assert.Equal(t, "big", page.Name)
			t.Logf("%s: %d files, peak heap growth %.1f MiB", format, n, float64(h.Growth())/(1<<20))
			assert.Less(t, h.Growth(), uint64(maxGrowth), "heap grew with the page")
		})
	}
}

// BenchmarkScanPage parses a 60 MB page, dropping each file: B/MiB is what the parser
// allocates per MiB of input.
func BenchmarkScanPage(b *testing.B) {
	for _, format := range []string{"json", "html"} {
		b.Run(format, func(b *testing.B) {
			var buf bytes.Buffer
			if _, err := (&pypitest.BigPage{Name: "big", Size: largePage, Format: format}).WritePage(&buf, "https://files.example/big/"); err != nil {
				b.Fatal(err)
			}
			data := buf.Bytes()
			testutil.AllocPerMiB(b, int64(len(data)), func() error {
				_, err := ScanPage(bytes.NewReader(data), contentType(format), bigBase, func(File) error { return nil })
				return err
			})
		})
	}
}

func TestScanPageEntryCap(t *testing.T) {
	huge := strings.Repeat("x", MaxEntrySize+1)
	for name, c := range map[string]struct{ ct, page string }{
		"html attribute": {MediaTypeHTML, `<a href="demo-1.0.tar.gz" data-yanked="` + huge + `">demo-1.0.tar.gz</a>`},
		"html text":      {MediaTypeHTML, `<a href="demo-1.0.tar.gz">` + huge + `</a>`},
		"html text runs": {MediaTypeHTML, `<a href="demo-1.0.tar.gz">` + strings.Repeat("<b>"+huge[:1000]+"</b>", MaxEntrySize/1000+1) + `</a>`},
		"json file":      {MediaTypeJSON, `{"meta":{"api-version":"1.0"},"files":[{"filename":"demo-1.0.tar.gz","url":"x","hashes":{},"_x":"` + huge + `"}]}`},
		"json private":   {MediaTypeJSON, `{"meta":{"api-version":"1.0"},"_x":"` + huge + `","files":[]}`},
		"json meta":      {MediaTypeJSON, `{"meta":{"api-version":"1.0","_x":"` + huge + `"},"files":[]}`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ScanPage(strings.NewReader(c.page), c.ct, bigBase, func(File) error { return nil })
			require.ErrorIs(t, err, store.ErrTooLarge)
			assert.Contains(t, err.Error(), "1048576 bytes")
		})
	}
	// Many small entries are not one large one: a 3 MiB page of them, and an unknown key
	// holding a 3 MiB list, read fine.
	var b strings.Builder
	b.WriteString(`{"meta":{"api-version":"1.0"},"_list":[`)
	for i := 0; b.Len() < 3*MaxEntrySize; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"a":[1,2,3]}`)
	}
	b.WriteString(`],"versions":[`)
	for i := 0; b.Len() < 6*MaxEntrySize; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"1.0.` + strings.Repeat("1", 10) + `"`)
	}
	b.WriteString(`],"files":[{"filename":"demo-1.0.tar.gz","url":"x","hashes":{}}]}`)
	page, err := ParsePage(strings.NewReader(b.String()), MediaTypeJSON, bigBase)
	require.NoError(t, err)
	assert.Len(t, page.Files, 1)
	assert.Greater(t, len(page.Versions), 100000)
}

func TestScanPageCallback(t *testing.T) {
	stop := errors.New("enough")
	for ct, page := range map[string]string{
		MediaTypeJSON: `{"meta":{"api-version":"1.0"},"files":[{"filename":"a-1.tar.gz","url":"a-1.tar.gz","hashes":{}},{"filename":"a-2.tar.gz","url":"a-2.tar.gz","hashes":{}}]}`,
		MediaTypeHTML: `<a href="a-1.tar.gz">a-1.tar.gz</a><a href="a-2.tar.gz">a-2.tar.gz</a>`,
	} {
		var got []string
		_, err := ScanPage(strings.NewReader(page), ct, bigBase, func(f File) error {
			got = append(got, f.Filename)
			return stop
		})
		assert.Same(t, stop, err, ct) // fn's error as it is, and the scan stops
		assert.Equal(t, []string{"a-1.tar.gz"}, got, ct)
	}
}

func TestScanPageErrors(t *testing.T) {
	for _, bad := range []string{
		`{"meta":{"api-version":"1.0"},"files":[]} {}`,
		`{"meta":{"api-version":"1.0"},"files":[]}]`,
		`{"meta":{"api-version":"1.0"},"files":[],"files":[]}`,
		`{"meta":{"api-version":"1.0"},"meta":{"api-version":"1.0"},"files":[]}`,
		`{"meta":{"api-version":"1.0"},"files":{}}`,
		`{"meta":{"api-version":"1.0"},"files":[{"filename":"a-1.tar.gz","url":"a","hashes":{}}`,
		`{"meta":{"api-version":"1.0"},"versions":["1",2],"files":[]}`,
		`{"meta":{"api-version":"1.0"},"name":3,"files":[]}`,
		`[]`, ``,
	} {
		_, err := ParsePage(strings.NewReader(bad), MediaTypeJSON, bigBase)
		assert.ErrorIs(t, err, ErrMalformedIndex, bad)
	}
	// An api-version after the files still rejects the page.
	_, err := ParsePage(strings.NewReader(`{"files":[],"meta":{"api-version":"2.0"}}`), MediaTypeJSON, bigBase)
	assert.ErrorIs(t, err, ErrUnsupportedAPI)
	// null lists are empty ones, as before.
	p, err := ParsePage(strings.NewReader(`{"meta":{"api-version":"1.0"},"versions":null,"files":null}`), MediaTypeJSON, bigBase)
	require.NoError(t, err)
	assert.Empty(t, p.Files)

	// A failing reader is the reader's error, not a malformed page.
	broken := errors.New("disk on fire")
	for _, ct := range []string{MediaTypeJSON, MediaTypeHTML} {
		r := io.MultiReader(strings.NewReader(`{"meta":{"api-version":"1.0"},"files":[`), iotest.ErrReader(broken))
		_, err := ParsePage(r, ct, bigBase)
		assert.ErrorIs(t, err, broken, ct)
		assert.NotErrorIs(t, err, ErrMalformedIndex, ct)
	}
}
