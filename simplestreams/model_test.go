package simplestreams

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
)

const sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

const testProducts = `{
 "content_id": "com.example:test",
 "datatype": "image-downloads",
 "format": "products:1.0",
 "updated": "Sun, 01 Nov 2026 00:00:00 +0000",
 "label": "stable",
 "_aliases": {"crsn": {"east": {"region": "us-east-1", "endpoint": "https://east.example"}}},
 "products": {
  "p1": {
   "arch": "amd64", "os": "ubuntu", "release": "noble", "ftype": "product-level",
   "weight": 10, "enabled": true, "tags": ["a", "b"], "crsn": "east",
   "versions": {
    "20261101": {"items": {
     "kernel": {"ftype": "boot-kernel", "path": "noble/amd64/20261101/boot-kernel", "sha256": "` + sha + `", "size": 12},
     "md5only": {"ftype": "x", "path": "noble/amd64/20261101/md5only", "md5": "0123456789ABCDEF0123456789abcdef", "size": 3}
    }},
    "20261115": {"label": "candidate", "items": {
     "kernel": {"ftype": "boot-kernel", "path": "noble/amd64/20261115/boot-kernel", "sha512": "` + sha + sha + `", "md5": "0123456789abcdef0123456789abcdef", "size": 12}
    }}
   }
  },
  "p2": {"arch": "arm64", "versions": {}}
 }
}`

func TestParseProductsInheritance(t *testing.T) {
	p, err := ParseProducts([]byte(testProducts))
	require.NoError(t, err)
	assert.Equal(t, "com.example:test", p.ContentID)
	assert.Equal(t, DatatypeImageDownloads, p.Datatype)
	items := p.Items()
	require.Len(t, items, 3)
	k := items[0]
	assert.Equal(t, "p1/20261101/kernel", k.String())
	flat := k.Flat()
	assert.Equal(t, "amd64", flat["arch"])
	assert.Equal(t, "stable", flat["label"], "top-level inherited")
	assert.Equal(t, "boot-kernel", flat["ftype"], "item overrides product")
	assert.Equal(t, "10", flat["weight"], "numbers inherit as written")
	assert.Equal(t, "True", flat["enabled"], "booleans inherit as Python prints them")
	assert.NotContains(t, flat, "tags", "arrays do not inherit")
	assert.Equal(t, "us-east-1", flat["region"], "_aliases expanded")
	assert.Equal(t, "https://east.example", flat["endpoint"])
	assert.Equal(t, "p1", flat[KeyProductName])
	assert.Equal(t, "20261101", flat[KeyVersionName])
	assert.Equal(t, "kernel", flat[KeyItemName])
	assert.Equal(t, "com.example:test", flat["content_id"])

	assert.Equal(t, "candidate", items[2].Flat()["label"], "version overrides top level")

	// Every checksum an item lists is expected, lower-cased.
	assert.Equal(t, map[store.Algorithm]string{store.SHA512: sha + sha, store.MD5: "0123456789abcdef0123456789abcdef"}, items[2].Expect().Sums)
	assert.Equal(t, map[store.Algorithm]string{store.MD5: "0123456789abcdef0123456789abcdef"}, items[1].Expect().Sums, "lower-cased")
	assert.Equal(t, int64(12), k.Size())
	assert.Equal(t, store.Expect{Size: 12, Sums: map[store.Algorithm]string{store.SHA256: sha}}, k.Expect())
}

func TestParseProductsErrors(t *testing.T) {
	item := func(fields string) string {
		return `{"format":"products:1.0","products":{"p":{"versions":{"v":{"items":{"i":{` + fields + `}}}}}}}`
	}
	for name, tc := range map[string]struct {
		doc    string
		unsafe bool
	}{
		"truncated":         {doc: testProducts[:len(testProducts)/2]},
		"empty":             {doc: ""},
		"array":             {doc: `[]`},
		"wrong format":      {doc: `{"format":"index:1.0","products":{}}`},
		"no products":       {doc: `{"format":"products:1.0"}`},
		"products is array": {doc: `{"format":"products:1.0","products":[]}`},
		"product is string": {doc: `{"format":"products:1.0","products":{"p":"x"}}`},
		"items is string":   {doc: `{"format":"products:1.0","products":{"p":{"versions":{"v":{"items":"x"}}}}}`},
		"climbing path":     {doc: item(`"path":"../../etc/passwd","sha256":"` + sha + `"`), unsafe: true},
		"absolute path":     {doc: item(`"path":"/etc/passwd","sha256":"` + sha + `"`), unsafe: true},
		"inner dotdot":      {doc: item(`"path":"a/../../b","sha256":"` + sha + `"`), unsafe: true},
		"backslash":         {doc: item(`"path":"a\\..\\b","sha256":"` + sha + `"`), unsafe: true},
		"bad size":          {doc: item(`"path":"a","sha256":"` + sha + `","size":-1`)},
		"float size":        {doc: item(`"path":"a","sha256":"` + sha + `","size":1.5`)},
		"short sha256":      {doc: item(`"path":"a","sha256":"abcd"`)},
		"unknown alias":     {doc: `{"format":"products:1.0","_aliases":{"k":{"a":{"x":"1"}}},"products":{"p":{"k":"b"}}}`},
		"aliases not obj":   {doc: `{"format":"products:1.0","_aliases":[],"products":{}}`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseProducts([]byte(tc.doc))
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidDocument)
			if tc.unsafe {
				assert.ErrorIs(t, err, store.ErrUnsafePath)
			}
		})
	}
}

