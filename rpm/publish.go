package rpm

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/airgapkit/airgap/store"
)

// addPristine adds each repository's repodata as the upstream serves it: repomd.xml,
// repomd.xml.asc and every file repomd.xml lists.
func (ss *session) addPristine(snap *store.Snapshot, repos []*repoState) error {
	for _, rs := range repos {
		base := joinPath(rs.path, "repodata/")
		if err := snap.Add(base+"repomd.xml", store.File{Digest: rs.repomd.Digest, Size: rs.repomd.Size, MediaType: mediaXML}); err != nil {
			return err
		}
		if rs.asc.Digest != "" {
			if err := snap.Add(base+"repomd.xml.asc", store.File{Digest: rs.asc.Digest, Size: rs.asc.Size, MediaType: mediaSignature}); err != nil {
				return err
			}
		}
		for _, d := range rs.md.Data {
			info := rs.data[d.Type]
			if err := snap.Add(joinPath(rs.path, d.Href), store.File{Digest: info.Digest, Size: info.Size, MediaType: mediaOf(d.Href)}); err != nil {
				return err
			}
		}
	}
	return nil
}

func mediaOf(href string) string {
	switch {
	case strings.HasSuffix(href, ".xml"):
		return mediaXML
	case strings.HasSuffix(href, ".gz"):
		return "application/gzip"
	case strings.HasSuffix(href, ".xz"):
		return "application/x-xz"
	case strings.HasSuffix(href, ".bz2"):
		return "application/x-bzip2"
	case strings.HasSuffix(href, ".zst"):
		return "application/zstd"
	}
	return "application/octet-stream"
}

// addKeys adds the upstream's public key (what signs the packages) and, for a filtered
// mirror, the operator's (what signs repomd.xml), armored and binary.
func (ss *session) addKeys(ctx context.Context, snap *store.Snapshot) error {
	type key struct {
		path string
		get  func() ([]byte, error)
	}
	var keys []key
	if ss.keys != nil {
		keys = append(keys, key{UpstreamKeyPath, func() ([]byte, error) { return ss.keys.Export(true) }},
			key{UpstreamKeyringPath, func() ([]byte, error) { return ss.keys.Export(false) }})
	}
	if s := ss.m.Signer; s != nil && !ss.m.Pristine {
		keys = append(keys, key{MirrorKeyPath, func() ([]byte, error) { return s.PublicKey(true) }},
			key{MirrorKeyringPath, func() ([]byte, error) { return s.PublicKey(false) }})
	}
	for _, k := range keys {
		b, err := k.get()
		if err != nil {
			return fmt.Errorf("rpm: %s: %w", k.path, err)
		}
		if err := ss.putFile(ctx, snap, k.path, b, mediaKeys); err != nil {
			return err
		}
	}
	return nil
}

func (ss *session) putFile(ctx context.Context, snap *store.Snapshot, p string, b []byte, media string) error {
	info, err := store.PutBytes(ctx, ss.m.Store, store.Expect{}, b)
	if err != nil {
		return fmt.Errorf("rpm: %s: %w", p, err)
	}
	return snap.Add(p, store.File{Digest: info.Digest, Size: info.Size, MediaType: media})
}

