package simple

import (
	"bytes"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sum = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseHTML(t *testing.T) {
	base, _ := url.Parse("https://example.org/simple/demo/")
	page, err := parseHTML([]byte(`<!DOCTYPE html><html><head>
<meta name="pypi:repository-version" content="1.1"><title>Links for Demo</title></head><body>
<a href="../../files/demo-1.0.tar.gz#sha256=`+strings.ToUpper(sum)+`">demo-1.0.tar.gz</a><br/>
<a href="https://files.example.org/x/demo-1.1-py3-none-any.whl#md5=abc" data-requires-python="&gt;=3.8,&lt;4" data-yanked="bad &amp; wrong" data-dist-info-metadata="sha256=`+sum+`">demo-1.1-py3-none-any.whl</a>
<a href="/abs/demo-1.2-py3-none-any.whl" data-core-metadata="true" data-yanked>x</a>
<a name="no-href">ignored</a>
</body></html>`), base)
	require.NoError(t, err)
	assert.Equal(t, "Demo", page.Name)
	require.Len(t, page.Files, 3)
	f := page.Files[0]
	assert.Equal(t, "https://example.org/files/demo-1.0.tar.gz", f.URL)
	assert.Equal(t, sum, f.Hashes["sha256"])
	assert.False(t, f.Yanked)
	f = page.Files[1]
	assert.Equal(t, ">=3.8,<4", f.RequiresPython)
	assert.True(t, f.Yanked)
	assert.Equal(t, "bad & wrong", f.YankedReason)
	assert.True(t, f.CoreMetadata)
	assert.Equal(t, sum, f.CoreMetadataHashes["sha256"])
	assert.Equal(t, "abc", f.Hashes["md5"])
	f = page.Files[2]
	assert.Equal(t, "https://example.org/abs/demo-1.2-py3-none-any.whl", f.URL)
	assert.Equal(t, "demo-1.2-py3-none-any.whl", f.Filename)
	assert.True(t, f.CoreMetadata)
	assert.Nil(t, f.CoreMetadataHashes)
	assert.True(t, f.Yanked)
}

func TestParseJSON(t *testing.T) {
	base, _ := url.Parse("https://example.org/simple/demo/")
	page, err := parseJSON([]byte(`{"meta":{"api-version":"1.3"},"name":"demo","versions":["1.0"],"files":[
 {"filename":"demo-1.0.tar.gz","url":"../../f/demo-1.0.tar.gz","hashes":{"SHA256":"`+sum+`"},"requires-python":">=3.8","yanked":"reason","core-metadata":false,"size":12},
 {"filename":"demo-1.0-py3-none-any.whl","url":"https://cdn/demo-1.0-py3-none-any.whl","hashes":{},"yanked":false,"dist-info-metadata":{"sha256":"`+sum+`"}},
 {"filename":"demo-1.1-py3-none-any.whl","url":"x.whl","hashes":{},"core-metadata":true,"data-dist-info-metadata":{"sha256":"ff"}}
]}`), base)
	require.NoError(t, err)
	require.Len(t, page.Files, 3)
	assert.Equal(t, "https://example.org/f/demo-1.0.tar.gz", page.Files[0].URL)
	assert.Equal(t, sum, page.Files[0].Hashes["sha256"])
	assert.True(t, page.Files[0].Yanked)
	assert.Equal(t, "reason", page.Files[0].YankedReason)
	assert.Equal(t, int64(12), page.Files[0].Size)
	assert.True(t, page.Files[1].CoreMetadata)
	assert.Equal(t, sum, page.Files[1].CoreMetadataHashes["sha256"])
	assert.True(t, page.Files[2].CoreMetadata)
	assert.Nil(t, page.Files[2].CoreMetadataHashes)

	for _, bad := range []string{
		`not json`, `{"name":"x","files":[]}`, `{"meta":{"api-version":"2.0"},"files":[]}`,
		`{"meta":{"api-version":"1.0"},"files":[{"filename":"","url":"x"}]}`,
		`{"meta":{"api-version":"1.0"},"files":[{"filename":"../x","url":"x"}]}`,
		`{"meta":{"api-version":"1.0"},"files":[{"filename":"x","url":"x","core-metadata":"yes"}]}`,
	} {
		_, err := ParsePage(strings.NewReader(bad), MediaTypeJSON, base)
		assert.Error(t, err, bad)
	}
	_, err = ParsePage(strings.NewReader(`{}`), "application/vnd.pypi.simple.v2+json", base)
	assert.ErrorIs(t, err, ErrUnsupportedAPI)
	_, err = ParsePage(strings.NewReader(`{}`), "application/octet-stream", base)
	assert.ErrorIs(t, err, ErrMalformedIndex)
}

func TestWriteAndReadBack(t *testing.T) {
	p := &Page{Name: "demo", Versions: []string{"1.0"}, Files: []File{{
		Filename: "demo-1.0-py3-none-any.whl", URL: "../../packages/demo/demo-1.0-py3-none-any.whl",
		Hashes: map[string]string{"sha256": sum}, RequiresPython: `>=3.8,!=3.9.*,<"4"`, Yanked: true, YankedReason: `a <b> & "c"`,
		CoreMetadata: true, CoreMetadataHashes: map[string]string{"sha256": sum}, Size: 42,
	}}}
	base, _ := url.Parse("http://mirror/simple/demo/")
	var hb, jb bytes.Buffer
	require.NoError(t, WritePageHTML(&hb, p))
	require.NoError(t, WritePageJSON(&jb, p))
	assert.Contains(t, hb.String(), `data-requires-python="&gt;=3.8,!=3.9.*,&lt;&#34;4&#34;"`)
	assert.NotContains(t, hb.String(), "dist-info-metadata")
	assert.NotContains(t, jb.String(), "dist-info-metadata")
	for _, got := range []func() (*Page, error){
		func() (*Page, error) { return ParsePage(&hb, MediaTypeLegacyHTML, base) },
		func() (*Page, error) { return ParsePage(&jb, MediaTypeJSON, base) },
	} {
		back, err := got()
		require.NoError(t, err)
		require.Len(t, back.Files, 1)
		f := back.Files[0]
		assert.Equal(t, "http://mirror/packages/demo/demo-1.0-py3-none-any.whl", f.URL)
		assert.Equal(t, p.Files[0].RequiresPython, f.RequiresPython)
		assert.Equal(t, p.Files[0].YankedReason, f.YankedReason)
		assert.True(t, f.Yanked)
		assert.Equal(t, sum, f.CoreMetadataHashes["sha256"])
		assert.Equal(t, sum, f.Hashes["sha256"])
	}
	var rb bytes.Buffer
	require.NoError(t, WriteRootJSON(&rb, []string{"b", "a"}))
	assert.JSONEq(t, `{"meta":{"api-version":"1.1"},"projects":[{"name":"a"},{"name":"b"}]}`, rb.String())
	rb.Reset()
	require.NoError(t, WriteRootHTML(&rb, []string{"b", "a"}))
	assert.Contains(t, rb.String(), `<a href="a/">a</a>`)
}

func parseHTML(b []byte, base *url.URL) (*Page, error) {
	return ParsePage(bytes.NewReader(b), MediaTypeLegacyHTML, base)
}

func parseJSON(b []byte, base *url.URL) (*Page, error) {
	return ParsePage(bytes.NewReader(b), MediaTypeJSON, base)
}