const testIndex = `{
 "format": "index:1.0",
 "updated": "Sun, 01 Nov 2026 00:00:00 +0000",
 "index": {
  "com.example:test": {
   "datatype": "image-downloads", "path": "streams/v1/com.example:test.sjson",
   "products": ["p1", "p2"], "updated": "Sun, 01 Nov 2026 00:00:00 +0000", "format": "products:1.0"
  },
  "com.example:ids": {"datatype": "image-ids", "path": "streams/v1/ids.json"}
 }
}`

func TestParseIndex(t *testing.T) {
	ix, err := ParseIndex([]byte(testIndex))
	require.NoError(t, err)
	require.Len(t, ix.Entries, 2)
	e := ix.Entries["com.example:test"]
	assert.Equal(t, "streams/v1/com.example:test.sjson", e.Path)
	assert.Equal(t, []string{"p1", "p2"}, e.Products)
	assert.Equal(t, FormatProducts, ix.Entries["com.example:ids"].Format, "format defaults")

	for name, doc := range map[string]string{
		"truncated":    testIndex[:40],
		"wrong format": `{"format":"products:1.0","index":{}}`,
		"no index":     `{"format":"index:1.0"}`,
		"bad path":     `{"format":"index:1.0","index":{"x":{"path":"../x.json"}}}`,
		"no path":      `{"format":"index:1.0","index":{"x":{}}}`,
		"bad products": `{"format":"index:1.0","index":{"x":{"path":"a","products":"p"}}}`,
	} {
		_, err := ParseIndex([]byte(doc))
		assert.ErrorIs(t, err, ErrInvalidDocument, name)
	}
}

func TestSelectMax(t *testing.T) {
	p, err := ParseProducts([]byte(testProducts))
	require.NoError(t, err)
	sel := p.Select(nil, 1)
	require.Len(t, sel.Products, 1, "p2 has no versions")
	require.Len(t, sel.Products["p1"].Versions, 1)
	assert.Contains(t, sel.Products["p1"].Versions, "20261115", "the newest is kept")
	assert.Len(t, p.Products["p1"].Versions, 2, "the original is untouched")

	// Max counts versions that kept an item after filtering.
	f, err := ParseFilters([]string{"ftype=x"})
	require.NoError(t, err)
	sel = p.Select(f.Match, 1)
	require.Len(t, sel.Products["p1"].Versions, 1)
	assert.Contains(t, sel.Products["p1"].Versions, "20261101")
}

func TestWriteRoundTrip(t *testing.T) {
	p, err := ParseProducts([]byte(testProducts))
	require.NoError(t, err)
	sel := p.Select(nil, 0)
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	sel.SetUpdated(now)
	b, err := EncodeProducts(sel)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"updated": "Tue, 24 Nov 2026 10:00:00 +0000"`)
	assert.NotContains(t, string(b), `"p2"`, "empty products are not written")
	again, err := ParseProducts(b)
	require.NoError(t, err)
	require.Len(t, again.Items(), 3)
	want := p.Items()[0].Flat()
	want["updated"] = "Tue, 24 Nov 2026 10:00:00 +0000"
	assert.Equal(t, want, again.Items()[0].Flat(), "fields and aliases survive")
	raw, ok := again.Products["p1"].Raw("tags")
	require.True(t, ok)
	assert.JSONEq(t, `["a","b"]`, string(raw), "non-scalar fields are kept")

	ix := NewIndex(now)
	ix.Entries[sel.ContentID] = IndexEntryFor(sel, "streams/v1/x.json", nil)
	ib, err := EncodeIndex(ix)
	require.NoError(t, err)
	pix, err := ParseIndex(ib)
	require.NoError(t, err)
	assert.Equal(t, []string{"p1"}, pix.Entries["com.example:test"].Products)
	assert.Equal(t, "streams/v1/x.json", pix.Entries["com.example:test"].Path)
	assert.False(t, strings.Contains(string(ib), " \n"), "no trailing spaces (clearsigning strips them)")
}

func TestDocumentError(t *testing.T) {
	err := error(&DocumentError{Path: "streams/v1/index.sjson", Err: ErrUnsigned})
	assert.ErrorIs(t, err, ErrUnsigned)
	var de *DocumentError
	require.True(t, errors.As(err, &de))
	assert.Equal(t, "streams/v1/index.sjson", de.Path)
}
