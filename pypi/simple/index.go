package simple

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"path"
	"sort"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/airgapkit/airgap/store"
)

// Media types of the simple repository API.
const (
	MediaTypeJSON       = "application/vnd.pypi.simple.v1+json"
	MediaTypeHTML       = "application/vnd.pypi.simple.v1+html"
	MediaTypeLegacyHTML = "text/html"
	// AcceptHeader is what Sync sends upstream: JSON preferred, HTML as fallback (the
	// header pip 23+ sends).
	AcceptHeader = MediaTypeJSON + ", " + MediaTypeHTML + ";q=0.1, " + MediaTypeLegacyHTML + ";q=0.01"
)

// APIVersion is the simple API version the index writer claims (PEP 700 fields included).
const APIVersion = "1.1"

// MaxIndexSize caps a project page read from upstream.
const MaxIndexSize = 64 << 20

// ErrMalformedIndex is returned (wrapped) for a project page that cannot be understood.
var ErrMalformedIndex = fmt.Errorf("simple: malformed index page%.0w", store.ErrMalformed)

// ErrUnsupportedAPI is returned for a page that declares a major API version other than 1.
var ErrUnsupportedAPI = errors.New("simple: unsupported API version")

// File is one distribution file of a project page.
type File struct {
	// Filename is the file's name (the last path segment of URL).
	Filename string `json:"filename"`
	// URL locates the file: absolute when parsed from upstream (resolved against the page),
	// relative in the pages this package writes.
	URL string `json:"url"`
	// Hashes maps a hash name ("sha256", ...) to its lower-case hex digest.
	Hashes map[string]string `json:"hashes"`
	// RequiresPython is the file's Requires-Python specifier set, "" when absent.
	RequiresPython string `json:"requires-python,omitempty"`
	// Yanked marks a PEP 592 yanked file; YankedReason may explain why.
	Yanked       bool   `json:"-"`
	YankedReason string `json:"-"`
	// CoreMetadata says a PEP 658 "<url>.metadata" file exists; CoreMetadataHashes are
	// its digests when the index gives them.
	CoreMetadata       bool              `json:"-"`
	CoreMetadataHashes map[string]string `json:"-"`
	// Size is the file size in bytes when known (PEP 700), else 0.
	Size int64 `json:"size,omitempty"`
	// UploadTime is the PEP 700 upload time when known.
	UploadTime string `json:"upload-time,omitempty"`
}

// Page is a project's simple API page: its name and files.
type Page struct {
	Name     string
	Versions []string
	Files    []File
}

// ParsePage reads a project page in whichever format contentType names (PEP 691 JSON, or
// PEP 503 HTML for text/html and the v1+html type). Relative URLs are resolved against
// base, the URL the page was fetched from.
func ParsePage(b []byte, contentType string, base *url.URL) (*Page, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(contentType))
	}
	switch {
	case mt == MediaTypeJSON || mt == "application/vnd.pypi.simple.latest+json":
		return ParseJSON(b, base)
	case mt == MediaTypeHTML || mt == MediaTypeLegacyHTML || mt == "application/vnd.pypi.simple.latest+html" || mt == "":
		return ParseHTML(b, base)
	case strings.HasPrefix(mt, "application/vnd.pypi.simple."):
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedAPI, mt)
	}
	return nil, fmt.Errorf("%w: unexpected content type %q", ErrMalformedIndex, contentType)
}

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

// ParseHTML reads a PEP 503 project page: one anchor per file, with the hash in the URL
// fragment and data-requires-python, data-yanked and data-core-metadata (or the legacy
// data-dist-info-metadata) attributes.
func ParseHTML(b []byte, base *url.URL) (*Page, error) {
	if len(b) > MaxIndexSize {
		return nil, fmt.Errorf("%w: page over %d bytes", ErrMalformedIndex, MaxIndexSize)
	}
	z := html.NewTokenizer(bytes.NewReader(b))
	page := &Page{}
	var cur *File
	var text strings.Builder
	inTitle := false
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if errors.Is(z.Err(), io.EOF) {
				if cur != nil {
					finishAnchor(page, cur, text.String())
				}
				return page, nil
			}
			return nil, fmt.Errorf("%w: %v", ErrMalformedIndex, z.Err())
		case html.TextToken:
			if cur != nil {
				text.Write(z.Text())
			} else if inTitle && page.Name == "" {
				page.Name = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(z.Text())), "Links for "))
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch atom.Lookup(name) {
			case atom.A:
				if cur != nil {
					finishAnchor(page, cur, text.String())
					cur = nil
				}
			case atom.Title:
				inTitle = false
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			attrs := map[string]string{}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				if _, dup := attrs[string(k)]; !dup {
					attrs[string(k)] = string(v)
				}
			}
			switch atom.Lookup(name) {
			case atom.Title:
				inTitle = tt == html.StartTagToken
			case atom.Meta:
				if attrs["name"] == "pypi:repository-version" {
					if err := checkAPIVersion(attrs["content"]); err != nil {
						return nil, err
					}
				}
			case atom.A:
				if cur != nil {
					finishAnchor(page, cur, text.String())
					cur = nil
				}
				f, err := anchorFile(attrs, base)
				if err != nil {
					return nil, err
				}
				if f == nil {
					continue
				}
				if tt == html.SelfClosingTagToken {
					finishAnchor(page, f, "")
					continue
				}
				cur = f
				text.Reset()
			}
		}
	}
}

