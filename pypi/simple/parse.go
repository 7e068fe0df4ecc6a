package simple

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"path"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/airgapkit/airgap/internal/jsonstream"
	"github.com/airgapkit/airgap/store"
)

// MaxEntrySize caps one entry of a page as the parsers read it: an HTML tag with its
// attributes or a text run, a JSON file object, version string or other value. A real
// entry is well under 1 kB; one over the cap gives an error wrapping store.ErrTooLarge.
// It bounds the parsers' memory, which does not otherwise grow with the page.
const MaxEntrySize = 1 << 20

// ScanPage reads a project page from r in whichever format contentType names (PEP 691
// JSON, or PEP 503 HTML for text/html and the v1+html type) and calls fn with each file as
// it is read, in page order, so that memory holds one entry at a time however large the
// page (within MaxEntrySize per entry). Relative URLs are resolved against base, the URL
// the page was fetched from. The returned Page has the name and versions; its Files are
// those fn was given, not kept.
//
// An error of fn ends the scan and is returned as it is. Other errors wrap
// ErrMalformedIndex, ErrUnsupportedAPI, store.ErrTooLarge or r's error. A page can fail
// after some of its files went to fn (JSON that breaks off, an api-version after the
// files): the caller then discards what it was given. ScanPage does not cap the page as
// a whole; a caller that reads from the network caps r.
func ScanPage(r io.Reader, contentType string, base *url.URL, fn func(File) error) (*Page, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(contentType))
	}
	switch {
	case mt == MediaTypeJSON || mt == "application/vnd.pypi.simple.latest+json":
		return scanJSON(r, base, fn)
	case mt == MediaTypeHTML || mt == MediaTypeLegacyHTML || mt == "application/vnd.pypi.simple.latest+html" || mt == "":
		return scanHTML(r, base, fn)
	case strings.HasPrefix(mt, "application/vnd.pypi.simple."):
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedAPI, mt)
	}
	return nil, fmt.Errorf("%w: unexpected content type %q", ErrMalformedIndex, contentType)
}

// ParsePage is ScanPage keeping every file in Page.Files: for pages whose size is
// bounded, such as the ones this package writes.
func ParsePage(r io.Reader, contentType string, base *url.URL) (*Page, error) {
	var files []File
	p, err := ScanPage(r, contentType, base, func(f File) error {
		files = append(files, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.Files = files
	return p, nil
}

// errEntryTooLarge is the error of an HTML entry over MaxEntrySize.
var errEntryTooLarge = fmt.Errorf("simple: %w: a page entry is over %d bytes", store.ErrTooLarge, MaxEntrySize)

// checkAPIVersion accepts "1" and "1.x".
func checkAPIVersion(v string) error {
	if v == "" {
		return nil
	}
	major, _, _ := strings.Cut(v, ".")
	if major != "1" {
		return fmt.Errorf("%w: api-version %q", ErrUnsupportedAPI, v)
	}
	return nil
}

// anchor is what scanHTML keeps of an <a> tag until its end tag: the first value of each
// attribute the format defines.
type anchor struct {
	href, requiresPython, yanked, coreMetadata, distInfoMetadata                string
	hasHref, hasRequiresPython, hasYanked, hasCoreMetadata, hasDistInfoMetadata bool
}

// scanHTML reads a PEP 503 project page: one anchor per file, with the hash in the URL
// fragment and data-requires-python, data-yanked and data-core-metadata (or the legacy
// data-dist-info-metadata) attributes. The tokenizer buffers one token at a time, capped
// at MaxEntrySize.
func scanHTML(r io.Reader, base *url.URL, fn func(File) error) (*Page, error) {
	z := html.NewTokenizer(r)
	z.SetMaxBuf(MaxEntrySize)
	page := &Page{}
	var cur *File // the anchor being read, until its end tag
	var text strings.Builder
	inTitle := false
	finish := func() error {
		f := cur
		cur = nil
		if f == nil {
			return nil
		}
		if f.Filename == "" {
			f.Filename = strings.TrimSpace(text.String())
		}
		if f.Filename == "" {
			return nil
		}
		return fn(*f)
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			err := z.Err()
			switch {
			case errors.Is(err, io.EOF):
				if err := finish(); err != nil {
					return nil, err
				}
				return page, nil
			case errors.Is(err, html.ErrBufferExceeded):
				return nil, errEntryTooLarge
			}
			return nil, fmt.Errorf("simple: reading the page: %w", err)
		case html.TextToken:
			if cur != nil {
				t := z.Text()
				if text.Len()+len(t) > MaxEntrySize {
					return nil, errEntryTooLarge
				}
				text.Write(t)
			} else if inTitle && page.Name == "" {
				page.Name = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(z.Text())), "Links for "))
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch atom.Lookup(name) {
			case atom.A:
				if err := finish(); err != nil {
					return nil, err
				}
			case atom.Title:
				inTitle = false
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch atom.Lookup(name) {
			case atom.Title:
				inTitle = tt == html.StartTagToken
			case atom.Meta:
				var metaName, content string
				var hasName, hasContent bool
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					switch string(k) {
					case "name":
						first(&metaName, &hasName, v)
					case "content":
						first(&content, &hasContent, v)
					}
				}
				if metaName == "pypi:repository-version" {
					if err := checkAPIVersion(content); err != nil {
						return nil, err
					}
				}
			case atom.A:
				if err := finish(); err != nil { // an anchor left open ends here
					return nil, err
				}
				var a anchor
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					switch string(k) {
					case "href":
						first(&a.href, &a.hasHref, v)
					case "data-requires-python":
						first(&a.requiresPython, &a.hasRequiresPython, v)
					case "data-yanked":
						first(&a.yanked, &a.hasYanked, v)
					case "data-core-metadata":
						first(&a.coreMetadata, &a.hasCoreMetadata, v)
					case "data-dist-info-metadata":
						first(&a.distInfoMetadata, &a.hasDistInfoMetadata, v)
					}
				}
				f, err := anchorFile(&a, base)
				if err != nil {
					return nil, err
				}
				cur = f
				text.Reset()
				if tt == html.SelfClosingTagToken {
					if err := finish(); err != nil {
						return nil, err
					}
				}
			}
		}
	}
}

