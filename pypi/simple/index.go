package simple

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"golang.org/x/net/html"

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