func finishAnchor(page *Page, f *File, text string) {
	if f.Filename == "" {
		f.Filename = strings.TrimSpace(text)
	}
	if f.Filename != "" {
		page.Files = append(page.Files, *f)
	}
}

// anchorFile builds a File from an anchor's attributes; nil for an anchor without href.
func anchorFile(attrs map[string]string, base *url.URL) (*File, error) {
	href, ok := attrs["href"]
	if !ok || strings.TrimSpace(href) == "" {
		return nil, nil
	}
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return nil, fmt.Errorf("%w: bad href %q: %v", ErrMalformedIndex, href, err)
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
	f.RequiresPython = strings.TrimSpace(attrs["data-requires-python"])
	if reason, ok := attrs["data-yanked"]; ok {
		f.Yanked, f.YankedReason = true, reason
	}
	meta, ok := attrs["data-core-metadata"]
	if !ok {
		meta, ok = attrs["data-dist-info-metadata"]
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

type jsonPage struct {
	Meta struct {
		APIVersion string `json:"api-version"`
	} `json:"meta"`
	Name     string     `json:"name"`
	Versions []string   `json:"versions"`
	Files    []jsonFile `json:"files"`
}

type jsonFile struct {
	Filename         string            `json:"filename"`
	URL              string            `json:"url"`
	Hashes           map[string]string `json:"hashes"`
	RequiresPython   *string           `json:"requires-python"`
	Yanked           json.RawMessage   `json:"yanked"`
	CoreMetadata     json.RawMessage   `json:"core-metadata"`
	DistInfoMetadata json.RawMessage   `json:"dist-info-metadata"`
	DataDistInfo     json.RawMessage   `json:"data-dist-info-metadata"`
	Size             *int64            `json:"size"`
	UploadTime       string            `json:"upload-time"`
}

// ParseJSON reads a PEP 691 project page.
func ParseJSON(b []byte, base *url.URL) (*Page, error) {
	if len(b) > MaxIndexSize {
		return nil, fmt.Errorf("%w: page over %d bytes", ErrMalformedIndex, MaxIndexSize)
	}
	var jp jsonPage
	if err := json.Unmarshal(b, &jp); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedIndex, err)
	}
	if jp.Meta.APIVersion == "" {
		return nil, fmt.Errorf("%w: no meta.api-version", ErrMalformedIndex)
	}
	if err := checkAPIVersion(jp.Meta.APIVersion); err != nil {
		return nil, err
	}
	page := &Page{Name: jp.Name, Versions: jp.Versions}
	for i, jf := range jp.Files {
		if jf.Filename == "" || jf.URL == "" {
			return nil, fmt.Errorf("%w: file %d has no filename or url", ErrMalformedIndex, i)
		}
		if strings.ContainsAny(jf.Filename, "/\\") {
			return nil, fmt.Errorf("%w: file name %q", ErrMalformedIndex, jf.Filename)
		}
		u, err := url.Parse(jf.URL)
		if err != nil {
			return nil, fmt.Errorf("%w: file %q: bad url: %v", ErrMalformedIndex, jf.Filename, err)
		}
		if base != nil {
			u = base.ResolveReference(u)
		}
		f := File{Filename: jf.Filename, URL: u.String(), Hashes: map[string]string{}, UploadTime: jf.UploadTime}
		for k, v := range jf.Hashes {
			f.Hashes[strings.ToLower(k)] = strings.ToLower(v)
		}
		if jf.RequiresPython != nil {
			f.RequiresPython = strings.TrimSpace(*jf.RequiresPython)
		}
		if jf.Size != nil && *jf.Size > 0 {
			f.Size = *jf.Size
		}
		if len(jf.Yanked) > 0 {
			var yb bool
			var ys string
			switch {
			case json.Unmarshal(jf.Yanked, &yb) == nil:
				f.Yanked = yb
			case json.Unmarshal(jf.Yanked, &ys) == nil:
				f.Yanked, f.YankedReason = true, ys
			default:
				return nil, fmt.Errorf("%w: file %q: yanked is neither bool nor string", ErrMalformedIndex, jf.Filename)
			}
		}
		meta := jf.CoreMetadata
		if len(meta) == 0 {
			meta = jf.DistInfoMetadata
		}
		if len(meta) == 0 {
			meta = jf.DataDistInfo
		}
		if len(meta) > 0 {
			var mb bool
			var mh map[string]string
			switch {
			case json.Unmarshal(meta, &mb) == nil:
				f.CoreMetadata = mb
			case json.Unmarshal(meta, &mh) == nil:
				f.CoreMetadata = true
				f.CoreMetadataHashes = map[string]string{}
				for k, v := range mh {
					f.CoreMetadataHashes[strings.ToLower(k)] = strings.ToLower(v)
				}
			default:
				return nil, fmt.Errorf("%w: file %q: core-metadata is neither bool nor object", ErrMalformedIndex, jf.Filename)
			}
		}
		page.Files = append(page.Files, f)
	}
	return page, nil
}