// addFiltered writes each repository's metadata for the held packages: primary,
// filelists and other (their upstream elements copied as they are, an xml:base
// dropped), comps, updateinfo and modules.yaml filtered to match, a new repomd.xml
// listing them, and repomd.xml.asc signed with the operator's key. Other data types
// (sqlite databases, zchunk, product ids) would describe packages the mirror does not
// hold: they are left out.
func (ss *session) addFiltered(ctx context.Context, snap *store.Snapshot, repos []*repoState, sel []*candidate) error {
	heldIDs := map[*repoState]map[string]*candidate{}
	names, nevras := map[string]bool{}, map[string]bool{}
	repoNEVRAs := map[*repoState]map[string]bool{}
	for _, c := range sel {
		if heldIDs[c.repo] == nil {
			heldIDs[c.repo], repoNEVRAs[c.repo] = map[string]*candidate{}, map[string]bool{}
		}
		heldIDs[c.repo][c.pkg.Checksum.Value] = c
		names[c.pkg.Name], nevras[c.pkg.NEVRA()] = true, true
		repoNEVRAs[c.repo][c.pkg.NEVRA()] = true
	}
	for _, rs := range repos {
		ids := heldIDs[rs]
		var out []Data
		stamp := int64(0)
		for _, d := range rs.md.Data {
			stamp = max(stamp, d.Timestamp)
		}
		gen := func(typ, name string, gz bool, write func(io.Writer) error) error {
			ds, err := ss.putData(ctx, snap, rs, typ, name, gz, stamp, write)
			out = append(out, ds...)
			return err
		}
		for _, t := range []struct{ typ, root string }{{"primary", "metadata"}, {"filelists", "filelists"}, {"other", "otherdata"}} {
			d, ok := rs.md.Find(t.typ)
			if !ok {
				if t.typ == "primary" {
					return fmt.Errorf("rpm: %s: %w: no primary", rs.path, ErrMissing)
				}
				continue
			}
			err := gen(t.typ, t.typ+".xml", true, func(w io.Writer) error {
				rc, err := ss.openData(ctx, d, rs.data[t.typ])
				if err != nil {
					return err
				}
				defer rc.Close()
				return copyPackages(ctx, rc, w, t.root, len(ids), func(pkgid string) bool { return ids[pkgid] != nil })
			})
			if err != nil {
				return fmt.Errorf("rpm: %s %s: %w", rs.path, d.Href, err)
			}
		}
		if d, ok := groupData(rs.md); ok {
			err := gen("group", "comps.xml", false, func(w io.Writer) error {
				rc, err := ss.openData(ctx, d, rs.data[d.Type])
				if err != nil {
					return err
				}
				defer rc.Close()
				return FilterComps(ctx, rc, w, func(n string) bool { return names[n] })
			})
			if err != nil {
				return fmt.Errorf("rpm: %s %s: %w", rs.path, d.Href, err)
			}
		}
		if d, ok := rs.md.Find("updateinfo"); ok {
			err := gen("updateinfo", "updateinfo.xml", true, func(w io.Writer) error {
				rc, err := ss.openData(ctx, d, rs.data["updateinfo"])
				if err != nil {
					return err
				}
				defer rc.Close()
				return FilterUpdateinfo(ctx, rc, w, func(n string) bool { return repoNEVRAs[rs][n] })
			})
			if err != nil {
				return fmt.Errorf("rpm: %s %s: %w", rs.path, d.Href, err)
			}
		}
		if docs := filterModules(rs.modules, nevras); len(docs) > 0 {
			if err := gen("modules", "modules.yaml", true, func(w io.Writer) error { return writeModuleDocs(w, docs) }); err != nil {
				return fmt.Errorf("rpm: %s modules: %w", rs.path, err)
			}
		}
		for _, d := range rs.md.Data {
			if !slices.ContainsFunc(out, func(o Data) bool { return o.Type == d.Type }) && !strings.HasPrefix(d.Type, "group") {
				ss.log.Debug("rpm: filtered mirror: data type left out", "repo", rs.path, "type", d.Type)
			}
		}
		md := &Repomd{Revision: rs.md.Revision, Tags: rs.md.Tags, Data: out}
		b := md.Marshal()
		base := joinPath(rs.path, "repodata/")
		if err := ss.putFile(ctx, snap, base+"repomd.xml", b, mediaXML); err != nil {
			return err
		}
		if ss.m.Signer != nil {
			sig, err := ss.m.Signer.DetachSign(bytes.NewReader(b), true)
			if err != nil {
				return fmt.Errorf("rpm: sign %srepomd.xml: %w", base, err)
			}
			if err := ss.putFile(ctx, snap, base+"repomd.xml.asc", sig, mediaSignature); err != nil {
				return err
			}
		}
	}
	return nil
}

