package apt

import (
	"bufio"
	"compress/bzip2"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/airgapkit/airgap/store"
	"github.com/klauspost/compress/gzip" // a faster inflate than the standard library's
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Package is the part of a Packages stanza that mirroring and dependency resolution use.
// The stanza itself travels alongside (see ReadPackages) so that nothing is lost when it
// is written back.
type Package struct {
	Name          string
	Version       string
	Architecture  string
	Source        string // source package name (the binary's name when absent)
	SourceVersion string // version of the source (the binary's when absent)
	Section       string
	Priority      string
	MultiArch     string
	Filename      string // pool path, relative to the archive root; validated
	Size          int64
	SHA256        string
	SHA512        string
	MD5           string
	Depends       string // raw relation fields, parsed by ParseRelations
	PreDepends    string
	Recommends    string
	Provides      string
}

// Key identifies a package in an index: name, version and architecture.
func (p Package) Key() string { return p.Name + "_" + p.Version + "_" + p.Architecture }

// Expect returns what the package's file must match when downloaded.
func (p Package) Expect() (store.Expect, error) {
	return IndexFile{Path: p.Filename, Size: p.Size, MD5: p.MD5, SHA256: p.SHA256, SHA512: p.SHA512}.Expect()
}

// ParsePackage reads a binary package stanza. Package, Version and Architecture are
// required; Filename, when present, must be a safe relative path (store.ErrUnsafePath);
// checksums must be hex. A stanza from a Packages file also needs Filename, Size and a
// SHA256 or SHA512 (see CheckDownloadable).
func ParsePackage(p Paragraph) (Package, error) {
	var pkg Package
	var src, size string
	for _, f := range p.Fields {
		// one pass over the fields; the canonical spelling is matched first, any other
		// case falls back to a case-insensitive comparison
		name := canonicalField(f.Name)
		switch name {
		case "Package":
			pkg.Name = strings.TrimSpace(f.Value)
		case "Version":
			pkg.Version = strings.TrimSpace(f.Value)
		case "Architecture":
			pkg.Architecture = strings.TrimSpace(f.Value)
		case "Section":
			pkg.Section = strings.TrimSpace(f.Value)
		case "Priority":
			pkg.Priority = strings.TrimSpace(f.Value)
		case "Multi-Arch":
			pkg.MultiArch = strings.TrimSpace(f.Value)
		case "Filename":
			pkg.Filename = strings.TrimSpace(f.Value)
		case "SHA256":
			pkg.SHA256 = strings.ToLower(strings.TrimSpace(f.Value))
		case "SHA512":
			pkg.SHA512 = strings.ToLower(strings.TrimSpace(f.Value))
		case "MD5sum":
			pkg.MD5 = strings.ToLower(strings.TrimSpace(f.Value))
		case "Depends":
			pkg.Depends = f.Value
		case "Pre-Depends":
			pkg.PreDepends = f.Value
		case "Recommends":
			pkg.Recommends = f.Value
		case "Provides":
			pkg.Provides = f.Value
		case "Source":
			src = strings.TrimSpace(f.Value)
		case "Size":
			size = strings.TrimSpace(f.Value)
		}
	}
	if pkg.Name == "" || pkg.Version == "" || pkg.Architecture == "" {
		return Package{}, fmt.Errorf("%w: stanza without Package, Version or Architecture", ErrMalformed)
	}
	if strings.ContainsAny(pkg.Name+pkg.Version+pkg.Architecture, " \t\n/") {
		return Package{}, fmt.Errorf("%w: package %q: blank or slash in name, version or architecture", ErrMalformed, pkg.Name)
	}
	pkg.Source, pkg.SourceVersion = pkg.Name, pkg.Version
	if src != "" {
		name, ver, ok := strings.Cut(src, " ")
		pkg.Source = name
		if ok {
			ver = strings.TrimSpace(ver)
			if !strings.HasPrefix(ver, "(") || !strings.HasSuffix(ver, ")") {
				return Package{}, fmt.Errorf("%w: package %s: Source %q", ErrMalformed, pkg.Name, src)
			}
			pkg.SourceVersion = strings.TrimSpace(ver[1 : len(ver)-1])
		}
	}
	if size != "" {
		n, err := strconv.ParseInt(size, 10, 64)
		if err != nil || n < 0 {
			return Package{}, fmt.Errorf("%w: package %s: Size %q", ErrMalformed, pkg.Name, size)
		}
		pkg.Size = n
	}
	if pkg.Filename != "" {
		if err := store.ValidatePath(pkg.Filename); err != nil {
			return Package{}, fmt.Errorf("apt: package %s Filename: %w", pkg.Name, err)
		}
	}
	for _, c := range []struct {
		v string
		n int
	}{{pkg.SHA256, 64}, {pkg.SHA512, 128}, {pkg.MD5, 32}} {
		if c.v != "" {
			if err := checkHex(c.v, c.n); err != nil {
				return Package{}, fmt.Errorf("%w: package %s: %v", ErrMalformed, pkg.Name, err)
			}
		}
	}
	return pkg, nil
}

// packageFields are the fields ParsePackage reads, in their canonical spelling.
var packageFields = []string{"Package", "Version", "Architecture", "Section", "Priority", "Multi-Arch",
	"Filename", "SHA256", "SHA512", "MD5sum", "Depends", "Pre-Depends", "Recommends", "Provides", "Source", "Size"}

// lowerFields maps the lower-case spelling of packageFields to the canonical one.
var lowerFields = func() map[string]string {
	m := make(map[string]string, len(packageFields))
	for _, f := range packageFields {
		m[strings.ToLower(f)] = f
	}
	return m
}()

// canonicalField returns the canonical spelling of a field ParsePackage reads (matched
// case-insensitively, without allocating), or "" for any other field.
func canonicalField(name string) string {
	var buf [24]byte
	if len(name) > len(buf) {
		return ""
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return lowerFields[string(buf[:len(name)])]
}

// CheckDownloadable reports whether a package from a Packages file can be mirrored:
// Filename and Size present, and a SHA256 or SHA512 (ErrWeakChecksums otherwise).
func (p Package) CheckDownloadable() error {
	if p.Filename == "" || p.Size <= 0 {
		return fmt.Errorf("%w: package %s: no Filename or Size", ErrMalformed, p.Key())
	}
	if p.SHA256 == "" && p.SHA512 == "" {
		return fmt.Errorf("%w: package %s", ErrWeakChecksums, p.Key())
	}
	return nil
}

// ReadPackages streams a Packages file, calling fn for every stanza with its parsed form.
// It stops at the first error (fn's, or a malformed stanza) and checks ctx between stanzas.
func ReadPackages(ctx context.Context, r io.Reader, fn func(Package, Paragraph) error) error {
	return readStanzas(ctx, r, 1<<20, 4<<20, ParsePackage, fn)
}

// readStanzas streams paragraphs, parses each with parse and hands both to fn.
func readStanzas[T any](ctx context.Context, r io.Reader, maxField, maxPara int, parse func(Paragraph) (T, error), fn func(T, Paragraph) error) error {
	dr := NewReader(r)
	dr.MaxFieldSize, dr.MaxParagraphSize = maxField, maxPara
	for n := 0; ; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		p, err := dr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		v, err := parse(p)
		if err != nil {
			return err
		}
		if err := fn(v, p); err != nil {
			return err
		}
	}
}

// SourcePackage is a stanza of a Sources file: the files of one source package, found
// under Directory.
type SourcePackage struct {
	Name      string
	Version   string
	Directory string
	Section   string
	Priority  string
	// Files are the source files; Path is the bare file name inside Directory.
	Files []IndexFile
}

// ParseSource reads a Sources stanza. Directory and every file name must be safe paths;
// each file needs a SHA256 or SHA512 (Checksums-Sha256 / Checksums-Sha512).
func ParseSource(p Paragraph) (SourcePackage, error) {
	src := SourcePackage{
		Name:      strings.TrimSpace(p.Get("Package")),
		Version:   strings.TrimSpace(p.Get("Version")),
		Directory: strings.TrimSpace(p.Get("Directory")),
		Section:   strings.TrimSpace(p.Get("Section")),
		Priority:  strings.TrimSpace(p.Get("Priority")),
	}
	if src.Name == "" || src.Version == "" || src.Directory == "" {
		return SourcePackage{}, fmt.Errorf("%w: source stanza without Package, Version or Directory", ErrMalformed)
	}
	if err := store.ValidatePath(src.Directory); err != nil {
		return SourcePackage{}, fmt.Errorf("apt: source %s Directory: %w", src.Name, err)
	}
	files := map[string]*IndexFile{}
	var order []string
	for _, c := range []struct {
		field string
		n     int
	}{{"Files", 32}, {"Checksums-Sha256", 64}, {"Checksums-Sha512", 128}} {
		for _, line := range strings.Split(p.Get(c.field), "\n") {
			parts := strings.Fields(line)
			if len(parts) == 0 {
				continue
			}
			if len(parts) != 3 {
				return SourcePackage{}, fmt.Errorf("%w: source %s %s line %q", ErrMalformed, src.Name, c.field, line)
			}
			sum, name := strings.ToLower(parts[0]), parts[2]
			if err := checkHex(sum, c.n); err != nil {
				return SourcePackage{}, fmt.Errorf("%w: source %s: %v", ErrMalformed, src.Name, err)
			}
			size, err := strconv.ParseInt(parts[1], 10, 64)
			if err != nil || size < 0 {
				return SourcePackage{}, fmt.Errorf("%w: source %s: size %q", ErrMalformed, src.Name, parts[1])
			}
			if strings.Contains(name, "/") {
				return SourcePackage{}, fmt.Errorf("apt: source %s: %w: file %q", src.Name, store.ErrUnsafePath, name)
			}
			if _, err := store.JoinPath(src.Directory, name); err != nil {
				return SourcePackage{}, fmt.Errorf("apt: source %s: %w", src.Name, err)
			}
			f := files[name]
			if f == nil {
				f = &IndexFile{Path: name, Size: size}
				files[name] = f
				order = append(order, name)
			} else if f.Size != size {
				return SourcePackage{}, fmt.Errorf("%w: source %s: %s listed with two sizes", ErrMalformed, src.Name, name)
			}
			switch c.field {
			case "Files":
				f.MD5 = sum
			case "Checksums-Sha256":
				f.SHA256 = sum
			default:
				f.SHA512 = sum
			}
		}
	}
	for _, name := range order {
		f := files[name]
		if !f.Strong() {
			return SourcePackage{}, fmt.Errorf("%w: source %s file %s", ErrWeakChecksums, src.Name, name)
		}
		src.Files = append(src.Files, *f)
	}
	return src, nil
}

// ReadSources streams a Sources file, calling fn for every stanza.
func ReadSources(ctx context.Context, r io.Reader, fn func(SourcePackage, Paragraph) error) error {
	return readStanzas(ctx, r, 4<<20, 8<<20, ParseSource, fn)
}

// DefaultMaxIndexSize caps the decompressed size of one index.
const DefaultMaxIndexSize = 2 << 30

// Decompress returns a reader of the decompressed content of an index named name: the
// compression follows the name's extension (.xz, .gz, .bz2, .zst, or none). More than
// max decompressed bytes (<= 0: DefaultMaxIndexSize) give an error wrapping
// store.ErrTooLarge; corrupt or truncated input gives ErrMalformed.
func Decompress(name string, r io.Reader, max int64) (io.ReadCloser, error) {
	if max <= 0 {
		max = DefaultMaxIndexSize
	}
	var (
		dr    io.Reader
		close func()
		err   error
	)
	if _, ok := r.(io.ByteReader); !ok && !strings.HasSuffix(name, "Packages") {
		// the decoders read a byte at a time: without a buffer that is a syscall per byte
		r = bufio.NewReaderSize(r, 64<<10)
	}
	switch {
	case strings.HasSuffix(name, ".xz"):
		dr, err = xz.NewReader(r)
	case strings.HasSuffix(name, ".gz"):
		var gz *gzip.Reader
		gz, err = gzip.NewReader(r)
		dr = gz
	case strings.HasSuffix(name, ".bz2"):
		dr = bzip2.NewReader(r)
	case strings.HasSuffix(name, ".zst"):
		var zr *zstd.Decoder
		zr, err = zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(max)+1<<20))
		if err == nil {
			dr, close = zr, zr.Close
		}
	default:
		dr = r
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, name, err)
	}
	return &capReader{r: dr, left: max, name: name, close: close, compressed: dr != r}, nil
}

// capReader caps a stream and turns decompression failures into ErrMalformed.
type capReader struct {
	r          io.Reader
	left       int64
	name       string
	close      func()
	compressed bool
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		if n, _ := io.ReadFull(c.r, one[:]); n > 0 {
			return 0, fmt.Errorf("apt: %s: %w: decompressed size over the cap", c.name, store.ErrTooLarge)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if err != nil && err != io.EOF && c.compressed {
		err = fmt.Errorf("%w: %s: %v", ErrMalformed, c.name, err)
	}
	return n, err
}

func (c *capReader) Close() error {
	if c.close != nil {
		c.close()
	}
	return nil
}