// first sets *dst to v unless an earlier attribute of the same name did (browsers and
// html.Parse keep the first).
func first(dst *string, seen *bool, v []byte) {
	if !*seen {
		*dst, *seen = string(v), true
	}
}

// anchorFile builds a File from an anchor's attributes; nil for an anchor without href.
func anchorFile(a *anchor, base *url.URL) (*File, error) {
	href := strings.TrimSpace(a.href)
	if href == "" {
		return nil, nil
	}
	u, err := url.Parse(href)
	if err != nil {
		return nil, fmt.Errorf("%w: bad href %q: %v", ErrMalformedIndex, a.href, err)
	}
	f := &File{Hashes: map[string]string{}}
	if alg, sum, ok := strings.Cut(u.Fragment, "="); ok && alg != "" && sum != "" {
		f.Hashes[strings.ToLower(alg)] = strings.ToLower(sum)
	}
	u.Fragment, u.RawFragment = "", ""
	if base != nil {
		u = base.ResolveReference(u)
	}
	f.URL = u.String()
	f.Filename = path.Base(u.Path)
	if f.Filename == "/" || f.Filename == "." {
		f.Filename = ""
	}
	f.RequiresPython = strings.TrimSpace(a.requiresPython)
	if a.hasYanked {
		f.Yanked, f.YankedReason = true, a.yanked
	}
	meta, ok := a.coreMetadata, a.hasCoreMetadata
	if !ok {
		meta, ok = a.distInfoMetadata, a.hasDistInfoMetadata
	}
	if ok {
		f.CoreMetadata, f.CoreMetadataHashes = parseMetadataAttr(meta)
	}
	return f, nil
}

// parseMetadataAttr reads "true" or "sha256=<hex>".
func parseMetadataAttr(v string) (bool, map[string]string) {
	v = strings.TrimSpace(v)
	if v == "" || strings.EqualFold(v, "false") {
		return false, nil
	}
	if alg, sum, ok := strings.Cut(v, "="); ok {
		return true, map[string]string{strings.ToLower(alg): strings.ToLower(sum)}
	}
	return true, nil
}

type jsonFile struct {
	Filename         string            `json:"filename"`
	URL              string            `json:"url"`
	Hashes           map[string]string `json:"hashes"`
	RequiresPython   *string           `json:"requires-python"`
	Yanked           jsonYanked        `json:"yanked"`
	CoreMetadata     jsonMetadata      `json:"core-metadata"`
	DistInfoMetadata json.RawMessage   `json:"dist-info-metadata"` // read without core-metadata only
	DataDistInfo     json.RawMessage   `json:"data-dist-info-metadata"`
	Size             *int64            `json:"size"`
	UploadTime       string            `json:"upload-time"`
}

// jsonYanked is a file's "yanked": false, true or the reason (null: not yanked).
type jsonYanked struct {
	yanked bool
	reason string
}

func (y *jsonYanked) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true":
		y.yanked = true
	case "false", "null":
	default:
		if err := json.Unmarshal(b, &y.reason); err != nil {
			return errors.New("yanked is neither bool nor string")
		}
		y.yanked = true
	}
	return nil
}