// putData stores one generated metadata file named by its checksum
// (repodata/<sha256>-<name>[.gz]) and returns its repomd entries: with gz, the gzip file
// with the open-checksum and open-size of its content; a plain comps also gets a
// group_gz beside it.
func (ss *session) putData(ctx context.Context, snap *store.Snapshot, rs *repoState, typ, name string, gz bool, stamp int64, write func(io.Writer) error) ([]Data, error) {
	plain, gzd, openSum, openSize, err := ss.putStreams(ctx, write, gz || typ == "group")
	if err != nil {
		return nil, err
	}
	var out []Data
	add := func(typ, fname string, info store.BlobInfo, open bool) error {
		d := Data{Type: typ, Checksum: Checksum{"sha256", info.Digest.Hex()}, Size: info.Size, Timestamp: stamp,
			Href: "repodata/" + info.Digest.Hex() + "-" + fname}
		if open {
			d.OpenChecksum, d.OpenSize = Checksum{"sha256", openSum}, openSize
		}
		out = append(out, d)
		return snap.Add(joinPath(rs.path, d.Href), store.File{Digest: info.Digest, Size: info.Size, MediaType: mediaOf(d.Href)})
	}
	if typ == "group" {
		if err := add("group", name, plain, false); err != nil {
			return nil, err
		}
		return out, add("group_gz", name+".gz", gzd, true)
	}
	return out, add(typ, name+".gz", gzd, true)
}

// putStreams streams write's output into the store gzipped (and plain with both),
// hashing the plain content with SHA-256 on the way; nothing is held whole in memory.
func (ss *session) putStreams(ctx context.Context, write func(io.Writer) error, both bool) (plain, gz store.BlobInfo, openSum string, openSize int64, err error) {
	g, gctx := errgroup.WithContext(ctx)
	gzr, gzw := io.Pipe()
	var plr *io.PipeReader
	var plw *io.PipeWriter
	g.Go(func() error {
		info, err := ss.m.Store.Put(gctx, store.Expect{}, gzr)
		gzr.CloseWithError(err)
		gz = info
		return err
	})
	if both {
		plr, plw = io.Pipe()
		g.Go(func() error {
			info, err := ss.m.Store.Put(gctx, store.Expect{}, plr)
			plr.CloseWithError(err)
			plain = info
			return err
		})
	}
	h := sha256.New()
	g.Go(func() error {
		zw, _ := gzip.NewWriterLevel(gzw, gzip.BestCompression)
		ws := []io.Writer{zw, h}
		if plw != nil {
			ws = append(ws, plw)
		}
		cw := &countWriter{w: io.MultiWriter(ws...)}
		err := write(cw)
		if err == nil {
			err = zw.Close()
		}
		openSize = cw.n
		gzw.CloseWithError(err)
		if plw != nil {
			plw.CloseWithError(err)
		}
		return err
	})
	if err := g.Wait(); err != nil {
		return store.BlobInfo{}, store.BlobInfo{}, "", 0, err
	}
	return plain, gz, hex.EncodeToString(h.Sum(nil)), openSize, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// dropXMLBase returns a primary <package> element's bytes with the xml:base attribute
// of its <location> removed. That start tag is written anew from its parsed attributes
// (a pattern over the bytes cannot tell an attribute from a value, nor always leave the
// space an attribute needs before it); the rest stays byte for byte.
func dropXMLBase(pkg []byte) ([]byte, error) {
	d := xml.NewDecoder(bytes.NewReader(pkg))
	for depth := 0; ; {
		start := d.InputOffset()
		tok, err := d.RawToken()
		if err == io.EOF {
			return pkg, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: primary: %v", ErrMalformed, err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			depth--
		case xml.StartElement:
			depth++
			if depth != 2 || t.Name.Space != "" || t.Name.Local != "location" {
				continue
			}
			end := d.InputOffset()
			var b bytes.Buffer
			b.Write(pkg[:start])
			b.WriteString("<location")
			for _, a := range t.Attr {
				if a.Name.Space == "xml" && a.Name.Local == "base" {
					continue
				}
				b.WriteByte(' ')
				if a.Name.Space != "" {
					b.WriteString(a.Name.Space + ":")
				}
				b.WriteString(a.Name.Local + `="`)
				_ = xml.EscapeText(&b, []byte(a.Value))
				b.WriteByte('"')
			}
			if bytes.HasSuffix(pkg[start:end], []byte("/>")) {
				b.WriteString("/>")
			} else {
				b.WriteByte('>')
			}
			b.Write(pkg[end:])
			return b.Bytes(), nil
		}
	}
}

// copyPackages writes a primary, filelists or other document (root names its root
// element) holding the <package> elements keep selects by pkgid, copied byte for byte
// from r, except that a primary location loses its xml:base (the mirror serves the file
// at its href). n is the count written in the root's packages attribute.
func copyPackages(ctx context.Context, r io.Reader, w io.Writer, root string, n int, keep func(pkgid string) bool) error {
	s, err := newElementStream(root, r, root)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"+rootTag(s.Root, n)+"\n"); err != nil {
		return err
	}
	written := 0
	for {
		se, ok, err := s.Next(ctx)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if se.Name.Local != "package" {
			if err := s.Skip(); err != nil {
				return err
			}
			continue
		}
		var id string
		var raw []byte
		if root == "metadata" {
			var x struct {
				Type     string `xml:"type,attr"`
				Checksum string `xml:"checksum"`
			}
			if err := s.Decode(&x, se); err != nil {
				return err
			}
			if x.Type != "" && x.Type != "rpm" {
				continue // as ReadPrimary
			}
			id = strings.ToLower(strings.TrimSpace(x.Checksum))
			if raw, err = dropXMLBase(s.Raw()); err != nil {
				return err
			}
		} else {
			for _, a := range se.Attr {
				if a.Name.Local == "pkgid" {
					id = strings.ToLower(a.Value)
				}
			}
			if err := s.Skip(); err != nil {
				return err
			}
			raw = s.Raw()
		}
		if !keep(id) {
			continue
		}
		written++
		if _, err := w.Write(append(append([]byte("  "), raw...), '\n')); err != nil {
			return err
		}
	}
	if written != n {
		return fmt.Errorf("%w: %s: %d packages held, %d found", ErrMalformed, root, n, written)
	}
	_, err = io.WriteString(w, "</"+rootTag(s.Root, -1)+">\n")
	return err
}

