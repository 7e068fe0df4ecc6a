package pypitest

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"net/http"
	"strings"
)

// BigPage is one generated project whose page is as large as asked (tens of MB, as the
// pages of projects with thousands of releases of binary wheels are), for memory tests
// and benchmarks. Each version 1.0.N has an sdist and CPython 3.8 to 3.13 wheels for five
// platforms, with hashes, Requires-Python, sizes, upload times and PEP 658 metadata as
// pypi.org lists them. A file's content is derived from its name (BigPageFile), so
// nothing but the page is held in memory or on disk.
type BigPage struct {
	// Name is the project name (normalised).
	Name string
	// Size is the page size in bytes to reach; the page stops at the first version past it.
	Size int64
	// Format is "json" or "html".
	Format string
}

var bigPlatforms = []string{"manylinux_2_17_x86_64.manylinux2014_x86_64", "manylinux_2_17_aarch64.manylinux2014_aarch64",
	"musllinux_1_1_x86_64", "macosx_11_0_arm64", "win_amd64"}

// BigPageFile is the content of the file (or, with a ".metadata" suffix, of the core
// metadata file) named filename of a BigPage.
func BigPageFile(filename string) []byte {
	if dist, ok := strings.CutSuffix(filename, ".metadata"); ok {
		name, rest, _ := strings.Cut(dist, "-")
		version, _, _ := strings.Cut(rest, "-")
		return []byte("Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\nRequires-Python: >=3.8\n")
	}
	return []byte("contents of " + filename)
}

func shaHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// WritePage writes the page, with file URLs fileBase + file name, and returns the number
// of files it lists.
func (p *BigPage) WritePage(w io.Writer, fileBase string) (int, error) {
	cw := &countWriter{w: bufio.NewWriterSize(w, 64<<10)}
	isJSON := p.Format == "json"
	if isJSON {
		fmt.Fprintf(cw, `{"meta": {"api-version": "1.1", "_last-serial": 1}, "name": %q, "files": [`, p.Name)
	} else {
		fmt.Fprintf(cw, "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.1\">\n    <title>Links for %s</title>\n  </head>\n  <body>\n    <h1>Links for %s</h1>\n", p.Name, p.Name)
	}
	files := 0
	var versions []string
	for n := 0; cw.err == nil && cw.n < p.Size; n++ {
		v := fmt.Sprintf("1.0.%d", n)
		versions = append(versions, v)
		names := []string{p.Name + "-" + v + ".tar.gz"}
		for py := 8; py <= 13; py++ {
			for _, plat := range bigPlatforms {
				names = append(names, fmt.Sprintf("%s-%s-cp3%d-cp3%d-%s.whl", p.Name, v, py, py, plat))
			}
		}
		for _, f := range names {
			body := BigPageFile(f)
			sum := shaHex(body)
			meta := ""
			if strings.HasSuffix(f, ".whl") {
				meta = shaHex(BigPageFile(f + ".metadata"))
			}
			if isJSON {
				if files > 0 {
					cw.WriteString(",")
				}
				fmt.Fprintf(cw, "\n  {\"filename\": %q, \"url\": %q, \"hashes\": {\"sha256\": %q}, \"requires-python\": \">=3.8\", \"size\": %d, \"upload-time\": \"2026-03-01T10:00:%02d.000000Z\", \"yanked\": false, \"core-metadata\": ",
					f, fileBase+f, sum, len(body), n%60)
				if meta != "" {
					fmt.Fprintf(cw, "{\"sha256\": %q}, \"data-dist-info-metadata\": {\"sha256\": %q}}", meta, meta)
				} else {
					cw.WriteString("false}")
				}
			} else {
				fmt.Fprintf(cw, "    <a href=\"%s#sha256=%s\" data-requires-python=\"%s\"", html.EscapeString(fileBase+f), sum, html.EscapeString(">=3.8"))
				if meta != "" {
					fmt.Fprintf(cw, " data-dist-info-metadata=\"sha256=%s\" data-core-metadata=\"sha256=%s\"", meta, meta)
				}
				fmt.Fprintf(cw, ">%s</a><br />\n", f)
			}
			files++
		}
	}
	if isJSON {
		cw.WriteString("\n], \"versions\": [")
		for i, v := range versions {
			if i > 0 {
				cw.WriteString(", ")
			}
			fmt.Fprintf(cw, "%q", v)
		}
		cw.WriteString("]}\n")
	} else {
		cw.WriteString("  </body>\n</html>\n")
	}
	if cw.err != nil {
		return files, cw.err
	}
	return files, cw.w.(*bufio.Writer).Flush()
}

// ServeHTTP answers /simple/<Name>/ with the page (generated as it is sent, without a
// Content-Length) and /files/<file> and /files/<file>.metadata with BigPageFile.
func (p *BigPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/simple/"+p.Name+"/":
		ct := "application/vnd.pypi.simple.v1+json"
		if p.Format != "json" {
			ct = "text/html"
		}
		w.Header().Set("Content-Type", ct)
		base := "http://" + r.Host + "/files/"
		_, _ = p.WritePage(w, base)
	case strings.HasPrefix(r.URL.Path, "/files/"):
		name := strings.TrimPrefix(r.URL.Path, "/files/")
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(BigPageFile(name))
	default:
		http.NotFound(w, r)
	}
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(b []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.err = err
	return n, err
}

func (c *countWriter) WriteString(s string) { _, _ = io.WriteString(c, s) }
