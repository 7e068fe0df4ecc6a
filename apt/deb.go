package apt

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// maxControlSize caps a .deb's decompressed control archive.
const maxControlSize = 16 << 20

// Deb is what ReadDeb learnt from a .deb file.
type Deb struct {
	// Control is the package's control paragraph (DEBIAN/control).
	Control Paragraph
	// Package is Control parsed.
	Package Package
	// Size and the checksums are those of the whole .deb file.
	Size   int64
	MD5    string
	SHA256 string
	SHA512 string
}

// ReadDeb reads a .deb (an ar archive holding debian-binary, control.tar[.gz|.xz|.zst]
// and data.tar.*) as a stream: it parses the control file and hashes the whole file on the
// way. Anything else than a well-formed binary package gives ErrMalformed.
func ReadDeb(r io.Reader) (*Deb, error) {
	h256, h512, hmd5 := sha256.New(), sha512.New(), md5.New()
	cr := &countReader{r: io.TeeReader(r, io.MultiWriter(h256, h512, hmd5))}
	br := bufio.NewReader(cr)
	magic := make([]byte, 8)
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != "!<arch>\n" {
		return nil, fmt.Errorf("%w: .deb: not an ar archive", ErrMalformed)
	}
	var control *Paragraph
	for i := 0; ; i++ {
		name, size, err := readArHeader(br)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		body := io.LimitReader(br, size)
		switch {
		case i == 0:
			if name != "debian-binary" {
				return nil, fmt.Errorf("%w: .deb: first member is %q, not debian-binary", ErrMalformed, name)
			}
			v, _ := io.ReadAll(io.LimitReader(body, 64))
			if !strings.HasPrefix(string(v), "2.") {
				return nil, fmt.Errorf("%w: .deb: format %q", ErrMalformed, strings.TrimSpace(string(v)))
			}
		case strings.HasPrefix(name, "control.tar"):
			if control != nil {
				return nil, fmt.Errorf("%w: .deb: two control members", ErrMalformed)
			}
			p, err := readControlTar(name, body)
			if err != nil {
				return nil, err
			}
			control = &p
		}
		if _, err := io.Copy(io.Discard, body); err != nil {
			return nil, fmt.Errorf("%w: .deb: %v", ErrMalformed, err)
		}
		if size%2 == 1 {
			if _, err := br.ReadByte(); err != nil && err != io.EOF {
				return nil, err
			}
		}
	}
	if control == nil {
		return nil, fmt.Errorf("%w: .deb: no control member", ErrMalformed)
	}
	// drain anything bufio did not hand out, so the sums cover the whole file
	if _, err := io.Copy(io.Discard, br); err != nil {
		return nil, err
	}
	pkg, err := ParsePackage(*control)
	if err != nil {
		return nil, fmt.Errorf("apt: .deb control: %w", err)
	}
	return &Deb{
		Control: *control, Package: pkg, Size: cr.n,
		SHA256: hex.EncodeToString(h256.Sum(nil)),
		SHA512: hex.EncodeToString(h512.Sum(nil)),
		MD5:    hex.EncodeToString(hmd5.Sum(nil)),
	}, nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func readArHeader(br *bufio.Reader) (string, int64, error) {
	var hdr [60]byte
	n, err := io.ReadFull(br, hdr[:])
	if n == 0 && (err == io.EOF) {
		return "", 0, io.EOF
	}
	if err != nil {
		return "", 0, fmt.Errorf("%w: .deb: truncated ar header", ErrMalformed)
	}
	if string(hdr[58:60]) != "`\n" {
		return "", 0, fmt.Errorf("%w: .deb: bad ar header", ErrMalformed)
	}
	name := strings.TrimSuffix(strings.TrimSpace(string(hdr[0:16])), "/")
	size, err := strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
	if err != nil || size < 0 {
		return "", 0, fmt.Errorf("%w: .deb: bad ar member size", ErrMalformed)
	}
	return name, size, nil
}

func readControlTar(name string, r io.Reader) (Paragraph, error) {
	switch name {
	case "control.tar", "control.tar.gz", "control.tar.xz", "control.tar.zst":
	default:
		return Paragraph{}, fmt.Errorf("%w: .deb: unsupported member %q", ErrMalformed, name)
	}
	dr, err := Decompress(name, r, maxControlSize)
	if err != nil {
		return Paragraph{}, err
	}
	defer dr.Close()
	tr := tar.NewReader(dr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return Paragraph{}, fmt.Errorf("%w: .deb: no control file in %s", ErrMalformed, name)
		}
		if err != nil {
			if errors.Is(err, store.ErrTooLarge) {
				return Paragraph{}, err
			}
			return Paragraph{}, fmt.Errorf("%w: .deb: %s: %v", ErrMalformed, name, err)
		}
		if path.Clean(strings.TrimPrefix(h.Name, "./")) != "control" || h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(tr, 1<<20+1))
		if err != nil {
			return Paragraph{}, fmt.Errorf("%w: .deb: control: %v", ErrMalformed, err)
		}
		if len(b) > 1<<20 {
			return Paragraph{}, fmt.Errorf("apt: .deb: control file: %w", store.ErrTooLarge)
		}
		return ReadParagraph(bytes.NewReader(b))
	}
}

// Stanza returns the Packages stanza for the .deb stored at filename (relative to the
// archive root): the control fields followed by Filename, Size, MD5sum, SHA256 and SHA512.
func (d *Deb) Stanza(filename string) Paragraph {
	p := Paragraph{Fields: append([]Field(nil), d.Control.Fields...)}
	for _, n := range []string{"Filename", "Size", "MD5sum", "SHA1", "SHA256", "SHA512"} {
		p.Delete(n)
	}
	p.Set("Filename", filename)
	p.Set("Size", strconv.FormatInt(d.Size, 10))
	p.Set("MD5sum", d.MD5)
	p.Set("SHA256", d.SHA256)
	p.Set("SHA512", d.SHA512)
	p.Raw = string(p.Bytes())
	return p
}

// PoolDir returns the pool directory of a source package in a component, as Debian lays
// it out: pool/<component>/<first letter, or "lib" and the next letter>/<source>.
func PoolDir(component, source string) string {
	if source == "" {
		return "pool/" + component
	}
	prefix := source[:1]
	if strings.HasPrefix(source, "lib") && len(source) > 3 {
		prefix = source[:4]
	}
	return "pool/" + component + "/" + prefix + "/" + source
}

// DebFilename returns the conventional file name of a binary package:
// name_version_arch.deb with the epoch dropped.
func DebFilename(p Package) string {
	v := p.Version
	if i := strings.IndexByte(v, ':'); i >= 0 {
		v = v[i+1:]
	}
	return p.Name + "_" + v + "_" + p.Architecture + ".deb"
}