// rootTag writes a root start tag with its namespace declarations and other
// attributes, packages set to n (n < 0: the bare name, for the end tag).
func rootTag(se xml.StartElement, n int) string {
	name := se.Name.Local
	if n < 0 {
		return name
	}
	var b strings.Builder
	b.WriteString("<" + name)
	for _, a := range se.Attr {
		switch {
		case a.Name.Space == "" && a.Name.Local == "packages":
			continue
		case a.Name.Space == "xmlns":
			b.WriteString(" xmlns:" + a.Name.Local)
		case a.Name.Space == "" || a.Name.Local == "xmlns":
			b.WriteString(" " + a.Name.Local)
		default:
			continue
		}
		b.WriteString(`="`)
		xml.EscapeText(&b, []byte(a.Value))
		b.WriteString(`"`)
	}
	b.WriteString(` packages="` + strconv.Itoa(n) + `">`)
	return b.String()
}

// Marshal writes repomd.xml as createrepo_c does.
func (r *Repomd) Marshal() []byte {
	var b bytes.Buffer
	esc := func(s string) string {
		var e strings.Builder
		xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<repomd xmlns=\"http://linux.duke.edu/metadata/repo\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\">\n")
	fmt.Fprintf(&b, "  <revision>%s</revision>\n", esc(r.Revision))
	if len(r.Tags) > 0 {
		b.WriteString("  <tags>\n")
		for _, t := range r.Tags {
			if t.Kind == "distro" {
				fmt.Fprintf(&b, "    <distro cpeid=\"%s\">%s</distro>\n", esc(t.CPEID), esc(t.Value))
			} else {
				fmt.Fprintf(&b, "    <%s>%s</%s>\n", t.Kind, esc(t.Value), t.Kind)
			}
		}
		b.WriteString("  </tags>\n")
	}
	for _, d := range r.Data {
		fmt.Fprintf(&b, "  <data type=\"%s\">\n    <checksum type=\"%s\">%s</checksum>\n", esc(d.Type), d.Checksum.Type, d.Checksum.Value)
		if d.OpenChecksum.Value != "" {
			fmt.Fprintf(&b, "    <open-checksum type=\"%s\">%s</open-checksum>\n", d.OpenChecksum.Type, d.OpenChecksum.Value)
		}
		fmt.Fprintf(&b, "    <location href=\"%s\"/>\n    <timestamp>%d</timestamp>\n    <size>%d</size>\n", esc(d.Href), d.Timestamp, d.Size)
		if d.OpenChecksum.Value != "" {
			fmt.Fprintf(&b, "    <open-size>%d</open-size>\n", d.OpenSize)
		}
		b.WriteString("  </data>\n")
	}
	b.WriteString("</repomd>\n")
	return b.Bytes()
}