// --- writing ---

// WritePageHTML writes p as a PEP 503 page: "#sha256=" fragments, HTML-escaped
// data-requires-python, data-yanked, and only the PEP 714 data-core-metadata attribute
// (the legacy data-dist-info-metadata name breaks pip 23.0.1).
func WritePageHTML(w io.Writer, p *Page) error {
	var b strings.Builder
	name := html.EscapeString(p.Name)
	b.WriteString("<!DOCTYPE html>\n<html>\n  <head>\n")
	b.WriteString(`    <meta name="pypi:repository-version" content="` + APIVersion + "\">\n")
	b.WriteString("    <title>Links for " + name + "</title>\n  </head>\n  <body>\n")
	b.WriteString("    <h1>Links for " + name + "</h1>\n")
	for _, f := range p.Files {
		href := f.URL
		if sum := f.Hashes["sha256"]; sum != "" {
			href += "#sha256=" + sum
		}
		b.WriteString(`    <a href="` + html.EscapeString(href) + `"`)
		if f.RequiresPython != "" {
			b.WriteString(` data-requires-python="` + html.EscapeString(f.RequiresPython) + `"`)
		}
		if f.Yanked {
			b.WriteString(` data-yanked="` + html.EscapeString(f.YankedReason) + `"`)
		}
		if f.CoreMetadata {
			v := "true"
			if sum := f.CoreMetadataHashes["sha256"]; sum != "" {
				v = "sha256=" + sum
			}
			b.WriteString(` data-core-metadata="` + html.EscapeString(v) + `"`)
		}
		b.WriteString(">" + html.EscapeString(f.Filename) + "</a><br />\n")
	}
	b.WriteString("  </body>\n</html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WritePageJSON writes p as a PEP 691 page (API 1.1: versions and sizes included), with
// only the PEP 714 "core-metadata" key.
func WritePageJSON(w io.Writer, p *Page) error {
	type outFile struct {
		Filename       string            `json:"filename"`
		URL            string            `json:"url"`
		Hashes         map[string]string `json:"hashes"`
		RequiresPython string            `json:"requires-python,omitempty"`
		Yanked         any               `json:"yanked"`
		CoreMetadata   any               `json:"core-metadata"`
		Size           int64             `json:"size"`
		UploadTime     string            `json:"upload-time,omitempty"`
	}
	out := struct {
		Meta     map[string]string `json:"meta"`
		Name     string            `json:"name"`
		Versions []string          `json:"versions"`
		Files    []outFile         `json:"files"`
	}{Meta: map[string]string{"api-version": APIVersion}, Name: p.Name, Versions: p.Versions, Files: []outFile{}}
	if out.Versions == nil {
		out.Versions = []string{}
	}
	for _, f := range p.Files {
		of := outFile{Filename: f.Filename, URL: f.URL, Hashes: f.Hashes, RequiresPython: f.RequiresPython,
			Yanked: false, CoreMetadata: false, Size: f.Size, UploadTime: f.UploadTime}
		if of.Hashes == nil {
			of.Hashes = map[string]string{}
		}
		if f.Yanked {
			of.Yanked = true
			if f.YankedReason != "" {
				of.Yanked = f.YankedReason
			}
		}
		if f.CoreMetadata {
			of.CoreMetadata = true
			if len(f.CoreMetadataHashes) > 0 {
				of.CoreMetadata = f.CoreMetadataHashes
			}
		}
		out.Files = append(out.Files, of)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// WriteRootHTML writes the /simple/ project list as PEP 503 HTML; names are normalised
// and link to "<name>/".
func WriteRootHTML(w io.Writer, names []string) error {
	names = sortedCopy(names)
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html>\n  <head>\n")
	b.WriteString(`    <meta name="pypi:repository-version" content="` + APIVersion + "\">\n")
	b.WriteString("    <title>Simple index</title>\n  </head>\n  <body>\n")
	for _, n := range names {
		e := html.EscapeString(n)
		b.WriteString(`    <a href="` + e + `/">` + e + "</a><br />\n")
	}
	b.WriteString("  </body>\n</html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteRootJSON writes the /simple/ project list as PEP 691 JSON.
func WriteRootJSON(w io.Writer, names []string) error {
	type project struct {
		Name string `json:"name"`
	}
	out := struct {
		Meta     map[string]string `json:"meta"`
		Projects []project         `json:"projects"`
	}{Meta: map[string]string{"api-version": APIVersion}, Projects: []project{}}
	for _, n := range sortedCopy(names) {
		out.Projects = append(out.Projects, project{Name: n})
	}
	return json.NewEncoder(w).Encode(out)
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}