// jsonMetadata is a file's "core-metadata" (or a legacy name of it): false, true or the
// hashes of the metadata file (null: none).
type jsonMetadata struct {
	set, present bool
	hashes       map[string]string
}

func (m *jsonMetadata) UnmarshalJSON(b []byte) error {
	m.set = true
	switch string(b) {
	case "true":
		m.present = true
	case "false", "null":
	default:
		if err := json.Unmarshal(b, &m.hashes); err != nil {
			return errors.New("core-metadata is neither bool nor object")
		}
		m.present = true
		if m.hashes = lower(m.hashes); m.hashes == nil {
			m.hashes = map[string]string{}
		}
	}
	return nil
}

// scanJSON reads a PEP 691 project page: the top-level object key by key, the files
// list one file object at a time. A key given twice is malformed.
func scanJSON(r io.Reader, base *url.URL, fn func(File) error) (*Page, error) {
	d := jsonstream.NewDecoder(r, MaxEntrySize, ErrMalformedIndex)
	page := &Page{}
	apiVersion := ""
	err := d.Object(func(key string) error {
		switch key {
		case "meta":
			var meta struct {
				APIVersion string `json:"api-version"`
			}
			if err := d.Decode(&meta); err != nil {
				return err
			}
			if meta.APIVersion == "" {
				return fmt.Errorf("%w: no meta.api-version", ErrMalformedIndex)
			}
			apiVersion = meta.APIVersion
			return checkAPIVersion(meta.APIVersion)
		case "name":
			return d.Decode(&page.Name)
		case "versions":
			_, err := d.Array(func() error {
				var v string
				if err := d.Decode(&v); err != nil {
					return err
				}
				page.Versions = append(page.Versions, v)
				return nil
			})
			return err
		case "files": // null: no files, as encoding/json reads it
			i := 0
			_, err := d.Array(func() error {
				var jf jsonFile // a new one each time: Decode into a used map would merge
				if err := d.Decode(&jf); err != nil {
					return err
				}
				f, err := jf.file(i, base)
				if err != nil {
					return err
				}
				i++
				return fn(f)
			})
			return err
		}
		return d.Skip()
	})
	if err == nil {
		err = d.End()
	}
	if err != nil {
		return nil, err
	}
	if apiVersion == "" {
		return nil, fmt.Errorf("%w: no meta.api-version", ErrMalformedIndex)
	}
	return page, nil
}

// lower returns m with lower-case keys and values, in place when it already is.
func lower(m map[string]string) map[string]string {
	for k, v := range m {
		if k != strings.ToLower(k) || v != strings.ToLower(v) {
			out := make(map[string]string, len(m))
			for k, v := range m {
				out[strings.ToLower(k)] = strings.ToLower(v)
			}
			return out
		}
	}
	return m
}

// file checks one decoded file object (the i-th) and returns it as a File.
func (jf *jsonFile) file(i int, base *url.URL) (File, error) {
	if jf.Filename == "" || jf.URL == "" {
		return File{}, fmt.Errorf("%w: file %d has no filename or url", ErrMalformedIndex, i)
	}
	if strings.ContainsAny(jf.Filename, "/\\") {
		return File{}, fmt.Errorf("%w: file name %q", ErrMalformedIndex, jf.Filename)
	}
	u, err := url.Parse(jf.URL)
	if err != nil {
		return File{}, fmt.Errorf("%w: file %q: bad url: %v", ErrMalformedIndex, jf.Filename, err)
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	f := File{Filename: jf.Filename, URL: u.String(), Hashes: lower(jf.Hashes), UploadTime: jf.UploadTime}
	if f.Hashes == nil {
		f.Hashes = map[string]string{}
	}
	if jf.RequiresPython != nil {
		f.RequiresPython = strings.TrimSpace(*jf.RequiresPython)
	}
	if jf.Size != nil && *jf.Size > 0 {
		f.Size = *jf.Size
	}
	f.Yanked, f.YankedReason = jf.Yanked.yanked, jf.Yanked.reason
	meta := jf.CoreMetadata
	for _, legacy := range []json.RawMessage{jf.DistInfoMetadata, jf.DataDistInfo} {
		if !meta.set && legacy != nil {
			if err := meta.UnmarshalJSON(legacy); err != nil {
				return File{}, fmt.Errorf("%w: file %q: %v", ErrMalformedIndex, jf.Filename, err)
			}
		}
	}
	f.CoreMetadata, f.CoreMetadataHashes = meta.present, meta.hashes
	return f, nil
}
